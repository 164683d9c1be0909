"""A real Prefect 3 server for the tests that read a workspace (`credlint blocks`, the 2.x/3.x
preflight): `prefect server start` from the cached venv of tests/prefect3_venv.py, on loopback,
on a free port, with SQLite in a temporary PREFECT_HOME; started once per session, stopped at its
end. tests/conftest.py imports the fixtures, so every test module shares the one server.

The server is hardened as a careful team's would be: basic auth (PREFECT_SERVER_API_AUTH_STRING)
and CSRF protection, so the client must authenticate and fetch a CSRF token. Use
`server.env(...)` for credlint's environment and `server.run_prefect(script)` to make blocks and
Variables through Prefect's own client. Nothing of the developer's PREFECT_* settings reaches
either (a test must never talk to a real workspace).

The database is copied from a migrated, empty template kept in the venv folder (built once with
`prefect server database upgrade`; rebuilding the venv drops it): a fresh database costs the
server's start some 6 s of migrations.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, Iterator, Optional

import pytest

from prefect3_venv import PREFECT_VERSION, prefect3_python

AUTH_STRING = "credlint-tests:" + "Wq4nT8xZ2rLk6Vb9"  # the server's own basic-auth pair, for these tests only
START_TIMEOUT = 180.0
TEMPLATE = "credlint-server-db"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(home: Path, **extra: str) -> Dict[str, str]:
    """A minimal environment: no PREFECT_* or proxy setting of the developer's, HOME in `home`."""
    env = {key: value for key, value in os.environ.items()
           if key in ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR", "SSL_CERT_FILE")}
    env.update({"HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200", "NO_PROXY": "127.0.0.1,localhost",
                "no_proxy": "127.0.0.1,localhost"})
    env.update(extra)
    return env


def _run(cmd, env, what: str, timeout: float) -> subprocess.CompletedProcess:
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{what} timed out after {timeout:.0f}s", pytrace=False)
    if proc.returncode != 0:
        pytest.fail(f"{what} failed (exit {proc.returncode})\n--- stderr (tail) ---\n{proc.stderr[-3000:]}",
                    pytrace=False)
    return proc


def _template_db(python: Path, scratch: Path) -> Path:
    """A migrated, empty prefect.db for this venv's Prefect, built once (under the venv's lock)."""
    folder = python.parent.parent / TEMPLATE
    database = folder / f"prefect-{PREFECT_VERSION}.db"
    if database.exists():
        return database
    with open(python.parent.parent / f".{TEMPLATE}.lock", "w") as lock:
        try:
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - not POSIX
            pass
        if database.exists():
            return database
        home = scratch / "template-home"
        home.mkdir(parents=True, exist_ok=True)
        _run([str(python.parent / "prefect"), "server", "database", "upgrade", "-y"],
             clean_env(home, PREFECT_HOME=str(home)), "migrating a template Prefect database", 600)
        folder.mkdir(exist_ok=True)
        partial = folder / f".{database.name}.partial"
        shutil.copyfile(home / "prefect.db", partial)
        partial.replace(database)  # last: a template that exists is complete
    return database


class PrefectServer:
    """A running `prefect server start` (url ends in /api) and how to talk to it."""

    def __init__(self, python: Path, home: Path, port: int, process: subprocess.Popen, log: Path):
        self.python, self.home, self.port, self.process, self.log = python, home, port, process, log
        self.url = f"http://127.0.0.1:{port}/api"

    def env(self, home: Path, authenticated: bool = True, **extra: str) -> Dict[str, str]:
        """credlint's environment: PREFECT_API_URL (and the auth string) of this server."""
        settings = {"PREFECT_API_URL": self.url}
        if authenticated:
            settings["PREFECT_API_AUTH_STRING"] = AUTH_STRING
        return clean_env(home, **{**settings, **extra})

    def run_prefect(self, script: str, timeout: float = 300) -> str:
        """Run `script` with the prefect venv's python against this server; its stdout."""
        env = clean_env(self.home, PREFECT_HOME=str(self.home / "client"), PREFECT_API_URL=self.url,
                        PREFECT_API_AUTH_STRING=AUTH_STRING)
        return _run([str(self.python), "-c", textwrap.dedent(script)], env, "a Prefect client script",
                    timeout).stdout

    def answering(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=2) as answer:
                return answer.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # its own session: the server and its children
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)


def start_server(python: Path, home: Path, database: Optional[Path]) -> PrefectServer:
    home.mkdir(parents=True, exist_ok=True)
    if database is not None:
        shutil.copyfile(database, home / "prefect.db")
    log = home / "server.log"
    started = time.monotonic()
    for _attempt in range(3):  # a free port may be taken before the server binds it
        port = _free_port()
        env = clean_env(home, PREFECT_HOME=str(home), PREFECT_SERVER_UI_ENABLED="false",
                        PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_SERVER_API_AUTH_STRING=AUTH_STRING,
                        PREFECT_SERVER_CSRF_PROTECTION_ENABLED="true")
        with open(log, "w") as out:
            process = subprocess.Popen([str(python.parent / "prefect"), "server", "start", "--host", "127.0.0.1",
                                        "--port", str(port), "--no-services"], env=env, stdout=out,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        server = PrefectServer(python, home, port, process, log)
        while process.poll() is None and time.monotonic() - started < START_TIMEOUT:
            if server.answering():
                print(f"\n[prefect-server] {server.url} answered after {time.monotonic() - started:.1f}s")
                return server
            time.sleep(0.2)
        server.stop()
        if "already in use" not in log.read_text(errors="replace"):
            break
    pytest.fail(f"`prefect server start` did not answer within {START_TIMEOUT:.0f}s\n--- {log} (tail) ---\n"
                f"{log.read_text(errors='replace')[-3000:]}", pytrace=False)


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory) -> Iterator[PrefectServer]:
    """The session's Prefect server (started on first use, stopped when the session ends)."""
    python = prefect3_python()
    scratch = tmp_path_factory.mktemp("prefect-server")
    server = start_server(python, scratch / "home", _template_db(python, scratch))
    try:
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------------------------
# One planted workspace for the tests that read it (block names start with "cl-", so tests
# that plant more on the same server do not disturb them)
# --------------------------------------------------------------------------------------------

AKID = "AKIA" + "Z7Q4RM2PLW5KHN3D"
SAK = "q8Jh3Rw2Lt9Vn5Xb" + "7Yc1Kz4Pm6Ds0Fg2Hj8Wl5Nr"
SESSION_TOKEN = "FwoGZXIvYXdzE" + "Jk8Qm3Lr7Vn2Tb5Yc9Xz1Pd4Ws6Hf0Gj"  # a plain str field: the API returns it in clear
GITHUB_TOKEN = "ghp_" + "R4nD0mT0k3nV4lu3X9Lq2Wz7Kp5Mc8Hb1Ny6"
ANON_AKID = "AKIA" + "P3K8WQ2ZLM7RHN4D"
ANON_SAK = "Zx9Lq2Wz7Kp5Mc8H" + "b1Ny6R4nD0mT0k3nV4lu3X9a"
VARIABLE_PASSWORD = "Vq7nR2pL" + "9xWz4Kt6Hb"
PLANTED = [AKID, SAK, SESSION_TOKEN, GITHUB_TOKEN, ANON_AKID, ANON_SAK, VARIABLE_PASSWORD]

# (slug, name) -> what preflight says of it
PLANTED_BLOCKS = {
    ("aws-credentials", "cl-prod"): "present",
    ("aws-credentials", "cl-empty"): "ambient",
    ("aws-credentials", "cl-region-only"): "ambient",
    ("aws-credentials", "cl-profile"): "present",
    ("secret", "cl-github-token"): "present",
    ("s3-bucket", "cl-bucket-inline"): "ambient",
    ("s3-bucket", "cl-bucket-ref"): "present",
}
PLANTED_VARIABLES = ("cl_db_password", "cl_db_host")


def assert_no_leak(text: str, where: str = "output") -> None:
    """No planted value, nor any 8-character piece of one, in `text`."""
    for value in PLANTED:
        for i in range(len(value) - 7):
            assert value[i:i + 8] not in text, f"a piece of a planted value ({value[i:i + 8]!r}) is in the {where}"


def assert_no_leak_in_files(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            assert_no_leak(path.read_bytes().decode("utf-8", "replace"), str(path))


@pytest.fixture(scope="session")
def planted_workspace(prefect_server: PrefectServer) -> PrefectServer:
    """The session server with the blocks of PLANTED_BLOCKS, an anonymous block with keys, and the
    Variables cl_db_password (a credential) and cl_db_host, all made by Prefect's own client."""
    prefect_server.run_prefect(f"""
        from prefect.blocks.system import Secret
        from prefect.variables import Variable
        from prefect_aws import AwsCredentials, S3Bucket

        AwsCredentials(aws_access_key_id={AKID!r}, aws_secret_access_key={SAK!r},
                       aws_session_token={SESSION_TOKEN!r}, region_name="eu-west-1").save("cl-prod")
        AwsCredentials().save("cl-empty")
        AwsCredentials(region_name="us-east-1").save("cl-region-only")
        AwsCredentials(profile_name="etl").save("cl-profile")
        Secret(value={GITHUB_TOKEN!r}).save("cl-github-token")
        S3Bucket(bucket_name="raw").save("cl-bucket-inline")
        S3Bucket(bucket_name="raw", credentials=AwsCredentials.load("cl-prod")).save("cl-bucket-ref")
        anonymous = AwsCredentials(aws_access_key_id={ANON_AKID!r}, aws_secret_access_key={ANON_SAK!r})
        anonymous._save_sync(is_anonymous=True)
        Variable.set("cl_db_password", {VARIABLE_PASSWORD!r})
        Variable.set("cl_db_host", "db.internal")
    """)
    return prefect_server
