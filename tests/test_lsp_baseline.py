"""The editor honours the project's baseline (issue 19): a finding `credlint check --baseline`
would hide is not published by `credlint lsp`; a new one is. Driven by a real LSP client, as
tests/test_lsp.py drives the server."""
from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Callable, List, Optional, Sequence

import pytest
from lsprotocol import types

from conftest import _env, run_cli

try:
    import pytest_lsp
    from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
except ImportError:  # Python 3.9: pytest-lsp needs 3.10
    pytest_lsp = None

with_client = pytest.mark.skipif(pytest_lsp is None, reason="pytest-lsp needs Python 3.10 or newer")

PASSWORD = "Qm7tWx" "3vKp9Ls2"  # planted, well formed; never to be shown
TIMEOUT = 30.0

OLD = '''\
from prefect import Flow
from prefect.tasks.notifications import SlackTask

with Flow("etl") as flow:
    SlackTask(message="loaded")()
'''
# The same flow with a new finding below the old one (a hard-coded password: CL201).
NEW = f'''\
from prefect import Flow
from prefect.tasks.notifications import SlackTask
from prefect.tasks.snowflake import SnowflakeQuery

with Flow("etl") as flow:
    SlackTask(message="loaded")()
    SnowflakeQuery(account="acme", user="u", password="{PASSWORD}", query="q")()
'''

if pytest_lsp is not None:
    @pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "credlint", "lsp"],
                                                  server_env=_env()))
    async def client(lsp_client: LanguageClient):
        yield
        await lsp_client.shutdown_session()


def _project(root: Path, baseline: Optional[str] = "credlint-baseline.json") -> None:
    """A project whose one flow has a CL101, recorded in `baseline` (None: no baseline written)."""
    (root / ".git").mkdir(exist_ok=True)
    (root / "credlint.toml").write_text('backend = "server"\n', encoding="utf-8")
    (root / "flows").mkdir(exist_ok=True)
    (root / "flows/etl.py").write_text(OLD, encoding="utf-8")
    if baseline is not None:
        (root / baseline).parent.mkdir(parents=True, exist_ok=True)
        code, _, err = run_cli("check", "--no-cache", "--write-baseline", baseline, cwd=root)
        assert code == 0, err
        recorded = json.loads((root / baseline).read_text(encoding="utf-8"))["findings"]
        assert [entry["code"] for entry in recorded] == ["CL101"]


async def _start(client: LanguageClient, root: Path, options=None) -> None:
    await client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), initialization_options=options,
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="project")]))


def _open(client: LanguageClient, path: Path) -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="python", version=1, text=path.read_text(encoding="utf-8"))))
    return uri


def _replace(client: LanguageClient, uri: str, text: str) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))


def _codes(diagnostics) -> List[str]:
    return sorted(str(d.code) for d in diagnostics)


async def _published(client: LanguageClient, uri: str, until: Callable[[Sequence[types.Diagnostic]], bool],
                     what: str) -> List[str]:
    """The codes published for `uri` once they satisfy `until`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    while True:
        found = client.diagnostics.get(uri)
        if found is not None and until(found):
            _assert_no_leak(client)
            return _codes(found)
        if loop.time() > deadline:
            logs = [m.message for m in client.log_messages]
            raise AssertionError(f"no diagnostics where {what} for {uri}: last {found!r}; server log {logs}")
        await asyncio.sleep(0.05)


def _assert_no_leak(client: LanguageClient) -> None:
    texts = [d.message for ds in client.diagnostics.values() for d in ds]
    texts += [m.message for m in client.log_messages] + [m.message for m in client.messages]
    for text in texts:
        for start in range(len(PASSWORD) - 7):
            assert PASSWORD[start:start + 8] not in text, f"a planted value shows in {text!r}"


def _published_once(diagnostics) -> bool:
    return True


@with_client
@pytest.mark.asyncio
async def test_a_finding_in_the_baseline_is_not_shown_and_a_new_one_is(client: LanguageClient, tmp_path):
    _project(tmp_path)
    await _start(client, tmp_path)
    uri = _open(client, tmp_path / "flows/etl.py")
    assert await _published(client, uri, _published_once, "the first check publishes") == []
    _replace(client, uri, NEW)  # a new finding, in the unsaved buffer
    codes = await _published(client, uri, lambda d: "CL201" in _codes(d), "the new CL201 shows")
    assert codes == ["CL201"]  # the known CL101 stays hidden


@with_client
@pytest.mark.asyncio
async def test_without_a_baseline_every_finding_shows(client: LanguageClient, tmp_path):
    _project(tmp_path, baseline=None)
    await _start(client, tmp_path)
    uri = _open(client, tmp_path / "flows/etl.py")
    assert await _published(client, uri, _published_once, "the first check publishes") == ["CL101"]


@with_client
@pytest.mark.asyncio
async def test_the_client_names_the_baseline_or_turns_it_off(client: LanguageClient, tmp_path):
    _project(tmp_path, baseline="ci/known.json")
    (tmp_path / "credlint-baseline.json").write_text("not json", encoding="utf-8")  # not the one named
    await _start(client, tmp_path, {"baseline": "ci/known.json"})
    uri = _open(client, tmp_path / "flows/etl.py")
    assert await _published(client, uri, _published_once, "the first check publishes") == []


@with_client
@pytest.mark.asyncio
async def test_a_baseline_turned_off_hides_nothing(client: LanguageClient, tmp_path):
    _project(tmp_path)
    await _start(client, tmp_path, {"baseline": False})
    uri = _open(client, tmp_path / "flows/etl.py")
    assert await _published(client, uri, _published_once, "the first check publishes") == ["CL101"]


@with_client
@pytest.mark.asyncio
async def test_an_unreadable_baseline_hides_nothing_and_says_so(client: LanguageClient, tmp_path):
    _project(tmp_path, baseline=None)
    await _start(client, tmp_path, {"baseline": "missing.json"})
    uri = _open(client, tmp_path / "flows/etl.py")
    assert await _published(client, uri, _published_once, "the first check publishes") == ["CL101"]
    logs = [m.message for m in client.log_messages]
    assert any("baseline not applied" in m and "missing.json" in m for m in logs), logs


def test_which_file_is_the_baseline(tmp_path):
    from credlint.tools.lsp.baseline import UNSET, baseline_file, setting_of

    assert baseline_file(tmp_path, UNSET) is None  # no default file
    (tmp_path / "credlint-baseline.json").write_text("{}", encoding="utf-8")
    assert baseline_file(tmp_path, setting_of(None)) == tmp_path / "credlint-baseline.json"
    assert baseline_file(tmp_path, setting_of({"baseline": "a/b.json"})) == tmp_path / "a/b.json"
    assert baseline_file(tmp_path, setting_of({"baseline": str(tmp_path / "x.json")})) == tmp_path / "x.json"
    assert baseline_file(tmp_path, setting_of({"baseline": False})) is None
