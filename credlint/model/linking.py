"""Names across the project's modules: which module a dotted name is, what an imported name stands
for (following re-exports), what a helper returns, what is attached to an object by name. The
per-file facts only know their own file; this room joins them."""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from credlint.prefect.catalogue import Catalogue
from credlint.facts.types import Attachment, CallFact, ModuleFacts, Routine, to_data
from credlint.facts.values import Value

# Arguments through which a storage or run config provides secrets or an identity.
_PROVIDER_ARGS = {"secrets", "env", "labels", "job_template", "task_definition", "job_template_path",
                  "task_definition_path", "task_role_arn", "execution_role_arn", "service_account_name",
                  "service_account"}


class Linking:
    """Resolving names across modules, a part of `Project`: it reads the project's `modules`,
    `by_name` and `catalogue`, and `flow_sources` once the flows are known."""

    modules: Dict[str, ModuleFacts]
    by_name: Dict[str, ModuleFacts]
    catalogue: Catalogue
    _attachments: Optional[Dict[Tuple[str, str], List[Tuple[ModuleFacts, Attachment]]]] = None

    # ----- symbol resolution across modules ---------------------------------------------------
    def find_module(self, dotted: str, near: Optional[ModuleFacts] = None) -> Optional[ModuleFacts]:
        """A project module by import name, also when the import root is a sub-folder."""
        found = self.by_name.get(dotted)
        if found is not None:
            return found
        suffix = "." + dotted
        candidates = [m for name, m in self.by_name.items() if name.endswith(suffix)]
        if not candidates:
            return None
        if near is not None and len(candidates) > 1:
            folder = near.path.rsplit("/", 1)[0] if "/" in near.path else ""
            for candidate in candidates:
                if candidate.path.startswith(folder + "/") or not folder:
                    return candidate
        return sorted(candidates, key=lambda m: m.path)[0]

    def follow(self, qual: str, near: Optional[ModuleFacts], lookup, depth: int = 0):
        """Find `module.attr` in the project, following re-exports (`from x import y`); `lookup(module,
        attr)` says what counts as found (a flow, a constant, a helper's result...)."""
        if depth > 8 or "." not in qual:
            return None
        module_name, attr = qual.rsplit(".", 1)
        module = self.find_module(module_name, near)
        if module is None:
            return None
        found = lookup(module, attr)
        if found is None and attr in module.imports:
            return self.follow(module.imports[attr], module, lookup, depth + 1)
        return found

    def resolve(self, qual: str, near: Optional[ModuleFacts]):
        """('call', module, call) | ('routine', module, routine) | ('flow', module, flow) | None."""

        def lookup(module: ModuleFacts, attr: str):
            if attr in module.instances:
                return "call", module, module.calls[module.instances[attr]]
            routine = module.routines.get(f"{module.module}.{attr}")
            if routine is not None:
                return "routine", module, routine
            if attr in module.flow_vars:
                fact = module.flows[module.flow_vars[attr]]
                sources = getattr(self, "flow_sources", None)
                if sources is None or sources.is_flow(module, fact):  # else: an instance of a non-flow class
                    return "flow", module, fact
            return None

        return self.follow(qual, near, lookup)

    def resolve_constant(self, qual: str, near: Optional[ModuleFacts]) -> Optional[Value]:
        """The (redacted) value of a module constant imported from another project module."""
        return self.follow(qual, near, lambda module, attr: module.constants.get(attr))

    # ----- what helpers return, what is attached by name ------------------------------------
    def returned_call(self, module: ModuleFacts, routine: Routine, depth: int = 0) -> Optional[Tuple[ModuleFacts, CallFact]]:
        """The catalogued object a helper returns (`storage=make_storage()`, `result=get_result()`).

        Followed only when it is known: every `return` gives a catalogued object (built there,
        bound to a local name first, or returned by another such helper of the project) and they
        are all one class with the same credential-bearing arguments. A helper that can return
        anything else, or objects that differ in what they need or provide, is not followed:
        which one a run gets is decided at run time, and a finding would be a guess."""
        if routine.returns_other or depth > 4:
            return None
        candidates = [(module, module.calls[i]) for i in routine.returns]
        for ref in routine.return_refs:
            found = self.resolve(ref, module)
            inner = self.returned_call(found[1], found[2], depth + 1) if found and found[0] == "routine" else None
            if inner is None:
                return None
            candidates.append(inner)
        if not candidates:
            return None
        first = candidates[0]
        if any(self._credential_view(first[1]) != self._credential_view(other[1]) for other in candidates[1:]):
            return None
        return first

    def _credential_view(self, call: CallFact) -> Optional[tuple]:
        """What of a catalogued object decides its needs and what it provides: its class and the
        arguments that name, carry, declare or waive credentials."""
        entry = self.catalogue.lookup(call.symbol)
        if entry is None:
            return None
        keys = set(entry.name_params) | {p.param for p in entry.credential_params} | _PROVIDER_ARGS
        for spec in entry.secrets:
            keys.update(spec.satisfied_by)
            keys.update(k for k, _ in spec.skip_if)
        given = tuple(sorted((k, repr(to_data(arg.value))) for k, arg in call.init.items() if k in keys))
        return entry.symbol, call.star_kwargs, given

    def _hops(self, qual: str, near: Optional[ModuleFacts]) -> List[Tuple[str, str]]:
        """(module path, name) of each project module a name passes through to its definition,
        without class definitions: one object, however it is imported, has the same hops."""
        out: List[Tuple[str, str]] = []
        for _ in range(9):
            if "." not in qual:
                break
            module_name, attr = qual.rsplit(".", 1)
            module = self.find_module(module_name, near)
            if module is None:
                break
            if module.definitions.get(attr) not in ("class", "taskclass"):
                out.append((module.path, attr))
            if attr in module.instances or f"{module.module}.{attr}" in module.routines or attr not in module.imports:
                break
            if attr in module.flow_vars:  # as `resolve` does: a flow, or an instance of a non-flow class
                sources = getattr(self, "flow_sources", None)
                if sources is None or sources.is_flow(module, module.flows[module.flow_vars[attr]]):
                    break
            qual, near = module.imports[attr], module
        return out

    def attachments_along(self, qual: str, near: Optional[ModuleFacts]) -> List[Tuple[ModuleFacts, Attachment]]:
        """State handlers and results attached by name (`publish.state_handlers = [...]`) to the
        object a name stands for."""
        if self._attachments is None:
            self._attachments = {}
            for module in self.modules.values():
                for attachment in module.attachments:
                    for hop in self._hops(attachment.target, module):
                        self._attachments.setdefault(hop, []).append((module, attachment))
        if not self._attachments:
            return []
        out: List[Tuple[ModuleFacts, Attachment]] = []
        for hop in self._hops(qual, near):
            out.extend(self._attachments.get(hop, ()))
        return out

    def attached_objects(self, module: ModuleFacts, name: str) -> List[tuple]:
        """What a handler or result given by name is: ('routine', module, routine) for a project
        function (run as the handler), ('call', module, call) for a catalogued object (an imported
        notifier, what a helper returns)."""
        if name.endswith("()"):
            found = self.resolve(name[:-2], module)
            if found is None and name[:-2] in module.routines:
                found = ("routine", module, module.routines[name[:-2]])
            returned = self.returned_call(found[1], found[2]) if found and found[0] == "routine" else None
            return [("call",) + returned] if returned else []
        if name in module.routines:  # a function of this module, nested ones included
            return [("routine", module, module.routines[name])]
        found = self.resolve(name, module)
        return [found] if found and found[0] in ("call", "routine") else []

    def is_task(self, kind: str, obj) -> bool:
        """Whether a resolved name is a task: a catalogued task instance or a project task."""
        if kind == "call":
            entry = self.catalogue.lookup(obj.symbol)
            return entry is not None and entry.kind == "task"
        return kind == "routine" and obj.is_task
