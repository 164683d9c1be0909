"""Words of a command line or a Dockerfile instruction as spans of the source, so that a fixer
can remove or rewrite one word and keep every other byte (the facts' lexer gives each word's
text without its quotes, which a byte edit cannot use)."""
from __future__ import annotations

from typing import List, Tuple

BLANKS = " \t\r"


def raw_words(text: str, start: int, end: int) -> List[Tuple[int, int]]:
    """(start, end) of each shell-like word of text[start:end] (a Dockerfile instruction's
    arguments, a command line): quotes and escapes keep a word together, unquoted blanks end it."""
    out, i = [], start
    while i < end:
        while i < end and text[i] in BLANKS:
            i += 1
        if i >= end:
            break
        begin = i
        while i < end and text[i] not in BLANKS:
            if text[i] == "\\":
                i += 2
            elif text[i] in "'\"":
                close = text.find(text[i], i + 1, end)
                while close > 0 and text[i] == '"' and text[close - 1] == "\\":
                    close = text.find('"', close + 1, end)
                i = end if close < 0 else close + 1
            else:
                i += 1
        out.append((begin, min(i, end)))
    return out
