"""`credlint lsp`: a Language Server over stdio, for editors.

Each open document is checked as `credlint check` checks it, within its whole project (root,
configuration, cache), with every open buffer of that project standing for its file on disk:
editing an agent script changes the diagnostics of the flows it serves before anything is
saved. After each change (debounced) the project's open documents all get their diagnostics
again, from one run. Checks run one at a time on a thread of their own, so the server keeps
answering while one works; a check that fails publishes nothing and says so in one line.
Findings the project's baseline records are not published, as `check --baseline` does not show them.

Nothing here prints a value: diagnostics carry credlint's messages (which never hold one), and
logging from the protocol library, which may quote a document, is cut to its bare template.
"""
from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from credlint import __version__
from credlint.findings.report import Finding
from credlint.links import rule_url
from credlint.tools.lsp.actions import code_actions
from credlint.tools.lsp.baseline import UNSET, baseline_file, setting_of, without_known
from credlint.tools.lsp.proposals import Target
from credlint.tools.lsp.hover import NeedRow, need_rows, render, rows_at
from credlint.tools.lsp.positions import from_position, text_lines, to_range

DEBOUNCE_SECONDS = 0.3
SEVERITY = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning,
            "info": types.DiagnosticSeverity.Information}
UNNECESSARY = frozenset({"CL001", "CL104"})  # unused suppressions and secrets: editors fade them


@dataclass
class Buffer:
    uri: str
    path: str  # absolute file path
    version: Optional[int]
    text: str


@dataclass
class ProjectState:
    """The open documents of one project root, and what was last published for them."""

    root: Path
    generation: int = 0  # bumped on every change: a check made from older buffers is dropped
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    findings: Dict[str, Dict[str, Finding]] = field(default_factory=dict)  # uri -> fingerprint -> finding
    hover: Optional[Tuple[int, List[NeedRow]]] = None  # (generation, needs of every flow)


class CredlintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("credlint", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.debounce = DEBOUNCE_SECONDS
        self.projects: Dict[Path, ProjectState] = {}
        self.checker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="credlint-check")
        self._tasks: set = set()  # running checks (the event loop keeps only weak references)
        self.baseline_setting: object = UNSET  # initializationOptions' `baseline` (tools/lsp/baseline.py)

    # ----- documents and projects -----------------------------------------------------------
    def project_of(self, uri: str) -> Optional[ProjectState]:
        path = _path_of(uri)
        if path is None:
            return None
        from credlint.config import find_root

        root = find_root(Path(path))
        state = self.projects.get(root)
        if state is None:
            state = self.projects[root] = ProjectState(root)
        return state

    def buffers_of(self, state: ProjectState) -> List[Buffer]:
        """The open documents under this project's root that belong to it (not to a nested one)."""
        from credlint.config import find_root

        out = []
        for uri, document in list(self.workspace.text_documents.items()):
            path = _path_of(uri)
            if path is None or find_root(Path(path)) != state.root:
                continue
            out.append(Buffer(uri, path, document.version, document.source))
        return out

    # ----- checking ---------------------------------------------------------------------------
    def schedule(self, uri: str, delay: float) -> None:
        state = self.project_of(uri)
        if state is None:
            return
        state.generation += 1
        task = asyncio.ensure_future(self._recheck(state, state.generation, delay))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _recheck(self, state: ProjectState, mine: int, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        if mine != state.generation:
            return  # a later change has its own check coming
        async with state.lock:
            if mine != state.generation:
                return
            buffers = self.buffers_of(state)
            if not buffers:
                return
            loop = asyncio.get_running_loop()
            started = time.monotonic()
            run, problem = await loop.run_in_executor(self.checker, check_buffers, buffers)
            if problem is not None:
                self.log(problem, types.MessageType.Warning)
                return
            # What `credlint check --baseline` hides, the editor hides: only new findings show.
            run.report.findings, trouble = without_known(run.report.findings,
                                                         baseline_file(state.root, self.baseline_setting))
            if trouble is not None:
                self.log(trouble, types.MessageType.Warning)
            outdated = mine != state.generation  # the buffers changed while it ran: the newer check publishes
            self.log(f"credlint: checked {len(buffers)} open file(s) of {state.root} in "
                     f"{time.monotonic() - started:.2f} s" + (" (outdated, not published)" if outdated else ""),
                     types.MessageType.Log)
            if not outdated:
                self.publish(state, buffers, run)

    def publish(self, state: ProjectState, buffers: List[Buffer], run) -> None:
        by_path: Dict[str, List[Finding]] = {}
        for finding in run.report.findings:
            by_path.setdefault(_same_file(run.root / finding.project_path), []).append(finding)
        docs_url = getattr(run.config, "docs_url", None)
        for buffer in buffers:
            findings = by_path.get(_same_file(Path(buffer.path)), [])
            lines = text_lines(buffer.text)
            codec = self.workspace.position_codec
            state.findings[buffer.uri] = {f.fingerprint: f for f in findings}
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
                uri=buffer.uri, version=buffer.version,
                diagnostics=[diagnostic(f, lines, codec, docs_url) for f in findings]))

    def clear(self, uri: str) -> None:
        state = self.project_of(uri)
        if state is not None:
            state.findings.pop(uri, None)
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    def log(self, message: str, kind: types.MessageType) -> None:
        self.window_log_message(types.LogMessageParams(type=kind, message=message))

    def report_server_error(self, error: Exception, source) -> None:
        """pygls shows `str(error)` to the user; it may quote a document. The type is enough."""
        self.log(f"credlint lsp: internal error: {type(error).__name__}", types.MessageType.Error)

    # ----- hover -------------------------------------------------------------------------------
    async def needs_of(self, state: ProjectState) -> Optional[List[NeedRow]]:
        """Every flow's needs in this project, from the open buffers; kept until the next change."""
        if state.hover is not None and state.hover[0] == state.generation:
            return state.hover[1]
        generation = state.generation
        buffers = self.buffers_of(state)
        loop = asyncio.get_running_loop()
        rows, problem = await loop.run_in_executor(self.checker, load_needs, buffers)
        if problem is not None:
            self.log(problem, types.MessageType.Warning)
            return None
        state.hover = (generation, rows)
        return rows


def diagnostic(finding: Finding, lines: List[str], codec, docs_url: Optional[str] = None) -> types.Diagnostic:
    """A finding as the editor shows it: its span in the client's units, its rule and the rule's page."""
    url = rule_url(finding.code, finding.name, docs_url)
    return types.Diagnostic(
        range=to_range(lines, codec, finding.line, finding.column, finding.end_line, finding.end_column),
        severity=SEVERITY.get(finding.severity, types.DiagnosticSeverity.Warning),
        code=finding.code, code_description=types.CodeDescription(href=url) if url else None,
        source="credlint", message=finding.message,
        tags=[types.DiagnosticTag.Unnecessary] if finding.code in UNNECESSARY else None,
        data={"fingerprint": finding.fingerprint})


def check_buffers(buffers: List[Buffer]):
    """(run, None) or (None, a one-line reason): the check `credlint check` would make of these
    files, with the buffers standing for them. Runs on the checking thread."""
    from credlint.api import Options, check

    options = Options(paths=[b.path for b in buffers], buffers=_contents(buffers), server=False)
    try:
        return check(options), None
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback that could quote a file
        return None, _failure(exc)


def load_needs(buffers: List[Buffer]):
    """(needs of every flow, None) or (None, a one-line reason), for hovers."""
    from credlint.api import Options, load

    options = Options(paths=[b.path for b in buffers], buffers=_contents(buffers), server=False)
    try:
        return need_rows(load(options).project), None
    except Exception as exc:  # noqa: BLE001
        return None, _failure(exc)


def _contents(buffers: List[Buffer]) -> Dict[str, bytes]:
    return {b.path: b.text.encode("utf-8", "replace") for b in buffers}


def _failure(exc: Exception) -> str:
    from credlint.config import ConfigError
    from credlint.errors import RuleError, UsageError
    from credlint.reporters.text import safe

    if isinstance(exc, ConfigError):
        return f"credlint: configuration error: {safe(str(exc))}"
    if isinstance(exc, (UsageError, RuleError)):
        return f"credlint: error: {safe(str(exc))}"
    if os.environ.get("CREDLINT_DEBUG"):  # as the command line does: the traceback, on request only
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    return f"credlint: the check failed: {type(exc).__name__} (nothing published; please report it)"


def _path_of(uri: str) -> Optional[str]:
    if not uri.startswith("file:"):
        return None  # an unsaved, untitled buffer has no project
    path = to_fs_path(uri)
    return os.path.abspath(path) if path else None


def _same_file(path: Path) -> str:
    try:
        return str(path.resolve())
    except OSError:
        return str(path)


server = CredlintServer()


@server.feature(types.INITIALIZE)
def initialize(ls: CredlintServer, params: types.InitializeParams) -> None:
    ls.baseline_setting = setting_of(params.initialization_options)


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: CredlintServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri, 0)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: CredlintServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri, ls.debounce)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: CredlintServer, params: types.DidSaveTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri, 0)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: CredlintServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.clear(params.text_document.uri)
    ls.schedule(params.text_document.uri, 0)  # the others: the file on disk stands for it again


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
def code_action(ls: CredlintServer, params: types.CodeActionParams) -> Optional[List[types.CodeAction]]:
    try:
        uri = params.text_document.uri
        path = _path_of(uri)
        state = ls.project_of(uri)
        if path is None or state is None:
            return None
        document = ls.workspace.get_text_document(uri)
        known = state.findings.get(uri, {})
        targets = []
        for item in params.context.diagnostics:
            if item.source != "credlint":
                continue
            data = item.data if isinstance(item.data, dict) else {}
            targets.append(Target(uri, path, document.version, document.source, item,
                                  known.get(data.get("fingerprint", "")), ls.workspace.position_codec))
        return code_actions(targets, versioned=_takes_document_changes(ls), only=params.context.only) or None
    except Exception as exc:  # noqa: BLE001 - pygls would send the traceback to the client
        ls.log(f"credlint lsp: code actions failed: {type(exc).__name__}", types.MessageType.Warning)
        return None


@server.feature(types.TEXT_DOCUMENT_HOVER)
async def hover(ls: CredlintServer, params: types.HoverParams) -> Optional[types.Hover]:
    try:
        uri = params.text_document.uri
        path = _path_of(uri)
        state = ls.project_of(uri)
        if path is None or state is None or not path.endswith(".py"):
            return None
        rows = await ls.needs_of(state)
        if not rows:
            return None
        document = ls.workspace.get_text_document(uri)
        lines = text_lines(document.source)
        line, column = from_position(lines, ls.workspace.position_codec, params.position)
        try:
            rel = Path(path).resolve().relative_to(state.root).as_posix()
        except ValueError:
            return None
        here = rows_at(rows, rel, line, column)
        if not here:
            return None
        pos = here[0].pos
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=render(here)),
            range=to_range(lines, ls.workspace.position_codec, pos.line, pos.column, pos.end_line, pos.end_column))
    except Exception as exc:  # noqa: BLE001
        ls.log(f"credlint lsp: hover failed: {type(exc).__name__}", types.MessageType.Warning)
        return None


@server.feature(types.SHUTDOWN)
def shutdown(ls: CredlintServer, params) -> None:
    ls.checker.shutdown(wait=False, cancel_futures=True)


def _takes_document_changes(ls: CredlintServer) -> bool:
    workspace = ls.client_capabilities.workspace
    edit = workspace.workspace_edit if workspace is not None else None
    return bool(edit is not None and edit.document_changes)


class _TemplateOnly(logging.Formatter):
    """A log line with the message's template and no arguments (a document's text could be one)."""

    def format(self, record: logging.LogRecord) -> str:
        text = f"credlint lsp: {record.name}: {record.levelname}: {record.msg}"
        if record.exc_info and record.exc_info[0] is not None:
            text += f" ({record.exc_info[0].__name__})"
        return text


def serve() -> int:
    """Serve the Language Server Protocol on stdin/stdout until the client says exit."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_TemplateOnly())
    handler.setLevel(logging.WARNING)
    for name in ("pygls", "lsprotocol"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.propagate = False
    # The protocol owns standard output: anything else printed (by credlint, a worker process)
    # goes to standard error instead of corrupting the stream.
    protocol_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    from credlint.store.cache import FactsCache

    FactsCache.keep_open()  # a long-lived process: keep the facts rebuilt between checks
    server.start_io(sys.stdin.buffer, protocol_out)
    return 0
