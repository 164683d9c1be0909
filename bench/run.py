"""The benchmark of DESIGN.md section 8: credlint against a bare libcst parse, bandit and ruff.

    python bench/run.py [--quick] [--repeat N] [--keep DIR] [--json FILE]

Generates three repositories with bench/generate.py: "prefect-heavy" (300 files, every one a
flow), "monorepo" (5,000 files, 5% Prefect) and "small-files" (5,000 files of about 2 kB, 5%
Prefect: generate.py's `small-files` shape); `--quick` shrinks them to 60, 1,000 and 1,000. On
each it times every command as a subprocess, best of `--repeat` runs, and reads each child's
peak RSS from `os.wait4`. The cold runs are with one worker, two, and credlint's default (no
`--jobs`: decided from the work and the free CPUs, judged never slower than one worker). The
parse, the cold runs, bandit and ruff take their runs in turns, so that the ratios between them
compare like with like on a machine whose speed drifts (small-files: the parse, the cold
runs and bandit only). A fourth tree holds no Prefect code: a copy of the running interpreter's
standard library (`sysconfig`) without site-packages; `--quick` keeps its packages idlelib,
json, email, http, logging, asyncio, concurrent and xml. There a bare parse and credlint cold
with one worker take turns. Then it runs credlint on a 1 MB file and on 1,000-deep expressions
and reports how it exits.

Flags that `credlint check --help` does not list yet (`--no-cache`, `--jobs`, `--cache-dir`)
are left out, and the rows that needed them are marked "(flag not available)". The two warm rows
(with the full report, the costliest format) are measured twice: by a fresh process each time
(`--no-server`), then answered by a `credlint server` started for the tree, whose own peak
memory is noted. On the monorepo, the warm run with nothing changed is also timed once for each
other format (`--format concise`, `json`, `json-lines`, `sarif`, `github`; fresh processes, the
cache populated once, each format run once untimed first, since the formats that show fixes keep
a report of their own). And bench/render_share.py, run as a child, times in one process a cold
check of the monorepo without rendering (`credlint.api.check`, no cache, no server, the default
workers), then each format's reporter writing that check's report to /dev/null: once for the
formats without fixes and once for json and json-lines (whose check names fixes, as `credlint
check` does). Each row is judged against issue 20's targets (`COLD_LIMITS`, `BANDIT_FACTOR`,
`WARM_LIMITS`, `WARM_FORMAT_LIMIT`, `STDLIB_LIMIT`, `RENDER_SHARE_LIMIT`) and printed as ok or
MISSED.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate  # noqa: E402 - bench/ is not a package

COLD_DEFAULT = "credlint cold, default workers"  # no --jobs: what credlint decides from the work and the CPUs
PARSE, COLD1, COLD2, WARM, CHANGED, WARM_SERVER, CHANGED_SERVER, BANDIT, RUFF = (
    "bare libcst parse", "credlint cold, 1 worker", "credlint cold, 2 workers", "credlint warm",
    "credlint warm, 1 flow changed", "credlint warm, server", "credlint warm, 1 flow changed, server",
    "bandit B105-B107", "ruff S105-S107")
FORMATS = ("full", "concise", "json", "json-lines", "sarif", "github")  # credlint check --format
WARM_FORMAT = "credlint warm, --format {}"  # the other formats' warm rows (WARM is the full report)
RENDER_CHECK = "check() cold, no rendering ({})"  # bench/render_share.py's in-process check
RENDER = "render --format {}"
RENDER_SHARE_SCRIPT = Path(__file__).resolve().parent / "render_share.py"
# The packages of the standard library that `--quick` keeps.
QUICK_STDLIB = ("idlelib", "json", "email", "http", "logging", "asyncio", "concurrent", "xml")
MEMORY_LIMIT_MIB = 200.0
CHILD_TIMEOUT = 1800.0  # a hung child is killed rather than stalling the benchmark
ROBUSTNESS_TIMEOUT = 300.0
# One process parses every .py file, as credlint's single worker would if it analysed them all.
PARSE_SCRIPT = """\
import pathlib, sys
import libcst
for path in sorted(pathlib.Path(sys.argv[1]).rglob("*.py")):
    data = path.read_bytes()
    try:
        libcst.parse_module(data.decode("utf-8"))
    except Exception:
        pass
"""


@dataclass
class Sample:
    seconds: float
    cpu_seconds: float
    peak_mib: float
    exit_code: int
    stderr: str


@dataclass
class Row:
    command: str
    argv: List[str] = field(default_factory=list)
    missing_flags: List[str] = field(default_factory=list)
    seconds: Optional[float] = None
    cpu_seconds: Optional[float] = None
    peak_mib: Optional[float] = None
    runs: List[float] = field(default_factory=list)
    exit_codes: List[int] = field(default_factory=list)
    ratio: Optional[float] = None
    target: str = ""
    result: str = ""
    note: str = ""  # "not installed", "failed: ..."
    stderr_tail: str = ""


def run_child(argv: Sequence[str], cwd: Optional[Path] = None, timeout: float = CHILD_TIMEOUT) -> Sample:
    """Run one child to completion; wall time, CPU time and peak RSS from its own rusage.

    `os.wait4` reports the child and the descendants it waited for (credlint's workers), so the
    peak is that of the largest single process, not the sum of them.
    """
    # As installed: Python may write and reuse bytecode (some sandboxes turn that off, which would
    # make every run recompile credlint's modules).
    env = dict(os.environ, NO_COLOR="1")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(list(argv), cwd=cwd, stdout=subprocess.DEVNULL, stderr=err, env=env)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        elapsed = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # so Popen does not wait again
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return Sample(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / scale, proc.returncode, stderr)


def compile_credlint() -> str:
    """credlint's modules compiled to bytecode before anything is timed, as a wheel's install
    leaves them: where Python may not write bytecode itself (PYTHONDONTWRITEBYTECODE, a read-only
    checkout), every timed run would otherwise compile its imports from source."""
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("credlint")
    if spec is None or not spec.submodule_search_locations:
        return "credlint not importable"
    package = Path(list(spec.submodule_search_locations)[0])
    folders = [package] + [p for p in (package.parent / "rules",) if p.is_dir()]
    done = all(compileall.compile_dir(str(folder), quiet=1) for folder in folders)
    return f"compiled ({', '.join(str(f) for f in folders)})" if done else "compiling failed"


def supported_flags() -> List[str]:
    """Which of the flags still being added to `credlint check` this checkout has."""
    out = subprocess.run([sys.executable, "-m", "credlint", "check", "--help"], capture_output=True, text=True)
    return [flag for flag in ("--no-cache", "--jobs", "--cache-dir", "--no-server")
            if re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", out.stdout)]


def find_tool(name: str) -> Optional[str]:
    """The tool next to this interpreter (the venv), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


def credlint_argv(tree: Path, flags: Sequence[str], wanted: Sequence[Tuple[str, Optional[str]]],
                  fmt: str = "json") -> Tuple[List[str], List[str]]:
    """`credlint check TREE --format FMT --exit-zero` plus the wanted flags that exist."""
    argv = [sys.executable, "-m", "credlint", "check", str(tree), "--format", fmt, "--exit-zero"]
    missing = []
    for flag, value in wanted:
        if flag in flags:
            argv += [flag] + ([value] if value is not None else [])
        else:
            missing.append(flag)
    return argv, missing


def _record(row: Row, sample: Sample, ok_codes: Sequence[int]) -> None:
    row.runs.append(round(sample.seconds, 4))
    row.exit_codes.append(sample.exit_code)
    row.peak_mib = max(row.peak_mib or 0.0, sample.peak_mib)
    if sample.exit_code not in ok_codes:
        row.note = f"failed: exit {sample.exit_code}"
        row.stderr_tail = sample.stderr[-1500:]
    elif sample.stderr.strip() and not row.stderr_tail:
        row.stderr_tail = sample.stderr[-1500:]  # warnings (a worker pool that fell back, ...) matter too
    if row.seconds is None or sample.seconds < row.seconds:
        row.seconds, row.cpu_seconds = sample.seconds, sample.cpu_seconds


def measure(row: Row, repeat: int, before: Optional[Callable[[int], None]] = None,
            ok_codes: Sequence[int] = (0,)) -> Row:
    """Best wall time of `repeat` runs; CPU time of that run; the highest peak of all."""
    for attempt in range(repeat):
        if before is not None:
            before(attempt)
        _record(row, run_child(row.argv), ok_codes)
    return row


def measure_in_turns(rows: Sequence[Tuple[Row, Sequence[int]]], repeat: int) -> None:
    """`measure` for several rows, taking their runs in turns (A B C A B C ...).

    These machines are shared: their speed drifts by tens of percent over minutes. Rows timed one
    after the other would compare different machines; in turns, every row sees the same drift,
    so the ratios between them hold even when the absolute times move."""
    for _ in range(repeat):
        for row, ok_codes in rows:
            _record(row, run_child(row.argv), ok_codes)


def cold_rows(tree: Path, flags: Sequence[str], repeat: int, ruff: bool = True) -> Tuple[List[Row], List[Row]]:
    """The parse, the two cold runs, bandit and (with `ruff`) ruff on one tree, in turns: the
    parse and credlint rows, then bandit's and ruff's."""
    rows = [Row(PARSE, [sys.executable, "-c", PARSE_SCRIPT, str(tree)])]
    for label, jobs in ((COLD1, "1"), (COLD2, "2"), (COLD_DEFAULT, None)):
        argv, missing = credlint_argv(tree, flags, [("--no-cache", None)] + ([("--jobs", jobs)] if jobs else []))
        rows.append(Row(label, argv, missing))
    in_turns = [(row, (0,)) for row in rows]
    bandit = find_tool("bandit")
    others = []
    if bandit:
        row = Row(BANDIT, [bandit, "-t", "B105,B106,B107", "-r", str(tree), "-q", "-f", "json"])
        in_turns.append((row, (0, 1)))
    else:
        row = Row(BANDIT, note="not installed")
    others.append(row)
    ruff_tool = find_tool("ruff") if ruff else None
    if ruff_tool:
        row = Row(RUFF, [ruff_tool, "check", "--no-cache", "--select", "S105,S106,S107", "--exit-zero", str(tree)])
        in_turns.append((row, (0,)))
        others.append(row)
    elif ruff:
        others.append(Row(RUFF, note="not installed"))
    measure_in_turns(in_turns, repeat)  # the rows whose ratios are targets, under the same drift
    return rows, others


def bench_tree(name: str, tree: Path, work: Path, flags: Sequence[str], repeat: int) -> List[Row]:
    """Every command of the table on one tree."""
    rows, others = cold_rows(tree, flags, repeat)

    cache = work / f"{name}-cache"
    # The warm rows print the full report, the costliest format: issue 20's targets hold for it.
    argv, missing = credlint_argv(tree, flags, [("--cache-dir", str(cache)), ("--no-server", None)], fmt="full")
    populate = run_child(argv)  # fills the cache; not timed
    time.sleep(2.1)  # files younger than 2 s are never trusted by their mtime: let the tree age
    warm = measure(Row(WARM, argv, missing), repeat)
    if populate.exit_code != 0:
        warm.note, warm.stderr_tail = f"failed: exit {populate.exit_code} populating the cache", populate.stderr[-1500:]
    rows.append(warm)
    if name == "monorepo":  # before a flow is touched: the tree is still as the cache holds it
        rows.extend(warm_formats(tree, cache, flags, repeat))

    flow = sorted(tree.glob("flows/*/*.py"))[0]
    original = flow.read_bytes()

    def touch(attempt: int) -> None:
        with open(flow, "a", encoding="utf-8") as handle:
            handle.write(f"# bench edit {os.getpid()}-{attempt}-{time.perf_counter_ns()}\n")

    try:
        rows.append(measure(Row(CHANGED, argv, missing), repeat, before=touch))
        rows.extend(bench_server(tree, cache, flags, repeat, touch))
    finally:
        flow.write_bytes(original)
    return rows + others


def bench_server(tree: Path, cache: Path, flags: Sequence[str], repeat: int,
                 touch: Callable[[int], None]) -> List[Row]:
    """The two warm rows again, answered by `credlint server` (started here, stopped after)."""
    if "--no-server" not in flags:
        return [Row(label, note="no credlint server") for label in (WARM_SERVER, CHANGED_SERVER)]
    control = [sys.executable, "-m", "credlint", "server"]
    where = [str(tree), "--cache-dir", str(cache)]
    started = run_child(control + ["start"] + where + ["--idle-timeout", "600"])
    if started.exit_code != 0:
        note = f"failed: exit {started.exit_code} starting the server"
        return [Row(label, note=note, stderr_tail=started.stderr[-1500:]) for label in (WARM_SERVER, CHANGED_SERVER)]
    try:
        argv, missing = credlint_argv(tree, flags, [("--cache-dir", str(cache))], fmt="full")
        run_child(argv)  # the server reads the cache once; not timed
        time.sleep(2.1)
        rows = [measure(Row(WARM_SERVER, argv, missing), repeat),
                measure(Row(CHANGED_SERVER, argv, missing), repeat, before=touch)]
        status = subprocess.run(control + ["status"] + where, capture_output=True, text=True)
        pid = re.search(r"pid (\d+)", status.stdout)
        if pid:
            try:
                with open(f"/proc/{pid.group(1)}/status", encoding="ascii") as handle:
                    peak = re.search(r"VmHWM:\s+(\d+) kB", handle.read())
                if peak:  # the memory column covers the server too
                    mib = int(peak.group(1)) / 1024
                    for row in rows:
                        row.peak_mib = max(row.peak_mib or 0.0, mib)
                        row.note = row.note or f"peak MiB: of the server process ({mib:.0f})"
            except OSError:
                pass
        return rows
    finally:
        run_child(control + ["stop"] + where)


def warm_formats(tree: Path, cache: Path, flags: Sequence[str], repeat: int) -> List[Row]:
    """The warm run with nothing changed for each format but the full one (WARM), in fresh
    processes on the cache WARM used. Each format runs once untimed first: json and json-lines
    name fixes, so their kept report is not the full report's."""
    rows = []
    for fmt in FORMATS[1:]:
        argv, missing = credlint_argv(tree, flags, [("--cache-dir", str(cache)), ("--no-server", None)], fmt=fmt)
        prime = run_child(argv)  # not timed
        row = measure(Row(WARM_FORMAT.format(fmt), argv, missing), repeat)
        if prime.exit_code != 0 and not row.note:
            row.note, row.stderr_tail = f"failed: exit {prime.exit_code} before the timed runs", prime.stderr[-1500:]
        rows.append(row)
    return rows


def bench_render(tree: Path, work: Path, repeat: int) -> List[Row]:
    """bench/render_share.py on the tree: a cold check in process, then each format rendered,
    for the formats without fixes and then for those with; best of `repeat` each. The check's
    row is the check alone (not the child's start-up nor its rendering), its CPU that of the
    child's main process; each format's row is its render, judged against the check."""
    rows: List[Row] = []
    for group, formats in (("fixes off", [f for f in FORMATS if f not in ("json", "json-lines")]),
                           ("fixes on", ["json", "json-lines"])):
        out = work / "render-share.json"
        argv = [sys.executable, str(RENDER_SHARE_SCRIPT), str(tree), "--formats", ",".join(formats),
                "--out", str(out)]
        check_row = Row(RENDER_CHECK.format(group), argv)
        renders = {fmt: Row(RENDER.format(fmt), argv) for fmt in formats}
        for _ in range(repeat):
            out.unlink(missing_ok=True)
            sample = run_child(argv)
            data = None
            if sample.exit_code == 0:
                try:
                    data = json.loads(out.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    pass
            for row in [check_row] + list(renders.values()):
                row.exit_codes.append(sample.exit_code)
                row.peak_mib = max(row.peak_mib or 0.0, sample.peak_mib)  # the child's: check and reporters
                if data is None:
                    row.note, row.stderr_tail = f"failed: exit {sample.exit_code}", sample.stderr[-1500:]
            if data is None:
                continue
            timings = [(check_row, data["check_seconds"], data["check_cpu_seconds"])]
            timings += [(renders[fmt], data["render"][fmt]["seconds"], data["render"][fmt]["cpu_seconds"])
                        for fmt in formats]
            for row, seconds, cpu in timings:
                row.runs.append(round(seconds, 4))
                if row.seconds is None or seconds < row.seconds:
                    row.seconds, row.cpu_seconds = seconds, cpu
            if not check_row.note:
                check_row.note = (f"{data['files']:,} files, {data['findings']:,} findings, {data['workers']} "
                                  f"worker(s); cpu s: of the main process")
            if sample.stderr.strip() and not check_row.stderr_tail:
                check_row.stderr_tail = sample.stderr[-1500:]
        check_row.result = "FAILED" if check_row.note.startswith("failed") else "n/a"
        for row in renders.values():
            row.target = f"<= {RENDER_SHARE_LIMIT:.0%} of the check"
            if row.seconds is None or not check_row.seconds:
                row.result = "FAILED"
                continue
            share = row.seconds / check_row.seconds
            row.target += f": {share:.1%}"
            row.result = "ok" if share <= RENDER_SHARE_LIMIT else "MISSED"
        rows += [check_row] + list(renders.values())
    return rows


def copy_stdlib(dest: Path, quick: bool) -> dict:
    """A copy of the running interpreter's standard library at `dest` (its own project: credlint
    finds no root above it, and may write nothing into the real one), without site-packages and
    bytecode; with `quick`, only QUICK_STDLIB of it."""
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    skip = shutil.ignore_patterns("site-packages", "__pycache__", "*.pyc")
    dest.mkdir(parents=True)
    (dest / ".git").mkdir()  # the project root for credlint
    for entry in sorted(stdlib.iterdir()):
        if entry.name in ("site-packages", "__pycache__") or (quick and entry.name not in QUICK_STDLIB):
            continue
        if entry.is_dir():
            shutil.copytree(entry, dest / entry.name, ignore=skip, symlinks=True)
        elif entry.is_file():
            shutil.copy2(entry, dest / entry.name)
    files = sorted(dest.rglob("*.py"))
    return {"path": str(stdlib), "py_files": len(files), "bytes": sum(p.stat().st_size for p in files),
            "packages": list(QUICK_STDLIB) if quick else "all"}


def bench_stdlib(work: Path, flags: Sequence[str], repeat: int, quick: bool) -> Tuple[List[Row], dict]:
    """A bare parse of the stdlib's .py files and credlint cold with one worker, in turns."""
    tree = work / "stdlib"
    summary = copy_stdlib(tree, quick)
    rows = [Row(PARSE, [sys.executable, "-c", PARSE_SCRIPT, str(tree)])]
    argv, missing = credlint_argv(tree, flags, [("--no-cache", None), ("--jobs", "1")])
    rows.append(Row(COLD1, argv, missing))
    # --exit-zero as on the other trees; exit 1 (CL000 for the stdlib's deliberately broken test
    # files) would be accepted too, exit 2 is a failure.
    measure_in_turns([(rows[0], (0,)), (rows[1], (0, 1))], repeat)
    return rows, summary


# Issue 20's targets (DESIGN.md section 8 set looser ones): cold runs against a bare parse on the
# Prefect-heavy tree and on the stdlib, against bandit on the monorepo and the small-files tree;
# warm runs in seconds, with the full report and (monorepo) every other format; each format's
# rendering against the cold check that made the report (monorepo).
COLD_LIMITS = {COLD1: 1.3, COLD2: 0.7}  # x the bare parse, Prefect-heavy tree
BANDIT_FACTOR = 15.0  # bandit B105-B107 at least this many times slower, monorepo
WARM_LIMITS = {WARM: 0.25, CHANGED: 0.35, WARM_SERVER: 0.25, CHANGED_SERVER: 0.35}  # seconds
WARM_FORMAT_LIMIT = 0.25  # seconds, a warm run with nothing changed, any format (monorepo)
STDLIB_LIMIT = 0.05  # x the bare parse: credlint cold, 1 worker, on a tree without Prefect code
RENDER_SHARE_LIMIT = 0.10  # rendering a format, against the cold check that made the report
DEFAULT_TOLERANCE = 1.05  # credlint's default workers against one worker: never slower, within noise


def judge(tree: str, rows: List[Row]) -> None:
    """Ratios to the parse, and each row's target with "ok" / "MISSED" (issue 20's targets)."""
    by = {row.command: row for row in rows}
    parse = by[PARSE].seconds
    for row in rows:
        if row.seconds is not None and parse:
            row.ratio = row.seconds / parse

    def check(row: Row, text: str, passed: Optional[bool]) -> None:
        row.target = text
        if row.missing_flags:
            row.result = "n/a (flag not available)"
        elif row.note.startswith("failed"):
            row.result = "FAILED"
        elif passed is None:
            row.result = "n/a"
        else:
            row.result = "ok" if passed else "MISSED"

    bandit = by[BANDIT].seconds if BANDIT in by else None
    for label in (COLD1, COLD2, COLD_DEFAULT):
        row = by.get(label)
        if row is None:
            continue
        if label == COLD_DEFAULT:  # never slower than one worker (5%: the noise of a best-of-N)
            one = by[COLD1].seconds
            check(row, f"<= 1 worker (x{DEFAULT_TOLERANCE})", None if one is None or row.seconds is None
                  else row.seconds <= one * DEFAULT_TOLERANCE)
            continue
        if tree == "stdlib":
            check(row, f"<= {STDLIB_LIMIT}x parse", None if row.ratio is None and not row.note.startswith("failed")
                  else row.ratio is not None and row.ratio <= STDLIB_LIMIT)
        elif tree == "prefect-heavy":
            limit = COLD_LIMITS[label]
            passed = row.ratio is not None and row.ratio <= limit
            text = f"<= {limit}x parse"
            if label == COLD2:  # more workers must never be slower than one
                one = by[COLD1].seconds
                passed = passed and one is not None and row.seconds is not None and row.seconds <= one
                text += ", and <= 1 worker"
            check(row, text, passed)
        elif bandit is None or not row.seconds:
            check(row, f"bandit >= {BANDIT_FACTOR:.0f}x this (bandit not installed)", None)
        else:
            check(row, f"bandit >= {BANDIT_FACTOR:.0f}x this: {bandit / row.seconds:.1f}x",
                  bandit / row.seconds >= BANDIT_FACTOR)
    warm_limits = dict(WARM_LIMITS, **{WARM_FORMAT.format(fmt): WARM_FORMAT_LIMIT for fmt in FORMATS[1:]})
    for label, limit in warm_limits.items():
        row = by.get(label)
        if row is not None:
            check(row, f"<= {limit} s", None if row.seconds is None and not row.note.startswith("failed")
                  else row.seconds is not None and row.seconds <= limit)
    for row in rows:
        if row.note.startswith("failed") and not row.result:
            row.result = "FAILED"


def table(title: str, rows: List[Row]) -> str:
    """A plain-text table, one line per command."""
    header = ("command", "best s", "x parse", "cpu s", "peak MiB", "<200 MiB", "target", "result")
    lines = []
    for row in rows:
        label = row.command + (" (flag not available)" if row.missing_flags else "")
        if row.seconds is None:
            lines.append((label, row.note or "-", "", "", "", "", row.target, row.result))
            continue
        memory = "ok" if (row.peak_mib or 0.0) < MEMORY_LIMIT_MIB else "MISSED"
        lines.append((label, f"{row.seconds:.3f}", f"{row.ratio:.2f}x" if row.ratio is not None else "",
                      f"{row.cpu_seconds:.2f}", f"{row.peak_mib:.1f}", memory, row.target, row.result))
    widths = [max(len(str(line[i])) for line in [header] + lines) for i in range(len(header))]
    right = {1, 2, 3, 4}

    def fmt(cells) -> str:
        padded = (str(c).rjust(w) if i in right else str(c).ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))
        return "  ".join(padded).rstrip()

    out = [title, fmt(header), fmt(["-" * w for w in widths])] + [fmt(line) for line in lines]
    for row in rows:
        if row.missing_flags:
            out.append(f"  {row.command}: ran without {', '.join(row.missing_flags)}")
        if row.note.startswith("failed"):
            tail = "\n".join("    " + line for line in row.stderr_tail.splitlines()[-12:])
            out.append(f"  {row.command}: {row.note}\n{tail}")
        elif row.note and row.seconds is not None:
            out.append(f"  {row.command}: {row.note}")
        if not row.note.startswith("failed") and row.stderr_tail.strip():
            tail = "\n".join("    " + line for line in row.stderr_tail.strip().splitlines()[-3:])
            out.append(f"  {row.command}: printed on stderr:\n{tail}")
    return "\n".join(out)


def robustness(work: Path, flags: Sequence[str], seed: int) -> List[dict]:
    """credlint on a 1 MB file and on 1,000-deep expressions: a finding or a skip, never exit 2.

    Each case is its own project (credlint reads the whole project, so cases sharing a folder
    would pay for each other), and a bare libcst parse of the same file tells what is libcst's.
    """
    cases = {
        "1 MB file": generate.big_module(1_000_000, seed),
        "1,000-deep ((((1))))": "from prefect import Flow\n\nx = " + "(" * 1000 + "1" + ")" * 1000 + "\n",
        "1,000-deep 1 + (1 + (...))": "from prefect import Flow\n\nx = " + "1 + (" * 1000 + "1" + ")" * 1000 + "\n",
    }
    results = []
    for index, (label, text) in enumerate(cases.items()):
        root = work / f"robustness-{index}"
        root.mkdir()
        (root / "pyproject.toml").write_text('[project]\nname = "robustness"\n', encoding="utf-8")
        path = root / "case.py"
        path.write_text(text, encoding="utf-8")
        argv = [sys.executable, "-m", "credlint", "check", str(path), "--format", "json"]
        if "--no-cache" in flags:
            argv.append("--no-cache")
        sample = run_child_capturing(argv, root)
        parse = run_child([sys.executable, "-c", PARSE_SCRIPT, str(root)], root, timeout=ROBUSTNESS_TIMEOUT)
        codes = []
        try:
            codes = sorted({f["code"] for f in json.loads(sample.stdout or "{}").get("findings", [])})
        except ValueError:
            pass
        crashed = sample.exit_code not in (0, 1) or "Traceback" in sample.stderr
        results.append({"case": label, "bytes": len(text.encode("utf-8")), "exit_code": sample.exit_code,
                        "seconds": round(sample.seconds, 3), "peak_mib": round(sample.peak_mib, 1), "codes": codes,
                        "parse_seconds": round(parse.seconds, 3), "parse_peak_mib": round(parse.peak_mib, 1),
                        "result": "MISSED" if crashed else "ok",
                        "stderr_tail": sample.stderr[-600:] if crashed else ""})
    return results


@dataclass
class Captured(Sample):
    stdout: str = ""


def run_child_capturing(argv: Sequence[str], cwd: Path) -> Captured:
    """As run_child, keeping stdout (the JSON report) too; for the untimed robustness runs."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        sample = run_child(list(argv) + ["--output", out.name], cwd, timeout=ROBUSTNESS_TIMEOUT)
        text = Path(out.name).read_text(encoding="utf-8", errors="replace")
    return Captured(**asdict(sample), stdout=text)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="60, 1,000 and 1,000 files instead of 300, 5,000 and 5,000; a part of the stdlib")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per command; the best counts")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="generate into DIR (empty or absent) and keep it")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the numbers to FILE")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        if any(args.keep.iterdir()):
            parser.error(f"--keep {args.keep}: folder is not empty")
        work = args.keep.resolve()
    else:
        work = Path(tempfile.mkdtemp(prefix="credlint-bench-"))
    compiled = compile_credlint()
    flags = supported_flags()
    trees = (("prefect-heavy", 60 if args.quick else 300, 1.0), ("monorepo", 1000 if args.quick else 5000, 0.05),
             ("small-files", 1000 if args.quick else 5000, 0.05))
    report: Dict[str, object] = {
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
                    "load_average": [round(x, 2) for x in os.getloadavg()]},
        "quick": args.quick, "repeat": args.repeat, "seed": args.seed,
        "flags_available": flags, "bytecode": compiled, "trees": [],
    }
    missing = [f for f in ("--no-cache", "--jobs", "--cache-dir") if f not in flags]
    print(f"credlint bench: python {platform.python_version()}, {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}, best of {args.repeat}, in {work}")
    if missing:
        print(f"credlint check does not have {', '.join(missing)} yet: rows that need them run without")
    try:
        for name, files, share in trees:
            tree = work / name
            started = time.perf_counter()
            shape = "small-files" if name == "small-files" else "monorepo"
            summary = generate.generate(tree, files, share, args.seed, shape)
            took = time.perf_counter() - started
            if name == "small-files":  # the comparison with bandit only
                cold, others = cold_rows(tree, flags, args.repeat, ruff=False)
                rows = cold + others
            else:
                rows = bench_tree(name, tree, work, flags, args.repeat)
            judge(name, rows)
            peaks = [r.peak_mib for r in rows if r.peak_mib is not None and r.command.startswith("credlint")]
            memory_ok = bool(peaks) and max(peaks) < MEMORY_LIMIT_MIB
            print()
            title = (f"{name}: {summary['py_files']} .py files ({summary['flow_files']} Prefect), "
                     f"{summary['lines']:,} lines, {summary['bytes'] / 1e6:.1f} MB, generated in {took:.1f} s")
            print(table(title, rows))
            print(f"  credlint peaks < {MEMORY_LIMIT_MIB:.0f} MiB: {'ok' if memory_ok else 'MISSED'}"
                  f" (largest {max(peaks):.1f} MiB)" if peaks else "")
            entry = {"name": name, "summary": summary, "generate_seconds": round(took, 3),
                     "credlint_memory_ok": memory_ok, "rows": [asdict(r) for r in rows]}
            if name == "monorepo":
                render_rows = bench_render(tree, work, args.repeat)
                print()
                print(table(f"{name}: rendering each format, against a cold check in the same process "
                            f"(bench/render_share.py)", render_rows))
                entry["render_rows"] = [asdict(r) for r in render_rows]
            report["trees"].append(entry)

        rows, summary = bench_stdlib(work, flags, args.repeat, args.quick)
        judge("stdlib", rows)
        peaks = [r.peak_mib for r in rows if r.peak_mib is not None and r.command.startswith("credlint")]
        memory_ok = bool(peaks) and max(peaks) < MEMORY_LIMIT_MIB
        print()
        part = f"packages {', '.join(QUICK_STDLIB)}" if args.quick else "all of it"
        print(table(f"stdlib: a copy of {summary['path']} ({part}, without site-packages), "
                    f"{summary['py_files']} .py files, {summary['bytes'] / 1e6:.1f} MB, no Prefect code", rows))
        print(f"  credlint peaks < {MEMORY_LIMIT_MIB:.0f} MiB: {'ok' if memory_ok else 'MISSED'}"
              f" (largest {max(peaks):.1f} MiB)" if peaks else "")
        report["trees"].append({"name": "stdlib", "summary": summary, "credlint_memory_ok": memory_ok,
                                "rows": [asdict(r) for r in rows]})
        print()
        report["robustness"] = results = robustness(work, flags, args.seed)
        for r in results:
            memory = "" if r["peak_mib"] < MEMORY_LIMIT_MIB else f" (over {MEMORY_LIMIT_MIB:.0f})"
            print(f"robustness: {r['case']} ({r['bytes']:,} bytes): "
                  f"credlint exit {r['exit_code']} in {r['seconds']:.2f} s, "
                  f"peak {r['peak_mib']:.0f} MiB{memory}, findings {', '.join(r['codes']) or 'none'}; "
                  f"bare libcst parse {r['parse_seconds']:.2f} s, {r['parse_peak_mib']:.0f} MiB: {r['result']}")
            if r["stderr_tail"]:
                print("\n".join("    " + line for line in r["stderr_tail"].splitlines()))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"numbers written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
