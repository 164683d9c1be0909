"""libcst's parse without its node validation, the fifth of the parse a linter does not need.

Every node libcst builds checks its own fields in `CSTNode.__post_init__` (`_validate`: a guard
for trees built by hand, which may put a `Name` where an operator belongs). The parser's own
output is valid by construction, yet the checks run for each of its nodes too: on the bench's
Prefect-heavy tree they are about 17% of `libcst.parse_module`. So the hook is switched off for
the parse, and only for it, and put back however the parse ends.

The switch is process-wide: a thread that builds nodes by hand while another parses gets them
unchecked. In credlint only the fixers build nodes, and every fixed file is parsed again before a
fix is offered (`fixes.edit_for`), so an invalid node could not reach a user either way.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

import libcst as cst

_VALIDATE = cst.CSTNode.__dict__.get("__post_init__")
_lock = threading.Lock()
_parsing = 0  # parses under way (threads): the hook comes back when the last one ends


def _unchecked(self) -> None:
    """`__post_init__` while the parser builds the tree: nothing to check."""


def parse_module(source: str) -> cst.Module:
    """`libcst.parse_module(source)`, the same tree, without the per-node validation."""
    with unvalidated():
        return cst.parse_module(source)


@contextmanager
def unvalidated() -> Iterator[None]:
    """Nodes built inside are not validated: for the parser, and for a transform that rebuilds
    every node of a parsed tree (the fixers check the code it makes by parsing it again)."""
    global _parsing
    if _VALIDATE is None:  # a libcst that validates elsewhere: leave it be
        yield
        return
    with _lock:
        _parsing += 1
        cst.CSTNode.__post_init__ = _unchecked
    try:
        yield
    finally:
        with _lock:
            _parsing -= 1
            if not _parsing:
                cst.CSTNode.__post_init__ = _VALIDATE
