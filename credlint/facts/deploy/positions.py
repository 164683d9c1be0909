"""Source positions: where a character of the text being read sits in the deployment file.

The text a reader lexes is often not the file itself (a Dockerfile instruction joined from its
continuation lines, a YAML block scalar, the script of `sh -c`): each `Src` maps an offset in that
text back to a (line, column) of the file, so that every name credlint reports points into the file.
"""
from __future__ import annotations

import bisect
from typing import List, Tuple

from credlint.facts.types import Pos


class Src:
    """Maps an offset in a text being read to a (line, column) of the file (1-based)."""

    def locate(self, offset: int, token: str = "") -> Tuple[int, int]:  # pragma: no cover
        raise NotImplementedError


class LineSrc(Src):
    """Text that is a piece of the file as it stands: offsets counted from (`line0`, `col0`)."""

    def __init__(self, text: str, line0: int = 1, col0: int = 1):
        self.starts = [0]
        i = text.find("\n")
        while i >= 0:
            self.starts.append(i + 1)
            i = text.find("\n", i + 1)
        self.line0 = line0
        self.col0 = col0

    def locate(self, offset, token=""):
        idx = bisect.bisect_right(self.starts, max(offset, 0)) - 1
        col = offset - self.starts[idx]
        return self.line0 + idx, col + (self.col0 if idx == 0 else 1)


class OriginSrc(Src):
    """Text joined from pieces of the file (continuation lines): the file position of each character."""

    def __init__(self, origins: List[Tuple[int, int]], fallback: Tuple[int, int]):
        self.origins = origins
        self.fallback = fallback

    def locate(self, offset, token=""):
        if 0 <= offset < len(self.origins):
            return self.origins[offset]
        if self.origins:
            line, col = self.origins[-1]
            return line, col + 1
        return self.fallback


class BlockSrc(Src):
    """A YAML literal block scalar: value line i is file line first+i, shifted by the indent."""

    def __init__(self, text: str, first_line: int, indent: int):
        self.text = text
        self.first = first_line
        self.indent = indent

    def locate(self, offset, token=""):
        offset = max(0, min(offset, len(self.text)))
        line = self.text.count("\n", 0, offset)
        col = offset - (self.text.rfind("\n", 0, offset) + 1)
        return self.first + line, self.indent + col + 1


class SearchSrc(Src):
    """Folded or multi-line scalars: find the token in the node's lines."""

    def __init__(self, lines: List[str], first: int, last: int, fallback: Tuple[int, int]):
        self.lines = lines
        self.first = first  # 0-based
        self.last = last
        self.fallback = fallback
        self.cursor = (first, 0)

    def locate(self, offset, token=""):
        if not token:
            return self.fallback
        for start in (self.cursor, (self.first, 0)):
            line, col = start
            while line <= self.last and line < len(self.lines):
                idx = self.lines[line].find(token, col)
                if idx >= 0:
                    self.cursor = (line, idx + 1)
                    return line + 1, idx + 1
                line, col = line + 1, 0
        return self.fallback


class SubSrc(Src):
    """Text built from a word of another source (the script of `sh -c SCRIPT`)."""

    def __init__(self, parent: Src, offsets: List[int]):
        self.parent = parent
        self.offsets = offsets

    def locate(self, offset, token=""):
        if 0 <= offset < len(self.offsets):
            return self.parent.locate(self.offsets[offset], token)
        if self.offsets:
            return self.parent.locate(self.offsets[-1] + 1, token)
        return self.parent.locate(0, token)


def token_pos(line: int, col: int, length: int) -> Pos:
    """The position of a token of `length` characters at (line, col): where a fact points."""
    return Pos(line, col, line, col + max(length, 0))
