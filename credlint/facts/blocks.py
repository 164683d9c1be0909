"""Per-file facts of a Prefect 2.x/3.x module (`ModuleFacts.blocks`): the blocks it loads, saves
and builds, the block classes it defines, the Variables it reads and writes, its flows, tasks and
functions (flow parameters, hooks, the project functions they call) and the deployments it makes.

Plain, cacheable data free of secret values, like the 1.x facts (`facts.types`): names are kept in
clear, values as redacted `Value`s (kind and flags). Besides the 1.x kinds (str, bytes, num, bool,
none, dict, list, env, dynamic), a value in these facts may be

- `block_load` / `block_build`: a block loaded / built in this file (`ref` = its index, as text),
  e.g. `S3Bucket(credentials=AwsCredentials.load("prod"))`;
- `block_value`: what a loaded block's `.get()` gives (`Secret.load("x").get()`; `ref` = the load);
- `variable`: a Variable's value (`ref` = its name); `parameter`: a parameter of the function
  (`ref` = its name); `result`: what a project function returns (`ref` = its qualified name);
- `import`: a constant of another module (`ref` = its qualified name), as in the 1.x facts.

`where` says when the code runs: `module` (at import: on every deploy and on every worker),
`main` (under `if __name__ == "__main__":`), `default` (a default argument, evaluated at import),
`class` (a class body: it runs at import too), `flow`, `task`, `function` (a body, a lambda's
included), `hook` (a function this file gives a flow or task as a state hook; hooks given from
another module are in `FunctionFact.hooks`). `owner` is the qualified name of the function holding
the code (of the class, for a class body).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional

from credlint.facts.places import Arg, Pos
from credlint.facts.values import Value


@dataclass
class BlockLoad:
    """`Cls.load("name")`, `await Cls.aload("name")`, `Block.load("slug/name")`."""

    index: int
    cls: str  # the class as imported: "prefect_aws.AwsCredentials", "prefect.blocks.core.Block", "pkg.blocks.Creds"
    pos: Pos  # the call
    name: Optional[str] = None  # the document name, folded; without the slug of "slug/name"
    slug: Optional[str] = None  # the slug of "slug/name" (Prefect splits it only for the base Block)
    name_pos: Pos = field(default_factory=Pos)
    name_ref: Optional[str] = None  # the name is another module's constant ("pkg.settings.BLOCK")
    name_param: Optional[str] = None  # the name is this parameter of the function holding the load
    method: str = "load"  # load | aload
    awaited: bool = False  # the call is awaited (`await Cls.load(...)`, `asyncio.run(Cls.aload(...))`)
    in_async: bool = False  # inside an `async def`: a bare `load` there hands back a coroutine
    get: bool = False  # `.get()` is called on what it gives (`Secret.load("x").get()`)
    where: str = "module"
    owner: Optional[str] = None
    var: Optional[str] = None  # module-level name bound to it
    known: bool = False  # the class is a block by where it comes from; else the model resolves `cls`
    guarded: bool = False  # inside a `try` whose handler catches the ValueError of a missing block


@dataclass
class BlockSave:
    """`Cls(...).save("name")`, `block.save("name", overwrite=True)`, `await block.asave("name")`:
    a block document this repository creates (a declaration)."""

    index: int
    pos: Pos
    cls: Optional[str] = None  # the class of the block saved, when known
    name: Optional[str] = None
    name_pos: Pos = field(default_factory=Pos)
    name_ref: Optional[str] = None
    name_param: Optional[str] = None
    method: str = "save"  # save | asave
    overwrite: bool = False  # `overwrite=True` (without it a second run fails: the name is taken)
    build: Optional[int] = None  # the BlockBuild saved, when it is built in this file
    load: Optional[int] = None  # the BlockLoad whose block is saved again (a copy under a new name)
    awaited: bool = False
    in_async: bool = False
    where: str = "module"
    owner: Optional[str] = None


@dataclass
class BlockBuild:
    """A block constructed in code, with the keywords it is given (redacted; nested blocks as
    `block_load` / `block_build` values)."""

    index: int
    cls: str
    pos: Pos
    args: Dict[str, Arg] = field(default_factory=dict)  # keywords, and fields set later (`b.token = ...`)
    positional: List[Arg] = field(default_factory=list)
    star_kwargs: bool = False  # `**settings`: keywords not known
    where: str = "module"
    owner: Optional[str] = None
    var: Optional[str] = None
    known: bool = False
    in_async: bool = False


@dataclass
class BlockClass:
    """A block class defined in this file (`class Creds(Block): token: SecretStr`)."""

    qualname: str
    pos: Pos
    bases: List[str] = field(default_factory=list)  # qualified names
    type_name: Optional[str] = None  # `_block_type_name`, as written
    type_slug: Optional[str] = None  # `_block_type_slug`, as written
    slug: Optional[str] = None  # from its own `_block_type_slug` / `_block_type_name`; None: the model
    # decides (a base's, or the class name's: `symbols2.block_slug`)
    fields: List[str] = field(default_factory=list)  # annotated fields, in order
    secret_fields: List[str] = field(default_factory=list)  # SecretStr / SecretBytes / SecretDict fields
    known: bool = False  # a base is a block by where it comes from (else the model follows `bases`)


@dataclass
class VariableUse:
    """`Variable.get("n")`, `Variable.set("n", value)`, `aget` / `aset` / `unset`, 2.x's
    `variables.get("n")`. Variables are plain JSON on the server."""

    op: str  # get | set | unset
    pos: Pos
    method: str = ""  # as called: get, aget, set, aset, unset, aunset
    name: Optional[str] = None
    name_pos: Pos = field(default_factory=Pos)
    name_ref: Optional[str] = None
    name_param: Optional[str] = None
    value: Optional[Arg] = None  # set: the value (redacted)
    default: Optional[Arg] = None  # get: the default given
    overwrite: bool = False
    awaited: bool = False
    in_async: bool = False
    where: str = "module"
    owner: Optional[str] = None
    var: Optional[str] = None


@dataclass
class FlowParameter:
    """A parameter of a flow function: Prefect stores its value with the deployment and the run."""

    name: str
    pos: Pos
    default: Optional[Arg] = None  # redacted; masked in snippets when the name is a credential's
    annotation: Optional[str] = None  # a plain annotation's qualified name: "str", "pydantic.SecretStr"
    credential: bool = False  # the name is a credential's (`api_token`, `db_password`)


@dataclass
class FunctionFact:
    """A function of the module: a flow, a task, a hook or any other function (a helper)."""

    qualname: str
    kind: str  # flow | task | hook | function
    pos: Pos  # its name
    is_async: bool = False
    name: Optional[str] = None  # the `name=` of @flow / @task
    params: List[str] = field(default_factory=list)  # parameter names, positional ones first
    parameters: List[FlowParameter] = field(default_factory=list)  # flows: every parameter
    hooks: Dict[str, List[str]] = field(default_factory=dict)  # hook keyword -> functions (qualified names)
    returns: List[Value] = field(default_factory=list)  # what its `return`s give (redacted)


@dataclass
class CallSite:
    """A call of a project function, flow or task (this module's or an imported one): how the
    model follows helpers and a flow's tasks across modules."""

    target: str  # qualified name: "pkg.flows.extract", "pkg.helpers.get_creds"
    pos: Pos
    args: Dict[str, Arg] = field(default_factory=dict)  # keywords (a name-like keyword keeps its text)
    positional: List[Arg] = field(default_factory=list)
    via: str = ""  # "" a plain call | submit | map | fn | delay (a task or flow run another way)
    awaited: bool = False
    where: str = "module"
    owner: Optional[str] = None


@dataclass
class DeploymentFact:
    """`flow.deploy(...)`, `flow.serve(...)`, `flow.to_deployment(...)`, the same on
    `flow.from_source(...)`, `prefect.deploy(*deployments)` / `serve(...)`, 2.x's
    `Deployment.build_from_flow(...)`: what is stored with a deployment."""

    index: int
    method: str  # deploy | serve | to_deployment | build_from_flow
    pos: Pos
    flow: Optional[str] = None  # the flow: a function of this module or an import, by qualified name
    entrypoint: Optional[str] = None  # `from_source(..., entrypoint="flows/etl.py:etl")`
    source: Optional[Arg] = None  # `from_source(source=...)`
    name: Optional[str] = None  # the deployment's name
    work_pool: Optional[str] = None
    job_variables: Optional[Arg] = None  # `job_variables=` (2.x `infra_overrides=`): resolved at deploy time
    env: Optional[Arg] = None  # its "env" dict, with each variable's place (what lands in the deployment)
    parameters: Optional[Arg] = None
    args: Dict[str, Arg] = field(default_factory=dict)  # the other keywords
    deployments: List[int] = field(default_factory=list)  # deploy/serve of several: their to_deployment facts
    awaited: bool = False
    in_async: bool = False
    where: str = "module"
    owner: Optional[str] = None
    var: Optional[str] = None


@dataclass
class BlockFacts:
    """Everything the 2.x/3.x pass records about one module."""

    loads: List[BlockLoad] = field(default_factory=list)
    saves: List[BlockSave] = field(default_factory=list)
    builds: List[BlockBuild] = field(default_factory=list)
    classes: List[BlockClass] = field(default_factory=list)
    variables: List[VariableUse] = field(default_factory=list)
    functions: Dict[str, FunctionFact] = field(default_factory=dict)  # qualname -> function
    calls: List[CallSite] = field(default_factory=list)
    deployments: List[DeploymentFact] = field(default_factory=list)

    def flows(self) -> List[FunctionFact]:
        return [f for f in self.functions.values() if f.kind == "flow"]
