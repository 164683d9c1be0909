"""A flow's consumers: every catalogued object at work in it — its storage and run config, its tasks
and what their bodies call, state handlers and results, attached in place or by name — found by
walking the flow's uses through the project's modules."""
from __future__ import annotations

from typing import Dict, List, Optional, Set, Tuple

from credlint.prefect.catalogue import Catalogue
from credlint.facts.types import Arg, Attachment, CallFact, ModuleFacts, Pos, Ref, Routine, Use
from credlint.model.linking import Linking
from credlint.model.types import Consumer, FlowModel
from credlint.prefect.symbols import TASK_WIRING

# A call of a name under these (standard library, Prefect) that credlint cannot resolve is no task
# it failed to follow: it does not make the flow opaque.
_BUILTIN_PREFIXES = ("builtins.", "os.", "sys.", "json.", "datetime.", "time.", "logging.", "pathlib.",
                     "typing.", "functools.", "itertools.", "collections.", "prefect.")


class Consumers(Linking):
    """Finding a flow's consumers, a part of `Project`: names are resolved with `Linking`, objects
    looked up in the project's `catalogue`."""

    catalogue: Catalogue

    def referenced_consumer(self, module: ModuleFacts, ref: str, role: str, pos: Pos) -> Optional[Consumer]:
        """A storage or run config defined in another module, or returned by a function.

        Its findings are placed where the flow takes it (`storage=...`), in the flow's file."""
        found = self.resolve(ref[:-2] if ref.endswith("()") else ref, module)
        if found is None and not ref.endswith("()"):
            # A module-level name holding what a helper returned (`STORAGE = make_storage()`).
            held = self.follow(ref, module, lambda m, attr: (m, m.helper_results[attr]) if attr in m.helper_results
                                else None)
            if held is not None:
                ref = held[1] + "()"
                found = self.resolve(held[1], held[0])
        if found is None:
            return None
        kind, target_module, obj = found
        if kind == "call" and not ref.endswith("()"):
            return self.consumer_of(target_module, obj, {}, role, pos=pos, path=module.path)
        returned = self.returned_call(target_module, obj) if kind == "routine" and ref.endswith("()") else None
        if returned is not None:
            return self.consumer_of(returned[0], returned[1], {}, role, pos=pos, path=module.path)
        return None

    def consumer_of(self, module: ModuleFacts, call: CallFact, run: Dict[str, Arg], role: str,
                    pos: Optional[Pos] = None, path: Optional[str] = None) -> Optional[Consumer]:
        """The consumer a catalogued call is in a flow (None when the catalogue does not know it);
        reported at `pos` in `path` when given (where the flow takes it), else where it is built."""
        entry = self.catalogue.lookup(call.symbol)
        if entry is None:
            return None
        if entry.kind == "result":
            role = "result"
        return Consumer(entry=entry, module=module, call=call, run=run, role=role,
                        path=path or module.path, pos=pos or call.pos)

    def collect_consumers(self, flow: FlowModel) -> None:
        """Every consumer reachable from the flow: its tasks, their bodies, handlers, storage."""
        seen_routines: Set[str] = set()
        called: Dict[Tuple[str, int], bool] = {}
        pending: List[Tuple[ModuleFacts, CallFact, Dict[str, Arg], str, Pos, str, bool]] = []

        def add_call(module: ModuleFacts, call: CallFact, run: Dict[str, Arg], role: str, pos: Pos,
                     path: str, was_called: bool) -> None:
            key = (module.path, call.id)
            called[key] = called.get(key, False) or was_called
            pending.append((module, call, run, role, pos, path, was_called))
            for handler in call.handlers:
                pending.append((module, module.calls[handler], {}, "state_handler", module.calls[handler].pos,
                                module.path, True))
            for ref in call.handler_refs:
                attached(module, ref)

        def routine_body(module: ModuleFacts, routine: Routine, as_task: bool) -> None:
            if routine.qualname in seen_routines:
                return
            seen_routines.add(routine.qualname)
            for handler in routine.handlers:
                call = module.calls[handler]
                pending.append((module, call, {}, "state_handler", call.pos, module.path, True))
            for ref in routine.handler_refs:
                attached(module, ref)
            if as_task or routine.is_task:
                env_reads(module, routine)
                for call_id in routine.calls:
                    call = module.calls[call_id]
                    add_call(module, call, call.run, "imperative", call.pos, module.path, True)
                for index in routine.reads:
                    flow.reads.append((module, module.reads[index]))
                for use in routine.uses:
                    handle_use(module, use, imperative=True)
            else:
                for call_id in routine.calls:
                    call = module.calls[call_id]
                    add_call(module, call, call.run, "imperative", call.pos, module.path, True)
                for use in routine.uses:
                    handle_use(module, use, imperative=False)

        def handle_use(module: ModuleFacts, use: Use, imperative: bool) -> None:
            if use.call is not None:
                call = module.calls[use.call]
                role = "imperative" if imperative else "task"
                # A task passed along as an argument is reported where it was created.
                pos = use.pos if (use.pos.line and use.called) else call.pos
                add_call(module, call, use.run, role, pos, module.path, use.called)
                return
            if not use.target:
                return
            target = use.target
            found = self.resolve(target, module)
            if found is None and target.rsplit(".", 1)[-1] in TASK_WIRING:
                target = target.rsplit(".", 1)[0]  # `clean.map(...)`, `load.bind(...)`: the task itself
                found = self.resolve(target, module)
            if found is None:
                # A name passed along (not called) may be anything: only a task we can see counts.
                if use.called and not imperative and not _is_builtin_like(use.target):
                    flow.opaque.append(use.target)
                return
            kind, target_module, obj = found
            if not use.called and not self.is_task(kind, obj):
                return
            for attach_module, attachment in self.attachments_along(target, module):
                attach(attach_module, attachment)
            if kind == "call":
                role = "imperative" if imperative else "task"
                pos = use.pos if (use.pos.line and module is flow.module) else obj.pos
                path = module.path if (use.pos.line and module is flow.module) else target_module.path
                add_call(target_module, obj, use.run, role, pos, path, use.called)
            elif kind == "routine":
                if imperative:
                    env_reads(target_module, obj)  # a helper a task calls runs in the flow run
                routine_body(target_module, obj, as_task=obj.is_task)

        def attached(module: ModuleFacts, ref: Ref) -> None:
            """A handler or result given by name: a project function runs as the handler (its body
            counts like a task's); an imported notifier or what a helper returns is a consumer,
            reported where it is attached."""
            for kind, target_module, obj in self.attached_objects(module, ref.name):
                if kind == "routine":
                    routine_body(target_module, obj, as_task=True)
                elif ref.pos.line:
                    pending.append((target_module, obj, {}, "state_handler", ref.pos, module.path, True))
                else:
                    pending.append((target_module, obj, {}, "state_handler", obj.pos, target_module.path, True))

        def attach(module: ModuleFacts, attachment: Attachment) -> None:
            if attachment.call is not None:
                call = module.calls[attachment.call]
                pending.append((module, call, {}, "state_handler", call.pos, module.path, True))
            elif attachment.ref is not None:
                attached(module, attachment.ref)

        env_seen: Set[str] = set()

        def env_reads(module: ModuleFacts, routine: Routine) -> None:
            if routine.qualname not in env_seen:
                env_seen.add(routine.qualname)
                flow.env_reads.extend((module, module.env_reads[i]) for i in routine.env_reads)

        for consumer in (flow.storage, flow.run_config):
            if consumer is not None:
                pending.append((consumer.module, consumer.call, {}, consumer.role, consumer.pos, consumer.path, True))
        for handler in flow.fact.handlers:
            call = flow.module.calls[handler]
            pending.append((flow.module, call, {}, "state_handler", call.pos, flow.module.path, True))
        for ref in flow.fact.handler_refs:
            attached(flow.module, ref)
        for name, index in flow.module.flow_vars.items():
            if index == flow.fact.index and flow.module.module:
                for attach_module, attachment in self.attachments_along(f"{flow.module.module}.{name}", flow.module):
                    attach(attach_module, attachment)
        for use in flow.fact.uses:
            handle_use(flow.module, use, imperative=False)
        for template_module, template in flow.templates:  # the flow it copies, its Flow class
            for handler in template.handlers:
                call = template_module.calls[handler]
                pending.append((template_module, call, {}, "state_handler", call.pos, template_module.path, True))
            for use in template.uses:
                handle_use(template_module, use, imperative=False)
        for builder_module, builder in flow.builders:  # methods of its Flow class
            routine_body(builder_module, builder, as_task=False)

        # Drop "passed along" uses of instances that are also called: the call has the arguments.
        seen: Set[Tuple[str, int, str, int, int]] = set()
        for module, call, run, role, pos, path, was_called in pending:
            key = (module.path, call.id)
            if not was_called and called.get(key):
                continue
            dedupe = (module.path, call.id, path, pos.line, pos.column)
            if dedupe in seen:
                continue
            seen.add(dedupe)
            consumer = self.consumer_of(module, call, run, role, pos, path)
            if consumer is not None:
                flow.consumers.append(consumer)


def _is_builtin_like(qual: str) -> bool:
    return qual.startswith(_BUILTIN_PREFIXES)
