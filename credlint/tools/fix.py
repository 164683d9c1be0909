"""`credlint check --fix / --unsafe-fixes / --diff`: the loop ruff runs, on credlint's findings.

`--fix` applies the fixes, checks again (a fix may make another possible, and edits that
overlapped wait for the next pass) and stops when nothing more changes; the findings left decide
the exit code. `--diff` shows the first pass's edits, masked, and writes nothing.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, Tuple

from credlint.fixes import plan, write_fixes
from credlint.fixes.diff import masked_diff

MAX_PASSES = 8


def fix_in_place(run, recheck: Callable[[], object], unsafe: bool, cwd: Path) -> Tuple[object, int]:
    """(the run after the last pass, how many findings were fixed)."""
    fixed = 0
    for _ in range(MAX_PASSES):
        files = plan(run.report.findings, cwd, unsafe=unsafe, prefect=run.config.prefect).fixed_files()
        if not files:
            break
        fixed += write_fixes(files, cwd)
        run = recheck()
    return run, fixed


def show_diff(run, unsafe: bool, cwd: Path, stream=None) -> int:
    """Print what `--fix` would change; the number of findings it would fix."""
    from credlint.reporters.text import safe

    stream = stream or sys.stdout
    files = plan(run.report.findings, cwd, unsafe=unsafe, prefect=run.config.prefect).fixed_files()
    stream.write("\n".join(safe(line) for line in masked_diff(files).split("\n")))
    return sum(len(applied) for _, _, applied in files.values())
