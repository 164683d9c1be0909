"""Shared helpers: throw-away projects, the CLI in a subprocess, and the in-process API."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

import pytest

# One real Prefect 3 server per session, for every module that asks (tests/prefect_server.py).
from prefect_server import planted_workspace, prefect_server  # noqa: E402,F401


# Test modules that run the real Prefect 3.x / 2.20 (their venvs are built on first use).
_REAL_PREFECT_MODULES = {"test_block_catalogue_proof", "test_blocks_command", "test_model_detection",
                         "test_prefect_yaml", "test_preflight_blocks", "test_preflight_needs"}


def pytest_collection_finish(session):
    """When the run includes tests that need the real-Prefect venvs (tests/prefect3_venv.py), start
    building them in the background, so that on a machine without them the minute or two of
    `pip install` overlaps the tests that come first. A test that needs one waits on the same file
    lock; a failed build is retried, and reported, by that test."""
    import threading

    if not any(getattr(item, "module", None) is not None and item.module.__name__ in _REAL_PREFECT_MODULES
               for item in session.items):
        return

    import prefect3_venv

    def build(make) -> None:
        try:
            make()
        except BaseException:  # noqa: BLE001 - reported when a test asks for the venv itself
            pass

    for make in (prefect3_venv.prefect3_python, prefect3_venv.prefect3_integrations, prefect3_venv.prefect2_python):
        threading.Thread(target=build, args=(make,), daemon=True, name=f"build {make.__name__}").start()


class Project:
    """A throw-away credlint project rooted at `root` (a tmp_path with a `.git` marker)."""

    def __init__(self, root: Path):
        self.root = root

    def write(self, files: Optional[Dict[str, object]] = None, config: Optional[str] = None) -> Path:
        """Write files (path -> text, dedented; bytes are written as is) and an optional credlint.toml."""
        for rel, text in (files or {}).items():
            target = self.root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(text, bytes):
                target.write_bytes(text)
            else:
                target.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        if config is not None:
            (self.root / "credlint.toml").write_text(textwrap.dedent(config).lstrip("\n"), encoding="utf-8")
        return self.root

    __call__ = write

    def path(self, rel: str) -> Path:
        return self.root / rel


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """`project({"flow.py": "..."}, config='backend = "server"')` writes a project into tmp_path.

    A `.git` folder marks tmp_path as the project root, so credlint never climbs into a parent
    folder's configuration.
    """
    (tmp_path / ".git").mkdir()
    return Project(tmp_path)


def _env() -> Dict[str, str]:
    env = dict(os.environ)
    env.pop("CREDLINT_DEBUG", None)
    env["NO_COLOR"] = "1"
    env["COLUMNS"] = "200"
    return env


def run_cli(*args: str, cwd) -> Tuple[int, str, str]:
    """Run `python -m credlint ARGS` in `cwd`; (returncode, stdout, stderr)."""
    proc = subprocess.run([sys.executable, "-m", "credlint", *args], cwd=str(cwd), env=_env(),
                          capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def in_process(root: Path, *args: str) -> Tuple[int, str, str]:
    """`credlint ARGS` in this process, in `root`: (exit code, stdout, stderr). Faster than
    `run_cli`, for tests that run many checks."""
    import contextlib
    import io

    from credlint.cli import main

    out, err = io.StringIO(), io.StringIO()
    before = os.getcwd()
    try:
        os.chdir(root)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
    finally:
        os.chdir(before)
    return code, out.getvalue(), err.getvalue()


def leaked_pieces(values: Iterable[str], text: str, width: int = 8) -> List[str]:
    """The runs of `width` characters of any of `values` that show in `text`: a planted secret
    must show no part of itself in any output."""
    return [value[i:i + width] for value in values for i in range(len(value) - width + 1)
            if value[i:i + width] in text]


def check_json(*args: str, cwd) -> dict:
    """Run `credlint check --format json ARGS` in `cwd` and return the parsed document.

    Fails the test on exit code 2 (a usage / configuration / internal error), never on findings.
    """
    code, out, err = run_cli("check", "--format", "json", *args, cwd=cwd)
    assert code in (0, 1), f"credlint exited {code}\nstdout:\n{out}\nstderr:\n{err}"
    document = json.loads(out)
    if not any(a in ("--output", "-o", "--write-baseline", "--stdin-filename") for a in args):
        _same_without_prefilter(document, code, args, cwd)
    return document


def _same_without_prefilter(document: dict, code: int, args, cwd) -> None:
    """Every check the suite runs is run again with every Python file parsed: the byte prefilter
    (and the import closure that completes it) must not change a single finding."""
    import contextlib
    import io

    from credlint.cli import main

    out, err = io.StringIO(), io.StringIO()
    before = os.getcwd()
    try:
        os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            again = main(["check", "--format", "json", *args, "--no-prefilter"])
    finally:
        os.chdir(before)
    assert again == code, f"without the prefilter credlint exited {again}, with it {code}\n{err.getvalue()}"
    unfiltered = json.loads(out.getvalue())
    assert unfiltered["findings"] == document["findings"], (
        "the byte prefilter changed the findings:\n  with it:    "
        + repr(sorted((f["code"], f["path"], f["line"]) for f in document["findings"]))
        + "\n  without it: " + repr(sorted((f["code"], f["path"], f["line"]) for f in unfiltered["findings"])))
    assert unfiltered["summary"] == document["summary"]


def codes_of(doc_or_findings) -> List[str]:
    findings = doc_or_findings["findings"] if isinstance(doc_or_findings, dict) else doc_or_findings
    return sorted(f["code"] if isinstance(f, dict) else f.code for f in findings)


def with_code(doc_or_findings, code: str) -> list:
    findings = doc_or_findings["findings"] if isinstance(doc_or_findings, dict) else doc_or_findings
    return [f for f in findings if (f["code"] if isinstance(f, dict) else f.code) == code]


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def check_doc():
    return check_json


@pytest.fixture
def api_check(monkeypatch):
    """In-process: `api_check(root, paths=["."], **options)` -> list of Finding (cwd = root)."""
    from credlint.api import Options, check

    def run(root, paths: Iterable[str] = (".",), **options):
        monkeypatch.chdir(root)
        findings = check(Options(paths=list(paths), **options)).report.findings
        if "stdin" not in options:  # the prefilter must change nothing (see check_json)
            unfiltered = check(Options(paths=list(paths), **{**options, "prefilter": False, "cache": False}))
            assert [f.to_json() for f in unfiltered.report.findings] == [f.to_json() for f in findings], \
                "the byte prefilter changed the findings"
        return findings

    return run
