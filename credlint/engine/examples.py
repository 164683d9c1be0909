"""A rule's own examples, checked: the rule must fire on each bad example — where, and with the
message, the example states, when it states them — and never on a good one. Running an example
project is the caller's part (the test suite, `credlint rules --test`); this says what differed."""
from __future__ import annotations

from typing import Iterator, List, Sequence, Tuple

from credlint.engine.rule import Example, Invalid, Rule


def examples_of(rule_: Rule) -> Iterator[Tuple[str, int, Example]]:
    """("bad" or "good", index, example) for each of the rule's examples, bad ones first: one
    order and one numbering for the suite's test ids and `credlint rules --test`."""
    for kind, examples in (("bad", rule_.bad), ("good", rule_.good)):
        for index, example in enumerate(examples):
            yield kind, index, example


def example_problems(rule_: Rule, kind: str, example: Example, findings: Sequence) -> List[str]:
    """What differed between a run on the example project and what the example expects (empty:
    it passed). `findings` are all the run's findings (code, project_path, line, column, message);
    of a bad example's findings by this rule, one must match everything an `Invalid` states, and
    the differences shown are those of the closest one."""
    own = [f for f in findings if f.code == rule_.code]
    if kind == "good":
        return [f"fired on a good example: {_shown(f)}" for f in own]
    if not own:
        others = "; ".join(f"{f.code} {_shown(f)}" for f in findings) or "none"
        return [f"did not fire on a bad example (all findings: {others})"]
    if not isinstance(example, Invalid):
        return []
    closest = min((_differences(example, f) for f in own), key=len)
    if closest and len(own) > 1:
        closest.append(f"its {len(own)} findings: " + "; ".join(_shown(f) for f in own))
    return closest


def _differences(example: Invalid, finding) -> List[str]:
    out = []
    path = finding.project_path or finding.path
    if example.path is not None and path != example.path:
        out.append(f"path: expected {example.path}, got {path}")
    if example.line is not None and finding.line != example.line:
        out.append(f"line: expected {example.line}, got {finding.line}")
    if example.column is not None and finding.column != example.column:
        out.append(f"column: expected {example.column}, got {finding.column}")
    expected = example.message
    if isinstance(expected, str) and finding.message != expected:
        out.append(f"message: expected {expected!r}, got {finding.message!r}")
    elif expected is not None and not isinstance(expected, str) and not expected.search(finding.message):
        out.append(f"message: expected a match of {expected.pattern!r}, got {finding.message!r}")
    return out


def _shown(finding) -> str:
    return f"{finding.project_path or finding.path}:{finding.line}:{finding.column} {finding.message!r}"
