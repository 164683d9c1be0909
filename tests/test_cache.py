"""The facts cache: hits, misses, invalidation, damage, and what it keeps on disk."""
from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from conftest import run_cli

FLOW = '''
from prefect import Flow
from prefect.tasks.notifications.slack_task import SlackTask

with Flow("etl") as flow:
    SlackTask()(message="loaded")
'''
CLEAN_FLOW = FLOW.replace('SlackTask()(message="loaded")', 'pass')
HELPER = '''
def double(x):
    return 2 * x
'''
AGENT = '''
prefect agent local start --label prod
'''
FORWARDING_AGENT = '''
prefect agent local start --label prod -e PREFECT__CONTEXT__SECRETS__SLACK_WEBHOOK_URL="$HOOK"
'''


def _run(root, monkeypatch, *paths, **options):
    from credlint.api import Options, check

    monkeypatch.chdir(root)
    run = check(Options(paths=list(paths) or ["."], **options))
    return run, sorted((f.code, f.path, f.line, f.message) for f in run.report.findings)


def _old(path, seconds=60):
    """Back-date a file, so the cache trusts its size and mtime (fresh files are re-hashed)."""
    when = time.time() - seconds
    os.utime(path, (when, when))


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch):
    """Each test starts like a new process: no catalogue loaded yet."""
    from credlint.prefect import catalogue

    monkeypatch.setattr(catalogue, "_CACHED", None)


@pytest.fixture
def flows(project):
    project.write({"flows/etl.py": FLOW, "lib/helpers.py": HELPER, "deploy/agent.sh": AGENT})
    for rel in ("flows/etl.py", "lib/helpers.py", "deploy/agent.sh"):
        _old(project.path(rel))
    return project


def test_second_run_reads_everything_from_the_cache(flows, monkeypatch):
    first, found = _run(flows.root, monkeypatch)
    assert first.stats["analysed"] == 3 and first.stats["cached"] == 0
    assert {f[0] for f in found} == {"CL101"}
    second, again = _run(flows.root, monkeypatch)
    assert second.stats["analysed"] == 0 and second.stats["cached"] == 3
    assert again == found


def test_the_cache_folder_is_marked_and_ignored_by_git(flows, monkeypatch):
    _run(flows.root, monkeypatch)
    cache = flows.root / ".credlint_cache"
    assert (cache / ".gitignore").read_text().strip().endswith("*")
    assert (cache / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert list(cache.glob("facts-*.json")) and list(cache.glob("catalogue-*.json"))
    subprocess.run(["git", "init", "-q", str(flows.root)], check=True)
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=flows.root,
                            capture_output=True, text=True, check=True).stdout
    assert ".credlint_cache" not in status and "flows/etl.py" in status


def test_a_changed_file_is_analysed_again(flows, monkeypatch):
    _run(flows.root, monkeypatch)
    flows.write({"flows/etl.py": CLEAN_FLOW})
    run, found = _run(flows.root, monkeypatch)
    assert run.stats["analysed"] == 1
    assert found == []


def test_a_touched_but_unchanged_file_is_hashed_not_parsed(flows, monkeypatch):
    _, found = _run(flows.root, monkeypatch)
    os.utime(flows.path("flows/etl.py"))  # `git checkout` does this
    run, again = _run(flows.root, monkeypatch)
    assert run.stats["analysed"] == 0
    assert again == found


def test_a_changed_agent_script_rechecks_flows_without_parsing_them(flows, monkeypatch):
    _, found = _run(flows.root, monkeypatch, "flows/etl.py")
    assert [f[0] for f in found] == ["CL101"]
    flows.write({"deploy/agent.sh": FORWARDING_AGENT})
    run, again = _run(flows.root, monkeypatch, "flows/etl.py")
    assert run.stats["analysed"] == 1  # the script; the flow's facts come from the cache
    assert again == []


def test_a_provider_added_in_a_deployment_file_changes_the_findings(project, monkeypatch):
    project.write({"flows/etl.py": FLOW})
    _, found = _run(project.root, monkeypatch)
    assert [f[0] for f in found] == ["CL101"]
    project.write({"deploy/config.toml": '[context.secrets]\nSLACK_WEBHOOK_URL = "$HOOK"\n'})
    run, again = _run(project.root, monkeypatch)
    assert run.stats["analysed"] == 1 and "CL101" not in {f[0] for f in again}


def test_a_configuration_change_starts_a_new_cache(flows, monkeypatch):
    _run(flows.root, monkeypatch)
    flows.write(config='ignore = ["CL101"]\n')
    run, found = _run(flows.root, monkeypatch)
    assert run.stats["analysed"] == run.stats["files"] == 4  # and credlint.toml itself
    assert found == []
    flows.write(config='ignore = ["CL102"]\n')
    run, found = _run(flows.root, monkeypatch)
    assert run.stats["analysed"] == 4 and [f[0] for f in found] == ["CL101"]


def test_a_catalogue_change_starts_a_new_cache(flows, monkeypatch):
    from credlint.prefect import catalogue, catalogue_sources

    _run(flows.root, monkeypatch)
    # An edited catalogue has another digest, both as loaded and as read from its files (the
    # run memo checks the latter without loading it).
    loaded = catalogue.builtin_catalogue()
    monkeypatch.setattr(loaded, "digest", "0123456789abcdef")
    monkeypatch.setattr(catalogue_sources, "builtin_digest", lambda: "0123456789abcdef")
    run, _ = _run(flows.root, monkeypatch)
    assert run.stats["analysed"] == 3


def test_a_new_credlint_build_starts_a_new_cache(flows, monkeypatch):
    from credlint.store import cache

    _run(flows.root, monkeypatch)
    monkeypatch.setattr(cache, "code_fingerprint", lambda: "another-build")
    run, _ = _run(flows.root, monkeypatch)
    assert run.stats["analysed"] == 3


@pytest.mark.parametrize("damage", [
    b"", b"{not json", b"[]", b'{"tool": "other", "files": {}}',
    b'{"tool": "credlint", "namespace": "NS", "files": {"flows/etl.py": {"stat": [1, 2], "facts": 7}}}',
    b'{"tool": "credlint", "namespace": "NS", "files": {"flows/etl.py": {"stat": null, '
    b'"facts": {"path": "flows/etl.py", "digest": "D", "module": {"calls": "oops"}}}}}',
    bytes(range(256)),
])
def test_a_damaged_or_foreign_cache_is_rebuilt(flows, monkeypatch, damage):
    _, found = _run(flows.root, monkeypatch)
    [index] = (flows.root / ".credlint_cache").glob("facts-*.json")
    space = json.loads(index.read_text())["namespace"]
    digest = json.loads(index.read_text())["files"]["flows/etl.py"]["facts"]["digest"]
    index.write_bytes(damage.replace(b"NS", space.encode()).replace(b'"D"', f'"{digest}"'.encode()))
    for report in (flows.root / ".credlint_cache").glob("run-*.json"):
        report.unlink()  # else the run memo answers without reading the facts (tests/test_memo.py)
    run, again = _run(flows.root, monkeypatch)
    assert again == found
    assert run.stats["analysed"] >= 1
    rebuilt = json.loads(index.read_text())
    assert rebuilt["tool"] == "credlint" and set(rebuilt["files"]) == {"flows/etl.py", "lib/helpers.py",
                                                                       "deploy/agent.sh"}
    third, _ = _run(flows.root, monkeypatch)
    assert third.stats["analysed"] == 0


def test_a_damaged_catalogue_snapshot_is_ignored(flows, monkeypatch):
    _, found = _run(flows.root, monkeypatch)
    [snapshot] = (flows.root / ".credlint_cache").glob("catalogue-*.json")
    snapshot.write_text("[1, 2]")
    from credlint.prefect import catalogue

    monkeypatch.setattr(catalogue, "_CACHED", None)  # as in a new process
    _, again = _run(flows.root, monkeypatch)
    assert again == found


def test_an_unwritable_cache_is_not_an_error(flows):
    blocker = flows.root / "blocked"
    blocker.write_text("a file where the cache folder would be")
    code, out, err = run_cli("check", "--cache-dir", "blocked/cache", "--format", "concise", ".", cwd=flows.root)
    assert code == 0 and "CL101" in out and "error" not in err


def test_no_cache_and_cache_dir(flows, monkeypatch):
    code, out, _ = run_cli("check", "--no-cache", "--format", "concise", ".", cwd=flows.root)
    assert "CL101" in out
    assert not (flows.root / ".credlint_cache").exists()
    code, out, _ = run_cli("check", "--cache-dir", "elsewhere/cache", "--format", "concise", ".", cwd=flows.root)
    assert "CL101" in out
    assert list((flows.root / "elsewhere/cache").glob("facts-*.json"))
    assert not (flows.root / ".credlint_cache").exists()


@pytest.mark.parametrize("command", ["inventory", "preflight"])
def test_inventory_and_preflight_read_the_project_the_same_way(flows, command):
    code, out, err = run_cli(command, "--no-cache", "--jobs", "2", "--format", "json", ".", cwd=flows.root)
    assert code in (0, 1), err
    assert "SLACK_WEBHOOK_URL" in out
    assert not (flows.root / ".credlint_cache").exists()
    code, again, err = run_cli(command, "--cache-dir", "elsewhere/cache", "--format", "json", ".", cwd=flows.root)
    assert list((flows.root / "elsewhere/cache").glob("facts-*.json")) and again == out
    code, _, err = run_cli(command, "--jobs", "0", ".", cwd=flows.root)
    assert code == 2 and "--jobs" in err


def _cached_entries(folder):
    """What the next run reads: the index with its journal applied."""
    from credlint.store.cache import FactsCache

    [index] = folder.glob("facts-*.json")
    return FactsCache(folder, json.loads(index.read_text())["namespace"])._entries


def test_deleted_files_leave_the_cache(flows, monkeypatch):
    _run(flows.root, monkeypatch)
    flows.path("lib/helpers.py").unlink()
    _run(flows.root, monkeypatch)
    assert set(_cached_entries(flows.root / ".credlint_cache")) == {"flows/etl.py", "deploy/agent.sh"}


def _edit_flow(project, text, age=30):
    project.write({"flows/etl.py": text})
    old = time.time() - age
    os.utime(project.path("flows/etl.py"), (old, old))


def _cached_entries_after_run(flows, monkeypatch):
    _run(flows.root, monkeypatch)
    return _cached_entries(flows.root / ".credlint_cache")


def test_a_warm_run_appends_what_changed_to_the_journal(flows, monkeypatch):
    cache_dir = flows.root / ".credlint_cache"
    _run(flows.root, monkeypatch)
    [index] = cache_dir.glob("facts-*.json")
    before = index.stat()
    _edit_flow(flows, FLOW.replace('"loaded"', '"unloaded"'))
    run, found = _run(flows.root, monkeypatch)
    assert run.stats["analysed"] == 1
    after = index.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)  # not rewritten
    [journal] = cache_dir.glob("facts-*.journal")
    lines = journal.read_text().splitlines()
    assert json.loads(lines[0]) == {"generation": json.loads(index.read_text())["generation"]}
    assert [json.loads(line)[0] for line in lines[1:]] == ["flows/etl.py"]
    for report in cache_dir.glob("run-*.json"):
        report.unlink()
    again, same = _run(flows.root, monkeypatch)
    assert again.stats["analysed"] == 0 and same == found  # the journal's entry is used


@pytest.mark.parametrize("limit", ["JOURNAL_MAX", "JOURNAL_MAX_BYTES"])
def test_a_long_journal_is_folded_into_the_index(flows, monkeypatch, limit):
    from credlint.store import cache

    if limit == "JOURNAL_MAX":
        monkeypatch.setattr(cache, "JOURNAL_MAX", 2)
    else:  # room for a header and two of this flow's entries, not three
        monkeypatch.setattr(cache, "JOURNAL_MAX_BYTES", 60 + 2 * len(json.dumps(_cached_entries_after_run(
            flows, monkeypatch)["flows/etl.py"])) + 80)
    cache_dir = flows.root / ".credlint_cache"
    _run(flows.root, monkeypatch)
    for n in range(3):
        _edit_flow(flows, FLOW.replace('"loaded"', f'"loaded{n}"'), age=30 + n)
        _run(flows.root, monkeypatch)
        journals = list(cache_dir.glob("facts-*.journal"))
        assert journals if n < 2 else not journals, n  # two lines fit; the third rewrites the index
    [index] = cache_dir.glob("facts-*.json")
    assert set(json.loads(index.read_text())["files"]) == set(_cached_entries(cache_dir))


@pytest.mark.parametrize("damage", ["cut", "other generation", "garbage"])
def test_a_damaged_or_foreign_journal_costs_a_parse_at_most(flows, monkeypatch, damage):
    cache_dir = flows.root / ".credlint_cache"
    _run(flows.root, monkeypatch)
    _edit_flow(flows, FLOW.replace('"loaded"', '"unloaded"'))
    _, found = _run(flows.root, monkeypatch)
    [journal] = cache_dir.glob("facts-*.journal")
    text = journal.read_text()
    if damage == "cut":
        journal.write_text(text[:-25])  # a crash in the middle of the last line
    elif damage == "other generation":
        # A journal left over from before the index was rewritten, naming a file as empty.
        journal.write_text('{"generation": "0123"}\n["flows/etl.py", [1, 2, "x", false]]\n')
    else:
        journal.write_bytes(bytes(range(256)))
    for report in cache_dir.glob("run-*.json"):
        report.unlink()
    run, again = _run(flows.root, monkeypatch)
    assert again == found
    assert run.stats["analysed"] <= 1


def test_a_file_edited_right_after_it_was_cached_is_not_trusted_by_its_mtime(project, monkeypatch):
    # Same size, same second: only the content tells the versions apart.
    project.write({"flows/etl.py": FLOW})
    _, found = _run(project.root, monkeypatch)
    stat = project.path("flows/etl.py").stat()
    project.write({"flows/etl.py": FLOW.replace('"loaded"', '"LOADED"')})
    os.utime(project.path("flows/etl.py"), ns=(stat.st_atime_ns, stat.st_mtime_ns))
    run, _ = _run(project.root, monkeypatch)
    assert run.stats["analysed"] == 1


WARM_PROBE = """
import json, sys
from credlint.cli import main
import io, contextlib
with contextlib.redirect_stdout(io.StringIO()):
    code = main(["check", "--format", "concise", "."] + sys.argv[1:])
assert code in (0, 1), code  # 2 would be an error (such as the guard below)
print(json.dumps({name: name in sys.modules for name in ("libcst", "rich", "yaml", "credlint.facts.python.extract")}))
"""


def test_a_warm_run_imports_neither_libcst_nor_rich_nor_parses_the_catalogue(flows):
    """In a format that does not show fixes: JSON names each finding's fix safety, which the
    fixers decide from the file's syntax (the CL101 here is fixable), see the test below."""
    import subprocess
    import sys

    from conftest import _env

    run_cli("check", "--format", "json", ".", cwd=flows.root)  # fills the cache and the catalogue snapshot
    for report in (flows.root / ".credlint_cache").glob("run-*.json"):
        report.unlink()  # the facts path is under test here; a reused report imports even less
    # The catalogue's TOML must not be parsed again: hide it; the snapshot must be enough.
    probe = "import tomllib, credlint.tomlcompat as t\n" \
            "real = t.toml.loads\n" \
            "def guarded(text, *a, **k):\n" \
            "    assert '[[entry]]' not in text, 'the catalogue TOML was parsed on a warm run'\n" \
            "    return real(text, *a, **k)\n" \
            "t.toml.loads = guarded\n" + WARM_PROBE
    proc = subprocess.run([sys.executable, "-c", probe], cwd=str(flows.root), env=_env(), capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {
        "libcst": False, "rich": False, "yaml": False, "credlint.facts.python.extract": False}
    # ...and a changed flow is parsed: libcst comes in only then (in this process with one job;
    # with more, in the worker started early for it).
    flows.write({"flows/etl.py": CLEAN_FLOW})
    proc = subprocess.run([sys.executable, "-c", WARM_PROBE, "--jobs", "1"], cwd=str(flows.root), env=_env(),
                          capture_output=True, text=True, timeout=120)
    assert json.loads(proc.stdout.strip().splitlines()[-1])["libcst"] is True


@pytest.mark.parametrize("value, cached", [("1", False), ("true", False), ("0", True), ("", True)])
def test_credlint_no_cache_environment_variable(flows, value, cached):
    import subprocess
    import sys

    from conftest import _env

    env = dict(_env(), CREDLINT_NO_CACHE=value)
    proc = subprocess.run([sys.executable, "-m", "credlint", "check", "--format", "concise", "."],
                          cwd=str(flows.root), env=env, capture_output=True, text=True, timeout=120)
    assert "CL101" in proc.stdout, proc.stderr
    assert (flows.root / ".credlint_cache").exists() is cached


def test_the_build_fingerprint_covers_modules_in_every_stage_folder():
    """A development checkout must invalidate cached facts when any module changes, not only the
    ones at the top of the package (the extractor lives in credlint/facts/python/)."""
    import os

    from credlint.store.cache import code_fingerprint
    import credlint.facts.python.extract as extractor

    path = extractor.__file__
    before = code_fingerprint()
    st = os.stat(path)
    try:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
        assert code_fingerprint() != before
    finally:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert code_fingerprint() == before


def test_only_the_formats_that_show_fixes_load_the_fixers(flows):
    """JSON names a finding's fix and its safety (CL403's await); concise, full, SARIF and GitHub
    never show it, and a check for them never loads the fixers (nor libcst, on a warm run)."""
    import subprocess
    import sys

    from conftest import _env

    probe = ("import json, sys, io, contextlib\nfrom credlint.cli import main\n"
             "out = io.StringIO()\nwith contextlib.redirect_stdout(out):\n"
             "    main(['check', '--no-server', '--format', sys.argv[1], '.'])\n"
             "print(json.dumps({'fixers': 'credlint.fixes.python' in sys.modules, 'out': out.getvalue()}))\n")
    flows.write({"flows/sync.py": (
        "from prefect import flow\nfrom prefect_aws import AwsCredentials\n\n\n@flow\nasync def sync():\n"
        "    return AwsCredentials.load(\"prod\")\n")})
    results = {}
    for fmt in ("concise", "full", "sarif", "github", "json"):
        run_cli("check", "--format", fmt, ".", cwd=flows.root)  # a warm cache for this format
        for report in (flows.root / ".credlint_cache").glob("run-*.json"):
            report.unlink()
        proc = subprocess.run([sys.executable, "-c", probe, fmt], cwd=str(flows.root), env=_env(),
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        results[fmt] = json.loads(proc.stdout.strip().splitlines()[-1])
    assert [fmt for fmt in ("concise", "full", "sarif", "github") if results[fmt]["fixers"]] == []
    # SARIF's rule help still says how each rule is fixed: from the table, not the fixers.
    rules = json.loads(results["sarif"]["out"])["runs"][0]["tool"]["driver"]["rules"]
    help_of = {r["id"]: r["help"]["text"] for r in rules}
    assert "Fix safety: safe (`credlint check --fix`)" in help_of["CL403"]
    assert results["json"]["fixers"]
    safety = {f["code"]: f["fix_safety"] for f in json.loads(results["json"]["out"])["findings"]}
    assert safety["CL403"] == "safe"
