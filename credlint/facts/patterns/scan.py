"""CL204 secret-pattern: high-confidence credential formats, matched on the raw bytes of a file.

No parse: every rule is a bytes regular expression that starts with a literal (so `re` can skip
ahead quickly), and runs only if one of its probes (a literal looked up in the file) hits;
`could_match` runs the probes alone. Only the matched slice is decoded, and only to judge it: a
`Match` holds where the secret is and its format, never the secret, a part, a hash or a length of it.

Scanning is linear in the file: quantifiers are bounded or run over classes disjoint from what
follows, every attempt starts at a literal, and rules that need context (a key name before an
AWS secret, the run around an OpenAI marker) read it from that literal within a bounded window.
"""
from __future__ import annotations

import bisect
from typing import Iterable, List, Optional, Tuple

from credlint.facts.patterns.key_blocks import KEY_BLOCK_RULES
from credlint.facts.patterns.prefixed import PREFIXED_RULES
from credlint.facts.patterns.rule import FormatRule
from credlint.facts.patterns.text import PROBE_RX, Candidate, Probe, ScannedText
from credlint.facts.patterns.unprefixed import UNPREFIXED_RULES
from credlint.facts.patterns.url_passwords import URL_PASSWORD_RULES
from credlint.facts.types import Match

# Every format's rule, in the order they run.
_RULES: Tuple[FormatRule, ...] = PREFIXED_RULES + UNPREFIXED_RULES + URL_PASSWORD_RULES + KEY_BLOCK_RULES

_ALL_PROBES: Tuple[Probe, ...] = tuple(dict.fromkeys(p for rule in _RULES for p in rule.probes))
# The probes by kind, for `could_match`: most files hold no credential, so all of them run there,
# and a tight loop over each kind costs a fraction of one `ScannedText.probe` call per probe.
_IN_NEEDLES = tuple(needle for kind, needle in _ALL_PROBES if kind == "in")
_RX_PROBES = tuple(PROBE_RX[needle].search for kind, needle in _ALL_PROBES if kind == "rx")
_CI_NEEDLES = tuple(needle for kind, needle in _ALL_PROBES if kind == "ci")
_CIRX_PROBES = tuple(PROBE_RX[needle].search for kind, needle in _ALL_PROBES if kind == "cirx")


def _as_bytes(data) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode("utf-8", "surrogatepass")
    return bytes(data)


_BINARY_HEAD = 8192  # a NUL byte this close to the start: not text (as facts.deploy.classify decides)


def _binary(data: bytes) -> bool:
    """A binary file (a DER or PKCS#12 key, an image): its formats are out of CL204's reach."""
    return b"\0" in data[:_BINARY_HEAD]


def could_match(data: bytes) -> bool:
    """True whenever `scan(data)` could report something: literal look-ups only, no rule runs."""
    try:
        data = _as_bytes(data)
        if _binary(data):
            return False
        if any(map(data.__contains__, _IN_NEEDLES)) or any(search(data) for search in _RX_PROBES):
            return True
        lower = data.lower()
        return any(map(lower.__contains__, _CI_NEEDLES)) or any(search(lower) for search in _CIRX_PROBES)
    except Exception:  # never fail a run over a pre-check
        return True


def _resolve(cands: Iterable[Candidate]) -> List[Candidate]:
    """Keep the most specific finding where two overlap (a GitHub token inside a URL password).

    Levels are taken from the highest priority down; within a level, candidates in start order.
    A candidate survives if it overlaps nothing kept so far. O(k log k) for k candidates.
    """
    by_level: dict = {}
    for c in set(cands):
        by_level.setdefault(c.priority, []).append(c)
    kept: List[Candidate] = []  # sorted by start, pairwise disjoint
    for level in sorted(by_level, reverse=True):
        starts = [c.start for c in kept]
        fresh: List[Candidate] = []
        reach = -1
        for c in sorted(by_level[level], key=lambda c: (c.start, -(c.end - c.start), c.pattern)):
            if c.start < reach:
                continue  # overlaps a longer or earlier one of the same level
            i = bisect.bisect_right(starts, c.start)
            if i > 0 and kept[i - 1].end > c.start:
                continue
            if i < len(kept) and kept[i].start < c.end:
                continue
            fresh.append(c)
            reach = c.end
        kept = sorted(kept + fresh, key=lambda c: (c.start, c.end, c.pattern))
    return kept


def _positions(data: bytes, offsets: List[int]) -> dict:
    """Map byte offsets (at ASCII boundaries) to (line, column), 1-based, columns in characters."""
    out = {}
    # col: characters from the line start to pos; a UTF-8 byte-order mark is not a column
    line, col, pos = 1, 0, 3 if data.startswith(b"\xef\xbb\xbf") else 0
    for off in sorted(set(offsets)):
        newlines = data.count(b"\n", pos, off)
        if newlines:
            line += newlines
            col, pos = 0, data.rfind(b"\n", pos, off) + 1
        segment = data[pos:off]
        col += len(segment) if segment.isascii() else len(segment.decode("utf-8", "replace"))
        pos = off
        out[off] = (line, col + 1)
    return out


def scan(data: bytes, path: Optional[str] = None) -> List[Match]:
    """Every high-confidence credential in a whole file, sorted by position. Never raises. With the
    file's project-relative `path`, a deployment file's URL passwords count however weak they are
    (`bolt://neo4j:admin@...` in a `.env` is what the service runs with; in documentation it is an
    example)."""
    try:
        data = _as_bytes(data)
    except Exception:
        return []
    if _binary(data):
        return []
    text = ScannedText(data, path)
    cands: List[Candidate] = []
    for rule in _RULES:
        try:
            if rule.may_match(text):
                cands.extend(rule.find(text))
        except Exception:  # a broken rule must not hide the others' findings
            continue
    if not cands:
        return []
    try:
        kept = _resolve(cands)
        where = _positions(data, [c.start for c in kept] + [c.end for c in kept])
        matches = []
        for c in kept:
            line, column = where[c.start]
            end_line, end_column = where[c.end]
            matches.append(Match(c.pattern, line, column, end_line, end_column))
        return matches
    except Exception:
        return []
