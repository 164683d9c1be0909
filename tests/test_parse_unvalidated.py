"""The parse credlint uses skips libcst's per-node validation, for the parse only, and gives the
same tree."""
import threading
from pathlib import Path

import libcst as cst
import pytest

from credlint.facts.python.parse import parse_module

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").rglob("*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_same_tree_as_libcst(path):
    source = path.read_text(encoding="utf-8")
    try:
        expected = cst.parse_module(source)
    except cst.ParserSyntaxError:  # an example that does not parse on purpose: neither does ours
        with pytest.raises(cst.ParserSyntaxError):
            parse_module(source)
        return
    tree = parse_module(source)
    assert tree.deep_equals(expected)
    assert tree.code == source


def test_validation_is_skipped_while_parsing(monkeypatch):
    checked = []
    original = cst.Name._validate
    monkeypatch.setattr(cst.Name, "_validate", lambda self: checked.append(self.value) or original(self))
    parse_module("token = read(name)\n")
    assert checked == []
    cst.parse_module("token = read(name)\n")  # libcst's own parse does check each Name
    assert "token" in checked


def test_validation_is_back_after_a_parse_and_after_a_failed_one():
    parse_module("x = 1\n")
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")
    with pytest.raises(cst.ParserSyntaxError):
        parse_module("def broken(:\n")
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")


def test_validation_is_back_after_parses_in_several_threads():
    source = "".join(f"value_{i} = call_{i}(arg, key={i})\n" for i in range(400))
    trees = []
    threads = [threading.Thread(target=lambda: trees.append(parse_module(source))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(trees) == 4 and all(tree.code == source for tree in trees)
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")
