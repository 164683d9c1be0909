"""Masking a source line for a finding's snippet: every value that may be a secret becomes
`********`, and the marker under the line moves with the masks."""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import List, Tuple

_STRING_BODY = re.compile(r"""(?P<open>[rRbBuUfF]{0,2}(?P<q>'''|\"\"\"|'|"))(?:\\.|(?!(?P=q)).)*(?P<close>(?P=q)|$)""")


def mask_string_bodies(line: str) -> str:
    """Every string literal's content masked: for a file whose values credlint knows nothing of."""
    return _STRING_BODY.sub(r"\g<open>********\g<close>", line)


def mask_line(line: str, spans: List[Tuple[int, int]], literal_only: Sequence[Tuple[int, int]] = ()) -> str:
    """Replace each span's content (columns, 1-based, end exclusive) by a fixed mask.

    `literal_only` spans are masked only where they hold a string literal: a finding placed on
    a name that folds to a secret shows the name."""
    extra = [s for s in literal_only if s not in spans]
    for start, end in sorted(list(spans) + extra, reverse=True):
        start0, end0 = max(start - 1, 0), max(end - 1, 0)
        segment = line[start0:end0]
        quote = re.match(r"[rRbBuUfF]{0,2}('''|\"\"\"|'|\")", segment)
        if (start, end) in extra and not quote:
            continue
        if quote and segment.endswith(quote.group(1)) and len(segment) >= 2 * len(quote.group(1)):
            opening = quote.group(0)
            masked = opening + "********" + quote.group(1)
        else:
            masked = "********"
        line = line[:start0] + masked + line[end0:]
    return line


def mask_spans(line: str, spans: List[Tuple[int, int]]) -> str:
    """Replace exact column spans (1-based, end exclusive) by a fixed mask."""
    for start, end in sorted(spans, reverse=True):
        line = line[:max(start - 1, 0)] + "********" + line[max(end - 1, 0):]
    return line


def merge_spans(spans: List[Tuple[int, int]]) -> List[Tuple[int, int]]:
    merged: List[Tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def marker_columns(original: str, shown: str, start: int, end: int) -> Tuple[int, int]:
    """Columns (0-based, end exclusive) of [start, end) of `original` in its masked form: a mask
    is shorter or longer than what it hides, so the marker under a snippet moves with it."""
    if original == shown:
        return start, max(end, start + 1)
    import difflib

    blocks = difflib.SequenceMatcher(None, original, shown, autojunk=False).get_opcodes()

    def where(column: int, closing: bool) -> int:
        for tag, a0, a1, b0, b1 in blocks:
            if a0 <= column < a1 or (closing and column == a1):
                if tag == "equal":
                    return b0 + (column - a0)
                return b1 if closing else b0  # inside a masked span: cover the whole mask
        return len(shown)

    new_start = where(start, False)
    return new_start, max(where(end, True), new_start + 1)
