"""Choosing rules: by code, code prefix (`CL1`) or name, as `select`, `ignore` and suppression
comments name them."""
from __future__ import annotations

from typing import List, Sequence

from credlint.engine.rule import Rule


def select_rules(rules: List[Rule], select: Sequence[str], ignore: Sequence[str]) -> List[Rule]:
    """Rules chosen by code, code prefix (`CL1`) or name; `ignore` wins over `select`."""

    def matches(r: Rule, selector: str) -> bool:
        selector = selector.strip()
        return selector == "ALL" or r.code.startswith(selector.upper()) or r.name == selector

    chosen = [r for r in rules if not select or any(matches(r, s) for s in select)]
    return [r for r in chosen if not any(matches(r, s) for s in ignore)]


def unknown_selectors(rules: List[Rule], selectors: Sequence[str]) -> List[str]:
    """The selectors that name no rule: a typo in `--select`, `select`, `ignore` or `per-file-ignores`."""
    out = []
    for selector in selectors:
        s = selector.strip()
        if s == "ALL":
            continue
        if not any(r.code.startswith(s.upper()) or r.name == s for r in rules):
            out.append(selector)
    return out
