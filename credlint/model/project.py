"""The project model: flows linked across modules, their consumers, needs and providers.

Built from per-file facts only (never from syntax trees), so it can be recomputed from cached
facts whenever a provider changes. Each need ends in one state (DESIGN.md section 2):
provided, ambient, unverifiable, missing — plus `argument` (a per-task argument replaces the
secret) and `unknown` (the name is computed at run time).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Set, Tuple

from credlint.prefect.catalogue import Catalogue, Entry, SecretSpec
from credlint.config import Config
from credlint.prefect.names import prefect_secret_name
from credlint.facts.types import Arg, CallFact, EnvRead, FlowFact, ModuleFacts, Pos, Routine, SecretRead, Use
from credlint.facts.types import Attachment, Ref, to_data
from credlint.facts.naming import is_credential_name
from credlint.facts.values import Value


# Variables the client libraries read themselves: set in a run config, they make a fallback explicit.
LIBRARY_ENV = {
    "aws": ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
            "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"),
    "gcp": ("GOOGLE_APPLICATION_CREDENTIALS",),
    "azure": ("AZURE_STORAGE_CONNECTION_STRING",),
    "github": ("GITHUB_ACCESS_TOKEN",),
    "gitlab": ("GITLAB_ACCESS_TOKEN",),
    "bitbucket": ("BITBUCKET_ACCESS_TOKEN", "BITBUCKET_CLOUD_USERNAME"),
}


@dataclass
class Provider:
    """Where a secret comes from for a run."""

    kind: str  # storage | run_config_env | config_toml | python_context | cloud_inventory
    secret: str
    path: str
    pos: Pos
    detail: str = ""

    def describe(self) -> str:
        return f"{self.detail} ({self.path}:{self.pos.line})"


@dataclass
class Consumer:
    """One catalogued class or function at work in a flow, with the arguments it gets."""

    entry: Entry
    module: ModuleFacts
    call: CallFact
    run: Dict[str, Arg]
    role: str  # task | storage | run_config | state_handler | imperative
    path: str
    pos: Pos

    @property
    def symbol(self) -> str:
        return self.entry.symbol

    @property
    def label(self) -> str:
        return self.entry.short_name

    def argument(self, name: str, where: str = "init+run") -> Optional[Tuple[str, Arg]]:
        """The value given for `name`, run-time first; `where` limits where it counts."""
        if "run" in where or where == "call":
            if name in self.run:
                return "run", self.run[name]
        if "init" in where or where == "call":
            if name in self.call.init:
                return "init", self.call.init[name]
        return None


@dataclass
class Need:
    """A secret one consumer reads during a flow run, and how it is met."""

    flow: "FlowModel"
    name: Optional[str]
    mechanism: str  # context | secret_get | storage_preload
    required: bool
    family: str
    path: str
    pos: Pos
    consumer: Optional[Consumer] = None
    spec: Optional[SecretSpec] = None
    read: Optional[SecretRead] = None
    state: str = "missing"  # provided | argument | ambient | unverifiable | missing | unknown
    providers: List[Provider] = field(default_factory=list)
    argument: Optional[str] = None
    ambient_reason: str = ""
    reader: str = ""  # for an environment need: the function that reads the variable

    @property
    def consumer_label(self) -> str:
        if self.consumer is not None:
            return self.consumer.label
        if self.reader:
            return self.reader
        if self.read is not None:
            return self.read.api
        return "storage secrets=[...]"

    @property
    def optional(self) -> bool:
        """The consumer works without this secret (git storage clones anonymously without a token)."""
        return self.spec is not None and self.spec.optional

    @property
    def symbol(self) -> Optional[str]:
        if self.consumer is not None:
            return self.consumer.symbol
        if self.mechanism == "storage_preload":
            return "prefect.storage.base.Storage"
        return None


@dataclass
class Declaration:
    """A secret declared for flow runs (storage `secrets=[...]`, run-config env, agent env, a
    Prefect config's `[context.secrets]`)."""

    flow: Optional["FlowModel"]  # None for an agent's --env or a config: they reach several flows
    kind: str  # storage | run_config_env | agent_env | config_toml
    name: str
    path: str
    pos: Pos
    key: str = ""  # the env var name for run_config_env / agent_env
    value: Optional[Value] = None
    agent: Optional[object] = None  # the deployfiles.Agent for agent_env


@dataclass
class FlowModel:
    module: ModuleFacts
    fact: FlowFact
    storage: Optional[Consumer] = None
    run_config: Optional[Consumer] = None
    consumers: List[Consumer] = field(default_factory=list)
    reads: List[Tuple[ModuleFacts, SecretRead]] = field(default_factory=list)
    env_reads: List[Tuple[ModuleFacts, EnvRead]] = field(default_factory=list)
    needs: List[Need] = field(default_factory=list)
    environment: List[Need] = field(default_factory=list)  # credential env vars its tasks read (inventory only)
    declarations: List[Declaration] = field(default_factory=list)
    opaque: List[str] = field(default_factory=list)  # uses that could not be resolved
    identity: Dict[str, str] = field(default_factory=dict)  # family -> reason
    env_keys: Dict[str, Tuple[Arg, Pos]] = field(default_factory=dict)
    # Where its tasks also come from (flowsources.FlowPlan): the flow it copies, its Flow class.
    templates: List[Tuple[ModuleFacts, FlowFact]] = field(default_factory=list)
    builders: List[Tuple[ModuleFacts, Routine]] = field(default_factory=list)
    not_followed: str = ""  # why its tasks cannot be followed

    @property
    def name(self) -> str:
        fact = self.fact
        return fact.name or fact.label or fact.var or f"flow@{self.module.path}:{fact.pos.line}"

    @property
    def path(self) -> str:
        return self.module.path


@dataclass
class FileError:
    """A file (or folder) credlint could not read, decode or parse: what CL000 reports."""

    path: str
    message: str
    pos: Pos = field(default_factory=lambda: Pos(1, 1, 1, 1))
    severity: Optional[str] = None  # the rule's own unless set (a folder that cannot be listed: warning)
    kind: str = "file"  # or "folder"


class Project:
    """Everything credlint knows about a project, ready for the rules."""

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
        self.deploy = list(deploy)  # deployfiles.DeployFacts
        self.deploy_by_path = {facts.path: facts for facts in self.deploy}
        self.pattern_hits: Dict[str, list] = dict(pattern_hits or {})  # path -> patterns.Match (CL204)
        self.unused_suppressions: list = []  # filled by the runner once rules have run (CL001)
        self.deploy_env = self._linked_env()
        self.agents = [agent for facts in self.deploy for agent in facts.agents]
        self._agent_by_ref = {f"{a.path}:{a.pos.line}": a for a in self.agents}
        self._template_files = self._referenced_templates()
        self._attachments: Optional[Dict[Tuple[str, str], List[Tuple[ModuleFacts, Attachment]]]] = None
        self.flows: List[FlowModel] = []
        self._build()
        # Declarations that reach flows from outside them: an agent's --env (the flows it serves)
        # and a Prefect config's [context.secrets] (every flow run where it is loaded).
        self.agent_declarations: List[Declaration] = [
            Declaration(None, "agent_env", env.secret, env.path, env.pos, key=env.name, value=env.value,
                        agent=self._agent_by_ref.get(env.agent_ref or ""))
            for env in self.deploy_env if env.scope == "forwarded" and env.secret
        ] + [
            Declaration(None, "config_toml", env.secret, env.path, env.pos, key=env.name, value=env.value)
            for env in self.deploy_env if env.scope == "config" and env.secret and config_reaches_flows(env.path)
        ]

    def _linked_env(self) -> list:
        """Every deployment variable; those of a file an agent loads (compose env_file) count as
        that agent's own environment."""
        import dataclasses

        links = {}
        for facts in self.deploy:
            for link in getattr(facts, "links", ()):
                if link.kind == "env_file" and link.scope == "agent":
                    links.setdefault(link.target, link)
        out = []
        for facts in self.deploy:
            link = links.get(facts.path)
            for env in facts.env:
                if link is not None and env.scope == "process":
                    env = dataclasses.replace(env, scope="agent", agent=link.agent, agent_ref=link.agent_ref)
                out.append(env)
        return out

    # ----- run-config templates ---------------------------------------------------------------
    def _referenced_templates(self) -> Set[str]:
        """Deployment files that some run config names as its job template / task definition
        (`job_template_path=`, `task_definition_path=`)."""
        return {path for module in self.modules.values() for call in module.calls
                for path in self._template_paths(call)}

    def _template_paths(self, call: CallFact) -> List[str]:
        """The project's deployment files a run-config call names by path (matched on the trailing
        folders of the path or URL, at least the file name)."""
        found: List[str] = []
        for param in ("job_template_path", "task_definition_path"):
            arg = call.init.get(param)
            text = arg.value.text if arg is not None and arg.value.kind == "str" else None
            if not text:
                continue
            wanted = [p for p in text.split("?", 1)[0].split("/") if p]
            best: List[str] = []
            best_depth = 0
            for path in self.deploy_by_path:
                parts = path.split("/")
                depth = 0
                while depth < min(len(parts), len(wanted)) and parts[-1 - depth] == wanted[-1 - depth]:
                    depth += 1
                if depth and depth > best_depth:
                    best, best_depth = [path], depth
                elif depth and depth == best_depth:
                    best.append(path)
            found.extend(best)
        return found

    def template_provides(self, flow: "FlowModel", path: str) -> Optional[bool]:
        """None when `path` is no run-config template; else whether `flow`'s run config names it."""
        if path not in self._template_files:
            return None
        run_config = flow.run_config
        return run_config is not None and path in self._template_paths(run_config.call)

    def file_errors(self) -> List[FileError]:
        """Every file that could not be read, decoded or parsed, in path order."""
        out = [FileError(m.path, m.error.message, Pos(m.error.line, m.error.column, m.error.line, m.error.column))
               for m in self.modules.values() if m.error is not None]
        return sorted(out + self.unreadable, key=lambda e: (e.path, e.pos.line, e.pos.column))

    # ----- agents -----------------------------------------------------------------------------
    def flow_labels(self, flow: "FlowModel") -> List[str]:
        if flow.run_config is None:
            return []
        arg = flow.run_config.call.init.get("labels")
        if arg is None or arg.value.kind != "list":
            return []
        return [v.text for v in arg.value.elements if v.kind == "str" and v.text]

    def serves(self, agent, flow: "FlowModel") -> bool:
        """Whether an agent can pick up this flow's runs: its labels must include the flow's."""
        if agent is None or not agent.labels:
            return True
        labels = self.flow_labels(flow)
        return not labels or set(labels) <= set(agent.labels)

    def flows_served(self, agent) -> List["FlowModel"]:
        return [f for f in self.flows if self.serves(agent, f)]

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

    def _follow(self, qual: str, near: Optional[ModuleFacts], lookup, depth: int = 0):
        """Find `module.attr` in the project, following re-exports (`from x import y`)."""
        if depth > 8 or "." not in qual:
            return None
        module_name, attr = qual.rsplit(".", 1)
        module = self.find_module(module_name, near)
        if module is None:
            return None
        found = lookup(module, attr)
        if found is None and attr in module.imports:
            return self._follow(module.imports[attr], module, lookup, depth + 1)
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

        return self._follow(qual, near, lookup)

    def resolve_constant(self, qual: str, near: Optional[ModuleFacts]) -> Optional[Value]:
        """The (redacted) value of a module constant imported from another project module."""
        return self._follow(qual, near, lambda module, attr: module.constants.get(attr))

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
                            setattr(flow, attr, self._consumer(source_module, source_module.calls[call_id], {}, attr))
                        elif getattr(source, attr + "_ref"):
                            setattr(flow, attr, self._referenced(source_module, getattr(source, attr + "_ref"), attr,
                                                                 source.pos))
                        else:
                            continue
                        break
                for patch_module, attr, call_id, ref, pos in patches.get((module.path, flow_fact.index), []):
                    if call_id is not None:
                        setattr(flow, attr, self._consumer(patch_module, patch_module.calls[call_id], {}, attr))
                    elif ref:
                        setattr(flow, attr, self._referenced(patch_module, ref, attr, pos))
                self._collect(flow)
                self._providers(flow)
                self._needs(flow)
                self._environment_needs(flow)
                self.flows.append(flow)

    def _referenced(self, module: ModuleFacts, ref: str, role: str, pos: Pos) -> Optional[Consumer]:
        """A storage or run config defined in another module, or returned by a function.

        Its findings are placed where the flow takes it (`storage=...`), in the flow's file."""
        found = self.resolve(ref[:-2] if ref.endswith("()") else ref, module)
        if found is None and not ref.endswith("()"):
            # A module-level name holding what a helper returned (`STORAGE = make_storage()`).
            held = self._follow(ref, module, lambda m, attr: (m, m.helper_results[attr]) if attr in m.helper_results
                                else None)
            if held is not None:
                ref = held[1] + "()"
                found = self.resolve(held[1], held[0])
        if found is None:
            return None
        kind, target_module, obj = found
        if kind == "call" and not ref.endswith("()"):
            return self._consumer(target_module, obj, {}, role, pos=pos, path=module.path)
        returned = self.returned_call(target_module, obj) if kind == "routine" and ref.endswith("()") else None
        if returned is not None:
            return self._consumer(returned[0], returned[1], {}, role, pos=pos, path=module.path)
        return None

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

    def _is_task(self, kind: str, obj) -> bool:
        """Whether a resolved name is a task: a catalogued task instance or a project task."""
        if kind == "call":
            entry = self.catalogue.lookup(obj.symbol)
            return entry is not None and entry.kind == "task"
        return kind == "routine" and obj.is_task

    def _consumer(self, module: ModuleFacts, call: CallFact, run: Dict[str, Arg], role: str,
                  pos: Optional[Pos] = None, path: Optional[str] = None) -> Optional[Consumer]:
        entry = self.catalogue.lookup(call.symbol)
        if entry is None:
            return None
        if entry.kind == "result":
            role = "result"
        return Consumer(entry=entry, module=module, call=call, run=run, role=role,
                        path=path or module.path, pos=pos or call.pos)

    def _collect(self, flow: FlowModel) -> None:
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
            if not use.called and not self._is_task(kind, obj):
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
            consumer = self._consumer(module, call, run, role, pos, path)
            if consumer is not None:
                flow.consumers.append(consumer)

    def _providers(self, flow: FlowModel) -> None:
        storage = flow.storage
        if storage is not None:
            arg = storage.call.init.get("secrets")
            if arg is not None and arg.value.kind == "list":
                for index, element in enumerate(arg.value.elements):
                    if element.kind == "str" and element.text:
                        pos = arg.parts[index] if index < len(arg.parts) else arg.pos
                        flow.declarations.append(Declaration(flow, "storage", element.text, storage.path, pos))
        run_config = flow.run_config
        if run_config is not None:
            arg = run_config.call.init.get("env")
            if arg is not None and arg.value.kind == "dict":
                for index, (key, value) in enumerate(arg.value.items.items()):
                    pos = arg.keys[index] if index < len(arg.keys) else arg.pos
                    value_pos = arg.parts[index] if index < len(arg.parts) else arg.pos
                    flow.env_keys[key] = (Arg(value=value, pos=value_pos), pos)
                    name = prefect_secret_name(key)
                    if name:
                        flow.declarations.append(
                            Declaration(flow, "run_config_env", name, run_config.path, pos, key=key, value=value))
                    for family, names in LIBRARY_ENV.items():
                        if key in names and value.kind != "none":
                            flow.identity.setdefault(family, f"run config env sets {key}")
            # Run-config fields that give a flow run a cloud identity (the fallback is then intentional):
            # the catalogue's `identity` on a run config's parameter. ECSRun's task_definition_arn/_path
            # name a definition credlint cannot see, so they prove none; an inline one is read below.
            for param in run_config.entry.credential_params:
                given = run_config.call.init.get(param.param)
                if param.identity and given is not None and given.value.kind != "none":
                    for family in param.identity:
                        flow.identity.setdefault(family, f"{run_config.label}({param.param}=...) grants an identity")
            for field_name in ("job_template", "task_definition"):
                template_arg = run_config.call.init.get(field_name)
                if template_arg is None:
                    continue
                for entry_name in _template_env_names(template_arg.value):
                    name = prefect_secret_name(entry_name)
                    if name:
                        flow.declarations.append(Declaration(flow, "run_config_env", name, run_config.path,
                                                             template_arg.pos, key=f"{field_name} {entry_name}"))
            template = run_config.call.init.get("job_template") or run_config.call.init.get("task_definition")
            if template is not None and _has_key(template.value, ("serviceAccountName", "taskRoleArn")):
                for family in ("aws", "gcp", "azure"):
                    flow.identity.setdefault(family, f"{run_config.label} template sets an identity")

    def providers_for(self, flow: FlowModel, name: str, mechanism: str) -> List[Provider]:
        out: List[Provider] = []
        for declaration in flow.declarations:
            if declaration.name != name:
                continue
            if declaration.kind == "storage":
                if mechanism == "storage_preload":
                    continue
                out.append(Provider("storage", name, declaration.path, declaration.pos,
                                    f"{flow.storage.label}(secrets=[...])" if flow.storage else "storage secrets"))
            else:
                out.append(Provider("run_config_env", name, declaration.path, declaration.pos,
                                    f"{flow.run_config.label if flow.run_config else 'run config'} env "
                                    f"{declaration.key}"))
        for env in self.deploy_env:
            if env.secret != name or env.value.kind == "none":
                continue
            agent_provider = self._agent_provider(flow, env, name)
            if agent_provider is not None:
                out.append(agent_provider)
            elif env.scope == "config":
                if config_reaches_flows(env.path):
                    out.append(Provider("config_toml", name, env.path, env.pos,
                                        "[context.secrets] in a Prefect config"))
            elif env.scope == "process":
                template = self.template_provides(flow, env.path)
                if template:
                    out.append(Provider("run_config_env", name, env.path, env.pos,
                                        f"{flow.run_config.label} template env {env.name}"))
                elif template is None:
                    out.append(Provider("environment", name, env.path, env.pos, f"environment variable {env.name}"))
        for write in flow.module.context_writes:
            if write.name == name:
                out.append(Provider("python_context", name, flow.module.path, write.pos, "set in Python context"))
        if mechanism in ("secret_get", "storage_preload") and self.config.cloud_secrets is not None:
            if name in self.config.cloud_secrets:
                source = self.config.path or "configuration"
                out.append(Provider("cloud_inventory", name, source, Pos(), "cloud-secrets inventory"))
        return out

    # ----- needs ------------------------------------------------------------------------------
    def _needs(self, flow: FlowModel) -> None:
        for consumer in flow.consumers:
            for spec in consumer.entry.secrets:
                if spec.mechanism == "storage_preload":
                    continue  # the declarations themselves, below
                need = self._need(flow, consumer, spec)
                if need is not None:
                    flow.needs.append(need)
        for module, read in flow.reads:
            need = Need(flow=flow, name=read.name, mechanism=read.mechanism, required=read.required,
                        family="", path=module.path, pos=read.pos, read=read)
            self._settle(need)
            flow.needs.append(need)
        for declaration in flow.declarations:
            if declaration.kind != "storage":
                continue
            need = Need(flow=flow, name=declaration.name, mechanism="storage_preload", required=True,
                        family="storage", path=declaration.path, pos=declaration.pos)
            self._settle(need)
            flow.needs.append(need)

    def _environment_needs(self, flow: FlowModel) -> None:
        """Credential-named variables the flow's tasks read from `os.environ` (DESIGN section 2:
        credentials that arrive outside Prefect). Inventory only: never a finding."""
        seen: Set[Tuple[str, str, int]] = set()
        for module, read in flow.env_reads:
            if (read.name, module.path, read.pos.line) in seen:
                continue
            seen.add((read.name, module.path, read.pos.line))
            owner = (read.owner or "").rsplit(".", 1)[-1]
            need = Need(flow=flow, name=read.name, mechanism="environment", required=False, family="environment",
                        path=module.path, pos=read.pos, reader=f"os.environ in {owner}()" if owner else "os.environ")
            need.providers = self.environment_providers(flow, read.name)
            if need.providers:
                need.state = "provided"
            else:
                need.state = "ambient"
                need.ambient_reason = "the run's own environment (nothing in the project sets it)"
            flow.environment.append(need)

    def _agent_provider(self, flow: FlowModel, env, name: str) -> Optional[Provider]:
        """An agent that passes `env` to this flow's runs: by `--env` (any agent type), or from its
        own environment (a Local agent only)."""
        agent = self._agent_by_ref.get(env.agent_ref or "")
        if env.scope == "forwarded" and self.serves(agent, flow):
            label = f"{agent.type} agent --env {env.name}" if agent else f"agent env {env.name}"
            return Provider("agent_env", name, env.path, env.pos, label)
        if env.scope == "agent" and env.agent == "local" and self.serves(agent, flow):
            return Provider("agent_env", name, env.path, env.pos, f"local agent environment {env.name}")
        return None

    def environment_providers(self, flow: FlowModel, name: str) -> List[Provider]:
        """What sets environment variable `name` for this flow's runs: its run config's env or job
        template, an agent that serves it (--env, or a Local agent's own environment)."""
        out: List[Provider] = []
        run_config = flow.run_config
        if name in flow.env_keys:
            out.append(Provider("run_config_env", name, run_config.path, flow.env_keys[name][1],
                                f"{run_config.label} env {name}"))
        if run_config is not None:
            for field_name in ("job_template", "task_definition"):
                template = run_config.call.init.get(field_name)
                if template is not None and name in _template_env_names(template.value):
                    out.append(Provider("run_config_env", name, run_config.path, template.pos,
                                        f"{run_config.label}({field_name}=...) env {name}"))
        for env in self.deploy_env:
            if env.name != name or env.value.kind == "none":
                continue
            agent_provider = self._agent_provider(flow, env, name)
            if agent_provider is not None:
                out.append(agent_provider)
            elif env.scope == "process" and self.template_provides(flow, env.path):
                out.append(Provider("run_config_env", name, env.path, env.pos,
                                    f"{run_config.label} template env {env.name}"))
        return out

    def _need(self, flow: FlowModel, consumer: Consumer, spec: SecretSpec) -> Optional[Need]:
        if consumer.call.star_kwargs:
            return None  # arguments we cannot see may change everything
        name = spec.name
        need = Need(flow=flow, name=name, mechanism=spec.mechanism, family=spec.family, path=consumer.path,
                    pos=consumer.pos, consumer=consumer, spec=spec,
                    required=spec.required and not (consumer.call.guarded and spec.mechanism == "secret_get"))
        if spec.name_param:
            given = consumer.argument(spec.name_param, spec.name_where or "init+run")
            if given is None:
                if spec.only_if_name_param:
                    return None
            else:
                value = given[1].value
                if value.kind == "none" or (value.kind == "str" and value.text == ""):
                    if spec.none_disables or spec.only_if_name_param:
                        return None
                    need.name = "None"
                elif value.kind == "str" and value.text is not None:
                    need.name = value.text
                else:
                    need.name = None
                    need.state = "unknown"
                    return need
        for key, expected in spec.skip_if:
            given = consumer.argument(key)
            if given is not None and _matches(given[1].value, expected):
                return None
        for param_name in spec.satisfied_by:
            cred = consumer.entry.credential_param(param_name)
            where = cred.where if cred is not None else "init+run"
            given = consumer.argument(param_name, where)
            if given is None:
                continue
            place, arg = given
            if cred is not None and cred.ignored and cred.ignored == place:
                continue
            if arg.value.kind in ("none",) or (arg.value.kind == "str" and arg.value.empty):
                continue
            if _switches_read_away(consumer.entry, param_name):
                return None  # another read (listed on its own) or another mode replaces this one
            need.state = "argument"
            need.argument = f"{param_name}= ({place})"
            return need
        self._settle(need)
        return need

    def _settle(self, need: Need) -> None:
        if need.name is None:
            need.state = "unknown"
            return
        need.providers = self.providers_for(need.flow, need.name, need.mechanism)
        if need.providers:
            need.state = "provided"
            return
        if need.mechanism == "context":
            if need.read is not None:
                need.state = "missing" if need.required else "ambient"
                return
            reason = need.flow.identity.get(need.family)
            if reason is None and need.family in self.config.allow_fallback:
                reason = f"allow-fallback includes {need.family}"
            if reason is None and need.optional:
                reason = _anonymous_reason(need)
            if reason is not None:
                need.state = "ambient"
                need.ambient_reason = reason
            else:
                need.state = "missing"
            return
        if not need.required:  # `Secret.get` in a `try` that catches its ValueError
            need.state = "ambient"  # the code goes on without it: no run fails for want of it
            need.ambient_reason = "optional: the code catches the error of a missing secret"
            return
        if self.config.backend == "cloud" and self.config.cloud_secrets is None:
            need.state = "unverifiable"
        else:
            need.state = "missing"

    # ----- queries for rules ------------------------------------------------------------------
    def needed_names(self, flow: FlowModel) -> Set[str]:
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
        matches = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.75)
        return matches[0] if matches else None

    def default_names(self) -> Set[str]:
        return {s.name for e in self.catalogue for s in e.secrets if s.name}


_NOT_LOADED = ("example", "sample", "template", ".dist")


def config_reaches_flows(path: str) -> bool:
    """Whether a checked-in Prefect config.toml is loaded where flows run.

    Prefect reads one user config (`~/.prefect/config.toml`, or PREFECT__USER_CONFIG_PATH), so a
    config in the repository is one someone installs or mounts there for the runs (an agent's
    image, a compose volume): credlint cannot tell which runs, so it reaches every flow of the
    project. An example, sample or template (`config_example.toml`, `config.toml.sample`) is
    loaded nowhere: it reaches nothing."""
    name = path.rsplit("/", 1)[-1].lower()
    return not any(word in name for word in _NOT_LOADED)


def _switches_read_away(entry: Entry, param: str) -> bool:
    """A `satisfied_by` argument that is no credential: a secret-name parameter (GitHub's
    `access_token_secret` replaces the GITHUB_ACCESS_TOKEN read with a read of the named secret,
    a need of its own) or a mode switch (Bitbucket's `workspace`: Cloud mode reads no context)."""
    if param in entry.name_params:
        return True
    return entry.credential_param(param) is None and not is_credential_name(param)


def _anonymous_reason(need: Need) -> str:
    """Why an optional need that nothing provides is no fallback to someone else's credentials."""
    variables = [v.name for v in need.consumer.entry.env_vars if v.name == need.name] if need.consumer else []
    then = f"the {variables[0]} variable if set, else " if variables else ""
    return f"optional: without it, {then}anonymous access (public repositories)"


def _matches(value: Value, expected: str) -> bool:
    if value.kind == "bool":
        return (value.text or "") == expected
    if value.kind == "str" and value.text is not None:
        return value.text == expected
    return False


def _template_env_names(value: Value) -> List[str]:
    """Variable names in a job template / task definition: every {"name": ..., "value"...} entry."""
    out: List[str] = []
    if value.kind == "dict":
        name = value.items.get("name") or value.items.get("Name")
        if name is not None and name.kind == "str" and name.text and (
                {"value", "valueFrom", "Value"} & set(value.items)):
            out.append(name.text)
        for item in value.items.values():
            out.extend(_template_env_names(item))
    elif value.kind == "list":
        for item in value.elements:
            out.extend(_template_env_names(item))
    return out


def _has_key(value: Value, keys: Tuple[str, ...]) -> bool:
    if value.kind != "dict":
        return False
    for key, item in value.items.items():
        if key in keys or _has_key(item, keys):
            return True
    for item in value.elements:
        if _has_key(item, keys):
            return True
    return False


# Task methods that add the task to a flow: a use of `pkg.tasks.clean.map` is a use of `clean`.
TASK_WIRING = {"map", "bind", "set_upstream", "set_downstream"}
# Arguments through which a storage or run config provides secrets or an identity.
_PROVIDER_ARGS = {"secrets", "env", "labels", "job_template", "task_definition", "job_template_path",
                  "task_definition_path", "task_role_arn", "execution_role_arn", "service_account_name",
                  "service_account"}

_BUILTIN_PREFIXES = ("builtins.", "os.", "sys.", "json.", "datetime.", "time.", "logging.", "pathlib.",
                     "typing.", "functools.", "itertools.", "collections.", "prefect.")


def _is_builtin_like(qual: str) -> bool:
    return qual.startswith(_BUILTIN_PREFIXES)
