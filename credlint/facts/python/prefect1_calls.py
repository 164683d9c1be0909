"""What a call means in Prefect 1.x code: a Flow, a Parameter, a secret or environment read, a
catalogued class or function (a consumer), `partial`, `apply_map`, a task wired into a flow, a
method of a flow or a task, a project function or class; and the arguments every call is given."""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import libcst as cst

from credlint.prefect.catalogue import Entry
from credlint.facts.naming import is_credential_name
from credlint.facts.types import ParameterFact, Pos, Ref, Use
from credlint.facts.python.folding import DYN, V, flow_index_of
from credlint.prefect.symbols import (
    APPLY_MAP, CONTEXT, CONTEXT_SECRETS, COPY, DOTENV, EDGE_ANNOTATIONS, FLOW, FLOW_METHODS, GETENV, HANDLER_KEYWORDS,
    PARAMETER, PARTIAL, POSITIONAL, SECRET_API, SECRET_TASKS, TASK_DECORATOR, TASK_WIRING,
)
from credlint.facts.python.prefect1_tasks import run_args
from credlint.facts.python.scopes import outside_project


class Calls:
    """Calls and their arguments."""

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
        """A call's value; `called` when its result is called or a method of it is."""
        func = node.func
        tp = type(func)
        if tp is cst.Attribute:
            return self.method_call(node, func)
        if tp is cst.Call:
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
                base.kind == "qual" and base.qual and not outside_project(base.qual)
                and (self.here.kind in ("flow", "function") or _flow_keyword(node)))):
            entered = self.enter_named_flow(node)
            try:
                return self.task_wiring(node, base, method)
            finally:
                if entered:
                    self.ctx.pop()
        cloned = self.clone(node, base) if method == "copy" and not node.args else None
        if cloned is not None:
            return cloned
        if base.kind != "flow" and flow_index_of(base) is not None and method in FLOW_METHODS and not (
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
                    name = self.secret_name(call, keywords, positionals)
                    self.read(name, "secret_get", True, node, "PrefectSecret(...).run()")
                self.imperative(base.call, keywords, node)
                return V("secret_value", ref=self.secret_name(call, keywords, positionals)) \
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

    def call_value(self, node: cst.Call, fv: V, called: bool) -> V:
        if fv.kind == "instance" or (fv.kind == "qual" and (fv.ref == "task" or fv.var)) or (
                fv.kind == "qual" and fv.qual in APPLY_MAP):
            # A task called with `flow=` (or apply_map(..., flow=)) goes into that flow.
            entered = self.enter_named_flow(node)
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
            self.use_instance(fv.call, run_args(keywords), node)
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
                if not outside_project(positionals[0][0].qual):
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
            if func is not None and func[0].kind == "qual" and func[0].qual and not outside_project(func[0].qual):
                here = self.here
                if here.kind in ("flow", "function"):
                    self.add_use(Use(target=func[0].qual, pos=self.want(node) if here.kind == "flow" else Pos()))
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
                self.function_used(entry, call_id, node)
            return V("instance", call=call_id)
        # A name we do not know: a project task function, an imported instance, or anything else.
        keywords, positionals, _ = self.args(node)
        self.mark_passed(positionals, keywords)
        self.passes_self(qual, positionals, keywords)
        here = self.here
        if any(v.kind in ("flow", "flowset", "qual") for v, _ in list(positionals) + list(keywords.values())):
            self.helper_calls.append((qual, positionals, keywords))  # may set storage on the flows it gets
        if fv.ref == "task" or fv.var:
            keywords = run_args(keywords)
        target = fv.var or qual  # a module-level instance by its own name
        if outside_project(qual):
            pass
        elif here.kind == "flow":
            self.add_use(self.named(Use(target=target, run=self.export_args(None, keywords), pos=self.want(node)), "target", fv))
        elif here.kind == "function":
            self.add_use(self.named(Use(target=target, run=self.export_args(None, keywords, positions=False)), "target", fv))
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


def _flow_keyword(node: cst.Call) -> bool:
    return any(arg.keyword is not None and arg.keyword.value == "flow" for arg in node.args)


def _is_function_entry(entry: Optional[Entry]) -> bool:
    """Catalogued functions that do their work when called (get_boto_client, Toloka operations).

    Notifiers are not among them: calling one with keywords only curries it into a handler.
    """
    if entry is None or not entry.short_name[:1].islower():
        return False
    return entry.kind in ("utility", "task")
