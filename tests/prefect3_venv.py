"""Venvs with the real Prefect, for the tests that must meet it: the block catalogue's proof and
the Prefect server that preflight and `credlint blocks` are tested against. Each is built once per
machine (a file lock keeps two sessions from building it at once) and reused while its marker
matches; never imported by credlint.

* `prefect3_python()`: prefect 3.9.1 and prefect-aws with their dependencies (the server's venv).
* `prefect3_integrations()`: a folder beside it holding the other integrations the block catalogue
  covers, installed with `--no-deps` (their client libraries — azure, google-cloud, snowflake,
  dbt-core, kubernetes-asyncio, ... — would take minutes and gigabytes; the probe fakes them).
  It is put on PYTHONPATH by the probe only, so the server's venv never tries to load them as
  Prefect collections.
* `prefect2_python()`: prefect 2.20.27 alone, for the 2.x core blocks.

Locations: $CREDLINT_PREFECT3_VENV / $CREDLINT_PREFECT2_VENV, else under ~/.cache/credlint-tests/.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import pytest

PREFECT_VERSION = "3.9.1"
PREFECT2_VERSION = "2.20.27"
# Pinned: the block catalogue (rules/blocks/*.toml) is proven against exactly these; each file's
# [package] table names the same release, and the proof checks that it is the one installed.
REQUIREMENTS: List[str] = [f"prefect=={PREFECT_VERSION}", "prefect-aws==0.7.12"]
INTEGRATIONS: List[str] = [
    "prefect-gcp==0.6.22", "prefect-azure==0.4.13", "prefect-slack==0.4.0", "prefect-snowflake==0.28.9",
    "prefect-sqlalchemy==0.6.1", "prefect-github==0.4.4", "prefect-dbt==0.7.25", "prefect-kubernetes==0.8.0",
    "prefect-docker==0.7.4", "prefect-email==0.4.3", "prefect-databricks==0.4.2",
    # prefect-github builds its GraphQL schema with sgqlc at import: a fake cannot stand in for it
    "sgqlc==18", "graphql-core==3.2.14",
]
REQUIREMENTS2: List[str] = [f"prefect=={PREFECT2_VERSION}"]
MARKER = ".credlint-prefect3-venv"


def venv_dir() -> Path:
    configured = os.environ.get("CREDLINT_PREFECT3_VENV")
    if configured:
        return Path(configured).expanduser()
    return _cache() / f"prefect-3-py{sys.version_info[0]}{sys.version_info[1]}"


def _cache() -> Path:
    return Path.home() / ".cache" / "credlint-tests"


def _python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _run(cmd: List[str], what: str, timeout: int) -> subprocess.CompletedProcess:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{what} timed out after {timeout}s: {' '.join(cmd)}", pytrace=False)
    if proc.returncode != 0:
        pytest.fail(f"{what} failed (exit {proc.returncode}); building a Prefect test venv needs PyPI.\n"
                    f"command: {' '.join(cmd)}\n--- stderr (tail) ---\n{proc.stderr[-3000:]}", pytrace=False)
    return proc


class _Locked:
    """An exclusive lock file beside `path`: one builder at a time, across sessions."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(path.parent / f".{path.name}.lock", "w")

    def __enter__(self):
        try:
            import fcntl

            fcntl.flock(self.file, fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - not POSIX
            pass
        return self

    def __exit__(self, *exc):
        self.file.close()
        return False


def _venv(venv: Path, requirements: List[str], version: str) -> Path:
    """The python of `venv` holding `requirements`, built (once) if it is missing or stale."""
    with _Locked(venv):
        python = _python(venv)
        marker = venv / MARKER
        stamp = json.dumps({"requirements": requirements, "python": sys.version.split()[0]})
        if python.exists() and marker.exists() and marker.read_text() == stamp:
            return python
        started = time.monotonic()
        _run([sys.executable, "-m", "venv", "--clear", str(venv)], "creating the venv", 300)
        _run([str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q", *requirements],
             f"pip install {' '.join(requirements)}", 900)
        found = _run([str(python), "-c", "import prefect; print(prefect.__version__)"], "importing prefect", 300)
        assert found.stdout.strip() == version, found.stdout
        marker.write_text(stamp)  # last: a marker means the install completed
        print(f"\n[prefect-venv] built {venv} in {time.monotonic() - started:.1f}s")
        return python


def prefect3_python() -> Path:
    """The python of the venv holding REQUIREMENTS (prefect 3.x and prefect-aws)."""
    return _venv(venv_dir(), REQUIREMENTS, PREFECT_VERSION)


def prefect3_integrations() -> Path:
    """A folder with INTEGRATIONS (no dependencies), for PYTHONPATH in front of prefect3_python()."""
    python = prefect3_python()
    digest = hashlib.sha256(json.dumps(INTEGRATIONS).encode()).hexdigest()[:10]
    target = venv_dir() / f"credlint-integrations-{digest}"
    with _Locked(target):
        marker = target / MARKER
        if marker.exists():
            return target
        started = time.monotonic()
        _run([str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q", "--no-deps",
              "--upgrade", "--target", str(target), *INTEGRATIONS], f"pip install --no-deps {' '.join(INTEGRATIONS)}", 900)
        marker.write_text(json.dumps(INTEGRATIONS))
        print(f"\n[prefect-venv] installed the integrations into {target} in {time.monotonic() - started:.1f}s")
        return target


def prefect2_python() -> Path:
    """The python of a venv holding prefect 2.20 alone (its core blocks)."""
    configured = os.environ.get("CREDLINT_PREFECT2_VENV")
    python = f"py{sys.version_info[0]}{sys.version_info[1]}"
    venv = Path(configured).expanduser() if configured else _cache() / f"prefect-{PREFECT2_VERSION}-{python}"
    return _venv(venv, REQUIREMENTS2, PREFECT2_VERSION)
