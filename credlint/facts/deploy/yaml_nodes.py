"""YAML nodes: walking PyYAML's composed nodes (merge keys, scalars, file positions), and the
command words and environment entries they hold.

The YAML readers (compose, Kubernetes, CI) work on nodes rather than loaded data because a node's
marks give each name its line. This room is imported with them, only when a YAML file is read.
"""
from __future__ import annotations

import re
from typing import List, Optional, Tuple

import yaml

from credlint.facts.deploy.core import Reader
from credlint.facts.deploy.lexer import Word, host_spans, lex
from credlint.facts.deploy.positions import BlockSrc, LineSrc, SearchSrc, Src
from credlint.facts.deploy.types import EnvVar
from credlint.facts.values import Value


# A Helm/Jinja template expression.
TEMPLATE_EXPR = re.compile(r"\{\{-?.*?-?\}\}")


def loader():
    """PyYAML's safe loader, the C one when it is there."""
    return getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader


_NULL_TAG = "tag:yaml.org,2002:null"
_MERGE_TAG = "tag:yaml.org,2002:merge"


def pairs(node, depth: int = 0) -> List[Tuple[object, object]]:
    """Key/value node pairs of a mapping, with YAML merge keys (<<) applied."""
    if not isinstance(node, yaml.MappingNode) or depth > 20:
        return []
    if not any(isinstance(k, yaml.ScalarNode) and (k.value == "<<" or k.tag == _MERGE_TAG) for k, _v in node.value):
        return node.value
    own, merged = [], []
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and (key.tag == _MERGE_TAG or key.value == "<<"):
            sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
            for src in sources:
                merged.extend(pairs(src, depth + 1))
        else:
            own.append((key, value))
    seen = {k.value for k, _ in own if isinstance(k, yaml.ScalarNode)}
    out = list(own)
    for key, value in merged:
        kv = key.value if isinstance(key, yaml.ScalarNode) else None
        if kv not in seen:
            seen.add(kv)
            out.append((key, value))
    return out


def value_of(node, key: str):
    """The value node of `key` in a mapping node (None when absent or not a mapping)."""
    for k, v in pairs(node):
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return v
    return None


def scalar_text(node) -> Optional[str]:
    """A scalar node's text (None for null and for mappings and sequences)."""
    if isinstance(node, yaml.ScalarNode) and node.tag != _NULL_TAG:
        return node.value
    return None


def sequence_items(node) -> list:
    """The item nodes of a sequence node (none for anything else)."""
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


class YamlDoc:
    """One YAML document of a file: file positions of its nodes (`line0`: where the document starts)."""

    def __init__(self, lines: List[str], line0: int):
        self.lines = lines
        self.line0 = line0  # 0-based line of the chunk in the file

    def loc(self, node) -> Tuple[int, int]:
        col = node.start_mark.column + 1
        if isinstance(node, yaml.ScalarNode) and node.style in ("'", '"'):
            col += 1
        return node.start_mark.line + self.line0 + 1, col

    def source(self, node) -> str:
        """The file text a node spans (for nodes that are not scalars)."""
        l0, l1 = node.start_mark.line + self.line0, node.end_mark.line + self.line0
        if l0 == l1 and l0 < len(self.lines):
            return self.lines[l0][node.start_mark.column:node.end_mark.column]
        return "\n".join(self.lines[l0:l1 + 1])

    def scalar_src(self, node) -> Src:
        first = node.start_mark.line + self.line0
        if node.style == "|":
            indent = 0
            for k in range(first + 1, min(len(self.lines), first + 2000)):
                if self.lines[k].strip():
                    indent = len(self.lines[k]) - len(self.lines[k].lstrip(" "))
                    break
            return BlockSrc(node.value, first + 2, indent)
        if node.start_mark.line == node.end_mark.line:
            return LineSrc(node.value, first + 1,
                           node.start_mark.column + 1 + (1 if node.style in ("'", '"') else 0))
        return SearchSrc(self.lines, first, node.end_mark.line + self.line0,
                         (first + 1, node.start_mark.column + 1))


def yaml_word(doc: YamlDoc, node, host: str) -> Optional[Word]:
    """A scalar node as one command word (an item of an exec-form command list)."""
    text = scalar_text(node)
    if text is None:
        return None
    return Word(text, list(range(len(text))), doc.scalar_src(node), host_spans(text, host),
                quoted=node.style in ("'", '"'))


def yaml_argv(doc: YamlDoc, node, host: str) -> List[Word]:
    """The command words of a `command:`/`args:`/`entrypoint:` node (a list, or a string to split)."""
    if node is None:
        return []
    if isinstance(node, yaml.SequenceNode):
        return [w for w in (yaml_word(doc, item, host) for item in node.value) if w is not None]
    text = scalar_text(node)
    if text is None:
        return []
    words = [w for w in lex(text, doc.scalar_src(node), host != "exec") if isinstance(w, Word)]
    return words


def yaml_env(reader: Reader, doc: YamlDoc, key: str, line: int, col: int, vnode, host: str, owner: str) -> EnvVar:
    """Record the variable `key` set to a value node (`host`: what the reading tool substitutes)."""
    if vnode is None or (isinstance(vnode, yaml.ScalarNode) and vnode.tag == _NULL_TAG):
        return reader.env(key, line, col, None, scope="process", owner=owner)
    if not isinstance(vnode, yaml.ScalarNode):
        source = doc.source(vnode)
        if "{{" in source:
            return reader.env(key, line, col, source, scope="process", owner=owner, host_ref=True)
        return reader.env(key, line, col, None, scope="process", owner=owner,
                          value=(Value("dynamic"), "", [], False))
    raw = vnode.value
    spans = host_spans(raw, host)
    src = doc.scalar_src(vnode)
    return reader.env(key, line, col, raw, scope="process", owner=owner, host_ref=bool(spans),
                      ref=spans[0][2] if spans else None, value_loc=lambda o, t: src.locate(o, t))
