"""`credlint server`: `check` answered by a long-lived process must be the answer a fresh process
gives, through every kind of change; a server of another build, a dead one or an unsafe socket
folder is never used; errors read as they do without a server."""
from __future__ import annotations

import json
import os
import socket
import sys
import time

import pytest

from conftest import run_cli
from test_secrets_never_leak import AWS_SECRET, FLOW as LEAKY_FLOW, assert_no_leak

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="credlint server is Linux only")

FLOW = '''
from prefect import Flow
from prefect.storage import GCS
from prefect.tasks.aws.s3 import S3Download
from prefect.tasks.notifications.slack_task import SlackTask

with Flow("etl", storage=GCS(bucket="b", secrets=["GCP_CREDENTIALS"])) as flow:
    S3Download(bucket="raw")()
    SlackTask()(message="done")
'''


@pytest.fixture
def runtime(tmp_path, monkeypatch):
    """A private socket folder of this test's own, as XDG_RUNTIME_DIR."""
    folder = tmp_path / "run"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    return folder


@pytest.fixture
def served(project, runtime):
    """A project with a server started for it (stopped at the end, whatever happens)."""
    project.write({"flows/etl.py": FLOW, "flows/other.py": "X = 1\n"}, config='backend = "server"\n')
    _age(project.root)
    code, out, err = run_cli("server", "start", "--idle-timeout", "120", cwd=project.root)
    assert code == 0, err
    assert "server started" in out
    yield project
    run_cli("server", "stop", cwd=project.root)


def _age(root, seconds=60):
    """Back-date every file: fresh files are never trusted by their mtime, which would hide reuse."""
    old = time.time() - seconds
    for path in root.rglob("*"):
        if path.is_file() and ".credlint_cache" not in path.parts:
            os.utime(path, (old, old))


def _answered(root) -> int:
    code, out, _ = run_cli("server", "status", cwd=root)
    assert code == 0, out
    return int(out.split(" check(s)")[0].rsplit(" ", 1)[1])


def _check(root, *args, server=True):
    extra = () if server else ("--no-server", "--no-cache")
    code, out, err = run_cli("check", "--format", "json", *args, *extra, cwd=root)
    return code, out, err


def test_answers_are_those_of_a_fresh_process_through_every_change(served):
    root = served.root
    steps = [
        ("first look", lambda: None),
        ("nothing changed", lambda: None),
        ("a flow edited", lambda: served.write({"flows/etl.py": FLOW.replace('SlackTask()(message="done")', "pass")})),
        ("a provider added", lambda: served.write({"deploy/agent.sh": "prefect agent docker start "
                                                   "-e PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS=$AWS\n"})),
        ("a new flow", lambda: served.write({"flows/new.py": FLOW.replace('"etl"', '"new"')})),
        ("a file deleted", lambda: served.path("flows/new.py").unlink()),
        ("the configuration changed", lambda: served.write(config='backend = "cloud"\n')),
    ]
    answered = 0
    for label, change in steps:
        change()
        _age(root)
        got = _check(root)
        expected = _check(root, server=False)
        assert got[0] == expected[0], label
        assert json.loads(got[1]) == json.loads(expected[1]), label
        answered += 1
        assert _answered(root) == answered, f"{label}: not answered by the server"
    # One path, a format that needs the rules' metadata, and an editor buffer.
    code, out, _ = run_cli("check", "--format", "sarif", "flows/etl.py", cwd=root)
    assert code == run_cli("check", "--format", "sarif", "--no-server", "flows/etl.py", cwd=root)[0]
    assert json.loads(out)["runs"][0]["tool"]["driver"]["rules"]
    buffer = FLOW.replace("S3Download", "S3Upload")
    import subprocess

    from conftest import _env

    def stdin_run(*extra):
        return subprocess.run([sys.executable, "-m", "credlint", "check", "--format", "json", "--stdin-filename",
                               "flows/etl.py", *extra], input=buffer, cwd=str(root), env=_env(),
                              capture_output=True, text=True, timeout=120)

    through, alone = stdin_run(), stdin_run("--no-server")
    assert through.returncode == alone.returncode and json.loads(through.stdout) == json.loads(alone.stdout)
    assert _answered(root) == answered + 2


def test_the_api_reports_who_answered(served, monkeypatch):
    from credlint.api import Options, check

    monkeypatch.chdir(served.root)
    assert check(Options(paths=["."])).stats.get("server") == 1
    assert "server" not in check(Options(paths=["."], server=False)).stats
    assert "server" not in check(Options(paths=["."], cache=False)).stats  # no cache: no server either


def test_a_server_of_another_build_is_not_used_and_stops(served, monkeypatch):
    from credlint.api import Options, check
    from credlint.speed import client as server

    monkeypatch.chdir(served.root)
    monkeypatch.setattr(server, "build_id", lambda: "another build")
    run = check(Options(paths=["."]))
    assert "server" not in run.stats
    assert run.report.findings
    for _ in range(100):
        if run_cli("server", "status", cwd=served.root)[0] == 1:
            break
        time.sleep(0.05)
    assert run_cli("server", "status", cwd=served.root)[0] == 1


def test_errors_read_as_without_a_server(served):
    served.write(config='select = ["CL999"]\n')
    with_server = run_cli("check", cwd=served.root)
    without = run_cli("check", "--no-server", cwd=served.root)
    assert with_server[0] == without[0] == 2
    assert with_server[2] == without[2] and "CL999" in with_server[2]
    served.write(config='backend = "server"\n')
    assert run_cli("check", "--format", "json", cwd=served.root)[0] == 1  # and it still answers


def test_a_dead_server_is_ignored_and_replaced(project, runtime):
    from credlint.speed import client as server

    project.write({"flows/etl.py": FLOW}, config='backend = "server"\n')
    path = server.socket_path(project.root / ".credlint_cache")
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(path))  # a socket file nobody listens on: a server killed without cleaning up
    dead.close()
    assert path.exists()
    code, out, err = _check(project.root)
    assert code == 1 and err == "" and json.loads(out)["findings"]
    code, out, err = run_cli("server", "start", "--idle-timeout", "120", cwd=project.root)
    try:
        assert code == 0, err
        assert _check(project.root)[0] == 1 and _answered(project.root) == 1
    finally:
        run_cli("server", "stop", cwd=project.root)
    assert not path.exists()  # a stopped server removes its socket


def test_status_stop_and_idle_timeout(project, runtime):
    project.write({"flows/etl.py": FLOW})
    assert run_cli("server", "status", cwd=project.root)[0] == 1
    assert run_cli("server", "stop", cwd=project.root)[0] == 1
    code, out, err = run_cli("server", "start", "--idle-timeout", "1", cwd=project.root)
    assert code == 0, err
    code, out, _ = run_cli("server", "start", cwd=project.root)
    assert code == 0 and "already running" in out
    for _ in range(100):
        time.sleep(0.1)
        if run_cli("server", "status", cwd=project.root)[0] == 1:
            break
    assert run_cli("server", "status", cwd=project.root)[0] == 1  # stopped by itself once idle
    assert list(runtime.rglob("*.sock")) == []


def test_a_socket_folder_others_can_open_is_refused(project, runtime):
    project.write({"flows/etl.py": FLOW}, config='backend = "server"\n')
    folder = runtime / f"credlint-{os.getuid()}"
    folder.mkdir(mode=0o700)
    os.chmod(folder, 0o777)
    code, _, err = run_cli("server", "start", cwd=project.root)
    assert code == 2 and "no private folder for the socket" in err
    assert _check(project.root)[0] == 1  # check carries on without a server


def test_a_server_keeps_no_secret_anywhere(project, runtime):
    project.write({"flows/leaky.py": LEAKY_FLOW})
    _age(project.root)
    code, _, err = run_cli("server", "start", "--idle-timeout", "120", cwd=project.root)
    assert code == 0, err
    try:
        for _ in range(2):
            code, out, err = run_cli("check", "--format", "json", cwd=project.root)
            assert code == 1 and AWS_SECRET[:20] not in out
            assert_no_leak("check through the server", out + err)
        status = run_cli("server", "status", cwd=project.root)
        assert_no_leak("server status", status[1] + status[2])
    finally:
        run_cli("server", "stop", cwd=project.root)
    for folder in (runtime, project.root / ".credlint_cache"):
        for path in folder.rglob("*"):
            if path.is_file():
                assert_no_leak(str(path), path.read_bytes().decode("utf-8", "replace"))


def test_the_project_model_leaves_facts_as_it_found_them(project, monkeypatch):
    """A server builds a model from the same facts objects request after request: building it and
    running every rule must not change them."""
    import shutil
    from pathlib import Path

    from credlint.store import gather as gather_module
    from credlint.engine.fixtures import run_rule
    from credlint.api import Options, load

    shutil.copytree(Path(__file__).resolve().parent.parent / "examples", project.root / "examples")
    project.write({"flows/leaky.py": LEAKY_FLOW, "flows/etl.py": FLOW})
    captured = {}
    original = gather_module.gather

    def spy(*args, **kwargs):
        captured["gathered"] = result = original(*args, **kwargs)
        return result

    monkeypatch.setattr(gather_module, "gather", spy)
    monkeypatch.chdir(project.root)
    loaded = load(Options(paths=["."], cache=False))
    facts = captured["gathered"].facts
    before = {rel: json.dumps(f.to_data(), sort_keys=True) for rel, f in facts.items()}
    assert sum(1 for f in facts.values() if f.module is not None and f.module.flows) >= 3
    for rule_ in loaded.rules:
        list(run_rule(rule_, loaded.project))
    after = {rel: json.dumps(f.to_data(), sort_keys=True) for rel, f in facts.items()}
    assert after == before


def test_a_terminated_server_removes_its_socket(project, runtime):
    import signal

    project.write({"flows/etl.py": FLOW})
    code, out, err = run_cli("server", "start", "--idle-timeout", "120", cwd=project.root)
    assert code == 0, err
    pid = int(out.split("(pid ")[1].split(")")[0])
    assert list(runtime.rglob("*.sock"))
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        if not list(runtime.rglob("*.sock")):
            break
        time.sleep(0.05)
    assert list(runtime.rglob("*.sock")) == []
    assert run_cli("server", "status", cwd=project.root)[0] == 1


def test_a_relative_cache_folder_names_the_same_server_from_anywhere_in_the_project(project, runtime):
    project.write({"flows/etl.py": FLOW, "flows/sub/other.py": "X = 1\n"}, config='backend = "server"\n')
    _age(project.root)
    code, out, err = run_cli("server", "start", "--cache-dir", "build/cache", "--idle-timeout", "120", cwd=project.root)
    assert code == 0, err
    try:
        assert _check(project.root, "--cache-dir", "build/cache")[0] == 1
        code, out, err = run_cli("check", "--format", "json", "--cache-dir", "../../build/cache", ".",
                                 cwd=project.root / "flows" / "sub")
        assert code == 0 and json.loads(out)["findings"] == [], err  # only that folder is reported
        status = run_cli("server", "status", "--cache-dir", "build/cache", cwd=project.root)[1]
        assert " 2 check(s)" in status, status
        assert (project.root / "build" / "cache").is_dir() and not (project.root / ".credlint_cache").exists()
    finally:
        run_cli("server", "stop", "--cache-dir", "build/cache", cwd=project.root)
