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

from .catalogue import Catalogue, Entry, SecretSpec
from .config import Config
from .deployfiles import prefect_secret_name
from .facts import Arg, CallFact, FlowFact, ModuleFacts, Pos, Routine, SecretRead, Use
from .values import Value


# Run-config fields that give a flow run a cloud identity (the fallback is then intentional).
IDENTITY_FIELDS = {
    "prefect.run_configs.ecs.ECSRun": {"task_role_arn": ("aws",), "task_definition_arn": ("aws",),
                                       "task_definition_path": ("aws",)},
    "prefect.run_configs.kubernetes.KubernetesRun": {"service_account_name": ("aws", "gcp", "azure"),
                                                     "job_template_path": ("aws", "gcp", "azure")},
    "prefect.run_configs.vertex.VertexRun": {"service_account": ("gcp",)},
}
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


def context_secret_name(key: str) -> Optional[str]:
    """The context secret an env var provides, read as Prefect 1.4.1 does (top-level key)."""
    return prefect_secret_name(key)


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

    @property
    def consumer_label(self) -> str:
        if self.consumer is not None:
            return self.consumer.label
        if self.read is not None:
            return self.read.api
        return "storage secrets=[...]"

    @property
    def symbol(self) -> Optional[str]:
        if self.consumer is not None:
            return self.consumer.symbol
        if self.mechanism == "storage_preload":
            return "prefect.storage.base.Storage"
        return None


@dataclass
class Declaration:
    """A secret a flow declares for its runs (storage `secrets=[...]`, run-config env)."""

    flow: Optional["FlowModel"]  # None for an agent's --env: it reaches every flow the agent serves
    kind: str  # storage | run_config_env | agent_env
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
    needs: List[Need] = field(default_factory=list)
    declarations: List[Declaration] = field(default_factory=list)
    opaque: List[str] = field(default_factory=list)  # uses that could not be resolved
    identity: Dict[str, str] = field(default_factory=dict)  # family -> reason
    env_keys: Dict[str, Tuple[Arg, Pos]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.fact.name or self.fact.var or f"flow@{self.module.path}:{self.fact.pos.line}"

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
        self.flows: List[FlowModel] = []
        self._build()
        self.agent_declarations: List[Declaration] = [
            Declaration(None, "agent_env", env.secret, env.path, env.pos, key=env.name, value=env.value,
                        agent=self._agent_by_ref.get(env.agent_ref or ""))
            for env in self.deploy_env if env.scope == "forwarded" and env.secret
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
                return "flow", module, module.flows[module.flow_vars[attr]]
            return None

        return self._follow(qual, near, lookup)

    def resolve_constant(self, qual: str, near: Optional[ModuleFacts]) -> Optional[Value]:
        """The (redacted) value of a module constant imported from another project module."""
        return self._follow(qual, near, lambda module, attr: module.constants.get(attr))

    # ----- building ---------------------------------------------------------------------------
    def _build(self) -> None:
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
                flow = FlowModel(module=module, fact=flow_fact)
                for attr in ("storage", "run_config"):
                    call_id = getattr(flow_fact, attr)
                    if call_id is not None:
                        setattr(flow, attr, self._consumer(module, module.calls[call_id], {}, attr))
                    elif getattr(flow_fact, attr + "_ref"):
                        setattr(flow, attr, self._referenced(module, getattr(flow_fact, attr + "_ref"), attr,
                                                             flow_fact.pos))
                for patch_module, attr, call_id, ref, pos in patches.get((module.path, flow_fact.index), []):
                    if call_id is not None:
                        setattr(flow, attr, self._consumer(patch_module, patch_module.calls[call_id], {}, attr))
                    elif ref:
                        setattr(flow, attr, self._referenced(patch_module, ref, attr, pos))
                self._collect(flow)
                self._providers(flow)
                self._needs(flow)
                self.flows.append(flow)

    def _referenced(self, module: ModuleFacts, ref: str, role: str, pos: Pos) -> Optional[Consumer]:
        """A storage or run config defined in another module, or returned by a function.

        Its findings are placed where the flow takes it (`storage=...`), in the flow's file."""
        found = self.resolve(ref[:-2] if ref.endswith("()") else ref, module)
        if found is None:
            return None
        kind, target_module, obj = found
        if kind == "call" and not ref.endswith("()"):
            return self._consumer(target_module, obj, {}, role, pos=pos, path=module.path)
        if kind == "routine" and ref.endswith("()") and obj.returns:
            return self._consumer(target_module, target_module.calls[obj.returns[-1]], {}, role, pos=pos,
                                  path=module.path)
        return None

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

        def routine_body(module: ModuleFacts, routine: Routine, as_task: bool) -> None:
            if routine.qualname in seen_routines:
                return
            seen_routines.add(routine.qualname)
            for handler in routine.handlers:
                call = module.calls[handler]
                pending.append((module, call, {}, "state_handler", call.pos, module.path, True))
            if as_task or routine.is_task:
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
            found = self.resolve(use.target, module)
            if found is None:
                if not imperative and not _is_builtin_like(use.target):
                    flow.opaque.append(use.target)
                return
            kind, target_module, obj = found
            if kind == "call":
                role = "imperative" if imperative else "task"
                pos = use.pos if (use.pos.line and module is flow.module) else obj.pos
                path = module.path if (use.pos.line and module is flow.module) else target_module.path
                add_call(target_module, obj, use.run, role, pos, path, use.called)
            elif kind == "routine":
                routine_body(target_module, obj, as_task=obj.is_task)

        for consumer in (flow.storage, flow.run_config):
            if consumer is not None:
                pending.append((consumer.module, consumer.call, {}, consumer.role, consumer.pos, consumer.path, True))
        for handler in flow.fact.handlers:
            call = flow.module.calls[handler]
            pending.append((flow.module, call, {}, "state_handler", call.pos, flow.module.path, True))
        for use in flow.fact.uses:
            handle_use(flow.module, use, imperative=False)

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
                    name = context_secret_name(key)
                    if name:
                        flow.declarations.append(
                            Declaration(flow, "run_config_env", name, run_config.path, pos, key=key, value=value))
                    for family, names in LIBRARY_ENV.items():
                        if key in names and value.kind != "none":
                            flow.identity.setdefault(family, f"run config env sets {key}")
            for field_name, families in IDENTITY_FIELDS.get(run_config.symbol, {}).items():
                given = run_config.call.init.get(field_name)
                if given is not None and given.value.kind != "none":
                    for family in families:
                        flow.identity.setdefault(family, f"{run_config.label}({field_name}=...) grants an identity")
            for field_name in ("job_template", "task_definition"):
                template_arg = run_config.call.init.get(field_name)
                if template_arg is None:
                    continue
                for entry_name in _template_env_names(template_arg.value):
                    name = context_secret_name(entry_name)
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
            agent = self._agent_by_ref.get(env.agent_ref or "")
            if env.scope == "forwarded" and self.serves(agent, flow):
                label = f"{agent.type} agent --env {env.name}" if agent else f"agent env {env.name}"
                out.append(Provider("agent_env", name, env.path, env.pos, label))
            elif env.scope == "agent" and env.agent == "local" and self.serves(agent, flow):
                out.append(Provider("agent_env", name, env.path, env.pos, f"local agent environment {env.name}"))
            elif env.scope == "config":
                out.append(Provider("config_toml", name, env.path, env.pos, "[context.secrets] in a Prefect config"))
            elif env.scope == "process":
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

    def _need(self, flow: FlowModel, consumer: Consumer, spec: SecretSpec) -> Optional[Need]:
        if consumer.call.star_kwargs:
            return None  # arguments we cannot see may change everything
        name = spec.name
        need = Need(flow=flow, name=name, mechanism=spec.mechanism, required=spec.required, family=spec.family,
                    path=consumer.path, pos=consumer.pos, consumer=consumer, spec=spec)
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
            if reason is not None:
                need.state = "ambient"
                need.ambient_reason = reason
            else:
                need.state = "missing"
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


_BUILTIN_PREFIXES = ("builtins.", "os.", "sys.", "json.", "datetime.", "time.", "logging.", "pathlib.",
                     "typing.", "functools.", "itertools.", "collections.", "prefect.")


def _is_builtin_like(qual: str) -> bool:
    return qual.startswith(_BUILTIN_PREFIXES)
