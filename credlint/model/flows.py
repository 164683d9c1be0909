"""Which flow facts are flows, and where their tasks come from.

A file's facts cannot tell on their own whether `with Flow(...)` is Prefect's Flow when `Flow`
is imported from a project module (`Flow = CustomFlow`, `class CustomFlow(prefect.Flow)`), nor
whether `deepcopy(template)` copies a flow: the extractor records such candidates and this
module decides with the whole project in view. A flow whose tasks credlint cannot see (built
by a library, a copy of something it cannot find, a Flow subclass that adds its tasks through
code it cannot read) is still a flow: its storage and run config are checked, and it is
reported as not followed rather than skipped in silence.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Set, Tuple

from credlint.facts.types import ClassFact, FlowFact, ModuleFacts, Routine
from credlint.prefect.symbols import FLOW

if TYPE_CHECKING:  # pragma: no cover
    from credlint.model.linking import Linking

Key = Tuple[str, int]  # (module path, flow index)
Chain = List[Tuple[ModuleFacts, ClassFact]]  # a project class, then its project bases up to Prefect's Flow


@dataclass
class FlowPlan:
    """What a flow is made of besides its own facts."""

    templates: List[Tuple[ModuleFacts, FlowFact]] = field(default_factory=list)  # their tasks, storage, run config
    builders: List[Tuple[ModuleFacts, Routine]] = field(default_factory=list)  # methods that add its tasks
    reason: str = ""  # why its tasks cannot be followed ("" when they can)
    chain: Chain = field(default_factory=list)  # the project classes it is an instance of
    counted: bool = True  # False: another flow stands for it (see `FlowSources.plans`)


def short(qual: str) -> str:
    """`pkg.mod.build_plan` -> `build_plan`; `pkg.mod.Executor.plan` -> `Executor.plan`."""
    parts = qual.split(".")
    if len(parts) > 1 and parts[-2][:1].isupper():
        return ".".join(parts[-2:])
    return parts[-1]


def is_template(chain: Chain) -> bool:
    """A Flow subclass that adds tasks to itself (or hands itself to code that may): its
    instances are that flow, rather than empty flows filled where they are used."""
    return bool(chain) and (chain[0][1].wired or chain[0][1].passes_self or is_template(chain[1:]))


class FlowSources:
    """Decides, once per project, which flow facts are flows and what each is made of."""

    def __init__(self, project: "Linking"):
        self.project = project
        self._plans: Dict[Key, Optional[FlowPlan]] = {}
        self._classes: Dict[Tuple[str, str], Optional[Chain]] = {}
        self.patched: Set[Key] = set()
        for module in project.modules.values():
            for patch in module.patches:
                found = project.follow(patch.target, module, _flow_var)
                if found is not None:
                    self.patched.add((found[0].path, found[1].index))

    # ----- classes -----------------------------------------------------------------------------
    def flow_class(self, qual: str, near: ModuleFacts, depth: int = 0) -> Optional[Chain]:
        """The project classes from `qual` up to Prefect's Flow ([] for Prefect's Flow itself,
        reached through aliases), or None when `qual` is not known to be a Flow class."""
        if qual in FLOW:
            return []
        if depth > 8 or "." not in qual:
            return None
        key = (qual, near.path)
        if key in self._classes:
            return self._classes[key]
        self._classes[key] = None  # a cycle of aliases is no Flow class
        module_name, attr = qual.rsplit(".", 1)
        module = self.project.find_module(module_name, near)
        found: Optional[Chain] = None
        if module is not None:
            cls = module.classes.get(f"{module.module}.{attr}" if module.module else attr)
            if cls is not None:
                for base in cls.bases:
                    chain = self.flow_class(base, module, depth + 1)
                    if chain is not None:
                        found = [(module, cls)] + chain
                        break
            elif attr in module.imports:
                found = self.flow_class(module.imports[attr], module, depth + 1)
        self._classes[key] = found
        return found

    # ----- flows -------------------------------------------------------------------------------
    def plan(self, module: ModuleFacts, fact: FlowFact) -> Optional[FlowPlan]:
        """How the flow is made, or None when the fact is no flow after all."""
        key = (module.path, fact.index)
        if key in self._plans:
            return self._plans[key]
        self._plans[key] = None  # a copy of itself, through any number of steps, is no flow
        plan = self._plan(module, fact)
        self._plans[key] = plan
        return plan

    def is_flow(self, module: ModuleFacts, fact: FlowFact) -> bool:
        return self.plan(module, fact) is not None

    def evident(self, module: ModuleFacts, fact: FlowFact) -> bool:
        """Given a storage or run config: only a flow takes one."""
        return (fact.storage is not None or fact.run_config is not None or bool(fact.storage_ref)
                or bool(fact.run_config_ref) or (module.path, fact.index) in self.patched)

    def configured(self, module: ModuleFacts, fact: FlowFact) -> bool:
        """Given anything of its own: tasks, handlers, storage or run config."""
        return bool(fact.uses or fact.handlers or fact.handler_refs) or self.evident(module, fact)

    def _plan(self, module: ModuleFacts, fact: FlowFact) -> Optional[FlowPlan]:
        if fact.source == "copy":
            return self._copy(module, fact)
        if fact.source == "call":
            return self._returned(module, fact)
        if fact.source == "class":
            chain = self.flow_class(fact.cls or "", module)
            return self._of_class(chain) if chain else None
        if fact.cls:
            chain = self.flow_class(fact.cls, module)
            if chain is not None:
                return self._of_class(chain, own=False)
            if self.evident(module, fact):
                return FlowPlan(reason=f"instance of {short(fact.cls)}, a class credlint cannot read")
            return None
        return FlowPlan()

    def _of_class(self, chain: Chain, own: bool = True) -> FlowPlan:
        """The tasks a Flow subclass adds to itself, in its methods and those of its project bases
        (`own`: the plan of the class's own flow, whose fact is the first template)."""
        plan = FlowPlan(chain=chain)
        for index, (module, cls) in enumerate(chain):
            if index or not own:
                plan.templates.append((module, module.flows[cls.flow]))
            plan.builders.extend((module, module.routines[m]) for m in cls.methods if m in module.routines)
        if is_template(chain) and not any(cls.wired for _, cls in chain):
            plan.reason = (f"Flow subclass {chain[0][1].qualname.rsplit('.', 1)[-1]}, which adds its tasks "
                           f"through code credlint cannot follow")
        return plan

    def _copy(self, module: ModuleFacts, fact: FlowFact) -> Optional[FlowPlan]:
        original: Optional[Tuple[ModuleFacts, FlowFact]] = None
        if fact.copy_of is not None and fact.copy_of < len(module.flows):
            original = (module, module.flows[fact.copy_of])
        elif fact.origin:
            found = self.project.follow(fact.origin, module, _flow_var)
            if found is not None:
                original = found
        inner = self.plan(*original) if original is not None else None
        if inner is None:
            if not self.evident(module, fact):
                return None
            what = fact.origin or (module.flows[fact.copy_of].var if fact.copy_of is not None else None) or "a flow"
            return FlowPlan(reason=f"copy of {short(what)}, which credlint cannot find")
        return FlowPlan(templates=[original] + inner.templates, builders=list(inner.builders), reason=inner.reason,
                        chain=inner.chain)

    def _returned(self, module: ModuleFacts, fact: FlowFact) -> FlowPlan:
        """A flow some call returned (known to be a flow: it was given a storage or run config)."""
        qual = (fact.origin or "").rstrip("()") or "?"
        found = self.project.resolve(qual, module) if qual != "?" else None
        if found is not None and found[0] == "routine":
            builder_module, routine = found[1], found[2]
            built = [f for f in builder_module.flows if f.scope == routine.qualname and f.source != "class"]
            returned = [f for f in built if f.returned] or built
            if len(returned) == 1:
                inner = self.plan(builder_module, returned[0])
                if inner is not None:
                    return FlowPlan(templates=[(builder_module, returned[0])] + inner.templates,
                                    builders=list(inner.builders), reason=inner.reason, chain=inner.chain)
            return FlowPlan(reason=f"flow returned by {short(qual)}(), which builds no single flow credlint can see")
        return FlowPlan(reason=f"flow returned by {short(qual)}(), a call credlint cannot follow")

    def plans(self, modules: List[ModuleFacts]) -> Dict[Key, FlowPlan]:
        """Every flow of these modules with its plan, `counted` settled: a Flow subclass that adds
        its own tasks stands for its instances that add nothing (a library's flow classes and the
        tests that build them are one flow each), unless an instance has its own storage, run
        config or tasks, which then stand for it; a function's flow that callers configure
        (`flow = build(); flow.storage = ...`) is those callers' flows."""
        plans: Dict[Key, FlowPlan] = {}
        for module in modules:
            for fact in module.flows:
                plan = self.plan(module, fact)
                if plan is not None:
                    plans[(module.path, fact.index)] = plan
        standing_in: Set[Key] = set()  # flows that others stand for
        for (path, index), plan in plans.items():
            module = self.project.modules[path]
            fact = module.flows[index]
            if fact.source == "call" and plan.templates:
                template_module, template = plan.templates[0]
                standing_in.add((template_module.path, template.index))
            elif fact.source == "" and fact.cls and plan.chain and is_template(plan.chain):
                if self.configured(module, fact):
                    class_module, cls = plan.chain[0]
                    standing_in.add((class_module.path, cls.flow))
                else:
                    plan.counted = False
        for (path, index), plan in plans.items():
            fact = self.project.modules[path].flows[index]
            if fact.source == "class" and (not is_template(plan.chain[:1]) or (path, index) in standing_in):
                plan.counted = False
            elif fact.source != "class" and fact.scope and (path, index) in standing_in:
                plan.counted = False
        return plans


def _flow_var(module: ModuleFacts, attr: str) -> Optional[Tuple[ModuleFacts, FlowFact]]:
    """A module-level name bound to a flow fact (whether or not it is a flow: see `plan`)."""
    index = module.flow_vars.get(attr)
    return (module, module.flows[index]) if index is not None and index < len(module.flows) else None


def summary(flows, wanted: Set[str], display: Callable[[str], str], modules=None) -> dict:
    """`summary.flows` of the JSON report: the flows found in the files asked about (Prefect 2.x/3.x
    flow functions of `modules` too), and those whose 1.x tasks could not be followed, with why."""
    found = [flow for flow in flows if flow.path in wanted]
    not_followed = sorted(({"path": display(flow.path), "line": flow.fact.pos.line, "reason": flow.not_followed}
                           for flow in found if flow.not_followed), key=lambda item: (item["path"], item["line"]))
    flows2 = sum(len(m.blocks.flows()) for m in (modules or {}).values()
                 if m.path in wanted and m.model == "2" and m.blocks is not None)
    return {"found": len(found) + flows2, "not_followed": not_followed}
