"""Flows (Prefect 1.x): `Flow(...)`, and what else may be a flow — an instance of a class that may
subclass Flow, a call's result given a storage, a copy, a Flow subclass itself — and the tasks a
flow's own methods add (`add_task`, `set_dependencies`, ...)."""
from __future__ import annotations

from typing import Dict, List, Optional

import libcst as cst

from credlint.facts.types import ClassFact, FlowFact, Use
from credlint.facts.python.folding import DYN, V, flow_index_of, ref_of
from credlint.prefect.symbols import FLOW
from credlint.facts.python.scopes import outside_project
from credlint.facts.python.syntax import children, plain_string
from credlint.facts.values import looks_like_credential


class Flows:
    """Flow facts, and what their methods add to them."""

    def flow_method(self, node: cst.Call, base: V, method: str) -> V:
        """`flow.add_task(t)`, `flow.set_dependencies(...)`, ...: the tasks they add."""
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

    def new_flow(self, node: cst.Call) -> V:
        """`Flow(...)`: a flow fact, unless it is Prefect 2.x's `Flow(fn)`."""
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
            elif attr in keywords and ref_of(keywords[attr][0]):
                setattr(flow, attr + "_ref", ref_of(keywords[attr][0]))
        if cls is None:  # a project class's instance keeps the handlers it is given (`V.attached`)
            self.given_handlers(flow, keywords)
        if "tasks" in keywords and keywords["tasks"][0].kind == "list":
            for value, value_node in keywords["tasks"][0].elements:
                self._flow_add(flow, value, {}, value_node)
        return flow

    # flows that are not a plain Flow(...) ---------------------------------------------------------
    def candidate(self, value: V, var: Optional[str]) -> V:
        """`with CustomFlow(...) as f:`, `f = OwnedFlow(...)`: an instance of a class this file
        cannot place (`Flow` imported from a project module, a subclass defined elsewhere) is
        recorded as a flow that the project keeps once it has followed the class to Prefect's Flow."""
        if value.kind != "qual" or value.made is None or value.flow is not None or self.here.kind in ("task", "class") \
                or outside_project(value.qual or ""):
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
        return old if old is not None and flow_index_of(old) is not None and old.kind != "self" else None

    def clone(self, node: cst.Call, value: V) -> Optional[V]:
        """`deepcopy(flow)`, `copy(flow)`, `flow.copy()`: a flow with the original's tasks (and its
        storage and run config until its own are set). The original may be in another module."""
        index = flow_index_of(value)
        if index is None and (value.kind != "qual" or not value.qual or outside_project(value.qual)
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
        bases = [b for b in bases if b in FLOW or not outside_project(b)]
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
        if outside_project(qual):
            return
        for value, _ in list(positionals) + [v for k, v in keywords.items() if k != "flow"]:
            if value.kind == "self":
                self.f.classes[value.qual].passes_self = True


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
        return looks_like_credential(plain_string(node.value) or node.value)
    if isinstance(node, cst.FormattedStringText):
        return looks_like_credential(node.value)
    return any(_shows_credential(child) for child in children(node))
