"""What a rule file writes: `@rule(code, name, ...)` on a plain `check_*` function, the `Hit`s it
yields, and its own examples (`Invalid` projects it must fire on, `Valid` ones it must not).

A rule module is any Python file in a rules folder (the built-in `rules/` package or a user's
`rules = [dirs]`). Each `check_*` function carries `@rule(code, name, ...)` metadata, its own
bad/good examples, and a docstring that is its documentation page. The engine calls it once
per instance of each fixture it names and collects what it yields. Rule files import from
this module only; the rest of the engine finds, chooses, runs and tests them.
"""
from __future__ import annotations

import inspect
import textwrap
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Pattern, Sequence, Tuple, Union

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
        """The example project's files, path -> text (dedented), as they are written and shown."""
        if isinstance(self.files, str):
            return {"flow.py": textwrap.dedent(self.files).lstrip("\n")}
        return {k: textwrap.dedent(v).lstrip("\n") for k, v in self.files.items()}


@dataclass
class Valid(Example):
    """A good example: a project the rule must not fire on."""


@dataclass
class Invalid(Example):
    """A bad example that may also say what the rule reports, as Fixit's `Invalid` does: the
    finding's `line` and `column` (1-based), its `path` in the example project and its `message`
    (the exact text, or a compiled regex that must match part of it). What is left out is not
    checked; an `Invalid` that states nothing, like a plain `Example`, only has to fire."""

    line: Optional[int] = None
    column: Optional[int] = None
    path: Optional[str] = None
    message: Union[str, Pattern[str], None] = None


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
    """A collected rule: its `@rule` metadata and examples, the function, the fixtures it asks for
    (its parameter names) and where it came from (`module.function`)."""

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
        """The rule's page as its docstring writes it."""
        return inspect.cleandoc(self.func.__doc__ or "")

    @property
    def summary(self) -> str:
        """The first line of the docstring: the rule table's "what it finds"."""
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

    def wrap(value, wrong: type, where: str) -> List[Example]:
        examples = [v if isinstance(v, Example) else Example(v) for v in value]
        for example in examples:
            if isinstance(example, wrong):
                raise RuleError(f"{code}: {wrong.__name__} example in {where} ({example.title or 'untitled'})")
        return examples

    def decorate(func: Callable) -> Callable:
        func.__credlint_rule__ = dict(code=code, name=name, severity=severity, bad=wrap(bad, Valid, "bad="),
                                      good=wrap(good, Invalid, "good="))
        return func

    return decorate
