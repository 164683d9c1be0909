"""A seeded, realistic repository for the benchmark of DESIGN.md section 8.

    python bench/generate.py OUT --files 5000 --prefect-share 0.05 --seed 1 [--shape small-files]

The tree has the shape the targets are about: a package tree of ordinary modules (classes,
dataclasses, loops, comprehensions, try/with, decorators, f-strings, type hints) that never
mention Prefect, a share of Prefect 1.x flow modules written the way teams write them (task
library classes, storage and run configs, `PrefectSecret`, a shared `tasks` module, a few
hard-coded obviously fake passwords), deployment files for the agents, and a `pyproject.toml`
that marks the root. A small share of ordinary modules holds what bandit B105-B107 looks at
(`password = os.environ[...]`, a `token: str = ""` default, "tokenize" helpers), as real code
does, so that the comparison with bandit is fair and credlint's byte prefilter is not handed an
unrealistically clean tree.

The "small-files" shape (`--shape small-files`) has the same layout with modules of about 2 kB
(a few functions, imports and constants; one in seven with a password-like literal: a default,
a keyword argument, a constant, a comparison) and flows of about 45 lines: the case where
credlint's per-file costs, not its parse, decide how it compares with bandit.

Output is byte-for-byte reproducible for a seed: only `random.Random(seed)` decides, and nothing
iterates over a set or depends on the file system's order.
"""
from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

# Shares of ordinary modules that mention credential words (bandit B105-B107 material, and files
# credlint's byte prefilter must parse) or merely "token" as in tokenizing text.
CREDENTIAL_BLOCK_SHARE = 0.04
TOKEN_WORD_SHARE = 0.03
# Share of ordinary modules of 1,000 lines or more.
LARGE_MODULE_SHARE = 0.01
# The "small-files" shape: modules of about 2 kB (a few functions, imports, constants), of which
# this share holds string literals that look like passwords (settings, fixtures, clients), as
# bandit B105-B107 sees them.
SMALL_MODULE_BYTES = (1200, 2000, 3000)  # triangular: low, mode, high
SMALL_CREDENTIAL_SHARE = 0.15
SHAPES = ("monorepo", "small-files")
DEPLOY_FILES = ("deploy/docker-compose.yml", "deploy/start-agent.sh", "deploy/Dockerfile")
# Placeholder by credlint's rules ("fake"), and one that is not: both obviously not real.
FAKE_PASSWORDS = ("fake-Passw0rd-123", "not-a-real-Passw0rd-123")

TOP_PACKAGES = ("acme", "billing", "catalog", "analytics", "storefront", "common", "integrations",
                "fulfilment", "reporting", "platform")
SUBPACKAGES = ("api", "models", "services", "utils", "handlers", "adapters", "jobs", "schemas", "storage",
               "views", "reports", "pipelines", "client", "domain", "internal", "core", "io", "metrics",
               "exporters", "importers", "workers", "cli", "web", "db", "rules", "pricing", "search")
MODULE_SUFFIXES = ("models", "service", "views", "handlers", "schemas", "client", "helpers", "utils",
                   "repository", "serializers", "forms", "queries", "loader", "writer", "validators",
                   "mixins", "events", "config", "constants", "types")
NOUNS = ("order", "invoice", "customer", "product", "shipment", "account", "event", "record", "batch",
         "report", "item", "price", "region", "supplier", "ticket", "session", "metric", "schedule", "job",
         "payload", "snapshot", "segment", "profile", "address", "carrier", "coupon", "refund", "ledger",
         "entry", "window", "warehouse", "basket", "review", "rating", "channel", "campaign", "forecast",
         "stock", "vendor", "route", "parcel", "tariff", "currency", "budget", "contract", "asset")
VERBS = ("load", "parse", "build", "merge", "filter", "normalize", "validate", "compute", "resolve", "fetch",
         "render", "split", "group", "aggregate", "export", "sync", "score", "rank", "dedupe", "enrich",
         "format", "summarize", "apply", "collect", "convert", "flatten", "index", "prepare", "refresh")
ADJECTIVES = ("active", "pending", "daily", "raw", "clean", "latest", "total", "partial", "local", "remote",
              "default", "cached", "primary", "stale", "weekly", "open", "closed", "valid", "archived")
STATUSES = ("pending", "active", "cancelled", "shipped", "failed", "archived", "draft", "paid")
REGIONS = ("eu-west-1", "us-east-1", "ap-south-1", "eu-central-1", "us-west-2")
SENTENCES = (
    "Kept small on purpose: callers compose these rather than subclass them.",
    "The order of the returned items is stable, so results can be diffed between runs.",
    "Values missing upstream are treated as zero rather than dropped.",
    "This mirrors what the nightly job does, so both agree on totals.",
    "Only the fields the dashboard reads are kept.",
    "Raises ValueError when the input cannot be interpreted.",
    "Timestamps are naive UTC throughout this module.",
    "The limits below come from the contract with the downstream team.",
)
# (name, annotation, default or None for a required field)
FIELDS = (
    ("name", "str", '""'), ("region", "str", '"eu-west-1"'), ("count", "int", "0"), ("total", "float", "0.0"),
    ("enabled", "bool", "True"), ("tags", "List[str]", "field(default_factory=list)"),
    ("attributes", "Dict[str, Any]", "field(default_factory=dict)"), ("created_at", "Optional[datetime]", "None"),
    ("parent_id", "Optional[int]", "None"), ("currency", "str", '"EUR"'), ("weight", "float", "1.0"),
    ("status", "str", '"pending"'), ("priority", "int", "5"), ("source", "str", '"api"'), ("retries", "int", "3"),
    ("labels", "Tuple[str, ...]", "()"), ("quantity", "int", None), ("code", "str", None),
    ("amount", "float", None), ("updated_at", "datetime", None),
)
SECRET_NAMES = ("SNOWFLAKE_PASSWORD", "WAREHOUSE_PASSWORD", "PARTNER_API_KEY", "REPORTING_DB_PASSWORD")
SLACK_SECRETS = ("SLACK_WEBHOOK_URL", "SLACK_WEBHOOK_URL", "DATA_ALERTS_SLACK_HOOK")
SHARED_TASKS = ("download_raw", "upload_clean", "notify_team", "parse_csv", "count_rows")


class _Module:
    """Lines of one module being written, and the imports its blocks asked for."""

    def __init__(self) -> None:
        self.lines: List[str] = []
        self.imports: Dict[str, None] = {}  # "import json" / "from x import y": insertion-ordered set
        self.typing: Dict[str, None] = {}
        self.names: Dict[str, None] = {}

    def need(self, *statements: str) -> None:
        for statement in statements:
            self.imports[statement] = None

    def types(self, *names: str) -> None:
        for name in names:
            self.typing[name] = None

    def unique(self, name: str) -> str:
        candidate, n = name, 2
        while candidate in self.names:
            candidate, n = f"{name}_{n}", n + 1
        self.names[candidate] = None
        return candidate

    def add(self, block: List[str]) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.extend(["", ""])
        self.lines.extend(block)

    def render(self, docstring: str, tail: Sequence[str] = ()) -> str:
        """Docstring, sorted import groups (stdlib, typing, then the rest), body."""
        plain = sorted(s for s in self.imports if s.startswith("import "))
        local = ("from prefect", "from tasks")
        froms = sorted(s for s in self.imports if s.startswith("from ") and not s.startswith(local))
        if self.typing:
            froms = sorted(froms + [f"from typing import {', '.join(sorted(self.typing))}"])
        third = sorted(s for s in self.imports if s.startswith("from prefect"))
        project = sorted(s for s in self.imports if s.startswith("from tasks"))
        head = [f'"""{docstring}"""']
        for group in (plain + froms, third, project):
            if group:
                head += [""] + group
        body = self.lines
        while body and body[0] == "":
            body = body[1:]
        return "\n".join(head + ["", ""] + body + list(tail)) + "\n"


class _Writer:
    """Realistic code blocks, chosen and filled in by one seeded random generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    # -- small helpers -------------------------------------------------------------------------

    def pick(self, seq):
        return seq[self.rng.randrange(len(seq))]

    def noun(self) -> str:
        return self.pick(NOUNS)

    @staticmethod
    def plural(noun: str) -> str:
        if noun.endswith(("s", "x", "ch")):
            return noun + "es"
        if noun.endswith("y") and noun[-2] not in "aeiou":
            return noun[:-1] + "ies"
        return noun + "s"

    def camel(self, *words: str) -> str:
        return "".join(w.capitalize() for w in words)

    def sentence(self) -> str:
        return self.pick(SENTENCES)

    def number(self) -> int:
        return self.pick((3, 5, 10, 20, 25, 50, 64, 100, 128, 250, 500, 1000))

    # -- blocks: each returns the lines of one top-level statement -------------------------------

    def constants(self, m: _Module) -> List[str]:
        noun = self.noun()
        name = m.unique(f"{noun.upper()}_{self.pick(('FIELDS', 'COLUMNS', 'KEYS', 'ORDER'))}")
        kind = self.pick(("LIMITS", "WEIGHTS", "DEFAULTS"))
        table = m.unique(f"{self.pick(ADJECTIVES).upper()}_{noun.upper()}_{kind}")
        columns = [f'    "{self.noun()}_{self.pick(("id", "name", "code", "total", "date"))}",'
                   for _ in range(self.rng.randint(3, 8))]
        entries = [f'    "{self.pick(REGIONS)}": {{"max_items": {self.number()}, '
                   f'"timeout": {self.rng.randint(1, 90)}.0, '
                   f'"enabled": {self.pick(("True", "False"))}}},' for _ in range(self.rng.randint(2, 6))]
        m.types("Any", "Dict")
        return ([f"{m.unique('DEFAULT_' + noun.upper() + '_LIMIT')} = {self.number()}",
                 f'{m.unique(noun.upper() + "_STATUS")} = "{self.pick(STATUSES)}"', f"{name} = ["]
                + columns + ["]", f"{table}: Dict[str, Dict[str, Any]] = {{"] + entries + ["}"])

    def large_table(self, m: _Module) -> List[str]:
        """The kind of long literal that makes some real modules 1,000+ lines."""
        m.types("Dict", "Tuple")
        name = m.unique(f"{self.noun().upper()}_{self.pick(('CODES', 'MAPPING', 'CATALOGUE'))}")
        rows = [f'    "{self.noun()}-{i:04d}": ("{self.pick(REGIONS)}", {self.rng.randint(1, 9999)}, '
                f'{self.rng.random():.3f}, "{self.pick(STATUSES)}"),' for i in range(self.rng.randint(40, 160))]
        return [f"{name}: Dict[str, Tuple[str, int, float, str]] = {{"] + rows + ["}"]

    def dataclass(self, m: _Module) -> List[str]:
        m.need("from dataclasses import dataclass, field", "from datetime import datetime")
        m.types("Any", "Dict", "List", "Optional", "Tuple")
        noun = self.noun()
        cls = m.unique(self.camel(self.pick(ADJECTIVES), noun))
        chosen = self.rng.sample(FIELDS, self.rng.randint(3, 8))
        required = [f for f in chosen if f[2] is None]
        optional = [f for f in chosen if f[2] is not None]
        frozen = self.pick(("", "", "(frozen=True)"))
        lines = [f"@dataclass{frozen}", f"class {cls}:",
                 f'    """A {noun} as the {self.pick(SUBPACKAGES)} layer sees it."""', "",
                 f"    {noun}_id: int"]
        lines += [f"    {n}: {t}" for n, t, _ in required]
        lines += [f"    {n}: {t} = {d}" for n, t, d in optional]
        names = [f"{noun}_id"] + [n for n, _, _ in required + optional]
        lines += ["", "    @property", "    def key(self) -> str:",
                  f'        return f"{noun}-{{self.{noun}_id}}-{{self.{names[-1]}}}"', "",
                  "    def to_dict(self) -> Dict[str, Any]:", "        return {"]
        lines += [f'            "{n}": self.{n},' for n in names]
        lines += ["        }"]
        if self.rng.random() < 0.5:
            lines += ["", "    @classmethod", f'    def from_dict(cls, data: Dict[str, Any]) -> "{cls}":',
                      f"        names = ({', '.join(repr(n) for n in names)},)",
                      "        known = {name: data[name] for name in names if name in data}",
                      "        return cls(**known)"]
        return lines

    def service_class(self, m: _Module) -> List[str]:
        m.need("import logging")
        m.types("Dict", "Iterable", "List", "Optional")
        noun = self.noun()
        cls = m.unique(self.camel(noun, self.pick(("Service", "Repository", "Manager", "Builder", "Index"))))
        limit = self.number()
        lines = [f"class {cls}:", f'    """Keeps {self.plural(noun)} in memory between requests.', "",
                 f"    {self.sentence()}", '    """', "",
                 f"    def __init__(self, limit: int = {limit}, prefix: str = \"{noun}\") -> None:",
                 "        self.limit = limit", "        self.prefix = prefix",
                 "        self._items: Dict[str, Dict[str, object]] = {}",
                 "        self._hits = 0", "",
                 "    def __len__(self) -> int:", "        return len(self._items)", "",
                 "    def __repr__(self) -> str:",
                 f'        return f"{cls}(limit={{self.limit!r}}, size={{len(self._items)}})"']
        for _ in range(self.rng.randint(2, 5)):
            lines += [""] + self.method(noun)
        return lines

    def method(self, noun: str) -> List[str]:
        verb = self.pick(VERBS)
        kind = self.rng.randrange(4)
        if kind == 0:
            return [f"    def {verb}_{noun}(self, key: str) -> Optional[Dict[str, object]]:",
                    "        item = self._items.get(f\"{self.prefix}:{key}\")", "        if item is None:",
                    "            return None", "        self._hits += 1", "        return dict(item)"]
        if kind == 1:
            return [f"    def {verb}_many(self, items: Iterable[Dict[str, object]]) -> int:",
                    "        added = 0", "        for item in items:",
                    f'            key = str(item.get("{noun}_id", added))',
                    "            if len(self._items) >= self.limit:",
                    '                logging.getLogger(__name__).warning("%s is full", self.prefix)',
                    "                break", "            self._items[f\"{self.prefix}:{key}\"] = dict(item)",
                    "            added += 1", "        return added"]
        if kind == 2:
            return ["    @staticmethod", f"    def {verb}_key(value: str) -> str:",
                    '        return value.strip().lower().replace(" ", "-")']
        return [f"    def {verb}_{self.pick(ADJECTIVES)}(self) -> List[str]:",
                "        items = self._items.items()",
                f'        return sorted(key for key, item in items if item.get("status") != "{self.pick(STATUSES)}")']

    def enum(self, m: _Module) -> List[str]:
        m.need("import enum")
        cls = m.unique(self.camel(self.noun(), self.pick(("Status", "Kind", "State", "Level"))))
        members = self.rng.sample(STATUSES, self.rng.randint(3, 6))
        return [f"class {cls}(str, enum.Enum):"] + [f'    {s.upper()} = "{s}"' for s in members] + [
            "", "    @property", "    def is_final(self) -> bool:",
            f"        return self in ({', '.join(f'{cls}.{s.upper()}' for s in members[:2])})"]

    def error_class(self, m: _Module) -> List[str]:
        cls = m.unique(self.camel(self.noun(), "Error"))
        return [f"class {cls}({self.pick(('ValueError', 'RuntimeError', 'Exception', 'LookupError'))}):",
                f'    """Raised when a {self.noun()} cannot be {self.pick(("read", "stored", "matched"))}."""', "",
                "    def __init__(self, key: str, reason: str = \"\") -> None:",
                '        super().__init__(f"{key}: {reason}" if reason else key)', "        self.key = key"]

    def function(self, m: _Module, decorators: Sequence[str] = ()) -> List[str]:
        """One function of a randomly chosen shape, with exactly one required parameter."""
        shapes = [self.fn_loop, self.fn_comprehension, self.fn_try_with, self.fn_generator, self.fn_regex,
                  self.fn_while, self.fn_grouping, self.fn_validate]
        if not decorators:
            shapes.append(self.fn_async)
        lines = self.pick(shapes)(m)
        at = next(i for i, line in enumerate(lines) if line.startswith(("def ", "async def ")))
        return lines[:at] + list(decorators) + lines[at:]

    @staticmethod
    def defined(block: Sequence[str]) -> str:
        """The name of the function a block defines."""
        line = next(line for line in block if line.startswith(("def ", "async def ")))
        return line.split("(")[0].split()[-1]

    def fn_loop(self, m: _Module) -> List[str]:
        m.need("import logging")
        m.types("Any", "Dict", "Iterable")
        noun, key = self.noun(), self.pick(("region", "status", "source", "currency"))
        name = m.unique(f"{self.pick(('summarize', 'count', 'tally'))}_{self.plural(noun)}_by_{key}")
        return [f"def {name}(records: Iterable[Dict[str, Any]], limit: int = {self.number()}) -> Dict[str, int]:",
                f'    """Count {self.plural(noun)} per {key}, ignoring {self.pick(STATUSES)} ones."""',
                "    counts: Dict[str, int] = {}", "    for index, record in enumerate(records):",
                "        if index >= limit:", "            break",
                f'        if record.get("status") == "{self.pick(STATUSES)}":', "            continue",
                f'        key = record.get("{key}") or "unknown"', "        counts[key] = counts.get(key, 0) + 1",
                f'    logging.getLogger(__name__).debug("{name}: %d keys", len(counts))', "    return counts"]

    def fn_comprehension(self, m: _Module) -> List[str]:
        m.types("Any", "Dict", "List")
        noun = self.noun()
        name = m.unique(f"{self.pick(ADJECTIVES)}_{noun}_names")
        threshold = self.rng.randint(1, 9) / 10
        return [f"def {name}(items: List[Dict[str, Any]], threshold: float = {threshold}) -> List[str]:",
                f'    """Names of the {self.plural(noun)} above the threshold, shortest first."""',
                '    selected = [item["name"] for item in items if item.get("weight", 0.0) > threshold]',
                f'    by_region = {{item.get("region", "{self.pick(REGIONS)}"): item for item in items}}',
                "    unique = sorted(set(selected), key=lambda value: (len(value), value))",
                '    return [f"{name}:{len(by_region)}" for name in unique if name]']

    def fn_try_with(self, m: _Module) -> List[str]:
        m.need("import json", "import logging", "from pathlib import Path")
        m.types("Any", "Dict")
        noun = self.noun()
        name = m.unique(f"read_{noun}_{self.pick(('file', 'report', 'export', 'snapshot'))}")
        return [f"def {name}(path: Path) -> Dict[str, Any]:", f'    """Read a {noun} file written by the exporter."""',
                "    log = logging.getLogger(__name__)", "    try:",
                '        with open(path, encoding="utf-8") as handle:', "            data = json.load(handle)",
                "    except FileNotFoundError:", '        log.warning("no %s at %s", "' + noun + '", path)',
                "        return {}", "    except json.JSONDecodeError as exc:",
                f'        raise ValueError(f"invalid {noun} file {{path}}: {{exc}}") from exc', "    finally:",
                '        log.debug("read %s", path)', "    if not isinstance(data, dict):",
                f'        data = {{"{self.plural(noun)}": data}}', "    return data"]

    def fn_generator(self, m: _Module) -> List[str]:
        m.types("Iterator", "List", "Sequence")
        name = m.unique(f"iter_{self.noun()}_{self.pick(('batches', 'chunks', 'pages'))}")
        return [f"def {name}(items: Sequence[object], size: int = {self.number()}) -> Iterator[List[object]]:",
                '    """Yield lists of at most `size` items, the last one possibly shorter."""',
                "    batch: List[object] = []", "    for item in items:", "        batch.append(item)",
                "        if len(batch) == size:", "            yield batch", "            batch = []",
                "    if batch:", "        yield batch"]

    def fn_regex(self, m: _Module) -> List[str]:
        m.need("import re")
        noun = self.noun()
        pattern = m.unique(f"_{noun.upper()}_RE")
        name = m.unique(f"{self.pick(('slugify', 'clean', 'normalize'))}_{noun}_name")
        return [f'{pattern} = re.compile(r"[^a-z0-9]+")', "", "",
                f"def {name}(value: str, max_length: int = {self.number()}) -> str:",
                f'    """A URL-safe form of a {noun} name."""',
                f'    slug = {pattern}.sub("-", value.lower()).strip("-")',
                f'    return slug[:max_length] or "{noun}"']

    def fn_while(self, m: _Module) -> List[str]:
        m.types("List")
        name = m.unique(f"{self.pick(('decayed', 'weighted', 'rolling'))}_{self.noun()}_score")
        return [f"def {name}(values: List[float], decay: float = 0.{self.rng.randint(5, 9)}) -> float:",
                f'    """{self.sentence()}"""', "    score, weight = 0.0, 1.0", "    i = len(values) - 1",
                "    while i >= 0:", "        score += weight * values[i]", "        weight *= decay", "        i -= 1",
                "    return round(score, 4)"]

    def fn_grouping(self, m: _Module) -> List[str]:
        m.need("import collections", "import itertools")
        m.types("Any", "Dict", "List")
        noun, key = self.noun(), self.pick(("region", "status", "source"))
        name = m.unique(f"group_{self.plural(noun)}_by_{key}")
        return [f"def {name}(rows: List[Dict[str, Any]]) -> Dict[str, List[Any]]:",
                f'    """Group {self.plural(noun)} by {key}; rows without one are kept under "other"."""',
                "    grouped: Dict[str, List[Any]] = collections.defaultdict(list)",
                f'    ordered = sorted(rows, key=lambda row: row.get("{key}") or "other")',
                f'    for key, members in itertools.groupby(ordered, key=lambda row: row.get("{key}") or "other"):',
                "        grouped[key].extend(members)", "    return dict(grouped)"]

    def fn_validate(self, m: _Module) -> List[str]:
        m.types("Any", "Dict", "List")
        noun = self.noun()
        name = m.unique(f"validate_{noun}")
        required = self.rng.sample([f[0] for f in FIELDS], 3)
        known = ", ".join(repr(status) for status in STATUSES[:3])
        return [f"def {name}(data: Dict[str, Any], strict: bool = False) -> List[str]:",
                f'    """Problems with a {noun} payload, empty when it is fine."""', "    problems: List[str] = []",
                f"    for key in ({', '.join(repr(r) for r in required)}):", "        if key not in data:",
                '            problems.append(f"missing {key}")',
                '    if strict and isinstance(data.get("count"), int) and data["count"] < 0:',
                '        problems.append("count must not be negative")',
                f'    elif not strict and data.get("status") not in (None, {known}):',
                '        problems.append(f"unexpected status {data.get(\'status\')!r}")', "    return problems"]

    def fn_async(self, m: _Module) -> List[str]:
        m.need("import asyncio")
        m.types("List")
        name = m.unique(f"{self.pick(VERBS)}_{self.noun()}s_concurrently")
        return [f"async def {name}(keys: List[str], limit: int = {self.pick((4, 8, 16))}) -> List[str]:",
                '    """Run the lookups with at most `limit` in flight."""',
                "    semaphore = asyncio.Semaphore(limit)", "",
                "    async def one(key: str) -> str:", "        async with semaphore:",
                "            await asyncio.sleep(0)", '            return key.upper()', "",
                "    return list(await asyncio.gather(*(one(key) for key in keys)))"]

    def decorator(self, m: _Module) -> Tuple[List[str], str]:
        m.need("import functools", "import time")
        m.types("Callable")
        name = m.unique(f"retry_on_{self.pick(('error', 'timeout', 'conflict'))}")
        return ([f"def {name}(attempts: int = 3, delay: float = 0.1) -> Callable:",
                 '    """Retry a flaky call a few times before giving up."""', "",
                 "    def decorate(func: Callable) -> Callable:", "        @functools.wraps(func)",
                 "        def wrapper(*args, **kwargs):", "            last_error = None",
                 "            for attempt in range(attempts):", "                try:",
                 "                    return func(*args, **kwargs)",
                 "                except (OSError, TimeoutError) as exc:", "                    last_error = exc",
                 "                    time.sleep(delay * attempt)",
                 '            raise RuntimeError(f"{func.__name__} failed {attempts} times") from last_error', "",
                 "        return wrapper", "", "    return decorate"], name)

    def credential_block(self, m: _Module) -> List[str]:
        """What bandit B105-B107 looks at in ordinary code: env reads, empty defaults, field names."""
        m.need("import os")
        noun = self.noun()
        name = m.unique(f"connect_{noun}_store")
        env = f"{noun.upper()}_DB_PASSWORD"
        return ['TOKEN_TYPE = "bearer"', f'RESET_PASSWORD_PATH = "/account/{noun}/reset"', "", "",
                f"def {name}(host: str, user: str = \"app\", token: str = \"\") -> dict:",
                f'    """Connection settings for the {noun} store, read from the environment."""',
                f'    password = os.environ["{env}"]', '    if password == "":',
                f'        raise RuntimeError("{env} is empty")',
                '    return {"host": host, "user": user, "password": password, "token": token or None}']

    def token_block(self, m: _Module) -> List[str]:
        m.need("import re")
        m.types("List")
        pattern = m.unique("_WORD_RE")
        name = m.unique(f"tokenize_{self.noun()}_text")
        return [f'{pattern} = re.compile(r"\\w+")', "", "", f"def {name}(text: str, lower: bool = True) -> List[str]:",
                '    """Split free text into word tokens for the search index."""',
                f"    tokens = {pattern}.findall(text.lower() if lower else text)",
                "    return [token for token in tokens if len(token) > 1]"]

    # -- whole files ---------------------------------------------------------------------------

    def ordinary_module(self, target_lines: int) -> str:
        """An ordinary module of about `target_lines` lines; never mentions Prefect."""
        m = _Module()
        rng = self.rng
        if rng.random() < 0.6:
            m.need("import logging")
            m.add(["logger = logging.getLogger(__name__)"])
        m.add(self.constants(m))
        if rng.random() < CREDENTIAL_BLOCK_SHARE:
            m.add(self.credential_block(m))
        if rng.random() < TOKEN_WORD_SHARE:
            m.add(self.token_block(m))
        decorator: Optional[str] = None
        makers: List[Callable[[_Module], List[str]]] = [self.dataclass, self.service_class, self.enum, self.error_class]
        while len(m.lines) < target_lines:
            roll = rng.random()
            if target_lines >= 1000 and roll < 0.08:
                m.add(self.large_table(m))
            elif roll < 0.35:
                m.add(self.pick(makers)(m))
            elif roll < 0.4 and decorator is None:
                block, decorator = self.decorator(m)
                m.add(block)
            else:
                decorators: List[str] = []
                extra = rng.random()
                if decorator is not None and extra < 0.3:
                    decorators = [f"@{decorator}(attempts={rng.randint(2, 5)})"]
                elif extra < 0.4:
                    m.need("import functools")
                    decorators = [f"@functools.lru_cache(maxsize={self.pick((32, 128, 1024))})"]
                m.add(self.function(m, decorators))
        tail: List[str] = []
        if rng.random() < 0.1:
            tail = ["", "", 'if __name__ == "__main__":', "    import doctest", "", "    doctest.testmod()"]
        noun = self.noun()
        title = f"{self.camel(noun)} {self.pick(('helpers', 'models', 'services', 'logic'))}."
        return m.render(f"{title}\n\n{self.sentence()}\n", tail)

    def small_credentials(self, m: _Module) -> List[str]:
        """String literals that look like passwords in a small module: a default, a keyword
        argument, a constant, a comparison (bandit B107, B106, B105); obviously not real ones."""
        noun = self.noun()
        kind = self.rng.randrange(4)
        if kind == 0:
            m.types("Any", "Dict")
            name = m.unique(f"{noun}_connection")
            return [f'def {name}(host: str, user: str = "app", password: str = "") -> Dict[str, Any]:',
                    f'    """Settings for the {noun} database; the password comes from the caller."""',
                    '    return {"host": host, "user": user, "password": password or None}']
        if kind == 1:
            name = m.unique(f"login_{noun}_client")
            fake = self.pick(FAKE_PASSWORDS)
            return [f"def {name}(client: object) -> object:",
                    '    """Log the test client in with the fixture account."""',
                    f'    return client.login(username="{noun}-tester", password="{fake}")']
        if kind == 2:
            return [f'{m.unique(noun.upper() + "_DEFAULT_PASSWORD")} = "changeme"  # replaced at deploy time',
                    f'{m.unique(noun.upper() + "_TOKEN_HEADER")} = "X-{self.camel(noun)}-Token"']
        m.types("Dict")
        name = m.unique(f"is_{noun}_token_expired")
        return [f"def {name}(claims: Dict[str, str]) -> bool:",
                '    token = claims.get("token_state", "")',
                '    return token == "expired"']

    def small_module(self, target_bytes: int) -> str:
        """A module of about `target_bytes` (a few functions, imports, constants); never mentions
        Prefect. With SMALL_CREDENTIAL_SHARE, password-like literals (`small_credentials`)."""
        m = _Module()
        rng = self.rng
        if rng.random() < 0.5:
            m.need("import logging")
            m.add(["logger = logging.getLogger(__name__)"])
        noun = self.noun()
        m.add([f"{m.unique('DEFAULT_' + noun.upper() + '_LIMIT')} = {self.number()}",
               f'{m.unique(noun.upper() + "_STATUS")} = "{self.pick(STATUSES)}"',
               f'{m.unique(noun.upper() + "_REGION")} = "{self.pick(REGIONS)}"'])
        if rng.random() < SMALL_CREDENTIAL_SHARE:
            m.add(self.small_credentials(m))
        if rng.random() < TOKEN_WORD_SHARE:
            m.add(self.token_block(m))
        small_makers: List[Callable[[_Module], List[str]]] = [self.enum, self.error_class]
        budget = target_bytes - 250  # the docstring and the imports
        while sum(len(line) + 1 for line in m.lines) < budget:
            if rng.random() < 0.2:
                m.add(self.pick(small_makers)(m))
            else:
                m.add(self.function(m))
        title = f"{self.camel(self.noun())} {self.pick(('helpers', 'models', 'services', 'logic'))}."
        return m.render(f"{title}\n\n{self.sentence()}\n")

    def init_module(self, modules: Sequence[str]) -> str:
        roll = self.rng.random()
        if roll < 0.3 or not modules:
            return ""
        doc = f'"""{self.camel(self.noun())} {self.pick(("package", "domain", "layer"))}."""\n'
        if roll < 0.45:
            return doc
        names = sorted(self.rng.sample(list(modules), min(len(modules), self.rng.randint(1, 4))))
        return doc + f"\nfrom . import {', '.join(names)}\n\n__all__ = [{', '.join(repr(n) for n in names)}]\n"

    def shared_tasks_module(self) -> str:
        """tasks/__init__.py: task instances and helpers several flows import."""
        m = _Module()
        m.need("from datetime import timedelta", "from prefect import task",
               "from prefect.tasks.aws.s3 import S3Download, S3Upload",
               "from prefect.tasks.notifications.slack_task import SlackTask")
        m.types("Any", "Dict", "List")
        m.add(['download_raw = S3Download(bucket="acme-raw-data")', 'upload_clean = S3Upload(bucket="acme-clean-data")',
               'notify_team = SlackTask(webhook_secret="SLACK_WEBHOOK_URL")'])
        m.add(["@task(max_retries=2, retry_delay=timedelta(seconds=30))",
               "def parse_csv(data: str) -> List[Dict[str, Any]]:",
               '    """Rows of a CSV export as dicts; the header names the keys."""',
               "    lines = [line for line in data.splitlines() if line.strip()]",
               "    if not lines:", "        return []", '    header = lines[0].split(",")',
               '    return [dict(zip(header, line.split(","))) for line in lines[1:]]'])
        m.add(["@task", "def count_rows(rows: List[Dict[str, Any]]) -> int:", "    return len(rows)"])
        for _ in range(self.rng.randint(1, 4)):
            m.add(self.function(m, ["@task"]))
        return m.render("Task instances and helpers shared by the team's flows.")

    def flow_module(self, flow_name: str, target_lines: int, shared: bool) -> str:
        """A Prefect 1.x flow the way teams write them; features vary per flow."""
        rng, m = self.rng, _Module()
        m.need("from prefect import Flow, Parameter, task")
        domain = flow_name.split("-")[0]
        body: List[str] = []
        calls: List[str] = []
        instances: List[str] = []
        kwargs: List[str] = []
        secret_in_flow: List[str] = []

        uses_s3 = rng.random() < 0.55
        if uses_s3:
            m.need("from prefect.tasks.aws.s3 import S3Download, S3Upload")
            instances += [f'download = S3Download(bucket="acme-{domain}-raw")',
                          f'upload = S3Upload(bucket="acme-{domain}-clean")']
            creds = ", credentials=aws" if rng.random() < 0.2 else ""
            if creds:
                m.need("from prefect.tasks.secrets import PrefectSecret")
                secret_in_flow.append('aws = PrefectSecret("AWS_CREDENTIALS")')
            calls += [f'raw = download(key="{domain}/latest.csv"{creds})']
        if rng.random() < 0.45:
            m.need("from prefect.tasks.snowflake import SnowflakeQuery")
            instances.append(f'load = SnowflakeQuery(account="acme-eu1", user="{domain}_loader", '
                             f'warehouse="{domain.upper()}_WH", database="ANALYTICS")')
            mode = rng.random()
            if mode < 0.6:
                m.need("from prefect.tasks.secrets import PrefectSecret")
                secret_in_flow.append(f'password = PrefectSecret("{self.pick(SECRET_NAMES)}")')
                calls.append(f'loaded = load(query="copy into {domain} from @{domain}_stage", password=password)')
            elif mode < 0.8:
                fake = self.pick(FAKE_PASSWORDS)
                calls.append(f'loaded = load(query="select count(*) from {domain}", password="{fake}")')
            else:
                calls.append(f'loaded = load(query="delete from {domain}_staging")')
        if rng.random() < 0.3:
            m.need("from prefect.tasks.gcp.storage import GCSUpload")
            instances.append(f'archive = GCSUpload(bucket="acme-{domain}-archive")')
            if rng.random() < 0.5:
                m.need("from prefect.tasks.secrets import PrefectSecret")
                secret_in_flow.append('gcp = PrefectSecret("GCP_CREDENTIALS")')
                calls.append(f'archive(data="done", blob="{domain}/marker.txt", credentials=gcp)')
            else:
                calls.append(f'archive(data="done", blob="{domain}/marker.txt")')
        if rng.random() < 0.4:
            m.need("from prefect.tasks.notifications.slack_task import SlackTask")
            instances.append(f'notify = SlackTask(webhook_secret="{self.pick(SLACK_SECRETS)}")')
            calls.append(f'notify(message="{flow_name} finished")')

        storage = rng.random()
        if storage < 0.4:
            m.need("from prefect.storage import S3")
            kwargs.append(f'storage=S3(bucket="acme-flows", key="{flow_name}.py", secrets=["AWS_CREDENTIALS"])')
        elif storage < 0.55:
            m.need("from prefect.storage import GCS")
            kwargs.append('storage=GCS(bucket="acme-flows-gcs", secrets=["GCP_CREDENTIALS"])')
        elif storage < 0.7:
            m.need("from prefect.storage import Docker")
            kwargs.append(f'storage=Docker(registry_url="registry.acme.example", image_name="{flow_name}")')
        run_config = rng.random()
        if run_config < 0.45:
            m.need("from prefect.run_configs import KubernetesRun")
            kwargs.append(f'run_config=KubernetesRun(labels=["k8s"], image="registry.acme.example/flows:1.4.1", '
                          f'env={{"LOG_LEVEL": "{self.pick(("INFO", "DEBUG"))}"}})')
        elif run_config < 0.8:
            m.need("from prefect.run_configs import DockerRun")
            kwargs.append('run_config=DockerRun(labels=["etl"])')

        imported: List[str] = []
        if shared and rng.random() < 0.4:
            imported = sorted(self.rng.sample(SHARED_TASKS, self.rng.randint(1, 3)))
            m.need(f"from tasks import {', '.join(imported)}")
        if rng.random() < 0.5:
            m.add([f'{domain.upper()}_PREFIX = "{domain}/"', f"BATCH_SIZE = {self.number()}"])
        if instances:
            m.add(instances)
        helpers: List[str] = []
        while len(m.lines) < target_lines - 25 or not helpers:
            decorator = self.pick(("@task", "@task", "@task(max_retries=3, retry_delay=timedelta(minutes=1))"))
            if "retry_delay" in decorator:
                m.need("from datetime import timedelta")
            block = self.function(m, [decorator])
            m.add(block)
            helpers.append(self.defined(block))

        body.append(f'day = Parameter("day", default="{self.pick(("today", "yesterday"))}")')
        body += secret_in_flow + calls
        previous = "day"
        for i, helper in enumerate(helpers):
            body.append(f"step_{i} = {helper}({previous})")
            previous = f"step_{i}"
        if uses_s3:
            body.append(f'upload(data={previous}, key="{domain}/out/" + "result.json")')
        for name in imported:
            body.append(f'{name}(upstream_tasks=[{previous}])' if name in ("notify_team", "download_raw")
                        else f"{name}({previous})")
        head = [f'with Flow("{flow_name}") as flow:'] if not kwargs else (
            ["with Flow(", f'    "{flow_name}",'] + [f"    {k}," for k in kwargs] + [") as flow:"])
        m.add(head + [f"    {line}" for line in body])
        tail = ["", "", 'if __name__ == "__main__":',
                "    flow.run()" if rng.random() < 0.5 else '    flow.register(project_name="data-platform")']
        return m.render(f"The {flow_name} flow.\n\n{self.sentence()}\n", tail)


def _ordinary_lines(rng: random.Random) -> int:
    """Mostly 60-400 lines (mean about 200), a few of 1,000-2,500."""
    if rng.random() < LARGE_MODULE_SHARE:
        return rng.randint(1000, 2500)
    return max(20, min(900, int(rng.lognormvariate(5.0, 0.55))))


def _plan_packages(rng: random.Random, budget: int) -> List[Tuple[str, int]]:
    """Package folders and their number of modules (besides __init__.py), using `budget` files."""
    if budget <= 0:
        return []
    tops = list(TOP_PACKAGES[: 1 if budget < 12 else min(7, budget // 500 + 2)])
    pending: List[Tuple[str, int]] = [(t, 0) for t in tops]
    made: List[Tuple[str, int, int]] = []
    children: Dict[str, List[str]] = {}
    remaining, index = budget, 0

    def child_of(parent: str, depth: int) -> Tuple[str, int]:
        taken = children.setdefault(parent, [])
        free = [name for name in SUBPACKAGES if name not in taken]
        name = rng.choice(free) if free else f"{rng.choice(SUBPACKAGES)}{len(taken)}"
        taken.append(name)
        return f"{parent}/{name}", depth + 1

    while remaining > 0:
        if index < len(pending):
            path, depth = pending[index]
            index += 1
        else:
            parents = [(p, d) for p, d, _ in made if d < 3] or [(p, d) for p, d, _ in made]
            path, depth = child_of(*rng.choice(parents))
        take = min(remaining, rng.randint(5, 40) + 1)
        if 0 < remaining - take < 6:
            take = remaining
        made.append((path, depth, take - 1))
        remaining -= take
        if depth < 3:
            for _ in range(rng.choice((0, 1, 1, 2, 3))):
                pending.append(child_of(path, depth))
    return [(p, n) for p, _, n in made]


def _module_names(rng: random.Random, count: int) -> List[str]:
    names: List[str] = []
    while len(names) < count:
        shape = rng.random()
        noun = rng.choice(NOUNS)
        if shape < 0.6:
            name = f"{noun}_{rng.choice(MODULE_SUFFIXES)}"
        elif shape < 0.85:
            name = f"{rng.choice(VERBS)}_{_Writer.plural(noun)}"
        else:
            name = _Writer.plural(noun)
        if name in names:
            name = f"{name}_{len(names)}"
        names.append(name)
    return names


_COMPOSE = """\
# Prefect agents of the data platform, as run on the build host.
services:
  etl-agent:
    image: prefecthq/prefect:1.4.1-python3.9
    command: prefect agent docker start --label etl -e PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS=${AWS_CREDENTIALS}
    environment:
      PREFECT__CLOUD__API_KEY: ${PREFECT_API_KEY}
      PREFECT__BACKEND: cloud
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock
    restart: unless-stopped
"""
_START_AGENT = """\
#!/usr/bin/env bash
# Starts the Kubernetes agent that runs the flows labelled "k8s".
set -euo pipefail

prefect agent kubernetes start \\
  --label k8s \\
  -e PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS="$AWS_CREDENTIALS" \\
  -e PREFECT__CONTEXT__SECRETS__GCP_CREDENTIALS="$GCP_CREDENTIALS"
"""
_DOCKERFILE = """\
FROM prefecthq/prefect:1.4.1-python3.9
WORKDIR /opt/flows
COPY . /opt/flows
RUN pip install --no-cache-dir -e .
"""
_PYPROJECT = """\
[project]
name = "acme-data-platform"
version = "0.1.0"
requires-python = ">=3.9"

[tool.credlint]
backend = "cloud"
cloud-secrets = ["SLACK_WEBHOOK_URL"]
"""


def generate(out_dir: Path, files: int, prefect_share: float, seed: int, shape: str = "monorepo") -> dict:
    """Write the repository into `out_dir` (created; must be empty) and summarize it.

    `files` counts every .py file (package __init__.py and the shared tasks module included);
    round(files * prefect_share) of them import Prefect: the flows, and `tasks/__init__.py` when
    there are at least two. `shape` "monorepo": ordinary modules of mostly 60-400 lines (a few of
    1,000+), flows of about 110 lines; "small-files": modules of about 2 kB
    (`SMALL_MODULE_BYTES`), flows of about 45 lines, and more password-like literals
    (`SMALL_CREDENTIAL_SHARE`). The same layout otherwise.
    """
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {', '.join(SHAPES)}")
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise FileExistsError(f"{out_dir} is not empty")
    if files < 1 or not 0.0 <= prefect_share <= 1.0:
        raise ValueError("files must be positive and prefect_share within [0, 1]")
    rng = random.Random(seed)
    writer = _Writer(rng)
    written: Dict[str, str] = {}

    n_prefect = round(files * prefect_share)
    shared = n_prefect >= 2
    n_flows = n_prefect - (1 if shared else 0)
    for folder, count in _plan_packages(rng, files - n_prefect):
        names = _module_names(rng, count)
        for name in names:
            if shape == "small-files":
                low, mode, high = SMALL_MODULE_BYTES
                written[f"{folder}/{name}.py"] = writer.small_module(int(rng.triangular(low, high, mode)))
            else:
                written[f"{folder}/{name}.py"] = writer.ordinary_module(_ordinary_lines(rng))
        written[f"{folder}/__init__.py"] = writer.init_module(names)
    if shared:
        written["tasks/__init__.py"] = writer.shared_tasks_module()
    group_index, left = 0, n_flows
    while left > 0:
        size = min(left, rng.randint(5, 40))
        if 0 < left - size < 5:
            size = left
        group = f"flows/{rng.choice(NOUNS)}_{group_index}"
        for name in _module_names(rng, size):
            flow_name = f"{name.replace('_', '-')}-{len(written)}"
            lines = (max(30, int(rng.lognormvariate(3.8, 0.25))) if shape == "small-files"
                     else max(40, int(rng.lognormvariate(4.7, 0.4))))
            written[f"{group}/{name}.py"] = writer.flow_module(flow_name, lines, shared)
        group_index, left = group_index + 1, left - size
    written["pyproject.toml"] = _PYPROJECT
    written["README.md"] = "# acme data platform\n\nGenerated by credlint's bench/generate.py.\n"
    written[DEPLOY_FILES[0]] = _COMPOSE
    written[DEPLOY_FILES[1]] = _START_AGENT
    written[DEPLOY_FILES[2]] = _DOCKERFILE

    made_dirs = set()
    for rel in sorted(written):
        target = out_dir / rel
        if target.parent not in made_dirs:
            target.parent.mkdir(parents=True, exist_ok=True)
            made_dirs.add(target.parent)
        target.write_bytes(written[rel].encode("utf-8"))
    (out_dir / DEPLOY_FILES[1]).chmod(0o755)
    python = [text for rel, text in written.items() if rel.endswith(".py")]
    return {
        "py_files": len(python),
        "flow_files": sum(1 for rel in written if rel.endswith(".py") and "from prefect" in written[rel]),
        "deploy_files": len(DEPLOY_FILES),
        "lines": sum(text.count("\n") for text in python),
        "bytes": sum(len(text.encode("utf-8")) for text in python),
    }


def big_module(min_bytes: int, seed: int) -> str:
    """One ordinary module of at least `min_bytes` (a few percent more), importing Prefect so
    that credlint parses it whole."""
    head = "from prefect import Flow  # so that the prefilter lets it through\n"
    target = max(100, min_bytes // 60)
    while True:
        text = head + _Writer(random.Random(seed)).ordinary_module(target)
        size = len(text.encode("utf-8"))
        if size >= min_bytes:
            return text
        target = int(target * min(2.0, min_bytes / size * 1.01)) + 1


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to create (must be empty or absent)")
    parser.add_argument("--files", type=int, default=5000, help="number of .py files")
    parser.add_argument("--prefect-share", type=float, default=0.05, help="share of .py files that are Prefect flows")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--shape", choices=SHAPES, default="monorepo",
                        help="monorepo: modules of mostly 60-400 lines; small-files: modules of about 2 kB")
    args = parser.parse_args(argv)
    print(json.dumps(generate(args.out, args.files, args.prefect_share, args.seed, args.shape), indent=2))


if __name__ == "__main__":
    main()
