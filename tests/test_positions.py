"""Positions from the partial code-generation replay agree with libcst's PositionProvider."""
import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from credlint.facts.types import Pos
from credlint.facts.python.positions import fill_positions

SOURCES = {
    "simple": 'import os\n\nx = call(a="1",\n         b=2)\n',
    "duplicate-statements": 'x = f(1)\nx = f(1)\n\n\ndef g():\n    return f(1)\n',
    "form-feed-and-comments": '# header\n\x0c\nclass C:\n    # comment\n    y = h(\n        "v")  # trailing\n',
    "decorated": '@dec(\n    1)\ndef fn(a=k(2)):\n    pass\n',
}


def _calls(module):
    found = []

    class Collect(cst.CSTVisitor):
        def visit_Call(self, node):
            found.append(node)

    module.visit(Collect())
    return found


@pytest.mark.parametrize("source", SOURCES.values(), ids=SOURCES.keys())
@pytest.mark.parametrize("partial", [True, False], ids=["by-statement", "whole-module"])
def test_positions_match_libcst(source, partial):
    module = cst.parse_module(source)
    calls = _calls(module)
    assert calls
    wanted = {id(node): [Pos()] for node in calls}
    statements = range(len(module.body)) if partial else None
    fill_positions(module, source, wanted, statements)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    expected = wrapper.resolve(PositionProvider)
    for node in calls:
        (pos,) = wanted[id(node)]
        ref = expected[node]
        assert (pos.line, pos.column, pos.end_line, pos.end_column) == (
            ref.start.line, ref.start.column + 1, ref.end.line, ref.end.column + 1)
