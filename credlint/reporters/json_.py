"""The JSON output contract, version 1 (DESIGN.md section 6)."""
import json
from typing import Optional, TextIO

from credlint import __version__
from credlint.findings.report import Report


def document(report: Report, docs_url: Optional[str] = None, statistics: bool = False) -> dict:
    """With `statistics` (`--statistics`), a compatible addition: `statistics`, one
    {code, name, count} per rule with findings."""
    data = {
        "version": 1,
        "tool": {"name": "credlint", "version": __version__},
        "findings": [f.to_json(docs_url) for f in report.findings],
        "summary": {"files": report.files, "findings": len(report.findings), "by_severity": report.by_severity(),
                    "flows": {"found": report.flows.get("found", 0), "not_followed": report.not_followed}},
    }
    if statistics:
        data["statistics"] = [{"code": code, "name": name, "count": count}
                              for code, name, count in report.statistics()]
    return data


def render(report: Report, out: TextIO, docs_url: Optional[str] = None, statistics: bool = False,
           **_options) -> None:
    json.dump(document(report, docs_url, statistics), out, indent=2, sort_keys=False)
    out.write("\n")
