"""Facts of one deployment file (agents, the environment they set or forward, linked files).

Plain data, free of secret values: kept apart from the readers (`credlint.facts.deploy.reader`)
so that loading cached facts imports no parser.

Secret values are never kept: a value is exported only as `credlint.facts.values.Value` (kind and
empty/placeholder/shaped flags); names (variables, secret names, dict keys that are
identifiers, labels) are kept in clear.

Data model notes for the project model:
- `EnvVar.scope`: "forwarded" | "agent" | "process" | "config" as documented on the class, plus
  "shell" for a shell/Makefile variable that is set but not exported (it is in no environment;
  kept because a literal there is still a hard-coded value), and "config-key" for each string
  inside a dict-valued config.toml secret (named `SECRET.KEY`, `secret` the secret's name; no
  provider of anything: the secret's own "config" entry is), and "config-setting" for a credential
  in another table of a Prefect config (`[s3] secret = "..."`, named `s3.secret`; recorded only when
  it is one, and a provider of nothing).
- Entries of `PREFECT__CLOUD__AGENT__ENV_VARS` (and `[cloud.agent.env_vars]`) that are tied to no
  agent in the file (a `.env`, a config.toml) have scope "forwarded" and `agent=None`: they reach
  the runs of whatever agent loads them. When the agent also has `--env`, Prefect ignores them
  (`--env` replaces the config env); they then get scope "agent" and a problem says why.
- A Local agent forwards its own environment: its `own_env` entries are also listed in
  `Agent.forwards` (their scope stays "agent").
- `DeployFacts.links` connects a service/container to env it loads from elsewhere: compose
  `env_file` and `docker run --env-file` (target: project-relative path), Kubernetes `envFrom`
  (target: "secret/NAME" or "configmap/NAME").
- Agent credential options `--key/-k` and `--token/-t` of an agent command are recorded as
  EnvVars named as written ("--key"), scope "agent"; a login command's credential option
  (`docker login -p VALUE`) as an EnvVar named after the command and the option
  ("docker login -p", `credlint.facts.naming.is_login_option`), scope "shell".
- Additions to the brief's fields: `EnvVar.owner` and `Agent.owner` name what sets the variable
  or runs the agent ("service agent", "container Deployment/x/agent", "job build", "program:x",
  "image", "target agent"); `shape` may also be "none" (the literal None) or "bytes"; a YAML value
  that is a mapping/list where a string belongs is Value kind "dynamic".
- Text kept in clear that looks like a value (a credential format, or a long run of mixed case
  and digits: a value written where a name belongs) is replaced by "<unreadable name>" etc.
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
