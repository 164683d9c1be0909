"""Line/column positions for the few nodes that become findings or providers.

libcst's PositionProvider computes a position for every node of a file, which costs several
times the parse. We instead replay code generation once (cheap: it only concatenates tokens),
note the character offsets where the wanted nodes start and end, and map those offsets to
lines and columns of the original text, which libcst reproduces byte for byte.
"""
from __future__ import annotations

import bisect
from typing import Dict, Iterable, List, Optional, Tuple

import libcst as cst
from libcst._nodes.internal import CodegenState

from credlint.facts.types import Pos


class _Nothing:
    """A context that does nothing, without the generator `contextmanager` makes per call."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc) -> bool:
        return False


_NOTHING = _Nothing()


class _OffsetState(CodegenState):
    def __init__(self, module: cst.Module, wanted: Dict[int, List[Pos]]):
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.offset = 0
        self.wanted = wanted
        self.spans: Dict[int, Tuple[int, int]] = {}
        self._open: Dict[int, int] = {}

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.offset += len(token)

    def add_token(self, value: str) -> None:
        self.offset += len(value)

    def record_syntactic_position(self, node, *, start_node=None, end_node=None) -> _Nothing:
        return _NOTHING  # libcst's own does nothing either, through a generator per node

    def before_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.wanted:
            self._open[key] = self.offset

    def after_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        start = self._open.pop(key, None)
        if start is not None:
            self.spans[key] = (start, self.offset)


class _TextState(_OffsetState):
    """Also keeps the generated text, to find a statement's place in the source."""

    def __init__(self, module: cst.Module, wanted: Dict[int, List[Pos]]):
        super().__init__(module, wanted)
        self.tokens = []

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.offset += len(token)
            self.tokens.append(token)

    def add_token(self, value: str) -> None:
        self.offset += len(value)
        self.tokens.append(value)


def _statement_spans(module: cst.Module, source: str, wanted: Dict[int, List[Pos]],
                     statements: Iterable[int]) -> Optional[Dict[int, Tuple[int, int]]]:
    """Spans from re-generating only the top-level statements that hold wanted nodes.

    Each statement's text is found in the source after the previous one; when a text occurs
    twice (identical statements), the answer would be ambiguous and None sends the caller to
    the whole-module replay."""
    spans: Dict[int, Tuple[int, int]] = {}
    cursor = 0
    for index in sorted(statements):
        state = _TextState(module, wanted)
        module.body[index]._codegen(state)
        text = "".join(state.tokens)
        base = source.find(text, cursor)
        if base < 0 or source.find(text, base + 1) >= 0:
            return None
        for key, (start, end) in state.spans.items():
            spans[key] = (start + base, end + base)
        cursor = base + len(text)
    return spans


def fill_positions(module: cst.Module, source: str, wanted: Dict[int, List[Pos]],
                   statements: Optional[Iterable[int]] = None) -> None:
    """Fill every Pos in `wanted` (keyed by id(node)) in place.

    `statements` (indexes into module.body) limits the replay to the statements that hold the
    wanted nodes."""
    if not wanted:
        return
    spans = _statement_spans(module, source, wanted, statements) if statements is not None else None
    if spans is None:
        state = _OffsetState(module, wanted)
        module._codegen(state)
        spans = state.spans
    line_starts = [0]
    index = source.find("\n")
    while index != -1:
        line_starts.append(index + 1)
        index = source.find("\n", index + 1)
    length = len(source)

    def to_line_col(offset: int) -> Tuple[int, int]:
        line = bisect.bisect_right(line_starts, offset) - 1
        return line + 1, offset - line_starts[line] + 1

    for key, (start, end) in spans.items():
        while start < end and start < length and source[start] in " \t\r\n\\":
            start += 1
        while end > start and source[end - 1] in " \t\r\n,\\":
            end -= 1
        line, col = to_line_col(start)
        end_line, end_col = to_line_col(end)
        for pos in wanted[key]:
            pos.line, pos.column, pos.end_line, pos.end_column = line, col, end_line, end_col


def statement_offsets(module: cst.Module) -> List[Tuple[int, int]]:
    """Where each top-level statement's code starts and ends in `module.code` (leading comment
    lines included): one code generation, no text kept."""
    state = _OffsetState(module, {id(stmt): [] for stmt in module.body})
    module._codegen(state)
    return [state.spans[id(stmt)] for stmt in module.body]
