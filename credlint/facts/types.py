"""Per-file facts: plain, cacheable data about one Python module, free of secret values.

Everything a rule needs about a file is here, already resolved (qualified names, folded
constants, positions); nothing here refers back to a syntax tree.
"""
from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Callable, Dict, List, Optional, Tuple, get_type_hints

from credlint.facts.blocks import BlockFacts
from credlint.facts.places import Arg, Pos  # here for every module that imports them from types
from credlint.facts.values import Value


@dataclass
class Ref:
    """A state handler or result given by name, resolved by the project model: a project function
    (`pkg.mod.fn`, whose body runs as the handler) or a module-level object (`pkg.mod.alert`), or
    what a project helper returns (`pkg.mod.make_result()`)."""

    name: str
    pos: Pos = field(default_factory=Pos)


@dataclass
class CallFact:
    """A catalogued Prefect class or function used in this file (construction or call)."""

    id: int
    symbol: str
    pos: Pos
    init: Dict[str, Arg] = field(default_factory=dict)
    run: Dict[str, Arg] = field(default_factory=dict)
    star_kwargs: bool = False
    context: str = "module"  # module | flow | task | function | class
    owner: Optional[str] = None  # qualname of the task/function holding it
    var: Optional[str] = None  # module-level name bound to it
    handlers: List[int] = field(default_factory=list)  # state handlers (CallFact ids)
    handler_refs: List[Ref] = field(default_factory=list)  # state handlers / result given by name
    guarded: bool = False  # made in a `try` that catches a missing secret's ValueError (an optional read)


@dataclass
class Use:
    """Something a flow block (or a flow-building function) puts into the flow."""

    call: Optional[int] = None  # a CallFact of this file
    target: Optional[str] = None  # a qualified name resolved by the project model
    run: Dict[str, Arg] = field(default_factory=dict)
    called: bool = True
    pos: Pos = field(default_factory=Pos)


@dataclass
class FlowFact:
    index: int
    name: Optional[str]
    var: Optional[str]
    pos: Pos
    scope: str = ""  # qualname of the function that builds it, "" at module level
    storage: Optional[int] = None
    run_config: Optional[int] = None
    storage_ref: Optional[str] = None  # defined elsewhere: "pkg.mod.NAME" or "pkg.mod.func()"
    run_config_ref: Optional[str] = None
    handlers: List[int] = field(default_factory=list)
    uses: List[Use] = field(default_factory=list)
    handler_refs: List[Ref] = field(default_factory=list)
    # Where the flow comes from, when it is not a plain `Flow(...)`; the project decides whether
    # it is a flow at all (a class is one only if its bases lead to Prefect's Flow).
    source: str = ""  # "" constructed | "class" a Flow subclass itself | "copy" | "call" (a result)
    cls: Optional[str] = None  # the class called (or, for "class", defined) when it is not Prefect's Flow
    origin: Optional[str] = None  # "copy": the flow copied ("pkg.mod.name"); "call": "pkg.mod.fn()"
    copy_of: Optional[int] = None  # "copy" of a flow of this module (its index)
    label: Optional[str] = None  # the name's expression when it cannot be folded: `Flow(os.getenv("X"))`
    returned: bool = False  # the function that builds it returns it


@dataclass
class ClassFact:
    """A class with bases: a Flow subclass once the project has followed its bases to Prefect's
    Flow. What its methods do to `self` tells whether its own tasks can be followed."""

    qualname: str
    bases: List[str]
    flow: int  # the FlowFact that stands for the class (source "class")
    methods: List[str] = field(default_factory=list)  # routine qualnames of its methods
    wired: bool = False  # a method adds tasks to self: `.bind(flow=self)`, `self.add_task`, `with self:`
    passes_self: bool = False  # a method hands self to project code (which may add the tasks)


@dataclass
class Routine:
    """A function or Task subclass: the consumers it runs and the tasks it adds to a flow."""

    qualname: str
    is_task: bool
    pos: Pos
    calls: List[int] = field(default_factory=list)  # imperative consumers (task bodies)
    uses: List[Use] = field(default_factory=list)  # instances it calls or adds
    reads: List[int] = field(default_factory=list)  # SecretRead indexes
    env_reads: List[int] = field(default_factory=list)  # EnvRead indexes
    returns: List[int] = field(default_factory=list)  # catalogued instances it returns
    handlers: List[int] = field(default_factory=list)
    handler_refs: List[Ref] = field(default_factory=list)
    return_refs: List[str] = field(default_factory=list)  # helpers whose result it returns ("pkg.mod.fn")
    returns_other: bool = False  # some `return` gives something else (so what it returns is not known)


@dataclass
class SecretRead:
    """Secret(...).get(), PrefectSecret(...).run() or a prefect.context.secrets read."""

    name: Optional[str]
    mechanism: str  # secret_get | context
    required: bool
    context: str  # module | flow | task | function | class
    owner: Optional[str]
    pos: Pos
    api: str = ""  # what was called, for messages


@dataclass
class EnvRead:
    """`os.environ[...]` / `os.getenv(...)` of a credential-named variable inside a function:
    a need of the run's environment, shown by `credlint inventory` (never a finding)."""

    name: str
    context: str  # task | function
    owner: Optional[str]
    pos: Pos


@dataclass
class ContextWrite:
    """A value put into Prefect's secret context from Python code."""

    name: Optional[str]
    value: Value
    via: str  # context_assign | context_call | environ
    pos: Pos
    value_pos: Pos = field(default_factory=Pos)


@dataclass
class CredentialArg:
    """A call outside the catalogue given something under a credential name: a literal (or a
    constant) for a credential-named keyword (`Client(client_secret="...")`), or a credential-named
    constant (`connect(DB_PASSWORD)`). CL201 reports the literals among them."""

    callee: str  # as written: "hvac.Client", "self.client.login"
    name: str  # the keyword, or the constant's name
    arg: Arg
    keyword: bool = True  # False: `name` is a credential-named constant the call is given


@dataclass
class ParameterFact:
    name: Optional[str]
    default: Optional[Value]
    pos: Pos
    default_pos: Pos = field(default_factory=Pos)


@dataclass
class FlowPatch:
    """`flow.storage = ...` / `flow.run_config = ...` on a flow defined in another module."""

    target: str
    attr: str
    call: Optional[int]
    pos: Pos
    ref: Optional[str] = None  # the value is defined elsewhere (see FlowFact.storage_ref)


@dataclass
class Attachment:
    """A state handler or result attached after construction (`x.state_handlers = [...]`,
    `x.state_handlers.append(...)`, `x.result = ...`) to a task or flow known by its qualified
    name (a module-level instance, an imported task or flow): the project finds what it names."""

    target: str
    call: Optional[int] = None  # a catalogued instance of this file (a notifier, a Result)
    ref: Optional[Ref] = None  # or one given by name


@dataclass
class Suppression:
    """A `# credlint: ignore[...]` / `# noqa: CL...` comment."""

    line: int
    column: int
    scope: str  # line | next-line | file
    codes: List[str] = field(default_factory=list)  # [] for a bare ignore (which silences nothing)


@dataclass
class ParseError:
    message: str
    line: int = 1
    column: int = 1


@dataclass(frozen=True)
class Match:
    """Where a credential sits, and its format. Positions are 1-based; columns count characters, end
    is exclusive. Nothing computed from the value (no hash, no length): the cache keeps these."""

    pattern: str
    line: int
    column: int
    end_line: int
    end_column: int


@dataclass
class ModuleFacts:
    path: str  # relative to the project root, with /
    module: str  # dotted module name relative to the project root
    is_package: bool = False
    error: Optional[ParseError] = None
    prefect1: bool = False  # uses Prefect 1.x APIs
    prefect2: bool = False  # imports Prefect 2.x-only APIs
    uses_prefect: bool = False  # imports anything from prefect
    # The Prefect the file is read under: "1" (1.x facts below), "2" (2.x/3.x: `blocks` instead of
    # any 1.x fact), "" (no Prefect import: read as 1.x code, as it always was). See prefect2_model.
    model: str = ""
    blocks: Optional[BlockFacts] = None  # 2.x/3.x files: blocks, variables, flows, deployments
    imports: Dict[str, str] = field(default_factory=dict)  # module-level name -> qualname
    definitions: Dict[str, str] = field(default_factory=dict)  # module-level name -> def kind
    instances: Dict[str, int] = field(default_factory=dict)  # module-level name -> CallFact id
    constants: Dict[str, Value] = field(default_factory=dict)  # module-level string constants (redacted)
    flow_vars: Dict[str, int] = field(default_factory=dict)  # module-level name -> flow index
    calls: List[CallFact] = field(default_factory=list)
    flows: List[FlowFact] = field(default_factory=list)
    classes: Dict[str, ClassFact] = field(default_factory=dict)  # qualname -> class with bases
    routines: Dict[str, Routine] = field(default_factory=dict)
    reads: List[SecretRead] = field(default_factory=list)
    context_writes: List[ContextWrite] = field(default_factory=list)
    env_reads: List[EnvRead] = field(default_factory=list)
    parameters: List[ParameterFact] = field(default_factory=list)
    credential_args: List[CredentialArg] = field(default_factory=list)  # calls outside the catalogue
    patches: List[FlowPatch] = field(default_factory=list)
    attachments: List[Attachment] = field(default_factory=list)
    helper_results: Dict[str, str] = field(default_factory=dict)  # module-level name -> helper whose result it holds
    suppressions: List[Suppression] = field(default_factory=list)
    sensitive: List[Pos] = field(default_factory=list)  # spans to mask in snippets

    def call(self, call_id: int) -> CallFact:
        return self.calls[call_id]


_MISSING = object()
_DUMP_SPECS: Dict[type, list] = {}


def _dump_spec(tp: type) -> list:
    """(name, default) per field; default is a value to compare with, or _MISSING."""
    spec = _DUMP_SPECS.get(tp)
    if spec is None:
        spec = []
        for f in fields(tp):
            if f.default is not dataclasses.MISSING:
                default = f.default
            elif f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
                default = f.default_factory()  # type: ignore[misc]
            else:
                default = _MISSING
            spec.append((f.name, default))
        _DUMP_SPECS[tp] = spec
    return spec


def to_data(obj):
    """Dataclass tree -> compact JSON-compatible data (for the cache and for debugging).

    Fields at their default are left out and positions are 4-lists: a warm run's cost is mostly
    reading this back, so it is kept small."""
    if isinstance(obj, Value):
        return obj.to_dict()
    if isinstance(obj, Pos):
        return [obj.line, obj.column, obj.end_line, obj.end_column]
    if is_dataclass(obj):
        out = {}
        for name, default in _dump_spec(type(obj)):
            value = getattr(obj, name)
            if default is not _MISSING and value == default:
                continue
            out[name] = to_data(value)
        return out
    if isinstance(obj, dict):
        return {str(k): to_data(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_data(v) for v in obj]
    return obj


_LOADERS: Dict[object, Optional[Callable]] = {}
_PLAIN = (str, int, bool, float, type(None))


def _loader(tp) -> Optional[Callable]:
    """A function data -> object for a type, built once per type; None where the data is the
    value already (strings, numbers), so the common case costs nothing."""
    if tp in _LOADERS:
        return _LOADERS[tp]
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    load: Optional[Callable]
    if tp in _PLAIN or tp is typing.Any or tp is object:
        load = None
    elif origin is typing.Union:
        inner = _loader([a for a in args if a is not type(None)][0])
        load = None if inner is None else (lambda data: None if data is None else inner(data))
    elif tp is Value:
        load = Value.from_dict
    elif tp is Pos:
        load = lambda data: Pos(*data)  # noqa: E731
    elif origin in (list, List, tuple, typing.Tuple):
        item = _loader(args[0]) if args else None
        if origin in (tuple, typing.Tuple):
            load = (lambda data: tuple(data)) if item is None else (lambda data: tuple(item(v) for v in data))
        else:
            load = None if item is None else (lambda data: [item(v) for v in data])
    elif origin in (dict, Dict):
        value = _loader(args[1])
        if args[0] is int:
            load = (lambda data: {int(k): v for k, v in data.items()}) if value is None else \
                (lambda data: {int(k): value(v) for k, v in data.items()})
        else:
            load = None if value is None else (lambda data: {k: value(v) for k, v in data.items()})
    elif is_dataclass(tp):
        _LOADERS[tp] = lambda data: build(data)  # recursive types resolve through the table
        hints = get_type_hints(tp)
        members = {f.name: _loader(hints[f.name]) for f in fields(tp)}

        def build(data):
            kwargs = {}
            for name, raw in data.items():
                sub = members.get(name, _MISSING)
                if sub is _MISSING:
                    continue  # a field this version no longer has
                kwargs[name] = raw if sub is None or raw is None else sub(raw)
            return tp(**kwargs)

        load = build
    else:
        load = None
    _LOADERS[tp] = load
    return load


def load(tp, data):
    """JSON-compatible data (from `to_data`) -> an instance of the dataclass `tp`."""
    loader = _loader(tp)
    return data if loader is None else loader(data)


def from_data(data) -> ModuleFacts:
    return load(ModuleFacts, data)


def module_name_for(relpath: str) -> Tuple[str, bool]:
    """Dotted module name of a project-relative path, and whether it is a package."""
    parts = relpath[:-3].split("/") if relpath.endswith(".py") else relpath.split("/")
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(p for p in parts if p), is_package
