"""Where a finding sits in a YAML file, for fixers that change only the bytes concerned.

The file is composed (never loaded) so that every scalar keeps its offsets; a finding's line and
column name a key or a value, and `locate` gives its path from the document's root with the
nodes on the way. `value_at` reads a fixed text back, so a fixer can check that its edit says
what it meant (a YAML edit can parse and still mean something else).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Tuple, Union

import yaml

Step = Union[str, int]  # a mapping key or a sequence index


@dataclass
class Place:
    """A scalar a finding points at: `role` is "key" (of the mapping `parents[-1]`) or "value"."""

    document: int
    path: Tuple[Step, ...]  # keys and indexes from the root to the key, or to the value
    node: yaml.ScalarNode
    role: str
    parents: List[yaml.Node] = field(default_factory=list)  # from the root to the node's container


def documents(text: str) -> List[yaml.Node]:
    """Every document's root node (pure-Python loader: its marks count characters of `text`)."""
    return [root for root in yaml.compose_all(text, Loader=yaml.SafeLoader) if root is not None]


def _at(node: yaml.Node, line: int, column: int) -> bool:
    """Whether a scalar starts at the 1-based line and column (inside its quote, if it has one)."""
    mark = node.start_mark
    quoted = 1 if isinstance(node, yaml.ScalarNode) and node.style in ("'", '"') else 0
    return mark.line + 1 == line and mark.column + 1 in (column, column - quoted)


def locate(text: str, line: int, column: int) -> Optional[Place]:
    """The scalar key or value starting at `line`:`column`, or None."""
    for index, root in enumerate(documents(text)):
        found = _find(root, line, column, index, (), [], 0)
        if found is not None:
            return found
    return None


def _find(node, line: int, column: int, document: int, path: Tuple[Step, ...], parents: List[yaml.Node],
          depth: int) -> Optional[Place]:
    if depth > 80:
        return None
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                continue
            here = path + (key.value,)
            if _at(key, line, column):
                return Place(document, here, key, "key", parents + [node])
            if isinstance(value, yaml.ScalarNode) and _at(value, line, column):
                return Place(document, here, value, "value", parents + [node])
            found = _find(value, line, column, document, here, parents + [node], depth + 1)
            if found is not None:
                return found
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            if isinstance(item, yaml.ScalarNode) and _at(item, line, column):
                return Place(document, path + (index,), item, "value", parents + [node])
            found = _find(item, line, column, document, path + (index,), parents + [node], depth + 1)
            if found is not None:
                return found
    return None


def value_of(mapping: yaml.Node, key: str) -> Optional[Tuple[yaml.Node, yaml.Node]]:
    """(key node, value node) of `key` in a mapping node (merge keys not followed), or None."""
    if isinstance(mapping, yaml.MappingNode):
        for k, v in mapping.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return k, v
    return None


def single_line_scalar(node: yaml.Node) -> bool:
    """A plain or quoted scalar written on one line (what a fixer may replace in place)."""
    return isinstance(node, yaml.ScalarNode) and node.style in (None, "", "'", '"') and \
        node.start_mark.line == node.end_mark.line and node.tag == "tag:yaml.org,2002:str"


def value_at(text: str, document: int, path: Tuple[Step, ...]):
    """The loaded value at `path` of a document of `text` (None when there is none or it does not load)."""
    try:
        loaded = [doc for doc in yaml.safe_load_all(text) if doc is not None]
        value = loaded[document]
        for step in path:
            value = value[step]
    except Exception:  # noqa: BLE001 - anything but the expected shape means: not what we meant
        return None
    return value


def quoted_like(node: yaml.ScalarNode, text: str, flow: bool = False) -> str:
    """`text` written as the scalar it replaces was: in its quotes, or plain (double-quoted where a
    plain scalar cannot hold it: in a flow collection, or starting with a YAML indicator)."""
    if node.style in ("'", '"'):
        quote = node.style
        return quote + (text.replace("'", "''") if quote == "'" else text.replace("\\", "\\\\").replace('"', '\\"')) \
            + quote
    if flow or text[:1] in "{[&*!|>%@`'\"#,?:-":
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text
