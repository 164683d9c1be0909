"""Which TOML files make up the catalogue, and the digest that names that content.

Kept apart from the catalogue's parser so that a run which only needs to know *which*
catalogue it would use (a reused report, the cache's namespace) loads nothing else.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable, List, Tuple


def default_catalogue_dir() -> Path:
    """The catalogue's data, kept with the built-in rules (`rules/catalogue/`): found, not imported
    (the knowledge of Prefect sits below the rules in the pipeline)."""
    from importlib.util import find_spec

    spec = find_spec("credlint.rules")
    return Path(list(spec.submodule_search_locations)[0]) / "catalogue"


def source_files(dirs: Iterable[Path] = ()) -> List[Path]:
    files: List[Path] = sorted(default_catalogue_dir().glob("*.toml"))
    for extra in dirs:
        files.extend(sorted(Path(extra).glob("*.toml")))
    clients = default_catalogue_dir().parent / "clients.toml"
    if clients.is_file():
        files.append(clients)
    return files


def read_sources(dirs: Iterable[Path] = ()) -> Tuple[List[Tuple[Path, bytes]], str]:
    """The catalogue's TOML files with their content, and the digest of it all."""
    blobs = []
    hasher = hashlib.sha256()
    for path in source_files(dirs):
        data = path.read_bytes()
        hasher.update(path.name.encode() + b"\0" + data)
        blobs.append((path, data))
    return blobs, hasher.hexdigest()[:16]


def builtin_digest() -> str:
    """The built-in catalogue's digest, without parsing it."""
    return read_sources()[1]
