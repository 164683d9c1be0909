"""`path:line:col: CODE name message` — one line per finding, for editors and grep; with
`--statistics`, one `COUNT  CODE  name` line per rule instead."""
from typing import TextIO

from credlint.findings.report import Report
from credlint.reporters.text import safe


def render(report: Report, out: TextIO, statistics: bool = False, **_options) -> None:
    if statistics:
        write_statistics(report, out)
        return
    for f in report.findings:
        out.write(f"{safe(f.path)}:{f.line}:{f.column}: {safe(f.code)} {safe(f.name)} {safe(f.message)}\n")


def write_statistics(report: Report, out: TextIO) -> None:
    """`--statistics` as ruff prints it: one `COUNT  CODE  name` line per rule, no findings."""
    for code, name, count in report.statistics():
        out.write(f"{count:>5}  {safe(code)}  {safe(name)}\n")
