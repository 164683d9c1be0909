"""`credlint lsp` driven by a real LSP client (pytest-lsp) over stdio, as an editor drives it.

Each test starts the server in a subprocess on a throw-away project, opens documents, edits the
buffers (never the files, unless it says so) and waits for what the server publishes. Every
message the client receives is checked for the planted values.
"""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Callable, List, Optional, Sequence

import pytest
from lsprotocol import types

from conftest import _env

try:
    import pytest_lsp
    from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
except ImportError:  # Python 3.9: pytest-lsp needs 3.10; the tests without a client still run
    pytest_lsp = None

with_client = pytest.mark.skipif(pytest_lsp is None, reason="pytest-lsp needs Python 3.10 or newer")

PASSWORD = "Vr5kTq" "9w2LmZx8"  # planted, well formed; never to be shown
KEY_ID = "AKI" "AQ3ZT7XK2LMN4RW6P"
PLANTED = [PASSWORD, KEY_ID]

FLOW = '''\
from prefect import Flow
from prefect.tasks.notifications import SlackTask

with Flow("etl") as flow:
    SlackTask(message="loaded")()
'''
FIXED_FLOW = '''\
from prefect import Flow
from prefect.run_configs import DockerRun
from prefect.tasks.notifications import SlackTask

with Flow("etl", run_config=DockerRun(env={"PREFECT__CONTEXT__SECRETS__SLACK_WEBHOOK_URL": "$HOOK"})) as flow:
    SlackTask(message="loaded")()
'''
AGENT = "#!/bin/sh\nprefect agent local start --label etl\n"
AGENT_WITH_ENV = "#!/bin/sh\nprefect agent local start --env PREFECT__CONTEXT__SECRETS__SLACK_WEBHOOK_URL=\"$HOOK\"\n"
NON_ASCII_FLOW = f'''\
from prefect import Flow
from prefect.tasks.snowflake import SnowflakeQuery

with Flow("ünïcode") as flow:
    SnowflakeQuery(account="é😀", user="u", password="{PASSWORD}", query="q")()
'''
READS = '''\
from prefect import Flow, task
from prefect.client import Secret


@task
def load():
    return Secret("DB_URL").get()


with Flow("reads") as flow:
    load()
'''
TIMEOUT = 30.0


def _server_command() -> List[str]:
    return [sys.executable, "-m", "credlint", "lsp"]


def _config() -> ClientServerConfig:
    return ClientServerConfig(server_command=_server_command(), server_env=_env())


async def _start(client: LanguageClient, root: Path, capabilities: str = "visual-studio-code") -> types.InitializeResult:
    return await client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities(capabilities),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="project")]))


if pytest_lsp is not None:
    @pytest_lsp.fixture(config=_config())
    async def client(lsp_client: LanguageClient):
        yield
        await lsp_client.shutdown_session()


def _write(root: Path, files: dict) -> None:
    (root / ".git").mkdir(exist_ok=True)
    (root / "credlint.toml").write_text('backend = "server"\n', encoding="utf-8")
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def _open(client: LanguageClient, path: Path, language: str = "python", text: Optional[str] = None) -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id=language, version=1,
        text=path.read_text(encoding="utf-8") if text is None else text)))
    return uri


_versions: dict = {}


def _replace(client: LanguageClient, uri: str, text: str) -> None:
    version = _versions[uri] = _versions.get(uri, 1) + 1
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))


async def _published(client: LanguageClient, uri: str, until: Callable[[Sequence[types.Diagnostic]], bool],
                     what: str) -> Sequence[types.Diagnostic]:
    """The diagnostics of `uri` once they satisfy `until` (the server publishes asynchronously)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    while True:
        found = client.diagnostics.get(uri)
        if found is not None and until(found):
            _assert_no_leak(client)
            return found
        if loop.time() > deadline:
            logs = [m.message for m in client.log_messages]
            raise AssertionError(f"no diagnostics where {what} for {uri}: last {found!r}; server log {logs}")
        await asyncio.sleep(0.05)


def _codes(diagnostics) -> List[str]:
    return sorted(str(d.code) for d in diagnostics)


def _has(code: str):
    return lambda diagnostics: code in _codes(diagnostics)


def _empty(diagnostics) -> bool:
    return len(diagnostics) == 0


def _lacks(code: str):
    return lambda diagnostics: code not in _codes(diagnostics)


def _assert_no_leak(client: LanguageClient, *more: str) -> None:
    texts = [d.message for ds in client.diagnostics.values() for d in ds]
    texts += [m.message for m in client.log_messages] + [m.message for m in client.messages]
    texts += list(more)
    for text in texts:
        for value in PLANTED:
            for start in range(len(value) - 7):
                assert value[start:start + 8] not in text, f"a planted value shows in {text!r}"


def _apply(text: str, edits: Sequence[types.TextEdit], units: str = "utf-16") -> str:
    """Apply LSP text edits to a buffer, as an editor does (positions in `units`)."""
    lines = text.split("\n")

    def offset(position: types.Position) -> int:
        line = lines[position.line]
        count = index = 0
        while index < len(line) and count < position.character:
            count += _width(line[index], units)
            index += 1
        return sum(len(item) + 1 for item in lines[:position.line]) + index

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        start, end = offset(edit.range.start), offset(edit.range.end)
        text = text[:start] + edit.new_text + text[end:]
    return text


def _width(text: str, units: str) -> int:
    return len(text.encode("utf-16-le")) // 2 if units == "utf-16" else len(text.encode("utf-8"))


def _edits_of(action: types.CodeAction, uri: str) -> List[types.TextEdit]:
    edit = action.edit
    if edit.document_changes:
        return [e for change in edit.document_changes if change.text_document.uri == uri for e in change.edits]
    return list(edit.changes[uri])


async def _quick_fixes(client: LanguageClient, uri: str, diagnostics) -> List[types.CodeAction]:
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=diagnostics[0].range,
        context=types.CodeActionContext(diagnostics=list(diagnostics))))
    return list(actions or [])


# ----- the tests --------------------------------------------------------------------------------
@with_client
@pytest.mark.asyncio
async def test_initialize_announces_what_the_server_does(client: LanguageClient, tmp_path):
    result = await _start(client, tmp_path)
    capabilities = result.capabilities
    assert result.server_info.name == "credlint"
    assert capabilities.hover_provider
    assert types.CodeActionKind.QuickFix in capabilities.code_action_provider.code_action_kinds
    assert capabilities.text_document_sync.open_close and capabilities.text_document_sync.save


@with_client
@pytest.mark.asyncio
async def test_a_missing_secret_is_a_diagnostic_that_an_unsaved_edit_clears(client: LanguageClient, tmp_path):
    _write(tmp_path, {"flows/etl.py": FLOW})
    await _start(client, tmp_path)
    uri = _open(client, tmp_path / "flows/etl.py")
    found = await _published(client, uri, _has("CL101"), "CL101 appears")
    (missing,) = [d for d in found if d.code == "CL101"]
    line = FLOW.splitlines()[4]
    assert missing.range == types.Range(start=types.Position(line=4, character=line.index("SlackTask")),
                                        end=types.Position(line=4, character=len(line)))
    assert missing.severity == types.DiagnosticSeverity.Error and missing.source == "credlint"
    assert "SLACK_WEBHOOK_URL" in missing.message
    assert missing.code_description.href.endswith("docs/rules.md#cl101-missing-secret")

    _replace(client, uri, FIXED_FLOW)
    await _published(client, uri, _empty, "the fixed buffer has none")
    assert (tmp_path / "flows/etl.py").read_text(encoding="utf-8") == FLOW  # the file was never touched

    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri)))
    _replace_on_disk = tmp_path / "flows/etl.py"
    uri = _open(client, _replace_on_disk)  # opened again: the file on disk still lacks the secret
    await _published(client, uri, _has("CL101"), "CL101 is back from the file on disk")
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri)))
    await _published(client, uri, _empty, "closing clears the document's diagnostics")


@with_client
@pytest.mark.asyncio
async def test_an_agent_script_buffer_changes_the_flow_diagnostics(client: LanguageClient, tmp_path):
    _write(tmp_path, {"flows/etl.py": FLOW, "deploy/agent.sh": AGENT})
    await _start(client, tmp_path)
    flow = _open(client, tmp_path / "flows/etl.py")
    agent = _open(client, tmp_path / "deploy/agent.sh", "shellscript")
    await _published(client, flow, _has("CL101"), "CL101 appears")
    _replace(client, agent, AGENT_WITH_ENV)  # the agent now forwards the secret; nothing is saved
    await _published(client, flow, _lacks("CL101"), "the agent's --env provides the secret")
    assert (tmp_path / "deploy/agent.sh").read_text(encoding="utf-8") == AGENT
    _replace(client, agent, AGENT)
    await _published(client, flow, _has("CL101"), "the agent forwards it no more")


@with_client
@pytest.mark.asyncio
async def test_the_suppress_action_inserts_a_comment_that_silences_the_finding(client: LanguageClient, tmp_path):
    _write(tmp_path, {"flows/etl.py": FLOW})
    await _start(client, tmp_path)
    uri = _open(client, tmp_path / "flows/etl.py")
    found = await _published(client, uri, _has("CL101"), "CL101 appears")
    actions = await _quick_fixes(client, uri, [d for d in found if d.code == "CL101"])
    (action,) = [a for a in actions if a.title == "credlint: suppress CL101 on this line"]
    assert action.kind == types.CodeActionKind.QuickFix
    assert action.edit.document_changes[0].text_document.version == 1  # refused by the editor if the buffer moved on
    fixed = _apply(FLOW, _edits_of(action, uri))
    assert fixed.splitlines()[4] == '    SlackTask(message="loaded")()  # credlint: ignore[CL101]'
    _replace(client, uri, fixed)
    await _published(client, uri, _empty, "the suppressed finding is gone")

    # A second code on a line that has a suppression joins it.
    both = fixed.replace("# credlint: ignore[CL101]", "# credlint: ignore[CL102]")
    _replace(client, uri, both)
    found = await _published(client, uri, _has("CL101"), "CL101 is back")
    (action,) = [a for a in await _quick_fixes(client, uri, [d for d in found if d.code == "CL101"])
                 if a.title.startswith("credlint: suppress CL101")]
    assert _apply(both, _edits_of(action, uri)).splitlines()[4].endswith("# credlint: ignore[CL102, CL101]")


@with_client
@pytest.mark.asyncio
async def test_hover_on_a_consumer_shows_its_needs_states_and_providers(client: LanguageClient, tmp_path):
    _write(tmp_path, {"flows/etl.py": FLOW})
    await _start(client, tmp_path)
    uri = _open(client, tmp_path / "flows/etl.py")
    await _published(client, uri, _has("CL101"), "CL101 appears")
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=4, character=8)))
    assert hover is not None and hover.contents.kind == types.MarkupKind.Markdown
    text = hover.contents.value.replace("\\", "")
    assert "SlackTask" in text and "SLACK_WEBHOOK_URL" in text and "missing" in text and "etl" in text
    assert hover.range.start == types.Position(line=4, character=4)

    _replace(client, uri, FIXED_FLOW)  # provided by the run config now: the hover says where from
    await _published(client, uri, _empty, "the fixed buffer has none")
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=5, character=8)))
    text = hover.contents.value.replace("\\", "")
    assert "provided" in text and "DockerRun" in text and "flows/etl.py:5" in text

    nothing = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=0, character=2)))
    assert nothing is None

    # A `Secret(...).get()` read in a task is a consumer too.
    reads = _open(client, tmp_path / "flows/reads.py", text=READS)
    await _published(client, reads, _has("CL101"), "CL101 for the read")
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=reads), position=types.Position(line=6, character=14)))
    text = hover.contents.value.replace("\\", "")
    assert "DB_URL" in text and "missing" in text and "reads" in text
    assert "Secret(...).get()" in text


@pytest.mark.parametrize("capabilities, units", [("visual-studio-code", "utf-16"), ("neovim@v0.11.0", "utf-8")])
@with_client
@pytest.mark.asyncio
async def test_ranges_count_the_code_units_the_client_agreed_on(capabilities, units, tmp_path):
    _write(tmp_path, {"flows/unicode.py": NON_ASCII_FLOW})
    config = _config()
    lsp_client = await config.start()
    try:
        result = await _start(lsp_client, tmp_path, capabilities)
        assert result.capabilities.position_encoding == units
        uri = _open(lsp_client, tmp_path / "flows/unicode.py")
        found = await _published(lsp_client, uri, _has("CL201"), "CL201 appears")
        (hardcoded,) = [d for d in found if d.code == "CL201"]
        line = NON_ASCII_FLOW.splitlines()[4]
        start = line.index(f'"{PASSWORD}"')
        end = start + len(PASSWORD) + 2
        assert (hardcoded.range.start.character, hardcoded.range.end.character) == (_width(line[:start], units),
                                                                                    _width(line[:end], units))
        assert _width(line[:start], units) != start  # the line has characters of several units before it
        actions = await _quick_fixes(lsp_client, uri, [hardcoded])
        (action,) = [a for a in actions if "CL201" in a.title]
        fixed = _apply(NON_ASCII_FLOW, _edits_of(action, uri), units)
        assert fixed.splitlines()[4] == line + "  # credlint: ignore[CL201]"
        _replace(lsp_client, uri, fixed)
        await _published(lsp_client, uri, _lacks("CL201"), "the suppression silences it")
    finally:
        await lsp_client.shutdown_session()
        await lsp_client.stop()


@with_client
@pytest.mark.asyncio
async def test_a_hard_coded_secret_in_a_dotenv_file_never_shows_its_value(client: LanguageClient, tmp_path):
    dotenv = f"# the database\nPREFECT__CONTEXT__SECRETS__DB_PASSWORD={PASSWORD}\n"
    _write(tmp_path, {".env": dotenv, "settings.json": f'{{"aws": "{KEY_ID}"}}\n'})
    await _start(client, tmp_path)
    uri = _open(client, tmp_path / ".env", "dotenv")
    found = await _published(client, uri, _has("CL203"), "CL203 appears")
    (literal,) = [d for d in found if d.code == "CL203"]
    assert literal.range.start.line == 1 and "DB_PASSWORD" in literal.message
    # .env readers keep an inline `#` in the value: the comment goes on the line before.
    (action,) = [a for a in await _quick_fixes(client, uri, [literal]) if a.title.startswith("credlint: suppress CL203")]
    fixed = _apply(dotenv, _edits_of(action, uri))
    assert fixed.splitlines()[1:3] == ["# credlint: ignore-next-line[CL203]",
                                       f"PREFECT__CONTEXT__SECRETS__DB_PASSWORD={PASSWORD}"]
    _replace(client, uri, fixed)
    await _published(client, uri, _empty, "the suppression silences it")

    data = _open(client, tmp_path / "settings.json", "json")
    found = await _published(client, data, _has("CL204"), "CL204 appears in the JSON file")
    assert await _quick_fixes(client, data, found) == []  # JSON takes no comment
    _assert_no_leak(client, *(d.message for d in found))


@with_client
@pytest.mark.asyncio
async def test_changes_are_debounced_into_one_check(client: LanguageClient, tmp_path):
    _write(tmp_path, {"flows/etl.py": FLOW})
    await _start(client, tmp_path)
    uri = _open(client, tmp_path / "flows/etl.py")
    await _published(client, uri, _has("CL101"), "CL101 appears")
    checks_before = _checks(client)
    typed = FLOW
    for letter in "abcdefgh":  # keystrokes, quicker than the debounce delay
        typed += f"# {letter}\n"
        _replace(client, uri, typed)
    _replace(client, uri, FIXED_FLOW)
    await _published(client, uri, _empty, "the last buffer is checked")
    await asyncio.sleep(0.5)
    assert _checks(client) - checks_before == 1, [m.message for m in client.log_messages]


def _checks(client: LanguageClient) -> int:
    return sum(1 for m in client.log_messages if m.message.startswith("credlint: checked"))


@with_client
@pytest.mark.asyncio
async def test_a_configuration_error_is_logged_and_publishes_nothing(client: LanguageClient, tmp_path):
    _write(tmp_path, {"flows/etl.py": FLOW})
    (tmp_path / "credlint.toml").write_text('backend = "server"\nno-such-key = 1\n', encoding="utf-8")
    await _start(client, tmp_path)
    uri = _open(client, tmp_path / "flows/etl.py")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    while not any("configuration error" in m.message for m in client.log_messages):
        assert loop.time() < deadline, [m.message for m in client.log_messages]
        await asyncio.sleep(0.05)
    (message,) = [m.message for m in client.log_messages if "configuration error" in m.message]
    assert "no-such-key" in message and "credlint.toml" in message
    assert uri not in client.diagnostics


# ----- the parts, without a client ---------------------------------------------------------------
def test_a_failing_check_reports_its_kind_and_nothing_it_read(monkeypatch, tmp_path):
    from credlint.tools.lsp import server as lsp
    from credlint import api as runner

    def explode(options):
        raise ValueError(f"cannot decode {PASSWORD!r}")

    monkeypatch.setattr(runner, "check", explode)
    run, problem = lsp.check_buffers([lsp.Buffer("file:///x.py", str(tmp_path / "x.py"), 1, "x = 1\n")])
    assert run is None and "ValueError" in problem and PASSWORD not in problem


def test_several_buffers_stand_for_their_files_in_one_check(project, monkeypatch):
    from credlint.api import Options, check

    root = project({"flows/etl.py": FLOW, "deploy/agent.sh": AGENT}, config='backend = "server"')
    monkeypatch.chdir(root)
    flow, agent, new = (str(root / rel) for rel in ("flows/etl.py", "deploy/agent.sh", "flows/unsaved.py"))
    on_disk = check(Options(paths=[flow], server=False))
    assert [f.code for f in on_disk.report.findings] == ["CL101"]
    run = check(Options(paths=[flow, agent, new], server=False, buffers={
        agent: AGENT_WITH_ENV.encode(), new: FLOW.replace('"etl"', '"new"').encode()}))
    # The agent buffer provides the secret to both flows; the new file exists only as a buffer.
    assert [f.code for f in run.report.findings] == []
    run = check(Options(paths=[flow, new], server=False, buffers={new: FLOW.encode()}))
    assert sorted((f.project_path, f.code) for f in run.report.findings) == [
        ("flows/etl.py", "CL101"), ("flows/unsaved.py", "CL101")]
    assert not (root / "flows/unsaved.py").exists()
    again = check(Options(paths=[flow], server=False))  # without buffers, the files on disk count again
    assert [f.code for f in again.report.findings] == ["CL101"]


def test_every_rule_links_to_its_section_of_the_rule_docs():
    import re

    from credlint.engine.collect import collect_rules
    from credlint.tools.lsp.server import diagnostic
    from credlint.findings.report import Finding
    from pygls.workspace import PositionCodec

    docs = (Path(__file__).resolve().parents[1] / "docs" / "rules.md").read_text(encoding="utf-8")
    anchors = {re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-")
               for heading in re.findall(r"^## (.+)$", docs, re.MULTILINE)}
    for rule in collect_rules():
        finding = Finding(rule.code, rule.name, rule.severity, "x.py", 1, 1, 1, 2, "m")
        href = diagnostic(finding, ["x"], PositionCodec()).code_description.href
        assert href.split("#", 1)[1] in anchors, (rule.code, href)


SUPPRESSIONS = [
    # (file, text, line, expected text of the result's lines, or None: nothing offered)
    ("flow.py", 'x = call(password="v")\n', 1, 'x = call(password="v")  # credlint: ignore[CL201]\n'),
    ("flow.py", 'x = 1  # noqa: E501\n', 1, 'x = 1  # noqa: E501  # credlint: ignore[CL201]\n'),
    ("flow.py", 'x = 1  # credlint: ignore\n', 1, 'x = 1  # credlint: ignore[CL201]\n'),
    ("flow.py", 'x = 1  # credlint: ignore[CL301]\n', 1, 'x = 1  # credlint: ignore[CL301, CL201]\n'),
    # The line ends inside a string, or goes on after a backslash: the comment goes before it.
    ("flow.py", 'def f():\n    x = call(key="""a\n    b""")\n', 2,
     'def f():\n    # credlint: ignore-next-line[CL201]\n    x = call(key="""a\n    b""")\n'),
    ("flow.py", 'x = 1 + \\\n    2\n', 1, '# credlint: ignore-next-line[CL201]\nx = 1 + \\\n    2\n'),
    ("flow.py", 'x = """a\nb""" + \\\n  c\n', 2, None),  # inside a string and continued: nowhere
    ("deploy/agent.sh", 'prefect agent local start --key v\n', 1,
     'prefect agent local start --key v  # credlint: ignore[CL201]\n'),
    ("deploy/agent.sh", 'prefect agent start \\\n  --key v \\\n  --label x\n', 2, None),
    ("config.toml", '[context.secrets]\nX = "v"  # set by hand\n', 2,
     '[context.secrets]\nX = "v"  # set by hand  # credlint: ignore[CL201]\n'),
    ("config.toml", 'x = """\nv\n"""\n', 2, None),
    ("ci.yml", 'env:\n  TOKEN: "a # b"\n', 2, 'env:\n  TOKEN: "a # b"  # credlint: ignore[CL201]\n'),
    ("Dockerfile", 'FROM x\n  ENV TOKEN=v\n', 2, 'FROM x\n# credlint: ignore-next-line[CL201]\n  ENV TOKEN=v\n'),
    (".env.prod", '# credlint: ignore-next-line[CL203]\nX=v\n', 2,
     '# credlint: ignore-next-line[CL203, CL201]\nX=v\n'),
    ("Makefile", 'run:\r\n\tprefect agent start --key v\r\n', 2,
     'run:\r\n# credlint: ignore-next-line[CL201]\r\n\tprefect agent start --key v\r\n'),
    ("secrets.json", '{"k": "v"}\n', 1, None),
    ("notes.md", 'key v\n', 1, None),
]


@pytest.mark.parametrize("path, text, line, expected", SUPPRESSIONS)
def test_where_a_suppression_comment_goes(path, text, line, expected):
    from credlint.tools.lsp.positions import text_lines
    from credlint.tools.lsp.suppress import suppression_edit

    edit = suppression_edit(path, text, line, "CL201")
    if expected is None:
        assert edit is None
        return
    lines = text.split("\n")
    body = text_lines(text)[edit.line - 1]
    ending = lines[edit.line - 1][len(body):]
    lines[edit.line - 1] = body[:edit.start] + edit.text + body[edit.end:] + ending
    assert "\n".join(lines) == expected
