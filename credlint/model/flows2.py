"""What each Prefect 2.x/3.x flow, and each prefect.yaml deployment, needs from the workspace: the
block documents it loads and the Variables it reads, each with its state (`model.blocks`).

A flow reaches what runs when it runs: its own body, the tasks, subflows and project functions it
calls (`CallSite`s by their owner, across modules, following re-exports), the state hooks it and
they are given (`FunctionFact.hooks`), and the module-level code of every project module its
module imports (importing runs it: a load there runs on every worker, and counts for every flow).
Code under `if __name__ == "__main__":` runs only when the script is run, and is not a need; the
deployments it makes in Python (`flow.deploy(...)`, `flow.serve(...)`) are listed with their flow.

A deployment of a prefect.yaml needs its own templates, those of the file's build/push/pull
sections it does not replace with its own, and what its entrypoint's flow needs. An entrypoint
that names no flow of the project is said so, with why; the deployment's own templates still
count.

Built once per project on first use (`Project.flows2`), from facts only; 1.x projects never build it.
"""
from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple, Union

from credlint.facts.blocks import BlockLoad, DeploymentFact, FunctionFact, VariableUse
from credlint.facts.deploy.types import BlockRef, Deployment, VariableRef
from credlint.facts.places import Pos
from credlint.facts.types import ModuleFacts
from credlint.model.blocks import BASE_BLOCK, BlockModel, BlockNeed
from credlint.prefect.deployments import STEP_SECTIONS
from credlint.prefect.entrypoints import flow_name, split_entrypoint

IMPORT_TIME = ("module", "default", "class")  # `where` of code that runs when the module is imported
COMPUTED = "computed"  # the state of a load whose name is known only at run time
UNKNOWN = "unknown"  # the state of a load through a class credlint cannot tell is a block's


@dataclass
class BlockUse:
    """A block load a flow reaches. `chain`: the qualified names from the flow to the function
    holding the load (empty for code run at import); `role`: flow | subflow | task | hook |
    function, or the `where` of import-time code (module | default | class)."""

    load: BlockLoad
    path: str
    role: str
    chain: List[str]
    slug: Optional[str]
    need: Optional[BlockNeed]  # None: the name is computed, or the class is no block we can tell

    @property
    def state(self) -> str:
        """The need's state; `computed` for a name known only at run time, `unknown` for a load
        through a class credlint cannot tell is a block's."""
        if self.need is not None:
            return self.need.state
        return UNKNOWN if self.load.name else COMPUTED

    @property
    def ref(self) -> Optional[str]:
        """"slug/name" when the name is written out and the class is a block's, else None."""
        return self.need.ref if self.need is not None else None

    @property
    def label(self) -> str:
        """The load as written, names only: `AwsCredentials.load("prod")`, `Block.load("secret/x")`,
        `AwsCredentials.load(block_name)` for a name given as a parameter."""
        load = self.load
        short = load.cls.rsplit(".", 1)[-1] if load.cls else "Block"
        if load.name:
            shown = f"{load.slug}/{load.name}" if load.cls == BASE_BLOCK and load.slug else load.name
            return f'{short}.{load.method}("{shown}")'
        return f"{short}.{load.method}({load.name_param or load.name_ref or '...'})"


@dataclass
class VariableRead:
    """A `Variable.get` a flow reaches (same `role` and `chain` as `BlockUse`)."""

    use: VariableUse
    path: str
    role: str
    chain: List[str]

    @property
    def label(self) -> str:
        use = self.use
        shown = f'"{use.name}"' if use.name else (use.name_param or use.name_ref or "...")
        return f"Variable.{use.method or 'get'}({shown})"


@dataclass
class Flow2:
    """A Prefect 2.x/3.x flow and what its runs need."""

    function: FunctionFact
    module: ModuleFacts
    name: str  # as Prefect names it
    blocks: List[BlockUse] = field(default_factory=list)
    variables: List[VariableRead] = field(default_factory=list)
    not_followed: List[str] = field(default_factory=list)  # project calls whose function was not found
    deployed: List[Tuple[str, DeploymentFact]] = field(default_factory=list)  # (path, fact): `.deploy`, `.serve`, ...

    @property
    def path(self) -> str:
        return self.module.path

    @property
    def pos(self) -> Pos:
        return self.function.pos

    @property
    def qualname(self) -> str:
        return self.function.qualname


@dataclass
class TemplateUse:
    """A `{{ prefect.blocks.* }}` (with its need) or `{{ prefect.variables.* }}` a deployment has."""

    ref: Union[BlockRef, VariableRef]
    need: Optional[BlockNeed] = None

    @property
    def is_block(self) -> bool:
        return isinstance(self.ref, BlockRef)

    @property
    def label(self) -> str:
        ref = self.ref
        if isinstance(ref, BlockRef):
            return "{{ prefect.blocks.%s.%s%s }}" % (ref.slug, ref.name, f".{ref.key}" if ref.key else "")
        return "{{ prefect.variables.%s }}" % ref.name


@dataclass
class Deployment2:
    """A prefect.yaml deployment: its own templates and the flow its entrypoint names."""

    deployment: Deployment
    templates: List[TemplateUse] = field(default_factory=list)
    flow: Optional[Flow2] = None
    problem: Optional[str] = None  # why the entrypoint names no flow of the project


class FlowNeeds:
    """The flows of the project's 2.x/3.x modules and its prefect.yaml deployments (module doc)."""

    def __init__(self, project, blocks: Optional[BlockModel]):
        self.project = project
        self.model = blocks
        self.modules: List[ModuleFacts] = [m for _, m in sorted(project.modules.items())
                                           if m.blocks is not None and m.error is None]
        self.functions: Dict[str, Tuple[ModuleFacts, FunctionFact]] = {
            q: (m, f) for m in self.modules for q, f in m.blocks.functions.items()}
        self.calls: Dict[Optional[str], list] = {}
        self.loads: Dict[Optional[str], list] = {}
        self.reads: Dict[Optional[str], list] = {}
        self.at_import: Dict[str, Tuple[list, list, list]] = {}
        for module in self.modules:
            early = self.at_import.setdefault(module.path, ([], [], []))
            for kind, items, index in ((0, module.blocks.calls, self.calls), (1, module.blocks.loads, self.loads),
                                       (2, [v for v in module.blocks.variables if v.op == "get"], self.reads)):
                for item in items:
                    if item.where in IMPORT_TIME:
                        early[kind].append(item)
                    elif item.where != "main":
                        index.setdefault(item.owner, []).append((module, item))
        self._import_cache: Dict[str, List[ModuleFacts]] = {}
        self._closure_cache: Dict[str, List[ModuleFacts]] = {}
        self._parts: Set[str] = {part for name in project.by_name for part in name.split(".")}
        self._function_cache: Dict[Tuple[str, str], Optional[str]] = {}
        self._needs: Dict[int, BlockNeed] = {}
        self._ref_needs: Dict[tuple, BlockNeed] = {}
        for need in (blocks.needs if blocks is not None else ()):
            if need.load is not None:
                self._needs[id(need.load)] = need
            else:
                self._ref_needs[(need.path, need.pos.line, need.pos.column, need.deployment)] = need
        self.flows: List[Flow2] = [self._flow(m, f) for m in self.modules for f in m.blocks.flows()]
        self.by_qualname: Dict[str, Flow2] = {f.qualname: f for f in self.flows}
        for module in self.modules:  # deployments made in Python: `flow.deploy(...)`, `flow.serve(...)`, ...
            for fact in module.blocks.deployments:
                target = self.function(fact.flow, module) if fact.flow else None
                if target in self.by_qualname:
                    self.by_qualname[target].deployed.append((module.path, fact))
        self.deployments: List[Deployment2] = [self._deployment(facts, d) for facts in project.deploy
                                               for d in facts.deployments]
        self.loose: List[TemplateUse] = [  # templates of prefect.yaml files without deployments
            self._template(facts, ref) for facts in project.deploy if not facts.deployments
            for ref in list(facts.block_refs) + list(facts.variable_refs)]

    # ----- flows ------------------------------------------------------------------------------
    def _flow(self, module: ModuleFacts, function: FunctionFact) -> Flow2:
        flow = Flow2(function, module, flow_name(function.qualname.rsplit(".", 1)[-1], function.name))
        chains: Dict[str, List[str]] = {function.qualname: [function.qualname]}
        queue = [function.qualname]
        imported: Dict[str, ModuleFacts] = {}  # path -> module, in the order they are reached
        hooks: Set[str] = set()  # functions reached as a state hook (a hook need not say it is one)

        def reach(target: str, near: ModuleFacts, chain: List[str], hook: bool = False) -> None:
            found = self.function(target, near)
            if found is None:
                if target not in flow.not_followed:
                    flow.not_followed.append(target)
                return
            if hook:
                hooks.add(found)
            if found not in chains:
                chains[found] = chain + [found]
                queue.append(found)
                enter(self.functions[found][0])

        def enter(home: ModuleFacts) -> None:
            for new in self._imports(home, imported):  # import-time calls run too
                for site in self.at_import.get(new.path, ([], [], []))[0]:
                    reach(site.target, new, [])

        enter(module)
        while queue:
            qual = queue.pop(0)
            home, fact = self.functions[qual]
            for _, site in self.calls.get(qual, ()):
                reach(site.target, home, chains[qual])
            for hooks_of in fact.hooks.values():
                for hook in hooks_of:
                    reach(hook, home, chains[qual], hook=True)
        for qual, chain in chains.items():
            role = "hook" if qual in hooks and qual != function.qualname else self._role(qual, function.qualname)
            for home, load in self.loads.get(qual, ()):
                flow.blocks.append(self._use(home, load, role, chain))
            for home, use in self.reads.get(qual, ()):
                flow.variables.append(VariableRead(use, home.path, role, chain))
        for home in imported.values():
            _calls, loads, reads = self.at_import.get(home.path, ((), (), ()))
            for load in loads:
                flow.blocks.append(self._use(home, load, load.where, []))
            for use in reads:
                flow.variables.append(VariableRead(use, home.path, use.where, []))
        return flow

    def _imports(self, module: ModuleFacts, out: Dict[str, ModuleFacts]) -> List[ModuleFacts]:
        """`module` and the project modules it imports, transitively, that `out` does not hold yet
        (added to it): importing a module runs its module-level code."""
        added = [m for m in self._closure(module) if m.path not in out]
        for m in added:
            out[m.path] = m
        return added

    def _closure(self, module: ModuleFacts) -> List[ModuleFacts]:
        """`module` and every project module it imports, transitively (computed once per module)."""
        found = self._closure_cache.get(module.path)
        if found is None:
            seen: Dict[str, ModuleFacts] = {}
            stack = [module]
            while stack:
                current = stack.pop()
                if current.path not in seen:
                    seen[current.path] = current
                    stack.extend(self._imported_by(current))
            found = self._closure_cache[module.path] = list(seen.values())
        return found

    def _imported_by(self, module: ModuleFacts) -> List[ModuleFacts]:
        """The project modules `module` imports (a module, or the module of a name), read once."""
        found = self._import_cache.get(module.path)
        if found is None:
            found = []
            for qual in module.imports.values():
                if qual.split(".", 1)[0] not in self._parts:
                    continue  # not a project module (prefect, os, ...): no search
                target = self.project.find_module(qual, module) or (
                    self.project.find_module(qual.rsplit(".", 1)[0], module) if "." in qual else None)
                if target is not None and target.error is None and target not in found:
                    found.append(target)
            self._import_cache[module.path] = found
        return found

    def _role(self, qual: str, start: str) -> str:
        kind = self.functions[qual][1].kind
        if qual == start:
            return "flow"
        return "subflow" if kind == "flow" else kind

    def _use(self, module: ModuleFacts, load: BlockLoad, role: str, chain: List[str]) -> BlockUse:
        need = self._needs.get(id(load))
        slug = need.slug if need is not None else (
            load.slug if load.cls == BASE_BLOCK else (self.model.class_slug(load.cls) if self.model else None))
        return BlockUse(load, module.path, role, list(chain), slug, need)

    def function(self, target: str, near: Optional[ModuleFacts]) -> Optional[str]:
        """The qualified name of the project function `target` names, following re-exports."""
        if target in self.functions:
            return target
        key = (target, near.path if near is not None else "")
        if key not in self._function_cache:

            def lookup(module: ModuleFacts, attr: str) -> Optional[str]:
                qual = f"{module.module}.{attr}"
                return qual if module.blocks is not None and qual in self.functions else None

            self._function_cache[key] = self.project.follow(target, near, lookup)
        return self._function_cache[key]

    # ----- deployments ------------------------------------------------------------------------
    def _template(self, facts, ref) -> TemplateUse:
        if isinstance(ref, BlockRef):
            return TemplateUse(ref, self._ref_needs.get((ref.path, ref.pos.line, ref.pos.column, ref.deployment)))
        return TemplateUse(ref)

    def _deployment(self, facts, deployment: Deployment) -> Deployment2:
        out = Deployment2(deployment)
        for ref in list(facts.block_refs) + list(facts.variable_refs):
            own = ref.deployment == deployment.name
            inherited = ref.deployment is None and ref.where in STEP_SECTIONS and ref.where not in deployment.steps
            if own or inherited:
                out.templates.append(self._template(facts, ref))
        out.templates.sort(key=lambda t: (t.ref.pos.line, t.ref.pos.column))
        out.flow, out.problem = self._entrypoint(deployment)
        return out

    def _entrypoint(self, deployment: Deployment) -> Tuple[Optional[Flow2], Optional[str]]:
        text = deployment.entrypoint
        if not text:
            return None, "no entrypoint"
        parts = split_entrypoint(text)
        if parts is None:
            return None, f"entrypoint {text!r} is neither path/to/file.py:function nor module.function"
        if parts.path is not None:
            folder = posixpath.dirname(deployment.path)
            rel = posixpath.normpath(posixpath.join(folder, parts.path.replace("\\", "/")))
            module = self.project.modules.get(rel)
            where = rel
            if module is None:
                return None, f"entrypoint {text!r}: {rel} is not a Python file of the project"
        else:
            module = self.project.find_module(parts.module)
            where = parts.module
            if module is None:
                return None, f"entrypoint {text!r}: module {parts.module} is not in the project"
        if module.error is not None:
            return None, f"entrypoint {text!r}: {module.path} does not parse"
        if module.blocks is None:
            return None, f"entrypoint {text!r}: {module.path} is not read as Prefect 2.x/3.x code"
        qual = self.function(f"{module.module}.{parts.obj}", module)
        if qual is None:
            return None, f"entrypoint {text!r}: no function {parts.obj} in {where}"
        flow = self.by_qualname.get(qual)
        if flow is None:
            return None, f"entrypoint {text!r}: {parts.obj} is not a flow (no @flow)"
        return flow, None
