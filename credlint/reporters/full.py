"""The terminal report, pytest-like: per-file progress, findings grouped by file with their
source lines and a fix, and one closing summary line."""
from collections import Counter, defaultdict
from typing import Dict, List, TextIO

from rich.console import Console
from rich.markup import escape
from rich.rule import Rule as RichRule

from ..findings import Finding, Report
from .text import safe, safe_source, source_column

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def literal(text: str) -> str:
    """A string from users' files, for rich markup: controls escaped, markup shown as written."""
    return escape(safe(text))


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' if number != 1 else ''}"


def _console(out: TextIO, color: bool) -> Console:
    return Console(file=out, force_terminal=color, no_color=not color, highlight=False, width=None if color else 100,
                   soft_wrap=not color)


def render(report: Report, out: TextIO, color: bool = False, quiet: bool = False, statistics: bool = False,
           elapsed: float = 0.0, header: str = "", **_options) -> None:
    console = _console(out, color)
    by_file: Dict[str, List[Finding]] = defaultdict(list)
    for finding in report.findings:
        by_file[finding.path].append(finding)
    if not quiet:
        if header:
            console.print(RichRule(literal(header), style="bold"))
        for path in report.checked_paths_display or sorted(by_file):
            found = by_file.get(path, [])
            counts = Counter(f.severity for f in found)
            marks = "".join("E" if f.severity == "error" else "W" if f.severity == "warning" else "i" for f in found)
            status = "[green]ok[/]" if not found else f"[{_STYLE['error'] if counts['error'] else _STYLE['warning']}]{marks}[/]"
            console.print(f"{literal(path)} {status}")
    for path in sorted(by_file):
        console.print()
        console.print(RichRule(literal(path), style="dim"))
        for f in by_file[path]:
            style = _STYLE.get(f.severity, "")
            console.print(f"[bold]{literal(f.path)}:{f.line}:{f.column}[/]: [{style}]{literal(f.code)}[/] "
                          f"[{style}]{literal(f.name)}[/] [dim]({literal(f.severity)})[/]")
            console.print(f"  {literal(f.message)}")
            if f.snippet:
                width = len(str(f.line + len(f.snippet)))
                for offset, text in enumerate(f.snippet):
                    number = f.line + offset
                    line = text.rstrip()
                    console.print(f"  [dim]{number:>{width}} |[/] {escape(safe_source(line))}")
                    if offset == 0:
                        start, end = f.caret if f.caret else (max(f.column - 1, 0), len(line))
                        start, end = source_column(line, start), source_column(line, end)
                        console.print(f"  [dim]{'':>{width}} |[/] {' ' * start}[{style}]{'^' * max(end - start, 1)}[/]")
            if f.fix:
                console.print(f"  [green]fix[/]: {literal(f.fix)}")
    not_followed = report.not_followed
    if not_followed:
        # Flows credlint knows exist but whose tasks it cannot see: said, never skipped in silence.
        console.print()
        console.print(RichRule(f"{_count(len(not_followed), 'flow')} not followed: tasks unknown, "
                               f"storage and run config still checked", style="yellow"))
        for item in not_followed:
            console.print(f"[bold]{literal(item['path'])}:{item['line']}[/]: {literal(item['reason'])}")
    if statistics and (report.findings or report.flows.get("found")):
        console.print()
        console.print(RichRule("statistics", style="dim"))
        counts = Counter((f.code, f.name) for f in report.findings)
        for (code, name), count in sorted(counts.items()):
            console.print(f"{count:>5}  {literal(code)}  {literal(name)}")
        console.print(f"{report.flows.get('found', 0):>5}  flows found")
        console.print(f"{len(not_followed):>5}  flows not followed")
    console.print()
    sev = report.by_severity()
    parts = []
    if sev["error"]:
        parts.append(f"[bold red]{sev['error']} error{'s' if sev['error'] != 1 else ''}[/]")
    if sev["warning"]:
        parts.append(f"[yellow]{sev['warning']} warning{'s' if sev['warning'] != 1 else ''}[/]")
    if sev["info"]:
        parts.append(f"[cyan]{sev['info']} info[/]")
    if not parts:
        parts.append("[bold green]no findings[/]")
    tail = f" ({report.suppressed} suppressed)" if report.suppressed else ""
    files = f"{_count(report.files, 'file')}, {_count(report.flows.get('found', 0), 'flow')}"
    if not_followed:
        files += f" ({len(not_followed)} not followed)"
    console.print(RichRule(f"{', '.join(parts)} in {files}{tail} ({elapsed:.2f}s)",
                           style="red" if sev["error"] else "yellow" if sev["warning"] else "green"))
