"""Make strings from users' files harmless to print on a terminal or in a line-oriented log.

Flow names, secret names, paths, messages and source lines come from the checked project. Printed
raw, a newline forges a finding line (or a `::warning ...` workflow command in a CI log), an ESC
or a C1 control (U+009B is a one-character CSI) drives the terminal, a bidi override reorders
what the reader sees ("Trojan Source"), and a file name that is not UTF-8 (decoded as lone
surrogates) goes back out as its raw bytes. `safe` writes each such character as a visible
escape, the way `repr` does (`\\n`, `\\x1b`, `\\x9b`, `\\u202e`, `\\udc9b`), and returns any
other string unchanged. Backslashes are not doubled: the aim is that nothing acts on the
terminal, not that the text can be decoded again (JSON is the faithful form).
"""
import re
from typing import Dict

# C0 and DEL, C1, the line and paragraph separators (line breaks to str.splitlines and some
# viewers), the bidi embeddings, overrides and isolates, and lone surrogates.
_UNSAFE_BUT_TAB_CLASS = "\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_UNSAFE = re.compile(f"[\t{_UNSAFE_BUT_TAB_CLASS}]")
_UNSAFE_BUT_TAB = re.compile(f"[{_UNSAFE_BUT_TAB_CLASS}]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(char: str) -> str:
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def _table(low: int, high: int) -> Dict[int, str]:
    return {code: _escape(chr(code)) for code in range(low, high + 1) if _UNSAFE.match(chr(code))}


_TABLE: Dict[int, str] = {**_table(0, 0x9f), **_table(0x2028, 0x2069), **_table(0xd800, 0xdfff)}
_TABLE_BUT_TAB: Dict[int, str] = {code: text for code, text in _TABLE.items() if code != 9}


def safe(text: str) -> str:
    """`text` with every control, bidi and lone-surrogate character written as a visible escape."""
    if text.isprintable() or not _UNSAFE.search(text):  # fast path: no unsafe character is printable
        return text
    return text.translate(_TABLE)


def safe_source(line: str, tab_size: int = 8) -> str:
    """A source line for a snippet: like `safe`, but TABs become the spaces an editor would show
    (so a caret computed with this function on the line's prefix lines up)."""
    if _UNSAFE_BUT_TAB.search(line):
        line = line.translate(_TABLE_BUT_TAB)
    return line.expandtabs(tab_size) if "\t" in line else line


def source_column(line: str, index: int) -> int:
    """Where character `index` of a source line is printed once `safe_source` has rewritten it
    (for a caret under a span; past the end of the line it counts on in spaces)."""
    return len(safe_source(line[:index])) + max(index - len(line), 0)
