"""The project model's plain types: a flow, the consumers at work in it, the secrets they need,
the providers and declarations that meet them, a file credlint could not read. Rules receive
these; they hold no logic beyond reading themselves."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from credlint.prefect.catalogue import Entry, SecretSpec
from credlint.facts.types import Arg, CallFact, EnvRead, FlowFact, ModuleFacts, Pos, Routine, SecretRead
from credlint.facts.values import Value


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
    agent: Optional[object] = None  # the facts.deploy.types.Agent for agent_env


@dataclass
class FlowModel:
    """A flow of the project with what is linked to it: storage, run config, consumers, their needs,
    the declarations that meet them."""

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
    # Where its tasks also come from (model.flows.FlowPlan): the flow it copies, its Flow class.
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


@dataclass(frozen=True)
class DictItem:
    """One `key: value` of a dict literal given as an argument (a run config's `env={...}`), with
    where its key and its value are written: a rule points at the key (a misspelt variable name)
    or at the value (a literal secret)."""

    key: str
    value: Value
    key_pos: Pos
    value_pos: Pos


def dict_items(arg: Optional[Arg]) -> List[DictItem]:
    """The items of a dict literal argument in source order; [] when there is no such argument or
    it is no dict literal. One place knows where each key and value is written (`Arg.keys`,
    `Arg.parts`, the whole argument when a position is missing)."""
    if arg is None or arg.value.kind != "dict":
        return []
    return [DictItem(key, value, arg.keys[index] if index < len(arg.keys) else arg.pos,
                     arg.parts[index] if index < len(arg.parts) else arg.pos)
            for index, (key, value) in enumerate(arg.value.items.items())]
