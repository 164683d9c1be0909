"""Baselines: adopt credlint on a repository with existing findings and fail only on new ones.

The file is sorted JSON without timestamps or line numbers. It stores each finding's
fingerprint (a hash of what the report shows: no value, nothing computed from one), its code and
project-relative path for readers, and a count, so that two identical findings in a file need
two entries.

Version 1 files hold fingerprints of the unmasked source line, which credlint no longer
computes (they could be checked against guesses of a secret). They still work: their entries
match findings by code and path, up to their count, and the run says how to rewrite the file.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Tuple

from credlint.errors import UsageError
from credlint.findings.report import Finding

VERSION = 2
OLD_VERSIONS = (1,)  # read by code and path


def write_baseline(path: Path, findings: List[Finding]) -> int:
    counts: Counter = Counter((f.fingerprint, f.code, f.project_path or f.path) for f in findings)
    entries = [{"fingerprint": fp, "code": code, "path": rel, "count": n}
               for (fp, code, rel), n in sorted(counts.items(), key=lambda item: (item[0][2], item[0][1], item[0][0]))]
    document = {"version": VERSION, "tool": "credlint", "findings": entries}
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return len(findings)


@dataclass
class BaselineResult:
    kept: List[Finding]
    matched: int
    stale: List[Tuple[str, str, int]]  # (code, path, count) of entries that matched nothing
    known: List[Finding] = field(default_factory=list)  # the findings the baseline hides (SARIF keeps them)
    notes: List[str] = field(default_factory=list)  # for stderr: how this baseline was read


@dataclass
class Baseline:
    version: int
    # key -> [code, path, count left]; the key is the fingerprint (version 2) or (code, path) (version 1)
    entries: Dict[object, list]


def read_baseline(path: Path) -> Baseline:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UsageError(f"{path}: baseline file not found (create it with --write-baseline)") from exc
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: not a credlint baseline ({exc})") from exc
    version = document.get("version") if isinstance(document, dict) else None
    if version not in (VERSION,) + OLD_VERSIONS or not isinstance(document.get("findings"), list):
        raise UsageError(f"{path}: not a credlint baseline (version {VERSION} expected)")
    entries: Dict[object, list] = {}
    for entry in document["findings"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("fingerprint"), str):
            continue
        code, rel = str(entry.get("code", "?")), str(entry.get("path", "?"))
        try:
            count = int(entry.get("count", 1))
        except (TypeError, ValueError):
            count = 1
        key = entry["fingerprint"] if version == VERSION else (code, rel)
        entries.setdefault(key, [code, rel, 0])[2] += count
    return Baseline(version, entries)


def apply_baseline(path: Path, findings: List[Finding]) -> BaselineResult:
    """Findings not covered by the baseline, and the entries that no longer match anything."""
    baseline = read_baseline(path)
    entries = baseline.entries
    notes: List[str] = []
    if baseline.version != VERSION:
        notes.append(f"written by an older credlint (version {baseline.version}), whose fingerprints are no "
                     f"longer computed: findings are matched by code and file only; rewrite it with "
                     f"--write-baseline {path}")
    kept: List[Finding] = []
    known: List[Finding] = []
    for finding in findings:
        if baseline.version == VERSION:
            keys = [finding.fingerprint]
        else:  # a version 1 entry's path was relative to the folder it was written from
            keys = [(finding.code, finding.project_path), (finding.code, finding.path)]
        entry = next((entries[k] for k in keys if k in entries and entries[k][2] > 0), None)
        if entry is not None:
            entry[2] -= 1
            finding.suppression = ("external", f"recorded in the baseline {path.name}")
            known.append(finding)
        else:
            kept.append(finding)
    ordered = sorted(entries.items(), key=lambda item: (item[1][1], item[1][0], str(item[0])))
    stale = [(code, rel, n) for _, (code, rel, n) in ordered if n > 0]
    return BaselineResult(kept, len(known), stale, known, notes)
