"""YAML deployment files: each `---` document composed and handed to its reader (compose, Kubernetes, CI).

A document that does not parse is read again with its `{{ }}` template expressions set aside, and
failing that line by line (`yaml_lines`); either way a problem says so.
"""
from __future__ import annotations

import posixpath

import yaml

from credlint.facts.deploy.ci import read_ci
from credlint.facts.deploy.compose import read_compose
from credlint.facts.deploy.core import Reader, sanitize_message
from credlint.facts.deploy.kubernetes import read_k8s
from credlint.facts.deploy.yaml_lines import read_yaml_lines
from credlint.facts.deploy.yaml_nodes import TEMPLATE_EXPR, YamlDoc, loader, value_of


def read_yaml(reader: Reader, text: str, kind: str) -> None:
    """A YAML file of `kind` ("compose", "ci-yaml", "k8s", or "yaml": told apart per document)."""
    lines = text.split("\n")
    starts = [0]
    for idx, line in enumerate(lines):
        if idx and line.startswith("---") and (len(line) == 3 or line[3] in " \t\r"):
            starts.append(idx)
    starts.append(len(lines))
    for a, b in zip(starts, starts[1:]):
        chunk = "\n".join(lines[a:b])
        if not chunk.strip():
            continue
        root, doc = None, YamlDoc(lines, a)
        try:
            root = yaml.compose(chunk, Loader=loader())
        except (yaml.YAMLError, RecursionError, ValueError) as exc:
            mark = getattr(exc, "problem_mark", None)
            line = (mark.line + a + 1) if mark is not None else a + 1
            if "{{" in chunk:
                try:
                    root = yaml.compose(_neutralize(chunk), Loader=loader())
                    doc = YamlDoc(lines, a)
                    reader.problem(line, "template does not parse as YAML, read with its {{ }} "
                                         "expressions set aside")
                except (yaml.YAMLError, RecursionError, ValueError):
                    root = None
            if root is None:
                reader.problem(line, f"does not parse as YAML ({sanitize_message(getattr(exc, 'problem', '') or exc)}),"
                                     " read line by line")
                read_yaml_lines(reader, lines, a, b)
                continue
        if root is None:
            continue
        try:
            _yaml_doc(reader, doc, root, kind)
        except RecursionError:
            reader.problem(a + 1, "document nested too deeply, skipped")


def _yaml_doc(reader: Reader, doc: YamlDoc, root, kind: str) -> None:
    if kind == "compose":
        read_compose(reader, doc, root)
    elif kind == "ci-yaml":
        low = reader.path.lower()
        dialect = "github" if ".github/workflows/" in "/" + low else \
            "gitlab" if posixpath.basename(low).startswith(".gitlab-ci") else "generic"
        read_ci(reader, doc, root, dialect)
    elif kind == "k8s":
        read_k8s(reader, doc, root)
    else:
        if isinstance(root, yaml.MappingNode) and value_of(root, "apiVersion") is not None \
                and value_of(root, "kind") is not None:
            read_k8s(reader, doc, root)
        elif isinstance(root, yaml.MappingNode) and isinstance(value_of(root, "services"), yaml.MappingNode):
            read_compose(reader, doc, root)
        else:
            read_ci(reader, doc, root, "generic", any_scalar=True)


def _neutralize(chunk: str) -> str:
    """Helm/Jinja: blank lines that are only template actions, replace inline expressions."""
    out = []
    for line in chunk.split("\n"):
        stripped = line.strip()
        if stripped.startswith("{{") and not TEMPLATE_EXPR.sub("", stripped).strip():
            out.append("")
        else:
            out.append(TEMPLATE_EXPR.sub("__credlint_tpl__", line))
    return "\n".join(out)
