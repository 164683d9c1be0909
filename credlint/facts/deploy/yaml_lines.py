"""YAML that does not parse (a Helm template): read line by line for agent commands and env entries."""
from __future__ import annotations

import re
from typing import List, Optional, Tuple

from credlint.facts.deploy.core import Reader
from credlint.facts.deploy.lexer import Word, host_spans, lex
from credlint.facts.deploy.positions import LineSrc
from credlint.facts.deploy.shell import launch
from credlint.facts.deploy.types import EnvVar
from credlint.facts.deploy.yaml_nodes import TEMPLATE_EXPR
from credlint.facts.values import Value


def read_yaml_lines(reader: Reader, lines: List[str], a: int, b: int) -> None:
    """A YAML document that does not parse: `prefect agent` commands, and under `env:` /
    `environment:` / `variables:` the `- name: X` + `value:` pairs, `- KEY=VALUE` items and
    `KEY: value` entries."""
    env: List[EnvVar] = []
    agents_at: List[Tuple[int, int]] = []
    owner = f"document at line {a + 1}"
    block: Optional[int] = None  # indentation of the env: key
    entry: Optional[int] = None  # indentation of the block's entries
    i = a
    while i < b:
        line = lines[i]
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        i += 1
        if not stripped or stripped.startswith(("#", "{{")):
            continue
        at = re.search(r"prefect[\"',\s]+agent\b", line)
        if at:
            agents_at.append((i - 1, at.start()))
        if block is not None and indent <= block and not (indent == block and stripped.startswith("- ")):
            block = entry = None
        if re.match(r"^(-\s+)?(env|environment|variables):\s*$", stripped):
            block, entry = indent + (2 if stripped.startswith("-") else 0), None
            continue
        if block is None:
            continue
        if entry is None:
            entry = indent
        if indent != entry:
            continue
        m = re.match(r"^-\s+name:\s*(.+?)\s*$", stripped)
        if m:
            name = _unquote_yaml(m.group(1))
            col = line.index(m.group(1)) + 1 + (1 if m.group(1)[:1] in "'\"" else 0)
            raw: Optional[str] = ""
            host, ref = False, None
            for j in range(i, min(b, i + 8)):
                nxt = lines[j]
                if len(nxt) - len(nxt.lstrip()) <= indent:
                    break
                vm = re.match(r"^\s*value:\s*(.*?)\s*$", nxt)
                if vm:
                    raw = _unquote_yaml(vm.group(1))
                    spans = host_spans(raw, "k8s")
                    host, ref = bool(spans), (spans[0][2] if spans else None)
                    break
                if re.match(r"^\s*valueFrom:", nxt):
                    raw = None
                    break
            if raw is None:
                env.append(reader.env(name, i, col, None, scope="process", owner=owner,
                                      value=(Value("reference"), "reference", [], False)))
            else:
                env.append(reader.env(name, i, col, raw, scope="process", owner=owner, host_ref=host, ref=ref))
            continue
        m = re.match(r"^-\s+([A-Za-z_][A-Za-z0-9_]*)(=(.*))?$", stripped) or \
            re.match(r"^([A-Za-z_][A-Za-z0-9_]*):(\s+(.*?))?\s*$", stripped)
        if m:
            name = m.group(1)
            raw = _unquote_yaml(m.group(3)) if m.group(3) is not None else None
            spans = host_spans(raw or "", "compose")
            env.append(reader.env(name, i, line.index(name) + 1, raw, scope="process", owner=owner,
                                  host_ref=bool(spans), ref=spans[0][2] if spans else None))
    for line_idx, start in agents_at:
        line = lines[line_idx]
        text = line[start:].rstrip().rstrip("\"',]").rstrip()
        text = TEMPLATE_EXPR.sub(lambda m: "x" * len(m.group(0)), text)
        src = LineSrc(text, line_idx + 1, start + 1)
        words = [w for w in lex(text, src, True) if isinstance(w, Word)]
        words = [Word(w.text.strip("\"',"), w.offsets, w.src, w.subst) for w in words]
        launch(reader, words, env, owner)


def _unquote_yaml(text: str) -> str:
    text = text.split(" #", 1)[0].strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text
