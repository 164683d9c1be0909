"""docker compose files: each service's `environment`, `env_file` and the agent its command starts."""
from __future__ import annotations

from typing import List

import yaml

from credlint.facts.deploy.core import Reader
from credlint.facts.deploy.lexer import host_spans
from credlint.facts.deploy.shell import launch
from credlint.facts.deploy.types import EnvVar
from credlint.facts.deploy.yaml_nodes import (
    YamlDoc, pairs, scalar_text, sequence_items, value_of, yaml_argv, yaml_env,
)


def read_compose(reader: Reader, doc: YamlDoc, root) -> None:
    """A compose document (file format 1, without `services:`, too)."""
    services = value_of(root, "services")
    if not isinstance(services, yaml.MappingNode):
        if isinstance(root, yaml.MappingNode) and any(
                isinstance(v, yaml.MappingNode) and (value_of(v, "image") or value_of(v, "build"))
                for _k, v in pairs(root)):
            services = root  # compose file format 1
        else:
            return
    for knode, svc in pairs(services):
        name = scalar_text(knode) or "?"
        if not isinstance(svc, yaml.MappingNode):
            continue
        owner = f"service {name}"
        env: List[EnvVar] = []
        envnode = value_of(svc, "environment")
        if isinstance(envnode, yaml.MappingNode):
            for k, v in pairs(envnode):
                key = scalar_text(k)
                if key is None:
                    continue
                line, col = doc.loc(k)
                env.append(yaml_env(reader, doc, key, line, col, v, "compose", owner))
        else:
            for item in sequence_items(envnode):
                text = scalar_text(item)
                if text is None:
                    continue
                key, eq, raw = text.partition("=")
                line, col = doc.loc(item)
                if not eq:
                    env.append(reader.env(key, line, col, None, scope="process", owner=owner))
                    continue
                spans = [s for s in host_spans(text, "compose") if s[1] > len(key) + 1]
                src = doc.scalar_src(item)
                vstart = len(key) + 1
                env.append(reader.env(key, line, col, raw, scope="process", owner=owner, host_ref=bool(spans),
                                      ref=spans[0][2] if spans else None,
                                      value_loc=lambda o, t, s=src, v=vstart: s.locate(v + o, t)))
        links = []
        ef = value_of(svc, "env_file")
        for item in ([ef] if isinstance(ef, yaml.ScalarNode) else sequence_items(ef)):
            if isinstance(item, yaml.MappingNode):
                item = value_of(item, "path")
            target = scalar_text(item)
            if target:
                links.append(reader.link(owner, target, "env_file", doc.loc(item)))
        argv = yaml_argv(doc, value_of(svc, "entrypoint"), "compose") + \
            yaml_argv(doc, value_of(svc, "command"), "compose")
        launch(reader, argv, env, owner, links)
