"""The block catalogue: what each Prefect 2.x/3.x block class is, loaded from rules/blocks/*.toml.

A block is saved on the server under its type's slug and a name, and loaded by name; credlint
needs, per class, the slug it saves and loads under, which of its fields are credentials, which
keyword carries a credentials block, every field it has (unknown keywords are dropped silently)
and what a construction without credentials does; per prefect.yaml step function (`[[step]]`),
which inputs carry its credentials and what runs without them. That knowledge is data, reviewed
by people and proven against the real packages by tests/test_block_catalogue_proof.py; this
module only loads it — checking each file against `SCHEMA` — and answers look-ups by import path
or by slug.

Nothing is read until a look-up needs it (`builtin_block_catalogue()`), so a run that meets no
2.x/3.x code never pays for it.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, Iterator, List, Optional, Tuple

from credlint.cachedir import read_snapshot, write_snapshot

# What a construction with none of `auth_fields` (and no carrier keyword) does.
EMPTY: Dict[str, str] = {
    "ambient": "it constructs, and the credentials come from a default chain, silently",
    "invalid": "the construction fails: Prefect names the missing credential (loudly)",
    "none": "the block chooses no credentials: there is nothing to leave empty",
}
# Where an ambient block's credentials come from.
CHAINS: Dict[str, str] = {
    "boto3": "the AWS default chain (environment variables, ~/.aws profiles, an instance or task role)",
    "google-auth": "Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, a gcloud login, the metadata server)",
    "azure-identity": "DefaultAzureCredential (environment variables, a managed identity, an Azure CLI login)",
    "kubeconfig": "the in-cluster service account, else ~/.kube/config",
    "docker-config": "the Docker daemon's and ~/.docker/config.json's registry logins",
    "fsspec": "whatever the fsspec backend of the URL's scheme does by default",
    "anonymous": "no credentials at all: public resources work, private ones fail (a git credential helper may step in)",
}
# The chains CL102 reports, with the `allow-fallback` family that accepts each: an identity the
# machine has (keys, a login, a role, a service account). `anonymous` (no credentials: a public
# resource works, a private one fails loudly), `docker-config` (the daemon's own logins) and
# `fsspec` (whatever the URL's backend does) are not reported.
CHAIN_FAMILIES: Dict[str, str] = {"boto3": "aws", "google-auth": "gcp", "azure-identity": "azure",
                                  "kubeconfig": "kubernetes"}
KINDS = ("credentials", "secret", "notification", "storage", "repository", "database", "job",
         "infrastructure", "value", "config")
VERSIONS = ("2", "3")  # Prefect majors; the file's [package] table says which release proved each


class BlockCatalogueError(ValueError):
    """The block catalogue's data is malformed (a bug in credlint's data, or in an extension)."""


@dataclass(frozen=True)
class Carrier:
    """A keyword that takes a credentials-holding block (`S3Bucket(credentials=...)`)."""

    keyword: str
    accepts: Tuple[str, ...]  # slugs of the block types the field accepts
    required: bool = False
    default: str = ""  # slug of the empty block built when the keyword is omitted ("" = none)

    def to_json(self) -> dict:
        return {"keyword": self.keyword, "accepts": list(self.accepts), "required": self.required,
                "default": self.default or None}


@dataclass(frozen=True)
class BlockType:
    """One block class: its import paths, slug, fields and what its credentials are."""

    symbol: str  # the path of the module that defines it
    slug: str
    kind: str
    package: str  # the distribution that ships it ("prefect", "prefect-aws", ...)
    versions: Tuple[str, ...]  # Prefect majors it exists in
    aliases: Tuple[str, ...] = ()
    fields: Tuple[str, ...] = ()  # the fields every listed version has
    version_fields: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()  # (version, fields only it has)
    keywords: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()  # (field, the keywords that set it), where not its name
    secret_fields: Tuple[str, ...] = ()  # Prefect's own `secret_fields`, minus those of nested blocks
    plain_credential_fields: Tuple[str, ...] = ()  # credentials Prefect does not mask (aws_session_token, a DSN)
    credential_mappings: Tuple[str, ...] = ()  # mappings whose credential-named keys are stored unmasked (env, settings)
    auth_fields: Tuple[str, ...] = ()  # setting any of them chooses where the credentials come from
    carriers: Tuple[Carrier, ...] = ()
    empty: str = "none"
    chain: str = ""
    empty_args: Tuple[Tuple[str, object], ...] = ()  # the non-credential arguments `empty` assumes
    notes: Tuple[str, ...] = ()
    proven: Tuple[Tuple[str, str], ...] = ()  # (version, the package release it was proven with)
    source_file: str = ""

    @property
    def short_name(self) -> str:
        return self.symbol.rsplit(".", 1)[-1]

    @property
    def paths(self) -> Tuple[str, ...]:
        return (self.symbol,) + self.aliases

    @property
    def credential_fields(self) -> Tuple[str, ...]:
        """The top-level fields a literal must never reach: the secret ones and the plain ones."""
        top = [name.split(".", 1)[0] for name in self.secret_fields] + list(self.plain_credential_fields)
        return tuple(dict.fromkeys(top))

    def all_fields(self, version: Optional[str] = None) -> Tuple[str, ...]:
        """The fields of the class in `version` (None: in any version it exists in)."""
        extra = [name for v, names in self.version_fields if version is None or v == version for name in names]
        return self.fields + tuple(dict.fromkeys(n for n in extra if n not in self.fields))

    def field_keywords(self, name: str) -> Tuple[str, ...]:
        """The keywords that set field `name` when the class is constructed."""
        for field_name, keywords in self.keywords:
            if field_name == name:
                return keywords
        return (name,)

    def accepted_keywords(self, version: Optional[str] = None) -> FrozenSet[str]:
        """Every keyword the constructor turns into a field; any other keyword is dropped silently."""
        return frozenset(k for name in self.all_fields(version) for k in self.field_keywords(name))

    def field_of_keyword(self, keyword: str, version: Optional[str] = None) -> Optional[str]:
        for name in self.all_fields(version):
            if keyword in self.field_keywords(name):
                return name
        return None

    def carrier(self, keyword: str) -> Optional[Carrier]:
        field_name = self.field_of_keyword(keyword)
        for carrier in self.carriers:
            if carrier.keyword in (keyword, field_name):
                return carrier
        return None

    @property
    def empty_kwargs(self) -> Dict[str, object]:
        return dict(self.empty_args)

    def to_json(self) -> dict:
        return {
            "symbol": self.symbol,
            "aliases": list(self.aliases),
            "slug": self.slug,
            "kind": self.kind,
            "package": self.package,
            "versions": list(self.versions),
            "proven_with": {v: f"{self.package}=={release}" for v, release in self.proven if v in self.versions},
            "fields": list(self.all_fields()),
            "secret_fields": list(self.secret_fields),
            "credential_fields": list(self.credential_fields),
            "credential_mappings": list(self.credential_mappings),
            "auth_fields": list(self.auth_fields),
            "carriers": [c.to_json() for c in self.carriers],
            "empty": self.empty,
            "chain": self.chain or None,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class StepType:
    """A deployment step function of prefect.yaml (`prefect_aws.deployments.steps.pull_from_s3`) that
    reaches a service: which inputs carry its credentials and what runs when they are left out."""

    function: str  # the path of the module that defines it
    package: str
    versions: Tuple[str, ...]
    aliases: Tuple[str, ...] = ()
    inputs: Tuple[str, ...] = ()  # the parameters every listed version has
    version_inputs: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()  # (version, parameters only it has)
    credentials: Tuple[str, ...] = ()  # the inputs that carry credentials (any one chooses them)
    accepts: Tuple[str, ...] = ()  # slugs of the blocks whose document an input takes; () any block
    required: bool = False  # the step fails (TypeError) without them
    chain: str = ""  # what runs without credentials, or with a mapping that sets no auth field of `accepts`
    empty_inputs: Tuple[Tuple[str, object], ...] = ()  # the inputs the proof runs it with
    notes: Tuple[str, ...] = ()
    proven: Tuple[Tuple[str, str], ...] = ()
    source_file: str = ""

    @property
    def short_name(self) -> str:
        return self.function.rsplit(".", 1)[-1]

    @property
    def paths(self) -> Tuple[str, ...]:
        return (self.function,) + self.aliases

    def all_inputs(self, version: Optional[str] = None) -> Tuple[str, ...]:
        extra = [name for v, names in self.version_inputs if version is None or v == version for name in names]
        return self.inputs + tuple(dict.fromkeys(n for n in extra if n not in self.inputs))

    def to_json(self) -> dict:
        return {"function": self.function, "aliases": list(self.aliases), "package": self.package,
                "versions": list(self.versions), "inputs": list(self.all_inputs()),
                "credentials": list(self.credentials), "accepts": list(self.accepts), "required": self.required,
                "chain": self.chain or None, "notes": list(self.notes)}


@dataclass
class BlockCatalogue:
    types: Dict[str, BlockType] = field(default_factory=dict)  # symbol -> type
    by_path: Dict[str, BlockType] = field(default_factory=dict)
    slugs: Dict[str, Tuple[BlockType, ...]] = field(default_factory=dict)
    steps: Dict[str, StepType] = field(default_factory=dict)  # import path (function and aliases) -> step
    digest: str = ""

    def step(self, path: Optional[str]) -> Optional[StepType]:
        """The deployment step a prefect.yaml names by `path`, if catalogued."""
        return self.steps.get(path) if path else None

    def lookup(self, path: Optional[str]) -> Optional[BlockType]:
        """The block type an import path names (`prefect_aws.AwsCredentials`), if any."""
        return self.by_path.get(path) if path else None

    def by_slug(self, slug: Optional[str]) -> Tuple[BlockType, ...]:
        """The block types saved under `slug`: usually one, two where classes share a slug."""
        return self.slugs.get(slug, ()) if slug else ()

    def by_short_name(self, name: str) -> Tuple[BlockType, ...]:
        """The block types whose class is called `name` (`SlackWebhook`: the core one and prefect-slack's)."""
        return tuple(t for t in self if t.short_name == name)

    def slug_of(self, path: Optional[str]) -> Optional[str]:
        found = self.lookup(path)
        return found.slug if found is not None else None

    def find(self, text: str) -> Tuple[BlockType, ...]:
        """What a user typed: an import path or a slug."""
        text = text.strip()
        found = self.lookup(text)
        return (found,) if found is not None else self.by_slug(text)

    def module_members(self, module: str) -> Dict[str, str]:
        """Names a `from module import *` brings in that the catalogue knows (name -> symbol)."""
        prefix = module + "."
        return {path[len(prefix):]: entry.symbol for path, entry in self.by_path.items()
                if path.startswith(prefix) and "." not in path[len(prefix):]}

    def __iter__(self) -> Iterator[BlockType]:
        return iter(sorted(self.types.values(), key=lambda t: (t.package != "prefect", t.package, t.symbol)))

    def __len__(self) -> int:
        return len(self.types)


# ---------------------------------------------------------------------------------- the schema

# Each table's keys: (allowed, required). Enumerated values are checked after.
_BLOCK_KEYS = frozenset({
    "symbol", "aliases", "slug", "kind", "versions", "fields", "version_fields", "keywords", "secret_fields",
    "plain_credential_fields", "credential_mappings", "auth_fields", "carriers", "empty", "chain", "empty_args", "notes"})
SCHEMA: Dict[str, Tuple[FrozenSet[str], Tuple[str, ...]]] = {
    "package": (frozenset({"name", "module", "proven"}), ("name", "module", "proven")),
    "block": (_BLOCK_KEYS, ("symbol", "slug", "kind", "versions", "fields", "empty")),
    "carriers": (frozenset({"keyword", "accepts", "required", "default"}), ("keyword", "accepts")),
    "step": (frozenset({"function", "aliases", "versions", "inputs", "version_inputs", "credentials", "accepts",
                        "required", "chain", "empty_inputs", "notes"}), ("function", "versions", "inputs", "credentials")),
}
_LISTS = ("aliases", "versions", "fields", "secret_fields", "plain_credential_fields", "credential_mappings",
          "auth_fields", "notes", "accepts", "inputs", "credentials")
_TEXTS = ("symbol", "slug", "kind", "empty", "chain", "keyword", "default", "function")


def _strings(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _table_of_texts(value) -> bool:
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())


def _table_of_lists(value) -> bool:
    return isinstance(value, dict) and all(_strings(v) for v in value.values())


# key -> (does a value have the right shape, what the shape is called)
_SHAPES = {
    **{key: (_strings, "a list of strings") for key in _LISTS},
    **{key: (lambda v: isinstance(v, str), "a string") for key in _TEXTS},
    "carriers": (lambda v: isinstance(v, list) and all(isinstance(c, dict) for c in v),
                 "a list of [[block.carriers]] tables"),
    "empty_args": (lambda v: isinstance(v, dict), "a table"),
    "empty_inputs": (lambda v: isinstance(v, dict), "a table"),
    "version_fields": (_table_of_lists, "a table of lists of field names"),
    "version_inputs": (_table_of_lists, "a table of lists of input names"),
    "keywords": (_table_of_lists, "a table of lists of keywords"),
    "required": (lambda v: isinstance(v, bool), "true or false"),
}


def _problem(table: str, raw, prefix: str = "") -> Optional[str]:
    allowed, required = SCHEMA[table]
    if not isinstance(raw, dict):
        return f"{prefix or table} is not a table"
    unknown = sorted(set(raw) - allowed)
    if unknown:
        return f"unknown key {prefix}{unknown[0]} (the keys are {', '.join(sorted(allowed))})"
    for key in required:
        if raw.get(key) in (None, "", [], {}):
            return f"{prefix}{key} is missing"
    return None


def _type_problem(raw: dict, prefix: str = "") -> Optional[str]:
    """A value of the wrong shape (a string for a list, a list for a table...)."""
    for key, value in raw.items():
        if key in _SHAPES and not _SHAPES[key][0](value):
            return f"{prefix}{key} must be {_SHAPES[key][1]}"
    return None


def _block_problem(raw: dict, versions: Tuple[str, ...]) -> Optional[str]:
    problem = _problem("block", raw) or _type_problem(raw)
    if problem:
        return problem
    enums = (("kind", raw["kind"], KINDS), ("empty", raw["empty"], EMPTY),
             ("chain", raw.get("chain", ""), ("",) + tuple(CHAINS)))
    for key, value, allowed in enums:
        if value not in allowed:  # (an enumeration: a tuple or a dict's keys)
            return f"{key} = {value!r} is not one of {', '.join(a for a in allowed if a)}"
    for version in raw["versions"]:
        if version not in versions:
            return f"versions: {version!r} is not one the [package] table proves ({', '.join(versions)})"
    if (raw["empty"] == "ambient") != bool(raw.get("chain")):
        return "chain names where an ambient block's credentials come from (and only an ambient one's)"
    if raw["empty"] == "none" and (raw.get("auth_fields") or raw.get("carriers")):
        return "empty = 'none' is for a block with no auth_fields and no carriers"
    fields = set(raw["fields"]) | {n for names in raw.get("version_fields", {}).values() for n in names}
    for version in raw.get("version_fields", {}):
        if version not in raw["versions"]:
            return f"version_fields.{version}: not a version the block exists in"
    named = [(k, n) for k in ("plain_credential_fields", "credential_mappings", "auth_fields") for n in raw.get(k, [])]
    named += [("secret_fields", n.split(".", 1)[0]) for n in raw.get("secret_fields", [])]
    named += [("keywords", n) for n in raw.get("keywords", {})]
    for key, name in named:
        if name not in fields:
            return f"{key}: {name!r} is not one of the fields"
    keywords = (fields - set(raw.get("keywords", {}))) | {k for words in raw.get("keywords", {}).values() for k in words}
    for name in raw.get("empty_args", {}):
        if name not in keywords:
            return f"empty_args: {name!r} is not a keyword the constructor takes"
    for number, carrier in enumerate(raw.get("carriers", [])):
        problem = _problem("carriers", carrier, f"carriers[{number}].") or _type_problem(carrier, f"carriers[{number}].")
        if problem:
            return problem
        if carrier["keyword"] not in fields:
            return f"carriers[{number}].keyword: {carrier['keyword']!r} is not one of the fields"
    return None


def _step_problem(raw: dict, versions: Tuple[str, ...]) -> Optional[str]:
    problem = _problem("step", raw) or _type_problem(raw)
    if problem:
        return problem
    if raw.get("chain", "") not in ("",) + tuple(CHAINS):
        return f"chain = {raw['chain']!r} is not one of {', '.join(CHAINS)}"
    for version in list(raw["versions"]) + list(raw.get("version_inputs", {})):
        if version not in versions or version not in raw["versions"]:
            return f"versions: {version!r} is not a version the [package] table proves and the step exists in"
    inputs = set(raw["inputs"]) | {n for names in raw.get("version_inputs", {}).values() for n in names}
    for name in list(raw["credentials"]) + list(raw.get("empty_inputs", {})):
        if name not in inputs:
            return f"{name!r} is not one of the inputs"
    if not raw.get("required") and not raw.get("chain"):
        return "chain names what runs when an optional credentials input is left out"
    return None


def _package_problem(raw) -> Optional[str]:
    problem = _problem("package", raw, "package.")
    if problem:
        return problem
    proven = raw["proven"]
    if not _table_of_texts(proven) or not set(proven) <= set(VERSIONS):
        return f"package.proven maps Prefect majors ({', '.join(VERSIONS)}) to the release proven"
    return None


def check_document(doc: dict, source: str) -> None:
    """Raise a BlockCatalogueError naming the file, the entry and the key for an unknown table or
    key, a missing key, a value outside its enumeration or a field name the block does not have."""
    for key in doc:
        if key not in ("package", "block", "step"):
            raise BlockCatalogueError(f"{source}: unknown table {key} (the file holds [package], [[block]] and "
                                      f"[[step]] tables)")
    problem = _package_problem(doc.get("package"))
    if problem:
        raise BlockCatalogueError(f"{source}: {problem}")
    versions = tuple(doc["package"]["proven"])
    for index, raw in enumerate(doc.get("block", ())):
        problem = _block_problem(raw, versions) if isinstance(raw, dict) else "block is not a table"
        if problem:
            symbol = raw.get("symbol") if isinstance(raw, dict) else None
            raise BlockCatalogueError(f"{source}: {symbol or f'block {index + 1}'}: {problem}")
    for index, raw in enumerate(doc.get("step", ())):
        problem = _step_problem(raw, versions) if isinstance(raw, dict) else "step is not a table"
        if problem:
            function = raw.get("function") if isinstance(raw, dict) else None
            raise BlockCatalogueError(f"{source}: {function or f'step {index + 1}'}: {problem}")


# ---------------------------------------------------------------------------------- loading


def _block(raw: dict, package: dict, source: str) -> BlockType:
    return BlockType(
        symbol=raw["symbol"],
        slug=raw["slug"],
        kind=raw["kind"],
        package=package["name"],
        versions=tuple(raw["versions"]),
        aliases=tuple(raw.get("aliases", ())),
        fields=tuple(raw["fields"]),
        version_fields=tuple((v, tuple(names)) for v, names in sorted(raw.get("version_fields", {}).items())),
        keywords=tuple((name, tuple(words)) for name, words in sorted(raw.get("keywords", {}).items())),
        secret_fields=tuple(raw.get("secret_fields", ())),
        plain_credential_fields=tuple(raw.get("plain_credential_fields", ())),
        credential_mappings=tuple(raw.get("credential_mappings", ())),
        auth_fields=tuple(raw.get("auth_fields", ())),
        carriers=tuple(Carrier(keyword=c["keyword"], accepts=tuple(c["accepts"]), required=bool(c.get("required", False)),
                               default=c.get("default", "")) for c in raw.get("carriers", ())),
        empty=raw["empty"],
        chain=raw.get("chain", ""),
        empty_args=tuple(sorted(raw.get("empty_args", {}).items())),
        notes=tuple(raw.get("notes", ())),
        proven=tuple(sorted(package["proven"].items())),
        source_file=source,
    )


def _step(raw: dict, package: dict, source: str) -> StepType:
    return StepType(
        function=raw["function"],
        package=package["name"],
        versions=tuple(raw["versions"]),
        aliases=tuple(raw.get("aliases", ())),
        inputs=tuple(raw["inputs"]),
        version_inputs=tuple((v, tuple(names)) for v, names in sorted(raw.get("version_inputs", {}).items())),
        credentials=tuple(raw["credentials"]),
        accepts=tuple(raw.get("accepts", ())),
        required=bool(raw.get("required", False)),
        chain=raw.get("chain", ""),
        empty_inputs=tuple(sorted(raw.get("empty_inputs", {}).items())),
        notes=tuple(raw.get("notes", ())),
        proven=tuple(sorted(package["proven"].items())),
        source_file=source,
    )


def default_blocks_dir() -> Path:
    """The data, kept with the built-in rules (`rules/blocks/`): found, not imported."""
    from importlib.util import find_spec

    spec = find_spec("credlint.rules")
    return Path(list(spec.submodule_search_locations)[0]) / "blocks"


def read_sources(dirs: Iterable[Path] = ()) -> Tuple[List[Tuple[Path, bytes]], str]:
    """The catalogue's TOML files with their content, and the digest of it all (a cache key)."""
    files = sorted(default_blocks_dir().glob("*.toml"))
    for extra in dirs:
        files.extend(sorted(Path(extra).glob("*.toml")))
    blobs, hasher = [], hashlib.sha256()
    for path in files:
        data = path.read_bytes()
        hasher.update(path.name.encode() + b"\0" + data)
        blobs.append((path, data))
    return blobs, hasher.hexdigest()[:16]


def builtin_blocks_digest() -> str:
    """The built-in block catalogue's digest, without parsing it (for cache keys)."""
    return read_sources()[1]


def load_block_catalogue(dirs: Iterable[Path] = (), snapshot_dir: Optional[Path] = None) -> BlockCatalogue:
    """Load the built-in block catalogue plus any extra directories; an import path names one
    class only, a class is catalogued once, and every carrier accepts slugs the catalogue knows.

    Parsing the TOML is most of the cost (about 20 ms), so with `snapshot_dir` (the cache folder)
    the parsed documents are kept there as JSON under the catalogue's digest and read back."""
    blobs, digest = read_sources(dirs)
    docs = read_snapshot(snapshot_dir, "blocks", digest, len(blobs)) if snapshot_dir is not None else None
    if docs is None:
        docs = [_parse(path, data) for path, data in blobs]
        if snapshot_dir is not None:
            write_snapshot(snapshot_dir, "blocks", digest, docs)
    cat = BlockCatalogue(digest=digest)
    slugs: Dict[str, List[BlockType]] = {}
    for (path, _), doc in zip(blobs, docs):
        check_document(doc, path.name)
        for raw in doc.get("block", ()):
            entry = _block(raw, doc["package"], path.name)
            if entry.symbol in cat.types:
                raise BlockCatalogueError(f"{path.name}: {entry.symbol} is catalogued twice")
            cat.types[entry.symbol] = entry
            for name in entry.paths:
                other = cat.by_path.get(name)
                if other is not None and other is not entry:
                    raise BlockCatalogueError(
                        f"{path.name}: import path {name} names both {other.symbol} and {entry.symbol}")
                cat.by_path[name] = entry
            slugs.setdefault(entry.slug, []).append(entry)
        for raw in doc.get("step", ()):
            step = _step(raw, doc["package"], path.name)
            for name in step.paths:
                if name in cat.steps:
                    raise BlockCatalogueError(f"{path.name}: step path {name} is catalogued twice")
                cat.steps[name] = step
    cat.slugs = {slug: tuple(entries) for slug, entries in slugs.items()}
    for entry in cat.types.values():
        for carrier in entry.carriers:
            unknown = [s for s in carrier.accepts + ((carrier.default,) if carrier.default else ()) if s not in cat.slugs]
            if unknown:
                raise BlockCatalogueError(
                    f"{entry.source_file}: {entry.symbol}: carriers: no catalogued block has slug {unknown[0]!r}")
    for step in {id(s): s for s in cat.steps.values()}.values():
        unknown = [s for s in step.accepts if s not in cat.slugs]
        if unknown:
            raise BlockCatalogueError(f"{step.source_file}: {step.function}: accepts: no catalogued block has slug "
                                      f"{unknown[0]!r}")
    return cat


def _parse(path: Path, data: bytes) -> dict:
    from credlint.tomlcompat import toml

    try:
        return toml.loads(data.decode("utf-8"))
    except Exception as exc:  # noqa: BLE001 - any decode problem is a data error
        raise BlockCatalogueError(f"{path.name}: {exc}") from exc


_CACHED: Optional[BlockCatalogue] = None


def builtin_block_catalogue(snapshot_dir: Optional[Path] = None) -> BlockCatalogue:
    """The built-in block catalogue, read once per process on first use (from the snapshot in
    `snapshot_dir` when one matches)."""
    global _CACHED
    if _CACHED is None:
        _CACHED = load_block_catalogue(snapshot_dir=snapshot_dir)
    return _CACHED
