"""Rules, pytest-style: plain `check_*` functions that ask for facts by parameter name.

A rule module is any Python file in a rules folder (the built-in `rules/` package or a user's
`rules = [dirs]`). Each `check_*` function carries `@rule(code, name, ...)` metadata, its own
bad/good examples, and a docstring that is its documentation page. The engine calls it once
per instance of each fixture it names and collects what it yields.
"""
from __future__ import annotations

import importlib.util
import inspect
import itertools
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from credlint.errors import RuleError
from credlint.facts.types import Pos

SEVERITIES = ("info", "warning", "error")


@dataclass
class Example:
    """A small project a rule must (bad) or must not (good) fire on.

    `files` maps paths to contents; a plain string is the single file `flow.py`. `config` is
    the text of a credlint.toml for the example project.
    """

    files: Union[str, Dict[str, str]]
    config: str = ""
    title: str = ""

    @property
    def file_map(self) -> Dict[str, str]:
        if isinstance(self.files, str):
            return {"flow.py": textwrap.dedent(self.files).lstrip("\n")}
        return {k: textwrap.dedent(v).lstrip("\n") for k, v in self.files.items()}


@dataclass
class Hit:
    """What a rule yields: where, what, and the names involved (never a value)."""

    path: str
    pos: Pos
    message: str
    fix: str = ""
    secret: Optional[str] = None
    flow: Optional[str] = None
    symbol: Optional[str] = None
    severity: Optional[str] = None  # overrides the rule's default
    mask: bool = False  # the span holds a hard-coded value: mask it in snippets


@dataclass
class Rule:
    code: str
    name: str
    severity: str
    func: Callable
    fixtures: Tuple[str, ...]
    bad: List[Example] = field(default_factory=list)
    good: List[Example] = field(default_factory=list)
    origin: str = ""

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.func.__doc__ or "")

    @property
    def summary(self) -> str:
        return self.doc.splitlines()[0] if self.doc else self.name

    def sections(self) -> Dict[str, str]:
        """The docstring split into its titled sections (What it does, Why is this bad?, ...)."""
        out: Dict[str, str] = {}
        current = "summary"
        lines: List[str] = []
        for line in self.doc.splitlines():
            if line.startswith("## "):
                out[current] = "\n".join(lines).strip()
                current, lines = line[3:].strip(), []
            else:
                lines.append(line)
        out[current] = "\n".join(lines).strip()
        return out


def rule(code: str, name: str, severity: str = "error", bad: Sequence = (), good: Sequence = ()):
    """Register a `check_*` function as the rule CODE / NAME with its examples."""
    if severity not in SEVERITIES:
        raise RuleError(f"{code}: severity must be one of {SEVERITIES}")

    def wrap(value) -> List[Example]:
        return [v if isinstance(v, Example) else Example(v) for v in value]

    def decorate(func: Callable) -> Callable:
        func.__credlint_rule__ = dict(code=code, name=name, severity=severity, bad=wrap(bad), good=wrap(good))
        return func

    return decorate


# Fixtures: name -> function(project) returning the instances a rule is called with.
def _fixtures() -> Dict[str, Callable]:
    def modules(p):
        return [p.modules[k] for k in sorted(p.modules)]

    return {
        "project": lambda p: [p],
        "config": lambda p: [p.config],
        "catalogue": lambda p: [p.catalogue],
        "module": modules,
        "file_error": lambda p: p.file_errors(),
        "flow": lambda p: list(p.flows),
        "need": lambda p: [n for f in p.flows for n in f.needs],
        "declaration": lambda p: [d for f in p.flows for d in f.declarations] + list(p.agent_declarations),
        "deploy_env": lambda p: list(p.deploy_env),
        "pattern_match": lambda p: [(path, m) for path in sorted(p.pattern_hits) for m in p.pattern_hits[path]],
        # Suppression comments that silenced nothing; rules asking for it run after the others.
        "suppression": lambda p: list(p.unused_suppressions),
        "agent": lambda p: list(p.agents),
        "consumer": lambda p: [c for f in p.flows for c in f.consumers],
        "call": lambda p: [(m, c) for m in modules(p) for c in m.calls],
        "parameter": lambda p: [(m, x) for m in modules(p) for x in m.parameters],
        "read": lambda p: [(m, x) for m in modules(p) for x in m.reads],
        "context_write": lambda p: [(m, x) for m in modules(p) for x in m.context_writes],
    }


FIXTURES = _fixtures()


def _load_module(path: Path, package: str):
    name = f"{package}.{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise RuleError(f"{path}: cannot load")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - a user's rule file may fail in any way
        raise RuleError(f"{path}: {type(exc).__name__}: {exc}") from exc
    return module


def collect_rules(extra_dirs: Iterable[Path] = ()) -> List[Rule]:
    """Built-in rules plus the user's folders, collected by the `check_*` naming convention."""
    import credlint.rules as builtin

    modules = []
    builtin_dir = Path(list(builtin.__path__)[0])
    for path in sorted(builtin_dir.glob("*.py")):
        if path.name.startswith("_"):
            continue
        modules.append(importlib.import_module(f"credlint.rules.{path.stem}"))
    for index, folder in enumerate(extra_dirs):
        folder = Path(folder)
        if not folder.is_dir():
            raise RuleError(f"{folder}: rules folder does not exist")
        for path in sorted(folder.glob("*.py")):
            if not path.name.startswith("_"):
                modules.append(_load_module(path, f"credlint_user_rules_{index}"))
    rules: List[Rule] = []
    seen: Dict[str, str] = {}
    for module in modules:
        for attr, func in sorted(vars(module).items()):
            if not attr.startswith("check_") or not callable(func):
                continue
            meta = getattr(func, "__credlint_rule__", None)
            origin = f"{module.__name__}.{attr}"
            if meta is None:
                raise RuleError(f"{origin}: a check_ function needs @rule(code, name) metadata")
            params = tuple(inspect.signature(func).parameters)
            unknown = [p for p in params if p not in FIXTURES]
            if unknown:
                raise RuleError(f"{origin}: unknown fixture(s) {', '.join(unknown)}; known: {', '.join(FIXTURES)}")
            for key in (meta["code"], meta["name"]):
                if key in seen:
                    raise RuleError(f"{origin}: {key} is already used by {seen[key]}")
                seen[key] = origin
            rules.append(Rule(fixtures=params, func=func, origin=origin, **meta))
    return sorted(rules, key=lambda r: r.code)


def run_rule(rule_: Rule, project) -> Iterator[Hit]:
    pools = [FIXTURES[name](project) for name in rule_.fixtures]
    for combo in itertools.product(*pools):
        result = rule_.func(*combo)
        if result is None:
            continue
        if isinstance(result, Hit):
            yield result
            continue
        for hit in result:
            if hit is not None:
                yield hit


def select_rules(rules: List[Rule], select: Sequence[str], ignore: Sequence[str]) -> List[Rule]:
    """Rules chosen by code, code prefix (`CL1`) or name; `ignore` wins over `select`."""

    def matches(r: Rule, selector: str) -> bool:
        selector = selector.strip()
        return selector == "ALL" or r.code.startswith(selector.upper()) or r.name == selector

    chosen = [r for r in rules if not select or any(matches(r, s) for s in select)]
    return [r for r in chosen if not any(matches(r, s) for s in ignore)]


def unknown_selectors(rules: List[Rule], selectors: Sequence[str]) -> List[str]:
    out = []
    for selector in selectors:
        s = selector.strip()
        if s == "ALL":
            continue
        if not any(r.code.startswith(s.upper()) or r.name == s for r in rules):
            out.append(selector)
    return out
