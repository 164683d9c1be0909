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
        pass
    if os.name == "nt":  # another drive has no relative path: `display_path` shows it whole
        return lambda rel: display_path(root / rel, cwd)
    try:  # the working directory inside the project: its own files lose the prefix, others climb
        inside = cwd.relative_to(root).as_posix() + "/"
    except ValueError:  # a root beside the working directory: `../project/` before every path
        prefix = os.path.relpath(root, cwd) + "/"
        return lambda rel: prefix + rel
    base = str(cwd)
    return lambda rel: rel[len(inside):] if rel.startswith(inside) else \
        os.path.relpath(os.path.join(str(root), rel), base)


def display_path(path: Path, cwd: Path) -> str:
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        return os.path.relpath(path, cwd).replace(os.sep, "/") if os.name != "nt" else path.as_posix()
