"""`--jobs N`: the same output, byte for byte, whatever the number of worker processes."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from conftest import run_cli

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
VARIANTS = [
    ('from prefect.tasks.notifications.slack_task import SlackTask', 'SlackTask()(message="m{i}")'),
    ('from prefect.tasks.aws.s3 import S3Download', 'S3Download(bucket="b{i}")(key="k")'),
    ('from prefect.tasks.snowflake import SnowflakeQuery',
     'SnowflakeQuery(account="a", user="u", password="Vq{i}-Lm2k-Zx9w-Pp4r", query="q")()'),
    ('from prefect.tasks.gcp.storage import GCSUpload', 'GCSUpload(bucket="b{i}")(data="d")'),
]


@pytest.fixture(scope="module")
def big_project(tmp_path_factory):
    """The shipped examples plus 80 flows and 40 plain modules: enough files for a pool."""
    root = tmp_path_factory.mktemp("parallel")
    shutil.copytree(EXAMPLES, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".credlint_cache"))
    (root / ".git").mkdir()
    for i in range(80):
        imports, call = VARIANTS[i % len(VARIANTS)]
        (root / "flows" / f"generated_{i:03d}.py").write_text(
            f"from prefect import Flow\n{imports}\n\nwith Flow(\"gen-{i}\") as flow:\n    {call.format(i=i)}\n")
    (root / "lib").mkdir()
    for i in range(40):
        (root / "lib" / f"util_{i:03d}.py").write_text(f"def util_{i}(x):\n    return x * {i}\n")
    old = time.time() - 60  # files written just now are re-hashed, not trusted by mtime
    for path in root.rglob("*"):
        os.utime(path, (old, old))
    return root


def test_the_pool_is_used_for_large_inputs_and_not_for_small_ones(big_project, monkeypatch):
    from credlint.api import Options, check

    monkeypatch.chdir(big_project)
    assert check(Options(paths=["."], jobs=2, cache=False)).stats["workers"] == 2
    assert check(Options(paths=["flows/clean.py"], jobs=2)).stats["workers"] == 2  # cold: the whole project
    assert check(Options(paths=["flows/clean.py"], jobs=2)).stats["workers"] == 1  # warm: nothing to analyse
    assert check(Options(paths=["."], jobs=1, cache=False)).stats["workers"] == 1


@pytest.mark.parametrize("fmt", ["json", "sarif", "concise", "json-lines", "github"])
def test_output_is_identical_for_any_number_of_workers(big_project, fmt):
    outputs = {}
    for jobs in ("1", "2", "3"):
        code, out, err = run_cli("check", "--no-cache", "--jobs", jobs, "--format", fmt, ".", cwd=big_project)
        assert code == 1, err
        outputs[jobs] = out
    assert outputs["1"].count("CL201") >= 20  # the generated flows were all analysed
    assert outputs["2"] == outputs["1"]
    assert outputs["3"] == outputs["1"]


def test_a_cold_parallel_run_fills_the_cache_a_serial_run_reads(big_project, tmp_path):
    cache = str(tmp_path / "cache")
    code, cold, _ = run_cli("check", "--cache-dir", cache, "--jobs", "2", "--format", "json", ".", cwd=big_project)
    for report in (tmp_path / "cache").glob("run-*.json"):
        report.unlink()  # the facts are under test, not the kept report
    code, warm, _ = run_cli("check", "--cache-dir", cache, "--jobs", "1", "--format", "json", ".", cwd=big_project)
    assert cold == warm


@pytest.mark.parametrize("bad", ["0", "-1", "two"])
def test_jobs_must_be_a_positive_number(project, bad):
    code, _, err = run_cli("check", "--jobs", bad, ".", cwd=project.root)
    assert code == 2 and "--jobs" in err and "positive" in err


PARENT = os.getpid()


def _dies_in_workers(job, catalogue=None):
    """Stands in for workers.run_job: a worker process that dies (as when killed for memory)."""
    from credlint.store import workers

    if os.getpid() != PARENT and job.rel.endswith("generated_010.py"):
        os._exit(9)
    return workers._real_run_job(job, catalogue)


def test_a_dead_worker_does_not_lose_the_run(big_project, monkeypatch, capfd):
    from credlint.store import workers
    from credlint.api import Options, check

    monkeypatch.chdir(big_project)
    expected = [f.to_json() for f in check(Options(paths=["."], jobs=1, cache=False)).report.findings]
    monkeypatch.setattr(workers, "_real_run_job", workers.run_job, raising=False)
    monkeypatch.setattr(workers, "run_job", _dies_in_workers)
    found = [f.to_json() for f in check(Options(paths=["."], jobs=2, cache=False)).report.findings]
    assert "worker processes failed (BrokenProcessPool); continuing in one process" in capfd.readouterr().err
    assert found == expected


def _logs_its_process(job, catalogue=None):
    """Stands in for workers.run_job: notes which process analysed the file."""
    from credlint.store import workers

    with open(os.environ["CREDLINT_TEST_JOB_LOG"], "a", encoding="utf-8") as log:
        log.write(f"{os.getpid()} {job.rel}\n")
    return workers._real_run_job(job, catalogue)


def test_the_process_that_starts_the_pool_takes_its_share(big_project, monkeypatch, tmp_path):
    """Two workers are this process and one forked worker, meeting in the middle of the files."""
    from credlint.store import workers
    from credlint.api import Options, check

    monkeypatch.chdir(big_project)
    log = tmp_path / "jobs.log"
    monkeypatch.setenv("CREDLINT_TEST_JOB_LOG", str(log))
    monkeypatch.setattr(workers, "_real_run_job", workers.run_job, raising=False)
    monkeypatch.setattr(workers, "run_job", _logs_its_process)
    run = check(Options(paths=["."], jobs=2, cache=False))
    assert run.stats["workers"] == 2
    by_process: dict = {}
    for line in log.read_text(encoding="utf-8").splitlines():
        pid, rel = line.split(" ", 1)
        by_process.setdefault(int(pid), []).append(rel)
    assert set(by_process) - {os.getpid()} and os.getpid() in by_process  # both did some
    assert len(by_process) == 2  # one forked worker, not two
    mine, theirs = by_process.pop(os.getpid()), next(iter(by_process.values()))
    assert not set(mine) & set(theirs)  # no file analysed twice
    assert sorted(theirs)[0] < sorted(mine)[0]  # the worker from the start, this process from the end


@pytest.fixture
def warm_copy(big_project, tmp_path, monkeypatch):
    """A copy of the big project with a filled cache, as the working directory."""
    from credlint.api import Options, check

    from credlint import api as runner

    root = tmp_path / "copy"
    shutil.copytree(big_project, root, ignore=shutil.ignore_patterns(".credlint_cache"))
    monkeypatch.chdir(root)
    check(Options(paths=["."], jobs=2))
    # This process has imported libcst long ago; a real run has not, and that is when it forks.
    monkeypatch.setattr(runner, "_parser_loaded", lambda: False)
    return root


@pytest.fixture
def submitted(monkeypatch):
    """What was handed to early workers: one list of paths per batch."""
    from credlint.store import early

    batches = []
    real = early.EarlyWorker.submit

    def recording(self, jobs):
        batches.append([job.rel for job in jobs])
        return real(self, jobs)

    monkeypatch.setattr(early.EarlyWorker, "submit", recording)
    return batches


def _edit(root, rel="flows/generated_004.py"):
    path = root / rel
    text = path.read_text()
    assert 'SlackTask()(message="m4")' in text
    path.write_text(text.replace('SlackTask()(message="m4")', "pass"))
    old = time.time() - 30
    os.utime(path, (old, old))


@pytest.fixture
def started(monkeypatch):
    """The early workers started, to check that each was stopped and reaped."""
    from credlint.store import early

    made = []
    real = early.EarlyWorker.__init__

    def recording(self, *args):
        real(self, *args)
        made.append((self, self.pid))

    monkeypatch.setattr(early.EarlyWorker, "__init__", recording)
    return made


def _reaped(started) -> bool:
    for worker, pid in started:
        if worker.pid is not None:
            return False
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            continue  # reaped already, as it should be
        return False
    return True


def test_a_changed_flow_is_parsed_by_the_worker_started_early(warm_copy, submitted, started):
    from credlint.api import Options, check

    _edit(warm_copy)
    run = check(Options(paths=["."], jobs=2))
    assert submitted == [["flows/generated_004.py"]]
    assert run.stats["analysed"] == 1
    assert len(started) == 1 and _reaped(started)  # stopped once its work was done
    found = [f.to_json() for f in run.report.findings]
    assert found == [f.to_json() for f in check(Options(paths=["."], cache=False)).report.findings]
    assert not [f for f in found if f["path"] == "flows/generated_004.py"]


def test_no_early_worker_with_one_job_or_nothing_to_parse(warm_copy, submitted, started):
    from credlint.api import Options, check

    _edit(warm_copy)
    assert check(Options(paths=["."], jobs=1)).stats["analysed"] == 1
    assert started == [] and submitted == []
    # Nothing changed, but the kept report is gone: the worker starts, gets nothing, is stopped.
    for report in (warm_copy / ".credlint_cache").glob("run-*.json"):
        report.unlink()
    assert check(Options(paths=["."], jobs=2)).stats["analysed"] == 0
    assert len(started) == 1 and submitted == [] and _reaped(started)
    # The report is reused: the worker was started before that was known, and is stopped unused.
    run = check(Options(paths=["."], jobs=2))
    assert run.stats["reused"] == 1 and run.stats["analysed"] == 0
    assert len(started) == 2 and submitted == [] and _reaped(started)


def test_a_cold_run_shares_the_files_with_the_worker_forked_early(big_project, tmp_path, monkeypatch, started):
    """Cold, with two processes: the early worker (the parser loaded already) is the second one,
    both take batches, no file is analysed twice, no pool is started, and the output is that
    of one process."""
    from credlint import api as runner
    from credlint.api import Options, check
    from credlint.store import workers

    root = tmp_path / "copy"
    shutil.copytree(big_project, root, ignore=shutil.ignore_patterns(".credlint_cache"))
    monkeypatch.chdir(root)
    expected = [f.to_json() for f in check(Options(paths=["."], jobs=1, cache=False)).report.findings]
    monkeypatch.setattr(runner, "_parser_loaded", lambda: False)
    log = tmp_path / "jobs.log"
    monkeypatch.setenv("CREDLINT_TEST_JOB_LOG", str(log))
    monkeypatch.setattr(workers, "_real_run_job", workers.run_job, raising=False)
    monkeypatch.setattr(workers, "run_job", _logs_its_process)
    for options in (Options(paths=["."], jobs=2, cache=False), Options(paths=["."], jobs=2)):
        log.write_text("")
        run = check(options)
        assert run.stats["workers"] == 2 and run.stats["analysed"] > 100
        assert [f.to_json() for f in run.report.findings] == expected
        by_process: dict = {}
        for line in log.read_text(encoding="utf-8").splitlines():
            pid, rel = line.split(" ", 1)
            by_process.setdefault(int(pid), []).append(rel)
        assert set(by_process) == {os.getpid(), started[-1][1]}  # this process and the early worker only
        mine, theirs = by_process[os.getpid()], by_process[started[-1][1]]
        assert mine and theirs and not set(mine) & set(theirs)
    assert len(started) == 2 and _reaped(started)


def _dies_after_a_batch(channel):
    """Stands in for early._serve_early: answers one batch, then dies."""
    from credlint.prefect.catalogue import builtin_catalogue
    from credlint.store import workers

    channel.recv()  # the cache folder
    channel.send([workers.run_job(job, builtin_catalogue()) for job in channel.recv()])
    os._exit(9)


def test_a_helper_that_dies_mid_run_does_not_lose_the_run(big_project, tmp_path, monkeypatch, capfd, started):
    from credlint import api as runner
    from credlint.api import Options, check
    from credlint.store import early

    monkeypatch.chdir(big_project)
    expected = [f.to_json() for f in check(Options(paths=["."], jobs=1, cache=False)).report.findings]
    monkeypatch.setattr(runner, "_parser_loaded", lambda: False)
    monkeypatch.setattr(early, "_serve_early", _dies_after_a_batch)
    run = check(Options(paths=["."], jobs=2, cache=False))
    assert "the worker process failed; continuing in one process" in capfd.readouterr().err
    assert [f.to_json() for f in run.report.findings] == expected
    assert len(started) == 1 and _reaped(started)


def test_batches_shrink_to_single_files_at_the_end():
    from credlint.store.workers import Job, _shrinking_batches

    for count in (1, 7, 100, 5005):
        jobs = [Job(f"m{i}.py", f"/x/m{i}.py") for i in range(count)]
        batches = _shrinking_batches(jobs)
        assert [job for batch in batches for job in batch] == jobs
        sizes = [len(batch) for batch in batches]
        assert sizes == sorted(sizes, reverse=True) and max(sizes) <= 32 and sizes[-1] == 1
        if count >= 1000:
            assert sizes[0] == 32 and len(batches) < count // 20  # few round trips while much is left


@pytest.mark.parametrize("words, one", [
    (["check", "."], False), (["check", "--jobs", "1", "."], True), (["check", "-j", "1"], True),
    (["check", "-j1"], True), (["check", "--jobs=1"], True), (["check", "--jobs", "2"], False),
    (["check", "--jobs"], False),
])
def test_a_command_line_asking_for_one_process_forks_no_worker(words, one):
    from credlint.store.early import _one_process

    assert _one_process(words) is one


def test_no_early_worker_once_the_parser_is_loaded(warm_copy, started, monkeypatch):
    """A process that has libcst already (a server, a pytest session) has nothing to overlap."""
    from credlint import api as runner
    from credlint.api import Options, check

    monkeypatch.setattr(runner, "_parser_loaded", lambda: True)
    _edit(warm_copy)
    assert check(Options(paths=["."], jobs=2)).stats["analysed"] == 1
    assert started == []


def test_a_large_batch_is_not_written_to_a_worker_still_importing(warm_copy, monkeypatch):
    """The worker reads nothing while it imports libcst: a batch larger than the pipe holds
    would stall this process, so it is analysed here instead (the stdin buffer of an editor)."""
    from credlint.store import early, workers

    worker = early.EarlyWorker(str(warm_copy / ".credlint_cache"))
    try:
        big = workers.Job("flows/big.py", str(warm_copy / "flows/big.py"),
                          data=b"X = 1\n" * (early.EarlyWorker.MAX_BATCH_BYTES // 6 + 1))
        assert worker.submit([big]) is False
        small = workers.Job("flows/small.py", str(warm_copy / "flows/small.py"), data=b"X = 1\n")
        assert worker.submit([small]) is True
        (outcome,) = worker.results()
        assert outcome.facts is not None and outcome.facts.path == "flows/small.py"
    finally:
        worker.close()
    assert worker.pid is None


def _dies_at_once(channel):
    os._exit(9)


def test_a_dead_early_worker_does_not_lose_the_run(warm_copy, monkeypatch, capfd):
    from credlint.store import early
    from credlint.api import Options, check

    _edit(warm_copy)
    expected = [f.to_json() for f in check(Options(paths=["."], cache=False)).report.findings]
    monkeypatch.setattr(early, "_serve_early", _dies_at_once)
    run = check(Options(paths=["."], jobs=2))
    assert "the worker process failed; continuing in one process" in capfd.readouterr().err
    assert [f.to_json() for f in run.report.findings] == expected
    assert run.stats["analysed"] == 1


def test_the_early_worker_copes_with_a_closed_standard_output(project):
    import subprocess
    import sys

    from conftest import _env

    project.write({"flows/etl.py": 'from prefect import Flow\nfrom prefect.tasks.notifications.slack_task import '
                                   'SlackTask\n\nwith Flow("etl") as flow:\n    SlackTask()(message="m")\n'})
    old = time.time() - 60
    os.utime(project.path("flows/etl.py"), (old, old))
    run_cli("check", "--format", "json", ".", cwd=project.root)  # a warm cache, so the worker starts
    project.write({"flows/etl.py": project.path("flows/etl.py").read_text() + "X = 1\n"})
    os.utime(project.path("flows/etl.py"), (old + 30, old + 30))
    # Started with file descriptor 1 closed, Python has no sys.stdout at all.
    proc = subprocess.run([sys.executable, "-m", "credlint", "check", "--jobs", "2", "--format", "json",
                           "--output", "report.json", "."], cwd=str(project.root), env=_env(),
                          preexec_fn=lambda: os.close(1), stderr=subprocess.PIPE, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr  # CL101 is a warning on Cloud
    assert "CL101" in (project.root / "report.json").read_text()


@pytest.mark.parametrize("files, expected", [
    ({"cpu.max": "max 100000\n"}, None),
    ({"cpu.max": "150000 100000\n"}, 1.5),
    ({"cpu.max": "50000 100000\n"}, 0.5),
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
    ({"cpu/cpu.cfs_quota_us": "200000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 2.0),
    ({"cpu.max": "garbage\n"}, None),
    ({}, None),
])
def test_the_cpu_quota_of_a_container(tmp_path, files, expected):
    from credlint.store.cpus import cpu_quota

    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert cpu_quota(str(tmp_path)) == expected


@pytest.mark.parametrize("quota, busy, expected", [
    (None, 0.0, 8), (0.5, 0.0, 1), (1.0, 0.0, 1), (1.5, 0.0, 2), (3.0, 0.0, 3), (64.0, 0.0, 8),
    (None, 2.0, 6), (None, 7.6, 1), (None, 30.0, 1), (3.0, 1.0, 2),
])
def test_default_workers_are_the_cpus_the_quota_and_the_others_leave(monkeypatch, quota, busy, expected):
    from credlint.store import cpus

    monkeypatch.setattr(cpus.os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    monkeypatch.setattr(cpus, "cpu_quota", lambda: quota)
    monkeypatch.setattr(cpus, "busy_cpus", lambda: busy)
    assert cpus.default_jobs() == expected
    assert cpus.usable_cpus() == (8 if quota is None else max(1, min(8, round(quota + 0.01))))


@pytest.mark.parametrize("text, expected", [
    ("0.20 0.31 0.40 1/115 1183\n", 0.0),  # only this process runs
    ("1.89 1.44 1.11 3/115 1183\n", 1.89),  # two others run now, and have for a while
    ("3.50 3.10 2.00 1/115 1183\n", 0.0),  # the load has just ended
    ("0.10 0.05 0.01 5/115 1183\n", 0.10),  # a burst that just started
    ("garbage\n", 0.0),
])
def test_busy_cpus_from_the_load(tmp_path, text, expected):
    from credlint.store.cpus import busy_cpus

    (tmp_path / "loadavg").write_text(text)
    assert busy_cpus(str(tmp_path / "loadavg")) == pytest.approx(expected)
    assert busy_cpus(str(tmp_path / "absent")) == 0.0


@pytest.mark.parametrize("python, other, workers, expected", [
    (15, 0, 2, 1),  # below the break-even: no pool
    (16, 0, 2, 2),
    (10, 500, 2, 1),  # files that are only read and scanned do not count
    (500, 0, 1, 1),  # --jobs 1
    (64, 0, 8, 4),  # each process gets at least the break-even's share
    (1000, 0, 8, 8),
])
def test_pool_size_follows_the_python_files_to_analyse(python, other, workers, expected):
    from credlint.store.workers import Job, pool_size

    jobs = [Job(f"m{i}.py", f"/x/m{i}.py") for i in range(python)] + \
        [Job(f"d{i}.yaml", f"/x/d{i}.yaml") for i in range(other)]
    assert pool_size(jobs, workers) == expected


PRESTART_PROBE = """
import contextlib, io, json, os, sys
from credlint.store.early import EarlyWorker

made, submitted, early = [], [], []
real_init, real_submit = EarlyWorker.__init__, EarlyWorker.submit

def init(self, *args):
    real_init(self, *args)
    made.append(self.pid)
    early.append("credlint.api" not in sys.modules and "credlint.store.workers" not in sys.modules)  # forked before the run's own imports

def submit(self, jobs):
    submitted.append((self.pid, [job.rel for job in jobs]))
    return real_submit(self, jobs)

EarlyWorker.__init__, EarlyWorker.submit = init, submit
from credlint.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(["check", "--format", "concise"] + sys.argv[1:] + ["."])
reaped = []
for pid in made:
    try:
        os.waitpid(pid, os.WNOHANG)
        reaped.append(False)
    except ChildProcessError:
        reaped.append(True)
print(json.dumps({"code": code, "made": made, "early": early, "submitted": submitted, "reaped": reaped,
                  "libcst": "libcst" in sys.modules}))
"""


@pytest.mark.parametrize("flags, used", [([], True), (["--jobs", "1"], None), (["--no-cache"], False)])
def test_credlint_check_forks_its_early_worker_first_thing(warm_copy, flags, used):
    """The worker is forked before the run's own imports; the run claims it (no second fork)
    and hands it the changed flow, or shares every file with it (`--no-cache`: batches, not one
    submitted job); `--jobs 1` never forks it."""
    import json
    import subprocess
    import sys

    from conftest import _env

    _edit(warm_copy)
    proc = subprocess.run([sys.executable, "-c", PRESTART_PROBE] + flags, cwd=str(warm_copy), env=_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["code"] == 1
    if used is None:
        assert result["made"] == []
        return
    assert len(result["made"]) == 1 and result["reaped"] == [True] and result["early"] == [True]
    if used:
        assert result["submitted"] == [[result["made"][0], ["flows/generated_004.py"]]]
        assert not result["libcst"]  # the parse was the worker's (concise names no fixes)
    else:
        assert result["submitted"] == [] and result["libcst"]  # this process parsed its share


def test_an_early_worker_sharing_the_work_is_not_counted_as_anothers(warm_copy, started, monkeypatch):
    """Many changed files are shared with the early worker as the pool's second process; when
    the free CPUs are decided, the worker is not counted as another process's work even while
    it is on a CPU (importing the parser)."""
    from credlint.api import Options, check
    from credlint.store import early, gather

    for i in range(0, 40, 2):  # twenty changed flows: more than one process is worth
        path = warm_copy / "flows" / f"generated_{i:03d}.py"
        path.write_text(path.read_text() + "X = 1\n")
        old = time.time() - 30
        os.utime(path, (old, old))
    owns = []

    def counted(own=0):
        owns.append(own)
        return 2

    monkeypatch.setattr(gather, "default_jobs", counted)
    monkeypatch.setattr(early.EarlyWorker, "running", lambda self: True)
    run = check(Options(paths=["."]))
    assert run.stats["analysed"] == 20 and run.stats["workers"] == 2
    assert owns == [1] and len(started) == 1 and _reaped(started)


@pytest.mark.parametrize("busy, own, expected", [(1.0, 0, 1), (1.0, 1, 2), (0.0, 1, 2), (3.0, 1, 1)])
def test_default_workers_do_not_count_the_runs_own_worker(monkeypatch, busy, own, expected):
    from credlint.store import cpus

    monkeypatch.setattr(cpus.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(cpus, "cpu_quota", lambda: None)
    monkeypatch.setattr(cpus, "busy_cpus", lambda: busy)
    assert cpus.default_jobs(own=own) == expected


def test_files_only_touched_are_hashed_here_and_start_no_worker(warm_copy, submitted, started):
    """New times on unchanged files (a CI cache restored, a checkout that rewrote them): hashed
    in this process; their cached facts stand, and no worker parses anything."""
    from credlint.api import Options, check

    for report in (warm_copy / ".credlint_cache").glob("run-*.json"):
        report.unlink()
    later = time.time() - 20
    for path in sorted((warm_copy / "flows").glob("generated_*.py"))[:30]:
        os.utime(path, (later, later))
    run = check(Options(paths=["."], jobs=2))
    assert run.stats["analysed"] == 0 and run.stats["workers"] == 1
    assert submitted == [] and _reaped(started)
    for report in (warm_copy / ".credlint_cache").glob("run-*.json"):
        report.unlink()
    again = check(Options(paths=["."], jobs=2))  # the new times were stored: nothing to hash now
    assert again.stats["analysed"] == 0 and [f.to_json() for f in again.report.findings] == \
        [f.to_json() for f in run.report.findings]


def test_the_cycle_collector_pauses_while_a_file_is_analysed(tmp_path, monkeypatch):
    """A parse builds a node per token, and the cycle collector would walk them all dozens of
    times per file: it is off while one file is analysed and back on after, also when the
    analysis fails; a caller that paused it itself gets it back paused."""
    import gc

    import credlint.facts.file as file_facts
    from credlint.prefect.catalogue import builtin_catalogue
    from credlint.store.workers import Job, run_job

    flow = tmp_path / "flow.py"
    flow.write_text('from prefect import Flow\n\nwith Flow("f") as flow:\n    pass\n', encoding="utf-8")
    real = file_facts.analyse
    seen = []

    def watched(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(file_facts, "analyse", watched)
    assert gc.isenabled()
    outcome = run_job(Job("flow.py", str(flow)), builtin_catalogue())
    assert outcome.facts.module.flows and seen == [False] and gc.isenabled()

    def failing(*args, **kwargs):
        raise RuntimeError("analysis failed")

    monkeypatch.setattr(file_facts, "analyse", failing)
    with pytest.raises(RuntimeError):
        run_job(Job("flow.py", str(flow)), builtin_catalogue())
    assert gc.isenabled()

    monkeypatch.setattr(file_facts, "analyse", watched)
    gc.disable()
    try:
        run_job(Job("flow.py", str(flow)), builtin_catalogue())
        assert seen == [False, False] and not gc.isenabled()
    finally:
        gc.enable()
