"""Where a run is and what it reads, decided before anything is analysed: the project root, its
configuration and cache folder (`Head`, known in milliseconds), then every file of the project and
the ones asked about (`Plan`)."""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from credlint.config import Config, discover_config, find_root, glob_matcher
from credlint.errors import UsageError
from credlint.files.discover import DEFAULT_EXCLUDES, Excludes, discover, maybe_relevant
from credlint.files.paths import rel_to
from credlint.options import Options


@dataclass
class Head:
    """Where a run is and how it is configured: known in a few milliseconds, before any listing."""

    cwd: Path
    targets: List[Path]
    root: Path
    config: Config
    cache_dir: Path


@dataclass
class Plan:
    """What a run reads, decided before anything is analysed."""

    root: Path
    cwd: Path
    config: Config
    cache_dir: Path
    files: List[Tuple[str, str]]  # (root-relative path, path) of every file of the project
    wanted: List[str]  # the files asked about
    explicit: set  # files named one by one (what pre-commit passes)
    stdin_rel: Optional[str] = None
    stats: Optional[Dict[str, os.stat_result]] = None  # taken by the scan, for the memo and the cache
    unlisted: Dict[str, str] = field(default_factory=dict)  # folders that could not be listed -> why
    buffers: Dict[str, bytes] = field(default_factory=dict)  # root-relative path -> editor buffer


def head_of(options: Options) -> Head:
    """The root, configuration (with the command line's settings applied) and cache folder of the
    project the paths are in."""
    cwd = Path.cwd().resolve()
    targets = [Path(p) for p in options.paths] or [Path(".")]
    if options.stdin is not None:
        targets = [Path(options.stdin[0])]  # need not exist: a new, unsaved buffer
    else:
        for target in targets:
            if not target.exists() and str(target) not in given_paths(options.buffers):
                raise UsageError(f"{target}: no such file or directory")
    root = find_root(targets[0])
    config = discover_config(root, Path(options.config_file) if options.config_file else None)
    if options.backend:
        config.backend = options.backend
    if options.fail_on:
        config.fail_on = options.fail_on
    if options.exclude is not None:
        config.exclude = list(options.exclude)
    if options.extend_exclude:
        config.extend_exclude = config.extend_exclude + list(options.extend_exclude)
    cache_dir = Path(options.cache_dir) if options.cache_dir else root / ".credlint_cache"
    return Head(cwd, targets, root, config, cache_dir)


def plan_of(options: Options, head: Optional[Head] = None) -> Plan:
    """Every file of the project (providers may live anywhere under the root), and the ones asked
    about: the paths given, files named one by one, unsaved editor buffers."""
    head = head if head is not None else head_of(options)
    cwd, targets, root, config, cache_dir = head.cwd, head.targets, head.root, head.config, head.cache_dir
    excludes = list(DEFAULT_EXCLUDES) + config.exclude + config.extend_exclude

    # The project, read whole; then the subset of files the user asked about.
    stats: Optional[Dict[str, os.stat_result]] = {} if options.caching and options.stdin is None else None
    unlisted: Dict[str, str] = {}
    files = discover(root, excludes, config.sources, stats, unlisted)
    excluded, is_source = Excludes(excludes), glob_matcher(config.sources)
    known = {rel for rel, _ in files}
    wanted: List[str] = []
    explicit: set = set()
    for target in targets:
        resolved = target.resolve()
        rel = rel_to(resolved, root)
        if not resolved.is_dir() or options.stdin is not None:
            if rel is None:
                continue
            if excluded(rel):
                continue
            if rel not in known and (maybe_relevant(resolved.name) or is_source(rel)):
                files.append((rel, str(resolved)))
                known.add(rel)
            wanted.append(rel)
            explicit.add(rel)
        else:
            prefix = "" if rel in (None, "", ".") else rel + "/"
            wanted.extend(r for r, _ in files if r.startswith(prefix))
            wanted.extend(r for r in unlisted if r.startswith(prefix))
    stdin_rel = rel_to(Path(options.stdin[0]).resolve(), root) if options.stdin is not None else None
    buffers: Dict[str, bytes] = {}
    for path, data in options.buffers.items():
        rel = rel_to(Path(path).resolve(), root)
        if rel is None or excluded(rel):
            continue
        if rel not in known:  # a new file, not saved yet
            if not (maybe_relevant(Path(rel).name) or is_source(rel)):
                continue
            files.append((rel, str(root / rel)))
            known.add(rel)
        buffers[rel] = data
    return Plan(root, cwd, config, cache_dir, files, wanted, explicit, stdin_rel, stats, unlisted, buffers)


def projects_of(paths: Sequence[str], buffers: Optional[Dict[str, bytes]] = None) -> Tuple[List[List[str]], List[str]]:
    """The paths grouped by project root (in the order given), and an error for each path that
    does not exist (an editor buffer exists whether it was saved or not)."""
    groups: Dict[Path, List[str]] = {}
    missing: List[str] = []
    for path in paths:
        target = Path(path)
        if not target.exists() and not target.is_symlink() and str(target) not in given_paths(buffers):
            missing.append(f"{path}: no such file or directory")
            continue
        groups.setdefault(find_root(target), []).append(path)
    return list(groups.values()), missing


def given_paths(buffers: Optional[Dict[str, bytes]]) -> set:
    """The paths of editor buffers as `Path` spells them (`./x.py` is `x.py`)."""
    return {str(Path(path)) for path in buffers or ()}
