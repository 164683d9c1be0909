"""SARIF 2.1.0, for GitHub code scanning and other SARIF consumers.

Code scanning reads a relative `artifactLocation.uri` from the root of the repository, so paths
are made relative to the git working tree that holds the project (`%SRCROOT%`), not to the
credlint project, which can be a sub-folder of it.
"""
import json
from pathlib import Path
from typing import Optional, TextIO, Union
from urllib.parse import quote

from credlint import __version__
from credlint.findings.report import Finding, Report
from credlint.links import rule_url

_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
# GitHub ranks security alerts by this (0-10): hard-coded and leaked secrets highest.
_SECURITY_SEVERITY = {"CL2": "9.0", "CL3": "8.0", "CL1": "6.5", "CL0": "2.0"}


def _rule(rule, docs_url: Optional[str]) -> dict:
    from credlint.reporters.rule_page import explain_text

    sections = rule.sections()
    text = explain_text(rule)
    described = {
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
    url = rule_url(rule.code, rule.name, docs_url)
    if url:
        described["helpUri"] = url
    return described


def repository_root(folder: Path) -> Path:
    """The top of the git working tree holding `folder`, as `git rev-parse --show-toplevel` gives
    it, found without running git: the nearest folder with a `.git` (a folder, or the file of a
    worktree or submodule). `folder` itself when it is in no repository."""
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return folder


def _uri(path: str) -> str:
    """A relative path as a URI reference: spaces, `#`, `%`, `:` and non-ASCII escaped."""
    return quote(path.encode("utf-8", "surrogateescape"), safe="/")


def _location(finding: Finding, prefix: str, base: Optional[Path]) -> dict:
    if finding.project_path:
        return {"uri": _uri(prefix + finding.project_path), "uriBaseId": "%SRCROOT%"}
    absolute = Path.cwd() / finding.path  # not located in the project: say where it is
    if base is not None:
        try:
            return {"uri": _uri(absolute.resolve().relative_to(base).as_posix()), "uriBaseId": "%SRCROOT%"}
        except ValueError:
            pass
    return {"uri": absolute.resolve().as_uri()}


def document(report: Report, rules=(), root: Union[str, Path] = "", docs_url: Optional[str] = None) -> dict:
    """`root` is the folder findings' `project_path` is relative to (`Run.root`); uris are made
    relative to its repository's root."""
    project_root = Path(root).resolve() if root else None
    base = repository_root(project_root) if project_root is not None else None
    prefix = ""
    if base is not None and base != project_root:
        prefix = project_root.relative_to(base).as_posix() + "/"
    rules = sorted(rules, key=lambda r: r.code)
    index = {r.code: i for i, r in enumerate(rules)}
    results = []
    for f in sorted(list(report.findings) + list(report.suppressed_findings), key=lambda f: f.sort_key()):
        result = {
            "ruleId": f.code,
            "level": _LEVEL.get(f.severity, "warning"),
            "message": {"text": f.message + (f" Fix: {f.fix}" if f.fix else "")},
            "locations": [{"physicalLocation": {
                "artifactLocation": _location(f, prefix, base),
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
                            "rules": [_rule(r, docs_url) for r in rules]}},
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    if base is not None:
        run["originalUriBaseIds"] = {"%SRCROOT%": {"uri": base.as_uri().rstrip("/") + "/"}}
    return {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": [run]}


def render(report: Report, out: TextIO, rules=(), root: Union[str, Path] = "", docs_url: Optional[str] = None,
           **_options) -> None:
    json.dump(document(report, rules, root, docs_url), out, indent=2)
    out.write("\n")
