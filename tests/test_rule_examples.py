"""Every rule's own bad/good examples are executable documentation: run them all."""
from __future__ import annotations

import pytest

from credlint.engine import collect_rules

RULES = collect_rules()


def _cases():
    for r in RULES:
        for kind, examples in (("bad", r.bad), ("good", r.good)):
            for index, example in enumerate(examples):
                yield pytest.param(r, kind, example, id=f"{r.code}-{kind}-{index}")


@pytest.mark.parametrize("rule_, kind, example", list(_cases()))
def test_rule_example(project, api_check, rule_, kind, example):
    project.write(example.file_map, config=example.config or None)
    findings = api_check(project.root)
    own = [f for f in findings if f.code == rule_.code]
    if kind == "bad":
        assert own, f"{rule_.code} did not fire on its bad example; all findings: " \
                    f"{[(f.code, f.message) for f in findings]}"
    else:
        assert not own, f"{rule_.code} fired on its good example: {[f.message for f in own]}"


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
