"""Places in a document, as credlint counts them and as the editor does.

credlint counts lines from 1 and columns from 1 in characters (code points), ending a line only
at `\\n` as Python does. The Language Server Protocol counts both from 0, and columns in the code
units the client and server agreed on: UTF-16 unless the client asked for another. A line with
an accent or an emoji before a finding is where the two part, so every conversion goes through
the document's own line and the agreed codec.
"""
from __future__ import annotations

from typing import List, Tuple

from lsprotocol import types


def text_lines(text: str) -> List[str]:
    """The lines of a buffer as credlint numbers them (without their line ending)."""
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]


def to_position(lines: List[str], codec, line: int, column: int) -> types.Position:
    """credlint's (line, column), both 1-based, column in characters -> an LSP position."""
    row = max(line - 1, 0)
    if row >= len(lines):
        return types.Position(line=max(len(lines) - 1, 0), character=codec.client_num_units(lines[-1]) if lines else 0)
    text = lines[row]
    index = min(max(column - 1, 0), len(text))
    return types.Position(line=row, character=codec.client_num_units(text[:index]))


def to_range(lines: List[str], codec, line: int, column: int, end_line: int, end_column: int) -> types.Range:
    """A finding's span as an LSP range. A span with no width (a finding about a whole line)
    reaches to the end of its line, so that the editor has something to underline."""
    start = to_position(lines, codec, line, column)
    if (end_line, end_column) <= (line, column):
        row = start.line
        width = codec.client_num_units(lines[row]) if row < len(lines) else start.character
        return types.Range(start=start, end=types.Position(line=row, character=max(width, start.character)))
    return types.Range(start=start, end=to_position(lines, codec, end_line, end_column))


def from_position(lines: List[str], codec, position: types.Position) -> Tuple[int, int]:
    """An LSP position -> credlint's (line, column), both 1-based, column in characters. A
    position inside a character's code units (half an emoji) is that character's column."""
    if position.line >= len(lines):
        return position.line + 1, 1
    units = 0
    for index, char in enumerate(lines[position.line]):
        if units >= position.character:
            return position.line + 1, index + 1
        units += codec.client_num_units(char)
        if units > position.character:
            return position.line + 1, index + 1
    return position.line + 1, len(lines[position.line]) + 1
