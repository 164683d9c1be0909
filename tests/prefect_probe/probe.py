"""Probe the real prefect==1.4.1 package for tests/test_catalogue_proof.py.

Runs INSIDE the isolated Prefect venv (never imports credlint). Reads one JSON document on stdin:

    {"symbols": {symbol: {"kind": ..., "paths": [symbol, *aliases]}},
     "scenarios": [{"id", "symbol", "kind", "init": {...}, "run": {...}, "call": {...},
                    "place": {param: value}, "given": {...}, "protect": [...], "missing": [names]}],
     "removed": [{"symbol", "param"}],
     "inventory": true}

and writes one JSON document to the original stdout:

    {"prefect_version", "python", "faked_modules",
     "symbols":   {symbol: {"paths": {path: {"ok", "same", "error"}}, "form", "signatures": {...}}},
     "scenarios": {id: {"secret_get": [names], "context": [[op, key]], "error", "missing_raised": [names]}},
     "removed":   {"symbol:param": {"outcome": "rejected" | "accepted" | "error", "detail"}},
     "inventory": {"objects": {qualname: {"type", "paths"}}, "errors": [...]}}

Everything the package prints goes to stderr. The third-party client libraries (boto3, google-cloud-*,
azure-*, kubernetes, ...) are NOT installed: a meta-path finder placed last answers imports of the
top-level names in FAKED_TOP_LEVEL with fake modules (lowercase attributes are MagicMocks, capitalised
ones are fake classes, so `Optional[Fake]`, subclassing and `except FakeError` all work).

Secret reads are recorded two ways: `prefect.client.secrets.Secret.get` is replaced by a recorder that
returns a fake value (or raises, like 1.4.1 for an unset secret, for the names a scenario marks
"missing"), and each consumer runs inside `prefect.context(secrets=RecordingDict())`, which
records direct `prefect.context.secrets` look-ups (`[]`, `.get`, `in`; it holds nothing, so `[]`
raises KeyError). The answer says which of these "missing" errors escaped the consumer. The network is switched off
(socket connects and DNS raise), `time.sleep` ends polling loops, and each scenario has a time limit.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import inspect
import json
import os
import pkgutil
import re
import signal
import socket
import sys
import time
import traceback
import types
from unittest import mock

# Keep the real stdout for the JSON answer; everything else the package prints goes to stderr.
_ANSWER = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
sys.stdout = sys.stderr

SCENARIO_SECONDS = 10.0

# Top-level modules of optional client libraries that the probe fakes when they are not installed.
FAKED_TOP_LEVEL = {
    "airtable", "asana", "atlassian", "azure", "azureml", "boto3", "botocore", "confluent_kafka",
    "databricks", "dropbox", "dulwich", "exasol", "feedparser", "firebolt", "github", "gitlab",
    "google", "great_expectations", "gspread", "hvac", "jira", "jwt", "kubernetes", "mysql",
    "nbconvert", "nbformat", "neo4j", "pandas", "papermill", "paramiko", "prometheus_client",
    "psycopg2", "pushbullet", "py2neo", "pyarrow", "pydantic", "pyexasol", "pymysql", "pyodbc",
    "python_http_client", "redis", "sendgrid", "six", "snowflake", "sodaspark", "sodasql", "spacy",
    "toloka", "transform", "tweepy", "pysftp", "trello", "monday", "fivetran",
}
FAKED = set()  # module names actually faked during this run

_EXC_NAME = re.compile(r"(Error|Exception|Exc|NotFound|Conflict|Forbidden|Failed|Failure|Timeout|Warning|Denied|Invalid)$")


class _FakeMeta(type):
    def __getattr__(cls, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        val = mock.MagicMock(name=f"{cls.__qualname__}.{attr}")
        type.__setattr__(cls, attr, val)
        return val


class _FakeObject(metaclass=_FakeMeta):
    def __init_subclass__(cls, **kwargs):  # pydantic-style class keywords: `class M(BaseModel, extra=...)`
        super().__init_subclass__()

    def __init__(self, *args, **kwargs):
        object.__setattr__(self, "_fake_args", (args, kwargs))
        _record_client(type(self), args, kwargs)

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        val = mock.MagicMock(name=f"{type(self).__qualname__}().{attr}")
        object.__setattr__(self, attr, val)
        return val

    def __call__(self, *args, **kwargs):
        return mock.MagicMock(name=f"{type(self).__qualname__}()()")

    def __iter__(self):
        return iter(())

    def __getitem__(self, key):
        return mock.MagicMock(name=f"{type(self).__qualname__}()[{key!r}]")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _FakeError(Exception, metaclass=_FakeMeta):
    def __init__(self, *args, **kwargs):
        super().__init__(*args)


def _fake_attribute(module_name, attr):
    """Capitalised names are fake classes; others are fake submodules that can also be called
    (so `from pyarrow import flight` and `boto3.client("s3")` both work)."""
    qual = f"{module_name}.{attr}"
    if attr[:1].isupper():
        base = _FakeError if _EXC_NAME.search(attr) else _FakeObject
        return _FakeMeta(attr, (base,), {"__module__": module_name, "__qualname__": attr})
    module = sys.modules.get(qual)
    if module is None:
        module = _FakeModule(qual)
        module.__path__ = []
        sys.modules[qual] = module
        FAKED.add(qual)
    return module


class _FakeModule(types.ModuleType):
    def __call__(self, *args, **kwargs):
        return mock.MagicMock(name=f"{self.__name__}()")

    def __getattr__(self, attr):
        if attr.startswith("__") and attr.endswith("__"):
            if attr == "__version__":
                return "99.0.0"
            raise AttributeError(attr)
        val = _fake_attribute(self.__name__, attr)
        setattr(self, attr, val)
        return val


class _FakeFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Last on sys.meta_path: only modules no real finder found get here."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in FAKED_TOP_LEVEL:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _FakeModule(spec.name)
        module.__path__ = []
        FAKED.add(spec.name)
        return module

    def exec_module(self, module):
        return None


sys.meta_path.append(_FakeFinder())


# ---------------------------------------------------------------- no network, no waiting
class _ProbeStop(BaseException):
    """Raised to end a consumer (sleep in a polling loop, time limit)."""


def _no_network(*args, **kwargs):
    raise OSError("network is disabled inside the credlint prefect probe")


socket.socket.connect = _no_network
socket.socket.connect_ex = _no_network
socket.create_connection = _no_network
socket.getaddrinfo = _no_network


def _no_sleep(*args, **kwargs):
    raise _ProbeStop("time.sleep called (polling loop ended by the probe)")


time.sleep = _no_sleep


def _alarm(signum, frame):
    raise _ProbeStop(f"scenario exceeded {SCENARIO_SECONDS}s")


signal.signal(signal.SIGALRM, _alarm)

# ---------------------------------------------------------------- recording secrets
RECORD = {"secret_get": [], "context": [], "missing": set(), "missing_raised": set(), "clients": []}


def _slots(value, path, out, depth=0):
    """(path, text or None) for every string or None in a client's arguments (a requests
    Session's headers included): where a credential could travel."""
    if depth > 4 or len(out) > 200:
        return
    if value is None or isinstance(value, (str, bytes)):
        out.append([path, None if value is None else str(value)])
    elif isinstance(value, dict):
        for key, item in value.items():
            _slots(item, f"{path}.{key}", out, depth + 1)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _slots(item, f"{path}[{index}]", out, depth + 1)
    elif isinstance(getattr(value, "headers", None), dict) or type(getattr(value, "headers", None)).__name__ == "CaseInsensitiveDict":
        _slots(dict(value.headers), f"{path}.headers", out, depth + 1)


def _record_client(cls, args, kwargs):
    """A faked client library class was constructed: keep what it was given (see `unmet`)."""
    slots = []
    _slots(list(args), "args", slots)
    _slots(dict(kwargs), "kwargs", slots)
    RECORD["clients"].append({"cls": f"{cls.__module__}.{cls.__qualname__}", "slots": slots})


class MissingSecret(ValueError):
    """What the recording Secret.get raises for a name the scenario marks missing (as 1.4.1 does
    for a local secret that is not set)."""

    def __init__(self, name):
        super().__init__(f'Local Secret "{name}" was not found.')
        self.secret_name = name


class MissingContextKey(KeyError):
    """What the recording context raises for `secrets[name]` when the name is not set."""

    def __init__(self, name):
        super().__init__(name)
        self.secret_name = name


def note(exc):
    """Record which missing secrets an exception (or its cause/context chain) carries."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (MissingSecret, MissingContextKey)):
            RECORD["missing_raised"].add(exc.secret_name)
        exc = exc.__cause__ or exc.__context__


class FakeSecretValue(str):
    """What the recording Secret.get returns: a string that also answers `value["KEY"]`."""

    def __getitem__(self, key):
        if isinstance(key, str):
            return FakeSecretValue(f"probe-{key}")
        return str.__getitem__(self, key)

    def get(self, key, default=None):
        return self[key]

    def keys(self):
        return []


class ProbeToken(str):
    """A context value a scenario sets: a string that also answers `value["KEY"]`, every part of
    it carrying the token so that wherever it travels can be found."""

    def __getitem__(self, key):
        if isinstance(key, str):
            return ProbeToken(f"{self}-{key}")
        return str.__getitem__(self, key)

    def get(self, key, default=None):
        return self[key]


class RecordingDict(dict):
    """Stands in for prefect.context.secrets and records every look-up by key."""

    def __getitem__(self, key):
        RECORD["context"].append(["getitem", str(key)])
        if key not in self.keys():
            raise MissingContextKey(str(key))
        return super().__getitem__(key)

    def get(self, key, default=None):
        RECORD["context"].append(["get", str(key)])
        return super().get(key, default)

    def __contains__(self, key):
        RECORD["context"].append(["contains", str(key)])
        return super().__contains__(key)


import prefect  # noqa: E402  (after the fakes and guards are in place)
import prefect.client.secrets  # noqa: E402


def _recording_get(self):
    RECORD["secret_get"].append(str(self.name))
    if str(self.name) in RECORD["missing"]:
        raise MissingSecret(str(self.name))
    return FakeSecretValue(f"probe-value-of-{self.name}")


prefect.client.secrets.Secret.get = _recording_get


# ---------------------------------------------------------------- import paths and signatures
def resolve(path):
    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        modname = ".".join(parts[:cut])
        try:
            obj = importlib.import_module(modname)
        except ModuleNotFoundError as exc:
            if exc.name and modname.startswith(exc.name):
                continue
            raise
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(f"no importable module in {path}")


def _default(value):
    if value is inspect.Parameter.empty:
        return {"required": True}
    if value is None or isinstance(value, (str, int, float, bool)):
        return {"value": value}
    return {"repr": repr(value)[:200]}


def _params(func, drop_first):
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError) as exc:
        return {"error": repr(exc)}
    params = list(sig.parameters.values())
    if drop_first and params and params[0].name in ("self", "cls"):
        params = params[1:]
    out = {"params": {}, "var_keyword": False, "var_positional": False}
    for p in params:
        if p.kind is p.VAR_KEYWORD:
            out["var_keyword"] = True
        elif p.kind is p.VAR_POSITIONAL:
            out["var_positional"] = True
        else:
            out["params"][p.name] = _default(p.default)
    return out


def form_of(obj):
    from prefect.core.task import Task

    if inspect.isclass(obj):
        return "class"
    if isinstance(obj, Task):
        return "task_instance"
    if callable(obj):
        return "function"
    return type(obj).__name__


def is_a(obj):
    """Which Prefect base the object is (a class or an instance such as an @task FunctionTask)."""
    from prefect.core.task import Task
    from prefect.engine.result import Result
    from prefect.run_configs import RunConfig
    from prefect.storage import Storage

    out = []
    for name, base in (("task", Task), ("storage", Storage), ("result", Result), ("run_config", RunConfig)):
        if (inspect.isclass(obj) and issubclass(obj, base)) or isinstance(obj, base):
            out.append(name)
    return out


def signatures(obj, symbol=None):
    if symbol in DECORATORS:
        return {"call": _params(obj(_probe_target), False)}
    form = form_of(obj)
    if form == "class":
        sigs = {"init": _params(obj.__init__, True)}
        if hasattr(obj, "run"):
            sigs["run"] = _params(obj.run, True)
        return sigs
    if form == "task_instance":
        return {"call": _params(obj.run, False)}
    return {"call": _params(obj, False)}


def probe_symbol(symbol, paths):
    out = {"paths": {}, "form": None, "signatures": {}}
    canonical = None
    for path in paths:
        try:
            obj = resolve(path)
        except BaseException as exc:  # noqa: BLE001 - report any failure to import
            out["paths"][path] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
            continue
        if canonical is None:
            canonical = obj
        out["paths"][path] = {"ok": True, "same": obj is canonical}
    if canonical is not None:
        out["form"] = form_of(canonical)
        out["is_a"] = is_a(canonical)
        out["signatures"] = signatures(canonical, symbol)
    return out


# ---------------------------------------------------------------- driving consumers
_DICT_HINT = re.compile(r"(^body$|kwargs$|_options$|_params$|_config$|configs$|_body$|_dict$|^headers$|template$)")


def _probe_value(param):
    """A plausible stand-in for an argument the consumer validates before it reads its secrets."""
    if _DICT_HINT.search(param):
        return {"probe": "probe"}
    return f"probe-{param}"


def _fill(func, drop_first, given, protect=(), fill_none=False):
    """Stand-ins for required parameters (and, with fill_none, for parameters defaulting to None),
    except the ones the scenario gives or protects (name/credential/skip parameters)."""
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return {}
    out = {}
    params = list(sig.parameters.values())
    if drop_first and params and params[0].name in ("self", "cls"):
        params = params[1:]
    for p in params:
        if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) or p.name in given:
            continue
        if p.default is p.empty or (fill_none and p.default is None and p.name not in protect):
            out[p.name] = _probe_value(p.name)
    return out


def _probe_target(toloka_client=None, **kwargs):
    """What the probe decorates to drive a decorator such as with_toloka_client."""
    return toloka_client


# Per-symbol help to reach the secret read: extra arguments ("init"/"run"/"call"), skipped when the
# scenario gives any parameter named in "unless_given"; "variants" run the consumer once per variant
# (reads are the union); "env" is set while it runs.
EXTRA_ARGS = {
    "prefect.storage.git.Git": {"init": {"repo": "probe/repo"}, "unless_given": ["git_clone_url_secret_name"]},
    "prefect.storage.webhook.Webhook": {"init": {"build_request_http_method": "POST",
                                                 "get_flow_request_http_method": "GET"}},
    "prefect.storage.bitbucket.Bitbucket": {"variants": [{}, {"init": {"workspace": "probe-workspace"}}]},
    "prefect.tasks.secrets.vault_secret.VaultSecret": {"env": {"VAULT_ADDR": "https://vault.probe.invalid"}},
    "prefect.utilities.filesystems.read_bytes_from_path": {
        "variants": [{"call": {"path": "s3://probe-bucket/probe-key"}}, {"call": {"path": "gcs://probe-bucket/probe-key"}}]},
    "prefect.utilities.gcp.get_google_client": {"call": {"submodule": mock.MagicMock(name="google.cloud.submodule")}},
    "prefect.utilities.kubernetes.get_kubernetes_client": {"call": {"resource": "job"}},
    "prefect.tasks.gcp.bigquery.BigQueryLoadFile": {"run": {"file": __file__}},
    "prefect.tasks.kubernetes.job.RunNamespacedJob": {"run": {"log_level": "info", "body": {"metadata": {"name": "probe"}}}},
    "prefect.tasks.kubernetes.pod.ConnectGetNamespacedPodExec": {"run": {"exec_command": ["probe"]}},
}
for _exasol in ("ExasolExecute", "ExasolExportToFile", "ExasolFetch", "ExasolImportFromIterable"):
    EXTRA_ARGS[f"prefect.tasks.exasol.exasol.{_exasol}"] = {"run": {"dsn": "probe-dsn"}, "unless_given": ["dsn", "dsn_secret"]}

# Decorators: their "call" is a call of the function they decorate.
DECORATORS = {"prefect.tasks.toloka.utils.with_toloka_client"}


def _place(obj, sc, sigs=None):
    """Put each 'place' argument where the consumer accepts it: call, else run, else init."""
    init, run, call = dict(sc.get("init", {})), dict(sc.get("run", {})), dict(sc.get("call", {}))
    sigs = sigs or signatures(obj)
    for param, value in sc.get("place", {}).items():
        if "call" in sigs:
            call[param] = value
        elif param in sigs.get("run", {}).get("params", {}):
            run[param] = value
        else:
            init[param] = value
    return init, run, call


def _merge(*dicts):
    out = {}
    for d in dicts:
        out.update(d or {})
    return out


def drive_task_class(cls, sc, extra):
    init, run, _ = _place(cls, sc)
    protect = set(sc.get("protect", ()))
    init = _merge(extra.get("init"), init)
    init = _merge(_fill(cls.__init__, True, init, protect), init)
    task = cls(**init)
    run = _merge(extra.get("run"), run)
    # run() arguments left as None usually fall back to the init attributes: fill only those
    # that are neither given at init nor protected.
    run = _merge(_fill(task.run, True, set(run) | set(init), protect, fill_none=True), run)
    return task.run(**run)


def drive_task_instance(task, sc, extra):
    _, _, call = _place(task, sc)
    call = _merge(extra.get("call"), call)
    call = _merge(_fill(task.run, False, call, sc.get("protect", ())), call)
    return task.run(**call)


def drive_function(func, sc, extra):
    if sc["symbol"] in DECORATORS:
        wrapped = func(_probe_target)
        _, _, call = _place(wrapped, sc, {"call": {}})
        return wrapped(**_merge(extra.get("call"), call))
    _, _, call = _place(func, sc)
    call = _merge(extra.get("call"), call)
    call = _merge(_fill(func, False, call, sc.get("protect", ())), call)
    return func(**call)


def drive_notifier(handler, sc, extra):
    from prefect.core.task import Task
    from prefect.engine.state import Failed, Running

    _, _, call = _place(handler, sc)
    call = _merge(extra.get("call"), call)
    tracked = Task(name="probe-task")
    return handler(tracked, Running(), Failed(message="probe"), **call)


def _steps(obj, steps):
    errors = []
    for name, step in steps:
        try:
            step()
        except BaseException as exc:  # noqa: BLE001 - later steps still run
            if isinstance(exc, KeyboardInterrupt):
                raise
            note(exc)
            errors.append(f"{name}: {type(exc).__name__}: {exc}"[:300])
    if errors:
        raise RuntimeError("; ".join(errors))


def drive_storage(cls, sc, extra):
    """Registration (add_flow + build) and flow-run start (get_flow) of a storage."""
    init, _, _ = _place(cls, sc)
    init = _merge(extra.get("init"), init)
    init = _merge(_fill(cls.__init__, True, init, sc.get("protect", ())), init)
    storage = cls(**init)

    def add():
        try:
            storage.add_flow(prefect.Flow("probe-flow"))
        finally:
            storage.flows.setdefault("probe-flow", "probe-location")

    _steps(storage, [("add_flow", add), ("build", storage.build), ("get_flow", lambda: storage.get_flow("probe-flow"))])


def drive_result(cls, sc, extra):
    init, _, _ = _place(cls, sc)
    init = _merge(extra.get("init"), init)
    init = _merge(_fill(cls.__init__, True, init, sc.get("protect", ())), init)
    result = cls(**init)
    _steps(result, [("read", lambda: result.read("probe-location")), ("write", lambda: result.write("probe-value"))])


def drive_storage_preload(cls, sc, extra):
    """`prefect execute flow-run` with a fake backend client: the storage's `secrets` are loaded."""
    from prefect.cli import execute as cli_execute
    from prefect.storage import Local
    from prefect.utilities.graphql import GraphQLResult

    init, _, _ = _place(cls, sc)
    storage_cls = Local if cls.__name__ == "Storage" else cls
    storage = storage_cls(**_merge(_fill(storage_cls.__init__, True, init), init))
    storage.flows["probe-flow"] = "probe-location"
    serialized = storage.serialize()

    class _FakeClient:
        def graphql(self, *args, **kwargs):
            return GraphQLResult(
                {"data": {"flow_run": [{"flow": {"name": "probe-flow", "storage": serialized,
                                                 "run_config": None}, "version": 1}]}}
            )

        def set_flow_run_state(self, *args, **kwargs):
            return None

        def write_run_logs(self, *args, **kwargs):
            return None

    with mock.patch.object(cli_execute, "Client", _FakeClient), prefect.context(flow_run_id="probe-run"):
        cli_execute.flow_run.callback()


SPECIAL_DRIVERS = {
    "prefect.storage.base.Storage": drive_storage_preload,
}


def _drive_once(obj, sc, extra):
    symbol = sc["symbol"]
    if symbol in SPECIAL_DRIVERS:
        return SPECIAL_DRIVERS[symbol](obj, sc, extra)
    kind = sc.get("kind")
    form = form_of(obj)
    if kind == "storage":
        return drive_storage(obj, sc, extra)
    if kind == "result":
        return drive_result(obj, sc, extra)
    if kind == "notifier":
        return drive_notifier(obj, sc, extra)
    if form == "class":
        return drive_task_class(obj, sc, extra)
    if form == "task_instance":
        return drive_task_instance(obj, sc, extra)
    return drive_function(obj, sc, extra)


def drive(sc):
    symbol = sc["symbol"]
    obj = resolve(symbol)
    extra = dict(EXTRA_ARGS.get(symbol, {}))
    given = set(sc.get("given", {}))
    if given & set(extra.get("unless_given", ())):
        extra = {k: v for k, v in extra.items() if k not in ("init", "run", "call")}
    variants = extra.pop("variants", None) or [{}]
    errors = []
    for variant in variants:
        merged = {k: _merge(extra.get(k), variant.get(k)) for k in ("init", "run", "call")}
        try:
            with mock.patch.dict(os.environ, extra.get("env", {})):
                _drive_once(obj, sc, merged)
        except BaseException as exc:  # noqa: BLE001 - the next variant still runs
            if isinstance(exc, KeyboardInterrupt) or len(variants) == 1:
                raise
            note(exc)
            errors.append(f"variant {variant}: {type(exc).__name__}: {exc}"[:400])
    if errors:
        raise RuntimeError("; ".join(errors))


def run_scenario(sc):
    RECORD["secret_get"] = []
    RECORD["context"] = []
    RECORD["missing"] = set(sc.get("missing", ()))
    RECORD["missing_raised"] = set()
    RECORD["clients"] = []
    error = None
    values = {name: ProbeToken(token) for name, token in sc.get("context_values", {}).items()}
    try:
        with prefect.context(secrets=RecordingDict(values)):
            signal.setitimer(signal.ITIMER_REAL, SCENARIO_SECONDS)
            try:
                drive(sc)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
    except BaseException as exc:  # noqa: BLE001 - a consumer may fail after its reads
        if isinstance(exc, KeyboardInterrupt):
            raise
        note(exc)
        tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
        error = "".join(tb[-6:])[-1500:]
    return {"secret_get": list(RECORD["secret_get"]), "context": list(RECORD["context"]), "error": error,
            "missing_raised": sorted(RECORD["missing_raised"]), "clients": list(RECORD["clients"])}


# ---------------------------------------------------------------- removed parameters
def probe_removed(item):
    """Construct the class with the removed keyword: 1.4.1 must refuse it (TypeError naming it)."""
    obj = resolve(item["symbol"])
    param = item["param"]
    try:
        with prefect.context(secrets=RecordingDict()):
            signal.setitimer(signal.ITIMER_REAL, SCENARIO_SECONDS)
            try:
                init = _fill(obj.__init__, True, {param})
                obj(**init, **{param: f"probe-{param}"})
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
    except TypeError as exc:
        if param in str(exc):
            return {"outcome": "rejected", "detail": str(exc)[:300]}
        return {"outcome": "error", "detail": f"TypeError: {exc}"[:300]}
    except BaseException as exc:  # noqa: BLE001
        if isinstance(exc, KeyboardInterrupt):
            raise
        return {"outcome": "error", "detail": f"{type(exc).__name__}: {exc}"[:300]}
    return {"outcome": "accepted", "detail": ""}


# ---------------------------------------------------------------- inventory
INVENTORY_ROOTS = ("prefect.tasks", "prefect.storage", "prefect.run_configs", "prefect.engine.results")


def _modules():
    names = []
    for root in INVENTORY_ROOTS:
        pkg = importlib.import_module(root)
        names.append(root)
        for info in pkgutil.walk_packages(pkg.__path__, root + ".", onerror=lambda name: None):
            names.append(info.name)
    return sorted(set(names))


def _is_public_object(obj):
    from prefect.core.task import Task

    if inspect.isclass(obj) or inspect.isfunction(obj) or isinstance(obj, Task):
        return True
    try:
        import toolz

        return isinstance(obj, toolz.curry)
    except ImportError:
        return False


def _defining_module(obj):
    from prefect.core.task import Task

    if isinstance(obj, Task):
        return None  # decided by the deepest module that holds it
    if not inspect.isclass(obj) and not inspect.isfunction(obj):
        obj = getattr(obj, "func", obj)  # a toolz.curry wraps .func
    return getattr(obj, "__module__", None) or "?"


def inventory():
    errors = []
    seen = {}  # id -> (obj, [paths])
    for modname in _modules():
        try:
            module = importlib.import_module(modname)
        except BaseException as exc:  # noqa: BLE001
            errors.append(f"{modname}: {type(exc).__name__}: {exc}"[:300])
            continue
        for name, obj in list(vars(module).items()):
            if name.startswith("_") or not _is_public_object(obj):
                continue
            seen.setdefault(id(obj), (obj, []))[1].append(f"{modname}.{name}")
    objects = {}
    for obj, paths in seen.values():
        home = _defining_module(obj)
        if home is not None:
            own = [p for p in paths if p.rsplit(".", 1)[0] == home]
            if not own:
                continue  # imported from outside the inventoried packages (prefect.core, stdlib, fakes)
            qualname = own[0]
        else:
            qualname = max(paths, key=lambda p: (p.count("."), p))
        kind = "exception" if inspect.isclass(obj) and issubclass(obj, BaseException) else (
            "class" if inspect.isclass(obj) else "task_instance" if form_of(obj) == "task_instance" else "function")
        objects[qualname] = {"type": kind, "paths": sorted(paths)}
    return {"objects": objects, "errors": errors}


def main():
    request = json.load(sys.stdin)
    answer = {
        "prefect_version": prefect.__version__,
        "python": sys.version.split()[0],
        "symbols": {},
        "scenarios": {},
    }
    for symbol, info in request.get("symbols", {}).items():
        answer["symbols"][symbol] = probe_symbol(symbol, info["paths"])
    for sc in request.get("scenarios", []):
        answer["scenarios"][sc["id"]] = run_scenario(sc)
    answer["removed"] = {f"{item['symbol']}:{item['param']}": probe_removed(item) for item in request.get("removed", [])}
    if request.get("inventory"):
        answer["inventory"] = inventory()
    answer["faked_modules"] = sorted(FAKED)
    json.dump(answer, _ANSWER)
    _ANSWER.flush()


if __name__ == "__main__":
    main()
