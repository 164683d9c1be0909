"""SARIF 2.1.0, for GitHub code scanning and other SARIF consumers."""
import json
from typing import TextIO

from .. import __version__
from ..findings import Report

_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
# GitHub ranks security alerts by this (0-10): hard-coded and leaked secrets highest.
_SECURITY_SEVERITY = {"CL2": "9.0", "CL3": "8.0", "CL1": "6.5", "CL0": "2.0"}


def _rule(rule) -> dict:
    from ..cli import explain_text

    sections = rule.sections()
    text = explain_text(rule)
    return {
        "id": rule.code,
        "name": "".join(part.capitalize() for part in rule.name.split("-")),
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": sections.get("What it does", rule.summary)},
        "help": {"text": text, "markdown": text},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {
            "tags": ["security", "credentials", rule.name],
            "security-severity": _SECURITY_SEVERITY.get(rule.code[:3], "5.0"),
        },
    }


def document(report: Report, rules=(), root: str = "") -> dict:
    rules = sorted(rules, key=lambda r: r.code)
    index = {r.code: i for i, r in enumerate(rules)}
    results = []
    for f in sorted(list(report.findings) + list(report.suppressed_findings), key=lambda f: f.sort_key()):
        result = {
            "ruleId": f.code,
            "level": _LEVEL.get(f.severity, "warning"),
            "message": {"text": f.message + (f" Fix: {f.fix}" if f.fix else "")},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": f.project_path or f.path, "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": f.line, "startColumn": f.column,
                           "endLine": max(f.end_line, f.line), "endColumn": max(f.end_column, 1)},
            }}],
            "partialFingerprints": {"credlintFingerprint/v2": f.fingerprint},
            "properties": {k: v for k, v in (("secret", f.secret), ("flow", f.flow), ("symbol", f.symbol)) if v},
        }
        if f.code in index:
            result["ruleIndex"] = index[f.code]
        if f.suppression is not None:
            # Kept, not dropped: code scanning shows it as dismissed, and an audit can see it.
            kind, why = f.suppression
            result["suppressions"] = [{"kind": kind, "status": "accepted", "justification": why}]
        results.append(result)
    run = {
        "tool": {"driver": {"name": "credlint", "version": __version__, "semanticVersion": __version__,
                            "informationUri": "https://github.com/credlint/credlint",
                            "rules": [_rule(r) for r in rules]}},
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    if root:
        run["originalUriBaseIds"] = {"%SRCROOT%": {"uri": root.rstrip("/") + "/"}}
    return {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": [run]}


def render(report: Report, out: TextIO, rules=(), root: str = "", **_options) -> None:
    json.dump(document(report, rules, root), out, indent=2)
    out.write("\n")
