"""A rule's examples state what they expect (Fixit's `Invalid(code, line=, message=)`), the engine
says what differed, and `credlint rules --test DIR` runs the examples of a user's own rules folder."""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from credlint.engine.examples import example_problems
from credlint.engine.rule import Example, Invalid, Valid, rule
from credlint.errors import RuleError

RULE_HEAD = '''\
import re

from credlint.engine import Hit, Invalid, Valid, rule

DAY = """
    from prefect import Parameter

    day = Parameter("day")
    """
WEEK = """
    from prefect import Parameter

    week = Parameter("week")
    """

'''
RULE_BODY = '''
def {function}(parameter):
    """Parameters named day."""
    module, fact = parameter
    if fact.name == "day":
        yield Hit(path=module.path, pos=fact.pos, message="a parameter named day")
'''


def _rule(code: str, name: str, bad: str, good: str, function: str = "check_day") -> str:
    return f'@rule("{code}", "{name}", "warning", bad=[{bad}], good=[{good}])' + RULE_BODY.format(function=function)


def _folder(tmp_path, *rules: str, name: str = "acme.py"):
    folder = tmp_path / "lint_rules"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(RULE_HEAD + "\n\n".join(rules), encoding="utf-8")
    return folder


def _finding(code="ACME001", line=3, column=7, message="a parameter named day", path="flow.py"):
    return SimpleNamespace(code=code, path=path, project_path=path, line=line, column=column, message=message)


# ------------------------------------------------------------------------------ the engine's comparison


def _day_rule(bad=(), good=()):
    @rule("ACME001", "acme-day", "warning", bad=bad, good=good)
    def check_day(parameter):
        """Parameters named day."""

    meta = check_day.__credlint_rule__
    return SimpleNamespace(**meta)


@pytest.mark.parametrize("example", [
    Example("x"),
    Invalid("x"),
    Invalid("x", line=3),
    Invalid("x", line=3, column=7, path="flow.py", message="a parameter named day"),
    Invalid("x", message=re.compile(r"named d.y$")),
])
def test_a_bad_example_passes_when_a_finding_matches_what_it_states(example):
    assert example_problems(_day_rule(), "bad", example, [_finding(code="CL999"), _finding()]) == []


@pytest.mark.parametrize("example, expected", [
    (Invalid("x", line=4), ["line: expected 4, got 3"]),
    (Invalid("x", line=3, column=1), ["column: expected 1, got 7"]),
    (Invalid("x", path="deploy/.env"), ["path: expected deploy/.env, got flow.py"]),
    (Invalid("x", message="a parameter named week"),
     ["message: expected 'a parameter named week', got 'a parameter named day'"]),
    (Invalid("x", message=re.compile("week")), ["message: expected a match of 'week', got 'a parameter named day'"]),
])
def test_a_bad_example_says_what_differed(example, expected):
    assert example_problems(_day_rule(), "bad", example, [_finding()]) == expected


def test_the_closest_finding_is_compared_and_all_are_listed():
    findings = [_finding(line=3, message="one"), _finding(line=9, message="two")]
    problems = example_problems(_day_rule(), "bad", Invalid("x", line=9, message="three"), findings)
    assert problems == ["message: expected 'three', got 'two'",
                        "its 2 findings: flow.py:3:7 'one'; flow.py:9:7 'two'"]


def test_a_bad_example_that_does_not_fire_and_a_good_one_that_does():
    assert example_problems(_day_rule(), "bad", Invalid("x", line=3), [_finding(code="CL101", message="m")]) == \
        ["did not fire on a bad example (all findings: CL101 flow.py:3:7 'm')"]
    assert example_problems(_day_rule(), "good", Valid("x"), [_finding()]) == \
        ["fired on a good example: flow.py:3:7 'a parameter named day'"]
    assert example_problems(_day_rule(), "good", Example("x"), []) == []


def test_an_example_in_the_wrong_list_is_a_rule_error():
    with pytest.raises(RuleError, match=r"ACME001: Valid example in bad= \(untitled\)"):
        _day_rule(bad=[Valid("x")])
    with pytest.raises(RuleError, match=r"ACME001: Invalid example in good= \(untitled\)"):
        _day_rule(good=[Invalid("x", line=1)])


def test_plain_strings_and_examples_keep_working():
    meta = _day_rule(bad=["x"], good=[Example("y")])
    assert type(meta.bad[0]) is Example and meta.bad[0].file_map == {"flow.py": "x"}
    assert type(meta.good[0]) is Example


# ------------------------------------------------------------------------------ credlint rules --test DIR


def test_passing_examples_exit_0_one_line_each(tmp_path, cli):
    folder = _folder(tmp_path, _rule(
        "ACME001", "acme-day",
        bad='Invalid(DAY, title="a day parameter", line=3, column=7, message="a parameter named day"), '
            'Invalid(DAY, message=re.compile("named d.y"))',
        good="Valid(WEEK)"))
    code, out, err = cli("rules", "--test", str(folder), cwd=tmp_path)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "ok   ACME001 acme-day: bad example 1 (a day parameter)",
        "ok   ACME001 acme-day: bad example 2",
        "ok   ACME001 acme-day: good example 1",
        "3 examples of 1 rule: 3 passed, 0 failed",
    ]


def test_failing_examples_exit_1_and_say_what_differed(tmp_path, cli):
    _folder(  # given as a path relative to the working folder
        tmp_path,
        _rule("ACME001", "acme-day", bad='Invalid(DAY, title="wrong line", line=4)', good="Valid(WEEK)"),
        _rule("ACME002", "acme-day-message", bad='Invalid(DAY, message="a day")', good="Valid(WEEK)",
              function="check_day_message"),
        _rule("ACME003", "acme-day-valid", bad="Invalid(DAY)", good='Valid(DAY, title="fires")',
              function="check_day_valid"))
    code, out, err = cli("rules", "--test", "lint_rules", cwd=tmp_path)
    assert (code, err) == (1, "")
    assert out.splitlines() == [
        "FAIL ACME001 acme-day: bad example 1 (wrong line): line: expected 4, got 3",
        "ok   ACME001 acme-day: good example 1",
        "FAIL ACME002 acme-day-message: bad example 1: message: expected 'a day', got 'a parameter named day'",
        "ok   ACME002 acme-day-message: good example 1",
        "ok   ACME003 acme-day-valid: bad example 1",
        "FAIL ACME003 acme-day-valid: good example 1 (fires): fired on a good example: flow.py:3:7 "
        "'a parameter named day'",
        "6 examples of 3 rules: 3 passed, 3 failed",
    ]


def test_a_rule_file_written_before_invalid_and_valid_existed_still_runs(tmp_path, cli):
    """`from credlint.engine import Example, Hit, rule` is the documented API: rule files written
    for it must keep loading however the engine's modules move."""
    day = "from prefect import Parameter\n\nday = Parameter('day')\n"
    folder = tmp_path / "lint_rules"
    folder.mkdir()
    (folder / "acme.py").write_text(
        "from credlint.engine import Example, Hit, rule\n\n"
        f"DAY = {day!r}\nWEEK = {day.replace('day', 'week')!r}\n\n"
        '@rule("ACME001", "acme-day", "warning", bad=[Example(DAY)], good=[WEEK])' + RULE_BODY.format(function="check_day"),
        encoding="utf-8")
    code, out, err = cli("rules", "--test", str(folder), cwd=tmp_path)
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "2 examples of 1 rule: 2 passed, 0 failed"
    (tmp_path / "flow.py").write_text(day, encoding="utf-8")
    (tmp_path / "credlint.toml").write_text('rules = ["lint_rules"]\n', encoding="utf-8")
    code, out, _ = cli("check", "--format", "concise", "flow.py", cwd=tmp_path)
    assert code == 0 and "flow.py:3:7: ACME001 acme-day a parameter named day" in out  # a warning


def test_a_rule_without_examples_fails(tmp_path, cli):
    folder = _folder(tmp_path, _rule("ACME001", "acme-day", bad="", good=""))
    code, out, _ = cli("rules", "--test", str(folder), cwd=tmp_path)
    assert code == 1
    assert out.splitlines()[0].startswith("FAIL ACME001 acme-day: no examples")


@pytest.mark.parametrize("text, expected", [
    ("import not_a_module_anywhere\n", "acme.py: ModuleNotFoundError: No module named 'not_a_module_anywhere'"),
    ("def check_x(:\n", "acme.py: SyntaxError"),
    ("def check_x(parameter):\n    pass\n", "a check_ function needs @rule(code, name) metadata"),
])
def test_a_rule_file_that_does_not_load_exits_2(tmp_path, cli, text, expected):
    folder = tmp_path / "lint_rules"
    folder.mkdir()
    (folder / "acme.py").write_text(text, encoding="utf-8")
    code, out, err = cli("rules", "--test", str(folder), cwd=tmp_path)
    assert (code, out) == (2, "")
    assert err.startswith("credlint: error: ") and expected in err


def test_a_folder_that_does_not_exist_or_holds_no_rules_exits_2(tmp_path, cli):
    code, out, err = cli("rules", "--test", "missing_rules", cwd=tmp_path)
    assert (code, out) == (2, "")
    assert err == "credlint: error: missing_rules: rules folder does not exist\n"
    (tmp_path / "empty_rules").mkdir()
    code, out, err = cli("rules", "--test", "empty_rules", cwd=tmp_path)
    assert (code, out) == (2, "")
    assert err.startswith("credlint: error: empty_rules: no rules here")


def test_the_example_project_gets_the_examples_own_configuration(tmp_path, cli):
    """An example's `config` is its project's credlint.toml, beside the folder's rules."""
    folder = _folder(tmp_path, _rule("ACME001", "acme-day", bad="Invalid(DAY, line=3)",
                                     good='Valid(DAY, config=\'ignore = ["ACME001"]\\n\')'))
    code, out, _ = cli("rules", "--test", str(folder), cwd=tmp_path)
    assert code == 0, out


def test_help_documents_the_test_option(cli, tmp_path):
    code, out, _ = cli("rules", "--help", cwd=tmp_path)
    assert code == 0
    assert "--test DIR" in out and "exit 0 when all pass, 1 when one fails, 2 when DIR" in " ".join(out.split())
