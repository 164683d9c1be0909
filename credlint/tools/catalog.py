"""`credlint catalog`: what credlint knows each Prefect class needs, as a terminal shows it."""
from __future__ import annotations

from typing import Iterable


def did_you_mean(catalogue, symbol: str) -> str:
    """For a symbol not in the catalogue: the ones of the same short name, as a hint."""
    short = symbol.strip().rsplit(".", 1)[-1]
    close = sorted(e.symbol for e in catalogue if e.short_name == short)
    return f"; did you mean {', '.join(close)}?" if close else ""


def render_entry(entry) -> None:
    """One catalogue entry: its secrets, credential arguments, environment variables and notes."""
    from rich.console import Console

    console = Console(highlight=False)
    console.print(f"[bold]{entry.symbol}[/] ({entry.kind}, {entry.integration})")
    for alias in entry.aliases:
        console.print(f"  also importable as {alias}")
    for spec in entry.secrets:
        name = spec.name or f"<the name given in {spec.name_param}>"
        bits = [spec.mechanism, "required" if spec.required else "optional"]
        if spec.name_param:
            bits.append(f"name from {spec.name_param} ({spec.name_where})")
        if spec.satisfied_by:
            bits.append("not read when " + ", ".join(spec.satisfied_by) + " is given")
        console.print(f"  secret [bold]{name}[/]: {'; '.join(bits)}")
        if spec.shape_doc:
            console.print(f"    shape: {spec.shape_doc}")
        if spec.when:
            console.print(f"    read: {spec.when}")
    for param in entry.credential_params:
        ignored = f" (ignored at {param.ignored})" if param.ignored else ""
        console.print(f"  credential argument [bold]{param.param}[/] ({param.where}){ignored}: {param.expected}")
    for env in entry.env_vars:
        console.print(f"  environment variable {env.name or '<from ' + env.name_param + '>'} read at {env.at}")
    for removed in entry.removed_params:
        console.print(f"  no longer accepted: {removed.param} (until {removed.last_version}): {removed.replacement}")
    for note in entry.notes:
        console.print(f"  note: {note}")


def render_table(entries: Iterable) -> None:
    """The entries as one table: symbol, kind, secrets, credential arguments."""
    from rich.console import Console
    from rich.table import Table

    entries = list(entries)
    console = Console(highlight=False)
    table = Table(title=f"credlint catalogue: {len(entries)} Prefect 1.4.1 objects")
    table.add_column("symbol", overflow="fold", ratio=3)
    table.add_column("kind", ratio=1)
    table.add_column("secrets", overflow="fold", ratio=3)
    table.add_column("credential arguments", overflow="fold", ratio=2)
    for entry in entries:
        secrets = ", ".join(
            f"{s.name or '<' + s.name_param + '>'} ({s.mechanism})" for s in entry.secrets) or "-"
        params = ", ".join(p.param for p in entry.credential_params) or "-"
        table.add_row(entry.symbol, entry.kind, secrets, params)
    console.print(table)
