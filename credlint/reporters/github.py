"""GitHub Actions workflow commands (`::error file=...::...`), plus a step summary table."""
import os
from collections import Counter
from typing import TextIO

from credlint.findings.report import Report

_COMMAND = {"error": "error", "warning": "warning", "info": "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(report: Report, out: TextIO, statistics: bool = False, **_options) -> None:
    if statistics:  # the counts instead of annotations, as with `concise`; the step summary stays
        from credlint.reporters.concise import write_statistics

        write_statistics(report, out)
    for f in () if statistics else report.findings:
        props = (f"file={_property(f.path)},line={f.line},col={f.column},endLine={max(f.end_line, f.line)},"
                 f"endColumn={f.end_column},title={_property(f'{f.code} {f.name}')}")
        out.write(f"::{_COMMAND.get(f.severity, 'warning')} {props}::{_data(f.message)}\n")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        counts = Counter((f.code, f.name, f.severity) for f in report.findings)
        lines = ["## credlint", ""]
        if counts:
            lines += ["| rule | name | severity | findings |", "|---|---|---|---|"]
            lines += [f"| {code} | {name} | {sev} | {n} |" for (code, name, sev), n in sorted(counts.items())]
        else:
            lines.append(f"No findings in {report.files} files.")
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
