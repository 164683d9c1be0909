"""CL104 on an agent command: remove the unused secret's `--env NAME=value` (or `-e`, `--env=`)
and nothing else, so that the command stays valid.

In a command line (a script, a Makefile recipe, supervisord's `command=`, a Dockerfile's `RUN` or
`CMD`, a YAML string) the option and its value go with the blanks that separated them from the
next word; a line left with nothing (but a `\\` continuation) goes whole, and the line before
loses its `\\` when the removed line ended the command. In a YAML list (`args: ["--env", ...]`,
one item a line or in brackets) the two items go with their separator.
"""
from __future__ import annotations

from typing import Optional

import yaml

from credlint.findings.report import Finding
from credlint.fixes import Edit, Source
from credlint.fixes.words import BLANKS, raw_words

OPTIONS = ("-e", "--env")


def _unquoted(word: str) -> str:
    return word.replace('"', "").replace("'", "")


def _is_option(word: str) -> bool:
    return _unquoted(word) in OPTIONS


def _pair_value(word: str, name: str) -> Optional[str]:
    """How the word holds `NAME=...`: "value" (the value of a separate option), "attached"
    (`--env=NAME=...`, `-eNAME=...`), or None."""
    text = _unquoted(word)
    if text.startswith(name + "="):
        return "value"
    if text.startswith(("--env=" + name + "=", "-e" + name + "=")):
        return "attached"
    return None


def remove_agent_env(kind: str, finding: Finding, source: Source) -> Optional[Edit]:
    span = source.span(finding)
    if span is None or not finding.secret or finding.line != finding.end_line:
        return None
    name = source.text[span[0]:span[1]]
    if not name.endswith(finding.secret):
        return None
    if kind in ("compose", "k8s", "ci-yaml", "yaml"):
        return _in_yaml(source, span[0], name)
    line_start = source.text.rfind("\n", 0, span[0]) + 1
    line_end = source.text.find("\n", span[0])
    return _in_command(source, line_start, len(source.text) if line_end < 0 else line_end, span[0], name)


def _in_command(source: Source, start: int, end: int, at: int, name: str) -> Optional[Edit]:
    """Remove the pair from the command text in source.text[start:end] (one line, or the part of
    it a YAML scalar holds)."""
    text = source.text
    words = raw_words(text, start, end)
    index = next((k for k, (b, e) in enumerate(words) if b <= at < e), None)
    if index is None:
        return None
    how = _pair_value(text[words[index][0]:words[index][1]], name)
    if how == "value" and index > 0 and _is_option(text[words[index - 1][0]:words[index - 1][1]]):
        first = index - 1
    elif how == "attached":
        first = index
    else:
        return None
    begin, stop = words[first][0], words[index][1]
    following = words[index + 1:]
    if text[begin:stop].endswith("\\"):
        return None  # the value runs on past the line
    continued = following and text[following[0][0]:following[0][1]] == "\\" and len(following) == 1
    if following and not continued:
        return Edit(begin, following[0][0], "")  # the pair and the blanks after it
    before = text[start:begin]
    if before.strip():
        return Edit(begin - (len(before) - len(before.rstrip(BLANKS))), stop, "")  # the blanks before it
    return _whole_line(source, start, end, bool(continued))


def _whole_line(source: Source, start: int, end: int, continued: bool) -> Optional[Edit]:
    """The line held only the pair: it goes; if it ended the command, so does the `\\` before it."""
    text = source.text
    if continued:
        return Edit(start, end + 1 if end < len(text) else end, "")
    previous_end = start - 1
    if previous_end < 0:
        return None
    previous_start = text.rfind("\n", 0, previous_end) + 1
    previous = text[previous_start:previous_end].rstrip("\r")
    if not previous.rstrip().endswith("\\"):
        return None  # a line of its own that is not a command's continuation: leave it
    cut = previous_start + len(previous.rstrip()[:-1].rstrip())
    return Edit(cut, end, "")


# ----- YAML ------------------------------------------------------------------------------------------
def _scalars(text: str):
    """(node, parent sequence or None, index) of every scalar of every document."""
    stack = [(root, None, -1) for root in yaml.compose_all(text, Loader=yaml.SafeLoader) if root is not None]
    while stack:
        node, parent, index = stack.pop()
        if isinstance(node, yaml.ScalarNode):
            yield node, parent, index
        elif isinstance(node, yaml.MappingNode):
            stack.extend((v, None, -1) for _, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, node, k) for k, item in enumerate(node.value))


def _in_yaml(source: Source, at: int, name: str) -> Optional[Edit]:
    for node, sequence, index in _scalars(source.text):
        if not node.start_mark.index <= at < node.end_mark.index:
            continue
        how = _pair_value(node.value, name)
        if sequence is not None and how == "value" and index > 0 and \
                isinstance(sequence.value[index - 1], yaml.ScalarNode) and sequence.value[index - 1].value in OPTIONS:
            return _list_items(source, sequence, index - 1, index)
        if sequence is not None and how == "attached":
            return _list_items(source, sequence, index, index)
        return _in_scalar(source, node, at, name)
    return None


def _in_scalar(source: Source, node: yaml.ScalarNode, at: int, name: str) -> Optional[Edit]:
    """A command written as one YAML string: the pair goes from the string's own text."""
    start, end = node.start_mark.index, node.end_mark.index
    raw = source.text[start:end]
    if node.style in ("'", '"'):
        if "\\" in raw or "''" in raw[1:-1]:
            return None  # escapes: the source is not the command's text
        start, end = start + 1, end - 1
    elif node.style not in (None, ""):
        start = source.text.find("\n", start) + 1  # a block scalar: its lines
    line_start = max(start, source.text.rfind("\n", 0, at) + 1)
    line_end = source.text.find("\n", at)
    line_end = end if line_end < 0 else min(end, line_end)
    return _in_command(source, line_start, line_end, at, name)


def _list_items(source: Source, sequence: yaml.SequenceNode, first: int, last: int) -> Optional[Edit]:
    """Remove items first..last of a YAML sequence with their separators."""
    items = sequence.value
    text = source.text
    if sequence.flow_style:
        if first > 0:
            return Edit(items[first - 1].end_mark.index, items[last].end_mark.index, "")
        if last + 1 < len(items):
            return Edit(items[first].start_mark.index, items[last + 1].start_mark.index, "")
        return Edit(items[first].start_mark.index, items[last].end_mark.index, "")
    begin = text.rfind("\n", 0, items[first].start_mark.index) + 1
    if text[begin:items[first].start_mark.index].strip() != "-":
        return None  # not one item a line
    end = text.find("\n", items[last].end_mark.index)
    end = len(text) if end < 0 else end + 1
    tail = text[items[last].end_mark.index:end].strip()
    if (tail and not tail.startswith("#")) or any(items[k].start_mark.line != items[k].end_mark.line
                                                  for k in range(first, last + 1)):
        return None
    if len(items) == last - first + 1:
        return None  # the list would be left empty (and its key with nothing)
    return Edit(begin, end, "")
