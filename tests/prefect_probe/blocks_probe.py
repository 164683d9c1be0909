"""Probe the real Prefect block classes for tests/test_block_catalogue_proof.py.

Runs INSIDE a venv holding the real packages (prefect 3.x with the integrations, or prefect 2.20
alone); never imports credlint. Reads one JSON document on stdin:

    {"packages": ["prefect", "prefect_aws", ...],        # inventory every Block class they define
     "entries": {symbol (or any key, with "symbol"): {"paths": [symbol, *aliases],
                          "empty_args": {...},             # the construction `empty` speaks of
                          "use": [attribute, method, [args]] or null}}}

and writes one JSON document to the original stdout:

    {"versions": {distribution: version}, "faked_modules": [...], "errors": [...],
     "blocks": {qualname: {"slug", "secret_fields", "abstract", "bases", "paths", "exported", "fields"}},
     "entries": {symbol: {"paths": {path: "ok" | error}, "empty": {...}}}}

`fields` maps each model field to the keywords that set it, whether it is required, the block
classes its annotation accepts and the block class its default builds. `empty` says whether the
class constructs from `empty_args` alone (else the exception and the fields pydantic names), which
fields of the result (and of the blocks inside it) hold a value, and which credential-chain entry
points construction and the `use` call reached.

Client libraries that are not installed (azure, google, snowflake, dbt, kubernetes_asyncio,
slack_sdk, docker, ...) are answered, when an integration imports them, by fake modules from a
meta-path finder placed last; every call into a fake is recorded by its dotted name, with the
names of its keyword arguments that were not None.
`boto3.Session` is real (prefect-aws is installed with its dependencies) and recorded the same way.
Nothing is sent over the network: sockets refuse to connect. Everything the packages print goes to
stderr.
"""
from __future__ import annotations

import asyncio
import importlib
import importlib.abc
import importlib.machinery
import inspect
import json
import os
import pkgutil
import re
import socket
import sys
import types
import typing
from unittest import mock

_ANSWER = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
sys.stdout = sys.stderr

# Top-level client libraries answered by fakes when they are not installed.
FAKEABLE = {
    "azure", "azureml", "google", "googleapiclient", "snowflake", "dbt", "dbt_common", "agate",
    "kubernetes_asyncio", "kubernetes", "kopf", "sgqlc", "slack_sdk", "docker", "python_on_whales",
    "prefect_shell", "pythonjsonlogger", "exceptiongroup", "mypy_boto3_s3",
}
# Only imports made by these packages (or by a fake) are faked: a real library's optional import
# (urllib3 trying pyOpenSSL) must keep failing as it would.
FAKE_FOR = ("prefect_",)
FAKED: set = set()
CALLS: list = []  # [dotted name, [keyword names whose value was not None]] for every call into a fake
_EXC_NAME = re.compile(r"(Error|Exception|Exc|NotFound|Conflict|Forbidden|Failed|Failure|Timeout|Warning|Denied|Invalid)$")


def _record(name: str, kwargs: dict) -> None:
    CALLS.append([name, sorted(k for k, v in kwargs.items() if v is not None)])


class _Result:
    """What a call into a fake returns: any attribute or call, unpacks into two
    (`credentials, project = google.auth.default()`), can be awaited and entered."""

    def __init__(self, name: str = "result"):
        self._name = name

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Result(f"{self._name}.{attr}")

    def __call__(self, *args, **kwargs):
        return _Result(f"{self._name}()")

    def __iter__(self):
        return iter((mock.MagicMock(), mock.MagicMock()))

    def __await__(self):
        if False:  # pragma: no cover - makes this a generator
            yield
        return _Result(f"await {self._name}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return False


class _FakeMeta(type):
    def __getattr__(cls, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        value = _Result(f"{cls.__qualname__}.{attr}")
        type.__setattr__(cls, attr, value)
        return value

    def __getitem__(cls, item):  # `LROPoller[Deployment]` in annotations
        return cls


class _FakeObject(metaclass=_FakeMeta):
    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__()

    def __init__(self, *args, **kwargs):
        _record(f"{type(self).__module__}.{type(self).__qualname__}", kwargs)

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        value = _Result(f"{type(self).__qualname__}().{attr}")
        object.__setattr__(self, attr, value)
        return value

    def __call__(self, *args, **kwargs):
        return _Result()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _FakeError(Exception, metaclass=_FakeMeta):
    def __init__(self, *args, **kwargs):
        super().__init__(*args)


class _FakeModule(types.ModuleType):
    """A fake module; its lowercase attributes are fake submodules that can be called (and are
    recorded when they are), its capitalised ones fake classes."""

    def __call__(self, *args, **kwargs):
        _record(self.__name__, kwargs)
        return _Result(f"{self.__name__}()")

    def __getattr__(self, attr):
        if attr.startswith("__") and attr.endswith("__"):
            if attr == "__version__":
                return "99.0.0"
            raise AttributeError(attr)
        if attr[:1].isupper():
            base = _FakeError if _EXC_NAME.search(attr) else _FakeObject
            value = _FakeMeta(attr, (base,), {"__module__": self.__name__, "__qualname__": attr})
        else:
            value = _fake_module(f"{self.__name__}.{attr}")
        setattr(self, attr, value)
        return value


def _fake_module(name: str) -> _FakeModule:
    module = sys.modules.get(name)
    if not isinstance(module, _FakeModule):
        module = _FakeModule(name)
        module.__path__ = []
        sys.modules[name] = module
        FAKED.add(name)
    return module


class _FakeFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Last on sys.meta_path: only the modules no real finder found come here."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in FAKEABLE and _importer().startswith(FAKE_FOR + tuple(FAKEABLE)):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _FakeModule(spec.name)
        module.__path__ = []
        FAKED.add(spec.name)
        return module

    def exec_module(self, module):
        return None


def _importer() -> str:
    """The module whose code runs the import being resolved."""
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if not name.startswith(("importlib", "_frozen_importlib")) and name != __name__:
            return name
        frame = frame.f_back
    return ""


sys.meta_path.append(_FakeFinder())


def _no_network(*args, **kwargs):
    raise OSError("the network is off inside the credlint blocks probe")


socket.socket.connect = _no_network
socket.socket.connect_ex = _no_network
socket.create_connection = _no_network


def _record_boto3() -> None:
    """boto3 is real: record its Session like a fake (the default chain runs when no key is given)."""
    try:
        import boto3
    except ImportError:
        return
    real = boto3.Session.__init__

    def init(self, *args, **kwargs):
        _record("boto3.Session", kwargs)
        real(self, *args, **kwargs)

    boto3.Session.__init__ = init


# ---------------------------------------------------------------- the inventory


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300] if text else ''}"


# Prefect's own modules that define blocks (walking all of prefect would import its server too).
CORE_ROOTS = ("prefect.blocks", "prefect.filesystems", "prefect.infrastructure")


def _import_all(packages, errors) -> list:
    modules = []
    for top in packages:
        for root in (CORE_ROOTS if top == "prefect" else (top,)):
            try:
                package = importlib.import_module(root)
            except ModuleNotFoundError as exc:
                if root in CORE_ROOTS and exc.name == root:
                    continue  # prefect.infrastructure is 2.x only
                errors.append(f"{root}: {_short(exc)}")
                continue
            except Exception as exc:  # noqa: BLE001 - reported, the test decides
                errors.append(f"{root}: {_short(exc)}")
                continue
            modules.append(package)
            if not hasattr(package, "__path__"):
                continue
            for info in pkgutil.walk_packages(package.__path__, root + ".",
                                              onerror=lambda name: errors.append(f"{name}: {_short(sys.exc_info()[1])}")):
                try:
                    modules.append(importlib.import_module(info.name))
                except Exception as exc:  # noqa: BLE001
                    errors.append(f"{info.name}: {_short(exc)}")
    return modules


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _qualname(cls) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _is_v1(cls) -> bool:
    return not hasattr(cls, "model_fields") or not isinstance(getattr(cls, "model_fields", None), dict)


def _schema(cls) -> dict:
    return cls.schema() if _is_v1(cls) else cls.model_json_schema()


def _annotation_blocks(annotation, block) -> list:
    """The block classes an annotation accepts (through Optional, Union, containers)."""
    out = []
    if inspect.isclass(annotation) and issubclass(annotation, block):
        out.append(_qualname(annotation))
    for arg in typing.get_args(annotation) or ():
        out.extend(_annotation_blocks(arg, block))
    return sorted(set(out))


def _v2_keywords(name, info, config) -> list:
    from pydantic import AliasChoices

    keywords = set()
    alias = info.validation_alias
    if isinstance(alias, str):
        keywords.add(alias)
    elif isinstance(alias, AliasChoices):
        keywords.update(c for c in alias.choices if isinstance(c, str))
    elif info.alias:
        keywords.add(info.alias)
    if not keywords or config.get("populate_by_name") or config.get("validate_by_name"):
        keywords.add(name)
    return sorted(keywords)


def _fields(cls, block) -> dict:
    out = {}
    if _is_v1(cls):
        for name, field in cls.__fields__.items():
            keywords = {field.alias or name}
            if getattr(cls.__config__, "allow_population_by_field_name", False):
                keywords.add(name)
            out[name] = {"keywords": sorted(keywords), "required": bool(field.required),
                         "blocks": _annotation_blocks(field.outer_type_, block),
                         "default_block": _default_block(field.default_factory, field.default, block)}
        return out
    for name, info in cls.model_fields.items():
        out[name] = {"keywords": _v2_keywords(name, info, cls.model_config), "required": info.is_required(),
                     "blocks": _annotation_blocks(info.annotation, block),
                     "default_block": _default_block(info.default_factory, info.default, block)}
    return out


def _default_block(factory, default, block):
    if inspect.isclass(factory) and issubclass(factory, block):
        return _qualname(factory)  # even when building it fails (the construction says so)
    value = default
    if factory is not None:
        try:
            value = factory()
        except Exception as exc:  # noqa: BLE001
            return f"error: {_short(exc)}"
    return _qualname(type(value)) if isinstance(value, block) else None


def inventory(packages, errors) -> tuple:
    from prefect.blocks.core import Block

    modules = _import_all(packages, errors)
    paths: dict = {}
    exported: dict = {}  # re-exported by a public package's __init__
    for module in modules:
        public_package = hasattr(module, "__path__") and not any(p.startswith("_") for p in module.__name__.split("."))
        for attr, value in list(vars(module).items()):
            if inspect.isclass(value) and issubclass(value, Block):
                paths.setdefault(value, set()).add(f"{module.__name__}.{attr}")
                if public_package:
                    exported.setdefault(value, set()).add(f"{module.__name__}.{attr}")
    bases = {}
    for base_path in ("prefect.blocks.abstract.CredentialsBlock", "prefect.blocks.abstract.NotificationBlock",
                      "prefect.blocks.abstract.ObjectStorageBlock", "prefect.blocks.abstract.DatabaseBlock",
                      "prefect.blocks.abstract.JobBlock", "prefect.blocks.abstract.SecretBlock",
                      "prefect.filesystems.WritableFileSystem", "prefect.filesystems.ReadableDeploymentStorage",
                      "prefect.infrastructure.base.Infrastructure"):
        module_name, _, name = base_path.rpartition(".")
        try:
            bases[base_path] = getattr(importlib.import_module(module_name), name)
        except Exception:  # noqa: BLE001 - not in this version
            pass
    blocks = {}
    for cls in set(_subclasses(Block)):
        if cls.__module__.split(".")[0] not in packages:
            continue
        qual = _qualname(cls)
        info = {"paths": sorted(paths.get(cls, ())), "exported": sorted(exported.get(cls, ())),
                "abstract": inspect.isabstract(cls),
                "bases": sorted(p for p, b in bases.items() if issubclass(cls, b) and cls is not b)}
        try:
            info["slug"] = cls.get_block_type_slug()
            info["secret_fields"] = list(dict.fromkeys(_schema(cls)["secret_fields"]))
            info["fields"] = _fields(cls, Block)
        except Exception as exc:  # noqa: BLE001
            info["error"] = _short(exc)
        blocks[qual] = info
    return blocks


# ---------------------------------------------------------------- one entry


def _resolve(path: str):
    module_name, _, attr = path.rpartition(".")
    while module_name:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            module_name, _, head = module_name.rpartition(".")
            attr = f"{head}.{attr}"
            continue
        value = module
        for part in attr.split("."):
            value = getattr(value, part)
        return value
    raise ImportError(path)


def _filled(value) -> bool:
    if value is None:
        return False
    if hasattr(value, "get_secret_value"):
        value = value.get_secret_value()
    return value not in ("", {}, [], ())


def _set_fields(obj, block, depth=0) -> dict:
    """field -> True/False (holds a value), or, for a block inside, that block's own map."""
    out = {}
    names = obj.__fields__ if _is_v1(type(obj)) else type(obj).model_fields
    for name in names:
        value = getattr(obj, name, None)
        if isinstance(value, block) and depth < 3:
            out[name] = {"__class__": _qualname(type(value)), **_set_fields(value, block, depth + 1)}
        else:
            out[name] = _filled(value)
    return out


def _call(obj, use):
    target = obj
    if use[0]:
        target = getattr(obj, use[0])
    method = getattr(target, use[1])
    result = method(*use[2])
    if inspect.isawaitable(result):
        result = asyncio.run(_await(result))
    elif hasattr(result, "__aenter__"):
        result = asyncio.run(_enter(result))
    elif hasattr(result, "__enter__") and not isinstance(result, mock.Mock):
        with result:
            pass
    return result


async def _await(awaitable):
    return await awaitable


async def _enter(manager):
    async with manager:
        return None


def _locs(exc) -> list:
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return []
    try:
        return sorted({".".join(str(p) for p in e.get("loc", ())) for e in errors()})
    except Exception:  # noqa: BLE001
        return []


def probe_entry(symbol: str, request: dict) -> dict:
    from prefect.blocks.core import Block

    out = {"paths": {}}
    cls = None
    for path in request["paths"]:
        try:
            value = _resolve(path)
        except Exception as exc:  # noqa: BLE001
            out["paths"][path] = _short(exc)
            continue
        if path == symbol:
            cls = value
        out["paths"][path] = "ok" if value is _resolve(symbol) else f"names {value!r}, not {symbol}"
    if cls is None:
        return out
    del CALLS[:]
    empty = {"ok": False}
    try:
        obj = cls(**request.get("empty_args", {}))
    except Exception as exc:  # noqa: BLE001
        empty.update(error=_short(exc), locs=_locs(exc))
    else:
        empty.update(ok=True, set=_set_fields(obj, Block))
        if request.get("use"):
            try:
                _call(obj, request["use"])
                empty["use"] = "ok"
            except Exception as exc:  # noqa: BLE001
                empty["use"] = _short(exc)
    empty["calls"] = [list(c) for c in CALLS]
    out["empty"] = empty
    return out


def _versions(packages) -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for top in packages:
        dist = top.replace("_", "-")
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = None
    return out


def main() -> None:
    import warnings

    warnings.simplefilter("ignore")
    request = json.load(sys.stdin)
    _record_boto3()
    errors: list = []
    answer = {"python": sys.version.split()[0], "versions": _versions(request["packages"]), "errors": errors,
              "blocks": inventory(request["packages"], errors), "entries": {}}
    for key, entry in request.get("entries", {}).items():
        answer["entries"][key] = probe_entry(entry.get("symbol", key), entry)
    answer["faked_modules"] = sorted({name.split(".")[0] for name in FAKED})
    json.dump(answer, _ANSWER)
    _ANSWER.flush()


if __name__ == "__main__":
    main()
