"""Fixtures, pytest-style: each name a rule's parameter may have, and the instances of the project
model it stands for; `run_rule` calls a rule once per combination of them."""
from __future__ import annotations

import itertools
from typing import Callable, Dict, Iterator

from credlint.engine.rule import Hit, Rule


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


def run_rule(rule_: Rule, project) -> Iterator[Hit]:
    """The rule's hits on the project: it is called once per combination of its fixtures'
    instances, and may return a Hit, None or an iterable of them."""
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
