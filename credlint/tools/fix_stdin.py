"""`credlint check --fix / --diff --stdin-filename PATH`, as ruff does it for editors and pipes.

The text comes from standard input and stands for PATH: `--fix` writes it back fixed to standard
output (the file on disk is never touched) and the findings left go to standard error; `--diff`
prints the masked diff of that text. Only the findings of PATH are fixed: the other files of the
project give context, and are not being edited.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable, Optional, Tuple

from credlint.fixes import plan
from credlint.fixes.diff import masked_diff

MAX_PASSES = 8


def stdin_path(name: str, cwd: Path) -> str:
    """The path findings give the file standard input stands for (relative to `cwd`, with /)."""
    return os.path.relpath(os.path.abspath(name), str(cwd)).replace(os.sep, "/")


def _fixed(run, text: str, path: str, unsafe: bool, cwd: Path):
    """(old, new, edits) of one pass over the text, or None when nothing changes."""
    findings = [f for f in run.report.findings if f.path == path]
    return plan(findings, cwd, unsafe=unsafe, buffers={path: text}).fixed_files().get(path)


def fix_stdin(run, recheck: Callable[[bytes], object], unsafe: bool, cwd: Path,
              stdin: Tuple[str, bytes]) -> Tuple[object, int, bytes]:
    """(the run after the last pass, how many findings were fixed, the text to print). Text
    that is not UTF-8 has no fix and goes back as it came."""
    path = stdin_path(stdin[0], cwd)
    try:
        text = stdin[1].decode("utf-8")
    except UnicodeDecodeError:
        return run, 0, stdin[1]
    count = 0
    for _ in range(MAX_PASSES):
        fixed = _fixed(run, text, path, unsafe, cwd)
        if fixed is None:
            break
        text = fixed[1]
        count += len(fixed[2])
        run = recheck(text.encode("utf-8"))
    return run, count, text.encode("utf-8") if count else stdin[1]


def stdin_diff(run, unsafe: bool, cwd: Path, stdin: Tuple[str, bytes]) -> Tuple[str, int]:
    """(the masked diff `--fix` would make of the text, how many findings it would fix)."""
    path = stdin_path(stdin[0], cwd)
    try:
        text = stdin[1].decode("utf-8")
    except UnicodeDecodeError:
        return "", 0
    fixed: Optional[tuple] = _fixed(run, text, path, unsafe, cwd)
    if fixed is None:
        return "", 0
    return masked_diff({path: fixed}), len(fixed[2])


def show_stdin_diff(run, unsafe: bool, cwd: Path, stdin: Tuple[str, bytes], stream=None) -> int:
    """Print the diff of standard input's text; the number of findings it would fix."""
    from credlint.reporters.text import safe

    diff, count = stdin_diff(run, unsafe, cwd, stdin)
    (stream or sys.stdout).write("\n".join(safe(line) for line in diff.split("\n")))
    return count


def print_fixed_stdin(run, recheck: Callable[[bytes], object], unsafe: bool, stdin: Tuple[str, bytes]):
    """Fix standard input's text, print it on standard output (as it came when nothing was
    fixed) and the count on standard error; the run of the fixed text."""
    run, count, text = fix_stdin(run, recheck, unsafe, Path.cwd(), stdin)
    sys.stdout.flush()
    if hasattr(sys.stdout, "buffer"):
        sys.stdout.buffer.write(text)
    else:  # a text stream (in-process callers)
        sys.stdout.write(text.decode("utf-8", "replace"))
    sys.stdout.flush()
    print(f"Fixed {count} finding{'' if count == 1 else 's'} ({len(run.report.findings)} remaining)", file=sys.stderr)
    return run
