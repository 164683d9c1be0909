"""The walk over statements: blocks in order, `try` (a handler that catches a missing secret's
error makes the reads inside optional), assignments and returns, and the definitions that open a
context — functions and classes (a @task, a Task or Flow subclass), `for` over flows, `with` a
flow."""
from __future__ import annotations

from typing import Dict, List

import libcst as cst

from credlint.facts.types import Pos, Ref, Routine
from credlint.facts.python.folding import DYN, V, flow_index_of
from credlint.prefect.symbols import HANDLER_KEYWORDS, TASK_BASE, TASK_DECORATOR
from credlint.facts.python.scopes import Context
from credlint.facts.python.syntax import IS_EXPRESSION, ChildWalk, always_returns, caught_names, children, dotted_name, raises


class Statements(ChildWalk):
    """Statements and definitions, read in source order."""

    def suite(self, body) -> None:
        """Read a block's statements in order."""
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
        """Read one statement (a compound one with its blocks)."""
        tp = type(node)  # exact types: libcst's are ABCs, whose `isinstance` misses run Python code
        if tp is cst.SimpleStatementLine:
            for small in node.body:
                self.small(small)
        elif tp is cst.FunctionDef:
            self.function_def(node)
        elif tp is cst.ClassDef:
            self.class_def(node)
        elif tp is cst.With:
            self.with_stmt(node)
        elif tp is cst.For:
            self.for_stmt(node)
        elif tp is cst.Try:
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
            if not raises(handler.body):  # `except ValueError as e: raise Other(...) from e` is no fallback
                caught |= caught_names(handler.type)
        self.caught.append(caught)
        self.suite(node.body)
        self.caught.pop()
        for handler in node.handlers:
            self.suite(handler.body)
        for extra in (node.orelse, node.finalbody):
            if extra is not None:
                self.suite(extra.body)

    def small(self, node: cst.CSTNode) -> None:
        tp = type(node)
        if tp is cst.Expr:
            self.ev(node.value)
        elif tp is cst.Assign:
            value = self.ev(node.value)
            names = [t.target.value for t in node.targets if isinstance(t.target, cst.Name)]
            if names:
                value = self.kept_flow(names[0], node.value, value) or self.candidate(value, names[0])
            for target in node.targets:
                self.assign(target.target, value, node.value)
        elif tp is cst.AnnAssign:
            if node.value is not None:
                value = self.ev(node.value)
                if isinstance(node.target, cst.Name):
                    value = self.candidate(value, node.target.value)
                self.assign(node.target, value, node.value)
        elif tp is cst.AugAssign:
            value = self.ev(node.value)
            if isinstance(node.target, cst.Attribute) and node.target.attr.value == "state_handlers":
                refs: List[Ref] = []  # `x.state_handlers += [alert]`
                self.attach_handlers(self.ev(node.target.value), self.handlers(value, refs, node.value), refs)
            if isinstance(node.target, cst.Name):
                self.bind(node.target.value, ("value", DYN))
        elif tp is cst.Import:
            self.import_(node)
        elif tp is cst.ImportFrom:
            self.import_from(node)
        elif tp is cst.Return:
            value = self.ev(node.value) if node.value is not None else V("none")
            if flow_index_of(value) is not None and value.kind != "self":
                self.f.flows[value.flow].returned = True
            routine = self.f.routines.get(self.here.owner or "")
            if routine is not None:
                self.returned(routine, value)
        else:
            for child in children(node):
                if IS_EXPRESSION[type(child)]:
                    self.ev(child)

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
        self.ctx.append(Context(kind, qual, enclosing.flow if kind == "function" else None))
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
        if routine is not None and qual != enclosing.owner and not always_returns(node.body):
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
                binding = self.lookup(dotted_name(base.value) or "")
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
        self.ctx.append(Context("task" if is_task else "class", qual, None))
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
            if flow_index_of(value) is not None:
                flows.append(value.flow)
                certain = value.kind == "flow" or self.local_flow_class(value.qual if value.kind == "self"
                                                                         else self.f.flows[value.flow].cls)
                if value.kind == "self":
                    self.f.classes[value.qual].wired = True
        if flows:
            owner = self.here.owner
            self.ctx.append(Context("flow", owner, flows[-1], tentative=not certain))
            self.suite(node.body)
            self.ctx.pop()
        else:
            self.suite(node.body)
