"""Which findings their author chose to silence (suppression comments, `per-file-ignores`), and
which suppression comments silenced nothing (for CL001)."""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, List, Tuple

from credlint.config import Config
from credlint.findings.sources import Sources

if TYPE_CHECKING:
    from credlint.model.project import Project


@dataclass
class UnusedSuppression:
    """A suppression comment that silenced nothing (or could not: a bare ignore, a code no rule
    has)."""

    path: str
    suppression: object  # facts.Suppression
    codes: List[str]  # the codes that matched no finding; [] for a bare ignore
    unknown: List[str] = field(default_factory=list)  # codes of no rule credlint knows (a typo: CL999)


def suppressions_of(rel: str, project: Project, sources: Sources) -> list:
    """The suppression comments of a file: kept with a module's facts, scanned on demand in the
    other files credlint read."""
    module = project.modules.get(rel)
    if module is not None:
        return module.suppressions
    if rel not in project.deploy_by_path and rel not in project.pattern_hits:
        return []  # a file credlint did not read: nothing in it can be silenced
    data = sources.get(rel)
    if data is None:
        return []
    from credlint.facts.suppressions import scan_text

    return scan_text(data.decode("utf-8", "replace"))


def rule_names(code: str, name: str) -> set:
    """What a suppression comment may name a rule by: its code or its name."""
    return {code, name.upper()}


def apply_suppressions(hits, project: Project, config: Config, wanted: set, sources: Sources, rules: list,
                       known_codes: set):
    """Split hits into kept and silenced ones (with why); record which suppression comments
    were used (for CL001). `rules` are the rules that ran; `known_codes` the codes and names of
    every rule, selected or not."""
    from credlint.facts.suppressions import applies

    kept = []
    silenced = []
    used: Dict[Tuple[str, int], set] = {}
    cache: Dict[str, list] = {}
    for rule_, hit in hits:
        if hit.path not in wanted:
            continue
        if per_file_ignored(hit.path, rule_.code, rule_.name, config):
            silenced.append((rule_, hit, ("external", "per-file-ignores in the configuration")))
            continue
        if hit.path not in cache:
            cache[hit.path] = suppressions_of(hit.path, project, sources)
        matched = None
        for index, item in enumerate(cache[hit.path]):
            if item.codes and applies(item, hit.pos.line) and rule_names(rule_.code, rule_.name) & set(item.codes):
                used.setdefault((hit.path, index), set()).update(rule_names(rule_.code, rule_.name) & set(item.codes))
                matched = matched or item
        if matched is not None:
            where = {"line": "on its line", "next-line": f"on line {matched.line}", "file": "for the whole file"}
            silenced.append((rule_, hit, ("inSource", f"a suppression comment {where.get(matched.scope, '')}".strip())))
            continue
        kept.append((rule_, hit))
    selected = set()
    for rule_ in rules:
        selected |= rule_names(rule_.code, rule_.name)
    unused: List[UnusedSuppression] = []
    for rel in sorted(wanted):
        items = cache[rel] if rel in cache else suppressions_of(rel, project, sources)
        for index, item in enumerate(items):
            if not item.codes:
                unused.append(UnusedSuppression(rel, item, []))
                continue
            stale = [c for c in item.codes if c in selected and c not in used.get((rel, index), set())]
            unknown = [c for c in item.codes if c not in known_codes]
            if stale or unknown:
                unused.append(UnusedSuppression(rel, item, stale, unknown))
    project.unused_suppressions = unused
    return kept, silenced


def per_file_ignored(rel: str, code: str, name: str, config: Config) -> bool:
    """The configuration's `per-file-ignores` silences this rule in this file."""
    for pattern, codes in config.per_file_ignores.items():
        if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(rel, pattern.rstrip("/") + "/*"):
            if any(code.startswith(c.strip().upper()) or c.strip() == name or c.strip() == "ALL" for c in codes):
                return True
    return False
