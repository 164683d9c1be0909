"""`credlint blocks` against a real Prefect server (tests/prefect_server.py): the workspace's
block names as the config's `blocks` list, printed or written, never a value; and what it says
when the server cannot be reached or refuses the credentials."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from prefect_server import (AKID, PLANTED_BLOCKS, PrefectServer, assert_no_leak, assert_no_leak_in_files,
                            clean_env)

PLANTED_REFS = sorted(f"{slug}/{name}" for slug, name in PLANTED_BLOCKS)
API_KEY = "pnu_" + "Xk2Lq9Wz7Rt4Mb8Vn3Hc6Pd1Gj5Fs0Ya2Bq"  # a Prefect Cloud key's shape, refused by the server


def run(args, cwd: Path, env) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "credlint", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)
    for text in (proc.stdout, proc.stderr):
        assert_no_leak(text)
        assert API_KEY[4:12] not in text and "Wq4nT8xZ" not in text, "a key or auth string was echoed"
    return proc


def ours(refs):
    return [ref for ref in refs if ref.split("/", 1)[1].startswith("cl-")]


@pytest.fixture
def home(tmp_path) -> Path:
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


@pytest.fixture
def repo(tmp_path) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    return root


def listed(proc) -> list:
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert text.startswith("blocks = ["), text
    from credlint.tomlcompat import toml

    return toml.loads(text)["blocks"]


def test_prints_the_sorted_names_of_every_named_block_and_no_value(planted_workspace: PrefectServer, repo, home):
    proc = run(["blocks"], repo, planted_workspace.env(home))
    refs = listed(proc)
    assert ours(refs) == PLANTED_REFS
    assert not [ref for ref in refs if "/anonymous-" in ref]  # the anonymous block (with keys) is left out
    assert refs == sorted(refs)
    assert f"{len(refs)} block(s) in the workspace at {planted_workspace.url}" in proc.stderr
    assert_no_leak_in_files(repo)  # listing writes nothing


def test_json_lists_slug_and_name(planted_workspace: PrefectServer, repo, home):
    proc = run(["blocks", "--format", "json"], repo, planted_workspace.env(home))
    assert proc.returncode == 0, proc.stderr
    rows = [row for row in json.loads(proc.stdout) if row["name"].startswith("cl-")]
    assert rows[0] == {"block": "aws-credentials/cl-empty", "slug": "aws-credentials", "name": "cl-empty"}
    assert [row["block"] for row in rows] == PLANTED_REFS


CONFIG = """\
# credlint for the ETL repo
backend = "server"   # our own Prefect server
blocks = [
    "secret/old-token",  # gone since March
    "aws-credentials/retired",
]
select = ["CL1", "CL2"]

[per-file-ignores]
"tests/*" = ["CL201"]
"""


def test_write_replaces_the_list_and_keeps_every_other_byte(planted_workspace: PrefectServer, repo, home):
    (repo / "credlint.toml").write_bytes(CONFIG.encode())
    proc = run(["blocks", "--write"], repo, planted_workspace.env(home))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    text = (repo / "credlint.toml").read_text()
    head, rest = CONFIG.split("blocks = [", 1)
    tail = rest.split("]\n", 1)[1]
    assert text.startswith(head + "blocks = [") and text.endswith("]\n" + tail)
    from credlint.config import load_config

    config = load_config(repo / "credlint.toml")
    assert ours(config.blocks) == PLANTED_REFS and config.backend == "server" and config.select == ["CL1", "CL2"]
    assert "set `blocks` in credlint.toml" in proc.stderr
    again = run(["blocks", "--write"], repo, planted_workspace.env(home))
    assert again.returncode == 0 and "up to date" in again.stderr
    assert (repo / "credlint.toml").read_text() == text
    assert_no_leak_in_files(repo)
    check = run(["check", "--format", "json", "."], repo, planted_workspace.env(home))
    assert check.returncode in (0, 1), check.stderr  # the written configuration is valid


def test_write_adds_the_key_to_pyproject_tool_credlint_table(planted_workspace: PrefectServer, repo, home):
    pyproject = ('[project]\nname = "etl"\n\n[tool.credlint]\nbackend = "server"\n\n'
                 '[tool.credlint.per-file-ignores]\n"tests/*" = ["CL201"]\n\n[tool.ruff]\nline-length = 100\n')
    (repo / "pyproject.toml").write_text(pyproject)
    proc = run(["blocks", "--write"], repo, planted_workspace.env(home))
    assert proc.returncode == 0, proc.stderr
    text = (repo / "pyproject.toml").read_text()
    before, after = pyproject.split('backend = "server"\n', 1)
    assert text.startswith(before + 'backend = "server"\nblocks = [') and text.endswith("]\n" + after)
    from credlint.config import discover_config

    assert ours(discover_config(repo).blocks) == PLANTED_REFS


def test_write_creates_credlint_toml_when_the_project_has_no_configuration(planted_workspace: PrefectServer, repo,
                                                                          home):
    (repo / "flows").mkdir()
    proc = run(["blocks", "--write", "flows"], repo, planted_workspace.env(home))
    assert proc.returncode == 0, proc.stderr
    from credlint.config import load_config

    assert ours(load_config(repo / "credlint.toml").blocks) == PLANTED_REFS
    assert not (repo / "flows" / "credlint.toml").exists()


@pytest.mark.parametrize("name, odd", [
    # dotted keys, no [tool.credlint] header: a new header would define the table twice
    ("pyproject.toml", '[project]\nname = "etl"\n\n[tool]\ncredlint.blocks = ["secret/x"]  # dotted\n'),
    # a header-like line inside a multi-line string: the new line would land in the string
    ("credlint.toml", 'fail-on = "error"\ndocs-url = """\nhttps://docs.example/rules\n[see also]\n"""\n'),
])
def test_write_refuses_a_layout_it_cannot_rewrite_safely(planted_workspace: PrefectServer, repo, home, name, odd):
    (repo / name).write_text(odd)
    proc = run(["blocks", "--write"], repo, planted_workspace.env(home))
    assert proc.returncode == 2
    assert "cannot update `blocks` in" in proc.stderr and "set it by hand" in proc.stderr
    assert (repo / name).read_text() == odd


def test_a_server_that_cannot_be_reached_is_named_never_the_key(repo, home, tmp_path):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://etl:{API_KEY}@127.0.0.1:{port}/api?token={API_KEY}"
    proc = run(["blocks"], repo, clean_env(home, PREFECT_API_URL=url, PREFECT_API_KEY=API_KEY))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert f"cannot reach the Prefect API at http://127.0.0.1:{port}/api: connection refused" in proc.stderr
    proc = run(["blocks", "--write"], repo, clean_env(home, PREFECT_API_URL=url))
    assert proc.returncode == 2 and not (repo / "credlint.toml").exists()


def test_without_an_api_url_it_says_what_to_set(repo, home):
    proc = run(["blocks"], repo, clean_env(home, PREFECT_API_KEY=API_KEY))
    assert proc.returncode == 2
    assert "PREFECT_API_URL is not set" in proc.stderr


def test_refused_credentials_are_named_never_echoed(prefect_server: PrefectServer, repo, home):
    proc = run(["blocks"], repo, prefect_server.env(home, authenticated=False, PREFECT_API_KEY=API_KEY))
    assert proc.returncode == 2
    assert f"the Prefect API at {prefect_server.url} refused PREFECT_API_KEY (HTTP 401)" in proc.stderr
    wrong = prefect_server.env(home, PREFECT_API_AUTH_STRING="credlint-tests:" + "not-the-pass")
    proc = run(["blocks"], repo, wrong)
    assert proc.returncode == 2 and "refused PREFECT_API_AUTH_STRING (HTTP 401)" in proc.stderr
    assert "not-the-pass" not in proc.stderr
    proc = run(["blocks"], repo, prefect_server.env(home, authenticated=False))
    assert proc.returncode == 2 and "requires authentication (HTTP 401)" in proc.stderr


def test_a_url_that_is_not_the_api_says_so(prefect_server: PrefectServer, repo, home):
    proc = run(["blocks"], repo, prefect_server.env(home, PREFECT_API_URL=prefect_server.url[:-len("/api")]))
    assert proc.returncode == 2
    assert "(HTTP 404): is PREFECT_API_URL the API's URL?" in proc.stderr


def test_the_active_prefect_profile_gives_url_and_auth(planted_workspace: PrefectServer, repo, home):
    prefect_home = home / "prefect-home"
    prefect_home.mkdir()
    (prefect_home / "profiles.toml").write_text(textwrap.dedent(f"""\
        active = "local"

        [profiles.local]
        PREFECT_API_URL = "{planted_workspace.url}"
        PREFECT_API_AUTH_STRING = "{planted_workspace.env(home)['PREFECT_API_AUTH_STRING']}"

        [profiles.other]
        PREFECT_API_URL = "http://127.0.0.1:9/api"
    """))
    proc = run(["blocks"], repo, clean_env(home, PREFECT_HOME=str(prefect_home)))
    assert ours(listed(proc)) == PLANTED_REFS
    proc = run(["blocks"], repo, clean_env(home, PREFECT_HOME=str(prefect_home), PREFECT_PROFILE="other"))
    assert proc.returncode == 2 and "http://127.0.0.1:9/api" in proc.stderr


def test_summaries_keep_field_states_and_drop_values():
    """The API's answer (as Prefect 3.9.1 gives it with include_secrets false, abridged) reduced:
    names, and which fields hold something; nothing of a value survives."""
    from credlint.tools.prefect_api import summarize

    raw = {
        "name": "bucket", "is_anonymous": False, "block_type": {"slug": "s3-bucket"},
        "data": {"bucket_name": "raw", "bucket_folder": "",
                 "credentials": {"aws_access_key_id": AKID, "aws_secret_access_key": "********",
                                 "profile_name": None, "aws_client_parameters": {"use_ssl": True, "verify": None},
                                 "assume_role_kwargs": {"Policy": None}}},
        "block_schema": {"fields": {"secret_fields": ["credentials.aws_secret_access_key"],
                                    "block_schema_references": {"credentials": [
                                        {"block_type_slug": "aws-credentials"},
                                        {"block_type_slug": "minio-credentials"}]}}},
        "block_document_references": {"credentials": {"block_document": {
            "name": "prod", "is_anonymous": False, "block_type": {"slug": "aws-credentials"}}}},
    }
    document = summarize(raw)
    assert document.ref == "s3-bucket/bucket"
    assert document.node.set_fields == {"bucket_name"} and document.node.empty_fields == {"bucket_folder"}
    (field, child, saved), = document.node.nested
    assert (field, child.slug, saved) == ("credentials", "aws-credentials", "prod")
    assert child.set_fields == {"aws_access_key_id", "aws_secret_access_key", "aws_client_parameters"}
    assert child.empty_fields == {"profile_name", "assume_role_kwargs"}
    assert child.secret_fields == {"aws_secret_access_key"}
    assert AKID not in repr(document)
    assert summarize({**raw, "is_anonymous": True}) is None


@pytest.fixture
def recording_proxy(prefect_server: PrefectServer):
    """A pass-through in front of the real server that records every request credlint sends."""
    import threading
    import urllib.error
    import urllib.request
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen = []

    class Forward(BaseHTTPRequestHandler):
        def _forward(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append((self.command, self.path, body))
            upstream = prefect_server.url[:-len("/api")] + self.path
            request = urllib.request.Request(upstream, data=body or None, method=self.command)
            for header in ("Authorization", "Content-Type", "Prefect-Csrf-Token", "Prefect-Csrf-Client"):
                if self.headers.get(header):
                    request.add_header(header, self.headers[header])
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    status, payload = answer.status, answer.read()
            except urllib.error.HTTPError as exc:
                status, payload = exc.code, exc.read()
            self.send_response(status)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        def log_message(self, *args):
            pass

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{proxy.server_address[1]}/api", seen
    finally:
        proxy.shutdown()
        proxy.server_close()


def test_only_reads_and_never_asks_for_secrets(planted_workspace: PrefectServer, recording_proxy, repo, home):
    url, seen = recording_proxy
    env = planted_workspace.env(home, PREFECT_API_URL=url)
    assert ours(listed(run(["blocks"], repo, env))) == PLANTED_REFS
    proc = subprocess.run([sys.executable, "-m", "credlint", "preflight", "--format", "json", "--block",
                           "aws-credentials/cl-prod", "--variable", "cl_db_host"], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=120)
    assert json.loads(proc.stdout)["workspace"]["blocks"][0]["status"] == "present"
    block_reads = [json.loads(body) for method, path, body in seen if path == "/api/block_documents/filter"]
    assert len(block_reads) >= 4 and all(read["include_secrets"] is False for read in block_reads)
    for method, path, _body in seen:
        assert (method, path.split("?")[0]) in {("POST", "/api/block_documents/filter"),
                                               ("POST", "/api/variables/filter"), ("GET", "/api/csrf-token")}
        assert "include_secrets=true" not in path.lower()
