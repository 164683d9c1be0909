"""`pytest --credlint`: credlint as part of a pytest run, one test item per checked file.

Registered through the ``pytest11`` entry point, so it is loaded by every pytest run in an
environment where credlint is installed. Without ``--credlint`` it does nothing but register the
``credlint`` marker: no hook collects, runs or prints anything, and this module imports nothing
beyond pytest and the standard library (credlint's analysis, libcst and rich are imported inside
the hooks, only when ``--credlint`` is given).

Collection
    With ``--credlint``, every ``.py`` file pytest visits gets a ``<file>::credlint`` item, and so
    does every other file credlint would read: candidate deployment files and the files it scans
    for credential formats only (JSON, Markdown, text, notebooks, private keys, ...), by name as
    ``credlint check`` discovers them (``credlint.files.discover.maybe_relevant``), plus the project's
    ``sources`` globs. Files credlint's
    configuration excludes (``exclude``, ``extend-exclude`` and credlint's default excludes) are
    not collected. Items carry the ``credlint`` marker: ``-m credlint`` runs only them,
    ``-m "not credlint"`` deselects them, and ``-k credlint`` matches them by name.

Configuration
    Nothing is configured in pytest. credlint finds the project root of each file (the nearest
    folder with pyproject.toml, credlint.toml, .credlint.toml or .git) and reads
    ``[tool.credlint]`` / ``credlint.toml`` there, exactly as ``credlint check`` does. A
    configuration or usage error (an unknown key, a wrong type, an unknown rule code) fails every
    item of that project with the one-line message that names the file, the line and the key.

The project item
    Each project root with credlint items also gets one ``<root>::credlint-project`` item (the
    root's path from pytest's rootdir, ``.`` for the rootdir itself), carrying the same marker. It
    stands for the files pytest does not collect: with it selected, credlint checks the whole
    project, as ``credlint check <root>`` would, and the findings in files that have no credlint
    item (a token in ``.github/workflows/ci.yml``, which pytest never visits; files outside the
    paths given, in ``norecursedirs`` or ``--ignore``d) are this item's. Findings in files whose
    item was collected but deselected (``-k``, ``-m``, ``--deselect``) are not: they are listed
    in the terminal summary. Deselect the project item (``-k "not credlint-project"``) to check
    only the collected files; credlint's ``exclude`` keeps files out of both.

One run per session
    credlint reads a whole project (a flow's providers can live in any file), so checking files
    one at a time would read the project once per file. The first credlint item that runs calls
    ``credlint.api.check`` once per project root with the paths of all the credlint items
    selected in the session, stores the result in the config stash, and every item then looks up
    the findings of its own file. For the same reason there is no per-file cache keyed on
    modification times (as pytest-flake8 has): a file's findings depend on other files. The
    plugin does not use pytest's cache, so ``-p no:cacheprovider`` changes nothing.

Outcomes
    An item fails when its file has a finding at or above the project's failing severity
    (``fail-on``, "error" by default), as ``credlint check`` exits 1. The failure lists those
    findings as ``path:line:col: CODE name message`` with the masked source lines and the fix.
    Findings below the failing severity do not fail an item; they are listed in a "credlint"
    section of the terminal summary.

    Findings in files with no credlint item fail the project item, on the same terms. When the
    project item is deselected, credlint still reports findings beyond the files checked (a
    deployment file that starts an agent re-checks the flows that agent serves); such a finding
    has no item to fail, so it fails nothing, and it is listed in the terminal summary.

Secrets
    Only ``Finding`` fields are shown; the snippet lines are those credlint already masked, and no
    source file is read here. An unexpected error inside credlint is shown as a plain traceback
    without local variables (never with ``--showlocals``' values, which could hold file contents).
"""
from __future__ import annotations

import traceback
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import pytest

MARKER = "credlint"
ITEM_NAME = "credlint"
PROJECT_ITEM_NAME = "credlint-project"


def pytest_addoption(parser):
    group = parser.getgroup("credlint")
    group.addoption(
        "--credlint", action="store_true", default=False,
        help="check .py files, deployment files and the files credlint scans for credential formats "
             "(one test item per file; "
             "configured by [tool.credlint] / credlint.toml at the project root)",
    )


class _State:
    """Everything the plugin knows in one session (kept in the config stash)."""

    def __init__(self) -> None:
        self.root_of_dir: Dict[Path, Path] = {}  # folder -> project root
        self.settings: Dict[Path, Tuple[Callable[[str], bool], Callable[[str], bool]]] = {}  # root -> (excluded, is_source)
        self.checked: set = set()  # roots credlint has run on
        # Filled by the one check run:
        self.findings: Dict[Path, list] = {}  # resolved file path -> its findings
        self.outside: Dict[Path, list] = {}  # root -> findings in files without an item (the project item's)
        self.collected: set = set()  # resolved paths of every credlint file item, before deselection
        self.threshold: Dict[Path, int] = {}  # root -> failing severity rank
        self.fail_on: Dict[Path, str] = {}  # root -> failing severity name
        self.config_error: Dict[Path, str] = {}  # root -> one-line message
        # root -> (formatted traceback without locals, the item that showed it in full)
        self.internal_error: Dict[Path, Tuple[str, Optional[str]]] = {}
        self.unshown: List[Tuple[str, object]] = []  # (why, finding) for the terminal summary

    def root(self, path: Path) -> Path:
        folder = path.parent
        if folder not in self.root_of_dir:
            from credlint.config import find_root

            self.root_of_dir[folder] = find_root(path)
        return self.root_of_dir[folder]

    def root_settings(self, root: Path) -> Tuple[Callable[[str], bool], Callable[[str], bool]]:
        """Excludes and extra sources for a project; credlint's defaults when its config is broken
        (the items then fail with the configuration error, when credlint runs)."""
        if root not in self.settings:
            from credlint.config import ConfigError, discover_config, glob_matcher
            from credlint.files.discover import DEFAULT_EXCLUDES, Excludes

            excludes, sources = list(DEFAULT_EXCLUDES), []
            try:
                config = discover_config(root)
            except ConfigError:
                pass
            else:
                excludes += config.exclude + config.extend_exclude
                sources = list(config.sources)
            self.settings[root] = (Excludes(excludes), glob_matcher(sources))
        return self.settings[root]


_STATE = pytest.StashKey[_State]()


def pytest_configure(config):
    config.addinivalue_line("markers", f"{MARKER}: a credlint check of one file (pytest --credlint)")
    if config.getoption("credlint", False):
        config.stash[_STATE] = _State()


def pytest_collect_file(file_path: Path, parent):
    state = parent.config.stash.get(_STATE, None)
    if state is None:
        return None
    from credlint.files.discover import maybe_relevant

    root = state.root(file_path)
    try:
        rel = file_path.resolve().relative_to(root).as_posix()
    except ValueError:
        return None
    excluded, is_source = state.root_settings(root)
    if not (maybe_relevant(file_path.name) or is_source(rel)):
        return None
    if excluded(rel):
        return None
    return CredlintFile.from_parent(parent, path=file_path)


@pytest.hookimpl(tryfirst=True)  # before -m, -k and --deselect, which then apply to the project items too
def pytest_collection_modifyitems(session, config, items):
    state = config.stash.get(_STATE, None)
    if state is None:
        return
    roots: Dict[Path, None] = {}
    for item in items:
        if isinstance(item, CredlintItem) and not isinstance(item, CredlintProjectItem):
            state.collected.add(item.path.resolve())
            roots[state.root(item.path)] = None
    added = [CredlintProjectItem.for_root(session, root) for root in roots]
    if added:
        items.extend(added)
        # Announced as collected, so that pytest's counts ("collected N items", "N deselected") hold them.
        config.hook.pytest_collectreport(report=pytest.CollectReport("", "passed", None, added))


class CredlintFindings(Exception):
    """A file has findings at or above the project's failing severity."""

    def __init__(self, findings: list, fail_on: str):
        super().__init__(f"{len(findings)} credlint finding(s)")
        self.findings = findings
        self.fail_on = fail_on


class CredlintConfigFailure(Exception):
    """credlint could not run on this file's project: a configuration or usage error."""


class CredlintInternalError(Exception):
    """credlint itself failed; the message is the formatted traceback, without locals."""


class CredlintFile(pytest.File):
    def collect(self):
        yield CredlintItem.from_parent(self, name=ITEM_NAME)


class CredlintItem(pytest.Item):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.add_marker(MARKER)
        # No fixtures. Plugins that look for a test's fixture values (pytest-lsp 1.0.1's
        # runtest_call wrapper) find none, as on doctest items, instead of failing the item.
        self.funcargs: Dict[str, object] = {}

    def _state(self) -> _State:
        return self.config.stash[_STATE]

    def project_root(self) -> Path:
        return self._state().root(self.path)

    def _findings(self, state: _State, root: Path) -> list:
        return state.findings.get(self.path.resolve(), [])

    def runtest(self) -> None:
        state = self._state()
        root = self.project_root()
        if root not in state.checked:
            _run_once(state, self.session, self)
        if root in state.config_error:
            raise CredlintConfigFailure(state.config_error[root])
        if root in state.internal_error:
            text, shown_on = state.internal_error[root]
            if shown_on is None:
                state.internal_error[root] = (text, self.nodeid)
                raise CredlintInternalError(text)
            last = text.rstrip().splitlines()[-1] if text.strip() else "error"
            raise CredlintInternalError(f"{last} (traceback under {shown_on})")
        threshold = state.threshold[root]
        from credlint.findings.report import SEVERITY_RANK

        failing = [f for f in self._findings(state, root) if SEVERITY_RANK.get(f.severity, 0) >= threshold]
        if failing:
            raise CredlintFindings(failing, state.fail_on[root])

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, CredlintFindings):
            return _render_failure(excinfo.value) + self._epilogue()
        if isinstance(excinfo.value, CredlintConfigFailure):
            return f"credlint configuration error: {excinfo.value}"
        if isinstance(excinfo.value, CredlintInternalError):
            text = str(excinfo.value)
            return "credlint failed while checking this project:" + ("\n" if "\n" in text else " ") + text
        # Anything else was raised by this plugin itself: a short traceback, never with locals.
        return str(excinfo.getrepr(showlocals=False, style="short", funcargs=False))

    def _epilogue(self) -> str:
        return ""

    def reportinfo(self):
        return self.path, None, "credlint"


class CredlintProjectItem(CredlintItem):
    """The findings of a project's files that have no credlint item (see "The project item")."""

    @classmethod
    def for_root(cls, session, root: Path) -> "CredlintProjectItem":
        import os

        try:
            where = Path(os.path.relpath(root, session.config.rootpath)).as_posix()
        except ValueError:  # another drive
            where = root.as_posix()
        return cls.from_parent(session, name=PROJECT_ITEM_NAME, path=root, nodeid=f"{where}::{PROJECT_ITEM_NAME}")

    def project_root(self) -> Path:
        return self.path

    def _findings(self, state: _State, root: Path) -> list:
        return state.outside.get(root, [])

    def _epilogue(self) -> str:
        from credlint.reporters.text import safe

        return ("\nThese files have no credlint item in this session (pytest did not collect them); "
                f"credlint checked the whole project at {safe(str(self.path))} to find them.")

    def reportinfo(self):
        return self.path, None, f"credlint project {self.nodeid.rsplit('::', 1)[0]}"


def _run_once(state: _State, session, current: CredlintItem) -> None:
    """Check every credlint file selected in the session, once per project root (for the roots
    not checked yet: normally all of them, at the first item)."""
    from credlint.config import ConfigError
    from credlint.errors import UsageError
    from credlint.findings.report import SEVERITY_RANK
    from credlint.api import Options, check

    items = [item for item in (session.items or []) if isinstance(item, CredlintItem)]
    if current not in items:
        items.append(current)
    by_root: Dict[Path, Dict[str, None]] = {}  # root -> paths, in order, once each
    whole = set()  # roots whose project item is selected: checked whole
    for item in items:
        root = item.project_root()
        if root not in state.checked:
            by_root.setdefault(root, {})[str(item.path)] = None
            if isinstance(item, CredlintProjectItem):
                whole.add(root)
    selected = {item.path.resolve() for item in items if not isinstance(item, CredlintProjectItem)}
    for root, paths in by_root.items():
        state.checked.add(root)
        try:
            run = check(Options(paths=list(paths)))
        except (ConfigError, UsageError) as exc:
            state.config_error[root] = " ".join(str(exc).split()) or type(exc).__name__
            continue
        except Exception as exc:  # noqa: BLE001 - reported on every item of this project
            state.internal_error[root] = ("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)), None)
            continue
        fail_on = run.config.fail_on
        threshold = SEVERITY_RANK[fail_on]
        state.fail_on[root], state.threshold[root] = fail_on, threshold
        for finding in run.report.findings:
            where = (run.root / finding.project_path).resolve() if finding.project_path else None
            if where is not None and where in selected:
                owner = state.findings.setdefault(where, [])
            elif root in whole and where not in state.collected:
                owner = state.outside.setdefault(root, [])
            else:  # no item to fail: a deselected file's, or one the project item would own
                why = "whose credlint item was deselected" if where in state.collected else \
                    "with no credlint item in this session"
                state.unshown.append((f"in files {why} (not failing)", finding))
                continue
            owner.append(finding)
            if SEVERITY_RANK.get(finding.severity, 0) < threshold:
                state.unshown.append((f'below fail-on = "{fail_on}" (not failing)', finding))


def _headline(finding, severity: bool = False) -> str:
    from credlint.reporters.text import safe

    tag = f" ({finding.severity})" if severity else ""
    return safe(f"{finding.path}:{finding.line}:{finding.column}: {finding.code} {finding.name}{tag} {finding.message}")


def _render_failure(error: CredlintFindings) -> str:
    from credlint.reporters.text import safe, safe_source, source_column

    lines: List[str] = []
    for finding in error.findings:
        if lines:
            lines.append("")
        lines.append(_headline(finding))
        if finding.snippet:
            width = len(str(finding.line + len(finding.snippet)))
            for offset, text in enumerate(finding.snippet):
                text = text.rstrip()
                lines.append(f"  {finding.line + offset:>{width}} | {safe_source(text)}")
                # The runner places the marker on the masked line (masks change its length).
                if offset == 0 and finding.caret:
                    start, end = (source_column(text, column) for column in finding.caret)
                    lines.append(f"  {'':>{width}} | {' ' * start}{'^' * max(end - start, 1)}")
        if finding.fix:
            lines.append(f"  fix: {safe(finding.fix)}")
    codes = sorted({f.code for f in error.findings})
    count = len(error.findings)
    explain = f"credlint explain {codes[0]}" if len(codes) == 1 else "credlint explain CODE"
    lines.append("")
    lines.append(f"{count} credlint finding{'s' if count != 1 else ''} at or above fail-on = \"{error.fail_on}\""
                 f" ({explain} for the rule's page)")
    return "\n".join(lines)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    state = config.stash.get(_STATE, None)
    if state is None or not state.unshown:
        return
    terminalreporter.section("credlint")
    groups: Dict[str, list] = {}
    for why, finding in state.unshown:
        groups.setdefault(why, []).append(finding)
    for why, findings in groups.items():
        terminalreporter.write_line(f"{len(findings)} finding{'s' if len(findings) != 1 else ''} {why}:")
        for finding in sorted(findings, key=lambda f: f.sort_key()):
            terminalreporter.write_line(f"  {_headline(finding, severity=True)}")
