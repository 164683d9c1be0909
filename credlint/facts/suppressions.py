"""Suppression comments: which findings a file's author has chosen to silence, and where.

    x = call(password="...")  # credlint: ignore[CL201]      this line
    x = call(password="...")  # noqa: CL201                   this line (flake8 style)
    # credlint: ignore-next-line[CL201]                       the next line
    # credlint: ignore-file[CL302]                            the whole file

A comment without codes (`# credlint: ignore`) silences nothing: it is reported (CL001), as is
a suppression that matched no finding, so stale ones do not pile up.
"""
from __future__ import annotations

import io
import re
import tokenize
from typing import Dict, List, Tuple

from credlint.facts.types import Suppression

_CANDIDATE = re.compile(r"#.*\b(credlint\s*:\s*ignore|noqa)", re.IGNORECASE)
_CREDLINT = re.compile(r"credlint\s*:\s*ignore(?P<scope>-next-line|-file)?\b(?:\[(?P<codes>[^\]]*)\])?",
                       re.IGNORECASE)
_NOQA = re.compile(r"\bnoqa\s*:\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*)", re.IGNORECASE)


def _codes(text: str) -> List[str]:
    return [c.strip().upper() for c in re.split(r"[\s,]+", text) if c.strip()]


def parse_comment(comment: str) -> List[Tuple[str, List[str]]]:
    """(scope, codes) pairs a comment declares; codes [] for a bare credlint ignore."""
    found: List[Tuple[str, List[str]]] = []
    for match in _CREDLINT.finditer(comment):
        scope = {None: "line", "-next-line": "next-line", "-file": "file"}[
            match.group("scope").lower() if match.group("scope") else None]
        codes = match.group("codes")
        found.append((scope, _codes(codes) if codes is not None else []))
    for match in _NOQA.finditer(comment):
        codes = [c for c in _codes(match.group("codes")) if c.startswith("CL")]
        if codes:
            found.append(("line", codes))
    return found


def _add(out: List[Suppression], line: int, column: int, comment: str) -> None:
    for scope, codes in parse_comment(comment):
        out.append(Suppression(line=line, column=column, scope=scope, codes=codes))


def scan_suppressions(source: str) -> List[Suppression]:
    """Suppression comments of a Python source (real comments only, not text in strings)."""
    if not _CANDIDATE.search(source):
        return []
    out: List[Suppression] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                _add(out, tok.start[0], tok.start[1] + 1, tok.string)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return out
    return out


def scan_text_suppressions(text: str) -> Dict[int, List[str]]:
    """Same-line codes by line, for files that are not Python (any `#` comment counts)."""
    out: Dict[int, List[str]] = {}
    for item in scan_text(text):
        if item.scope == "line" and item.codes:
            out.setdefault(item.line, []).extend(item.codes)
    return out


def scan_text(text: str) -> List[Suppression]:
    """Suppression comments of a non-Python file (TOML, YAML, shell, .env)."""
    out: List[Suppression] = []
    if not _CANDIDATE.search(text):
        return out
    for number, line in enumerate(text.split("\n"), 1):
        if "#" in line and _CANDIDATE.search(line):
            index = line.index("#")
            _add(out, number, index + 1, line[index:])
    return out


def applies(item: Suppression, line: int) -> bool:
    """Whether a suppression covers a finding on `line` (whatever its code)."""
    if item.scope == "file":
        return True
    if item.scope == "next-line":
        return line == item.line + 1
    return line == item.line
