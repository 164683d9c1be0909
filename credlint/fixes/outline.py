"""A file's text with the code far from a finding left out, for a fixer that only changes the
top-level statement holding the finding (and perhaps the imports).

Parsing the whole file again with libcst is most of what such a fix costs: on a flow file, eight
of its fifteen milliseconds. The outline keeps every byte offset, line and column of the text:
only whole lines inside the statements left out change, each to a line of the same length. It
keeps, as written, every top-level simple statement (imports, assignments: what binds a name at
module level, which an added import must not clash with), the header of each top-level function
and class (its decorators and signature: the name it binds), and the statements holding the
finding's lines. The body of another function or class becomes `0` on its first line, `0` on its
last and blank lines between, so that the lines after it keep their place in libcst's tree; any
other compound statement (`if`, `for`, `try`, `with`, ...) becomes the same at module level.

Python's own parser (`ast`, about a tenth of libcst's cost) finds the statements. Where the text
cannot be outlined exactly (a carriage return, code `ast` cannot read, a body that does not start
its own line or ends on too short a line), the statement is kept or there is no outline at all.
"""
from __future__ import annotations

import ast
from typing import List, Optional

_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_COMPOUND = _DEFINITIONS + (ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try, ast.With, ast.AsyncWith) + \
    tuple(getattr(ast, name) for name in ("TryStar", "Match") if hasattr(ast, name))
_BLANKS = " \t\f"


def outline(text: str, first_line: int, last_line: int) -> Optional[str]:
    """`text` with the code of the top-level compound statements that hold none of the lines
    `first_line`..`last_line` (1-based) left out as the module docstring says; None when nothing
    can be left out."""
    if "\r" in text:  # lines would be counted differently by `ast` and by the outline
        return None
    try:
        tree = ast.parse(text)
    except Exception:  # noqa: BLE001 - SyntaxError, a null byte, nesting too deep: the whole file, then
        return None
    lines = text.split("\n")
    changed = False
    for statement in tree.body:
        if not isinstance(statement, _COMPOUND):
            continue
        start, end = _first_line(statement), statement.end_lineno or statement.lineno
        if start <= last_line and end >= first_line:
            continue  # holds the finding
        if isinstance(statement, _DEFINITIONS):
            changed = _leave_out_body(lines, statement) or changed
        else:
            changed = _fill(lines, statement.lineno, end, "") or changed
    return "\n".join(lines) if changed else None


def _leave_out_body(lines: List[str], definition: ast.stmt) -> bool:
    """A function's or class's body as `0` lines, when it starts a line of its own."""
    body = definition.body[0]
    first = _first_line(body)  # a decorated method's decorators come first
    line = lines[first - 1]
    indent = len(line) - len(line.lstrip(_BLANKS))
    if first <= definition.lineno or indent != body.col_offset or indent == 0:
        return False  # on the header's line (`def f(): ...`), or not at the start of its line
    return _fill(lines, first, definition.end_lineno or first, line[:indent])


def _first_line(statement: ast.stmt) -> int:
    """A statement's first line: its first decorator's, if it has decorators."""
    return min([statement.lineno] + [d.lineno for d in getattr(statement, "decorator_list", ())])


def _fill(lines: List[str], start: int, end: int, indent: str) -> bool:
    """Lines `start`..`end` as `0` (after `indent`) on the first and the last, blank between, each
    as long as it was; False, with nothing changed, when the first or last is too short."""
    width = len(indent) + 1
    if len(lines[start - 1]) < width or len(lines[end - 1]) < width:
        return False
    for number in range(start, end + 1):
        length = len(lines[number - 1])
        if number in (start, end):
            lines[number - 1] = indent + "0" + " " * (length - width)
        else:
            lines[number - 1] = " " * length
    return True
