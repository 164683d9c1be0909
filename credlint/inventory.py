"""`credlint inventory`: per flow, every secret it needs, who needs it, and where it comes from.

The view a team uses to grant each flow exactly the secrets it needs. Built from the project
model only; it shows names, states and places, never values.
"""
from __future__ import annotations

from typing import List, TextIO

from . import __version__
from .runner import Loaded

STATE_STYLE = {"provided": "green", "argument": "green", "ambient": "cyan", "unverifiable": "yellow",
               "missing": "bold red", "unknown": "dim"}


def inventory(loaded: Loaded) -> List[dict]:
    flows = []
    for flow in loaded.project.flows:
        if flow.path not in loaded.wanted:
            continue
        needs = []
        for need in flow.needs:
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
            })
        needs.sort(key=lambda n: (n["secret"] or "", n["path"], n["line"]))
        flows.append({"flow": flow.name, "path": loaded.display(flow.path), "line": flow.fact.pos.line,
                      "needs": needs})
    flows.sort(key=lambda f: (f["path"], f["line"]))
    return flows


def document(loaded: Loaded) -> dict:
    return {"version": 1, "tool": {"name": "credlint", "version": __version__}, "flows": inventory(loaded)}


def render_table(loaded: Loaded, out: TextIO, color: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    from .reporters.full import literal

    console = Console(file=out, force_terminal=color, no_color=not color, highlight=False,
                      width=None if color else 120)
    flows = inventory(loaded)
    if not flows:
        console.print("no Prefect 1.x flows found")
        return
    for flow in flows:
        table = Table(title=f"flow '{literal(flow['flow'])}' ({literal(flow['path'])}:{flow['line']})",
                      title_justify="left")
        table.add_column("secret", no_wrap=True)
        table.add_column("read by")
        table.add_column("how")
        table.add_column("state")
        table.add_column("from")
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
            table.add_row(literal(need["secret"] or "<computed at run time>"),
                          literal(f"{need['consumer']} ({need['path']}:{need['line']})"),
                          literal(need["mechanism"]), f"[{style}]{literal(need['state'])}[/]", literal(where or "-"))
        console.print(table)
