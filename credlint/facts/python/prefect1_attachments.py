"""What is attached to flows and tasks (Prefect 1.x): a storage or run config set on a flow (on
the flow itself, on a flow a helper is given, or on a name another module resolves), state
handlers and results given, assigned or appended, and what a helper returns for them."""
from __future__ import annotations

from typing import Dict, List, Optional

import libcst as cst

from credlint.facts.types import Attachment, CallFact, FlowPatch, Pos, Ref, Routine
from credlint.facts.python.folding import DYN, V, argument_for, flow_index_of, param_of, ref_of
from credlint.prefect.symbols import (
    CONTEXT_PREFIX, CONTEXT_SECRETS, ENVIRON, HANDLER_ATTRIBUTES, HANDLER_KEYWORDS,
)
from credlint.facts.python.scopes import outside_project


class Attachments:
    """Assignments, and the storage, run configs and handlers they and calls attach."""

    def assign(self, target: cst.CSTNode, value: V, value_node: cst.CSTNode) -> None:
        """`target = value`: a binding, an attribute set on a flow or task, or a secret written to the context."""
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
                    and isinstance(target.value, cst.Name) and (value.kind == "instance" or ref_of(value)):
                base = self.promote(target.value.value, base)
            if attr == "name" and flow_index_of(base) is not None and value.kind == "str":
                self.f.flows[base.flow].name, self.f.flows[base.flow].label = value.s, None
            if attr in ("storage", "run_config") and value.kind == "instance":
                self.attach(base, attr, value.call, target)
            elif attr in ("storage", "run_config") and ref_of(value):
                self.attach(base, attr, None, target, ref=ref_of(value))
            elif attr in ("storage", "run_config") and param_of(value) is not None:
                self.attach(base, attr, None, target, value_param=param_of(value))
            elif attr in HANDLER_ATTRIBUTES:
                refs: List[Ref] = []
                self.attach_handlers(base, self.handlers(value, refs), refs)
        elif isinstance(target, cst.Subscript):
            base = self.ev(target.value)
            key = self.subscript_key(target)
            if base.qual in CONTEXT_SECRETS:
                self.context_write(key, value, "context_assign", target, value_node)
            elif base.qual == ENVIRON and key and key.upper().startswith(CONTEXT_PREFIX):
                self.context_write(key[len(CONTEXT_PREFIX):], value, "environ", target, value_node)

    def attach(self, base: V, attr: str, call_id: Optional[int], node: Optional[cst.CSTNode],
               ref: Optional[str] = None, pos: Optional[Pos] = None, value_param: Optional[tuple] = None) -> None:
        """A storage or run config (`attr`) set on what may be a flow, or recorded for later."""
        if param_of(base) is not None and self.here.owner in self.f.routines:
            # `flow.storage = ...` in a helper, on a flow it is given: applied to its callers' flows.
            self.param_patches.setdefault(self.here.owner, []).append(
                (param_of(base), attr, call_id, ref, value_param, self.want(node)))
        elif value_param is not None:
            return
        elif flow_index_of(base) is not None:  # a flow, or what may be one (see `candidate`)
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
        if flow_index_of(base) is not None:  # a flow, or what may be one
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
        elif base.kind == "qual" and base.qual and not outside_project(base.qual):
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
                given = argument_for(positionals, keywords, index, pname)
                if given is None:
                    continue
                if value_param is not None:
                    value = argument_for(positionals, keywords, value_param[0], value_param[1])
                    if value is None:
                        continue
                    if value[0].kind == "instance":
                        call_id, ref = value[0].call, None
                    elif ref_of(value[0]):
                        call_id, ref = None, ref_of(value[0])
                    else:
                        continue
                self.attach(given[0], attr, call_id, None, ref, pos)

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
                elif entry is None and refs is not None and not outside_project(item.qual):
                    refs.append(self.named(Ref(item.var or item.qual, self.want(item_node)), "name", item))
            elif item.kind == "result" and item.qual and refs is not None and not outside_project(item.qual):
                refs.append(Ref(item.qual + "()", self.want(item_node)))
        return out

    def returned(self, routine: Routine, value: V) -> None:
        """What a function returns, for the flows that take it as storage, run config, result or
        handler: catalogued instances, other helpers' results, or something else."""
        if value.kind == "instance":
            routine.returns.append(value.call)
        elif value.kind == "result" and value.qual and not outside_project(value.qual):
            routine.return_refs.append(value.qual)
        else:
            routine.returns_other = True
