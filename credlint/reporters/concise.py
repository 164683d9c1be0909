"""`path:line:col: CODE name message` — one line per finding, for editors and grep."""
from typing import TextIO

from ..findings import Report


def render(report: Report, out: TextIO, **_options) -> None:
    for f in report.findings:
        out.write(f"{f.path}:{f.line}:{f.column}: {f.code} {f.name} {f.message}\n")
