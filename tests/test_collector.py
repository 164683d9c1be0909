"""The cycle collector during a check (`credlint.collector`): paused while credlint works, back
on after, and each analysed file's cycles collected as soon as it is done."""
from __future__ import annotations

import gc
import weakref

import pytest

from credlint import collector


class _Node:
    pass


def _cycle() -> weakref.ref:
    """An object kept alive only by a reference cycle; a weak reference to it."""
    node = _Node()
    node.me = node
    return weakref.ref(node)


def test_a_check_runs_with_the_collector_paused_and_gives_it_back(project, monkeypatch):
    from credlint.api import Options, check
    import credlint.pipeline as pipeline

    root = project.write({"flow.py": 'from prefect import Flow\n\nwith Flow("f") as flow:\n    pass\n'})
    seen = []
    real = pipeline.run_rules

    def watched(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "run_rules", watched)
    assert gc.isenabled()
    check(Options(paths=[str(root)], cache=False, server=False))
    assert seen == [False] and gc.isenabled()

    def failing(*args, **kwargs):
        raise RuntimeError("a rule failed")

    monkeypatch.setattr(pipeline, "run_rules", failing)
    with pytest.raises(RuntimeError):
        check(Options(paths=[str(root)], cache=False, server=False))
    assert gc.isenabled()


def test_a_file_s_cycles_are_collected_when_it_is_done_even_while_paused():
    with collector.paused():
        with collector.one_file():
            left = _cycle()
            assert left() is not None and not gc.isenabled()
        assert left() is None  # collected on the way out, though the collector is still paused
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_pause_inside_a_pause_leaves_the_outer_one_to_its_owner():
    with collector.paused():
        with collector.paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector.paused():
            pass
        assert not gc.isenabled()  # paused by someone else before: still theirs
    finally:
        gc.enable()
