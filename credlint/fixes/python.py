"""Fixes of Python code as libcst codemods: find the node at the finding's exact span, transform
only it, and keep every other byte (formatting and comments) as it was."""
from __future__ import annotations

from typing import Callable, Dict, List, Optional, Tuple, Type

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from credlint.prefect.names import SECRETS_ENV_PREFIX, typo_secret_name
from credlint.findings.report import Finding
from credlint.fixes import SAFE, UNSAFE, Edit, Source, fixer


# CL103: removed Prefect 0.x arguments whose 1.x replacement is the same value under a new name.
RENAMED_ARGUMENTS: Dict[Tuple[str, str], str] = {
    ("prefect.tasks.secrets.env_var.EnvVarSecret", "env_var"): "name",
}


class PythonFile:
    """A module parsed once, with the position of every node and each node's parent."""

    def __init__(self, text: str):
        self.text = text
        self.wrapper = MetadataWrapper(cst.parse_module(text))
        self.positions = self.wrapper.resolve(PositionProvider)
        self.parents: Dict[cst.CSTNode, cst.CSTNode] = {}
        parents = self.parents

        class Parents(cst.CSTVisitor):
            def on_visit(self, node: cst.CSTNode) -> bool:
                for child in node.children:
                    parents[child] = node
                return True

        self.wrapper.module.visit(Parents())

    def nodes_at(self, finding: Finding, kind: Type[cst.CSTNode] = cst.CSTNode) -> List[cst.CSTNode]:
        """Nodes of `kind` spanning exactly the finding (libcst columns are 0-based)."""
        want = (finding.line, finding.column - 1, finding.end_line, finding.end_column - 1)
        out = []
        for node, where in self.positions.items():
            if isinstance(node, kind) and (where.start.line, where.start.column, where.end.line,
                                           where.end.column) == want:
                out.append(node)
        return out

    def replace(self, changes: Dict[cst.CSTNode, Callable[[cst.CSTNode], cst.CSTNode]]) -> Optional[Edit]:
        """One edit: the module transformed at the given nodes, as the smallest changed span."""

        class Transform(cst.CSTTransformer):
            def on_leave(self, original, updated):
                change = changes.get(original)
                return change(updated) if change is not None else updated

        new = self.wrapper.module.visit(Transform()).code
        return smallest_edit(self.text, new)


def smallest_edit(old: str, new: str) -> Optional[Edit]:
    if old == new:
        return None
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    return Edit(start, end_old, new[start:end_new])


def _string(node: cst.CSTNode) -> Optional[str]:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


@fixer("CL106", SAFE, "every misspelt variable name in Python code and in deployment files")
def rename_secret_variable(finding: Finding, source: Source) -> Optional[Edit]:
    if not source.is_python:
        from credlint.fixes.text import rename_secret_variable_text

        return rename_secret_variable_text(finding, source)
    if not finding.secret:
        return None
    module = source.python()
    for node in module.nodes_at(finding, cst.SimpleString):
        old = _string(node)
        if old is None or typo_secret_name(old) != finding.secret or "\\" in node.value:
            continue
        new_name = SECRETS_ENV_PREFIX + finding.secret
        edit = module.replace({node: lambda n: n.with_changes(value=f"{n.prefix}{n.quote}{new_name}{n.quote}")})
        if edit is not None:
            edit.names = (old, new_name)
        return edit
    return None


@fixer("CL103", SAFE, "a removed Prefect 0.x argument that 1.x only renamed (EnvVarSecret(env_var=) is name=)")
def rename_removed_argument(finding: Finding, source: Source) -> Optional[Edit]:
    if not source.is_python or not finding.symbol:
        return None
    module = source.python()
    for node in module.nodes_at(finding):
        arg = module.parents.get(node)
        if not isinstance(arg, cst.Arg) or arg.value is not node or arg.keyword is None:
            continue
        new = RENAMED_ARGUMENTS.get((finding.symbol, arg.keyword.value))
        call = module.parents.get(arg)
        if new is None or not isinstance(call, cst.Call):
            continue
        if any(a.keyword is None or a.keyword.value == new for a in call.args):
            return None  # positional arguments or the new name already given: not mechanical
        return module.replace({arg: lambda a: a.with_changes(keyword=cst.Name(new))})
    return None


@fixer("CL104", UNSAFE, "a name in a storage `secrets=[...]` list or a key of a run config's `env={...}` "
                        "in Python code, and a line of a config.toml `[context.secrets]` table")
def remove_unused_secret(finding: Finding, source: Source) -> Optional[Edit]:
    if not source.is_python:
        from credlint.fixes.text import remove_unused_secret_text

        return remove_unused_secret_text(finding, source)
    if not finding.secret:
        return None
    module = source.python()
    for node in module.nodes_at(finding):
        value = _string(node)
        if value is None or not (value == finding.secret or value.endswith("__" + finding.secret)):
            continue
        element = module.parents.get(node)
        container = module.parents.get(element)
        if isinstance(element, cst.Element) and element.value is node and \
                isinstance(container, (cst.List, cst.Tuple, cst.Set)):
            if isinstance(container, cst.Set) and len(container.elements) == 1:
                return None  # `{}` would be a dict
        elif not (isinstance(element, cst.DictElement) and element.key is node and isinstance(container, cst.Dict)):
            continue
        edit = _whole_lines(module, source, element) or module.replace({container: _without(container, element)})
        return _named(edit, value)
    return None


def _whole_lines(module: PythonFile, source: Source, element) -> Optional[Edit]:
    """An element alone on its lines (a list written one item a line) goes with its lines, and
    with the comment after it, which is about it; the other items and their comments stay."""
    last = element.comma if isinstance(element.comma, cst.Comma) else element.value
    start = module.positions[element.key if isinstance(element, cst.DictElement) else element.value].start
    end = module.positions[last].end
    begin = source.offset(start.line, 1)
    stop = source.offset(end.line, end.column + 1)
    if begin is None or stop is None or source.text[begin:begin + start.column].strip():
        return None
    newline = source.text.find("\n", stop)
    rest = source.text[stop:newline if newline >= 0 else len(source.text)]
    if rest.strip() and not rest.strip().startswith("#"):
        return None
    return Edit(begin, newline + 1 if newline >= 0 else len(source.text), "")


def _named(edit: Optional[Edit], *names: str) -> Optional[Edit]:
    if edit is not None:
        edit.names = tuple(names)
    return edit


def _without(container, element) -> Callable[[cst.CSTNode], cst.CSTNode]:
    """A change that drops `element` (found by identity in the original container)."""
    index = next(i for i, e in enumerate(container.elements) if e is element)
    return lambda updated: updated.with_changes(elements=_drop(updated.elements, index, updated))


def _drop(elements, index: int, container) -> list:
    items = list(elements)
    if not 0 <= index < len(items):
        return items
    removed = items.pop(index)
    if items and index == len(items):  # the last one went: the new last one takes its comma
        items[-1] = items[-1].with_changes(comma=removed.comma)
    if isinstance(container, cst.Tuple) and len(items) == 1 and items[0].comma is cst.MaybeSentinel.DEFAULT:
        items[0] = items[0].with_changes(comma=cst.Comma())  # ("A",) stays a tuple
    return items
