"""Kubernetes manifests: Secrets and ConfigMaps, and each container's `env`, `envFrom` and command."""
from __future__ import annotations

import base64
import binascii
from typing import List

import yaml

from credlint.facts.deploy.core import Reader
from credlint.facts.deploy.lexer import host_spans
from credlint.facts.deploy.shapes import safe_ref
from credlint.facts.deploy.shell import launch
from credlint.facts.deploy.types import EnvVar
from credlint.facts.deploy.yaml_nodes import (
    YamlDoc, pairs, scalar_text, sequence_items, value_of, yaml_argv, yaml_env,
)
from credlint.facts.values import Value


def read_k8s(reader: Reader, doc: YamlDoc, root) -> None:
    """A Kubernetes object (a `List` of them too): every pod template's containers, wherever it is nested."""
    kind = scalar_text(value_of(root, "kind")) or ""
    meta = (scalar_text(value_of(value_of(root, "metadata"), "name")) or "?").replace("__credlint_tpl__", "{{}}")
    if kind in ("Secret", "ConfigMap"):
        owner = f"{kind.lower()}/{meta}"
        for section in ("stringData", "data"):
            node = value_of(root, section)
            for k, v in pairs(node):
                key = scalar_text(k)
                raw = scalar_text(v)
                if key is None:
                    continue
                line, col = doc.loc(k)
                if kind == "Secret" and section == "data" and raw is not None and "{{" not in raw:
                    try:
                        raw = base64.b64decode(raw.strip(), validate=False).decode("utf-8")
                    except (binascii.Error, ValueError, UnicodeDecodeError):
                        pass
                if raw is None:
                    reader.env(key, line, col, None, scope="process", owner=owner)
                else:
                    spans = host_spans(raw, "k8s")
                    reader.env(key, line, col, raw, scope="process", owner=owner, host_ref=bool(spans),
                               ref=spans[0][2] if spans else None)
        return
    if kind == "List":
        for item in sequence_items(value_of(root, "items")):
            read_k8s(reader, doc, item)
        return
    for spec, container_key in _pod_specs(root):
        for container in sequence_items(value_of(spec, container_key)):
            if isinstance(container, yaml.MappingNode):
                _container(reader, doc, container, f"{kind or 'object'}/{meta}")


def _pod_specs(root):
    out = []
    seen = set()
    stack = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen or depth > 30:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            found = False
            for key in ("initContainers", "containers", "ephemeralContainers"):
                if isinstance(value_of(node, key), yaml.SequenceNode):
                    out.append((node, key))
                    found = True
            if found:
                continue
            for _k, v in pairs(node):
                stack.append((v, depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            for v in node.value:
                stack.append((v, depth + 1))
    out.sort(key=lambda item: item[0].start_mark.line)
    return out


def _container(reader: Reader, doc: YamlDoc, container, prefix: str) -> None:
    name = (scalar_text(value_of(container, "name")) or "?").replace("__credlint_tpl__", "{{}}")
    owner = f"container {prefix}/{name}"
    env: List[EnvVar] = []
    for item in sequence_items(value_of(container, "env")):
        knode = value_of(item, "name")
        key = scalar_text(knode)
        if key is None:
            continue
        line, col = doc.loc(knode)
        value_from = value_of(item, "valueFrom")
        if isinstance(value_from, yaml.MappingNode):
            ref = None
            for src_key, label in (("secretKeyRef", "secret"), ("configMapKeyRef", "configmap"),
                                   ("fieldRef", "field"), ("resourceFieldRef", "resource")):
                target = value_of(value_from, src_key)
                if target is not None:
                    parts = [scalar_text(value_of(target, k)) for k in ("name", "key", "fieldPath", "resource")]
                    ref = "/".join([label] + [p for p in parts if p])
                    break
            env.append(reader.env(key, line, col, None, scope="process", owner=owner,
                                  value=(Value("reference", ref=safe_ref(ref)), "reference", [], False)))
            continue
        vnode = value_of(item, "value")
        if vnode is None:
            env.append(reader.env(key, line, col, "", scope="process", owner=owner))
        else:
            env.append(yaml_env(reader, doc, key, line, col, vnode, "k8s", owner))
    links = []
    for item in sequence_items(value_of(container, "envFrom")):
        for ref_key, label in (("secretRef", "secret"), ("configMapRef", "configmap")):
            target = value_of(item, ref_key)
            tname = scalar_text(value_of(target, "name")) if target is not None else None
            if tname:
                links.append(reader.link(owner, f"{label}/{tname}", label, doc.loc(value_of(target, "name")),
                                         relative=False))
    argv = yaml_argv(doc, value_of(container, "command"), "k8s") + \
        yaml_argv(doc, value_of(container, "args"), "k8s")
    launch(reader, argv, env, owner, links)
