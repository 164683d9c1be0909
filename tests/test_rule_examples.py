"""Every rule's own bad/good examples are executable documentation: run them all."""
from __future__ import annotations

import pytest

from credlint.engine.collect import collect_rules
from credlint.engine.examples import example_problems, examples_of
from credlint.engine.rule import Invalid

RULES = collect_rules()


def _cases():
    for r in RULES:
        for kind, index, example in examples_of(r):
            yield pytest.param(r, kind, index, example, id=f"{r.code}-{kind}-{index}")


@pytest.mark.parametrize("rule_, kind, index, example", list(_cases()))
def test_rule_example(project, api_check, rule_, kind, index, example):
    """The rule fires on its bad example — at the line and column, in the file and with the
    message the example states — and not on its good one."""
    project.write(example.file_map, config=example.config or None)
    problems = example_problems(rule_, kind, example, api_check(project.root))
    title = f" ({example.title})" if example.title else ""
    assert not problems, f"{rule_.code} {rule_.name}, {kind} example {index}{title}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("rule_", RULES, ids=[r.code for r in RULES])
def test_bad_examples_state_where_and_what(rule_):
    """Every built-in bad example says the line, column and message its finding has, so a change
    that moves a finding or rewords it shows in the examples (and in review)."""
    for index, example in enumerate(rule_.bad):
        assert isinstance(example, Invalid) and None not in (example.line, example.column, example.message), \
            f"{rule_.code} bad example {index}: give it Invalid(..., line=, column=, message=)"


@pytest.mark.parametrize("rule_", RULES, ids=[r.code for r in RULES])
def test_rule_has_examples_and_documentation(rule_):
    assert rule_.bad, f"{rule_.code} has no bad example"
    assert rule_.good, f"{rule_.code} has no good example"
    sections = rule_.sections()
    for title in ("What it does", "Why is this bad?", "How to fix"):
        assert sections.get(title, "").strip(), f"{rule_.code} docstring lacks a '## {title}' section"
    assert sections.get("summary", "").strip(), f"{rule_.code} has no one-line summary"


def test_rule_codes_and_names_are_unique_and_well_formed():
    codes = [r.code for r in RULES]
    names = [r.name for r in RULES]
    assert len(set(codes)) == len(codes)
    assert len(set(names)) == len(names)
    for r in RULES:
        assert len(r.code) == 5 and r.code.startswith("CL") and r.code[2:].isdigit(), r.code
        assert r.name == r.name.lower() and " " not in r.name, r.name
        assert r.severity in ("info", "warning", "error")


def test_contract_rule_names_are_kept():
    """DESIGN.md section 3: codes and names never change meaning."""
    contract = {
        "CL000": "parse-error", "CL101": "missing-secret", "CL102": "credentials-fallback",
        "CL103": "ineffective-credential-argument", "CL104": "unused-secret", "CL105": "malformed-secret",
        "CL106": "secret-variable-typo", "CL107": "secret-not-forwarded", "CL201": "hardcoded-credential-argument",
        "CL202": "hardcoded-context-secret", "CL203": "hardcoded-secret-in-config", "CL204": "secret-pattern",
        "CL301": "secret-at-build-time", "CL302": "secret-parameter", "CL303": "secret-in-flow-metadata",
    }
    for r in RULES:
        if r.code in contract:
            assert r.name == contract[r.code], f"{r.code} is named {r.name!r}, the contract says {contract[r.code]!r}"
