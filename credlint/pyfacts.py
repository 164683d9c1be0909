"""One libcst pass over a Python file that turns it into ModuleFacts.

The walk resolves imports, aliases and module constants itself (libcst's scope and
qualified-name providers cost several times the parse) and only descends into what can hold a
Prefect construct. Positions are computed afterwards for the recorded nodes only.
"""
from __future__ import annotations

import dataclasses
import io
import re
import sys
import tokenize
from typing import Dict, Iterable, List, Optional, Tuple

import libcst as cst

from .catalogue import Catalogue, Entry
from .naming import is_credential_name
from .facts import (
    Arg,
    CallFact,
    ContextWrite,
    FlowFact,
    FlowPatch,
    ModuleFacts,
    ParameterFact,
    ParseError,
    Pos,
    Routine,
    SecretRead,
    Use,
)
from .facts import module_name_for
from .positions import fill_positions
from .suppressions import scan_suppressions
from .values import Value, is_placeholder, looks_like_credential

FLOW = {"prefect.Flow", "prefect.core.Flow", "prefect.core.flow.Flow"}
TASK_BASE = {"prefect.Task", "prefect.core.Task", "prefect.core.task.Task"}
TASK_DECORATOR = {"prefect.task", "prefect.utilities.tasks.task", "prefect.core.task"}
PARAMETER = {"prefect.Parameter", "prefect.core.Parameter", "prefect.core.parameter.Parameter"}
SECRET_API = {"prefect.client.Secret", "prefect.client.secrets.Secret"}
CONTEXT = {"prefect.context", "prefect.utilities.context.context"}
CONTEXT_SECRETS = {c + ".secrets" for c in CONTEXT}
GETENV = {"os.getenv", "os.environ.get"}
DOTENV = {"dotenv.dotenv_values", "dotenv.main.dotenv_values"}
ENVIRON = "os.environ"
PARTIAL = {"functools.partial"}
SECRET_TASKS = {"prefect.tasks.secrets.base.PrefectSecret"}
ENV_SECRET_TASKS = {"prefect.tasks.secrets.env_var.EnvVarSecret"}
CONTEXT_PREFIX = "PREFECT__CONTEXT__SECRETS__"

# Modules that only exist in Prefect 2.x and later: code importing them is not Prefect 1.x.
PREFECT2_MODULES = (
    "prefect.flows", "prefect.deployments", "prefect.filesystems", "prefect.blocks",
    "prefect.infrastructure", "prefect.server", "prefect.states", "prefect.task_runners",
    "prefect.runtime", "prefect.variables", "prefect.artifacts", "prefect.futures",
)
PREFECT1_MODULES = (
    "prefect.tasks", "prefect.storage", "prefect.run_configs", "prefect.engine",
    "prefect.utilities", "prefect.client", "prefect.core", "prefect.environments", "prefect.agent",
)

# Names of the first positional parameters, where code passes them positionally.
POSITIONAL = {
    "prefect.tasks.secrets.base.PrefectSecret": ("name",),
    "prefect.tasks.secrets.env_var.EnvVarSecret": ("name",),
}

# Arguments whose string value is a name (kept in clear), besides the catalogue's name params.
NAME_ARGS = {"name", "secrets", "labels", "smtp_type", "task_role_arn", "service_account_name",
             "service_account", "execution_role_arn", "image", "bucket", "repo", "path"}

_SKIP_FIELD_WORDS = ("whitespace", "lpar", "rpar", "comma", "semicolon", "colon", "equal", "dot",
                     "newline", "lbracket", "rbracket", "lbrace", "rbrace", "operator", "indent",
                     "header", "footer", "leading_lines", "lines_after_decorators", "trailing")
_FIELDS: Dict[type, Tuple[str, ...]] = {}


def _child_fields(tp: type) -> Tuple[str, ...]:
    names = _FIELDS.get(tp)
    if names is None:
        names = tuple(
            f.name for f in dataclasses.fields(tp) if not any(w in f.name for w in _SKIP_FIELD_WORDS)
        )
        _FIELDS[tp] = names
    return names


def _children(node: cst.CSTNode) -> Iterable[cst.CSTNode]:
    for name in _child_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            yield value
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, cst.CSTNode):
                    yield item


class V:
    """An expression's value during the pass (may hold real text: never leaves this module)."""

    __slots__ = ("kind", "s", "items", "elements", "ref", "call", "flow", "qual", "dyn", "node")

    def __init__(self, kind, s=None, items=None, elements=None, ref=None, call=None, flow=None,
                 qual=None, dyn=False, node=None):
        self.kind = kind
        self.s = s
        self.items = items  # list of (key text, V, key node, value node)
        self.elements = elements  # list of (V, node)
        self.ref = ref
        self.call = call
        self.flow = flow
        self.qual = qual
        self.dyn = dyn
        self.node = node


DYN = V("dynamic")


class _Ctx:
    __slots__ = ("kind", "owner", "flow")

    def __init__(self, kind: str, owner: Optional[str], flow: Optional[int]):
        self.kind = kind  # module | flow | task | function | class
        self.owner = owner
        self.flow = flow


class Extractor:
    def __init__(self, source: str, module: cst.Module, facts: ModuleFacts, catalogue: Catalogue):
        self.source = source
        self.tree = module
        self.f = facts
        self.cat = catalogue
        self.scopes: List[Dict[str, tuple]] = [{}]
        self.scope_kinds: List[str] = ["module"]
        self.ctx: List[_Ctx] = [_Ctx("module", None, None)]
        self.wanted: Dict[int, List[Pos]] = {}
        self.statements: set = set()  # top-level statements holding wanted nodes
        self.statement = 0

    # ----- positions -------------------------------------------------------------------------
    def want(self, node: Optional[cst.CSTNode]) -> Pos:
        pos = Pos()
        if node is not None:
            self.wanted.setdefault(id(node), []).append(pos)
            self.statements.add(self.statement)
        return pos

    # ----- scopes ----------------------------------------------------------------------------
    def bind(self, name: str, binding: tuple) -> None:
        self.scopes[-1][name] = binding
        if len(self.scopes) == 1:
            kind = binding[0]
            if kind == "import":
                self.f.imports[name] = binding[1]
            elif kind == "value" and binding[1].kind == "qual" and binding[1].qual:
                self.f.imports[name] = binding[1].qual  # an alias of something importable
            else:
                self.f.imports.pop(name, None)
            if kind == "def":
                self.f.definitions[name] = binding[2]
            else:
                self.f.definitions.pop(name, None)
            value = binding[1] if kind == "value" else None
            if value is not None and value.kind in ("str", "bytes"):
                # Kept for other modules that import it (redacted: kind and flags only).
                self.f.constants[name] = self.export(value, safe=False, node=value.node,
                                                     mask=is_credential_name(name))
            else:
                self.f.constants.pop(name, None)
            if value is not None and value.kind == "instance":
                self.f.instances[name] = value.call
                self.f.calls[value.call].var = self.f.calls[value.call].var or name
            else:
                self.f.instances.pop(name, None)
            if value is not None and value.kind == "flow":
                self.f.flow_vars[name] = value.flow
                self.f.flows[value.flow].var = self.f.flows[value.flow].var or name
            else:
                self.f.flow_vars.pop(name, None)

    def lookup(self, name: str) -> Optional[tuple]:
        last = len(self.scopes) - 1
        for index in range(last, -1, -1):
            if index != last and self.scope_kinds[index] == "class":
                continue
            found = self.scopes[index].get(name)
            if found is not None:
                return found
        return None

    @property
    def here(self) -> _Ctx:
        return self.ctx[-1]

    def qualify(self, name: str) -> str:
        owner = self.here.owner
        base = owner if owner else self.f.module
        return f"{base}.{name}" if base else name

    # ----- statements ------------------------------------------------------------------------
    def run(self) -> None:
        for index, stmt in enumerate(self.tree.body):
            self.statement = index
            self.stmt(stmt)
        fill_positions(self.tree, self.source, self.wanted, self.statements)

    def suite(self, body) -> None:
        if isinstance(body, cst.IndentedBlock):
            for stmt in body.body:
                self.stmt(stmt)
        elif isinstance(body, cst.SimpleStatementSuite):
            for small in body.body:
                self.small(small)
        elif isinstance(body, (list, tuple)):
            for stmt in body:
                self.stmt(stmt)

    def stmt(self, node: cst.CSTNode) -> None:
        if isinstance(node, cst.SimpleStatementLine):
            for small in node.body:
                self.small(small)
        elif isinstance(node, cst.FunctionDef):
            self.function_def(node)
        elif isinstance(node, cst.ClassDef):
            self.class_def(node)
        elif isinstance(node, cst.With):
            self.with_stmt(node)
        elif isinstance(node, cst.For):
            self.for_stmt(node)
        else:
            self.generic_stmt(node)

    def generic_stmt(self, node: cst.CSTNode) -> None:
        for child in _children(node):
            if isinstance(child, cst.BaseSuite):
                self.suite(child)
            elif isinstance(child, (cst.BaseCompoundStatement, cst.SimpleStatementLine)):
                self.stmt(child)
            elif isinstance(child, cst.BaseSmallStatement):
                self.small(child)
            elif isinstance(child, cst.BaseExpression):
                self.ev(child)
            else:
                self.generic_stmt(child)

    def small(self, node: cst.CSTNode) -> None:
        if isinstance(node, cst.Expr):
            self.ev(node.value)
        elif isinstance(node, cst.Assign):
            value = self.ev(node.value)
            for target in node.targets:
                self.assign(target.target, value, node.value)
        elif isinstance(node, cst.AnnAssign):
            if node.value is not None:
                self.assign(node.target, self.ev(node.value), node.value)
        elif isinstance(node, cst.AugAssign):
            self.ev(node.value)
            if isinstance(node.target, cst.Name):
                self.bind(node.target.value, ("value", DYN))
        elif isinstance(node, cst.Import):
            self.import_(node)
        elif isinstance(node, cst.ImportFrom):
            self.import_from(node)
        elif isinstance(node, cst.Return) and node.value is not None:
            value = self.ev(node.value)
            routine = self.f.routines.get(self.here.owner or "")
            if value.kind == "instance" and routine is not None:
                routine.returns.append(value.call)
        else:
            for child in _children(node):
                if isinstance(child, cst.BaseExpression):
                    self.ev(child)

    # imports --------------------------------------------------------------------------------
    def _mark_module(self, module: str) -> None:
        if module == "prefect" or module.startswith("prefect."):
            self.f.uses_prefect = True
            if any(module == m or module.startswith(m + ".") for m in PREFECT2_MODULES):
                self.f.prefect2 = True
            elif any(module == m or module.startswith(m + ".") for m in PREFECT1_MODULES):
                self.f.prefect1 = True
        elif module.startswith("prefect_"):
            self.f.prefect2 = True

    def import_(self, node: cst.Import) -> None:
        for alias in node.names:
            dotted = _dotted(alias.name)
            if not dotted:
                continue
            self._mark_module(dotted)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.bind(alias.asname.name.value, ("import", dotted))
            else:
                head = dotted.split(".", 1)[0]
                self.bind(head, ("import", head))

    def import_from(self, node: cst.ImportFrom) -> None:
        module = _dotted(node.module) if node.module is not None else ""
        level = len(node.relative)
        if level:
            parts = self.f.module.split(".") if self.f.module else []
            if not self.f.is_package and parts:
                parts = parts[:-1]
            if level > 1:
                parts = parts[: len(parts) - (level - 1)] if level - 1 <= len(parts) else []
            base = ".".join(parts)
            module = f"{base}.{module}" if base and module else (base or module)
        if not module:
            return
        self._mark_module(module)
        if isinstance(node.names, cst.ImportStar):
            for name, qual in self.cat.module_members(module).items():
                self.bind(name, ("import", qual))
            return
        for alias in node.names:
            name = _dotted(alias.name)
            if not name:
                continue
            if module == "prefect" and name == "flow":
                self.f.prefect2 = True
            if module == "prefect" and name in ("Flow", "Parameter"):
                self.f.prefect1 = True
            local = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self.bind(local, ("import", f"{module}.{name}"))

    # definitions ----------------------------------------------------------------------------
    def function_def(self, node: cst.FunctionDef) -> None:
        is_task = False
        handlers: List[int] = []
        for deco in node.decorators:
            expr = deco.decorator
            target = expr.func if isinstance(expr, cst.Call) else expr
            qual = self.ev(target).qual if isinstance(target, (cst.Name, cst.Attribute)) else None
            if qual in TASK_DECORATOR:
                is_task = True
                if isinstance(expr, cst.Call):
                    for arg in expr.args:
                        value = self.ev(arg.value)
                        if arg.keyword is not None and arg.keyword.value == "state_handlers":
                            handlers.extend(self.handlers(value))
                        elif arg.keyword is not None and arg.keyword.value == "result" and value.kind == "instance":
                            handlers.append(value.call)
            elif isinstance(expr, cst.Call):
                for arg in expr.args:
                    self.ev(arg.value)
        for param in node.params.params + node.params.kwonly_params + node.params.posonly_params:
            if param.default is not None:
                self.ev(param.default)
        name = node.name.value
        enclosing = self.here
        kind = "task" if is_task or enclosing.kind == "task" else "function"
        if enclosing.kind == "task" and self.scope_kinds[-1] == "class":
            # A method of a Task subclass: what it does belongs to the task class itself.
            qual = enclosing.owner
            self.f.routines[qual].handlers.extend(handlers)
        else:
            qual = self.qualify(name)
            routine = Routine(qualname=qual, is_task=kind == "task", pos=Pos(), handlers=handlers)
            self.f.routines[qual] = routine
        self.bind(name, ("def", self.qualify(name), "task" if is_task else "function"))
        self.scopes.append({})
        self.scope_kinds.append("function")
        self.ctx.append(_Ctx(kind, qual, enclosing.flow if kind == "function" else None))
        for param in node.params.params + node.params.kwonly_params + node.params.posonly_params:
            self.bind(param.name.value, ("value", DYN))
        self.suite(node.body)
        self.ctx.pop()
        self.scopes.pop()
        self.scope_kinds.pop()

    def class_def(self, node: cst.ClassDef) -> None:
        is_task = False
        for base in node.bases:
            value = self.ev(base.value)
            if value.qual in TASK_BASE:
                is_task = True
            elif value.kind == "qual" and value.qual:
                binding = self.lookup(_dotted(base.value) or "")
                if binding and binding[0] == "def" and binding[2] == "taskclass":
                    is_task = True
        name = node.name.value
        qual = self.qualify(name)
        scope: Dict[str, tuple] = {}
        self.bind(name, ("def", qual, "taskclass" if is_task else "class", scope))
        if is_task:
            self.f.routines[qual] = Routine(qualname=qual, is_task=True, pos=Pos())
        self.scopes.append(scope)
        self.scope_kinds.append("class")
        self.ctx.append(_Ctx("task" if is_task else "class", qual, None))
        self.suite(node.body)
        self.ctx.pop()
        self.scopes.pop()
        self.scope_kinds.pop()

    def for_stmt(self, node: cst.For) -> None:
        iterable = self.ev(node.iter)
        if isinstance(node.target, cst.Name):
            if iterable.kind == "list" and iterable.elements and all(
                v.kind in ("flow", "qual") for v, _ in iterable.elements
            ):
                self.bind(node.target.value, ("value", V("flowset", elements=iterable.elements)))
            else:
                self.bind(node.target.value, ("value", DYN))
        self.suite(node.body)
        if node.orelse is not None:
            self.suite(node.orelse.body)

    def with_stmt(self, node: cst.With) -> None:
        flows: List[int] = []
        for item in node.items:
            value = self.ev(item.item)
            if item.asname is not None:
                self.assign(item.asname.name, value, item.item)
            if value.kind == "flow":
                flows.append(value.flow)
        if flows:
            owner = self.here.owner
            self.ctx.append(_Ctx("flow", owner, flows[-1]))
            self.suite(node.body)
            self.ctx.pop()
        else:
            self.suite(node.body)

    # assignments ----------------------------------------------------------------------------
    def assign(self, target: cst.CSTNode, value: V, value_node: cst.CSTNode) -> None:
        if isinstance(target, cst.Name):
            self.bind(target.value, ("value", value))
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                inner = element.value
                if isinstance(inner, cst.Name):
                    self.bind(inner.value, ("value", DYN))
        elif isinstance(target, cst.Attribute):
            base = self.ev(target.value)
            attr = target.attr.value
            if attr in ("storage", "run_config") and value.kind == "instance":
                self.attach(base, attr, value.call, target)
            elif attr in ("storage", "run_config") and _ref(value):
                self.attach(base, attr, None, target, ref=_ref(value))
            elif attr == "state_handlers" and base.kind == "flow":
                self.f.flows[base.flow].handlers.extend(self.handlers(value))
        elif isinstance(target, cst.Subscript):
            base = self.ev(target.value)
            key = self._subscript_key(target)
            if base.qual in CONTEXT_SECRETS:
                self.context_write(key, value, "context_assign", target, value_node)
            elif base.qual == ENVIRON and key and key.upper().startswith(CONTEXT_PREFIX):
                self.context_write(key[len(CONTEXT_PREFIX):], value, "environ", target, value_node)

    def attach(self, base: V, attr: str, call_id: Optional[int], node: cst.CSTNode, ref: Optional[str] = None) -> None:
        if base.kind == "flow":
            flow = self.f.flows[base.flow]
            setattr(flow, attr, call_id)
            setattr(flow, attr + "_ref", ref)
        elif base.kind == "qual" and base.qual:
            self.f.patches.append(FlowPatch(target=base.qual, attr=attr, call=call_id, pos=self.want(node), ref=ref))
        elif base.kind == "flowset":
            for element, _ in base.elements:
                self.attach(element, attr, call_id, node, ref)

    def context_write(self, name: Optional[str], value: V, via: str, node, value_node) -> None:
        exported = self.export(value, safe=False, node=value_node)
        self.f.context_writes.append(
            ContextWrite(name=name, value=exported, via=via, pos=self.want(node), value_pos=self.want(value_node))
        )

    def _subscript_key(self, node: cst.Subscript) -> Optional[str]:
        if len(node.slice) != 1:
            return None
        index = node.slice[0].slice
        if isinstance(index, cst.Index):
            value = self.ev(index.value)
            if value.kind == "str":
                return value.s
        return None

    # ----- expressions -----------------------------------------------------------------------
    def ev(self, node: cst.CSTNode) -> V:
        if isinstance(node, cst.Name):
            return self.name(node)
        if isinstance(node, cst.Call):
            return self.call(node)
        if isinstance(node, cst.Attribute):
            base = self.ev(node.value)
            attr = node.attr.value
            if base.kind == "qual" and base.qual:
                return V("qual", qual=f"{base.qual}.{attr}")
            if base.kind == "class" and isinstance(base.ref, dict):
                found = base.ref.get(attr)
                if found and found[0] == "value":
                    return found[1]
            return DYN
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            if isinstance(node, cst.ConcatenatedString):
                left, right = self.ev(node.left), self.ev(node.right)
                if left.kind == right.kind and left.kind in ("str", "bytes"):
                    return V(left.kind, s=left.s + right.s, node=node)
                return DYN
            value = _plain_string(node.value)
            if value is None:
                try:
                    value = node.evaluated_value
                except Exception:  # noqa: BLE001 - malformed escapes are not our concern
                    return DYN
            if isinstance(value, bytes):
                return V("bytes", s=value.decode("latin-1"), node=node)
            return V("str", s=value, node=node)
        if isinstance(node, cst.FormattedString):
            parts: List[str] = []
            known = True
            for part in node.parts:
                if isinstance(part, cst.FormattedStringText):
                    parts.append(part.value)
                else:
                    inner = self.ev(part.expression)
                    if inner.kind == "str" and part.format_spec is None and part.conversion is None:
                        parts.append(inner.s)
                    elif inner.kind == "num" and part.format_spec is None:
                        parts.append(inner.s)
                    else:
                        known = False
            return V("str", s="".join(parts), node=node) if known else DYN
        if isinstance(node, (cst.Integer, cst.Float, cst.Imaginary)):
            return V("num", s=node.value, node=node)
        if isinstance(node, cst.BinaryOperation):
            left, right = self.ev(node.left), self.ev(node.right)
            if isinstance(node.operator, cst.Add) and left.kind == right.kind == "str":
                return V("str", s=left.s + right.s, node=node)
            if isinstance(node.operator, cst.Modulo) and left.kind == "str":
                args = [v for v, _ in right.elements] if right.kind == "list" else [right]
                if all(a.kind in ("str", "num") for a in args):
                    try:
                        return V("str", s=left.s % tuple(a.s for a in args), node=node)
                    except (TypeError, ValueError):
                        return DYN
            return DYN
        if isinstance(node, cst.Dict):
            items = []
            dyn = False
            for element in node.elements:
                if isinstance(element, cst.DictElement):
                    key = self.ev(element.key)
                    value = self.ev(element.value)
                    if key.kind == "str":
                        items.append((key.s, value, element.key, element.value))
                    else:
                        dyn = True
                else:
                    spread = self.ev(element.value)
                    if spread.kind == "dict":
                        items.extend(spread.items)
                        dyn = dyn or spread.dyn
                    else:
                        dyn = True
            return V("dict", items=items, dyn=dyn, node=node)
        if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
            elements = []
            for element in node.elements:
                value = self.ev(element.value)
                if isinstance(element, cst.StarredElement):
                    if value.kind == "list":
                        elements.extend(value.elements)
                    continue
                elements.append((value, element.value))
            return V("list", elements=elements, node=node)
        if isinstance(node, cst.Subscript):
            return self.subscript(node)
        if isinstance(node, cst.NamedExpr):
            value = self.ev(node.value)
            self.assign(node.target, value, node.value)
            return value
        # Anything else: look inside for calls, but the value itself is not known.
        self._walk_expr(node)
        return DYN

    def _walk_expr(self, node: cst.CSTNode) -> None:
        for child in _children(node):
            if isinstance(child, cst.BaseExpression):
                self.ev(child)
            elif isinstance(child, cst.BaseSuite):
                self.suite(child)
            else:
                self._walk_expr(child)

    def name(self, node: cst.Name) -> V:
        ident = node.value
        binding = self.lookup(ident)
        if binding is None:
            if ident == "None":
                return V("none", node=node)
            if ident in ("True", "False"):
                return V("bool", s=ident, node=node)
            return DYN
        kind = binding[0]
        if kind == "import":
            return V("qual", qual=binding[1])
        if kind == "def":
            if binding[2] in ("class", "taskclass"):
                return V("class", qual=binding[1], ref=binding[3])
            return V("qual", qual=binding[1], ref=binding[2])
        return binding[1]

    def subscript(self, node: cst.Subscript) -> V:
        base = self.ev(node.value)
        key = self._subscript_key(node)
        for element in node.slice:
            if isinstance(element.slice, cst.Index):
                self.ev(element.slice.value)
        if base.qual == ENVIRON:
            return V("env", ref=key)
        if base.kind == "dotenv":
            return V("dotenv_value", ref=key)
        if base.qual in CONTEXT_SECRETS:
            self.read(key, "context", True, node, "prefect.context.secrets[...]")
            return V("secret_value", ref=key)
        if base.qual in CONTEXT and key == "secrets":
            return V("qual", qual="prefect.context.secrets")
        return DYN

    # calls ----------------------------------------------------------------------------------
    def args(self, node: cst.Call, positional: Tuple[str, ...] = ()) -> Tuple[Dict[str, tuple], List[tuple], bool]:
        """Evaluate arguments: (keywords name -> (V, node), positionals [(V, node)], has **)."""
        keywords: Dict[str, tuple] = {}
        positionals: List[tuple] = []
        star = False
        for arg in node.args:
            value = self.ev(arg.value)
            if arg.keyword is not None:
                keywords[arg.keyword.value] = (value, arg.value)
            elif arg.star == "**":
                if value.kind == "dict" and not value.dyn:
                    for key, item, _, item_node in value.items:
                        keywords.setdefault(key, (item, item_node))
                else:
                    star = True
            elif arg.star == "*":
                star = True
            else:
                positionals.append((value, arg.value))
        for index, pname in enumerate(positional):
            if index < len(positionals) and pname not in keywords:
                keywords[pname] = positionals[index]
        return keywords, positionals, star

    def call(self, node: cst.Call, called: bool = False) -> V:
        func = node.func
        if isinstance(func, cst.Attribute):
            return self.method_call(node, func)
        if isinstance(func, cst.Call):
            inner = self.call(func, called=True)
            keywords, positionals, _ = self.args(node)
            self.mark_passed(positionals, keywords)
            if inner.kind == "instance":
                self.use_instance(inner.call, keywords, node)
                return V("result", ref=inner.call)
            return DYN
        fv = self.ev(func)
        return self.call_value(node, fv, called)

    def method_call(self, node: cst.Call, func: cst.Attribute) -> V:
        method = func.attr.value
        base_node = func.value
        base = self.call(base_node, called=True) if isinstance(base_node, cst.Call) else self.ev(base_node)
        if base.kind == "qual" and base.qual:
            return self.call_value(node, V("qual", qual=f"{base.qual}.{method}"), False)
        if base.kind == "instance":
            keywords, positionals, star = self.args(node)
            call = self.f.calls[base.call]
            if method in ("run",):
                if call.symbol in SECRET_TASKS and self.here.kind in ("module", "flow", "class"):
                    name = self._secret_name(call, keywords, positionals)
                    self.read(name, "secret_get", True, node, "PrefectSecret(...).run()")
                self.imperative(base.call, keywords, node)
                return V("secret_value", ref=self._secret_name(call, keywords, positionals)) \
                    if call.symbol in SECRET_TASKS else V("result", ref=base.call)
            if method in ("map", "bind"):
                self.mark_passed(positionals, keywords)
                self.use_instance(base.call, keywords, node)
                return V("result", ref=base.call)
            if method in ("set_upstream", "set_downstream"):
                self.mark_passed(positionals, keywords)
                self.use_instance(base.call, {}, node)
                return DYN
            return DYN
        if base.kind in ("flow", "flowset"):
            return self.flow_method(node, base, method)
        if base.kind == "dotenv" and method == "get":
            keywords, positionals, _ = self.args(node)
            key = positionals[0][0].s if positionals and positionals[0][0].kind == "str" else None
            return V("dotenv_value", ref=key)
        if base.kind == "secret_api" and method == "get":
            self.args(node)
            self.read(base.ref, "secret_get", True, node, "Secret(...).get()")
            return V("secret_value", ref=base.ref)
        if base.kind == "str" and method == "format":
            keywords, positionals, star = self.args(node)
            try:
                if not star and all(v.kind in ("str", "num") for v, _ in positionals) and all(
                    v.kind in ("str", "num") for v, _ in keywords.values()
                ):
                    return V("str", s=base.s.format(*[v.s for v, _ in positionals],
                                                      **{k: v.s for k, (v, _) in keywords.items()}), node=node)
            except (IndexError, KeyError, ValueError):
                pass
            return DYN
        if base.kind in ("class",) and base.qual:
            return self.call_value(node, V("qual", qual=f"{base.qual}.{method}"), False)
        self._walk_args(node)
        return DYN

    def _walk_args(self, node: cst.Call) -> None:
        keywords, positionals, _ = self.args(node)
        self.mark_passed(positionals, keywords)

    def flow_method(self, node: cst.Call, base: V, method: str) -> V:
        keywords, positionals, _ = self.args(node)
        flows = [base.flow] if base.kind == "flow" else [v.flow for v, _ in base.elements if v.kind == "flow"]
        for flow_index in flows:
            flow = self.f.flows[flow_index]
            if method in ("add_task", "add_edge"):
                for value, value_node in positionals + list(keywords.values()):
                    self._flow_add(flow, value, {}, value_node)
            elif method == "set_dependencies":
                task = keywords.get("task") or (positionals[0] if positionals else None)
                run: Dict[str, tuple] = {}
                kw_tasks = keywords.get("keyword_tasks")
                if kw_tasks and kw_tasks[0].kind == "dict":
                    run = {k: (v, vn) for k, v, _, vn in kw_tasks[0].items}
                if task is not None:
                    self._flow_add(flow, task[0], run, task[1])
                for key in ("upstream_tasks", "downstream_tasks"):
                    if key in keywords and keywords[key][0].kind == "list":
                        for value, value_node in keywords[key][0].elements:
                            self._flow_add(flow, value, {}, value_node)
                if kw_tasks and kw_tasks[0].kind == "dict":
                    for _, value, _, value_node in kw_tasks[0].items:
                        self._flow_add(flow, value, {}, value_node, called=False)
        return DYN

    def _flow_add(self, flow: FlowFact, value: V, run: Dict[str, tuple], node, called: bool = True) -> None:
        if value.kind == "instance":
            flow.uses.append(Use(call=value.call, run=self.export_args(None, run), called=called,
                                 pos=self.want(node)))
        elif value.kind == "qual" and value.qual:
            flow.uses.append(Use(target=value.qual, run=self.export_args(None, run), called=called,
                                 pos=self.want(node)))

    def call_value(self, node: cst.Call, fv: V, called: bool) -> V:
        qual = fv.qual if fv.kind in ("qual", "class") else None
        if fv.kind == "instance":
            keywords, positionals, _ = self.args(node)
            self.mark_passed(positionals, keywords)
            self.use_instance(fv.call, keywords, node)
            return V("result", ref=fv.call)
        if qual is None:
            self._walk_args(node)
            return DYN
        if qual in FLOW:
            return self.new_flow(node)
        if qual in PARAMETER:
            keywords, positionals, _ = self.args(node, ("name", "default"))
            name = keywords.get("name")
            default = keywords.get("default")
            self.f.parameters.append(
                ParameterFact(
                    name=name[0].s if name and name[0].kind == "str" else None,
                    default=self.export(default[0], safe=False, node=default[1],
                                        mask=bool(name and name[0].kind == "str" and is_credential_name(name[0].s)))
                    if default else None,
                    pos=self.want(node),
                    default_pos=self.want(default[1]) if default else Pos(),
                )
            )
            return V("parameter", ref=name[0].s if name and name[0].kind == "str" else None)
        if qual in SECRET_API:
            keywords, positionals, _ = self.args(node, ("name",))
            name = keywords.get("name")
            return V("secret_api", ref=name[0].s if name and name[0].kind == "str" else None)
        if qual in DOTENV:
            self._walk_args(node)
            return V("dotenv")
        if qual in GETENV:
            keywords, positionals, _ = self.args(node, ("key",))
            key = keywords.get("key")
            return V("env", ref=key[0].s if key and key[0].kind == "str" else None)
        if qual in PARTIAL:
            keywords, positionals, star = self.args(node)
            if positionals and positionals[0][0].kind == "qual":
                entry = self.cat.lookup(positionals[0][0].qual)
                if entry is not None:
                    call_id = self.new_call(entry, node, keywords, star)
                    return V("instance", call=call_id)
            return DYN
        if qual in CONTEXT:
            keywords, positionals, _ = self.args(node)
            secrets = keywords.get("secrets")
            if secrets and secrets[0].kind == "dict":
                for key, value, key_node, value_node in secrets[0].items:
                    self.context_write(key, value, "context_call", key_node, value_node)
            return DYN
        if qual.rsplit(".", 1)[0] in CONTEXT_SECRETS and qual.endswith(".get"):
            keywords, positionals, _ = self.args(node)
            key = positionals[0][0].s if positionals and positionals[0][0].kind == "str" else None
            self.read(key, "context", False, node, "prefect.context.secrets.get(...)")
            return V("secret_value", ref=key)
        if qual in (f"{c}.get" for c in CONTEXT):
            keywords, positionals, _ = self.args(node)
            if positionals and positionals[0][0].kind == "str" and positionals[0][0].s == "secrets":
                return V("qual", qual="prefect.context.secrets")
            return DYN
        if qual in TASK_DECORATOR:
            keywords, positionals, _ = self.args(node)
            if positionals and positionals[0][0].kind == "qual" and positionals[0][0].qual:
                # task(fn): the function becomes a task; calling the result in a flow uses it.
                routine = self.f.routines.get(positionals[0][0].qual)
                if routine is not None:
                    routine.is_task = True
                return V("qual", qual=positionals[0][0].qual)
            return DYN
        entry = self.cat.lookup(qual)
        if entry is not None:
            keywords, positionals, star = self.args(node, POSITIONAL.get(entry.symbol, entry.positional))
            self.mark_passed(positionals, {k: v for k, v in keywords.items() if k != "state_handlers"})
            call_id = self.new_call(entry, node, keywords, star)
            if _is_function_entry(entry):
                self._function_used(entry, call_id, node)
            return V("instance", call=call_id)
        # A name we do not know: a project task function, an imported instance, or anything else.
        keywords, positionals, _ = self.args(node)
        self.mark_passed(positionals, keywords)
        here = self.here
        if _outside_project(qual):
            pass
        elif here.kind == "flow":
            self._add_use(Use(target=qual, run=self.export_args(None, keywords), pos=self.want(node)))
        elif here.kind == "function":
            self._add_use(Use(target=qual, run=self.export_args(None, keywords, positions=False)))
        elif here.kind == "task":
            routine = self.f.routines.get(here.owner or "")
            if routine is not None:
                routine.uses.append(Use(target=qual, run=self.export_args(None, keywords, positions=False)))
        if fv.kind == "class" or (fv.kind == "qual" and qual.rsplit(".", 1)[-1][:1].isupper()):
            # An instance of a project class (a Task subclass, say): calling it later in a flow
            # is a use of that class.
            return V("qual", qual=qual)
        return V("result", qual=qual) if fv.kind == "qual" else DYN

    def _function_used(self, entry: Entry, call_id: int, node) -> None:
        """A catalogued function ran: a utility runs where it is called, a @task function in a
        flow block becomes a task of that flow."""
        here = self.here
        call = self.f.calls[call_id]
        routine = self.f.routines.get(here.owner or "")
        if entry.kind == "task" and here.kind in ("flow", "function"):
            self._add_use(Use(call=call_id, pos=call.pos))
        elif routine is not None and here.kind in ("task", "function"):
            if call_id not in routine.calls:
                routine.calls.append(call_id)

    def new_flow(self, node: cst.Call) -> V:
        keywords, positionals, _ = self.args(node, ("name",))
        name = keywords.get("name")
        if name is not None and name[0].kind not in ("str", "dynamic"):
            return DYN  # Prefect 2.x Flow(fn) or something else entirely
        flow = FlowFact(
            index=len(self.f.flows),
            name=name[0].s if name and name[0].kind == "str" else None,
            var=None,
            pos=self.want(node),
            scope=self.here.owner or "",
        )
        self.f.flows.append(flow)
        self.f.prefect1 = True
        for attr in ("storage", "run_config"):
            if attr in keywords and keywords[attr][0].kind == "instance":
                setattr(flow, attr, keywords[attr][0].call)
            elif attr in keywords and _ref(keywords[attr][0]):
                setattr(flow, attr + "_ref", _ref(keywords[attr][0]))
        if "state_handlers" in keywords:
            flow.handlers.extend(self.handlers(keywords["state_handlers"][0]))
        if "result" in keywords and keywords["result"][0].kind == "instance":
            flow.handlers.append(keywords["result"][0].call)
        if "tasks" in keywords and keywords["tasks"][0].kind == "list":
            for value, value_node in keywords["tasks"][0].elements:
                self._flow_add(flow, value, {}, value_node)
        return V("flow", flow=flow.index)

    def new_call(self, entry: Entry, node: cst.Call, keywords: Dict[str, tuple], star: bool) -> int:
        here = self.here
        call = CallFact(
            id=len(self.f.calls),
            symbol=entry.symbol,
            pos=self.want(node),
            init=self.export_args(entry, {k: v for k, v in keywords.items() if k != "state_handlers"}),
            star_kwargs=star,
            context=here.kind,
            owner=here.owner,
        )
        self.f.calls.append(call)
        self.f.prefect1 = True
        if "state_handlers" in keywords:
            call.handlers.extend(self.handlers(keywords["state_handlers"][0]))
        if "result" in keywords and keywords["result"][0].kind == "instance":
            call.handlers.append(keywords["result"][0].call)  # a Result reads its own credentials
        return call.id

    def handlers(self, value: V) -> List[int]:
        """State handlers from a `state_handlers=[...]` value (bare notifier, curried or partial)."""
        out: List[int] = []
        items = value.elements if value.kind == "list" else [(value, value.node)]
        for item, item_node in items:
            if item.kind == "instance":
                out.append(item.call)
            elif item.kind == "qual" and item.qual:
                entry = self.cat.lookup(item.qual)
                if entry is not None and item_node is not None:
                    call = CallFact(id=len(self.f.calls), symbol=entry.symbol, pos=self.want(item_node),
                                    context=self.here.kind, owner=self.here.owner)
                    self.f.calls.append(call)
                    out.append(call.id)
        return out

    def use_instance(self, call_id: int, keywords: Dict[str, tuple], node) -> None:
        here = self.here
        if here.kind in ("flow", "function"):
            self._add_use(Use(call=call_id, run=self.export_args(self._entry(call_id), keywords),
                              pos=self.want(node)))
        elif here.kind == "task":
            self.imperative(call_id, keywords, node)

    def imperative(self, call_id: int, keywords: Dict[str, tuple], node) -> None:
        """`instance.run(...)` (or a call) inside a task body: the consumer runs there."""
        here = self.here
        call = self.f.calls[call_id]
        routine = self.f.routines.get(here.owner or "") if here.kind in ("task", "function") else None
        if routine is None:
            return
        if call.owner == here.owner and call.var is None:
            call.run.update(self.export_args(self._entry(call_id), keywords))
            if call_id not in routine.calls:
                routine.calls.append(call_id)
        else:
            routine.uses.append(Use(call=call_id, run=self.export_args(self._entry(call_id), keywords),
                                    pos=self.want(node)))

    def mark_passed(self, positionals: List[tuple], keywords: Dict[str, tuple]) -> None:
        """Task instances passed as arguments inside a flow block are added to the flow."""
        here = self.here
        if here.kind not in ("flow", "function"):
            return
        for value, value_node in list(positionals) + list(keywords.values()):
            candidates = value.elements if value.kind == "list" else [(value, value_node)]
            for item, item_node in candidates:
                if item.kind == "instance":
                    entry = self._entry(item.call)
                    if entry is not None and entry.kind == "task":
                        self._add_use(Use(call=item.call, called=False, pos=self.want(item_node)))

    def _add_use(self, use: Use) -> None:
        here = self.here
        if here.kind == "flow" and here.flow is not None:
            self.f.flows[here.flow].uses.append(use)
        elif here.kind in ("function", "task") and here.owner in self.f.routines:
            self.f.routines[here.owner].uses.append(use)

    def _entry(self, call_id: int) -> Optional[Entry]:
        return self.cat.lookup(self.f.calls[call_id].symbol)

    def _secret_name(self, call: CallFact, keywords, positionals) -> Optional[str]:
        if "name" in keywords and keywords["name"][0].kind == "str":
            return keywords["name"][0].s
        arg = call.init.get("name")
        return arg.value.text if arg is not None else None

    def read(self, name: Optional[str], mechanism: str, required: bool, node, api: str) -> None:
        here = self.here
        index = len(self.f.reads)
        self.f.reads.append(SecretRead(name=name, mechanism=mechanism, required=required, context=here.kind,
                                       owner=here.owner, pos=self.want(node), api=api))
        if here.kind in ("task", "function") and here.owner in self.f.routines:
            self.f.routines[here.owner].reads.append(index)

    # export ---------------------------------------------------------------------------------
    def export_args(self, entry: Optional[Entry], keywords: Dict[str, tuple], positions: bool = True) -> Dict[str, Arg]:
        safe_names = set(NAME_ARGS)
        if entry is not None:
            safe_names.update(entry.name_params)
            for spec in entry.secrets:
                safe_names.update(k for k, _ in spec.skip_if)
        out: Dict[str, Arg] = {}
        for key, (value, node) in keywords.items():
            safe = key in safe_names
            mask = not safe and (is_credential_name(key) or (entry is not None and entry.credential_param(key) is not None))
            arg = Arg(value=self.export(value, safe=safe, node=node, mask=mask),
                      pos=self.want(node) if positions else Pos())
            if not positions:
                out[key] = arg
                continue
            if value.kind == "dict":
                for _, _, key_node, item_node in value.items:
                    arg.keys.append(self.want(key_node))
                    arg.parts.append(self.want(item_node))
            elif value.kind == "list":
                for _, item_node in value.elements:
                    arg.parts.append(self.want(item_node))
            out[key] = arg
        return out

    def export(self, value: V, safe: bool, node=None, mask: bool = True) -> Value:
        """A Value for the facts; `mask` marks the literal's span for masking in snippets."""
        kind = value.kind
        if kind in ("str", "bytes"):
            text = value.s or ""
            placeholder = is_placeholder(text)
            shaped = looks_like_credential(text)
            if not safe and not placeholder and (mask or shaped) and value.node is not None:
                self.f.sensitive.append(self.want(value.node))
            return Value(kind, text=text if safe else None, empty=not text, placeholder=placeholder, shaped=shaped)
        if kind == "dict":
            out = Value("dict", dynamic_keys=value.dyn)
            for key, item, _, _ in value.items:
                # `name` entries of templates ({"name": "VAR", "value": ...}) are variable names.
                out.items[key] = self.export(item, safe=safe or key in ("name", "Name"), node=None,
                                             mask=mask or is_credential_name(key))
            return out
        if kind == "list":
            return Value("list", elements=[self.export(item, safe=safe, mask=mask) for item, _ in value.elements])
        if kind == "bool":
            return Value(kind, text=value.s)
        if kind == "num":
            # A number in a credential slot (a PIN) is a value too: masked, so the snippet (and
            # the fingerprint made from it) shows no digit of it.
            if not safe and mask and value.node is not None:
                self.f.sensitive.append(self.want(value.node))
            return Value(kind)
        if kind == "none":
            return Value(kind)
        if kind == "instance":
            call = self.f.calls[value.call]
            if call.symbol in SECRET_TASKS:
                name = call.init.get("name")
                return Value("secret_ref", ref=name.value.text if name else None)
            if call.symbol in ENV_SECRET_TASKS:
                name = call.init.get("name")
                return Value("env", ref=name.value.text if name else None)
            return Value("instance", ref=call.symbol)
        if kind in ("env", "secret_value", "parameter", "dotenv_value"):
            return Value(kind, ref=value.ref)
        if kind == "dotenv":
            return Value("env_map")
        if kind == "result":
            return Value("result")
        if kind == "qual" and value.qual:
            return Value("import", ref=value.qual)  # a name from another module: resolved by the project
        return Value("dynamic")


_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | {
    "os", "sys", "re", "json", "time", "datetime", "logging", "typing", "pathlib", "functools", "itertools",
    "collections", "subprocess", "shutil", "tempfile", "io", "math", "random", "uuid", "hashlib", "base64",
    "urllib", "http", "csv", "glob", "copy", "enum", "dataclasses", "contextlib", "textwrap", "string"}


def _plain_string(literal: str) -> Optional[str]:
    """The value of a string literal without prefix or backslash, without `ast.literal_eval`
    (which compiles: the most common literal cost a compile each); None for any other literal."""
    quote = literal[:1]
    if quote not in ("'", '"') or "\\" in literal or "\r" in literal:
        return None  # escapes, and the newlines Python normalises, go through the slow path
    if literal[:3] == quote * 3:
        return literal[3:-3] if len(literal) >= 6 and literal[-3:] == quote * 3 else None
    return literal[1:-1] if len(literal) >= 2 and literal[-1] == quote else None


def _outside_project(qual: str) -> bool:
    """Calls that cannot reach a project task: the standard library and Prefect itself."""
    head = qual.split(".", 1)[0]
    return head in _STDLIB or head == "prefect"


def _ref(value: V) -> Optional[str]:
    """A reference to a storage/run config defined elsewhere: a name, or a function's result."""
    if value.kind == "qual" and value.qual:
        return value.qual
    if value.kind == "result" and value.qual:
        return value.qual + "()"
    return None


def _is_function_entry(entry: Optional[Entry]) -> bool:
    """Catalogued functions that do their work when called (get_boto_client, Toloka operations).

    Notifiers are not among them: calling one with keywords only curries it into a handler.
    """
    if entry is None or not entry.short_name[:1].islower():
        return False
    return entry.kind in ("utility", "task")


def _dotted(node) -> Optional[str]:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


def extract(source_bytes: bytes, relpath: str, catalogue: Catalogue) -> ModuleFacts:
    """Facts for one file. Never raises for bad input: a file that cannot be used gets `error`."""
    module, is_package = module_name_for(relpath)
    facts = ModuleFacts(path=relpath, module=module, is_package=is_package)
    encoding = "utf-8"
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source_bytes).readline)  # PEP 263 cookies
        source = source_bytes.decode(encoding)
    except (SyntaxError, LookupError) as exc:
        facts.error = ParseError(f"cannot decode: {exc}")
        return facts
    except UnicodeDecodeError as exc:
        facts.error = ParseError(f"cannot decode as {encoding}: {exc.reason} at byte {exc.start}")
        return facts
    if encoding.replace("_", "-").lower() not in ("utf-8", "utf-8-sig"):
        source = re.sub(r"^(#[^\n]*)coding[:=]\s*[-\w.]+", r"\1coding: utf-8", source, count=1, flags=re.M)
    if source.startswith("\ufeff"):
        source = source[1:]
    try:
        tree = cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        message = str(exc.message)
        where = re.search(r"error at (\d+):(\d+)", message)
        line, column = (int(where.group(1)), int(where.group(2))) if where else (exc.raw_line, exc.raw_column + 1)
        message = re.sub(r"^parser error: error at \d+:\d+: ", "", message)
        try:  # Python's own message is the one users know ("expected ':'")
            compile(source, relpath, "exec", flags=0x400, dont_inherit=True)  # ast.PyCF_ONLY_AST
        except SyntaxError as syntax:
            message = syntax.msg
            line, column = syntax.lineno or line, syntax.offset or column
        except (ValueError, RecursionError, MemoryError):
            pass
        facts.error = ParseError(f"syntax error: {message}", line, column)
        return facts
    except (RecursionError, MemoryError) as exc:
        facts.error = ParseError(f"file too deeply nested or too large to parse ({type(exc).__name__})")
        return facts
    except Exception as exc:  # noqa: BLE001 - the parser can raise its own internal errors
        facts.error = ParseError(f"cannot parse: {type(exc).__name__}")
        return facts
    facts.suppressions = scan_suppressions(source)
    try:
        Extractor(source, tree, facts, catalogue).run()
    except RecursionError:
        bad = ModuleFacts(path=relpath, module=module, is_package=is_package)
        bad.error = ParseError("expression nested too deeply to analyse")
        return bad
    return facts
