"""What a call means in Prefect 2.x/3.x code: a block loaded, built or saved, a Variable read or
written, a flow or task run, deployed or served, a project function called (recorded for the
model to follow), an environment read, a secret wrapper (`SecretStr("...")` is its literal); and
the arguments every call is given. `await` is noted on the call it awaits."""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import libcst as cst

from credlint.facts.blocks import CallSite
from credlint.facts.naming import is_credential_name
from credlint.facts.python.folding import DYN, V
from credlint.facts.python.scopes import outside_project
from credlint.facts.values import secretish
from credlint.prefect.symbols import ENVIRON, GETENV
from credlint.prefect.symbols2 import (
    COPY_METHODS, DEPLOY_FUNCTIONS, DEPLOYMENT_CLASS, FLOW_CLASS, FLOW_DECORATOR, FLOW_DEPLOY_METHODS, FROM_SOURCE,
    HOOK_KEYWORDS, LOAD_METHODS, RUN_METHODS, RUNNER_STORAGE, SAVE_METHODS, SECRET_WRAPPERS, TASK_DECORATOR, VARIABLE_CLASS,
    VARIABLE_FUNCTIONS, VARIABLE_METHODS, is_block_module_class,
)

# Keywords of a call of project code whose text is kept: they name things (a block, a deployment).
_NAME_KEYWORD_ENDINGS = ("name", "block", "slug")


class Calls2:
    """Calls, methods and subscripts of the 2.x/3.x pass."""

    # ----- expressions -----------------------------------------------------------------------
    def ev(self, node: cst.CSTNode) -> V:
        """`await x` is x, noted as awaited (what a load or save records); the rest is Folding's."""
        if isinstance(node, cst.Await):
            self.awaited.add(id(node.expression))
            return self.ev(node.expression)
        return super().ev(node)  # type: ignore[misc]

    def args(self, node: cst.Call, positional: Tuple[str, ...] = ()) -> Tuple[Dict[str, tuple], List[tuple], bool]:
        """Evaluate arguments: (keywords name -> (V, node), positionals [(V, node)], whether some
        are unknown: `*args`, `**kwargs`); `positional` names the first positional parameters."""
        keywords: Dict[str, tuple] = {}
        positionals: List[tuple] = []
        star = False
        for arg in node.args:
            value = self.ev(arg.value)
            if arg.keyword is not None:
                keywords[arg.keyword.value] = (value, arg.value)
            elif arg.star == "**":
                if value.kind == "dict":
                    for key, item, _, item_node in value.items:
                        keywords.setdefault(key, (item, item_node))
                    star = star or value.dyn
                else:
                    star = True
            elif arg.star == "*":
                star = True
            else:
                positionals.append((value, arg.value))
        for index, name in enumerate(positional):
            if index < len(positionals) and name not in keywords:
                keywords[name] = positionals[index]
        return keywords, positionals, star

    def walk_args(self, node: cst.Call) -> None:
        self.args(node)

    def subscript(self, node: cst.Subscript) -> V:
        """`os.environ["X"]` is an environment read; an item of a secret's value is the secret."""
        base = self.ev(node.value)
        key = self.subscript_key(node)
        for element in node.slice:
            if isinstance(element.slice, cst.Index):
                self.ev(element.slice.value)
        if base.qual == ENVIRON:
            return V("env", ref=key)
        if base.kind == "block_value":
            return V("block_value", call=base.call)
        return DYN

    # ----- calls -------------------------------------------------------------------------------
    def call(self, node: cst.Call, called: bool = False) -> V:
        func = node.func
        if isinstance(func, cst.Attribute):
            return self.method_call(node, func)
        if isinstance(func, cst.Call):  # `flow(name="x")(fn)`, `my_task.with_options(...)(x)`
            return self.call_value(node, self.call(func, called=True))
        return self.call_value(node, self.ev(func))

    def method_call(self, node: cst.Call, func: cst.Attribute) -> V:
        method = func.attr.value
        base = self.ev(func.value)
        kind = base.kind
        if kind in ("qual", "class") and base.qual:
            qual = base.qual
            if method in LOAD_METHODS:
                known = self.block_kind(base)
                if known is not None:
                    return self.block_load(node, base, method, known)
            if qual in VARIABLE_CLASS and method in VARIABLE_METHODS:
                return self.variable_use(node, VARIABLE_METHODS[method], method)
            if qual in DEPLOYMENT_CLASS and method == "build_from_flow":
                return self.deployment(node, "build_from_flow", None)
            if method == FROM_SOURCE and (qual in FLOW_DECORATOR or qual in FLOW_CLASS or base.ref == "flow"):
                return self.from_source(node)
            if kind == "qual" and (base.ref in ("flow", "task", "function") or not outside_project(qual)):
                handled = self.flow_method(node, base, method)
                if handled is not None:
                    return handled
            return self.call_value(node, V("qual", qual=f"{qual}.{method}"))
        if kind in ("build", "block") and method in SAVE_METHODS:
            return self.block_save(node, base, method)
        if kind == "result" and base.made is not None and method in SAVE_METHODS:
            made, given = base.made
            return self.block_save(node, self.block_build(made, base, False, given), method)
        if kind == "block" and method == "get":
            self.walk_args(node)
            self.blocks.loads[base.call].get = True
            return V("block_value", call=base.call)
        if kind == "flow_source" and method in FLOW_DEPLOY_METHODS:
            return self.deployment(node, method, base)
        if kind == "str" and method == "format":
            return self.format_string(node, base)
        self.walk_args(node)
        return DYN

    def flow_method(self, node: cst.Call, base: V, method: str) -> Optional[V]:
        """A method of a flow or task (of this module, or imported: the model checks what it is):
        deploying or serving it, running it another way, copying it, giving it a hook."""
        if method in FLOW_DEPLOY_METHODS:
            return self.deployment(node, method, base)
        if method in RUN_METHODS:
            return self.call_site(node, base.qual, via=method)
        if method in COPY_METHODS:
            self.walk_args(node)
            return base
        if method in HOOK_KEYWORDS and base.qual in self.blocks.functions:
            keywords, positionals, _ = self.args(node)
            if positionals and positionals[0][0].kind == "qual" and positionals[0][0].qual:
                self.add_hook(base.qual, method, positionals[0][0].qual)
            return positionals[0][0] if positionals else DYN
        return None

    def call_value(self, node: cst.Call, fv: V) -> V:
        if fv.kind == "decorator":  # `flow(name="x")(fn)`: the keywords were the decorator's
            _, positionals, _ = self.args(node)
            return self.decorated(fv.ref, positionals, fv.made or {}) if positionals else DYN
        qual = fv.qual if fv.kind in ("qual", "class") else None
        if qual is None:
            self.walk_args(node)
            return DYN
        if qual in GETENV:
            keywords, _, _ = self.args(node, ("key",))
            key = keywords.get("key")
            return V("env", ref=key[0].s if key and key[0].kind == "str" else None)
        if qual in SECRET_WRAPPERS:
            _, positionals, _ = self.args(node)
            return positionals[0][0] if positionals else DYN  # the literal it wraps
        if qual in VARIABLE_FUNCTIONS:
            return self.variable_use(node, VARIABLE_FUNCTIONS[qual], "function")
        if qual in DEPLOY_FUNCTIONS:
            return self.deploy_all(node, DEPLOY_FUNCTIONS[qual])
        if qual == "asyncio.run" and node.args:
            self.awaited.add(id(node.args[0].value))  # runs the coroutine it is given to completion
            _, positionals, _ = self.args(node)
            return positionals[0][0] if positionals else DYN
        if qual in FLOW_DECORATOR or qual in TASK_DECORATOR or qual in FLOW_CLASS:
            kind = "task" if qual in TASK_DECORATOR else "flow"
            keywords, positionals, _ = self.args(node)
            if positionals:  # flow(fn, name=...), Flow(fn)
                return self.decorated(kind, positionals, keywords)
            return V("decorator", ref=kind, made=keywords)
        known = self.block_kind(fv)
        if known or qual in RUNNER_STORAGE:
            return self.block_build(node, fv, bool(known), self.args(node))
        if known is False:
            # A class of another project module: a block if the model finds one at its end. It
            # becomes a build fact once it is saved (a declaration); until then, a result.
            return V("result", qual=qual, made=(node, self.args(node)))
        if fv.ref in ("flow", "task", "function") or not outside_project(qual):
            return self.call_site(node, qual)
        self.walk_args(node)
        return DYN

    def decorated(self, kind: str, positionals: List[tuple], keywords: Dict[str, tuple]) -> V:
        """`flow(fn)` / `task(fn)`: the function becomes a flow or task (when it is this module's)."""
        value = positionals[0][0]
        if value.kind == "qual" and value.qual in self.blocks.functions:
            function = self.blocks.functions[value.qual]
            if function.kind == "function":
                function.kind = kind
                self.flow_keywords(function, keywords)
            return V("qual", qual=value.qual, ref=kind)
        return DYN

    def call_site(self, node: cst.Call, target: Optional[str], via: str = "") -> V:
        """A call of project code (a helper, a flow, a task), with its arguments, for the model."""
        keywords, positionals, _ = self.args(node)
        if target:
            args = {}
            for key, (value, value_node) in keywords.items():
                safe = key.lower().endswith(_NAME_KEYWORD_ENDINGS) and value.kind == "str" and not secretish(value.s or "")
                args[key] = self.arg(value, value_node, safe=safe, mask=is_credential_name(key))
            site = CallSite(target=target, pos=self.want(node), args=args,
                            positional=[self.arg(value, value_node, mask=False) for value, value_node in positionals],
                            via=via, awaited=id(node) in self.awaited, where=self.where(), owner=self.here.owner)
            self.blocks.calls.append(site)
            self.pending_sites.append((site, positionals, keywords))
        return V("result", qual=target) if target else DYN

    def format_string(self, node: cst.Call, base: V) -> V:
        keywords, positionals, star = self.args(node)
        try:
            if not star and all(v.kind in ("str", "num") for v, _ in list(positionals) + list(keywords.values())):
                return V("str", s=base.s.format(*[v.s for v, _ in positionals],
                                                  **{k: v.s for k, (v, _) in keywords.items()}), node=node)
        except (IndexError, KeyError, ValueError):
            pass
        return DYN

    # ----- what is a block ---------------------------------------------------------------------
    def block_kind(self, value: V) -> Optional[bool]:
        """Whether a class is a block: True by where it comes from (Prefect's block modules, an
        integration, a block class of this file), False when only the model can tell (a class
        of another project module), None when it is not one."""
        qual = value.qual or ""
        if value.kind == "class":
            return self.local_blocks.get(qual)
        if value.kind != "qual" or value.ref in ("flow", "task", "function"):
            return None
        if is_block_module_class(qual):
            return True
        head, _, last = qual.rpartition(".")
        if head and last[:1].isupper() and not outside_project(qual):
            return False
        return None
