"""Where things are in a file: a span (`Pos`), and an argument as passed (`Arg`: its redacted
value, its span and the spans of its parts). Every kind of per-file fact places what it records
with these, the 1.x facts (`facts.types`) and the 2.x/3.x block facts (`facts.blocks`) alike."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List

from credlint.facts.values import Value


@dataclass
class Pos:
    """1-based line and column span of a node in its file."""

    line: int = 0
    column: int = 0
    end_line: int = 0
    end_column: int = 0


@dataclass
class Arg:
    """One argument as passed: its folded value and where it sits (plus its parts' places)."""

    value: Value
    pos: Pos = field(default_factory=Pos)
    parts: List[Pos] = field(default_factory=list)  # list elements / dict values, in order
    keys: List[Pos] = field(default_factory=list)  # dict keys, in order
