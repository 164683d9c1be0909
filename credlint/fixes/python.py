"""Fixes of Python code as libcst codemods: find the node at the finding's exact span, transform
only it, and keep every other byte (formatting and comments) as it was."""
from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Mapping
from typing import Callable, Dict, List, Optional, Tuple, Type

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider
from libcst.metadata.position_provider import NEWLINE_RE, PositionProvidingCodegenState

from credlint.facts.python.parse import parse_module, unvalidated
from credlint.facts.python.positions import statement_offsets
from credlint.prefect.names import SECRETS_ENV_PREFIX, typo_secret_name
from credlint.findings.report import Finding
from credlint.fixes import Edit, Source, WholeModuleNeeded, fixer


# CL103: removed Prefect 0.x arguments whose 1.x replacement is the same value under a new name.
RENAMED_ARGUMENTS: Dict[Tuple[str, str], str] = {
    ("prefect.tasks.secrets.env_var.EnvVarSecret", "env_var"): "name",
}


class PythonFile:
    """A module parsed once, with each node's position and parent found when a fixer asks.

    A fix touches one top-level statement, so positions and parents are worked out for the
    statement that holds the finding only: libcst's positions for a whole file cost twice its
    parse, and `JSON`'s `fix_safety` asks for them on every fixable file of a cold run.

    `outlined` parses an outline of the file instead (`fixes.outline`): the same offsets, lines
    and columns, with the code far from a finding left out. Edits are made from the file's own
    `original` text; anything that would need the code left out raises `WholeModuleNeeded`."""

    def __init__(self, text: str, original: Optional[str] = None):
        self.text = text
        self.original = text if original is None else original
        self.is_outline = original is not None
        # Parsed here and held by nobody else: the wrapper need not copy it (a copy rebuilds
        # every node) to keep positions keyed by the nodes it resolves.
        self.wrapper = MetadataWrapper(parse_module(text), unsafe_skip_copy=True)
        self._offsets: Optional[List[Tuple[int, int]]] = None  # see `statement_spans`
        self._first_lines: Optional[List[int]] = None
        self._indexed: Dict[int, dict] = {}  # statement -> its nodes' positions, in libcst's order
        self._whole = False  # the whole module's positions and parents are known
        self.positions = Positions(self)
        self.parents = Parents(self)

    @classmethod
    def outlined(cls, text: str, first_line: int, last_line: int) -> Optional["PythonFile"]:
        """The file parsed as an outline that keeps lines `first_line`..`last_line` whole; None
        when no outline leaves anything out."""
        from credlint.fixes.outline import outline

        sparse = outline(text, first_line, last_line)
        return cls(sparse, original=text) if sparse is not None else None

    def keeps(self, first_line: int, last_line: int) -> bool:
        """Lines `first_line`..`last_line` lie in one top-level statement, as the file has it."""
        index = self._statement_on(first_line)
        if index is None or self._statement_on(last_line) != index:
            return False
        start, end = self.statement_spans()[index]
        return self.original[start:end] == self.text[start:end]

    def statement_spans(self) -> List[Tuple[int, int]]:
        """Where each top-level statement's code starts and ends in the text."""
        if self._offsets is None:
            self._offsets = statement_offsets(self.wrapper.module)
        return self._offsets

    def _statement_on(self, line: int) -> Optional[int]:
        """The top-level statement whose text holds `line` (1-based), or None."""
        if self._first_lines is None:
            firsts, at, line_no = [], 0, 1
            for start, _ in self.statement_spans():
                line_no += len(NEWLINE_RE.findall(self.text, at, start))
                firsts.append(line_no)
                at = start
            self._first_lines = firsts
        index = bisect.bisect_right(self._first_lines, line) - 1
        if index < 0:
            return None  # the module's header (its leading comments)
        start, end = self.statement_spans()[index]
        end = min(end, len(self.text))  # libcst ends the last statement with a newline the file may lack
        breaks = len(NEWLINE_RE.findall(self.text, start, end))
        ends_line = end > start and self.text[end - 1] in "\r\n"
        last = self._first_lines[index] + breaks - (1 if ends_line else 0)
        return index if line <= last else None  # else the module's footer

    def _index(self, index: Optional[int]) -> bool:
        """Positions and parents of one top-level statement's nodes (False: where libcst would
        not place them as the whole module does, which the caller then works out instead)."""
        if self._whole:
            return True
        if index is None:
            return False
        if index in self._indexed:
            return True
        module = self.wrapper.module
        statement = module.body[index]
        start, end = self.statement_spans()[index]
        provider = PositionProvider()
        state = PositionProvidingCodegenState(default_indent=module.default_indent,
                                              default_newline=module.default_newline, provider=provider)
        state.line = 1 + len(NEWLINE_RE.findall(self.text, 0, start))  # a top-level statement starts a line
        statement._codegen(state)
        if "".join(state.tokens) != self.text[start:end]:
            return False  # not where the text has it
        self.positions.known.update(provider._computed)
        self.parents.known[statement] = module
        self.parents.add_subtree(statement)
        self._indexed[index] = provider._computed
        return True

    def index_all(self) -> None:
        """Every node's position and parent (what `_index` gives for one statement)."""
        if self._whole:
            return
        if self.is_outline:
            raise WholeModuleNeeded
        self.positions.known = dict(positions_of(self.wrapper))
        self.parents.known = {}
        self.parents.add_subtree(self.wrapper.module)
        self._whole = True

    def nodes_at(self, finding: Finding, kind: Type[cst.CSTNode] = cst.CSTNode) -> List[cst.CSTNode]:
        """Nodes of `kind` spanning exactly the finding (libcst columns are 0-based)."""
        want = (finding.line, finding.column - 1, finding.end_line, finding.end_column - 1)
        index = self._statement_on(finding.line)
        if not self._index(index):
            self.index_all()
        candidates = self.positions.known if self._whole else self._indexed[index]
        out = []
        for node, where in candidates.items():
            if isinstance(node, kind) and (where.start.line, where.start.column, where.end.line,
                                           where.end.column) == want:
                out.append(node)
        return out

    def replace(self, changes: Dict[cst.CSTNode, Callable[[cst.CSTNode], cst.CSTNode]],
                imports: Tuple[str, ...] = ()) -> Optional[Edit]:
        """One edit: the module transformed at the given nodes, as the smallest changed span;
        `imports` are statements (`import os`, from `imports_for`) put after the module's
        docstring and `__future__` imports."""

        class Transform(cst.CSTTransformer):
            def on_leave(self, original, updated):
                change = changes.get(original)
                return change(updated) if change is not None else updated

        done, edit = self._replace_in_statement(changes, Transform(), imports)
        if done:
            return edit
        if self.is_outline:
            raise WholeModuleNeeded
        with unvalidated():  # every node is rebuilt; `edit_for` parses what comes out
            new = self.wrapper.module.visit(Transform())
        if imports:
            body = list(new.body)
            at = _import_slot(body)
            body[at:at] = [cst.parse_statement(line + "\n") for line in imports]
            new = new.with_changes(body=body)
        return smallest_edit(self.text, new.code)

    def _replace_in_statement(self, changes: Dict[cst.CSTNode, Callable[[cst.CSTNode], cst.CSTNode]],
                              transform: cst.CSTTransformer, imports: Tuple[str, ...]) -> Tuple[bool, Optional[Edit]]:
        """`replace` when every change is inside one top-level statement: only that statement is
        rebuilt and generated again, at its place in the text, and the imports are put where
        the module's rebuild would put them (a whole-module rebuild costs more than the parse,
        for every fix). (False, None) where that cannot be done exactly."""
        module = self.wrapper.module
        indexes = {self._statement_index(node) for node in changes}
        if len(indexes) != 1:
            return False, None
        index = indexes.pop()
        if index is None or (index == len(module.body) - 1 and not module.has_trailing_newline):
            return False, None  # the module's code would drop the statement's last newline
        at = _import_slot(list(module.body)) if imports else index
        if at > index:
            return False, None  # imports after the changed statement: the whole module decides
        start, end = self.statement_spans()[index]
        statement = module.body[index]
        if index not in self._indexed and self.text[start:end] != module.code_for_node(statement):
            return False, None  # not where the text has it (`_index` checked it already): the whole module instead
        if self.original[start:end] != self.text[start:end]:
            return False, None  # an outline that changed the statement's own lines
        with unvalidated():  # the statement's nodes are rebuilt; `edit_for` parses what comes out
            new = statement.visit(transform)
        if not isinstance(new, cst.CSTNode):  # the statement removed, or made several
            return False, None
        slot = self.statement_spans()[at][0]
        added = "".join(module.code_for_node(cst.parse_statement(line + "\n")) for line in imports)
        text = self.original  # an outline's offsets are the file's: what lies between is the file's own
        edit = smallest_edit(text[slot:end], added + text[slot:start] + module.code_for_node(new))
        if edit is not None:
            edit.start += slot
            edit.end += slot
        return True, edit

    def _statement_index(self, node: cst.CSTNode) -> Optional[int]:
        """Which of the module's top-level statements holds `node` (None: the header or footer)."""
        module = self.wrapper.module
        parent = self.parents.get(node)
        while parent is not None and parent is not module:
            node, parent = parent, self.parents.get(parent)
        if parent is None:
            return None
        for index, statement in enumerate(module.body):
            if statement is node:
                return index
        return None

    def bound_by(self, name: str) -> Optional[str]:
        """What binds `name` at module level: "import" (`import os`, `import os.path`), the module
        a `from ... import` takes it from, "other" (an assignment, a def, an alias), or None."""
        found = None
        for statement in self.wrapper.module.body:
            if isinstance(statement, (cst.FunctionDef, cst.ClassDef)) and statement.name.value == name:
                return "other"
            for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else ():
                if isinstance(small, cst.Import):
                    for alias in small.names:
                        bound = _dotted(alias.asname.name) if alias.asname else _dotted(alias.name).split(".")[0]
                        if bound == name:
                            found = "import" if alias.asname is None else "other"
                elif isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                    for alias in small.names:
                        bound = _dotted(alias.asname.name) if alias.asname else _dotted(alias.name)
                        if bound == name:
                            source = _dotted(small.module) if small.module is not None and not small.relative else ""
                            found = source if alias.asname is None and source else "other"
                elif isinstance(small, (cst.Assign, cst.AnnAssign)):
                    targets = small.targets if isinstance(small, cst.Assign) else [small]
                    if any(isinstance(t.target, cst.Name) and t.target.value == name for t in targets):
                        return "other"
        return found

    def imports_for(self, name: str, *modules: str) -> Optional[Tuple[str, ...]]:
        """The import statements a fix must add to use `name` from `modules[0]` (or `import os`
        for a module name): () when it is bound already, None when it is bound to something else."""
        bound = self.bound_by(name)
        if bound is None:
            return (f"from {modules[0]} import {name}",) if modules else (f"import {name}",)
        return () if bound in (modules or ("import",)) else None


def _dotted(node) -> str:
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return node.value if isinstance(node, cst.Name) else ""


def positions_of(wrapper: MetadataWrapper):
    """`wrapper.resolve(PositionProvider)`, without the batch visit `resolve` makes even when no
    batchable provider is asked for (it rebuilds every node of the file, for nothing): the
    provider's own generation, as `resolve` calls it. libcst's own way if that ever fails."""
    try:
        return PositionProvider()._gen(wrapper)
    except Exception:  # noqa: BLE001 - a libcst whose internals moved
        return wrapper.resolve(PositionProvider)


_FIELDS: Dict[type, Tuple[str, ...]] = {}


class Positions(Mapping):
    """`PythonFile.positions`: each node's libcst position (`CodeRange`), worked out for the
    statement that holds a node when it is asked for, for the whole module when iterated."""

    def __init__(self, module: PythonFile):
        self.module = module
        self.known: Dict[cst.CSTNode, object] = {}

    def __getitem__(self, node: cst.CSTNode):
        found = self.known.get(node)
        if found is None:
            self.module.index_all()  # a node nobody indexed (the fixers ask about nodes near a finding)
            found = self.known[node]
        return found

    def __iter__(self):
        self.module.index_all()
        return iter(self.known)

    def __len__(self) -> int:
        self.module.index_all()
        return len(self.known)


class Parents:
    """`PythonFile.parents`: each node's parent, for the statements indexed so far and, asked
    about any other node, for the whole module."""

    def __init__(self, module: PythonFile):
        self.module = module
        self.known: Dict[cst.CSTNode, cst.CSTNode] = {}

    def get(self, node: cst.CSTNode, default=None):
        found = self.known.get(node)
        if found is None and not self.module._whole and node is not self.module.wrapper.module:
            self.module.index_all()
            found = self.known.get(node)
        return default if found is None else found

    def add_subtree(self, root: cst.CSTNode) -> None:
        known = self.known
        stack = [root]
        while stack:
            node = stack.pop()
            for child in _child_nodes(node):
                known[child] = node
                stack.append(child)



def _child_nodes(node: cst.CSTNode) -> List[cst.CSTNode]:
    """Every child node (libcst's `children`, whitespace included), read from the fields."""
    names = _FIELDS.get(type(node))
    if names is None:
        names = _FIELDS[type(node)] = tuple(f.name for f in dataclasses.fields(node))
    out: List[cst.CSTNode] = []
    for name in names:
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            out.append(value)
        elif isinstance(value, (list, tuple)):
            out.extend(item for item in value if isinstance(item, cst.CSTNode))
    return out


def _import_slot(body: list) -> int:
    """Where a new import goes: after the docstring and `from __future__` imports."""
    at = 0
    for index, statement in enumerate(body):
        first = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) and statement.body else None
        docstring = index == 0 and isinstance(first, cst.Expr) and isinstance(first.value, cst.SimpleString)
        future = isinstance(first, cst.ImportFrom) and first.module is not None and _dotted(first.module) == "__future__"
        if not (docstring or future):
            break
        at = index + 1
    return at


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


@fixer("CL106")
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


@fixer("CL103")
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


@fixer("CL104")
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
        return named(drop_element(module, source, element), value)
    return None


def drop_element(module: PythonFile, source: Source, element) -> Optional[Edit]:
    """An element taken out of its list, tuple, set or dict: with its lines when it has them to
    itself, else with its comma."""
    container = module.parents.get(element)
    return _whole_lines(module, source, element) or module.replace({container: _without(container, element)})


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


def named(edit: Optional[Edit], *names: str) -> Optional[Edit]:
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


@fixer("CL403")
def await_block_load(finding: Finding, source: Source) -> Optional[Edit]:
    if not source.is_python:
        return None
    module = source.python()
    for node in module.nodes_at(finding, cst.Call):
        call = _load_call(node)
        if call is None:
            continue
        parent = module.parents.get(call)
        # `await` binds looser than a trailer: `await X.load("x").get()` would await `.get()`
        wrapped = (isinstance(parent, (cst.Attribute, cst.Subscript)) and parent.value is call) or \
            (isinstance(parent, cst.Call) and parent.func is call)
        paren = dict(lpar=[cst.LeftParen()], rpar=[cst.RightParen()]) if wrapped else {}
        return module.replace({call: lambda c: cst.Await(expression=c, **paren)})
    return None


def _load_call(node: cst.Call) -> Optional[cst.Call]:
    """The `X.load(...)` call of a finding's span: the call itself, or the one `.get()` is called on."""
    func = node.func
    if isinstance(func, cst.Attribute) and func.attr.value == "load":
        return node
    if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Call):
        return _load_call(func.value)
    return None


@fixer("CL101")
def add_storage_secret(finding: Finding, source: Source) -> Optional[Edit]:
    # Only the "declared nowhere" warning: with a `server` backend or an inventory that lacks the
    # name, listing it on storage provides nothing (the storage loads it from the same place).
    if not source.is_python or not finding.secret or not finding.flow or finding.severity != "warning" or \
            finding.message.startswith("storage of"):
        return None
    from credlint.fixes.python_facts import facts_of

    facts = facts_of(source)
    flows = [f for f in facts.flows if f.name == finding.flow and f.storage is not None]
    if facts.model == "2" or len(flows) != 1:
        return None
    module = source.python()
    pos = facts.calls[flows[0].storage].pos
    for call in module.nodes_at(_At(pos), cst.Call):
        return named(_with_secret(module, source, call, finding.secret), finding.secret)
    return None


class _At:
    """A span in a finding's shape, for `nodes_at`."""

    def __init__(self, pos):
        self.line, self.column, self.end_line, self.end_column = pos.line, pos.column, pos.end_line, pos.end_column


def _with_secret(module: PythonFile, source: Source, call: cst.Call, name: str) -> Optional[Edit]:
    """`secrets=[..., "NAME"]` on a storage call: appended to a literal list, or a new keyword."""
    given = [a for a in call.args if a.keyword is not None and a.keyword.value == "secrets"]
    if not given:
        if any(a.star for a in call.args):
            return None  # `**options` may hold secrets already
        keyword = cst.Arg(keyword=cst.Name("secrets"), value=cst.List([cst.Element(cst.SimpleString(f'"{name}"'))]),
                          equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
        return _line_after(module, source, call.args, f'secrets=["{name}"]') or \
            module.replace({call: lambda c: c.with_changes(args=_appended(list(c.args), keyword))})
    listed = given[0].value
    if not isinstance(listed, (cst.List, cst.Tuple)) or any(_string(e.value) == name for e in listed.elements):
        return None
    element = cst.Element(cst.SimpleString(f'"{name}"'))
    return _line_after(module, source, listed.elements, f'"{name}"') or \
        module.replace({listed: lambda l: l.with_changes(elements=_appended(list(l.elements), element))})


def _line_after(module: PythonFile, source: Source, items, text: str) -> Optional[Edit]:
    """In a list written one item a line, `text` as a new line after the last item's (its comment
    stays with it), in the same indentation and with the same trailing comma; else None."""
    if not items:
        return None
    last = items[-1]
    first = last.keyword if isinstance(last, cst.Arg) and last.keyword is not None else last.value
    start = module.positions[first].start
    end = module.positions[last.comma if isinstance(last.comma, cst.Comma) else last.value].end
    begin, stop = source.offset(start.line, 1), source.offset(end.line, end.column + 1)
    if begin is None or stop is None:
        return None
    indent = source.text[begin:begin + start.column]
    newline = source.text.find("\n", stop)
    rest = source.text[stop:newline]
    if indent.strip() or newline < 0 or (rest.strip() and not rest.strip().startswith("#")):
        return None
    if isinstance(last.comma, cst.Comma):
        return Edit(newline + 1, newline + 1, f"{indent}{text},\n")
    return Edit(stop, newline, f",{rest}\n{indent}{text}")


def _appended(items: list, item) -> list:
    """`items` on one line with `item` last."""
    if not items:
        return [item]
    last = items[-1]
    return items[:-1] + [last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))] + \
        [item.with_changes(comma=last.comma)]
