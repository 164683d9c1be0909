"""`pytest --credlint` (credlint/pytest_plugin.py), run as a user runs it: pytest in a subprocess on a
small project, loading the plugin through the installed pytest11 entry point."""
from __future__ import annotations

import subprocess
import sys
import textwrap

pytest_plugins = ["pytester"]

# SlackTask fetches SLACK_WEBHOOK_URL with Secret.get; with backend "server" nothing can provide it:
# CL101 missing-secret, an error, at line 4.
MISSING = """
    from prefect import Flow
    from prefect.tasks.notifications import SlackTask
    with Flow("notify") as flow:
        SlackTask(message="done")()
    """

# S3Download reads AWS_CREDENTIALS from context; nothing provides it: CL102, a warning.
FALLBACK = """
    from prefect import Flow
    from prefect.tasks.aws.s3 import S3Download
    with Flow("etl") as flow:
        S3Download(bucket="data")(key="k")
    """

CLEAN = """
    from prefect import Flow, task

    @task
    def say(x):
        print(x)

    with Flow("hello") as flow:
        say("hi")
    """

# A fake password (no placeholder word in it, or credlint would rightly not call it a secret).
VALUE = "Xk9-mQ7vPz2mW-r4T"
HARDCODED = f"""
    from prefect import Flow
    from prefect.tasks.snowflake import SnowflakeQuery

    query = SnowflakeQuery(account="a", user="u", password="{VALUE}", query="select 1")

    with Flow("load") as flow:
        query()
    """

A_TEST = """
    def test_ok():
        assert True
    """

SERVER = '[tool.credlint]\nbackend = "server"\n'


def write(pytester, files, pyproject=SERVER):
    """Write dedented files into the pytester project, with a pyproject.toml holding `pyproject`."""
    for rel, text in files.items():
        target = pytester.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    if pyproject is not None:
        (pytester.path / "pyproject.toml").write_text(pyproject, encoding="utf-8")


def run(pytester, *args):
    return pytester.runpytest_subprocess("-p", "no:randomly", *args)


def output(result) -> str:
    return "\n".join(result.outlines + result.errlines)


def collected(result):
    """Node ids printed by `--collect-only -q`."""
    return sorted(line for line in result.outlines if "::" in line)


# ----- collection ---------------------------------------------------------------------------
def test_one_item_per_file_the_clean_one_passes_the_bad_one_fails(pytester):
    write(pytester, {"flows/bad.py": MISSING, "flows/clean.py": CLEAN})
    listing = run(pytester, "--credlint", "--collect-only", "-q")
    assert collected(listing) == [".::credlint-project", "flows/bad.py::credlint", "flows/clean.py::credlint",
                                  "pyproject.toml::credlint"]
    listing.stdout.fnmatch_lines(["4 tests collected*"])

    result = run(pytester, "--credlint", "-v")
    result.assert_outcomes(passed=3, failed=1)
    assert result.ret == 1
    result.stdout.fnmatch_lines([
        "*collected 4 items",
        "*flows/bad.py::credlint FAILED*",
        "*flows/clean.py::credlint PASSED*",
        "*.::credlint-project PASSED*",  # every file with a finding has its own item
    ])
    # The failure: path:line:col: CODE name message, the source line, the fix.
    result.stdout.fnmatch_lines([
        "flows/bad.py:4:5: CL101 missing-secret SlackTask in flow 'notify' fetches secret 'SLACK_WEBHOOK_URL'*",
        "  4 |     SlackTask(message=\"done\")()",
        "*fix: *",
    ])
    result.stdout.fnmatch_lines(["FAILED flows/bad.py::credlint - flows/bad.py:4:5: CL101*"])
    assert "Traceback" not in output(result)


def test_deployment_files_are_items_too(pytester):
    write(pytester, {".env": "PREFECT__CONTEXT__SECRETS__DB_PASSWORD=Xk9mQ7vPz2mWr4T\n", "clean.py": CLEAN})
    result = run(pytester, "--credlint", "-v")
    result.stdout.fnmatch_lines(["*.env::credlint FAILED*", ".env:1:1: CL203 hardcoded-secret-in-config *"])
    result.assert_outcomes(passed=3, failed=1)
    assert "Xk9mQ7vPz2mWr4T" not in output(result)


def test_files_the_credlint_config_excludes_are_not_collected(pytester):
    write(pytester, {"flows/clean.py": CLEAN, "legacy/bad.py": MISSING, "vendor/bad.py": MISSING},
          pyproject=SERVER + 'exclude = ["legacy/"]\nextend-exclude = ["vendor/"]\n')
    result = run(pytester, "--credlint", "--collect-only", "-q")
    assert collected(result) == [".::credlint-project", "flows/clean.py::credlint", "pyproject.toml::credlint"]
    run(pytester, "--credlint").assert_outcomes(passed=3)  # nor checked by the project item


# ----- without --credlint, and selection --------------------------------------------------------
def test_without_the_option_the_plugin_does_nothing(pytester):
    write(pytester, {"flows/bad.py": MISSING, "test_app.py": A_TEST})
    result = run(pytester, "-v")
    result.stdout.fnmatch_lines(["plugins:*credlint*"])  # the entry point is loaded ...
    result.assert_outcomes(passed=1)  # ... and collects nothing
    assert "::credlint" not in output(result)
    assert "CL101" not in output(result)
    assert "= credlint =" not in output(result).replace("=" * 3, "=")
    assert collected(run(pytester, "--collect-only", "-q")) == ["test_app.py::test_ok"]


def test_the_marker_selects_and_deselects_credlint_items(pytester):
    write(pytester, {"flows/bad.py": MISSING, "test_app.py": A_TEST})
    everything = run(pytester, "--credlint", "--collect-only", "-q")
    assert collected(everything) == [".::credlint-project", "flows/bad.py::credlint", "pyproject.toml::credlint",
                                     "test_app.py::credlint", "test_app.py::test_ok"]

    without = run(pytester, "--credlint", "-m", "not credlint")
    without.assert_outcomes(passed=1, deselected=4)
    assert without.ret == 0
    assert "CL101" not in output(without)

    only = run(pytester, "--credlint", "-m", "credlint")
    only.assert_outcomes(passed=3, failed=1, deselected=1)
    only.stdout.fnmatch_lines(["flows/bad.py:4:5: CL101 *"])


def test_k_credlint_without_the_cache_provider(pytester):
    write(pytester, {"flows/bad.py": MISSING, "flows/clean.py": CLEAN, "test_app.py": A_TEST})
    result = run(pytester, "--credlint", "-k", "credlint", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4, failed=1, deselected=1)
    result.stdout.fnmatch_lines(["flows/bad.py:4:5: CL101 *"])
    assert not (pytester.path / ".pytest_cache").exists()


# ----- configuration ------------------------------------------------------------------------
def test_the_project_configuration_is_honoured(pytester):
    write(pytester, {"flows/bad.py": MISSING}, pyproject=SERVER + 'ignore = ["CL101"]\n')
    result = run(pytester, "--credlint")
    result.assert_outcomes(passed=3)
    assert result.ret == 0
    assert "CL101" not in output(result)


def test_findings_below_fail_on_pass_and_are_listed_in_the_summary(pytester):
    write(pytester, {"flows/etl.py": FALLBACK})
    result = run(pytester, "--credlint")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines([
        "*= credlint =*",
        '1 finding below fail-on = "error" (not failing):',
        "  flows/etl.py:4:5: CL102 credentials-fallback (warning) S3Download*",
    ])


def test_fail_on_warning_from_the_configuration(pytester):
    write(pytester, {"flows/etl.py": FALLBACK}, pyproject=SERVER + 'fail-on = "warning"\n')
    result = run(pytester, "--credlint")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["flows/etl.py:4:5: CL102 credentials-fallback *"])


def test_a_bad_configuration_fails_the_items_with_one_line(pytester):
    write(pytester, {"flows/clean.py": CLEAN}, pyproject="[tool.credlint]\nnope = 1\n")
    result = run(pytester, "--credlint")
    assert result.ret == 1, output(result)  # failed tests, not an internal or usage error
    result.assert_outcomes(failed=3)  # the project item too
    result.stdout.fnmatch_lines(["credlint configuration error: pyproject.toml:2: nope: unknown key*"])
    text = output(result)
    assert "Traceback" not in text and "INTERNALERROR" not in text


def test_each_project_root_gets_its_own_configuration(pytester):
    write(pytester, {"a/flows/bad.py": MISSING, "b/flows/bad.py": MISSING}, pyproject=None)
    (pytester.path / "a" / "pyproject.toml").write_text(SERVER, encoding="utf-8")
    (pytester.path / "b" / "credlint.toml").write_text('backend = "server"\nignore = ["CL101"]\n', encoding="utf-8")
    pytester.makeini("[pytest]\n")  # pytest's rootdir above both projects (not a credlint root)
    result = run(pytester, "--credlint", "-v", "a", "b")
    result.stdout.fnmatch_lines(["*a/flows/bad.py::credlint FAILED*", "*b/flows/bad.py::credlint PASSED*"])


# ----- one run per session ------------------------------------------------------------------
COUNTING_CONFTEST = """
    import credlint.api

    calls = []
    _check = credlint.api.check

    def counting(options, *args, **kwargs):
        calls.append(sorted(options.paths))
        return _check(options, *args, **kwargs)

    credlint.api.check = counting

    def pytest_unconfigure(config):
        with open("check-calls.txt", "w") as out:
            out.write(repr(len(calls)))
    """


def test_credlint_runs_once_per_session_not_once_per_file(pytester):
    write(pytester, {"conftest.py": COUNTING_CONFTEST, "flows/bad.py": MISSING, "flows/clean.py": CLEAN,
                     "flows/etl.py": FALLBACK}, pyproject=SERVER + 'exclude = ["conftest.py"]\n')
    result = run(pytester, "--credlint")
    result.assert_outcomes(passed=4, failed=1)
    assert (pytester.path / "check-calls.txt").read_text() == "1"


def test_once_per_project_root(pytester):
    write(pytester, {"conftest.py": COUNTING_CONFTEST, "a/bad.py": MISSING, "a/clean.py": CLEAN,
                     "b/bad.py": MISSING}, pyproject=None)
    pytester.makeini("[pytest]\n")  # pytest's rootdir (and the conftest) above both projects
    for sub in ("a", "b"):
        (pytester.path / sub / "pyproject.toml").write_text(SERVER, encoding="utf-8")
    result = run(pytester, "--credlint", "a", "b")
    result.assert_outcomes(passed=5, failed=2)  # a project item each
    assert (pytester.path / "check-calls.txt").read_text() == "2"


# ----- files pytest does not collect: the project item ------------------------------------------
# pytest never visits dot-folders (norecursedirs), so a workflow under .github/ has no item.
CI_TOKEN = f"""
    on: push
    jobs:
      register:
        runs-on: ubuntu-latest
        env:
          PREFECT__CONTEXT__SECRETS__DB_PASSWORD: {VALUE}
        steps:
          - run: prefect register --project p -p flows/
    """


def test_a_secret_in_a_file_pytest_never_visits_fails_the_project_item(pytester):
    write(pytester, {".github/workflows/ci.yml": CI_TOKEN, "flows/clean.py": CLEAN})
    listing = run(pytester, "--credlint", "--collect-only", "-q")
    assert collected(listing) == [".::credlint-project", "flows/clean.py::credlint", "pyproject.toml::credlint"]

    result = run(pytester, "--credlint", "-v")
    result.assert_outcomes(passed=2, failed=1)
    assert result.ret == 1
    result.stdout.fnmatch_lines([
        "*flows/clean.py::credlint PASSED*",
        "*.::credlint-project FAILED*",
        ".github/workflows/ci.yml:6:7: CL203 hardcoded-secret-in-config *",
        "  6 |       PREFECT__CONTEXT__SECRETS__DB_PASSWORD: ********",
        "These files have no credlint item in this session (pytest did not collect them)*",
        "FAILED .::credlint-project - .github/workflows/ci.yml:6:7: CL203*",
    ])
    assert VALUE not in output(result)


def test_the_project_item_is_selected_by_the_marker_and_by_name(pytester):
    write(pytester, {".github/workflows/ci.yml": CI_TOKEN, "flows/clean.py": CLEAN, "test_app.py": A_TEST})
    only = run(pytester, "--credlint", "-m", "credlint")
    only.assert_outcomes(passed=3, failed=1, deselected=1)
    only.stdout.fnmatch_lines(["FAILED .::credlint-project - .github/workflows/ci.yml:6:7: CL203*"])

    alone = run(pytester, "--credlint", "-k", "credlint-project")
    alone.assert_outcomes(failed=1, deselected=4)  # checks the whole project by itself

    without = run(pytester, "--credlint", "-m", "not credlint")
    without.assert_outcomes(passed=1, deselected=4)
    assert without.ret == 0 and "CL203" not in output(without)


def test_findings_in_ignored_folders_fail_the_project_item(pytester):
    write(pytester, {"flows/bad.py": MISSING, "flows/clean.py": CLEAN})
    result = run(pytester, "--credlint", "--ignore=flows")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["FAILED .::credlint-project - flows/bad.py:4:5: CL101 missing-secret*"])


def test_findings_below_fail_on_in_uncollected_files_are_listed_not_failing(pytester):
    write(pytester, {"flows/etl.py": FALLBACK})
    result = run(pytester, "--credlint", "--ignore=flows")
    result.assert_outcomes(passed=2)
    assert result.ret == 0
    result.stdout.fnmatch_lines([
        "*= credlint =*",
        '1 finding below fail-on = "error" (not failing):',
        "  flows/etl.py:4:5: CL102 credentials-fallback (warning) S3Download*",
    ])


def test_deselected_files_fail_nothing_and_are_listed(pytester):
    write(pytester, {"flows/bad.py": MISSING, "flows/clean.py": CLEAN})
    result = run(pytester, "--credlint", "-k", "not bad")
    result.assert_outcomes(passed=3, deselected=1)  # the project item does not take over bad.py
    assert result.ret == 0
    result.stdout.fnmatch_lines([
        "1 finding in files whose credlint item was deselected (not failing):",
        "  flows/bad.py:4:5: CL101 missing-secret (error) *",
    ])


def test_without_the_project_item_uncollected_findings_are_listed_not_lost(pytester):
    # The .env sets a context secret, so credlint re-checks every flow; flows/ is --ignore'd.
    write(pytester, {".env": "PREFECT__CONTEXT__SECRETS__FOO=$FOO\n", "flows/bad.py": MISSING})
    result = run(pytester, "--credlint", "--ignore=flows", "-k", "not credlint-project")
    result.assert_outcomes(passed=2, deselected=1)
    assert result.ret == 0
    result.stdout.fnmatch_lines([
        "*= credlint =*",
        "1 finding in files with no credlint item in this session (not failing):",
        "  flows/bad.py:4:5: CL101 missing-secret (error) *",
    ])


def test_each_project_root_has_its_project_item(pytester):
    write(pytester, {"a/flows/clean.py": CLEAN, "b/flows/clean.py": CLEAN,
                     "b/.github/workflows/ci.yml": CI_TOKEN}, pyproject=None)
    pytester.makeini("[pytest]\n")  # pytest's rootdir above both projects
    for sub in ("a", "b"):
        (pytester.path / sub / "pyproject.toml").write_text(SERVER, encoding="utf-8")
    result = run(pytester, "--credlint", "-v", "a", "b")
    result.stdout.fnmatch_lines(["*a::credlint-project PASSED*", "*b::credlint-project FAILED*",
                                 "b/.github/workflows/ci.yml:6:7: CL203 *"])
    result.assert_outcomes(passed=5, failed=1)


# A hook wrapper that, like pytest-lsp 1.0.1's, expects every item to have `funcargs`.
FUNCARGS_WRAPPER = """
    import pytest

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(item):
        if not hasattr(item, "funcargs"):
            return
        return (yield)
    """


def test_plugins_that_read_funcargs_do_not_break_the_items(pytester):
    write(pytester, {"conftest.py": FUNCARGS_WRAPPER, "flows/clean.py": CLEAN},
          pyproject=SERVER + 'exclude = ["conftest.py"]\n')
    result = run(pytester, "--credlint")
    result.assert_outcomes(passed=3)


# ----- secrets ------------------------------------------------------------------------------
def test_a_hard_coded_secret_is_reported_and_never_printed(pytester):
    write(pytester, {"flows/load.py": HARDCODED, "flows/clean.py": CLEAN})
    result = run(pytester, "--credlint", "-vv", "-l", "--tb=long", "-rA", "--junitxml=report.xml")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines([
        "flows/load.py:4:56: CL201 hardcoded-credential-argument SnowflakeQuery(password=)*",
        '  4 | query = SnowflakeQuery(*password="********"*',
    ])
    assert VALUE not in output(result)
    report = (pytester.path / "report.xml").read_text(encoding="utf-8")
    assert "CL201" in report and VALUE not in report


# ----- import cost --------------------------------------------------------------------------
def test_the_plugin_module_imports_nothing_heavy():
    code = ("import sys, credlint.tools.pytest_plugin\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('libcst', 'rich', 'yaml')"
            " or m.startswith('credlint.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['credlint.tools', 'credlint.tools.pytest_plugin']"  # the package: a docstring


def test_failures_and_the_summary_print_user_strings_escaped(pytester):
    """A secret name from the user's code with a newline, ESC and a C1 CSI in it must not forge
    a line or drive the terminal in pytest's output (failure text and terminal summary)."""
    hostile = 'X\\n  flows/fake.py:1:1: CL201 forged\\x1b[2J\\x9b31m'
    write(pytester, {"flows/bad.py": f"""
        from prefect import Flow
        from prefect.tasks.notifications import SlackTask
        with Flow("notify") as flow:
            SlackTask(message="done", webhook_secret="{hostile}")()
        """, "flows/warn.py": f"""
        from prefect import Parameter
        api_token = Parameter("{hostile}_token")
        """}, pyproject=SERVER + 'fail-on = "error"\n')
    result = run(pytester, "--credlint", "-rA")
    text = "\n".join(result.outlines + result.errlines)
    assert "CL101 missing-secret" in text, text
    assert "\x1b[2J" not in text and "\x9b" not in text, text
    assert not any(line.lstrip().startswith("flows/fake.py") for line in result.outlines), text
    assert "\\x1b[2J" in text  # shown, as a visible escape
