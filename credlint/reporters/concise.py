"""`path:line:col: CODE name message` — one line per finding, for editors and grep."""
from typing import TextIO

from ..findings import Report
from .text import safe


def render(report: Report, out: TextIO, **_options) -> None:
    for f in report.findings:
        out.write(f"{safe(f.path)}:{f.line}:{f.column}: {safe(f.code)} {safe(f.name)} {safe(f.message)}\n")
