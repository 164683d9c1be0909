"""Baselines: adopt credlint on a repository with existing findings and fail only on new ones.

The file is sorted JSON without timestamps or line numbers. It stores each finding's
fingerprint (a keyed hash: no value, no source text), its code and path for readers, and a
count, so that two identical findings in a file need two entries.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Tuple

from .errors import UsageError
from .findings import Finding

VERSION = 1


def write_baseline(path: Path, findings: List[Finding]) -> int:
    counts: Counter = Counter((f.fingerprint, f.code, f.path) for f in findings)
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


def read_baseline(path: Path) -> Dict[str, int]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UsageError(f"{path}: baseline file not found (create it with --write-baseline)") from exc
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: not a credlint baseline ({exc})") from exc
    if not isinstance(document, dict) or document.get("version") != VERSION or not isinstance(
            document.get("findings"), list):
        raise UsageError(f"{path}: not a credlint baseline (version {VERSION} expected)")
    counts: Dict[str, int] = {}
    for entry in document["findings"]:
        if isinstance(entry, dict) and isinstance(entry.get("fingerprint"), str):
            counts[entry["fingerprint"]] = counts.get(entry["fingerprint"], 0) + int(entry.get("count", 1))
    return counts


def apply_baseline(path: Path, findings: List[Finding]) -> BaselineResult:
    """Findings not covered by the baseline, and the entries that no longer match anything."""
    remaining = read_baseline(path)
    document = json.loads(path.read_text(encoding="utf-8"))
    labels = {e["fingerprint"]: (e.get("code", "?"), e.get("path", "?")) for e in document["findings"]
              if isinstance(e, dict) and "fingerprint" in e}
    kept: List[Finding] = []
    known: List[Finding] = []
    for finding in findings:
        if remaining.get(finding.fingerprint, 0) > 0:
            remaining[finding.fingerprint] -= 1
            finding.suppression = ("external", f"recorded in the baseline {path.name}")
            known.append(finding)
        else:
            kept.append(finding)
    stale = [(labels[fp][0], labels[fp][1], n) for fp, n in sorted(remaining.items()) if n > 0]
    return BaselineResult(kept, len(known), stale, known)
