"""The project model: every file's facts linked into flows, their consumers, needs and providers.

Built from per-file facts only (never from syntax trees), so it can be recomputed from cached
facts whenever a provider changes. `Project` is the façade the rules ask; its parts live beside
it: `linking` (names across modules), `consumers` (what is at work in a flow), `providers`
(where secrets come from), `needs` (what is read, and how it is met), `types` (the plain types).
"""
from __future__ import annotations

import difflib
from typing import Dict, Iterable, Iterator, List, Optional, Set, Tuple

from credlint.prefect.catalogue import Catalogue, Entry
from credlint.config import Config
from credlint.facts.types import ModuleFacts, Pos
from credlint.model.consumers import Consumers
from credlint.model.needs import Needs
from credlint.model.types import DictItem, FileError, FlowModel, dict_items


class Project(Consumers, Needs):
    """Everything credlint knows about a project, ready for the rules.

    Built in one pass (`_build`): each flow's plan (`model.flows`), its storage and run config,
    then its consumers (`Consumers`, resolving names with `Linking`), what it declares and what
    provides its secrets (`Providers`), and its needs (`Needs`)."""

    def __init__(self, modules: Iterable[ModuleFacts], catalogue: Catalogue, config: Config,
                 deploy: Iterable = (), pattern_hits: Optional[Dict[str, list]] = None,
                 unreadable: Iterable[FileError] = ()):
        self.catalogue = catalogue
        self.config = config
        self.unreadable: List[FileError] = list(unreadable)  # files without a module: not Python, or not followed
        self.modules: Dict[str, ModuleFacts] = {}
        for module in modules:
            self.modules[module.path] = module
        self.by_name: Dict[str, ModuleFacts] = {}
        for module in self.modules.values():
            if module.module:
                self.by_name.setdefault(module.module, module)
        self.deploy = list(deploy)  # facts.deploy.types.DeployFacts
        self.deploy_by_path = {facts.path: facts for facts in self.deploy}
        self.pattern_hits: Dict[str, list] = dict(pattern_hits or {})  # path -> patterns.Match (CL204)
        self.unused_suppressions: list = []  # filled by the pipeline once rules have run (CL001)
        self.link_deployment()
        self.flows: List[FlowModel] = []
        self._build()
        # Declarations that reach flows from outside them: an agent's --env (the flows it serves)
        # and a Prefect config's [context.secrets] (every flow run where it is loaded).
        self.agent_declarations = self.declarations_from_outside()

    def file_errors(self) -> List[FileError]:
        """Every file that could not be read, decoded or parsed, in path order."""
        out = [FileError(m.path, m.error.message, Pos(m.error.line, m.error.column, m.error.line, m.error.column))
               for m in self.modules.values() if m.error is not None]
        # A deployment file Prefect could not read either (a prefect.yaml, a .tf), or a template in it
        out += [FileError(facts.path, error.message, error.pos, kind=error.kind)
                for facts in self.deploy for error in facts.errors]
        return sorted(out + self.unreadable, key=lambda e: (e.path, e.pos.line, e.pos.column))

    # ----- building ---------------------------------------------------------------------------
    def _build(self) -> None:
        from credlint.model.flows import FlowSources

        self.flow_sources = FlowSources(self)
        plans = self.flow_sources.plans([m for _, m in sorted(self.modules.items()) if m.error is None
                                         and not (m.prefect2 and not m.prefect1)])
        patches: Dict[Tuple[str, int], List[tuple]] = {}
        for module in self.modules.values():
            for patch in module.patches:
                found = self.resolve(patch.target, module)
                if found and found[0] == "flow":
                    patches.setdefault((found[1].path, found[2].index), []).append(
                        (module, patch.attr, patch.call, patch.ref, patch.pos))
        for path in sorted(self.modules):
            module = self.modules[path]
            if module.error is not None or (module.prefect2 and not module.prefect1):
                continue
            for flow_fact in module.flows:
                plan = plans.get((module.path, flow_fact.index))
                if plan is None or not plan.counted:
                    continue
                flow = FlowModel(module=module, fact=flow_fact, templates=plan.templates, builders=plan.builders,
                                 not_followed=plan.reason)
                if plan.reason:
                    flow.opaque.append(plan.reason)  # its secrets cannot be judged unused
                for attr in ("storage", "run_config"):
                    # Its own, else the one of the flow it copies (a copy keeps it) or of its class.
                    for source_module, source in [(module, flow_fact)] + plan.templates:
                        call_id = getattr(source, attr)
                        if call_id is not None:
                            setattr(flow, attr, self.consumer_of(source_module, source_module.calls[call_id], {}, attr))
                        elif getattr(source, attr + "_ref"):
                            setattr(flow, attr, self.referenced_consumer(source_module, getattr(source, attr + "_ref"),
                                                                         attr, source.pos))
                        else:
                            continue
                        break
                for patch_module, attr, call_id, ref, pos in patches.get((module.path, flow_fact.index), []):
                    if call_id is not None:
                        setattr(flow, attr, self.consumer_of(patch_module, patch_module.calls[call_id], {}, attr))
                    elif ref:
                        setattr(flow, attr, self.referenced_consumer(patch_module, ref, attr, pos))
                self.collect_consumers(flow)
                self.collect_declarations(flow)
                self.collect_needs(flow)
                self.collect_environment_needs(flow)
                self.flows.append(flow)

    # ----- queries for rules ------------------------------------------------------------------
    @property
    def blocks(self):
        """The Prefect 2.x/3.x block model (`model.blocks.BlockModel`), built once on first use;
        None when the project has nothing block-related (1.x projects never import it)."""
        if "_blocks" not in self.__dict__:
            self._blocks = None
            if (self.config.blocks is not None or any(m.blocks is not None for m in self.modules.values())
                    or any(f.block_refs or f.block_decls for f in self.deploy)):
                from credlint.model.blocks import BlockModel

                self._blocks = BlockModel(self)
        return self._blocks

    @property
    def fallback(self):
        """What runs on ambient credentials in 2.x/3.x code and prefect.yaml steps, and the
        credential keywords blocks drop (`model.fallback.FallbackModel`), built once on first use;
        None when no file is read as 2.x/3.x and no deployment file has steps."""
        if "_fallback" not in self.__dict__:
            self._fallback = None
            if (any(m.model == "2" and m.blocks is not None for m in self.modules.values())
                    or any(f.steps for f in self.deploy)):
                from credlint.model.fallback import FallbackModel

                self._fallback = FallbackModel(self)
        return self._fallback

    @property
    def flows2(self):
        """The Prefect 2.x/3.x flows and prefect.yaml deployments with what they need
        (`model.flows2.FlowNeeds`), built once on first use; None when the project has neither."""
        if "_flows2" not in self.__dict__:
            self._flows2 = None
            if any(m.blocks is not None for m in self.modules.values()) or any(f.deployments for f in self.deploy):
                from credlint.model.flows2 import FlowNeeds

                self._flows2 = FlowNeeds(self, self.blocks)
        return self._flows2

    def needed_names(self, flow: FlowModel) -> Set[str]:
        """The secret names the flow's run reads (what a declaration must match to be used)."""
        names = {n.name for n in flow.needs if n.name and n.mechanism != "storage_preload"}
        return names

    def arguments_in(self, module: ModuleFacts):
        """(entry, place, args) for every catalogued construction, call and run in a module.

        place is "init" for constructor/function-call arguments and "run" for run-time ones
        (a call of the instance in a flow, `.run(...)`, `.map(...)`)."""
        for call in module.calls:
            entry = self.catalogue.lookup(call.symbol)
            if entry is None:
                continue
            yield entry, "init", call.init
            if call.run:
                yield entry, "run", call.run
        uses = [u for f in module.flows for u in f.uses] + [u for r in module.routines.values() for u in r.uses]
        for use in uses:
            if not use.run:
                continue
            entry = None
            if use.call is not None:
                entry = self.catalogue.lookup(module.calls[use.call].symbol)
            elif use.target:
                found = self.resolve(use.target, module)
                if found and found[0] == "call":
                    entry = self.catalogue.lookup(found[2].symbol)
            if entry is not None:
                yield entry, "run", use.run

    def helper_reads(self) -> Set[str]:
        """Secret names read by any function of the project (helpers a task may call)."""
        cached = getattr(self, "_helper_reads", None)
        if cached is None:
            cached = {r.name for m in self.modules.values() for r in m.reads
                      if r.name and r.context in ("task", "function")}
            cached |= {c.init["name"].value.text for m in self.modules.values() for c in m.calls
                       if c.symbol == "prefect.tasks.secrets.base.PrefectSecret" and "name" in c.init
                       and c.init["name"].value.text}
            self._helper_reads = cached
        return cached

    def close_name(self, name: str, candidates: Iterable[str]) -> Optional[str]:
        """The candidate `name` is most likely a typo of, if any (a rule's "did you mean")."""
        matches = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.75)
        return matches[0] if matches else None

    def default_names(self) -> Set[str]:
        """Every secret name the catalogue's consumers read by default."""
        return {s.name for e in self.catalogue for s in e.secrets if s.name}

    def run_config_env(self, module: ModuleFacts) -> Iterator[Tuple[Entry, DictItem]]:
        """(run config, item) for each variable of the `env={...}` of every run config built in a
        module (`DockerRun(env={"PREFECT__CONTEXT__SECRETS__X": ...})`), in source order: what
        rules about run-config env read, written once."""
        for call in module.calls:
            entry = self.catalogue.lookup(call.symbol)
            if entry is not None and entry.kind == "run_config":
                for item in dict_items(call.init.get("env")):
                    yield entry, item
