"""prefect.yaml (Prefect 2.x/3.x): its deployments, the templates in them, literal credentials.

Each `{{ prefect.blocks.SLUG.NAME[.KEY] }}`, `{{ prefect.variables.NAME }}` and `{{ $NAME }}`
becomes a ref with its position, the section it is in (`where`) and its deployment; a template
that names nothing is a CL000 finding of kind "template". Literal credentials (by their key's
name or their format) become entries CL203 judges: each `job_variables.env` entry (scope
"job-env", kept for its name whatever its value) and any other credential (scope
"deploy-setting"). Each build/push/pull step is a `Step` (its function and the shape of its
inputs). A file that does not parse is CL000, then read line by line for `env:` entries.
"""
from __future__ import annotations

import re
from typing import List, Optional, Set, Tuple

import yaml

from credlint.facts.deploy.core import Reader, sanitize_message
from credlint.facts.deploy.positions import token_pos
from credlint.facts.deploy.shapes import assess, clean
from credlint.facts.deploy.types import BlockRef, Deployment, DeployError, EnvRef, EnvVar, Step, VariableRef
from credlint.facts.deploy.yaml_lines import read_yaml_lines
from credlint.facts.deploy.yaml_nodes import YamlDoc, loader, pairs, scalar_text, value_of
from credlint.facts.naming import is_credential_env_name, is_credential_name, words
from credlint.prefect.deployments import (
    STEP_RESERVED, STEP_SECTIONS, invalid_template_message, step_function, templates,
)

_STR_TAG = "tag:yaml.org,2002:str"
# A value that is a name: lower-case words joined by "_", "-" or "." (`sandbox_password`, `db-creds`).
_NAME_LIKE = re.compile(r"[a-z][a-z0-9]*(?:[_\-.][a-z][a-z0-9]*)+")
# Node visits allowed per file: aliases can make a small file a huge tree ("billion laughs").
_MAX_VISITS = 200_000


def read_prefect_yaml(reader: Reader, text: str) -> None:
    """A prefect.yaml (or a file of its shape: `deployments:` and build/push/pull steps)."""
    lines = text.split("\n")
    try:
        root = yaml.compose(text, Loader=loader())
    except (yaml.YAMLError, ValueError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        why = sanitize_message(getattr(exc, "problem", "") or exc)
        reader.facts.errors.append(DeployError(f"does not parse as YAML ({why})", token_pos(line, col, 1)))
        _read_lines(reader, lines)
        return
    if root is None:
        return
    if not isinstance(root, yaml.MappingNode):
        reader.facts.errors.append(DeployError(
            "is not a mapping: Prefect reads build, push, pull and deployments from its top level",
            token_pos(*YamlDoc(lines, 0).loc(root), 1)))
        return
    doc = YamlDoc(lines, 0)
    bad = _unhashable_key(root)
    if bad is not None:
        reader.facts.errors.append(DeployError(
            "has a mapping or list where a key belongs (an unquoted {{ }} template?): Prefect cannot load it; "
            "quote templates (\"{{ prefect.blocks.secret.x }}\")", token_pos(*doc.loc(bad), 2)))
    _Walk(reader, doc).file(root)


def _unhashable_key(root):
    """The first key that is a mapping or a list (`key: {{ x }}` reads as a mapping in a mapping):
    PyYAML composes it, Prefect's `yaml.safe_load` refuses it."""
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen or len(seen) > _MAX_VISITS:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if not isinstance(key, yaml.ScalarNode):
                    return key
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return None


def _read_lines(reader: Reader, lines: List[str]) -> None:
    """The `env:` entries of a file that does not parse, as job environment (never a 1.x secret)."""
    before = len(reader.facts.env)
    read_yaml_lines(reader, lines, 0, len(lines))
    for var in reader.facts.env[before:]:
        if var.scope == "process":
            var.scope, var.secret, var.typo_of = "job-env", None, None


class _Walk:
    """One walk over a prefect.yaml's nodes: where it is (section, deployment, key path) and
    what it has recorded (entries at a position are recorded once, though aliases visit them again)."""

    def __init__(self, reader: Reader, doc: YamlDoc):
        self.reader = reader
        self.doc = doc
        self.seen: Set[Tuple[int, int]] = set()
        self.steps_seen: Set[Tuple[int, int]] = set()
        self.refs_seen: Set[Tuple[int, int, str, Optional[str]]] = set()
        self.visits = 0

    def file(self, root) -> None:
        definitions = None
        for knode, vnode in pairs(root):
            key = scalar_text(knode) or ""
            if key in STEP_SECTIONS:
                self.steps(vnode, key, None)
            elif key == "deployments":
                items = vnode.value if isinstance(vnode, yaml.SequenceNode) else []
                for index, item in enumerate(items):
                    self.deployment(item, index)
            elif key == "definitions":
                definitions = vnode
            else:
                self.values(vnode, "deployment", None, (key,), owner="prefect.yaml", node_key=knode)
        if definitions is not None:
            # Anchors for the deployments to use: their templates and entries count where they are
            # used (read above); what no deployment uses is still a credential in the file.
            self.values(definitions, "definitions", None, (), owner="definitions", refs=False)

    # ---- sections ------------------------------------------------------------------------

    def deployment(self, node, index: int) -> None:
        if not isinstance(node, yaml.MappingNode):
            return
        name_node = value_of(node, "name")
        written = scalar_text(name_node)
        name = clean(written) if written else f"deployments[{index}]"
        pos_node = name_node if written else node
        line, col = self.doc.loc(pos_node)
        work_pool = value_of(node, "work_pool")
        deployment = Deployment(
            name=name, path=self.reader.path, pos=token_pos(line, col, len(written or "")),
            entrypoint=_text(value_of(node, "entrypoint")), flow_name=_text(value_of(node, "flow_name")),
            work_pool=_text(value_of(work_pool, "name")) if isinstance(work_pool, yaml.MappingNode) else None,
            steps=[key for key in STEP_SECTIONS if value_of(node, key) is not None])
        self.reader.facts.deployments.append(deployment)
        owner = f"deployment {name}"
        for knode, vnode in pairs(node):
            key = scalar_text(knode) or ""
            if key in STEP_SECTIONS:
                self.steps(vnode, key, name)
            elif key == "work_pool":
                self.work_pool(vnode, deployment)
            elif key == "parameters":
                self.values(vnode, "parameters", name, (), owner=owner, label=("parameters",))
            else:
                self.values(vnode, "deployment", name, (key,), owner=owner, node_key=knode)

    def steps(self, node, section: str, deployment: Optional[str]) -> None:
        """A list of steps, each `{import.path.of.function: {inputs}}`."""
        owner = f"{section} step" + (f" of deployment {deployment}" if deployment else "")
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        for index, item in enumerate(items):
            if not isinstance(item, yaml.MappingNode):
                self.values(item, section, deployment, (), owner=owner)
                continue
            for knode, vnode in pairs(item):
                function = step_function(scalar_text(knode) or "step")
                self.step(knode, vnode, section, deployment, index)
                if isinstance(vnode, yaml.MappingNode):
                    for ik, iv in pairs(vnode):
                        key = scalar_text(ik) or ""
                        if key not in STEP_RESERVED:
                            self.values(iv, section, deployment, (key,), owner=f"{owner} {function}",
                                        label=(function,), node_key=ik)
                else:
                    self.values(vnode, section, deployment, (), owner=f"{owner} {function}", label=(function,))

    def step(self, knode, vnode, section: str, deployment: Optional[str], index: int) -> None:
        """The step's function and the shape of its inputs (once per position: aliases reach a
        step from several deployments, the first keeps it)."""
        written = scalar_text(knode)
        line, col = self.doc.loc(knode)
        if not written or (line, col) in self.steps_seen:
            return
        self.steps_seen.add((line, col))
        step = Step(function=clean(written), section=section, path=self.reader.path,
                    pos=token_pos(line, col, len(written)), deployment=deployment, index=index)
        for ik, iv in pairs(vnode):
            key = scalar_text(ik)
            if key is None or key in STEP_RESERVED:
                continue
            step.inputs.append(clean(key))
            if _unset(iv):
                step.nulls.append(clean(key))
            elif isinstance(iv, yaml.MappingNode):
                step.mappings[clean(key)] = [clean(k) for k, v in ((scalar_text(a), b) for a, b in pairs(iv))
                                             if k is not None and not _unset(v)]
        self.reader.facts.steps.append(step)

    def work_pool(self, node, deployment: Deployment) -> None:
        name = deployment.name
        owner = f"deployment {name}"
        for knode, vnode in pairs(node):
            key = scalar_text(knode) or ""
            if key != "job_variables":
                self.values(vnode, "work_pool", name, (key,), owner=owner, node_key=knode)
                continue
            for jk, jv in pairs(vnode):
                jkey = scalar_text(jk) or ""
                if jkey == "env" and isinstance(jv, yaml.MappingNode):
                    for ek, ev in pairs(jv):
                        self.job_env(ek, ev, deployment, owner)
                else:
                    self.values(jv, "job_variables", name, (jkey,), owner=owner, label=("job_variables",),
                                node_key=jk)

    def job_env(self, knode, vnode, deployment: Deployment, owner: str) -> None:
        """One variable of a deployment's job environment: kept by name, judged by CL203."""
        name = scalar_text(knode)
        if name is None:
            return
        if clean(name) not in deployment.env:
            deployment.env.append(clean(name))
        self.refs(vnode, "job_variables", deployment.name, f"env.{clean(name)}")
        self.record(knode, name, vnode, "job-env", owner, name)

    # ---- values ----------------------------------------------------------------------------

    def values(self, node, where: str, deployment: Optional[str], path: Tuple[str, ...], *, owner: str,
               label: Tuple[str, ...] = (), node_key=None, refs: bool = True, depth: int = 0) -> None:
        """Every template (`refs`) and literal credential below `node`; `path` is the key path from
        `where` (the field a ref names), `label` what names a credential's entry before it."""
        self.visits += 1
        if self.visits > _MAX_VISITS or depth > 60:
            if self.visits == _MAX_VISITS + 1:
                self.reader.problem(self.doc.loc(node)[0], "too many nodes (aliases), read partly")
            return
        if isinstance(node, yaml.MappingNode):
            for knode, vnode in pairs(node):
                key = scalar_text(knode)
                if key is not None:
                    self.values(vnode, where, deployment, path + (key,), owner=owner, label=label, node_key=knode,
                                refs=refs, depth=depth + 1)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.values(item, where, deployment, path + (f"[{index}]",), owner=owner, label=label,
                            refs=refs, depth=depth + 1)
        elif _is_str(node):
            if refs:  # a step's function names the field ("git_clone.access_token"), a section does not
                self.refs(node, where, deployment, _dotted(p for p in label + path if p != where))
            leaf = path[-1] if path else ""
            if node_key is None or leaf != scalar_text(node_key):
                return  # a list item, or a step's whole input: no key names it
            name = _dotted(label + path)
            self.record(node_key, name, node, "deploy-setting", owner, leaf, only_credentials=where)

    def refs(self, node, where: str, deployment: Optional[str], field_path: str) -> None:
        """The templates of a scalar value: one ref each, or a CL000 for one that names nothing."""
        text = scalar_text(node) if _is_str(node) else None
        if not text or "{{" not in text:
            return
        src = self.doc.scalar_src(node)
        facts = self.reader.facts
        for template in templates(text):
            line, col = src.locate(template.start, template.text)
            key = (line, col, template.kind, deployment)
            if key in self.refs_seen:
                continue
            self.refs_seen.add(key)
            pos = token_pos(line, col, len(template.text))
            whole = template.text == text.strip()
            common = dict(path=self.reader.path, pos=pos, where=where, deployment=deployment, field_path=field_path,
                          whole=whole)
            if template.kind == "block":
                facts.block_refs.append(BlockRef(slug=clean(template.slug), name=clean(template.name),
                                                 key=clean(template.key), **common))
            elif template.kind == "variable":
                facts.variable_refs.append(VariableRef(name=clean(template.name), **common))
            elif template.kind == "env":
                facts.env_refs.append(EnvRef(name=clean(template.name), **common))
            elif template.kind == "invalid":
                error = DeployError(invalid_template_message(template._replace(text=clean(template.text, "text"))),
                                    pos, kind="template")
                if error not in facts.errors:
                    facts.errors.append(error)

    def record(self, knode, name: str, vnode, scope: str, owner: str, leaf: str, *,
               only_credentials: Optional[str] = None) -> None:
        """An entry for the value node `vnode` at its key's position (once, however many aliases
        reach it); `only_credentials` (the section): only a literal credential, by its key's name
        or its format."""
        line, col = self.doc.loc(knode)
        if (line, col) in self.seen:
            return
        if _is_str(vnode):
            raw = vnode.value
            template = _first_ref(raw)
            value, shape, keys, _expands = assess(raw, host_ref=template is not None, ref=template)
            self.reader.judge(value, leaf, raw)
        else:
            value, shape, keys, _expands = assess(None)  # null, or nothing written
            if isinstance(vnode, yaml.ScalarNode) and scalar_text(vnode) is not None:
                value.kind = "num" if vnode.tag.endswith((":int", ":float")) else "bool" \
                    if vnode.tag.endswith(":bool") else "dynamic"
            elif vnode is not None and not isinstance(vnode, yaml.ScalarNode):
                value.kind = "dynamic"
        if only_credentials and not (value.is_literal and value.kind == "str" and
                                     (value.shaped or _credential(leaf, vnode.value, only_credentials))):
            return
        self.seen.add((line, col))
        key_text = scalar_text(knode) or ""
        self.reader.facts.env.append(EnvVar(
            name=clean(name), value=value, path=self.reader.path, pos=token_pos(line, col, len(key_text)),
            scope=scope, shape=shape, keys=keys, expands=False, owner=clean(owner, "owner")))


def _credential(leaf: str, raw: str, where: str) -> bool:
    """A key whose literal is a credential by its name. A flow parameter is named as Prefect names
    its parameters (`webhook_secret` names a secret) and often carries the name of one: a value of
    lower-case words (`sandbox_password`), or one of the key's own words (`password_parameter:
    password`), names something rather than authenticates."""
    if where != "parameters":
        return is_credential_env_name(leaf)
    if not is_credential_name(leaf):
        return False
    return not (_NAME_LIKE.fullmatch(raw) or raw.lower() in words(leaf))


def _dotted(parts) -> str:
    """A key path as written in messages: `a.b[0].c`."""
    return "".join(clean(p) if p.startswith("[") else "." + clean(p) for p in parts).lstrip(".")


def _first_ref(raw: str) -> Optional[str]:
    """What the value's first template names, when it has one (Prefect substitutes it)."""
    if "{{" in raw:
        for template in templates(raw):
            return template.text.strip("{} ")
    return None


def _unset(node) -> bool:
    """A value as good as none: null, nothing written, or an empty string."""
    return node is None or (isinstance(node, yaml.ScalarNode) and (scalar_text(node) is None or
                                                                    (_is_str(node) and node.value == "")))


def _is_str(node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _STR_TAG


def _text(node) -> Optional[str]:
    text = scalar_text(node)
    return clean(text) if text else None
