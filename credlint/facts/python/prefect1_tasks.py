"""Tasks and consumers in flows (Prefect 1.x): a task called, mapped, bound or set up- or
downstream in a flow block (or in a function that builds one) is a use of that flow or function,
with the arguments its run() gets; a task run inside a task's body runs there; a catalogued call
is recorded once, where it is made."""
from __future__ import annotations

from typing import Dict, List, Optional

import libcst as cst

from credlint.prefect.catalogue import Entry
from credlint.facts.types import CallFact, Pos, Use
from credlint.facts.python.folding import V, flow_index_of
from credlint.prefect.symbols import WIRING_KEYWORDS
from credlint.facts.python.scopes import Context, outside_project


class TaskWiring:
    """Uses of tasks and consumers, and the calls they come from."""

    def enter_named_flow(self, node: cst.Call) -> bool:
        """A `flow=` keyword (Task.__call__, bind, map, set_upstream, set_downstream, apply_map)
        wires the task into that flow wherever the call is: enter it (True) if it is not the
        current one. Only a plain name is read ahead of the other arguments."""
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "flow" and isinstance(arg.value, (cst.Name, cst.Attribute)):
                value = self.ev(arg.value)
                if flow_index_of(value) is not None and not (self.here.kind == "flow" and self.here.flow == value.flow):
                    self.ctx.append(Context("flow", self.here.owner, value.flow))
                    return True
        return False

    def task_wiring(self, node: cst.Call, base: V, method: str) -> V:
        """`t.map(...)`, `t.bind(...)`, `t.set_upstream(u, key=...)`, `t.set_downstream(d, key=...)`
        on a task instance, a @task function or a project task: each puts the task (and the
        tasks it is given) into the flow; `key=` passes one task's result to the other's run()."""
        keywords, positionals, _ = self.args(node)
        if method in ("map", "bind"):
            self.mark_passed(positionals, keywords)
            self._wire(base, method, run_args(keywords), node, called=True)
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
                self.add_use(Use(call=value.call, run=self.export_args(self._entry(value.call), run), called=False))
        elif value.kind == "qual" and value.qual and not outside_project(value.qual) and here.kind in ("flow", "function"):
            # The project resolves the target (`pkg.tasks.clean.map`: the method is dropped there).
            name = value.var or value.qual
            target = f"{name}.{method}" if called else name
            use = Use(target=target, run=self.export_args(None, run, positions=here.kind == "flow"),
                      called=called, pos=self.want(node) if called and here.kind == "flow" else Pos())
            self.add_use(self.named(use, "target", value))

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

    def new_call(self, entry: Entry, node: cst.Call, keywords: Dict[str, tuple], star: bool) -> int:
        """A catalogued class or function called: its CallFact (a consumer), with what it is given."""
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

    def use_instance(self, call_id: int, keywords: Dict[str, tuple], node) -> None:
        """A catalogued instance called: a use of the flow or function, or a run inside a task."""
        here = self.here
        if here.kind in ("flow", "function"):
            self.add_use(Use(call=call_id, run=self.export_args(self._entry(call_id), keywords),
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
                        self.add_use(Use(call=item.call, called=False, pos=self.want(item_node)))
                elif item.kind == "qual" and item.qual and here.kind == "flow" and item.ref != "function" \
                        and not outside_project(item.qual):
                    # A project task passed along (`upstream_tasks=[load]`, `ifelse(c, a, b)`): the
                    # project adds it if the name is a task, and ignores any other name.
                    self.add_use(self.named(Use(target=item.var or item.qual, called=False), "target", item))

    def add_use(self, use: Use) -> None:
        """A use of a task or consumer by the flow being built or the function being read."""
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

    def function_used(self, entry: Entry, call_id: int, node) -> None:
        """A catalogued function ran: a utility runs where it is called, a @task function in a
        flow block becomes a task of that flow."""
        here = self.here
        call = self.f.calls[call_id]
        routine = self.f.routines.get(here.owner or "")
        if entry.kind == "task" and here.kind in ("flow", "function"):
            self.add_use(Use(call=call_id, pos=call.pos))
        elif routine is not None and here.kind in ("task", "function"):
            if call_id not in routine.calls:
                routine.calls.append(call_id)


def run_args(keywords: Dict[str, tuple]) -> Dict[str, tuple]:
    """The keywords of a task call that reach its run(), without the wiring ones (flow=, ...)."""
    if not any(k in WIRING_KEYWORDS for k in keywords):
        return keywords
    return {k: v for k, v in keywords.items() if k not in WIRING_KEYWORDS}
