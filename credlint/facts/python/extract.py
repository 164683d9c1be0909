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

from credlint.prefect.catalogue import Catalogue, Entry
from credlint.facts.naming import is_credential_env_name, is_credential_name
from credlint.facts.types import (
    Arg, CallFact, ContextWrite, CredentialArg, EnvRead, FlowFact, FlowPatch, ModuleFacts, ParameterFact,
    ParseError, Pos, Ref, Routine, SecretRead, Use,
)
from credlint.facts.types import PREFECT_FLOW, Attachment, ClassFact, module_name_for
from credlint.facts.python.positions import fill_positions
from credlint.facts.suppressions import scan_suppressions
from credlint.facts.values import (
    Value, is_auth_method, is_placeholder, is_public_dsn, is_test_fake, is_test_path, looks_like_credential,
)

FLOW = PREFECT_FLOW
COPY = {"copy.copy", "copy.deepcopy"}
# Methods only a Flow has: called on what may be a flow (an instance of a project class), they
# make it one. (Task has set_dependencies too, with a `flow=` keyword.)
FLOW_METHODS = {"add_task", "add_edge", "set_dependencies", "chain", "set_reference_tasks"}
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
# Prefect constructs this pass reads itself (a Parameter's default is CL302's, a context write
# CL202's): not calls whose credential keywords `credential_args` records.
_READ_BY_THE_PASS = FLOW | PARAMETER | SECRET_API | CONTEXT | GETENV | DOTENV | TASK_DECORATOR | SECRET_TASKS | \
    ENV_SECRET_TASKS
# Task methods that put a task into a flow (the `flow=` keyword names which one).
TASK_WIRING = {"map", "bind", "set_upstream", "set_downstream"}
# Keywords of Task.__call__/bind/map that wire the task and never reach its run().
WIRING_KEYWORDS = {"flow", "upstream_tasks", "task_args", "mapped"}
APPLY_MAP = {"prefect.apply_map", "prefect.utilities.tasks.apply_map"}
# unmapped(x), mapped(x), flatten(x): x itself is passed to the task.
EDGE_ANNOTATIONS = {f"{m}.{n}" for m in ("prefect", "prefect.utilities.edges") for n in ("unmapped", "mapped", "flatten")}
# What Task and Flow take as state handlers (a list, or one callable); a result reads credentials too.
HANDLER_KEYWORDS = ("state_handlers", "on_failure", "terminal_state_handler", "result")
HANDLER_ATTRIBUTES = ("state_handlers", "terminal_state_handler", "result")

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
# Paths of files a run config reads (kept in clear to find the file in the project), unless the
# text could hold a credential (a URL with user info).
TEMPLATE_PATH_ARGS = {"job_template_path", "task_definition_path"}

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

    __slots__ = ("kind", "s", "items", "elements", "ref", "call", "flow", "qual", "dyn", "node", "attached",
                 "made", "var")

    def __init__(self, kind, s=None, items=None, elements=None, ref=None, call=None, flow=None,
                 qual=None, dyn=False, node=None, attached=None, made=None):
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
        self.attached = attached  # (handler ids, refs) given to a project class's constructor
        # How an instance or result was made, (call node, keywords, positionals, statement), while
        # it may still turn out to be a flow (see `Extractor.candidate` and `promote`).
        self.made = made
        # A module-level instance of a project class is known by its own name ("pkg.mod.publish"),
        # so that what is attached to it (`publish.state_handlers = [...]`) follows that object.
        self.var: Optional[str] = None


DYN = V("dynamic")


class _Ctx:
    __slots__ = ("kind", "owner", "flow", "tentative")

    def __init__(self, kind: str, owner: Optional[str], flow: Optional[int], tentative: bool = False):
        self.kind = kind  # module | flow | task | function | class
        self.owner = owner
        self.flow = flow
        # A `with` block of what may not be a flow (an instance of an imported class): its tasks
        # go to the candidate flow and to the enclosing function, its secret reads stay the
        # enclosing context's.
        self.tentative = tentative


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
        # Helpers that set storage/run config on a flow parameter, and calls that may pass flows.
        self.param_patches: Dict[str, list] = {}
        # Names bound at module level, how often; what was named by a module-level instance's name.
        self.module_binds: Dict[str, int] = {}
        self.by_var: List[tuple] = []
        self.helper_calls: List[tuple] = []
        self.lambdas = 0  # depth of lambda bodies being read
        self.caught: List[set] = []  # exceptions caught around the statement read (see `try_stmt`)

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
            self.module_binds[name] = self.module_binds.get(name, 0) + 1
            kind = binding[0]
            if kind == "import":
                self.f.imports[name] = binding[1]
            elif kind == "value" and binding[1].kind in ("qual", "class") and binding[1].qual:
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
            if value is not None and value.kind == "qual" and value.ref == "instance" and value.var is None \
                    and self.f.module:
                value.var = f"{self.f.module}.{name}"
            if value is not None and value.kind == "result" and value.qual and not _outside_project(value.qual):
                self.f.helper_results[name] = value.qual  # `STORAGE = make_storage()`, for other modules
            else:
                self.f.helper_results.pop(name, None)
            if value is not None and value.kind == "qual" and value.attached and value.var:
                # `publish = Publish(state_handlers=[...])`: the handlers go with the name.
                ids, refs = value.attached
                value.attached = None
                self.attach_handlers(value, ids, refs)
            if value is not None and _flow_index(value) is not None and value.kind != "self":
                self.f.flow_vars[name] = value.flow  # a flow, or what the project may find is one
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

    @property
    def settled(self) -> _Ctx:
        """The context, skipping `with` blocks of what may not be a flow (see `_Ctx.tentative`)."""
        for ctx in reversed(self.ctx):
            if not ctx.tentative:
                return ctx
        return self.ctx[0]

    def qualify(self, name: str) -> str:
        owner = self.here.owner
        base = owner if owner else self.f.module
        return f"{base}.{name}" if base else name

    # ----- statements ------------------------------------------------------------------------
    def run(self) -> None:
        for index, stmt in enumerate(self.tree.body):
            self.statement = index
            self.stmt(stmt)
        if self.param_patches:
            self.apply_param_patches()
        self.settle_var_names()
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
        elif isinstance(node, cst.Try):
            self.try_stmt(node)
        else:
            self.generic_stmt(node)

    def guarded(self, error: str) -> bool:
        """Whether a `try` around the statement read catches `error` (what a missing secret raises)."""
        return any(error in caught or "*" in caught for caught in self.caught)

    def try_stmt(self, node: cst.Try) -> None:
        """A secret read in a `try` whose handler catches the error of a missing secret
        (`except ValueError: pass` around `PrefectSecret("X").run()`) is optional."""
        caught = set()
        for handler in node.handlers:
            if not _raises(handler.body):  # `except ValueError as e: raise Other(...) from e` is no fallback
                caught |= _caught(handler.type)
        self.caught.append(caught)
        self.suite(node.body)
        self.caught.pop()
        for handler in node.handlers:
            self.suite(handler.body)
        for extra in (node.orelse, node.finalbody):
            if extra is not None:
                self.suite(extra.body)

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
            names = [t.target.value for t in node.targets if isinstance(t.target, cst.Name)]
            if names:
                value = self.kept_flow(names[0], node.value, value) or self.candidate(value, names[0])
            for target in node.targets:
                self.assign(target.target, value, node.value)
        elif isinstance(node, cst.AnnAssign):
            if node.value is not None:
                value = self.ev(node.value)
                if isinstance(node.target, cst.Name):
                    value = self.candidate(value, node.target.value)
                self.assign(node.target, value, node.value)
        elif isinstance(node, cst.AugAssign):
            value = self.ev(node.value)
            if isinstance(node.target, cst.Attribute) and node.target.attr.value == "state_handlers":
                refs: List[Ref] = []  # `x.state_handlers += [alert]`
                self.attach_handlers(self.ev(node.target.value), self.handlers(value, refs, node.value), refs)
            if isinstance(node.target, cst.Name):
                self.bind(node.target.value, ("value", DYN))
        elif isinstance(node, cst.Import):
            self.import_(node)
        elif isinstance(node, cst.ImportFrom):
            self.import_from(node)
        elif isinstance(node, cst.Return):
            value = self.ev(node.value) if node.value is not None else V("none")
            if _flow_index(value) is not None and value.kind != "self":
                self.f.flows[value.flow].returned = True
            routine = self.f.routines.get(self.here.owner or "")
            if routine is not None:
                self.returned(routine, value)
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
        refs: List[Ref] = []
        for deco in node.decorators:
            expr = deco.decorator
            target = expr.func if isinstance(expr, cst.Call) else expr
            qual = self.ev(target).qual if isinstance(target, (cst.Name, cst.Attribute)) else None
            if qual in TASK_DECORATOR:
                is_task = True
                if isinstance(expr, cst.Call):
                    for arg in expr.args:
                        value = self.ev(arg.value)
                        if arg.keyword is not None and arg.keyword.value in HANDLER_KEYWORDS:
                            handlers.extend(self.handlers(value, refs, arg.value))
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
            self.f.routines[qual].handler_refs.extend(refs)
        else:
            qual = self.qualify(name)
            routine = Routine(qualname=qual, is_task=kind == "task", pos=Pos(), handlers=handlers,
                              handler_refs=refs)
            self.f.routines[qual] = routine
        self.bind(name, ("def", self.qualify(name), "task" if is_task else "function"))
        self.scopes.append({})
        self.scope_kinds.append("function")
        self.ctx.append(_Ctx(kind, qual, enclosing.flow if kind == "function" else None))
        positional = list(node.params.posonly_params) + list(node.params.params)
        for param in node.params.params + node.params.kwonly_params + node.params.posonly_params:
            # Unknown values, but known as parameters: a helper that sets `flow.storage` on a flow
            # it is given applies to the flows its callers pass.
            index = next((i for i, p in enumerate(positional) if p is param), None)
            self.bind(param.name.value, ("value", V("dynamic", ref=("param", index, param.name.value))))
        cls = self.f.classes.get(enclosing.owner or "") if enclosing.kind == "class" else None
        if cls is not None:
            cls.methods.append(qual)
            if positional and not any(isinstance(d.decorator, cst.Name) and d.decorator.value in ("staticmethod", "classmethod")
                                      for d in node.decorators):
                self.bind(positional[0].name.value, ("value", V("self", flow=cls.flow, qual=cls.qualname)))
        self.suite(node.body)
        routine = self.f.routines.get(qual)
        if routine is not None and qual != enclosing.owner and not _always_returns(node.body):
            routine.returns_other = True  # it can end without a return: None
        self.ctx.pop()
        self.scopes.pop()
        self.scope_kinds.pop()

    def class_def(self, node: cst.ClassDef) -> None:
        is_task = False
        bases: List[str] = []
        for base in node.bases:
            value = self.ev(base.value)
            if value.kind in ("qual", "class") and value.qual:
                bases.append(value.qual)
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
        else:
            self.class_fact(node, qual, bases)
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
        certain = True
        for item in node.items:
            value = self.ev(item.item)
            named = item.asname is not None and isinstance(item.asname.name, cst.Name)
            value = self.candidate(value, item.asname.name.value if named else None)
            if item.asname is not None:
                self.assign(item.asname.name, value, item.item)
            if _flow_index(value) is not None:
                flows.append(value.flow)
                certain = value.kind == "flow" or self.local_flow_class(value.qual if value.kind == "self"
                                                                         else self.f.flows[value.flow].cls)
                if value.kind == "self":
                    self.f.classes[value.qual].wired = True
        if flows:
            owner = self.here.owner
            self.ctx.append(_Ctx("flow", owner, flows[-1], tentative=not certain))
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
            if attr in ("storage", "run_config") and base.kind == "result" and base.made is not None \
                    and isinstance(target.value, cst.Name) and (value.kind == "instance" or _ref(value)):
                base = self.promote(target.value.value, base)
            if attr == "name" and _flow_index(base) is not None and value.kind == "str":
                self.f.flows[base.flow].name, self.f.flows[base.flow].label = value.s, None
            if attr in ("storage", "run_config") and value.kind == "instance":
                self.attach(base, attr, value.call, target)
            elif attr in ("storage", "run_config") and _ref(value):
                self.attach(base, attr, None, target, ref=_ref(value))
            elif attr in ("storage", "run_config") and _param(value) is not None:
                self.attach(base, attr, None, target, value_param=_param(value))
            elif attr in HANDLER_ATTRIBUTES:
                refs: List[Ref] = []
                self.attach_handlers(base, self.handlers(value, refs), refs)
        elif isinstance(target, cst.Subscript):
            base = self.ev(target.value)
            key = self._subscript_key(target)
            if base.qual in CONTEXT_SECRETS:
                self.context_write(key, value, "context_assign", target, value_node)
            elif base.qual == ENVIRON and key and key.upper().startswith(CONTEXT_PREFIX):
                self.context_write(key[len(CONTEXT_PREFIX):], value, "environ", target, value_node)

    def attach(self, base: V, attr: str, call_id: Optional[int], node: Optional[cst.CSTNode],
               ref: Optional[str] = None, pos: Optional[Pos] = None, value_param: Optional[tuple] = None) -> None:
        if _param(base) is not None and self.here.owner in self.f.routines:
            # `flow.storage = ...` in a helper, on a flow it is given: applied to its callers' flows.
            self.param_patches.setdefault(self.here.owner, []).append(
                (_param(base), attr, call_id, ref, value_param, self.want(node)))
        elif value_param is not None:
            return
        elif _flow_index(base) is not None:  # a flow, or what may be one (see `candidate`)
            flow = self.f.flows[base.flow]
            setattr(flow, attr, call_id)
            setattr(flow, attr + "_ref", ref)
        elif base.kind == "qual" and base.qual:
            self.f.patches.append(FlowPatch(target=base.qual, attr=attr, call=call_id, pos=pos or self.want(node),
                                            ref=ref))
        elif base.kind == "flowset":
            for element, _ in base.elements:
                self.attach(element, attr, call_id, node, ref, pos)

    def attach_handlers(self, base: V, ids: List[int], refs: List[Ref]) -> None:
        """State handlers (or a result) attached after construction: to a flow, a task instance,
        a @task function of this module, or a name the project resolves (an imported task or
        flow, a module-level instance of a project Task class)."""
        if not ids and not refs:
            return
        owner = None
        if base.kind == "qual" and base.var:
            # A module-level instance of a project class: a task (or a flow, if its class is one).
            self.f.attachments.extend(Attachment(target=base.var, call=i) for i in ids)
            self.f.attachments.extend(Attachment(target=base.var, ref=r) for r in refs)
        if _flow_index(base) is not None:  # a flow, or what may be one
            owner = self.f.flows[base.flow]
        elif base.kind == "instance":
            owner = self.f.calls[base.call]
        elif base.kind == "qual" and base.var:
            pass
        elif base.kind == "qual" and base.qual in self.f.routines:
            owner = self.f.routines[base.qual]
        elif base.kind == "flowset":
            for element, _ in base.elements:
                self.attach_handlers(element, ids, refs)
        elif base.kind == "qual" and base.qual and not _outside_project(base.qual):
            self.f.attachments.extend(Attachment(target=base.qual, call=i) for i in ids)
            self.f.attachments.extend(Attachment(target=base.qual, ref=r) for r in refs)
        if owner is not None:
            owner.handlers.extend(i for i in ids if i not in owner.handlers)
            owner.handler_refs.extend(refs)

    def apply_param_patches(self) -> None:
        """Calls of helpers that set storage or run config on a flow parameter: the flows passed
        get them (`register(etl_flow)`, `for f in [a.flow, b.flow]: deploy(f, storage=S3(...))`)."""
        for qual, positionals, keywords in self.helper_calls:
            for (index, pname), attr, call_id, ref, value_param, pos in self.param_patches.get(qual, ()):
                given = _argument(positionals, keywords, index, pname)
                if given is None:
                    continue
                if value_param is not None:
                    value = _argument(positionals, keywords, value_param[0], value_param[1])
                    if value is None:
                        continue
                    if value[0].kind == "instance":
                        call_id, ref = value[0].call, None
                    elif _ref(value[0]):
                        call_id, ref = None, _ref(value[0])
                    else:
                        continue
                self.attach(given[0], attr, call_id, None, ref, pos)

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
        if isinstance(node, cst.Lambda):
            self.lambdas += 1  # its body runs later (a lambda state handler): no build-time read
            try:
                self._walk_expr(node)
            finally:
                self.lambdas -= 1
            return DYN
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
            self.env_read(key, node)
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
                if value.kind == "self" and arg.keyword.value == "flow":
                    self.f.classes[value.qual].wired = True  # `task.bind(..., flow=self)` in a Flow subclass
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
        self.credential_args(node, keywords, positionals)
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
        if method in ("append", "extend", "insert") and isinstance(base_node, cst.Attribute) \
                and base_node.attr.value == "state_handlers":
            return self.append_handlers(node, self.ev(base_node.value), method)
        if method == "__init__" and isinstance(base_node, cst.Call) and isinstance(base_node.func, cst.Name) \
                and base_node.func.value == "super" and self.here.kind == "task" and self.here.owner in self.f.routines:
            return self.task_init(node)
        base = self.call(base_node, called=True) if isinstance(base_node, cst.Call) else self.ev(base_node)
        if method in TASK_WIRING and (base.kind == "instance" or (
                base.kind == "qual" and base.qual and not _outside_project(base.qual)
                and (self.here.kind in ("flow", "function") or _flow_keyword(node)))):
            entered = self._enter_named_flow(node)
            try:
                return self.task_wiring(node, base, method)
            finally:
                if entered:
                    self.ctx.pop()
        cloned = self.clone(node, base) if method == "copy" and not node.args else None
        if cloned is not None:
            return cloned
        if base.kind != "flow" and _flow_index(base) is not None and method in FLOW_METHODS and not (
                method == "set_dependencies" and any(a.keyword is not None and a.keyword.value == "flow"
                                                     for a in node.args)):
            if base.kind == "self":
                self.f.classes[base.qual].wired = True
            return self.flow_method(node, V("flow", flow=base.flow), method)
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

    # task wiring ----------------------------------------------------------------------------
    def _enter_named_flow(self, node: cst.Call) -> bool:
        """A `flow=` keyword (Task.__call__, bind, map, set_upstream, set_downstream, apply_map)
        wires the task into that flow wherever the call is: enter it (True) if it is not the
        current one. Only a plain name is read ahead of the other arguments."""
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "flow" and isinstance(arg.value, (cst.Name, cst.Attribute)):
                value = self.ev(arg.value)
                if _flow_index(value) is not None and not (self.here.kind == "flow" and self.here.flow == value.flow):
                    self.ctx.append(_Ctx("flow", self.here.owner, value.flow))
                    return True
        return False

    def task_wiring(self, node: cst.Call, base: V, method: str) -> V:
        """`t.map(...)`, `t.bind(...)`, `t.set_upstream(u, key=...)`, `t.set_downstream(d, key=...)`
        on a task instance, a @task function or a project task: each puts the task (and the
        tasks it is given) into the flow; `key=` passes one task's result to the other's run()."""
        keywords, positionals, _ = self.args(node)
        if method in ("map", "bind"):
            self.mark_passed(positionals, keywords)
            self._wire(base, method, _run_args(keywords), node, called=True)
            return V("result", ref=base.call) if base.kind == "instance" else V("result", qual=f"{base.qual}.{method}")
        other = keywords.get("task") or (positionals[0] if positionals else None)
        key = keywords.get("key")
        key = key[0].s if key is not None and key[0].kind == "str" else None
        upstream_run = {key: other} if key and other is not None and method == "set_upstream" else {}
        self._wire(base, method, upstream_run, node, called=False)
        if other is not None:
            downstream_run = {key: (base, node)} if key and method == "set_downstream" else {}
            self._wire(other[0], method, downstream_run, other[1], called=False)
        return base

    def _wire(self, value: V, method: str, run: Dict[str, tuple], node, called: bool) -> None:
        """Put a task into the current flow (or flow-building function) with run-time arguments."""
        here = self.here
        if value.kind == "instance":
            if called:
                self.use_instance(value.call, run, node)
            elif here.kind in ("flow", "function"):
                self._add_use(Use(call=value.call, run=self.export_args(self._entry(value.call), run), called=False))
        elif value.kind == "qual" and value.qual and not _outside_project(value.qual) and here.kind in ("flow", "function"):
            # The project resolves the target (`pkg.tasks.clean.map`: the method is dropped there).
            name = value.var or value.qual
            target = f"{name}.{method}" if called else name
            use = Use(target=target, run=self.export_args(None, run, positions=here.kind == "flow"),
                      called=called, pos=self.want(node) if called and here.kind == "flow" else Pos())
            self._add_use(self.named(use, "target", value))

    def named(self, fact, field: str, value: V):
        """Note a fact that names a module-level instance by its variable (see `settle_var_names`)."""
        if value.var:
            self.by_var.append((fact, field, value.var, value.qual))
        return fact

    def settle_var_names(self) -> None:
        """A module-level name bound more than once (`t = Extract()` ... `t = Load()`) does not
        say which object a use meant: such uses name the class instead, as before."""
        prefix = f"{self.f.module}."
        for fact, field, var, qual in self.by_var:
            if self.module_binds.get(var[len(prefix):], 0) > 1:
                setattr(fact, field, qual + getattr(fact, field)[len(var):])

    def append_handlers(self, node: cst.Call, owner: V, method: str) -> V:
        """`x.state_handlers.append(h)` / `.extend([...])` / `.insert(0, h)`."""
        keywords, positionals, _ = self.args(node)
        if positionals:
            value, value_node = positionals[-1]
            refs: List[Ref] = []
            ids = self.handlers(value if method == "extend" else V("list", elements=[(value, value_node)]), refs)
            self.attach_handlers(owner, ids, refs)
        return DYN

    def task_init(self, node: cst.Call) -> V:
        """`super().__init__(state_handlers=[...], ...)` in a Task subclass: its handlers."""
        keywords, positionals, _ = self.args(node)
        refs: List[Ref] = []
        ids: List[int] = []
        for key in HANDLER_KEYWORDS:
            if key in keywords:
                ids.extend(self.handlers(keywords[key][0], refs, keywords[key][1]))
        self.attach_handlers(V("qual", qual=self.here.owner), ids, refs)
        return DYN

    def flow_method(self, node: cst.Call, base: V, method: str) -> V:
        keywords, positionals, _ = self.args(node)
        flows = [base.flow] if base.kind == "flow" else [v.flow for v, _ in base.elements if v.kind == "flow"]
        for flow_index in flows:
            flow = self.f.flows[flow_index]
            if method in ("add_task", "add_edge", "chain"):
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
        if fv.kind == "instance" or (fv.kind == "qual" and (fv.ref == "task" or fv.var)) or (
                fv.kind == "qual" and fv.qual in APPLY_MAP):
            # A task called with `flow=` (or apply_map(..., flow=)) goes into that flow.
            entered = self._enter_named_flow(node)
            try:
                return self._call_value(node, fv, called)
            finally:
                if entered:
                    self.ctx.pop()
        return self._call_value(node, fv, called)

    def _call_value(self, node: cst.Call, fv: V, called: bool) -> V:
        qual = fv.qual if fv.kind in ("qual", "class") else None
        if fv.kind == "instance":
            keywords, positionals, _ = self.args(node)
            self.mark_passed(positionals, keywords)
            self.use_instance(fv.call, _run_args(keywords), node)
            return V("result", ref=fv.call)
        if qual is None:
            self._walk_args(node)
            return DYN
        if qual in FLOW:
            return self.new_flow(node)
        if qual in COPY:
            keywords, positionals, _ = self.args(node)
            return (self.clone(node, positionals[0][0]) if len(positionals) == 1 and not keywords else None) or DYN
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
            self.env_read(key[0].s if key and key[0].kind == "str" else None, node)
            return V("env", ref=key[0].s if key and key[0].kind == "str" else None)
        if qual in PARTIAL:
            keywords, positionals, star = self.args(node)
            if positionals and positionals[0][0].kind == "qual":
                entry = self.cat.lookup(positionals[0][0].qual)
                if entry is not None:
                    call_id = self.new_call(entry, node, keywords, star)
                    return V("instance", call=call_id)
                if not _outside_project(positionals[0][0].qual):
                    return positionals[0][0]  # partial(handler, ...) runs the project function
            return DYN
        if qual in EDGE_ANNOTATIONS:
            keywords, positionals, _ = self.args(node)
            if positionals:  # unmapped(x), mapped(x), flatten(x) hand x itself to the task
                return positionals[0][0]
            return DYN
        if qual in APPLY_MAP:
            # apply_map(fn, *args): fn runs while the flow is built, adding the tasks it calls.
            keywords, positionals, _ = self.args(node)
            func = keywords.get("func") or (positionals[0] if positionals else None)
            self.mark_passed(positionals[1:], {k: v for k, v in keywords.items() if k != "func"})
            if func is not None and func[0].kind == "qual" and func[0].qual and not _outside_project(func[0].qual):
                here = self.here
                if here.kind in ("flow", "function"):
                    self._add_use(Use(target=func[0].qual, pos=self.want(node) if here.kind == "flow" else Pos()))
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
        self.passes_self(qual, positionals, keywords)
        here = self.here
        if any(v.kind in ("flow", "flowset", "qual") for v, _ in list(positionals) + list(keywords.values())):
            self.helper_calls.append((qual, positionals, keywords))  # may set storage on the flows it gets
        if fv.ref == "task" or fv.var:
            keywords = _run_args(keywords)
        target = fv.var or qual  # a module-level instance by its own name
        if _outside_project(qual):
            pass
        elif here.kind == "flow":
            self._add_use(self.named(Use(target=target, run=self.export_args(None, keywords), pos=self.want(node)), "target", fv))
        elif here.kind == "function":
            self._add_use(self.named(Use(target=target, run=self.export_args(None, keywords, positions=False)), "target", fv))
        elif here.kind == "task":
            routine = self.f.routines.get(here.owner or "")
            if routine is not None:
                routine.uses.append(self.named(Use(target=target, run=self.export_args(None, keywords, positions=False)),
                                               "target", fv))
        if fv.kind == "class" or (fv.kind == "qual" and qual.rsplit(".", 1)[-1][:1].isupper()):
            # An instance of a project class (a Task subclass, say): calling it later in a flow
            # is a use of that class. Handlers it is given go with it (with the flow or function
            # that adds it here; with its module-level name when it is bound to one).
            refs: List[Ref] = []
            ids: List[int] = []
            for key in HANDLER_KEYWORDS:
                if key in keywords and key != "terminal_state_handler":
                    ids.extend(self.handlers(keywords[key][0], refs, keywords[key][1]))
            attached = None
            if (ids or refs) and here.kind == "flow" and here.flow is not None:
                self.attach_handlers(V("flow", flow=here.flow), ids, refs)
            elif (ids or refs) and here.kind == "function" and here.owner in self.f.routines:
                self.attach_handlers(V("qual", qual=here.owner), ids, refs)
            elif ids or refs:
                attached = (ids, refs)
            return V("qual", qual=qual, ref="instance", attached=attached,
                     made=(node, keywords, positionals, self.statement))
        return V("result", qual=qual, made=(node, None, None, self.statement)) if fv.kind == "qual" else DYN

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
        flow = self.flow_from(node, keywords, positionals)
        if flow is None:
            return DYN  # Prefect 2.x Flow(fn) or something else entirely
        self.f.prefect1 = True
        return V("flow", flow=flow.index)

    def flow_from(self, node: cst.Call, keywords: Dict[str, tuple], positionals: List[tuple],
                  cls: Optional[str] = None, statement: Optional[int] = None) -> Optional[FlowFact]:
        """The flow made by calling Prefect's Flow, or a class that may be a Flow subclass (`cls`;
        `statement` is where the call is when it is recorded later). A flow is a flow whatever its
        name: one that cannot be folded is shown as written (`Flow(os.getenv("X"))`)."""
        name = keywords.get("name") or (positionals[0] if positionals else None)
        if any(_flow_function(given[0], given[1], self.f.prefect2) for given in [name] + positionals[:1] if given):
            return None
        flow = FlowFact(
            index=len(self.f.flows),
            name=name[0].s if name and name[0].kind == "str" else None,
            var=None,
            pos=self.want(node) if statement is None else self.want_at(node, statement),
            scope=self.here.owner or "",
            cls=cls,
            label=_label(node, name[1]) if name is not None and name[0].kind != "str" else None,
        )
        self.f.flows.append(flow)
        for attr in ("storage", "run_config"):
            if attr in keywords and keywords[attr][0].kind == "instance":
                setattr(flow, attr, keywords[attr][0].call)
            elif attr in keywords and _ref(keywords[attr][0]):
                setattr(flow, attr + "_ref", _ref(keywords[attr][0]))
        if cls is None:  # a project class's instance keeps the handlers it is given (`V.attached`)
            self.given_handlers(flow, keywords)
        if "tasks" in keywords and keywords["tasks"][0].kind == "list":
            for value, value_node in keywords["tasks"][0].elements:
                self._flow_add(flow, value, {}, value_node)
        return flow

    # flows that are not a plain Flow(...) ---------------------------------------------------------
    def want_at(self, node: cst.CSTNode, statement: int) -> Pos:
        """`want` for a node of an earlier top-level statement (a call recorded once its value is used)."""
        pos = Pos()
        self.wanted.setdefault(id(node), []).append(pos)
        self.statements.add(statement)
        return pos

    def candidate(self, value: V, var: Optional[str]) -> V:
        """`with CustomFlow(...) as f:`, `f = OwnedFlow(...)`: an instance of a class this file
        cannot place (`Flow` imported from a project module, a subclass defined elsewhere) is
        recorded as a flow that the project keeps once it has followed the class to Prefect's Flow."""
        if value.kind != "qual" or value.made is None or value.flow is not None or self.here.kind in ("task", "class") \
                or _outside_project(value.qual or ""):
            return value
        node, keywords, positionals, statement = value.made
        if keywords is None:  # a function's result: a flow only once given a storage (`promote`)
            return value
        value.made = None
        flow = self.flow_from(node, keywords, positionals, cls=value.qual, statement=statement)
        if flow is not None:
            flow.var = var
            value.flow = flow.index
        return value

    def kept_flow(self, name: str, value_node: cst.CSTNode, value: V) -> Optional[V]:
        """`flow = set_defaults(flow, ...)` (or `flow=flow`): a helper handed a flow and assigned
        back to its name returns that flow (what it returns is unknown, and a different object is
        unlikely)."""
        if value.kind != "result" or not isinstance(value_node, cst.Call):
            return None
        if not any(not arg.star and isinstance(arg.value, cst.Name) and arg.value.value == name
                   for arg in value_node.args):
            return None
        binding = self.lookup(name)
        old = binding[1] if binding is not None and binding[0] == "value" else None
        return old if old is not None and _flow_index(old) is not None and old.kind != "self" else None

    def clone(self, node: cst.Call, value: V) -> Optional[V]:
        """`deepcopy(flow)`, `copy(flow)`, `flow.copy()`: a flow with the original's tasks (and its
        storage and run config until its own are set). The original may be in another module."""
        index = _flow_index(value)
        if index is None and (value.kind != "qual" or not value.qual or _outside_project(value.qual)
                              or value.ref in ("function", "task")):
            return None
        flow = FlowFact(index=len(self.f.flows), name=None, var=None, pos=self.want(node),
                        scope=self.here.owner or "", source="copy", copy_of=index,
                        origin=value.qual if index is None else None)
        self.f.flows.append(flow)
        if value.kind == "flow":
            return V("flow", flow=flow.index)
        return V("qual", qual=value.qual, ref=value.ref, flow=flow.index)

    def promote(self, name: str, value: V) -> V:
        """`plan = build_plan(...)` then `plan.storage = S3(...)`: only a flow takes a storage or a
        run config, so what the call returned is one, made where the call is."""
        node, _, _, statement = value.made
        value.made = None
        flow = FlowFact(index=len(self.f.flows), name=None, var=name, pos=self.want_at(node, statement),
                        scope=self.here.owner or "", source="call", origin=f"{value.qual}()")
        self.f.flows.append(flow)
        promoted = V("result", qual=value.qual, flow=flow.index)
        last = len(self.scopes) - 1
        for index in range(last, -1, -1):
            if index != last and self.scope_kinds[index] == "class":
                continue
            binding = self.scopes[index].get(name)
            if binding is not None:
                if binding[0] == "value" and binding[1] is value:
                    self.scopes[index][name] = ("value", promoted)
                    if index == 0:
                        self.f.flow_vars[name] = flow.index
                break
        return promoted

    def class_fact(self, node: cst.ClassDef, qual: str, bases: List[str]) -> None:
        """A class whose bases may lead to Prefect's Flow. A flow fact stands for the class itself
        (what its methods add to `self`); its methods see `self` as that flow."""
        bases = [b for b in bases if b in FLOW or not _outside_project(b)]
        if not bases:
            return
        flow = FlowFact(index=len(self.f.flows), name=node.name.value, var=None, pos=self.want(node.name),
                        scope=self.here.owner or "", source="class", cls=qual)
        self.f.flows.append(flow)
        self.f.classes[qual] = ClassFact(qualname=qual, bases=bases, flow=flow.index)

    def local_flow_class(self, qual: Optional[str]) -> bool:
        """A class of this file known to be a Flow subclass without the rest of the project."""
        cls = self.f.classes.get(qual or "")
        return cls is not None and any(b in FLOW or (b != qual and self.local_flow_class(b)) for b in cls.bases)

    def passes_self(self, qual: str, positionals: List[tuple], keywords: Dict[str, tuple]) -> None:
        """A Flow subclass's method handing `self` to project code, which may add its tasks."""
        if _outside_project(qual):
            return
        for value, _ in list(positionals) + [v for k, v in keywords.items() if k != "flow"]:
            if value.kind == "self":
                self.f.classes[value.qual].passes_self = True

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
            guarded=self.guarded("ValueError"),
        )
        self.f.calls.append(call)
        self.f.prefect1 = True
        self.given_handlers(call, keywords)  # a Result reads its own credentials too
        return call.id

    def given_handlers(self, owner, keywords: Dict[str, tuple]) -> None:
        """`state_handlers=`, `on_failure=`, `terminal_state_handler=` and `result=` given to a
        Flow or a catalogued task."""
        for key in HANDLER_KEYWORDS:
            if key in keywords:
                owner.handlers.extend(self.handlers(keywords[key][0], owner.handler_refs, keywords[key][1]))

    def handlers(self, value: V, refs: Optional[List[Ref]] = None, node=None) -> List[int]:
        """State handlers from a `state_handlers=[...]` value (bare notifier, curried or partial),
        or one handler (`on_failure=`, `terminal_state_handler=`) or a `result=`: catalogued ones
        as CallFact ids; into `refs`, the ones the project resolves by name (a project function,
        whose body runs as the handler; an imported instance; what a helper returns)."""
        out: List[int] = []
        items = value.elements if value.kind == "list" else [(value, node or value.node)]
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
                elif entry is None and refs is not None and not _outside_project(item.qual):
                    refs.append(self.named(Ref(item.var or item.qual, self.want(item_node)), "name", item))
            elif item.kind == "result" and item.qual and refs is not None and not _outside_project(item.qual):
                refs.append(Ref(item.qual + "()", self.want(item_node)))
        return out

    def returned(self, routine: Routine, value: V) -> None:
        """What a function returns, for the flows that take it as storage, run config, result or
        handler: catalogued instances, other helpers' results, or something else."""
        if value.kind == "instance":
            routine.returns.append(value.call)
        elif value.kind == "result" and value.qual and not _outside_project(value.qual):
            routine.return_refs.append(value.qual)
        else:
            routine.returns_other = True

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
                elif item.kind == "qual" and item.qual and here.kind == "flow" and item.ref != "function" \
                        and not _outside_project(item.qual):
                    # A project task passed along (`upstream_tasks=[load]`, `ifelse(c, a, b)`): the
                    # project adds it if the name is a task, and ignores any other name.
                    self._add_use(self.named(Use(target=item.var or item.qual, called=False), "target", item))

    def _add_use(self, use: Use) -> None:
        here = self.here
        if here.kind == "flow" and here.flow is not None:
            self.f.flows[here.flow].uses.append(use)
            outer = self.settled
            if here.tentative and outer.kind in ("function", "task") and outer.owner in self.f.routines:
                self.f.routines[outer.owner].uses.append(use)  # in case it is no flow after all
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
        here = self.settled
        index = len(self.f.reads)
        required = required and not self.guarded("ValueError" if mechanism == "secret_get" else "KeyError")
        context = "function" if self.lambdas and here.kind in ("module", "flow", "class") else here.kind
        self.f.reads.append(SecretRead(name=name, mechanism=mechanism, required=required, context=context,
                                       owner=here.owner, pos=self.want(node), api=api))
        if here.kind in ("task", "function") and here.owner in self.f.routines:
            self.f.routines[here.owner].reads.append(index)

    def env_read(self, name: Optional[str], node) -> None:
        """A credential-named environment variable read inside a function (a task's body, a helper)."""
        here = self.here
        if not name or here.kind not in ("task", "function") or not is_credential_name(name):
            return
        index = len(self.f.env_reads)
        self.f.env_reads.append(EnvRead(name=name, context=here.kind, owner=here.owner, pos=self.want(node)))
        if here.owner in self.f.routines:
            self.f.routines[here.owner].env_reads.append(index)

    # credentials given to any call --------------------------------------------------------
    def credential_args(self, node: cst.Call, keywords: Dict[str, tuple], positionals: List[tuple]) -> None:
        """Record what a call outside the catalogue is given under a credential name, as bandit's
        B106 reads calls: a literal (or a folded constant, or a constant of another module) passed
        to a credential-named keyword (`Client(client_secret="...")`, `auth=("u", "p")`, a dict with
        credential keys), and a credential-named constant passed to it (`connect(DB_PASSWORD)`).
        Catalogued classes, their instances and the Prefect constructs this pass reads itself are
        left to the catalogue (CL201 knows their parameters, and which of them are names)."""
        seen = self.__dict__.setdefault("_credential_calls", set())
        if id(node) in seen:
            return
        seen.add(id(node))
        shown, qual, handled = self._callee(node.func)
        if handled or (qual in PARTIAL and positionals and positionals[0][0].kind == "qual"
                       and self.cat.lookup(positionals[0][0].qual or "") is not None):
            return
        # Prefect's own parameters follow its convention (`webhook_secret=` names a secret); other
        # code's `*_secret=` holds the secret.
        prefect = bool(qual) and (qual == "prefect" or qual.startswith("prefect."))
        credential = is_credential_name if prefect else is_credential_env_name
        given = [(name, value, value_node, True) for name, (value, value_node) in keywords.items()]
        given += [(None, value, value_node, False) for value, value_node in positionals]
        written = {id(arg.value) for arg in node.args}
        spread = next((arg.value for arg in node.args if arg.star == "**"), node)
        for name, value, value_node, by_keyword in given:
            if by_keyword and credential(name):
                if value.kind == "str" and name.rsplit("_", 1)[-1].lower() == "auth" and is_auth_method(value.s or ""):
                    continue  # auth="basic": a method, not a credential
                if value.kind == "str" and name.lower().endswith("secret") and _SECRET_NAME.fullmatch(value.s or ""):
                    continue  # credentials_secret="SENDGRID": a helper written the Prefect way, given a name
                if value.kind == "str" and "dsn" in name.lower() and is_public_dsn(value.s or ""):
                    continue  # sentry_sdk.init(dsn=...): a public key
                if value.kind not in ("str", "bytes", "dict", "list", "qual"):
                    continue
            elif isinstance(value_node, (cst.Name, cst.Attribute)) and value.kind in ("str", "bytes", "qual"):
                # A module constant named for a credential, passed on (`Client(key=API_KEY)`,
                # `connect(settings.DB_PW)`); a function's local variable is not one.
                const = value_node.value if isinstance(value_node, cst.Name) else value_node.attr.value
                if not is_credential_env_name(const) or _names_a_field(value):
                    continue
                if isinstance(value_node, cst.Name) and self.scopes[0].get(const) is not self.lookup(const):
                    continue
                name, by_keyword = const, False
            elif by_keyword and value.kind == "dict":
                # `connect_args={"password": ...}`: the rule reads the credential keys; a mapping
                # of names (`rename(columns={"pwd": "password"})`) holds no value
                items = [item for item in value.items if not _names_a_field(item[1])]
                if not items:
                    continue
                value = V("dict", items=items, dyn=value.dyn, node=value.node)
            else:
                continue
            exported = self.export(value, safe=False, node=value_node, mask=True)
            # An entry of `**CONFIG` is written elsewhere: the finding goes on the `**` argument.
            arg = Arg(value=exported, pos=self.want(value_node if id(value_node) in written else spread))
            if value.node is not value_node or id(value_node) not in written:
                pass  # a dict or list written elsewhere (`connect_args=SETTINGS`): the argument's place
            elif value.kind == "dict":
                for _, _, key_node, item_node in value.items:
                    arg.keys.append(self.want(key_node))
                    arg.parts.append(self.want(item_node))
            elif value.kind == "list":
                arg.parts.extend(self.want(item_node) for _, item_node in value.elements)
            self.f.credential_args.append(CredentialArg(callee=shown, name=name or "", arg=arg, keyword=by_keyword))

    def in_tests(self) -> bool:
        """Test code (a test file, a `test_*` function, a `Test*` class), where a weak password or a
        `test-token` is a fake given to the code under test."""
        if is_test_path(self.f.path):
            return True
        owner = self.here.owner or ""
        if self.f.module and owner.startswith(self.f.module + "."):
            owner = owner[len(self.f.module) + 1:]
        return any(part.startswith(("test_", "Test")) for part in owner.split(".") if part)

    def _callee(self, func) -> Tuple[str, Optional[str], bool]:
        """(what a call calls as written, its qualified name when known, whether the catalogue or
        this pass already reads it), found without evaluating anything."""
        shown = _dotted(func) or (func.attr.value if isinstance(func, cst.Attribute) else "a call")
        qual: Optional[str] = None
        handled = False
        if isinstance(func, cst.Name):
            binding = self.lookup(func.value)
            if binding is not None and binding[0] in ("import", "def"):
                qual = binding[1]
            elif binding is not None and binding[0] == "value":
                value = binding[1]
                handled = value.kind in ("instance", "flow", "flowset")
                qual = value.qual if value.kind in ("qual", "class") else None
        elif isinstance(func, cst.Attribute):
            _, base, handled = self._callee(func.value)
            qual = f"{base}.{func.attr.value}" if base else None
        elif isinstance(func, cst.Call):
            _, inner, handled = self._callee(func.func)
            handled = handled or (inner is not None and self.cat.lookup(inner) is not None)
        if qual is not None and not handled:
            handled = self.cat.lookup(qual) is not None or qual in _READ_BY_THE_PASS or \
                qual.rsplit(".", 1)[0] in CONTEXT_SECRETS
        return shown, qual, handled

    # export ---------------------------------------------------------------------------------
    def export_args(self, entry: Optional[Entry], keywords: Dict[str, tuple], positions: bool = True) -> Dict[str, Arg]:
        safe_names = set(NAME_ARGS)
        if entry is not None:
            safe_names.update(entry.name_params)
            for spec in entry.secrets:
                safe_names.update(k for k, _ in spec.skip_if)
        out: Dict[str, Arg] = {}
        for key, (value, node) in keywords.items():
            safe = key in safe_names or (key in TEMPLATE_PATH_ARGS and _plain_path(value))
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
            placeholder = is_placeholder(text) or (self.in_tests() and is_test_fake(text))
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


def _plain_path(value: V) -> bool:
    """A literal file path or URL with nothing in it that could be a credential."""
    text = value.s if value.kind == "str" else None
    return bool(text) and "@" not in text and "?" not in text and not looks_like_credential(text)


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


def _always_returns(body) -> bool:
    """Whether a block always ends in `return` or `raise` (a cautious reading: loops and `try`
    count as blocks that may fall through)."""
    statements = body.body if isinstance(body, (cst.IndentedBlock, cst.SimpleStatementSuite)) else body
    if not statements:
        return False
    last = statements[-1]
    if isinstance(last, cst.SimpleStatementLine):
        return any(isinstance(s, (cst.Return, cst.Raise)) for s in last.body)
    if isinstance(last, (cst.Return, cst.Raise)):
        return True
    if isinstance(last, cst.If):
        if last.orelse is None or not _always_returns(last.body):
            return False
        other = last.orelse
        return _always_returns(other.body) if isinstance(other, cst.Else) else _always_returns([other])
    if isinstance(last, cst.With):
        return _always_returns(last.body)
    return False


def _flow_keyword(node: cst.Call) -> bool:
    return any(arg.keyword is not None and arg.keyword.value == "flow" for arg in node.args)


def _run_args(keywords: Dict[str, tuple]) -> Dict[str, tuple]:
    """The keywords of a task call that reach its run(), without the wiring ones (flow=, ...)."""
    if not any(k in WIRING_KEYWORDS for k in keywords):
        return keywords
    return {k: v for k, v in keywords.items() if k not in WIRING_KEYWORDS}


def _raises(node: cst.CSTNode) -> bool:
    if isinstance(node, cst.Raise):
        return True
    if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
        return False
    return any(_raises(child) for child in _children(node))


def _caught(node) -> set:
    """Exception names an `except` clause catches ("*": anything a missing secret raises)."""
    if node is None:
        return {"*"}
    if isinstance(node, cst.Tuple):
        return set().union(*(_caught(e.value) for e in node.elements)) if node.elements else set()
    name = _dotted(node)
    name = name.rsplit(".", 1)[-1] if name else ""
    if name in ("Exception", "BaseException"):
        return {"*"}
    if name == "LookupError":
        return {"KeyError"}
    return {name} if name else set()


def _flow_index(value: V) -> Optional[int]:
    """The flow fact a value is or may be: a Flow, an instance of a class that may be a Flow
    subclass, a call's result given a storage, a copy, or `self` in a class's methods."""
    if value.kind in ("flow", "qual", "result", "self"):
        return value.flow
    return None


def _flow_function(value: V, node, prefect2: bool) -> bool:
    """Prefect 2.x's `Flow(fn)`: a function where Prefect 1.x takes the flow's name."""
    if isinstance(node, cst.Lambda) or (value.kind == "qual" and value.ref in ("function", "task")):
        return True
    if value.kind in ("instance", "list", "dict", "num", "bool", "none", "class", "flow"):
        return True
    return prefect2 and value.kind not in ("str", "dynamic")


def _label(call: cst.Call, name_node) -> Optional[str]:
    """A flow's name as written when it cannot be folded, `Flow(get_flow_name(__file__))`: short,
    stable across runs, and never showing a literal that looks like a credential."""
    if name_node is None or _shows_credential(name_node):
        return None
    module = cst.Module(body=[])
    try:
        text = " ".join(module.code_for_node(name_node).split())
        callee = " ".join(module.code_for_node(call.func).split())
    except Exception:  # noqa: BLE001 - a node libcst cannot print on its own
        return None
    if len(text) > 60:
        text = text[:59] + "\u2026"
    return f"{callee[:40]}({text})"


def _shows_credential(node: cst.CSTNode) -> bool:
    if isinstance(node, cst.SimpleString):
        return looks_like_credential(_plain_string(node.value) or node.value)
    if isinstance(node, cst.FormattedStringText):
        return looks_like_credential(node.value)
    return any(_shows_credential(child) for child in _children(node))


def _param(value: V) -> Optional[Tuple[Optional[int], str]]:
    """(position, name) when the value is a parameter of the function being read."""
    ref = value.ref if value.kind == "dynamic" else None
    return (ref[1], ref[2]) if isinstance(ref, tuple) and ref[0] == "param" else None


def _argument(positionals: List[tuple], keywords: Dict[str, tuple], index: Optional[int], name: str) -> Optional[tuple]:
    """The (V, node) a call passes for a parameter, by keyword or by position."""
    if name in keywords:
        return keywords[name]
    if index is not None and index < len(positionals):
        return positionals[index]
    return None


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


_SECRET_NAME = re.compile(r"[A-Z][A-Z0-9_]{2,63}")  # how Prefect secrets are named


def _names_a_field(value: V) -> bool:
    """A constant whose text is a credential's *name* (`PASSWORD_KEY = "password"`,
    `TOKEN_FIELD = "api_token"`): a key to look a value up by, not the value."""
    text = value.s if value.kind == "str" else None
    return bool(text) and re.fullmatch(r"[A-Za-z][\w\-]{0,63}", text) is not None and \
        (is_credential_name(text) or is_credential_env_name(text))


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
