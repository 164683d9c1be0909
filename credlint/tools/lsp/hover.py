"""Hover on a consumer: the secrets it needs, in which flows, their states and providers.

What `credlint inventory` shows, seen from the consumer (a task, storage or run-config
construction, a `Secret(...)` read) instead of from the flow, and built from the same project
model. Names, states and places only: the model holds no value, so the hover shows none.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional, Tuple

from credlint.facts.types import Pos
from credlint.reporters.text import safe


@dataclass
class NeedRow:
    """One need of one consumer in one flow, as plain text (made in the checking thread)."""

    path: str  # root-relative path of the consumer's file
    pos: Pos
    consumer: str
    symbol: Optional[str]
    secret: Optional[str]
    flow: str
    state: str
    how: str  # context | secret_get | storage_preload | environment
    source: str  # where it comes from, or why nothing has to provide it


def need_rows(project) -> List[NeedRow]:
    """Every need of every flow of the project, for the hover index."""
    rows: List[NeedRow] = []
    for flow in project.flows:
        for need in list(flow.needs) + list(getattr(flow, "environment", [])):
            if not need.pos.line:
                continue
            rows.append(NeedRow(path=need.path, pos=need.pos, consumer=need.consumer_label, symbol=need.symbol,
                                secret=need.name, flow=flow.name, state=need.state, how=need.mechanism,
                                source=_source(need)))
    return rows


def _source(need) -> str:
    if need.argument:
        return f"argument {need.argument}"
    if need.providers:
        return "; ".join(f"{p.detail} ({p.path}:{p.pos.line})" if p.pos.line else p.detail for p in need.providers)
    if need.ambient_reason:
        return need.ambient_reason
    return "nothing provides it" if need.state == "missing" else ""


def rows_at(rows: List[NeedRow], rel: str, line: int, column: int) -> List[NeedRow]:
    """The needs of the innermost consumer at (line, column), 1-based, of file `rel`."""
    here = [row for row in rows if row.path == rel and _contains(row.pos, line, column)]
    if not here:
        return []
    innermost = min(here, key=lambda row: _extent(row.pos))
    return [row for row in here if row.pos == innermost.pos]


def _contains(pos: Pos, line: int, column: int) -> bool:
    end = (pos.end_line or pos.line, pos.end_column or pos.column)
    return (pos.line, pos.column) <= (line, column) and ((line, column) < end or end == (pos.line, pos.column))


def _extent(pos: Pos) -> Tuple[int, int]:
    return ((pos.end_line or pos.line) - pos.line, (pos.end_column or pos.column) - pos.column)


# What can start emphasis, code, a link, an HTML tag or entity, or end a table cell.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|<>~&])")


def _md(text: Optional[str]) -> str:
    """Text from users' files, inert in Markdown (and on a terminal)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", safe(text or ""))


def render(rows: List[NeedRow]) -> str:
    """The hover's Markdown for the needs of one consumer."""
    first = rows[0]
    title = f"**{_md(first.consumer)}**"
    if first.symbol:
        title += f" ({_md(first.symbol)})"
    lines = [title, "", "| secret | flow | state | read as | from |", "| --- | --- | --- | --- | --- |"]
    for row in sorted(rows, key=lambda r: (r.secret or "", r.flow)):
        state = f"**{_md(row.state)}**" if row.state == "missing" else _md(row.state)
        lines.append(f"| {_md(row.secret) if row.secret else '*computed at run time*'} | {_md(row.flow)} | {state} "
                     f"| {_md(row.how)} | {_md(row.source) or '-'} |")
    return "\n".join(lines) + "\n"
