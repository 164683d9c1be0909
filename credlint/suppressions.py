"""Inline suppressions: `# credlint: ignore[CL201]` and `# noqa: CL201` comments, by line."""
from __future__ import annotations

import io
import re
import tokenize
from typing import Dict, List

_CANDIDATE = re.compile(r"#.*\b(credlint\s*:\s*ignore|noqa)\b", re.IGNORECASE)
_CREDLINT = re.compile(r"credlint\s*:\s*ignore(?:\[(?P<codes>[^\]]*)\])?", re.IGNORECASE)
_NOQA = re.compile(r"\bnoqa\s*:\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*)", re.IGNORECASE)


def _codes(text: str) -> List[str]:
    return [c.strip().upper() for c in re.split(r"[\s,]+", text) if c.strip()]


def parse_comment(comment: str) -> List[str]:
    """Codes a comment suppresses; ["*"] for a bare `credlint: ignore`; [] when it says nothing."""
    found: List[str] = []
    for match in _CREDLINT.finditer(comment):
        codes = match.group("codes")
        found.extend(_codes(codes) if codes is not None else ["*"])
    for match in _NOQA.finditer(comment):
        found.extend(c for c in _codes(match.group("codes")) if c.startswith("CL"))
    return found


def scan_suppressions(source: str) -> Dict[int, List[str]]:
    """Suppression comments of a Python source, by 1-based line (comments only, not strings)."""
    if not _CANDIDATE.search(source):
        return {}
    out: Dict[int, List[str]] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                codes = parse_comment(tok.string)
                if codes:
                    out.setdefault(tok.start[0], []).extend(codes)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return out
    return out


def scan_text_suppressions(text: str) -> Dict[int, List[str]]:
    """The same, for files that are not Python (TOML, YAML, shell): any `#` comment counts."""
    out: Dict[int, List[str]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if "#" in line and _CANDIDATE.search(line):
            codes = parse_comment(line[line.index("#"):])
            if codes:
                out[number] = codes
    return out
