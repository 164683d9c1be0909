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
               "missing": "bold red", "unknown": "dim"}


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
    from credlint.model.flows import summary

    return {"version": 1, "tool": {"name": "credlint", "version": __version__}, "flows": inventory(loaded),
            "summary": summary(loaded.project.flows, loaded.wanted, loaded.display)}


def render_table(loaded: Loaded, out: TextIO, color: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    from credlint.reporters.full import literal

    # Written to a file or a pipe, tables take the width they need (up to 240 columns) rather
    # than a terminal's; past that, and on a narrow terminal, long cells fold, never cut.
    console = Console(file=out, force_terminal=color, no_color=not color, highlight=False,
                      width=None if color else 240)
    flows = inventory(loaded)
    if not flows:
        console.print("no Prefect 1.x flows found")
        return
    for flow in flows:
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
    unfollowed = sum(1 for flow in flows if flow["not_followed"])
    if unfollowed:
        console.print(f"{len(flows)} flow{'s' if len(flows) != 1 else ''}, {unfollowed} not followed: "
                      f"their tasks are unknown, their storage and run config are listed")
