"""Facts of one deployment file (agents, the environment they set or forward, linked files).

Plain data, free of secret values: kept apart from the parsers in `deployfiles` so that loading
cached facts imports no parser.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional

from credlint.facts.types import Pos
from credlint.facts.values import Value


@dataclass
class EnvVar:
    name: str  # exactly as written
    value: Value  # redacted
    path: str  # project-relative, with /
    pos: Pos  # of the variable name
    scope: str  # forwarded | agent | process | config | shell (see module doc)
    agent: Optional[str] = None
    agent_ref: Optional[str] = None  # "path:line" of the agent's command
    secret: Optional[str] = None  # the context secret Prefect 1.4.1 makes of it
    typo_of: Optional[str] = None  # the secret it was meant to provide but will not
    shape: str = ""  # dict | str | int | float | bool | list | none | bytes | json-string | reference | empty
    keys: List[str] = field(default_factory=list)
    expands: bool = False  # Prefect's config loader will expand $VAR / ~ / ${section.key} in it
    owner: str = ""  # what sets it: "service agent", "container prefect-agent/agent", "job build", ...


@dataclass
class Agent:
    type: str  # local | docker | kubernetes | ecs | vertex
    action: str  # start | install
    path: str
    pos: Pos  # of the `prefect` word of `prefect agent ...`
    labels: List[str] = field(default_factory=list)
    forwards: List[EnvVar] = field(default_factory=list)
    own_env: List[EnvVar] = field(default_factory=list)
    owner: str = ""

    @property
    def ref(self) -> str:
        return f"{self.path}:{self.pos.line}"


@dataclass
class EnvLink:
    """Environment a service or container loads from elsewhere (a file, a k8s Secret)."""

    owner: str
    target: str  # project-relative file path, or "secret/NAME" / "configmap/NAME"
    kind: str  # env_file | secret | configmap
    pos: Pos
    scope: str = "process"  # "agent" when the owner runs an agent
    agent: Optional[str] = None
    agent_ref: Optional[str] = None


@dataclass
class DeployFacts:
    path: str
    kind: str
    agents: List[Agent] = field(default_factory=list)
    env: List[EnvVar] = field(default_factory=list)
    problems: List[str] = field(default_factory=list)
    suppressions: Dict[int, List[str]] = field(default_factory=dict)
    links: List[EnvLink] = field(default_factory=list)
