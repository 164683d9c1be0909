"""The last check's report, reused while nothing it read has changed.

A warm run with nothing changed (a second `credlint check` in CI, an editor re-checking on
focus) would otherwise rebuild every module's facts, the project model and every rule just to
print the same findings. A check is a pure function of its inputs: the files it discovers, the
configuration and credlint's own build (the cache's namespace), the options and the working
directory. So the report is kept under a key made of those, with a *signature* of every file's
path, size and modification time, and reused only when the signature matches exactly.

As with the facts cache, a file changed within the last two seconds may change again without
its size or time moving, so a report is not kept while any file is that fresh. What is stored
is the report as the reporters receive it: masked snippets and fingerprints, never a value.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Iterable, Optional, Tuple

KEEP = 8  # reports kept side by side (pre-commit's file lists, `check flows/`, `check .`, ...)
_RACY_NS = 2_000_000_000
FORMAT = 2  # 2: fingerprints of masked lines, messages without a value's length


def signature(entries: Iterable[Tuple[str, int, int]]) -> Optional[str]:
    """Digest of (path, size, mtime_ns) for every input; None when one is too fresh to trust."""
    newest = time.time_ns() - _RACY_NS
    hasher = hashlib.sha256()
    for rel, size, mtime in entries:
        if mtime > newest:
            return None
        hasher.update(f"{rel}\0{size}\0{mtime}\n".encode("utf-8", "surrogatepass"))
    return hasher.hexdigest()[:32]


def stat_entries(folders: Iterable[Path]) -> Iterable[Tuple[str, int, int]]:
    """(path, size, mtime) of the Python and TOML files in `folders` (project rule folders)."""
    for folder in folders:
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            yield (str(folder), -1, 0)
            continue
        for name in names:
            if name.endswith((".py", ".toml")):
                try:
                    st = os.stat(os.path.join(folder, name))
                except OSError:
                    continue
                yield (os.path.join(str(folder), name), st.st_size, st.st_mtime_ns)


class RunMemo:
    def __init__(self, directory: Path, key: str):
        self.directory = directory
        self.key = key
        self.file = directory / f"run-{key}.json"

    @staticmethod
    def key_of(*parts: str) -> str:
        return hashlib.sha256("\x1f".join((f"memo-{FORMAT}",) + parts).encode("utf-8", "surrogatepass")).hexdigest()[:20]

    def load(self, sig: str) -> Optional[dict]:
        """The stored report data if it was made from exactly these inputs, else None."""
        try:
            with open(self.file, "rb") as handle:
                doc = json.loads(handle.read())
        except (OSError, ValueError):
            return None
        if (not isinstance(doc, dict) or doc.get("tool") != "credlint" or doc.get("key") != self.key
                or doc.get("signature") != sig or not isinstance(doc.get("run"), dict)):
            return None
        return doc["run"]

    def save(self, sig: str, run: dict) -> None:
        """Write atomically and keep the newest few; failing to write is not an error."""
        from credlint.cachedir import write_now_or_later

        doc = {"tool": "credlint", "key": self.key, "signature": sig, "run": run}
        write_now_or_later(lambda: self._write(doc))

    def _write(self, doc: dict) -> None:
        from credlint.cachedir import prepare, prune, write_private

        try:
            prepare(self.directory)  # private to its owner, like every file in it
            temporary = self.directory / f".run-{self.key}.{os.getpid()}.tmp"
            write_private(temporary, json.dumps(doc, separators=(",", ":")))
            os.replace(temporary, self.file)
        except OSError:
            return
        prune(self.directory, "run-*.json", KEEP)

    def forget(self) -> None:
        try:
            self.file.unlink()
        except OSError:
            pass
