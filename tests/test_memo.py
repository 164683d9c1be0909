"""The run memo: a check whose inputs have not changed prints the last report without analysing.

Every test compares with a run that uses no cache at all, so a stale or wrongly reused report
shows up as different findings.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import pytest

from conftest import _env, run_cli

FLOW = '''
from prefect import Flow
from prefect.tasks.notifications.slack_task import SlackTask

with Flow("etl") as flow:
    SlackTask()(message="loaded")
    SlackTask()(message="again")  # credlint: ignore[CL101]
'''
HARDCODED = '''
from prefect.tasks.snowflake import SnowflakeQuery

query = SnowflakeQuery(account="acme", user="loader", password="Zq8vK2-rT9pLw4Xb-77xQ")
'''
AGENT = '''
prefect agent local start --label prod
'''
PROVIDING_AGENT = '''
prefect agent local start -e PREFECT__CONTEXT__SECRETS__SLACK_WEBHOOK_URL="$HOOK"
'''
CUSTOM_RULE = '''
from credlint.engine import Hit, rule


@rule("CL901", "every-flow-noted", "warning")
def check_every_flow(flow):
    """Notes every flow (a project's own rule).

    ## What it does
    Reports each flow.
    """
    yield Hit(flow.module.path, flow.fact.pos, "MESSAGE")
'''


def _age(root, seconds=60):
    """Back-date every file: the memo trusts sizes and mtimes only once they are 2 s old."""
    when = time.time() - seconds
    for path in root.rglob("*"):
        if path.is_file() and ".credlint_cache" not in path.parts:
            os.utime(path, (when, when))


def _api(root, monkeypatch, *paths, **options):
    from credlint.prefect import catalogue
    from credlint.api import Options, check

    monkeypatch.setattr(catalogue, "_CACHED", None)  # as a new process would start
    monkeypatch.chdir(root)
    run = check(Options(paths=list(paths) or ["."], **options))
    return run, sorted((f.code, f.path, f.line, f.message) for f in run.report.findings)


def _fresh(root, monkeypatch, *paths, **options):
    return _api(root, monkeypatch, *paths, cache=False, **options)[1]


def _reports(root):
    return sorted((root / ".credlint_cache").glob("run-*.json"))


@pytest.fixture
def flows(project):
    project.write({"flows/etl.py": FLOW, "flows/db.py": HARDCODED, "deploy/agent.sh": AGENT})
    _age(project.root)
    return project


def test_a_second_run_reuses_the_report(flows, monkeypatch):
    first, found = _api(flows.root, monkeypatch)
    assert "reused" not in first.stats and first.stats["analysed"] == 3
    assert len(_reports(flows.root)) == 1
    second, again = _api(flows.root, monkeypatch)
    assert second.stats["reused"] == 1 and second.stats["analysed"] == 0
    assert again == found == _fresh(flows.root, monkeypatch)
    assert {"CL101", "CL201"} <= {code for code, *_ in found}
    assert second.report.suppressed == first.report.suppressed == 1
    assert second.report.suppressed_findings[0].suppression == first.report.suppressed_findings[0].suppression


@pytest.mark.parametrize("fmt", ["json", "sarif", "concise", "github", "json-lines", "full"])
def test_a_reused_report_prints_exactly_what_a_fresh_one_does(flows, fmt):
    args = ["check", "--format", fmt, "--exit-zero", "."]
    fresh = run_cli(*args, "--no-cache", cwd=flows.root)
    run_cli(*args, cwd=flows.root)  # keeps the report
    assert _reports(flows.root)
    reused = run_cli(*args, cwd=flows.root)
    if fmt == "full":  # the summary line says how long the run took
        fresh, reused = ([re.sub(r"\(\d+\.\d+s\)", "(time)", part) if isinstance(part, str) else part
                          for part in run] for run in (fresh, reused))
    assert reused == fresh
    assert "Zq8vK2-rT9pLw4Xb-77xQ" not in reused[1] + reused[2]
    if fmt == "sarif":  # the rules' metadata is collected for it, although nothing was analysed
        rules = json.loads(reused[1])["runs"][0]["tool"]["driver"]["rules"]
        assert {"CL101", "CL201"} <= {r["id"] for r in rules}


def _edit_flow(project):
    project.write({"flows/etl.py": FLOW.replace('SlackTask()(message="loaded")', "pass")})


def _add_provider(project):
    project.write({"deploy/agent.sh": PROVIDING_AGENT})


def _delete_flow(project):
    project.path("flows/etl.py").unlink()


def _add_flow(project):
    project.write({"flows/more.py": FLOW.replace('"etl"', '"more"')})


def _configure(project):
    project.write(config='backend = "server"\n')


def _same_size_other_time(project):
    # Same bytes count, another mtime: a size-and-time check must not be fooled by the size.
    path = project.path("flows/etl.py")
    path.write_text(path.read_text().replace('"loaded"', '"LOADED"'))


@pytest.mark.parametrize("change", [_edit_flow, _add_provider, _delete_flow, _add_flow, _configure,
                                    _same_size_other_time])
def test_a_changed_input_is_analysed_again(flows, monkeypatch, change):
    _, before = _api(flows.root, monkeypatch)
    change(flows)
    _age(flows.root, seconds=30)  # old enough to be trusted again, but not the time it had
    run, after = _api(flows.root, monkeypatch)
    assert "reused" not in run.stats
    assert after == _fresh(flows.root, monkeypatch)
    if change is not _same_size_other_time:
        assert after != before
    again, third = _api(flows.root, monkeypatch)
    assert again.stats["reused"] == 1 and third == after


def test_other_options_or_another_working_directory_keep_reports_of_their_own(flows, monkeypatch):
    _, everything = _api(flows.root, monkeypatch)
    _, selected = _api(flows.root, monkeypatch, select=["CL201"])
    assert {code for code, *_ in selected} == {"CL201"} != {code for code, *_ in everything}
    run, again = _api(flows.root, monkeypatch, select=["CL201"])
    assert run.stats["reused"] == 1 and again == selected
    # Paths are shown relative to the working directory: from flows/ they are another text.
    _, inside = _api(flows.root / "flows", monkeypatch, ".")
    assert {path for _, path, *_ in inside} <= {"etl.py", "db.py"} and inside
    run, _ = _api(flows.root, monkeypatch)
    assert run.stats["reused"] == 1
    assert len(_reports(flows.root)) == 3


def test_files_too_fresh_to_trust_keep_no_report(flows, monkeypatch):
    _api(flows.root, monkeypatch)
    assert len(_reports(flows.root)) == 1
    # Edited just now: within the mtime's resolution it could change again unseen, so the
    # report is neither reused nor kept (the older one is dropped too).
    flows.write({"flows/etl.py": FLOW.replace('message="loaded"', 'message="done"')})
    run, found = _api(flows.root, monkeypatch)
    assert "reused" not in run.stats and _reports(flows.root) == []
    run, again = _api(flows.root, monkeypatch)
    assert "reused" not in run.stats and again == found


def test_a_projects_own_rules_are_inputs_too(project, monkeypatch):
    project.write({"flows/etl.py": FLOW, "tools/rules/noted.py": CUSTOM_RULE.replace("MESSAGE", "first words")},
                  config='rules = ["tools/rules"]\nexclude = ["tools/"]\n')  # not a file the check reads
    _age(project.root)
    _, before = _api(project.root, monkeypatch)
    assert ("CL901", "flows/etl.py", 4, "first words") in before
    project.write({"tools/rules/noted.py": CUSTOM_RULE.replace("MESSAGE", "other words")})
    when = time.time() - 30  # only the rule file moves: it is the one input that changed
    os.utime(project.path("tools/rules/noted.py"), (when, when))
    run, after = _api(project.root, monkeypatch)
    assert "reused" not in run.stats and ("CL901", "flows/etl.py", 4, "other words") in after


@pytest.mark.parametrize("damage", [
    b"", b"{not json", b"[]", b'{"tool": "credlint"}', bytes(range(256)),
    b'{"tool": "credlint", "key": "KEY", "signature": "SIG", "run": {"report": {"findings": 7}}}',
    b'{"tool": "credlint", "key": "KEY", "signature": "SIG", "run": {"report": {"findings": [{"code": 1}]}}}',
    b'{"tool": "credlint", "key": "KEY", "signature": "SIG", "run": {"report": null, "stats": {}}}',
])
def test_a_damaged_report_is_ignored_and_rewritten(flows, monkeypatch, damage):
    _, found = _api(flows.root, monkeypatch)
    [report] = _reports(flows.root)
    kept = json.loads(report.read_text())
    report.write_bytes(damage.replace(b"KEY", kept["key"].encode()).replace(b"SIG", kept["signature"].encode()))
    run, again = _api(flows.root, monkeypatch)
    assert "reused" not in run.stats and again == found
    run, third = _api(flows.root, monkeypatch)
    assert run.stats["reused"] == 1 and third == found


def test_stdin_no_cache_and_no_prefilter_never_use_a_report(flows, monkeypatch):
    _api(flows.root, monkeypatch)
    assert "reused" not in _api(flows.root, monkeypatch, cache=False)[0].stats
    assert "reused" not in _api(flows.root, monkeypatch, prefilter=False)[0].stats
    buffer = FLOW.replace("SlackTask()", "SlackTask(webhook_secret='OTHER')").encode()
    run, found = _api(flows.root, monkeypatch, stdin=("flows/etl.py", buffer))
    assert "reused" not in run.stats
    assert [f for f in found if f[1] == "flows/etl.py" and "OTHER" in f[3]]


REUSE_PROBE = """
import json, sys
from credlint.cli import main
import io, contextlib
with contextlib.redirect_stdout(io.StringIO()):
    code = main(["check", "--format", "json", "."])
assert code in (0, 1), code
print(json.dumps(sorted(name for name in sys.modules if name.startswith(("libcst", "rich", "yaml", "credlint")))))
"""


def test_a_reused_report_imports_no_analysis(flows):
    run_cli("check", "--format", "json", ".", cwd=flows.root)
    assert _reports(flows.root)
    proc = subprocess.run([sys.executable, "-c", REUSE_PROBE], cwd=str(flows.root), env=_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    imported = set(json.loads(proc.stdout.strip().splitlines()[-1]))
    heavy = {"libcst", "rich", "yaml", "credlint.facts.python.extract", "credlint.model.project", "credlint.engine", "credlint.facts.types",
             "credlint.prefect.catalogue", "credlint.store.gather", "credlint.facts.deploy.reader"}
    assert not imported & heavy, sorted(imported & heavy)


def test_only_the_newest_reports_are_kept(flows, monkeypatch):
    from credlint.speed.memo import KEEP

    for code in ("CL101", "CL102", "CL103", "CL104", "CL105", "CL106", "CL107", "CL201", "CL202", "CL203"):
        _api(flows.root, monkeypatch, select=[code])
    assert len(_reports(flows.root)) == KEEP < 10
