"""A format's rule: a finder and the probes that gate it, and the two ways most rules are built
(one regex with the secret as a group; a value right after a key named for it, on the same line).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterator, Optional, Tuple

from credlint.facts.patterns.checks import token_ok
from credlint.facts.patterns.text import Candidate, Probe, ScannedText

Finder = Callable[[ScannedText], Iterator[Candidate]]


@dataclass(frozen=True)
class FormatRule:
    """One credential format's finder, run only when one of its probes hits the file."""

    find: Finder
    probes: Tuple[Probe, ...]

    def may_match(self, text: ScannedText) -> bool:
        return any(text.probe(p) for p in self.probes)


def decoded(raw: bytes) -> str:
    """A matched slice as text, to judge it (never to keep: a `Match` holds no part of a secret)."""
    return raw.decode("utf-8", "replace")


def regex_rule(pattern_id: str, regex: bytes, probes: Tuple[Probe, ...], *, mixed: bool = True,
               priority: int = 30, accept: Optional[Callable[[str, str], bool]] = None) -> FormatRule:
    """A rule from one regex with a group `s` (the secret) and optionally `b` (its random body)."""
    compiled = re.compile(regex, re.DOTALL)
    has_body = "b" in compiled.groupindex

    def find(text: ScannedText) -> Iterator[Candidate]:
        data = text.data
        verdicts: dict = {}  # a secret repeated in a file is judged once
        for m in compiled.finditer(data):
            start, end = m.span("s")
            secret = decoded(data[start:end])
            ok = verdicts.get(secret)
            if ok is None:
                body = decoded(m.group("b")) if has_body else secret
                ok = verdicts[secret] = accept(secret, body) if accept else token_ok(secret, body, mixed)
            if ok:
                yield Candidate(start, end, pattern_id, secret, priority)

    return FormatRule(find, probes)


def context_rule(pattern_id: str, keys: Tuple[bytes, ...], value: bytes, probes: Tuple[Probe, ...],
                 accept: Callable[[str], bool], priority: int = 25) -> FormatRule:
    """A value that has no prefix of its own, found right after a key named for it on the same
    line. Keys are matched case-insensitively by running lowercase regexes (each starting with a
    literal) over the lowered file; the value is then matched at the same offset in the file."""
    key_res = tuple(re.compile(k + _SEP) for k in keys)
    value_re = re.compile(value)

    def find(text: ScannedText) -> Iterator[Candidate]:
        data, lower = text.data, text.lower
        seen = set()
        for key_re in key_res:
            for key in key_re.finditer(lower):
                m = value_re.match(data, key.end())
                if m and m.start() not in seen:
                    secret = decoded(m.group())
                    if accept(secret):
                        seen.add(m.start())
                        yield Candidate(m.start(), m.end(), pattern_id, secret, priority)

    return FormatRule(find, probes)


# Between a key and its value on one line: quotes, brackets, spaces, = : , => (INI, YAML, .env,
# JSON, escaped JSON, Python kwargs / dict / os.environ[...] = / getenv default).
_SEP = rb"""[\\"'\])\t =:,>(\[{]{1,16}"""
