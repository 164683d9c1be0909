"""Findings as reporters see them: located, named, fingerprinted, and free of secret values."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

if TYPE_CHECKING:
    from credlint.config import Config
    from credlint.engine.rule import Rule

SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}


@dataclass
class Finding:
    code: str
    name: str
    severity: str
    path: str  # relative to the working directory, with /
    line: int
    column: int
    end_line: int
    end_column: int
    message: str
    secret: Optional[str] = None
    flow: Optional[str] = None
    symbol: Optional[str] = None
    fingerprint: str = ""
    fix: str = ""
    fix_safety: Optional[str] = None  # "safe" | "unsafe" when credlint can apply the fix; None: it cannot
    snippet: List[str] = field(default_factory=list)  # masked source lines, for terminal output
    project_path: str = ""  # relative to the project root (SARIF uriBaseId, baselines)
    # Set on findings a user chose to silence: (SARIF kind "inSource" | "external", why).
    suppression: Optional[Tuple[str, str]] = None
    caret: Optional[Tuple[int, int]] = None  # the finding's span in snippet[0] (0-based), after masking

    def sort_key(self):
        return (self.path, self.line, self.column, self.code, self.message)

    def to_json(self, docs_url: Optional[str] = None) -> dict:
        """The fields of the JSON contract (DESIGN.md section 6) in its order, then its compatible
        additions: `fix` (null when there is none), `fix_safety` and `url`, the rule's page under
        `docs_url` (the `docs-url` setting; credlint's own rule docs by default)."""
        from credlint.links import rule_url

        data = {name: getattr(self, name) for name in _JSON_FIELDS}
        data["fix"] = self.fix or None
        data["fix_safety"] = self.fix_safety
        data["url"] = rule_url(self.code, self.name, docs_url)
        return data

    def to_data(self) -> dict:
        """Every field, for the run memo and the server (not the JSON contract: see `to_json`).
        The fields are plain values, lists and tuples of them: a shallow copy is enough, and
        `asdict`'s recursion cost as much as the rest of a warm server check's reply."""
        data = dict(self.__dict__)
        data["snippet"] = list(self.snippet)
        return data

    @classmethod
    def from_data(cls, data: dict) -> "Finding":
        finding = cls(**data)
        for name in ("suppression", "caret"):
            value = getattr(finding, name)
            if value is not None:
                setattr(finding, name, tuple(value))
        return finding


_JSON_FIELDS = ("code", "name", "severity", "path", "line", "column", "end_line", "end_column", "message",
                "secret", "flow", "symbol", "fingerprint")


FINGERPRINT_VERSION = 2  # 1 hashed the unmasked source line (see `anchor`)


def anchor(finding: Finding) -> str:
    """The finding's first line as reports show it (values masked), whitespace normalised.

    Only what is shown goes into a fingerprint. Version 1 hashed the raw source line: with the
    masked line from the report beside it, a weak password fell to a small dictionary in a
    millisecond. Every mask is the same `********`, so a value's content and length change nothing.
    """
    return re.sub(r"\s+", " ", finding.snippet[0].strip()) if finding.snippet else ""


def fingerprint(finding: Finding, project_path: str, occurrence: int) -> str:
    """Stable across runs, working directories, unrelated line shifts and changes of a secret's
    value: made of the code, the path from the project root, the names on the finding, the masked
    first line (`anchor`) and `occurrence`, which tells identical findings in a file apart."""
    parts = [f"v{FINGERPRINT_VERSION}", finding.code, project_path, finding.secret or "", finding.flow or "",
             finding.symbol or "", anchor(finding), str(occurrence)]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:20]


@dataclass
class Report:
    findings: List[Finding]
    files: int
    suppressed: int = 0
    checked_paths: List[str] = field(default_factory=list)
    checked_paths_display: List[str] = field(default_factory=list)
    # Silenced by a comment, per-file-ignores or the baseline: never shown as findings, kept
    # for SARIF, whose consumers show them as suppressed alerts.
    suppressed_findings: List[Finding] = field(default_factory=list)
    # The flows found in the checked files, and those whose tasks could not be followed (JSON
    # `summary.flows`): {"found": N, "not_followed": [{"path", "line", "reason"}]}.
    flows: Dict[str, object] = field(default_factory=lambda: {"found": 0, "not_followed": []})
    # Every file read, by kind ("Python", "deployment", "other": read for credential formats
    # only); `files` stays the Python count of the JSON contract. `kinds` gives the kind of each
    # file with a finding (its displayed path), for the closing summary.
    files_by_kind: Dict[str, int] = field(default_factory=dict)
    kinds: Dict[str, str] = field(default_factory=dict)

    @property
    def not_followed(self) -> List[dict]:
        return list(self.flows.get("not_followed") or [])

    def to_data(self) -> dict:
        return {"findings": [f.to_data() for f in self.findings], "files": self.files,
                "suppressed": self.suppressed, "checked_paths": self.checked_paths,
                "checked_paths_display": self.checked_paths_display,
                "suppressed_findings": [f.to_data() for f in self.suppressed_findings],
                "flows": self.flows, "files_by_kind": self.files_by_kind, "kinds": self.kinds}

    @classmethod
    def from_data(cls, data: dict) -> "Report":
        report = cls(findings=[Finding.from_data(f) for f in data["findings"]], files=data["files"],
                     suppressed=data["suppressed"], checked_paths=data["checked_paths"],
                     checked_paths_display=data["checked_paths_display"],
                     suppressed_findings=[Finding.from_data(f) for f in data["suppressed_findings"]])
        if isinstance(data.get("flows"), dict):
            report.flows = data["flows"]
        for name in ("files_by_kind", "kinds"):
            if isinstance(data.get(name), dict):
                setattr(report, name, dict(data[name]))
        return report

    def statistics(self) -> List[Tuple[str, str, int]]:
        """(code, name, number of findings) per rule with findings, by code (`--statistics`)."""
        counts: Dict[Tuple[str, str], int] = {}
        for finding in self.findings:
            counts[(finding.code, finding.name)] = counts.get((finding.code, finding.name), 0) + 1
        return [(code, name, count) for (code, name), count in sorted(counts.items())]

    def by_severity(self) -> Dict[str, int]:
        counts = {"error": 0, "warning": 0, "info": 0}
        for finding in self.findings:
            counts[finding.severity] = counts.get(finding.severity, 0) + 1
        return counts

    def failed(self, fail_on: str) -> bool:
        threshold = SEVERITY_RANK[fail_on]
        return any(SEVERITY_RANK[f.severity] >= threshold for f in self.findings)


@dataclass
class Run:
    """What a check found and how: its report, the configuration and rules it ran with, counts of
    the work done, and the paths it could not check."""

    report: Report
    config: Config
    root: Path  # the project root; for paths in several projects, the folder that holds them all
    rules: List[Rule]
    stats: Dict[str, int] = field(default_factory=dict)  # files analysed / from the cache, workers
    errors: List[str] = field(default_factory=list)  # paths that could not be checked (exit code 2)
    # For paths in several projects: each finding's displayed path -> its project's `fail-on`.
    fail_on_by_path: Dict[str, str] = field(default_factory=dict)

    def failed(self) -> bool:
        """A finding at or above the failing severity of its own project's configuration."""
        if not self.fail_on_by_path:
            return self.report.failed(self.config.fail_on)
        return any(SEVERITY_RANK[f.severity] >= SEVERITY_RANK[self.fail_on_by_path.get(f.path, self.config.fail_on)]
                   for f in self.report.findings)
