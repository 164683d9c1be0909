"""credlint's cache folder on disk: private to its owner (0700, files 0600), marked as a cache
(ignored by git and backup tools), pruned to the newest files, and written after an answer when
the caller asks (`deferred`). The facts cache, the kept report and the catalogue snapshot all
live there.
"""
from __future__ import annotations

import fnmatch
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, List, Optional

_TAG = ("Signature: 8a477f597d28d172789f06886806bc55\n"
        "# This file is a cache directory tag created by credlint.\n"
        "# For information about cache directory tags see https://bford.info/cachedir/\n")

PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600
# What credlint writes in a cache folder: the only files it tightens in a folder made before.
_OWN_FILES = (".gitignore", "CACHEDIR.TAG", "key", ".key-*", "facts-*", "run-*", "catalogue-*", "blocks-*", ".facts-*",
              ".run-*", ".catalogue-*", ".blocks-*")


# Writes held back until the caller has answered (`deferred`): None when writing at once.
_DEFERRED: Optional[List[Callable[[], None]]] = None


@contextmanager
def deferred() -> Iterator[List[Callable[[], None]]]:
    """Hold back the cache's writes made inside the block: the caller runs them later.

    `credlint server` answers first and writes the index afterwards, so the client does not
    wait for a file it never reads."""
    global _DEFERRED
    outer, _DEFERRED = _DEFERRED, []
    try:
        yield _DEFERRED
    finally:
        _DEFERRED = outer


def write_now_or_later(write: Callable[[], None]) -> None:
    if _DEFERRED is not None:
        _DEFERRED.append(write)
    else:
        write()


def prepare(directory: Path) -> None:
    """Create the cache folder, private to its owner and marked as one: ignored by git and by
    backup tools."""
    directory.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    tighten(directory)
    ignore = directory / ".gitignore"
    if not ignore.exists():
        write_private(ignore, "# Created by credlint: nothing in here belongs in version control.\n*\n")
    tag = directory / "CACHEDIR.TAG"
    if not tag.exists():
        write_private(tag, _TAG)


def tighten(directory: Path) -> None:
    """Close up a cache folder made with looser modes (by an older credlint, or a loose umask):
    the folder becomes 0700 and credlint's files in it 0600. Only a folder that holds nothing but
    credlint's files: a `--cache-dir` shared with other files keeps the mode its owner chose.
    Failing (not the owner, a read-only file system) is not an error."""
    try:
        if not os.stat(directory).st_mode & 0o077 or not _ours(directory):
            return
        os.chmod(directory, PRIVATE_FOLDER)
    except OSError:
        return
    for pattern in _OWN_FILES:
        for path in directory.glob(pattern):
            try:
                if path.is_file() and not path.is_symlink() and path.stat().st_mode & 0o077:
                    os.chmod(path, PRIVATE_FILE)
            except OSError:
                continue


def _ours(directory: Path) -> bool:
    """Nothing but credlint's files in it: a cache folder, not a folder a cache was put in."""
    with os.scandir(directory) as entries:
        return all(any(fnmatch.fnmatchcase(entry.name, pattern) for pattern in _OWN_FILES) for entry in entries)


def write_private(path: Path, text: str) -> None:
    """Write `text` to a file only its owner can read, whatever the umask or the mode an older
    file had (O_CREAT keeps it). Raises OSError like `Path.write_text`."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with open(fd, "w", encoding="utf-8", errors="surrogatepass") as handle:
        private_fd(fd)
        handle.write(text)


def private_fd(fd: int) -> None:
    if hasattr(os, "fchmod") and os.fstat(fd).st_mode & 0o077:
        os.fchmod(fd, PRIVATE_FILE)


def prune(directory: Path, pattern: str, keep: int) -> None:
    """Delete all but the `keep` newest files matching `pattern` (other namespaces, old reports)."""
    found = []
    for path in directory.glob(pattern):
        try:
            found.append((path.stat().st_mtime_ns, path))
        except OSError:
            continue
    for _, path in sorted(found, reverse=True)[keep:]:
        try:
            path.unlink()
        except OSError:
            pass


def read_snapshot(folder: Path, stem: str, digest: str, count: int) -> Optional[list]:
    """Parsed TOML documents kept as JSON (`STEM-DIGEST.json`, see `write_snapshot`), or None when
    there is none for this digest or it does not look like `count` documents."""
    import json

    try:
        docs = json.loads((folder / f"{stem}-{digest}.json").read_bytes())
    except (OSError, ValueError):
        return None
    return docs if isinstance(docs, list) and len(docs) == count and all(isinstance(d, dict) for d in docs) else None


def write_snapshot(folder: Path, stem: str, digest: str, docs: list) -> None:
    """Keep parsed TOML documents as JSON in the cache folder (parsing TOML is most of a catalogue's
    load), replacing older snapshots of the same stem. Failing to write is not an error."""
    import json

    try:
        prepare(folder)  # the cache folder: private to its owner, like every file in it
        for old in folder.glob(f"{stem}-*.json"):
            old.unlink()
        temporary = folder / f".{stem}-{digest}.{os.getpid()}.tmp"
        write_private(temporary, json.dumps(docs, separators=(",", ":")))
        os.replace(temporary, folder / f"{stem}-{digest}.json")
    except OSError:
        pass
