"""`credlint inventory`: per flow, every secret it needs, who needs it, and where it comes from.

The view a team uses to grant each flow exactly the secrets it needs. Built from the project
model only; it shows names, states and places, never values. Besides Prefect secrets it lists
the credential-named variables the flow's tasks read from `os.environ` (mechanism
`environment`), and marks needs the consumer can do without (`optional`: a git storage's token).
"""
from __future__ import annotations

from typing import List, TextIO

from credlint import __version__
from credlint.pipeline import Loaded

STATE_STYLE = {"provided": "green", "argument": "green", "ambient": "cyan", "unverifiable": "yellow",
               "missing": "bold red", "unknown": "dim", "computed": "yellow"}


def inventory(loaded: Loaded) -> List[dict]:
    flows = []
    for flow in loaded.project.flows:
        if flow.path not in loaded.wanted:
            continue
        needs = []
        for need in list(flow.needs) + list(flow.environment):
            needs.append({
                "secret": need.name,
                "mechanism": need.mechanism,
                "consumer": need.consumer_label,
                "symbol": need.symbol,
                "path": loaded.display(need.path),
                "line": need.pos.line,
                "state": need.state,
                "providers": [
                    {"kind": p.kind, "detail": p.detail,
                     "path": loaded.display(p.path) if p.pos.line else p.path,
                     "line": p.pos.line or None}
                    for p in need.providers
                ],
                "argument": need.argument,
                "reason": need.ambient_reason or None,
                "optional": need.optional,
            })
        needs.sort(key=lambda n: (n["secret"] or "", n["path"], n["line"]))
        flows.append({"flow": flow.name, "path": loaded.display(flow.path), "line": flow.fact.pos.line,
                      "needs": needs, "not_followed": flow.not_followed or None})
    flows.sort(key=lambda f: (f["path"], f["line"]))
    return flows


def document(loaded: Loaded) -> dict:
    """The JSON document. When the files asked about hold Prefect 2.x/3.x code or prefect.yaml
    deployments, it adds `model` ("1" or "2") to every flow, the 2.x/3.x flows (tools/inventory2.py)
    and a top-level `deployments` list; for 1.x files it is as it always was."""
    from credlint.model.flows import summary

    flows = inventory(loaded)
    doc = {"version": 1, "tool": {"name": "credlint", "version": __version__}, "flows": flows,
           "summary": summary(loaded.project.flows, loaded.wanted, loaded.display)}
    from credlint.tools import inventory2

    if inventory2.present(loaded) and loaded.project.flows2 is not None:
        for flow in flows:
            flow["model"] = "1"
        doc["flows"] = sorted(flows + inventory2.flows(loaded), key=lambda f: (f["path"], f["line"]))
        doc["deployments"] = inventory2.deployments(loaded)
    return doc


def render_table(loaded: Loaded, out: TextIO, color: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    from credlint.reporters.full import literal

    # Written to a file or a pipe, tables take the width they need (up to 240 columns) rather
    # than a terminal's; past that, and on a narrow terminal, long cells fold, never cut.
    console = Console(file=out, force_terminal=color, no_color=not color, highlight=False, emoji=False,
                      width=None if color else 240)
    from credlint.tools.inventory2 import present

    if present(loaded) and loaded.project.flows2 is not None:  # Prefect 2.x/3.x beside any 1.x flows
        doc = document(loaded)
        flows, deployments = doc["flows"], doc["deployments"]
        if not flows and not deployments:
            console.print("no Prefect flows found (1.x, 2.x or 3.x)")
            return
    else:
        flows, deployments = inventory(loaded), []
        if not flows:
            console.print("no Prefect 1.x flows found")
            return
    for flow in flows:
        if flow.get("model") == "2":
            _render_needs(console, f"flow '{literal(flow['flow'])}' ({literal(flow['path'])}:{flow['line']}), "
                                   "Prefect 2.x/3.x", flow["needs"], "needs no blocks or Variables")
            for made in flow["deployed_by"]:
                named = f" '{made['name']}'" if made["name"] else ""
                console.print(literal(f"  deployed by .{made['method']}(){named} ({made['path']}:{made['line']})"))
            if flow["not_followed"]:
                console.print(f"  [yellow]not followed[/]: {literal(flow['not_followed'])}")
            continue
        table = Table(title=f"flow '{literal(flow['flow'])}' ({literal(flow['path'])}:{flow['line']})",
                      title_justify="left")
        # Paths are never cut short: a column too narrow folds them onto more lines.
        for column in ("secret", "read by", "how", "state", "from"):
            table.add_column(column, overflow="fold")
        if not flow["needs"]:
            table.add_row("-", "-", "-", "[green]needs no secrets[/]", "-")
        for need in flow["needs"]:
            where = "; ".join(f"{p['detail']} ({p['path']}:{p['line']})" if p["line"] else p["detail"]
                              for p in need["providers"])
            if need["argument"]:
                where = f"argument {need['argument']}"
            elif need["reason"]:
                where = need["reason"]
            style = STATE_STYLE.get(need["state"], "")
            state = literal(need["state"]) + (", optional" if need["optional"] and need["state"] != "provided" else "")
            table.add_row(literal(need["secret"] or "<computed at run time>"),
                          literal(f"{need['consumer']} ({need['path']}:{need['line']})"),
                          literal(need["mechanism"]), f"[{style}]{state}[/]", literal(where or "-"))
        console.print(table)
        if flow["not_followed"]:  # its tasks are unknown: the needs above are its storage's and run config's
            console.print(f"  [yellow]not followed[/]: {literal(flow['not_followed'])}")
    for deployment in deployments:
        runs = (f"flow '{literal(deployment['flow'])}' ({literal(deployment['flow_path'])}:{deployment['flow_line']})"
                if deployment["flow"] is not None else literal(deployment["problem"] or "no entrypoint"))
        _render_needs(console, f"deployment '{literal(deployment['deployment'])}' "
                               f"({literal(deployment['path'])}:{deployment['line']}), "
                               f"{'runs ' if deployment['flow'] is not None else 'no flow: '}{runs}",
                      deployment["needs"], "needs no blocks or Variables")
    flows = [flow for flow in flows if flow.get("model") != "2"]
    unfollowed = sum(1 for flow in flows if flow["not_followed"])
    if unfollowed:
        console.print(f"{len(flows)} flow{'s' if len(flows) != 1 else ''}, {unfollowed} not followed: "
                      f"their tasks are unknown, their storage and run config are listed")


def _render_needs(console, title: str, needs: List[dict], empty: str) -> None:
    """One table of 2.x/3.x needs (blocks, Variables, templates); `title` is rich markup, escaped."""
    from rich.table import Table

    from credlint.reporters.full import literal
    from credlint.tools.inventory2 import read_by

    table = Table(title=title, title_justify="left")
    for column in ("secret", "read by", "how", "state", "from"):
        table.add_column(column, overflow="fold")
    if not needs:
        table.add_row("-", "-", "-", f"[green]{empty}[/]", "-")
    for need in needs:
        where = "; ".join(f"{p['detail']} ({p['path']}:{p['line']})" if p["line"] else p["detail"]
                          for p in need["providers"])
        style = STATE_STYLE.get(need["state"], "")
        state = literal(need["state"]) + (", optional" if need["optional"] and need["state"] != "provided" else "")
        table.add_row(literal(need["secret"] or "<computed at run time>"), literal(read_by(need)),
                      literal(need["mechanism"]), f"[{style}]{state}[/]",
                      literal(where or need["reason"] or "-"))
    console.print(table)
