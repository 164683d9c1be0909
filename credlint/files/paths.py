"""Paths as credlint keeps them (relative to the project root, `/`-separated) and as it shows
them (relative to the working directory)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Optional


def rel_to(path: Path, base: Path) -> Optional[str]:
    try:
        return path.resolve().relative_to(base).as_posix()
    except ValueError:
        return None


def displayer(root: Path, cwd: Path) -> Callable[[str], str]:
    """root-relative path -> cwd-relative display path, without pathlib per file."""
    if root == cwd:
        return lambda rel: rel
    try:
        prefix = root.relative_to(cwd).as_posix() + "/"
        return lambda rel: prefix + rel
    except ValueError:
        return lambda rel: display_path(root / rel, cwd)


def display_path(path: Path, cwd: Path) -> str:
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        return os.path.relpath(path, cwd).replace(os.sep, "/") if os.name != "nt" else path.as_posix()
