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
- Prefect 2.x/3.x files (`prefect_yaml`, `terraform`, `prefect_settings`) add two scopes:
  "job-env" for each entry of a prefect.yaml deployment's `work_pool.job_variables.env` (the flow
  run's environment, stored with the deployment), and "deploy-setting" for a literal credential
  anywhere else in them (a step's `access_token`, a parameter, Terraform block data, a provider's
  `api_key`, a variable's default, `[api] key` in prefect.toml), recorded only when it is one by
  name or format and named by its key path (`git_clone.access_token`, `aws-credentials/prod.
  aws_secret_access_key`, `var.prefect_api_key`, `api.key`). Neither has a 1.x context secret
  (`secret` is None) and neither provides anything to a 1.x flow. The templates, deployments and
  Terraform block declarations are `block_refs`, `variable_refs`, `env_refs`, `deployments` and
  `block_decls`, the build/push/pull steps `steps`; a file Prefect cannot read is in `errors` (CL000).
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
    scope: str  # forwarded | agent | process | config | shell | job-env | deploy-setting (see module doc)
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
class BlockRef:
    """`{{ prefect.blocks.SLUG.NAME[.KEY] }}` in a prefect.yaml: a block document the deployment
    needs. `where`: build | push | pull | job_variables | parameters | work_pool | deployment (any
    other field); `deployment`: the deployment's name when inside one (None: a section of the file,
    which every deployment without its own runs, see `Deployment.steps`)."""

    slug: str
    name: str
    path: str
    pos: Pos  # of the `{{`
    where: str
    deployment: Optional[str] = None
    key: str = ""  # the key path after the name ("" for the whole document)
    field_path: str = ""  # where in `where` it is: "env.DB_PASSWORD", "git_clone.access_token", "token"
    whole: bool = True  # the template is the whole value (2.20 resolves only those)


@dataclass
class VariableRef:
    """`{{ prefect.variables.NAME }}` in a prefect.yaml (same places as `BlockRef`)."""

    name: str
    path: str
    pos: Pos
    where: str
    deployment: Optional[str] = None
    field_path: str = ""
    whole: bool = True


@dataclass
class EnvRef:
    """`{{ $NAME }}` in a prefect.yaml: the environment of whoever runs `prefect deploy` (or, in a
    pull step, the worker's), read when the template is resolved."""

    name: str
    path: str
    pos: Pos
    where: str
    deployment: Optional[str] = None
    field_path: str = ""
    whole: bool = True


@dataclass
class Deployment:
    """One entry of a prefect.yaml's `deployments:`. Its templates are the refs with its name
    (`BlockRef.deployment`), plus the file-level refs of the sections it does not replace."""

    name: str  # as written, or "deployments[N]" when it has none
    path: str
    pos: Pos  # of its name (or of the entry)
    entrypoint: Optional[str] = None  # "flows/etl.py:etl"
    flow_name: Optional[str] = None
    work_pool: Optional[str] = None  # the work pool's name
    steps: List[str] = field(default_factory=list)  # the sections (build, push, pull) it sets itself
    env: List[str] = field(default_factory=list)  # names its `work_pool.job_variables.env` sets


@dataclass
class Step:
    """One step of a prefect.yaml's build, push or pull section (`- prefect_aws.deployments.steps.
    pull_from_s3: {bucket: ..., credentials: ...}`): the function Prefect imports and which inputs
    it is given. Inputs are kept by name; only their shape says anything about a value."""

    function: str  # the key, as written (an import path)
    section: str  # build | push | pull
    path: str
    pos: Pos  # of the function's key
    deployment: Optional[str] = None  # None: a section of the file, run by deployments without their own
    index: int = 0  # its place in the section's list
    inputs: List[str] = field(default_factory=list)  # the keys given (`requires` and `id` left out)
    nulls: List[str] = field(default_factory=list)  # inputs given null or "" (as good as left out)
    mappings: Dict[str, List[str]] = field(default_factory=dict)  # an input given a mapping inline: its keys
    # whose values are not null or ""


@dataclass
class BlockDecl:
    """A block document declared outside Python: Terraform `resource "prefect_block"`."""

    slug: Optional[str]  # None when computed
    name: Optional[str]  # None when computed (`"${var.env}-aws"`, `each.key`)
    path: str
    pos: Pos  # of the resource block
    source: str = "terraform"
    address: str = ""  # "prefect_block.aws"
    fields: Optional[List[str]] = None  # keys of `data` set to something other than null; None: unreadable


@dataclass
class DeployError:
    """What makes a file (or a template in it) one Prefect cannot read: reported as CL000."""

    message: str  # never holds a value: parser messages lose their quoted text
    pos: Pos
    kind: str = "file"  # "file", or "template" for a template that names nothing


@dataclass
class DeployFacts:
    path: str
    kind: str
    agents: List[Agent] = field(default_factory=list)
    env: List[EnvVar] = field(default_factory=list)
    problems: List[str] = field(default_factory=list)
    suppressions: Dict[int, List[str]] = field(default_factory=dict)
    links: List[EnvLink] = field(default_factory=list)
    # Prefect 2.x/3.x (prefect.yaml, Terraform, settings files)
    deployments: List[Deployment] = field(default_factory=list)
    block_refs: List[BlockRef] = field(default_factory=list)
    variable_refs: List[VariableRef] = field(default_factory=list)
    env_refs: List[EnvRef] = field(default_factory=list)
    block_decls: List[BlockDecl] = field(default_factory=list)
    steps: List[Step] = field(default_factory=list)  # prefect.yaml build/push/pull steps, once per position
    errors: List[DeployError] = field(default_factory=list)  # CL000, unlike `problems`
