"""TOML key positions: the line and column of every key path (tomllib gives values, not lines)."""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple


def _toml_key(s: str, i: int, stop: str):
    """Parse a dotted key starting at s[i]; returns (keys, columns, index after `stop`) or None."""
    keys, cols = [], []
    n = len(s)
    while True:
        while i < n and s[i] in " \t":
            i += 1
        if i >= n:
            return None
        c = s[i]
        if c in "\"'":
            j = i + 1
            buf = []
            while j < n and s[j] != c:
                if c == '"' and s[j] == "\\" and j + 1 < n:
                    buf.append(s[j + 1])
                    j += 2
                    continue
                buf.append(s[j])
                j += 1
            if j >= n:
                return None
            keys.append("".join(buf))
            cols.append(i)
            i = j + 1
        else:
            j = i
            while j < n and (s[j].isalnum() or s[j] in "_-"):
                j += 1
            if j == i:
                return None
            keys.append(s[i:j])
            cols.append(i)
            i = j
        while i < n and s[i] in " \t":
            i += 1
        if i < n and s[i] == ".":
            i += 1
            continue
        if s.startswith(stop, i):
            return keys, cols, i + len(stop)
        return None


def toml_positions(text: str) -> Dict[Tuple[str, ...], Tuple[int, int]]:
    """(line, column) of every table and key path of a TOML text, inline tables included."""
    positions: Dict[Tuple[str, ...], Tuple[int, int]] = {}
    lines = text.split("\n")
    table: Tuple[str, ...] = ()
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        lead = len(line) - len(stripped)
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        if stripped.startswith("["):
            arr = stripped.startswith("[[")
            parsed = _toml_key(line, lead + (2 if arr else 1), "]]" if arr else "]")
            if parsed:
                keys, cols, _end = parsed
                table = tuple(keys)
                for d in range(len(keys)):
                    positions.setdefault(table[:d + 1], (i + 1, cols[d] + 1))
            i += 1
            continue
        parsed = _toml_key(line, lead, "=")
        if not parsed:
            i += 1
            continue
        keys, cols, end = parsed
        for d in range(len(keys)):
            positions.setdefault(table + tuple(keys[:d + 1]), (i + 1, cols[d] + 1))
        i = _toml_skim(lines, i, end, table + tuple(keys), positions)
    return positions


def _toml_skim(lines, li, ci, path, positions) -> int:
    """Skip a TOML value (multi-line strings, arrays, inline tables), recording inline-table keys."""
    stack: List[Optional[Tuple[str, ...]]] = []
    kinds: List[str] = []
    expect_key = False
    current: Optional[Tuple[str, ...]] = path
    while li < len(lines):
        line = lines[li]
        while ci < len(line):
            ch = line[ci]
            if expect_key and ch not in " \t,":
                if ch == "}":
                    expect_key = False
                    continue
                parsed = _toml_key(line, ci, "=")
                expect_key = False
                if parsed:
                    keys, cols, end = parsed
                    base = stack[-1] if stack else None
                    if base is not None:
                        for d in range(len(keys)):
                            positions.setdefault(base + tuple(keys[:d + 1]), (li + 1, cols[d] + 1))
                        current = base + tuple(keys)
                    else:
                        current = None
                    ci = end
                    continue
            if ch == "#":
                break
            if line.startswith('"""', ci) or line.startswith("'''", ci):
                quote = line[ci:ci + 3]
                ci += 3
                while li < len(lines):
                    idx = lines[li].find(quote, ci)
                    if idx >= 0:
                        ci = idx + 3
                        while ci < len(lines[li]) and lines[li][ci] == quote[0]:
                            ci += 1
                        break
                    li, ci = li + 1, 0
                if li >= len(lines):
                    return li
                line = lines[li]
                continue
            if ch in "\"'":
                j = ci + 1
                while j < len(line) and line[j] != ch:
                    j += 2 if (ch == '"' and line[j] == "\\") else 1
                ci = j + 1
                continue
            if ch == "{":
                stack.append(current)
                kinds.append("{")
                expect_key = True
                ci += 1
                continue
            if ch == "[":
                stack.append(None)
                kinds.append("[")
                current = None
                ci += 1
                continue
            if ch in "}]":
                if stack:
                    stack.pop()
                    kinds.pop()
                ci += 1
                if not stack:
                    return li + 1
                continue
            if ch == "," and kinds and kinds[-1] == "{":
                expect_key = True
            ci += 1
        if not stack:
            return li + 1
        li, ci = li + 1, 0
    return li
