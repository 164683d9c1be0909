"""The JSON output contract, version 1 (DESIGN.md section 6)."""
import json
from typing import TextIO

from .. import __version__
from ..findings import Report


def document(report: Report) -> dict:
    return {
        "version": 1,
        "tool": {"name": "credlint", "version": __version__},
        "findings": [f.to_json() for f in report.findings],
        "summary": {"files": report.files, "findings": len(report.findings), "by_severity": report.by_severity()},
    }


def render(report: Report, out: TextIO, **_options) -> None:
    json.dump(document(report), out, indent=2, sort_keys=False)
    out.write("\n")
