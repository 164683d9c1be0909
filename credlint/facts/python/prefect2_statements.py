"""The 2.x/3.x pass's walk over statements: blocks in order, functions (a @flow, a @task, their
hooks, a flow's parameters, default arguments evaluated at import), classes (a block class),
`if __name__ == "__main__":` (code that runs as a script, not at import), `try` (a handler that
catches a missing block's ValueError), assignments and returns; and what needs the whole file
once it is read (which functions are hooks, the block names helpers of this file are given)."""
from __future__ import annotations

from typing import Dict, List, Optional

import libcst as cst

from credlint.facts.blocks import FlowParameter, FunctionFact
from credlint.facts.naming import is_credential_name
from credlint.facts.python.folding import DYN, V
from credlint.facts.python.scopes import Context
from credlint.facts.python.syntax import IS_EXPRESSION, ChildWalk, caught_names, children, dotted_name, raises
from credlint.facts.values import secretish
from credlint.prefect.symbols2 import FLOW_CLASS, FLOW_DECORATOR, HOOK_KEYWORDS, TASK_DECORATOR


class Statements2(ChildWalk):
    """Statements and definitions, read in source order."""

    def suite(self, body) -> None:
        if isinstance(body, cst.IndentedBlock):
            for statement in body.body:
                self.stmt(statement)
        elif isinstance(body, cst.SimpleStatementSuite):
            for small in body.body:
                self.small(small)

    def stmt(self, node: cst.CSTNode) -> None:
        if isinstance(node, cst.SimpleStatementLine):
            for small in node.body:
                self.small(small)
        elif isinstance(node, cst.FunctionDef):
            self.function_def(node)
        elif isinstance(node, cst.ClassDef):
            self.class_def(node)
        elif isinstance(node, cst.If):
            self.if_stmt(node)
        elif isinstance(node, (cst.Try, cst.TryStar)):
            self.try_stmt(node)
        elif isinstance(node, cst.For):
            self.ev(node.iter)
            self.bind_targets(node.target)
            self.suite(node.body)
            if node.orelse is not None:
                self.suite(node.orelse.body)
        elif isinstance(node, cst.With):
            for item in node.items:
                value = self.ev(item.item)
                if item.asname is not None:
                    self.assign(item.asname.name, value, item.item)
            self.suite(node.body)
        else:
            self.generic_stmt(node)

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
            self.bind_targets(node.target)
        elif isinstance(node, cst.Import):
            self.import_(node)
        elif isinstance(node, cst.ImportFrom):
            self.import_from(node)
        elif isinstance(node, cst.Return):
            value = self.ev(node.value) if node.value is not None else V("none")
            function = self.blocks.functions.get(self.here.owner or "")
            if function is not None and node.value is not None:
                function.returns.append(self.export(value, safe=False, node=node.value, mask=False))
        else:
            for child in children(node):
                if IS_EXPRESSION[type(child)]:
                    self.ev(child)

    def assign(self, target: cst.CSTNode, value: V, value_node: cst.CSTNode) -> None:
        if isinstance(target, cst.Name):
            self.bind(target.value, ("value", value))
            if len(self.scopes) == 1:
                self.named_at_module_level(target.value, value)
        elif isinstance(target, cst.Attribute):
            base = self.ev(target.value)
            if base.kind == "build":
                self.set_field(base, target.attr.value, value, value_node)
        elif isinstance(target, cst.Subscript):
            self.ev(target.value)
            for element in target.slice:
                if isinstance(element.slice, cst.Index):
                    self.ev(element.slice.value)
        else:
            self.bind_targets(target)

    def bind_targets(self, target: cst.CSTNode) -> None:
        """Names bound to values the pass does not follow (`for x in ...`, `a, b = ...`)."""
        if isinstance(target, cst.Name):
            self.bind(target.value, ("value", DYN))
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self.bind_targets(element.value)
        elif isinstance(target, cst.StarredElement):
            self.bind_targets(target.value)

    # ----- blocks that decide when code runs --------------------------------------------------
    def if_stmt(self, node: cst.If) -> None:
        self.ev(node.test)
        main = self.here.kind == "module" and _is_main_test(node.test)
        if main:
            self.ctx.append(Context("main", None, None))
        self.suite(node.body)
        if main:
            self.ctx.pop()
        if isinstance(node.orelse, cst.If):
            self.if_stmt(node.orelse)
        elif node.orelse is not None:
            self.suite(node.orelse.body)

    def try_stmt(self, node) -> None:
        caught = set()
        for handler in node.handlers:
            if not raises(handler.body):
                caught |= caught_names(handler.type)
        self.caught.append(caught)
        self.suite(node.body)
        self.caught.pop()
        for handler in node.handlers:
            self.suite(handler.body)
        for extra in (node.orelse, node.finalbody):
            if extra is not None:
                self.suite(extra.body)

    # ----- definitions ------------------------------------------------------------------------
    def function_def(self, node: cst.FunctionDef) -> None:
        kind, options, hook_of = self.decorators(node)
        params = list(node.params.posonly_params) + list(node.params.params) + list(node.params.kwonly_params)
        evaluated_at_import = self.here.kind in ("module", "class")
        defaults: Dict[str, tuple] = {}
        self.defaults += evaluated_at_import
        try:
            for param in params:
                if param.default is not None:
                    defaults[param.name.value] = (self.ev(param.default), param.default)
        finally:
            self.defaults -= evaluated_at_import
        name = node.name.value
        qual = self.qualify(name)
        function = FunctionFact(qualname=qual, kind=kind, pos=self.want(node.name),
                                is_async=node.asynchronous is not None, params=[p.name.value for p in params])
        self.blocks.functions[qual] = function
        self.flow_keywords(function, options)
        if kind == "flow":
            function.parameters = [self.flow_parameter(p, defaults.get(p.name.value)) for p in params]
        for owner, hook in hook_of:
            self.add_hook(owner, hook, qual)
        self.bind(name, ("def", qual, kind))
        self.scopes.append({})
        self.scope_kinds.append("function")
        self.ctx.append(Context(kind, qual, None))
        self.async_stack.append(node.asynchronous is not None)
        positional = list(node.params.posonly_params) + list(node.params.params)
        for param in params:
            index = next((i for i, p in enumerate(positional) if p is param), None)
            self.bind(param.name.value, ("value", V("dynamic", ref=("param", index, param.name.value))))
        for star in (node.params.star_arg, node.params.star_kwarg):
            if isinstance(star, cst.Param):
                self.bind(star.name.value, ("value", DYN))
        self.suite(node.body)
        self.async_stack.pop()
        self.ctx.pop()
        self.scopes.pop()
        self.scope_kinds.pop()

    def decorators(self, node: cst.FunctionDef):
        """(kind, the decorator's keywords, [(flow or task, hook keyword)]) of a definition:
        `@flow(name=..., on_failure=[...])`, `@task`, `@my_flow.on_failure`. Decorators are
        evaluated where the function is defined."""
        kind = "function"
        options: Dict[str, tuple] = {}
        hook_of: List[tuple] = []
        for decorator in node.decorators:
            expr = decorator.decorator
            target = expr.func if isinstance(expr, cst.Call) else expr
            value = self.ev(target)
            keywords = self.args(expr)[0] if isinstance(expr, cst.Call) else {}
            qual = value.qual if value.kind == "qual" else None
            if qual in FLOW_DECORATOR or qual in FLOW_CLASS:
                kind, options = "flow", keywords
            elif qual in TASK_DECORATOR:
                kind, options = "task", keywords
            elif isinstance(target, cst.Attribute) and target.attr.value in HOOK_KEYWORDS:
                owner = self.ev(target.value)
                if owner.kind == "qual" and owner.qual:
                    hook_of.append((owner.qual, target.attr.value))
        return kind, options, hook_of

    def flow_keywords(self, function: FunctionFact, keywords: Dict[str, tuple]) -> None:
        """`name=` and the state hooks given to @flow / @task (or to `flow(fn, ...)`)."""
        given = keywords.get("name")
        if given is not None and given[0].kind == "str" and not secretish(given[0].s or ""):
            function.name = given[0].s
        for key in HOOK_KEYWORDS:
            if key not in keywords:
                continue
            value = keywords[key][0]
            for item in [v for v, _ in value.elements] if value.kind == "list" else [value]:
                if item.kind == "qual" and item.qual:
                    self.add_hook(function.qualname, key, item.qual)

    def add_hook(self, owner: str, keyword: str, hook: str) -> None:
        function = self.blocks.functions.get(owner)
        if function is not None and hook not in function.hooks.get(keyword, ()):
            function.hooks.setdefault(keyword, []).append(hook)
            self.hooks.add(hook)

    def flow_parameter(self, param: cst.Param, default: Optional[tuple]) -> FlowParameter:
        name = param.name.value
        credential = is_credential_name(name)
        return FlowParameter(name=name, pos=self.want(param.name), credential=credential,
                             default=self.arg(default[0], default[1], mask=credential) if default else None,
                             annotation=self.annotation_of(param.annotation))

    def annotation_of(self, annotation: Optional[cst.Annotation]) -> Optional[str]:
        """A parameter's annotation by qualified name (`str`, `pydantic.SecretStr`), the inner
        type of `Optional[X]` / `X | None`; None for anything else."""
        if annotation is None:
            return None
        node = annotation.annotation
        if isinstance(node, cst.Subscript) and (dotted_name(node.value) or "").rsplit(".", 1)[-1] == "Optional" \
                and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            node = node.slice[0].slice.value
        elif isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
            node = node.left if not (isinstance(node.left, cst.Name) and node.left.value == "None") else node.right
        if not isinstance(node, (cst.Name, cst.Attribute)):
            return None
        value = self.ev(node)
        if value.kind in ("qual", "class") and value.qual:
            return value.qual
        return dotted_name(node)

    def class_def(self, node: cst.ClassDef) -> None:
        bases = [self.ev(base.value) for base in node.bases]
        for keyword in node.keywords:
            self.ev(keyword.value)
        name = node.name.value
        qual = self.qualify(name)
        scope: Dict[str, tuple] = {}
        self.bind(name, ("def", qual, "class", scope))
        self.block_class(node, qual, bases)
        self.scopes.append(scope)
        self.scope_kinds.append("class")
        self.ctx.append(Context("class", qual, None))
        self.suite(node.body)
        self.ctx.pop()
        self.scopes.pop()
        self.scope_kinds.pop()

    # ----- once the file is read ------------------------------------------------------------
    def finish(self) -> None:
        """Functions given as hooks run as hooks; a helper of this file given a block's or a
        Variable's name by a call here keeps that name in the call's facts."""
        blocks = self.blocks
        hooks = {q for q in self.hooks if q in blocks.functions and blocks.functions[q].kind == "function"}
        for qual in hooks:
            blocks.functions[qual].kind = "hook"
        if hooks:
            for fact in blocks.loads + blocks.saves + blocks.builds + blocks.variables + blocks.calls + \
                    blocks.deployments:
                if fact.where == "function" and _inside(fact.owner, hooks):
                    fact.where = "hook"
        named = {}
        for fact in blocks.loads + blocks.saves + blocks.variables:
            if fact.name_param and fact.owner:
                named.setdefault(fact.owner, set()).add(fact.name_param)
        for site, positionals, keywords in self.pending_sites:
            wanted = named.get(site.target)
            if not wanted:
                continue
            params = blocks.functions[site.target].params
            for param in wanted:
                index = params.index(param) if param in params else None
                if param in keywords:
                    value, arg = keywords[param][0], site.args.get(param)
                elif index is not None and index < len(positionals):
                    value, arg = positionals[index][0], site.positional[index]
                else:
                    continue
                if value.kind == "str" and arg is not None and not secretish(value.s or ""):
                    arg.value.text = value.s  # a block's name, as the helper uses it


def _is_main_test(test: cst.BaseExpression) -> bool:
    """`__name__ == "__main__"` (either way round)."""
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    if not isinstance(test.comparisons[0].operator, cst.Equal):
        return False
    sides = [test.left, test.comparisons[0].comparator]
    names = [s for s in sides if isinstance(s, cst.Name) and s.value == "__name__"]
    texts = [s for s in sides if isinstance(s, cst.SimpleString) and s.value.strip("'\"") == "__main__"]
    return len(names) == 1 and len(texts) == 1


def _inside(owner: Optional[str], functions) -> bool:
    while owner:
        if owner in functions:
            return True
        owner = owner.rsplit(".", 1)[0] if "." in owner else None
    return False
