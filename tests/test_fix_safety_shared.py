"""JSON's `fix_safety` parses each fixable file again; on a run with the early worker
(`store.early`), half of those files are done there while this process does the other half
(`fixes.annotate`). The findings are those of one process, and a worker that fails costs
nothing but time."""
from __future__ import annotations

import os

import pytest

from credlint import fixes

FLOW = '''
from prefect import Flow
from prefect.tasks.snowflake import SnowflakeQuery

query = SnowflakeQuery(account="acme", user="loader")

with Flow("load-{index}") as flow:
    query(password="Qm7vXk2pLw9tRz{index:04d}")
'''


@pytest.fixture
def fixable(project, monkeypatch):
    """Forty flows, each with a literal password given at run time (an unsafe fix each), as the
    working directory; this process counts as one that has not loaded the parser yet, so that
    a check starts its early worker."""
    from credlint import api

    project({f"flows/load_{index:02d}.py": FLOW.format(index=index) for index in range(40)})
    monkeypatch.chdir(project.root)
    monkeypatch.setattr(api, "_parser_loaded", lambda: False)
    return project.root


def _logged_fix_safety(findings, cwd, prefect, facts):
    """Stands in for fixes.fix_safety in the early worker: notes which process ran it, and for
    how many files it was sent the check's facts."""
    with open(os.environ["CREDLINT_TEST_FIX_LOG"], "a", encoding="utf-8") as log:
        log.write(f"{os.getpid()} {len(findings)} {prefect} {sum(v is not None for v in facts.values())}\n")
    return fixes._real_fix_safety(findings, cwd, prefect, facts)


def _safeties(run):
    return [(f.path, f.code, f.fix_safety) for f in run.report.findings]


def test_the_early_worker_works_out_half_the_fix_safety(fixable, tmp_path, monkeypatch):
    from credlint.api import Options, check

    with monkeypatch.context() as alone:
        alone.setattr("credlint.api._parser_loaded", lambda: True)
        expected = _safeties(check(Options(paths=["."], jobs=1, cache=False, fixes=True)))
    assert [s for _, code, s in expected if code == "CL201"] == ["unsafe"] * 40
    log = tmp_path / "fix.log"
    monkeypatch.setenv("CREDLINT_TEST_FIX_LOG", str(log))
    monkeypatch.setattr(fixes, "_real_fix_safety", fixes.fix_safety, raising=False)
    monkeypatch.setattr(fixes, "fix_safety", _logged_fix_safety)
    run = check(Options(paths=["."], jobs=2, cache=False, fixes=True))
    assert _safeties(run) == expected
    (line,) = log.read_text(encoding="utf-8").splitlines()
    pid, count, prefect, with_facts = line.split()
    assert int(pid) != os.getpid() and int(count) == 20 and prefect == "auto"  # half the files
    assert int(with_facts) == 20  # the check's facts went along: the worker need not extract them


BIG_FLOW = '''
from prefect import Flow
from prefect.tasks.secrets import PrefectSecret
from prefect.tasks.snowflake import SnowflakeQuery

load = SnowflakeQuery(account="acme", user="loader")

with Flow("reports") as flow:
    password = PrefectSecret("SNOWFLAKE_PASSWORD")
    load(query="select 1", password=password)
''' + "# padding\n" * 5000


def test_only_the_files_a_fixer_must_parse_are_shared(project, monkeypatch, tmp_path):
    """A large file whose fixable findings need no parse (a CL101 warning in a flow without
    storage: no fix, as its facts tell) weighs nothing in the halves: the two files to parse go one to each process."""
    from credlint import api
    from credlint.api import Options, check

    project({"pyproject.toml": '[tool.credlint]\nbackend = "cloud"\n', "flows/big.py": BIG_FLOW,
             **{f"flows/load_{index:02d}.py": FLOW.format(index=index) for index in range(2)}})
    monkeypatch.chdir(project.root)
    with monkeypatch.context() as alone:
        alone.setattr(api, "_parser_loaded", lambda: True)
        expected = _safeties(check(Options(paths=["."], jobs=1, cache=False, fixes=True)))
    assert sorted((path, code, s) for path, code, s in expected if code in fixes.FIXABLE) == [
        ("flows/big.py", "CL101", None), ("flows/load_00.py", "CL201", "unsafe"),
        ("flows/load_01.py", "CL201", "unsafe")]
    log = tmp_path / "fix.log"
    monkeypatch.setenv("CREDLINT_TEST_FIX_LOG", str(log))
    monkeypatch.setattr(api, "_parser_loaded", lambda: False)
    monkeypatch.setattr(fixes, "_real_fix_safety", fixes.fix_safety, raising=False)
    monkeypatch.setattr(fixes, "fix_safety", _logged_fix_safety)
    run = check(Options(paths=["."], jobs=2, cache=False, fixes=True))
    assert _safeties(run) == expected
    (line,) = log.read_text(encoding="utf-8").splitlines()
    assert int(line.split()[1]) == 1  # one CL201 file there, one here; the large file in neither


def test_a_fixer_that_must_parse_is_deferred_by_a_first_pass(project, monkeypatch):
    """`plan(..., deferred=...)` parses nothing: the findings that need a parse wait in the list,
    the others get their fix safety at once."""
    from credlint.api import Options, check, load

    project({"flows/big.py": BIG_FLOW, "flows/load_00.py": FLOW.format(index=0)})
    monkeypatch.chdir(project.root)
    options = Options(paths=["."], jobs=1, cache=False, fixes=False)
    findings = check(options).report.findings
    (literal,) = [f for f in findings if f.code == "CL201"]
    (missing,) = [f for f in findings if f.code == "CL101"]
    modules = load(options).project.modules
    waiting: list = []
    done = fixes.plan([missing, literal], project.root, unsafe=True, deferred=waiting,
                      facts=lambda f: modules[f.project_path])
    assert waiting == [literal] and literal.fix_safety is None and not done.edits
    assert done.sources["flows/load_00.py"]._python is None and done.sources["flows/big.py"]._python is None
    fixes.plan(waiting, project.root, unsafe=True)
    assert literal.fix_safety == "unsafe"


def _dies_when_called(channel):
    """Stands in for early._serve_early: analyses batches, dies when asked to run a function."""
    from credlint.prefect.catalogue import builtin_catalogue
    from credlint.store import workers

    channel.recv()  # the cache folder
    while True:
        message = channel.recv()
        if isinstance(message, tuple):
            os._exit(9)
        channel.send([workers.run_job(job, builtin_catalogue()) for job in message])


def test_a_worker_that_dies_leaves_the_fix_safety_to_this_process(fixable, monkeypatch, capfd):
    from credlint.api import Options, check
    from credlint.store import early

    with monkeypatch.context() as alone:
        alone.setattr("credlint.api._parser_loaded", lambda: True)
        expected = _safeties(check(Options(paths=["."], jobs=1, cache=False, fixes=True)))
    monkeypatch.setattr(early, "_serve_early", _dies_when_called)
    run = check(Options(paths=["."], jobs=2, cache=False, fixes=True))
    assert _safeties(run) == expected
    assert "the worker process failed; continuing in one process" in capfd.readouterr().err


def test_the_halves_are_of_about_the_same_size(tmp_path):
    from credlint.findings.report import Finding

    sizes = {"a.py": 9000, "b.py": 5000, "c.py": 4000, "d.py": 100}
    for rel, size in sizes.items():
        (tmp_path / rel).write_text("#" * size)
    findings = [Finding(code="CL201", name="n", severity="error", path=rel, line=1, column=1, end_line=1,
                        end_column=2, message="m") for rel in sizes]
    fixes._load()
    theirs = fixes._their_half(findings, tmp_path)
    assert sorted(f.path for f in theirs) == ["b.py", "c.py"]  # 9,000 + 100 bytes here, 9,000 there
    assert fixes._their_half(findings[:1], tmp_path) == []  # one file: nothing to share
