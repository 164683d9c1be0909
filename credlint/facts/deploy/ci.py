"""CI workflows (GitHub Actions, GitLab CI and other YAML): env blocks inherited down the tree, and scripts.

Env keys (`env:`, `variables:`) set variables for everything below them; script keys (`run:`,
`script:`) are shell scripts run with that environment. Generic YAML with a `prefect agent`
command in any string is read the same way.
"""
from __future__ import annotations

import re
from typing import List

import yaml

from credlint.facts.deploy.core import Reader
from credlint.facts.deploy.lexer import NAME, host_spans
from credlint.facts.deploy.shell import read_script
from credlint.facts.deploy.types import EnvVar
from credlint.facts.deploy.yaml_nodes import YamlDoc, pairs, scalar_text, sequence_items, value_of, yaml_env


def read_ci(reader: Reader, doc: YamlDoc, root, dialect: str, any_scalar: bool = False) -> None:
    """A CI document in `dialect` ("github", "gitlab" or "generic"); `any_scalar`: any string may
    hold an agent command (generic YAML)."""
    _CiWalk(reader, dialect, any_scalar)._ci_node(doc, root, [], [], set(), 0)


class _CiWalk:
    """One walk over a CI document: the dialect's env and script keys, and the reader it records to."""

    def __init__(self, reader: Reader, dialect: str, any_scalar: bool) -> None:
        self.reader = reader
        self.ci_dialect = dialect
        self.ci_env_keys = {"github": ("env",), "gitlab": ("variables",)}.get(
            dialect, ("env", "environment", "variables"))
        self.ci_script_keys = {"github": ("run",), "gitlab": ("script", "before_script", "after_script")}.get(
            dialect, ("run", "script", "before_script", "after_script", "command", "commands", "cmd"))
        self.ci_host = {"github": "github", "gitlab": "gitlab"}.get(dialect, "compose")
        self.ci_any = any_scalar

    def _ci_owner(self, path: List[str]) -> str:
        if self.ci_dialect == "github":
            if len(path) >= 2 and path[0] == "jobs":
                return f"job {path[1]}"
            return "workflow"
        if self.ci_dialect == "gitlab":
            return f"job {path[0]}" if path else "pipeline"
        return "/".join(path[:2]) or "document"

    def _ci_node(self, doc, node, stack: List[EnvVar], path: List[str], seen, depth: int) -> None:
        if depth > 60 or id(node) in seen:
            return
        owner = self._ci_owner(path)
        if isinstance(node, yaml.MappingNode):
            seen.add(id(node))
            local: List[EnvVar] = []
            for k, v in pairs(node):
                if scalar_text(k) in self.ci_env_keys:
                    local.extend(self._ci_env(doc, v, owner))
            env = stack + local
            for k, v in pairs(node):
                key = scalar_text(k) or "?"
                if key in self.ci_env_keys:
                    continue
                child = path + [key]
                if key in self.ci_script_keys:
                    scripts = [v] if isinstance(v, yaml.ScalarNode) else \
                        [x for x in sequence_items(v) if isinstance(x, yaml.ScalarNode)]
                    for item in scripts:
                        if scalar_text(item):
                            read_script(self.reader, item.value, doc.scalar_src(item), env, self._ci_owner(child))
                    if isinstance(v, yaml.MappingNode):
                        self._ci_node(doc, v, env, child, seen, depth + 1)
                    continue
                self._ci_node(doc, v, env, child, seen, depth + 1)
        elif isinstance(node, yaml.SequenceNode):
            seen.add(id(node))
            for index, item in enumerate(node.value):
                self._ci_node(doc, item, stack, path + [str(index)] if len(path) < 2 else path, seen, depth + 1)
        elif self.ci_any and isinstance(node, yaml.ScalarNode) and re.search(r"prefect\s+agent", node.value):
            read_script(self.reader, node.value, doc.scalar_src(node), stack, owner)

    def _ci_env(self, doc: YamlDoc, v, owner: str) -> List[EnvVar]:
        out: List[EnvVar] = []
        host = self.ci_host
        if isinstance(v, yaml.MappingNode):
            for ek, ev in pairs(v):
                name = scalar_text(ek)
                if name is None:
                    continue
                if isinstance(ev, yaml.MappingNode) and value_of(ev, "value") is not None:
                    ev = value_of(ev, "value")  # GitLab {value:, description:}
                line, col = doc.loc(ek)
                out.append(yaml_env(self.reader, doc, name, line, col, ev, host, owner))
        elif isinstance(v, yaml.SequenceNode):
            for item in v.value:
                text = scalar_text(item)
                if text and "=" in text and NAME.match(text.split("=", 1)[0]):
                    name, _, raw = text.partition("=")
                    line, col = doc.loc(item)
                    spans = [sp for sp in host_spans(text, host) if sp[1] > len(name) + 1]
                    out.append(self.reader.env(name, line, col, raw, scope="process", owner=owner,
                                               host_ref=bool(spans), ref=spans[0][2] if spans else None))
                elif isinstance(item, yaml.MappingNode) and scalar_text(value_of(item, "name")):
                    knode = value_of(item, "name")
                    line, col = doc.loc(knode)
                    out.append(yaml_env(self.reader, doc, knode.value, line, col, value_of(item, "value"), host, owner))
        return out
