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
    from credlint.runner import Options, check

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
    code, warm, _ = run_cli("check", "--cache-dir", cache, "--jobs", "1", "--format", "json", ".", cwd=big_project)
    assert cold == warm


@pytest.mark.parametrize("bad", ["0", "-1", "two"])
def test_jobs_must_be_a_positive_number(project, bad):
    code, _, err = run_cli("check", "--jobs", bad, ".", cwd=project.root)
    assert code == 2 and "--jobs" in err and "positive" in err


PARENT = os.getpid()


def _dies_in_workers(job, catalogue=None):
    """Stands in for workers.run_job: a worker process that dies (as when killed for memory)."""
    from credlint import workers

    if os.getpid() != PARENT and job.rel.endswith("generated_010.py"):
        os._exit(9)
    return workers._real_run_job(job, catalogue)


def test_a_dead_worker_does_not_lose_the_run(big_project, monkeypatch, capfd):
    from credlint import workers
    from credlint.runner import Options, check

    monkeypatch.chdir(big_project)
    expected = [f.to_json() for f in check(Options(paths=["."], jobs=1, cache=False)).report.findings]
    monkeypatch.setattr(workers, "_real_run_job", workers.run_job, raising=False)
    monkeypatch.setattr(workers, "run_job", _dies_in_workers)
    found = [f.to_json() for f in check(Options(paths=["."], jobs=2, cache=False)).report.findings]
    assert "worker processes failed (BrokenProcessPool); continuing in one process" in capfd.readouterr().err
    assert found == expected
