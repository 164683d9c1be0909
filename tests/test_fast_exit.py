"""The `credlint` command leaves the process without the interpreter's teardown after a check
(`credlint/__main__.py`), and loses nothing by it: every byte of the report is out, the exit
code is the check's, and the other commands keep the ordinary exit."""
from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from conftest import _env

FLOW = '''
from prefect import Flow
from prefect.tasks.snowflake import SnowflakeQuery

query = SnowflakeQuery(account="acme", user="loader", password="{password}")

with Flow("load-{index}") as flow:
    query()
'''

# Runs `credlint.__main__.entry` as the installed command does, with an exit handler that
# leaves a mark: a handler runs only on the interpreter's ordinary exit.
ENTRY = '''
import atexit, pathlib, sys
marker = pathlib.Path(sys.argv.pop(1))
atexit.register(lambda: marker.write_text("teardown"))
from credlint.__main__ import entry
entry()
'''


def _many_flows(project, count: int = 120) -> None:
    project({f"flows/load_{index}.py": FLOW.format(index=index, password=f"Qm7vXk2pLw9tRz{index:04d}")
             for index in range(count)})


def _buffered_env() -> dict:
    """The test environment with Python's own output buffering (some CI machines turn it off)."""
    env = _env()
    env.pop("PYTHONUNBUFFERED", None)
    return env


def _entry(marker: Path, *args: str, cwd: Path, stdout=subprocess.PIPE) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", ENTRY, str(marker), *args], cwd=str(cwd), env=_buffered_env(),
                          stdout=stdout, stderr=subprocess.PIPE, timeout=120)


def test_a_check_leaves_without_the_teardown_and_its_report_is_whole(project, tmp_path):
    _many_flows(project)
    marker = tmp_path / "ran-exit-handlers"
    report = tmp_path / "report.json"
    with open(report, "wb") as out:  # a file: block-buffered, so an unflushed buffer would be lost
        proc = _entry(marker, "check", ".", "--format", "json", "--no-cache", cwd=project.root, stdout=out)
    assert proc.returncode == 1, proc.stderr  # findings at the failing severity
    assert not marker.exists()  # out before the interpreter's exit handlers
    findings = json.loads(report.read_text(encoding="utf-8"))["findings"]
    assert len([f for f in findings if f["code"] == "CL201"]) == 120
    assert proc.stderr == b""


def test_a_clean_check_exits_0_and_a_bad_config_2(project, tmp_path):
    project({"flow.py": "x = 1\n"})
    marker = tmp_path / "ran-exit-handlers"
    proc = _entry(marker, "check", ".", "--no-cache", cwd=project.root)
    assert (proc.returncode, marker.exists()) == (0, False)
    project(config="fail-on = 3\n")
    proc = _entry(marker, "check", ".", "--no-cache", cwd=project.root)
    assert (proc.returncode, marker.exists()) == (2, False)
    assert b"credlint.toml" in proc.stderr


def test_a_reader_that_goes_away_is_no_error(project, tmp_path):
    _many_flows(project)
    marker = tmp_path / "ran-exit-handlers"
    proc = subprocess.Popen([sys.executable, "-c", ENTRY, str(marker), "check", ".", "--format", "concise",
                             "--no-cache"], cwd=str(project.root), env=_buffered_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.stdout.close()  # `| head -1`
    err = proc.stderr.read()
    assert b"CL" in first
    assert proc.wait(timeout=120) in (0, 1)
    assert b"Error" not in err and b"Traceback" not in err


def test_other_commands_exit_as_usual(project, tmp_path):
    marker = tmp_path / "ran-exit-handlers"
    proc = _entry(marker, "rules", cwd=project.root)
    assert proc.returncode == 0
    assert marker.read_text() == "teardown"


def test_the_installed_command_is_the_entry():
    scripts = {ep.name: ep.value for ep in metadata.entry_points(group="console_scripts")
               if ep.name == "credlint"}
    assert scripts == {"credlint": "credlint.__main__:entry"}


GC_PROBE = '''
import gc, sys
import credlint.cli as cli
real = cli.main
def main():
    sys.stderr.write(f"collector on: {gc.isenabled()}\\n")
    return real()
cli.main = main
from credlint.__main__ import entry
entry()
'''


def test_a_check_runs_without_the_cycle_collector_from_the_start(project):
    """Turned back on after the check, the collector would walk everything the check left (as
    long as the teardown the fast exit skips): a check's process keeps it off throughout."""
    project({"flow.py": "x = 1\n"})
    for args, on in ((["check", ".", "--no-cache"], False), (["rules"], True)):
        proc = subprocess.run([sys.executable, "-c", GC_PROBE, *args], cwd=str(project.root), env=_env(),
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert f"collector on: {on}" in proc.stderr
