"""The benchmark of DESIGN.md section 8: credlint against a bare libcst parse, bandit and ruff.

    python bench/run.py [--quick] [--repeat N] [--keep DIR] [--json FILE]

Generates two repositories with bench/generate.py: "prefect-heavy" (300 files, every one a
flow) and "monorepo" (5,000 files, 5% Prefect); `--quick` shrinks them to 60 and 1,000. On each
it times every command as a subprocess, best of `--repeat` runs, and reads each child's peak RSS
from `os.wait4`. The parse, the cold runs, bandit and ruff take their runs in turns, so that the
ratios between them compare like with like on a machine whose speed drifts. Then it runs
credlint on a 1 MB file and on 1,000-deep expressions and reports how it exits.

Flags that `credlint check --help` does not list yet (`--no-cache`, `--jobs`, `--cache-dir`)
are left out, and the rows that needed them are marked "(flag not available)". The two warm rows
(with the full report, the costliest format) are measured twice: by a fresh process each time
(`--no-server`), then answered by a `credlint server` started for the tree, whose own peak
memory is noted. Each row is judged against issue 20's targets (`COLD_LIMITS`, `BANDIT_FACTOR`,
`WARM_LIMITS`) and printed as ok or MISSED.
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
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate  # noqa: E402 - bench/ is not a package

PARSE, COLD1, COLD2, WARM, CHANGED, WARM_SERVER, CHANGED_SERVER, BANDIT, RUFF = (
    "bare libcst parse", "credlint cold, 1 worker", "credlint cold, 2 workers", "credlint warm",
    "credlint warm, 1 flow changed", "credlint warm, server", "credlint warm, 1 flow changed, server",
    "bandit B105-B107", "ruff S105-S107")
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


def bench_tree(name: str, tree: Path, work: Path, flags: Sequence[str], repeat: int) -> List[Row]:
    """Every command of the table on one tree."""
    rows = [Row(PARSE, [sys.executable, "-c", PARSE_SCRIPT, str(tree)])]
    for label, jobs in ((COLD1, "1"), (COLD2, "2")):
        argv, missing = credlint_argv(tree, flags, [("--no-cache", None), ("--jobs", jobs)])
        rows.append(Row(label, argv, missing))
    in_turns = [(row, (0,)) for row in rows]
    bandit, ruff = find_tool("bandit"), find_tool("ruff")
    others = []
    if bandit:
        row = Row(BANDIT, [bandit, "-t", "B105,B106,B107", "-r", str(tree), "-q", "-f", "json"])
        in_turns.append((row, (0, 1)))
    else:
        row = Row(BANDIT, note="not installed")
    others.append(row)
    if ruff:
        row = Row(RUFF, [ruff, "check", "--no-cache", "--select", "S105,S106,S107", "--exit-zero", str(tree)])
        in_turns.append((row, (0,)))
    else:
        row = Row(RUFF, note="not installed")
    others.append(row)
    measure_in_turns(in_turns, repeat)  # the rows whose ratios are targets, under the same drift

    cache = work / f"{name}-cache"
    # The warm rows print the full report, the costliest format: issue 20's targets hold for it.
    argv, missing = credlint_argv(tree, flags, [("--cache-dir", str(cache)), ("--no-server", None)], fmt="full")
    populate = run_child(argv)  # fills the cache; not timed
    time.sleep(2.1)  # files younger than 2 s are never trusted by their mtime: let the tree age
    warm = measure(Row(WARM, argv, missing), repeat)
    if populate.exit_code != 0:
        warm.note, warm.stderr_tail = f"failed: exit {populate.exit_code} populating the cache", populate.stderr[-1500:]
    rows.append(warm)

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


# Issue 20's targets (DESIGN.md section 8 set looser ones): cold runs against a bare parse on the
# Prefect-heavy tree, against bandit on the monorepo; warm runs in seconds, with the full report.
COLD_LIMITS = {COLD1: 1.3, COLD2: 0.7}  # x the bare parse, Prefect-heavy tree
BANDIT_FACTOR = 15.0  # bandit B105-B107 at least this many times slower, monorepo
WARM_LIMITS = {WARM: 0.25, CHANGED: 0.35, WARM_SERVER: 0.25, CHANGED_SERVER: 0.35}  # seconds


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

    bandit = by[BANDIT].seconds
    for label in (COLD1, COLD2):
        row = by[label]
        if tree == "prefect-heavy":
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
    for label, limit in WARM_LIMITS.items():
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
    parser.add_argument("--quick", action="store_true", help="60 and 1,000 files instead of 300 and 5,000")
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
    flags = supported_flags()
    trees = (("prefect-heavy", 60 if args.quick else 300, 1.0), ("monorepo", 1000 if args.quick else 5000, 0.05))
    report: Dict[str, object] = {
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
                    "load_average": [round(x, 2) for x in os.getloadavg()]},
        "quick": args.quick, "repeat": args.repeat, "seed": args.seed,
        "flags_available": flags, "trees": [],
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
            summary = generate.generate(tree, files, share, args.seed)
            took = time.perf_counter() - started
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
            report["trees"].append({"name": name, "summary": summary, "generate_seconds": round(took, 3),
                                    "credlint_memory_ok": memory_ok, "rows": [asdict(r) for r in rows]})
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
