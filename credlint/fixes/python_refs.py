"""Unsafe fixes that take a hard-coded credential out of Python code and put a reference to it
in its place, named after the parameter it was given to: `PrefectSecret("SNOWFLAKE_PASSWORD")`
in a 1.x flow, `Secret("...").get()` in a 1.x task, `os.environ["AWS_SECRET_ACCESS_KEY"]` where
a 2.x/3.x block is built, and so on. The value is gone from the file; where the reference points
must then hold it, which is why these fixes are unsafe."""
from __future__ import annotations

import re
from typing import Optional, Tuple

import libcst as cst

from credlint.findings.report import Finding
from credlint.fixes import Edit, Source, fixer
from credlint.fixes.python import PythonFile, drop_element, named
from credlint.fixes.python_facts import facts_of
from credlint.prefect.blocks import builtin_block_catalogue
from credlint.prefect.catalogue import builtin_catalogue
from credlint.prefect.names import prefect_secret_name


def env_name(*words: str) -> str:
    """An environment variable's name from words: `aws_secret_access_key` -> AWS_SECRET_ACCESS_KEY,
    ("slack-token",) -> SLACK_TOKEN."""
    joined = "_".join(w for w in words if w)
    return re.sub(r"[^A-Za-z0-9]+", "_", joined).strip("_").upper()


def _literal(module: PythonFile, finding: Finding) -> Optional[cst.BaseExpression]:
    """The string literal (plain or implicitly concatenated, no f-string) at the finding's span."""
    for node in module.nodes_at(finding):
        if isinstance(node, cst.SimpleString) and isinstance(node.evaluated_value, str):
            return node
        if isinstance(node, cst.ConcatenatedString) and isinstance(node.evaluated_value, str):
            return node
    return None


def _place(module: PythonFile, node) -> Tuple[Optional[str], Optional[str], Optional[cst.Call]]:
    """(keyword, dict key, call) of a literal given as `call(keyword=...)` or
    `call(keyword={"key": ...})`; Nones where it is not."""
    parent = module.parents.get(node)
    key = None
    if isinstance(parent, cst.DictElement) and parent.value is node:
        key_node = parent.key
        if not isinstance(key_node, cst.SimpleString) or not isinstance(key_node.evaluated_value, str):
            return None, None, None
        key = key_node.evaluated_value
        node = module.parents.get(parent)
        parent = module.parents.get(node)
    if not isinstance(parent, cst.Arg) or parent.keyword is None or parent.value is not node:
        return None, None, None
    call = module.parents.get(parent)
    return parent.keyword.value, key, call if isinstance(call, cst.Call) else None


def _reference(module: PythonFile, node, code: str, imports: Optional[Tuple[str, ...]], name: str) -> Optional[Edit]:
    """The literal replaced by `code` (an expression), with the imports it needs (None: the name
    it uses is bound to something else here)."""
    if imports is None:
        return None
    expression = cst.parse_expression(code)
    return named(module.replace({node: lambda _: expression}, imports=imports), name)


def _environ(module: PythonFile, node, name: str) -> Optional[Edit]:
    if not re.match(r"[A-Z_]", name):
        return None  # nothing to name the variable after
    return _reference(module, node, f'os.environ["{name}"]', module.imports_for("os"), name)


@fixer("CL201")
def reference_instead_of_literal(finding: Finding, source: Source) -> Optional[Edit]:
    if not source.is_python:
        return None
    module = source.python_near(finding)
    node = _literal(module, finding)
    if node is None:
        return None
    facts = facts_of(source)
    if facts.model == "2":
        return _block_field(module, node, finding)
    keyword, key, call = _place(module, node)
    if keyword is None or call is None:
        return None
    entry = builtin_catalogue().lookup(finding.symbol)
    if entry is None or key is not None:
        return None  # a call outside the catalogue, or a value inside a dict argument: no name to derive
    name = env_name(keyword if keyword.lower().startswith(entry.integration.lower()) else
                    f"{entry.integration}_{keyword}")
    where = _given_at(facts, finding, keyword)
    if isinstance(call.func, cst.Attribute) and call.func.attr.value == "map":
        return None  # `.map` would map over the secret's characters unless it is wrapped in `unmapped`
    if where == "flow":  # a run-time argument in a flow: a task's result is resolved before the run
        imports = module.imports_for("PrefectSecret", "prefect.tasks.secrets", "prefect.tasks.secrets.base")
        return _reference(module, node, f'PrefectSecret("{name}")', imports, name)
    if where == "task":  # built or run inside a task's body: read at run time there
        imports = module.imports_for("Secret", "prefect.client", "prefect.client.secrets")
        return _reference(module, node, f'Secret("{name}").get()', imports, name)
    # At construction outside a task a task cannot be the argument, and reading the secret
    # there is build time (CL301): no mechanical fix.
    return None


def _given_at(facts, finding: Finding, keyword: str) -> Optional[str]:
    """"flow" for a run-time argument of a task in a flow block, "task" for one given inside a
    task's body, else None."""
    at = (finding.line, finding.column, finding.end_line, finding.end_column)

    def same(arg) -> bool:
        return arg is not None and (arg.pos.line, arg.pos.column, arg.pos.end_line, arg.pos.end_column) == at

    for flow in facts.flows:
        if any(same(use.run.get(keyword)) for use in flow.uses):
            return "flow"
    for call in facts.calls:
        if call.context == "task" and (same(call.init.get(keyword)) or same(call.run.get(keyword))):
            return "task"
    return None


def _block_field(module: PythonFile, node, finding: Finding) -> Optional[Edit]:
    """A 2.x/3.x block built with a literal (or given one later, `block.token = "..."`): the code
    that builds it reads the environment instead."""
    keyword, key, call = _place(module, node)
    if keyword is None:
        keyword = _attribute_set(module, node)
    if keyword is None:
        return None
    block = builtin_block_catalogue().lookup(finding.symbol)
    if block is not None and block.slug == "secret" and keyword == "value" and key is None:
        saved = _saved_as(module, call) if call is not None else None
        return _environ(module, node, env_name(saved or "secret_value"))
    return _environ(module, node, env_name(key if key is not None else keyword))


def _attribute_set(module: PythonFile, node) -> Optional[str]:
    """`field` of `block.field = <node>`."""
    assign = module.parents.get(node)
    if isinstance(assign, cst.Assign) and assign.value is node and len(assign.targets) == 1 and \
            isinstance(assign.targets[0].target, cst.Attribute):
        return assign.targets[0].target.attr.value
    return None


def _saved_as(module: PythonFile, call: cst.Call) -> Optional[str]:
    """The name in `Cls(...).save("name")`."""
    attribute = module.parents.get(call)
    save = module.parents.get(attribute)
    if isinstance(attribute, cst.Attribute) and attribute.attr.value in ("save", "asave") and \
            isinstance(save, cst.Call) and save.args and save.args[0].keyword is None:
        value = save.args[0].value
        if isinstance(value, cst.SimpleString) and isinstance(value.evaluated_value, str):
            return value.evaluated_value
    return None


@fixer("CL202")
def context_secret_from_environment(finding: Finding, source: Source) -> Optional[Edit]:
    if not source.is_python or not finding.secret:
        return None
    module = source.python_near(finding)
    if finding.symbol:  # a run config's env: its value goes to the agent, not into the code
        node = _literal(module, finding)
        element = module.parents.get(node) if node is not None else None
        if not isinstance(element, cst.DictElement) or element.value is not node or \
                not isinstance(element.key, cst.SimpleString):
            return None
        key = element.key.evaluated_value
        if not isinstance(key, str) or prefect_secret_name(key) != finding.secret:
            return None  # a credential variable that is no context secret: no agent convention to point to
        return named(drop_element(module, source, element), key)
    for node in module.nodes_at(finding):
        if isinstance(node, cst.Dict):  # a secret that is a mapping: secrets["AWS_CREDENTIALS"] = {...}
            names = {e.value: env_name(finding.secret, e.key.evaluated_value) for e in node.elements
                     if isinstance(e, cst.DictElement) and isinstance(e.key, cst.SimpleString)
                     and isinstance(e.key.evaluated_value, str) and _is_literal(e.value)}
            imports = module.imports_for("os")
            if not names or imports is None:
                return None
            changes = {value: _environ_of(name) for value, name in names.items()}
            return named(module.replace(changes, imports=imports), *names.values())
    node = _literal(module, finding)
    return _environ(module, node, env_name(finding.secret)) if node is not None else None


def _is_literal(node) -> bool:
    return isinstance(node, (cst.SimpleString, cst.ConcatenatedString)) and isinstance(node.evaluated_value, str)


def _environ_of(name: str):
    expression = cst.parse_expression(f'os.environ["{name}"]')
    return lambda _: expression
