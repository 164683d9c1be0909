"""One JSON object per finding and line (the fields of the JSON contract's findings)."""
import json
from typing import Optional, TextIO

from credlint.findings.report import Report


def render(report: Report, out: TextIO, docs_url: Optional[str] = None, **_options) -> None:
    for f in report.findings:
        out.write(json.dumps(f.to_json(docs_url), sort_keys=False) + "\n")
