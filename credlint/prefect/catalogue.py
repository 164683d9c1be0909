"""The catalogue: which Prefect 1.4.1 classes need which secrets, loaded from rules/catalogue/*.toml.

The knowledge is data so that it can be read, reviewed and proven against the real package;
this module only loads it — checking each file against its schema (`SCHEMA`) — and answers
look-ups by any import path that works.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, Optional, Tuple

from credlint.cachedir import read_snapshot, write_snapshot
from credlint.prefect.catalogue_sources import default_catalogue_dir, read_sources
from credlint.prefect.names import REQUIRED_KEYS
from credlint.tomlcompat import toml

# The values an enumerated key of the catalogue may take (`SCHEMA` below says which key): those
# the code acts on, and the few that only document (the proof against Prefect checks them).
WHERES = ("init", "run", "init+run", "call")
MECHANISMS = ("context", "secret_get", "storage_preload", "template")
# What a `context` read does when nothing puts the secret in context: the client library's own
# credential chain (env vars, profiles, instance roles), or anonymous access (git hosting storage).
UNMET = ("chain", "anonymous")
# "client" is not written in TOML: clients.toml's constructors get it.
KINDS = ("task", "utility", "storage", "run_config", "result", "notifier")
# Shapes preflight and CL105 check (REQUIRED_KEYS, text, URL, anything), then those that only
# name the mapping a consumer reads (`shape_doc` says what it holds).
SHAPES = tuple(REQUIRED_KEYS) + ("string", "url", "any") + (
    "jira", "snowflake_creds", "kubernetes_api_key", "vault", "az_cosmos", "az_service_principal", "az_datastore")
PARAM_KINDS = ("dedicated", "generic_carrier")  # a parameter for credentials, or one that can carry them


@dataclass(frozen=True)
class SecretSpec:
    """One secret a class reads, and what changes or skips that read."""

    name: Optional[str]
    mechanism: str
    family: str
    required: bool
    name_param: str = ""
    name_where: str = ""
    satisfied_by: Tuple[str, ...] = ()
    none_disables: bool = False
    only_if_name_param: bool = False
    skip_if: Tuple[Tuple[str, str], ...] = ()
    shape: str = "any"
    shape_doc: str = ""
    when: str = ""
    unmet: str = "chain"

    @property
    def optional(self) -> bool:
        """The consumer works without the secret (anonymously): a missing one is no fallback."""
        return self.mechanism == "context" and self.unmet == "anonymous"


@dataclass(frozen=True)
class CredentialParam:
    """An argument that carries a credential value (never a name)."""

    param: str
    where: str
    kind: str = "dedicated"
    ignored: str = ""
    expected: str = ""
    identity: Tuple[str, ...] = ()  # families whose ambient credentials the argument grants (run configs)


@dataclass(frozen=True)
class EnvVar:
    name: str
    name_param: str = ""
    at: str = "run"
    credential: bool = False


@dataclass(frozen=True)
class RemovedParam:
    """An argument Prefect 0.x accepted that 1.4.1 no longer does (CL103)."""

    param: str
    where: str
    last_version: str = ""
    replacement: str = ""


@dataclass(frozen=True)
class Entry:
    symbol: str
    aliases: Tuple[str, ...]
    kind: str
    integration: str
    credentials: bool
    secrets: Tuple[SecretSpec, ...] = ()
    credential_params: Tuple[CredentialParam, ...] = ()
    env_vars: Tuple[EnvVar, ...] = ()
    notes: Tuple[str, ...] = ()
    removed_params: Tuple[RemovedParam, ...] = ()
    positional: Tuple[str, ...] = ()  # names of leading positional parameters, where code passes them so
    source_file: str = ""

    @property
    def short_name(self) -> str:
        return self.symbol.rsplit(".", 1)[-1]

    def credential_param(self, name: str) -> Optional[CredentialParam]:
        for param in self.credential_params:
            if param.param == name:
                return param
        return None

    @property
    def name_params(self) -> Tuple[str, ...]:
        return tuple(s.name_param for s in self.secrets if s.name_param)

    def to_json(self) -> dict:
        return {
            "symbol": self.symbol,
            "aliases": list(self.aliases),
            "kind": self.kind,
            "integration": self.integration,
            "secrets": [
                {
                    "name": s.name,
                    "mechanism": s.mechanism,
                    "name_param": s.name_param or None,
                    "required": s.required,
                    "shape": s.shape_doc or s.shape,
                }
                for s in self.secrets
            ],
            "credential_params": [
                {"param": p.param, "where": p.where, "expected": p.expected} for p in self.credential_params
            ],
            "env_vars": [e.name or f"<from {e.name_param}>" for e in self.env_vars],
            "notes": list(self.notes),
        }

    def removed_param(self, name: str) -> Optional[RemovedParam]:
        for param in self.removed_params:
            if param.param == name:
                return param
        return None


class CatalogueError(ValueError):
    """The catalogue data is malformed (a bug in credlint's data, or in a user's extension)."""


@dataclass
class Catalogue:
    entries: Dict[str, Entry] = field(default_factory=dict)
    by_path: Dict[str, Entry] = field(default_factory=dict)
    digest: str = ""

    def lookup(self, qualname: Optional[str]) -> Optional[Entry]:
        if not qualname:
            return None
        return self.by_path.get(qualname)

    def __iter__(self):
        return iter(sorted(self.entries.values(), key=lambda e: e.symbol))

    def __len__(self) -> int:
        return len(self.entries)

    def module_members(self, module: str) -> Dict[str, str]:
        """Names a `from module import *` brings in that the catalogue knows (name -> qualname)."""
        out: Dict[str, str] = {}
        prefix = module + "."
        for path in self.by_path:
            if path.startswith(prefix) and "." not in path[len(prefix):]:
                out[path[len(prefix):]] = path
        return out


def _keys(cls, *not_written: str) -> FrozenSet[str]:
    return frozenset(f.name for f in fields(cls)) - set(not_written)


# The catalogue's TOML, checked as it is loaded: each table's keys are its data class's fields,
# the keys that must be given, and the values an enumerated key may take. A misspelt key or value
# would otherwise be read as its default, silently.
SCHEMA: Dict[str, Tuple[FrozenSet[str], Tuple[str, ...], Dict[str, Tuple[str, ...]]]] = {
    "entry": (_keys(Entry, "source_file"), ("symbol",), {"kind": KINDS}),
    "secrets": (_keys(SecretSpec), ("mechanism",),
                {"mechanism": MECHANISMS, "name_where": ("",) + WHERES, "unmet": UNMET, "shape": SHAPES}),
    "credential_params": (_keys(CredentialParam), ("param",),
                          {"where": WHERES, "kind": PARAM_KINDS, "ignored": ("", "init", "run")}),
    "env_vars": (_keys(EnvVar), (), {"at": ("init", "run")}),
    "removed_params": (_keys(RemovedParam), ("param",), {"where": WHERES}),
    # clients.toml: constructors, with the names of their credential parameters
    "client": (frozenset({"symbol", "aliases", "credential_params", "positional"}), ("symbol",), {}),
}
PARTS = ("secrets", "credential_params", "env_vars", "removed_params")  # an entry's tables


def check_document(doc: dict, source: str, clients: bool = False) -> None:
    """Raise a CatalogueError naming the file, the entry and the key for an unknown table or key,
    a missing key or a value outside its enumeration."""
    top = "client" if clients else "entry"
    for key in doc:
        if key != top:
            raise CatalogueError(f"{source}: unknown table {key} (the file holds [[{top}]] tables)")
    for index, raw in enumerate(doc.get(top, ())):
        problem = _problem(top, raw) or (None if clients else _problem_of_parts(raw))
        if problem is not None:
            symbol = raw.get("symbol") if isinstance(raw, dict) else None
            raise CatalogueError(f"{source}: {symbol or f'{top} {index + 1}'}: {problem}")


def _problem_of_parts(raw: dict) -> Optional[str]:
    for part in PARTS:
        for number, item in enumerate(raw.get(part, ())):
            problem = _problem(part, item, number)
            if problem is not None:
                return problem
    return None


def _problem(table: str, raw, number: Optional[int] = None) -> Optional[str]:
    """What is wrong with one table of the catalogue (None: nothing), its key named: `secrets[0].name`
    for the first of an entry's `secrets`."""
    keys, required, enums = SCHEMA[table]
    if not isinstance(raw, dict):
        return (_prefix(table, number)[:-1] or table) + " is not a table"
    if not keys.issuperset(raw):
        return f"unknown key {_prefix(table, number)}{min(raw.keys() - keys)} (the keys are {', '.join(sorted(keys))})"
    for key in required:
        if not raw.get(key):
            return f"{_prefix(table, number)}{key} is missing"
    for key, allowed in enums.items():
        if key in raw and raw[key] not in allowed:
            return f"{_prefix(table, number)}{key} = {raw[key]!r} is not one of {', '.join(allowed)}"
    return None


def _prefix(table: str, number: Optional[int]) -> str:
    return "" if number is None else f"{table}[{number}]."


def _secret(raw: dict, where: str) -> SecretSpec:
    mechanism = raw["mechanism"]
    unmet = raw.get("unmet", "chain")
    if unmet not in UNMET or (unmet != "chain" and mechanism != "context"):
        raise CatalogueError(f"{where}: unmet = {unmet!r} (one of {', '.join(UNMET)}; only for context reads)")
    return SecretSpec(
        name=raw.get("name") or None,
        mechanism=mechanism,
        family=raw.get("family", ""),
        required=bool(raw.get("required", False)),
        name_param=raw.get("name_param", ""),
        name_where=raw.get("name_where", ""),
        satisfied_by=tuple(raw.get("satisfied_by", ())),
        none_disables=bool(raw.get("none_disables", False)),
        only_if_name_param=bool(raw.get("only_if_name_param", False)),
        skip_if=tuple(sorted((str(k), str(v)) for k, v in raw.get("skip_if", {}).items())),
        shape=raw.get("shape", "any"),
        shape_doc=raw.get("shape_doc", ""),
        when=raw.get("when", ""),
        unmet=unmet,
    )


def _entry(raw: dict, source: str) -> Entry:
    symbol = raw["symbol"]
    where = f"{source}: {symbol}"
    return Entry(
        symbol=symbol,
        aliases=tuple(raw.get("aliases", ())),
        kind=raw.get("kind", "task"),
        integration=raw.get("integration", ""),
        credentials=bool(raw.get("credentials", True)),
        secrets=tuple(_secret(s, where) for s in raw.get("secrets", ())),
        credential_params=tuple(
            CredentialParam(
                param=p["param"],
                where=p.get("where", "init+run"),
                kind=p.get("kind", "dedicated"),
                ignored=p.get("ignored", ""),
                expected=p.get("expected", ""),
                identity=tuple(p.get("identity", ())),
            )
            for p in raw.get("credential_params", ())
        ),
        env_vars=tuple(
            EnvVar(
                name=e.get("name", ""),
                name_param=e.get("name_param", ""),
                at=e.get("at", "run"),
                credential=bool(e.get("credential", False)),
            )
            for e in raw.get("env_vars", ())
        ),
        notes=tuple(raw.get("notes", ())),
        positional=tuple(raw.get("positional", ())),
        removed_params=tuple(
            RemovedParam(param=r["param"], where=r.get("where", "init+run"),
                         last_version=r.get("last_version", ""), replacement=r.get("replacement", ""))
            for r in raw.get("removed_params", ())
        ),
        source_file=source,
    )


def _load_clients(cat: Catalogue, doc: dict) -> None:
    """Client constructors flows call directly (boto3, database drivers, requests auth).

    They are looked up like catalogue entries, for their credential parameters only; they are
    not Prefect classes, so they stay out of `entries` (and out of the proof against Prefect)."""
    for raw in doc.get("client", ()):
        entry = Entry(
            symbol=raw["symbol"], aliases=tuple(raw.get("aliases", ())), kind="client", integration="client",
            credentials=True,
            credential_params=tuple(CredentialParam(param=p, where="call", kind="dedicated")
                                    for p in raw.get("credential_params", ())),
            positional=tuple(raw.get("positional", ())), source_file="clients.toml",
        )
        for name in (entry.symbol,) + entry.aliases:
            cat.by_path.setdefault(name, entry)


def load_catalogue(dirs: Iterable[Path] = (), snapshot_dir: Optional[Path] = None) -> Catalogue:
    """Load the built-in catalogue plus any extra directories, checking that paths are unique.

    Parsing the TOML is most of the cost of a warm run, so with `snapshot_dir` the parsed
    documents are kept there as JSON under the catalogue's digest and read back next time."""
    blobs, digest = read_sources(dirs)
    docs = read_snapshot(snapshot_dir, "catalogue", digest, len(blobs)) if snapshot_dir is not None else None
    if docs is None:
        docs = []
        for path, data in blobs:
            try:
                docs.append(toml.loads(data.decode("utf-8")))
            except Exception as exc:  # noqa: BLE001 - any decode problem is a data error
                raise CatalogueError(f"{path}: {exc}") from exc
        if snapshot_dir is not None:
            write_snapshot(snapshot_dir, "catalogue", digest, docs)
    cat = Catalogue()
    for (path, _), doc in zip(blobs, docs):
        clients = path.name == "clients.toml" and path.parent == default_catalogue_dir().parent
        check_document(doc, path.name, clients)
        if clients:
            _load_clients(cat, doc)
            continue
        for raw in doc.get("entry", ()):
            entry = _entry(raw, path.name)
            if entry.symbol in cat.entries:
                raise CatalogueError(f"{path.name}: {entry.symbol} is catalogued twice")
            cat.entries[entry.symbol] = entry
            for name in (entry.symbol,) + entry.aliases:
                other = cat.by_path.get(name)
                if other is not None and other is not entry:
                    raise CatalogueError(f"{path.name}: import path {name} names both {other.symbol} and {entry.symbol}")
                cat.by_path[name] = entry
    cat.digest = digest
    return cat


_CACHED: Optional[Catalogue] = None


def builtin_catalogue(snapshot_dir: Optional[Path] = None) -> Catalogue:
    global _CACHED
    if _CACHED is None:
        _CACHED = load_catalogue(snapshot_dir=snapshot_dir)
    return _CACHED
