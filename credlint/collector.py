"""When Python's cycle collector runs during a check.

A check allocates millions of objects that live until it ends (a parse's nodes, the cache's
facts, the project model) and makes almost no reference cycles. The collector, left on, walks
those objects over and over to find nothing: about a tenth of a parse, and a fifth of a warm run
that re-checks one changed flow. So a check runs with it paused, and each analysed file's few
cycles (libcst's `ast.literal_eval` leaves some) are collected as soon as the file is done, which
costs a look at that file's new objects only: memory stays what it was with the collector on.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def paused() -> Iterator[None]:
    """The automatic collector off for the duration and back on after, whatever happens; a
    caller's own pause is the caller's to end."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@contextmanager
def one_file() -> Iterator[None]:
    """Around one file's analysis: the collector paused, and, if a caller keeps it paused after,
    the cycles the file left collected at once (a pass over the youngest objects only)."""
    with paused():
        yield
    if not gc.isenabled():
        gc.collect(0)
