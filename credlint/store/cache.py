"""Per-file facts kept on disk between runs, so a warm run parses nothing it has seen.

One JSON index per *namespace*: the credlint build, the catalogue and the configuration the facts
were computed with, plus a journal of the entries changed since it was last written whole.
Anything else (another version, an edited catalogue or credlint.toml) reads another file, so a
foreign cache is simply never consulted. Entries are keyed by the file's path
and validated by its size and modification time, or failing that by a keyed hash of its content
(a `git checkout` that touches files without changing them costs a hash, not a parse). The key is
random, made with the cache and kept in it (`key`, 0600): a plain hash of a `.env` holding one
secret would let anyone with a copy of the cache (a CI cache, a backup) test guesses offline.

What is stored is `FileFacts`: names, positions and redacted values (a kind and flags: empty,
placeholder, credential-shaped), never a value found in a file nor a hash of one.
JSON and not pickle, because a cache folder can come from anywhere (a checked-in
`.credlint_cache/`) and loading it must not run code. A cache that cannot be read, or does not
look like one, is ignored and rewritten: never an error. The folder is its owner's alone (0700,
files 0600): names and positions of hard-coded secrets are nobody else's business.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Iterable, Optional, Tuple

from credlint.cachedir import PRIVATE_FILE, prepare, private_fd, prune, tighten, write_now_or_later, write_private

if TYPE_CHECKING:  # imported on first look-up: the namespace alone needs none of it
    from credlint.config import Config
    from credlint.facts.file import FileFacts

FORMAT = 7  # 4: values keep no length and no digest, matches neither; 5: content digests are keyed; 6: deployment
# facts hold Prefect 2.x/3.x deployments, templates, block declarations and CL000 errors; 7: name-like
# module constants keep their text (block and Variable names loaded from another module)
KEEP = 4  # namespaces kept side by side (another config or branch), newest first
# Entries appended to an index's journal before the index is rewritten whole. A warm run that
# changed a file or two appends a line each instead of rewriting a 2 MB file (5,000 files).
JOURNAL_MAX = 256
JOURNAL_MAX_BYTES = 512 * 1024  # a flow's facts are a few KB: a flow edited over and over
_KEY_BYTES = 32
_RACY_NS = 2_000_000_000  # a file changed within 2 s of being cached may change again unseen


def namespace(*parts: str) -> str:
    return hashlib.sha256("\x1f".join((f"format-{FORMAT}",) + parts).encode()).hexdigest()[:20]


def facts_namespace(config: "Config") -> str:
    """The namespace of facts computed under this configuration: credlint's build, the built-in
    catalogue and the configuration as it affects per-file facts."""
    from credlint.prefect.catalogue_sources import builtin_digest

    return namespace(code_fingerprint(), builtin_digest(), _config_key(config))


def _config_key(config: Config) -> str:
    """The configuration as it affects per-file facts, for the cache's namespace."""
    import json
    from dataclasses import asdict

    data = asdict(config)
    data.pop("lines", None)
    data.pop("path", None)
    return json.dumps(data, sort_keys=True, default=str)


def code_fingerprint() -> str:
    """credlint's own build: its version plus the size and mtime of its modules and rules.

    An installed release never changes them; a development checkout invalidates the cache on
    every edit, so nobody debugs stale facts."""
    from credlint import __version__

    package = Path(__file__).resolve().parent.parent
    parts = [__version__]
    # The package's folders (installed, `rules/` is inside it) and a checkout's `rules/` beside it.
    for top in (package, package.parent / "rules"):
        for folder, subfolders, names in os.walk(top):
            subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
            for name in sorted(names):
                if name.endswith((".py", ".toml")):
                    try:
                        st = os.stat(os.path.join(folder, name))
                    except OSError:
                        continue
                    rel = os.path.relpath(os.path.join(folder, name), top.parent).replace(os.sep, "/")
                    parts.append(f"{rel}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]


def digest_key(directory: Path) -> bytes:
    """The cache's own random key for content digests: read from `key` in the folder, or made
    (and written 0600) the first time. A key that cannot be read or written is made afresh for
    this run: the cached digests then simply do not match, which costs a parse, never a wrong
    finding."""
    path = Path(directory) / "key"
    try:
        text = path.read_text(encoding="ascii").strip()
        key = bytes.fromhex(text)
        if len(key) == _KEY_BYTES:
            return key
    except (OSError, ValueError):
        pass
    import secrets

    key = secrets.token_bytes(_KEY_BYTES)
    try:
        prepare(Path(directory))
        temporary = Path(directory) / f".key-{os.getpid()}"
        write_private(temporary, key.hex() + "\n")
        os.replace(temporary, path)
    except OSError:
        pass
    return key


def _file_identity(path: Path) -> Optional[Tuple[int, int, int]]:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


class FactsCache:
    # Indexes kept open by a long-lived process (`credlint server`), by (folder, namespace).
    _open: Optional[Dict[Tuple[str, str], "FactsCache"]] = None

    def __init__(self, directory: Path, space: str):
        self.directory = directory
        self.space = space
        self.file = self._index(directory, space)
        self.journal = directory / f"facts-{space}.journal"
        self._entries: Dict[str, dict] = {}
        # Facts already rebuilt, with the entry they came from: reused while the entry stands.
        self._decoded: Dict[str, Tuple[object, FileFacts]] = {}
        self._changed: Dict[str, object] = {}  # since the last write: rel -> entry, None if dropped
        self._generation: Optional[str] = None  # of the index: a journal of another one is ignored
        self._journal_lines = 0
        self._dirty = False
        self.key = digest_key(directory)  # content digests are keyed with it (see the module's docstring)
        self._load()
        self._on_disk = self._identity()

    def _identity(self):
        return _file_identity(self.file), _file_identity(self.journal)

    @classmethod
    def open(cls, directory: Path, space: str) -> "FactsCache":
        """The index of this namespace: read from disk, or, in a process that keeps indexes open
        (`keep_open`), the one read before if nobody else has written the file since."""
        if cls._open is None:
            return cls(directory, space)
        key = (str(Path(directory).resolve()), space)  # one folder, however a client names it
        known = cls._open.get(key)
        if known is not None and known._on_disk == known._identity():
            return known
        cls._open.pop(key, None)
        cls._open[key] = fresh = cls(directory, space)
        while len(cls._open) > KEEP:  # another config or branch each time: keep the newest few
            cls._open.pop(next(iter(cls._open)))
        return fresh

    @classmethod
    def keep_open(cls) -> None:
        """From now on, `open` reuses indexes with the facts they rebuilt (`credlint server`)."""
        if cls._open is None:
            cls._open = {}

    @staticmethod
    def _index(directory: Path, space: str) -> Path:
        return directory / f"facts-{space}.json"

    @classmethod
    def exists(cls, directory: Path, space: str) -> bool:
        """A warm run: facts were cached for this namespace."""
        return cls._index(directory, space).is_file()

    def _load(self) -> None:
        try:
            with open(self.file, "rb") as handle:
                doc = json.loads(handle.read())
        except (OSError, ValueError):
            return
        if (not isinstance(doc, dict) or doc.get("tool") != "credlint" or doc.get("namespace") != self.space
                or not isinstance(doc.get("files"), dict)):
            self._dirty = True  # foreign or damaged: rebuilt on save
            return
        self._entries = doc["files"]
        generation = doc.get("generation")
        self._generation = generation if isinstance(generation, str) else None
        self._replay()

    def _replay(self) -> None:
        """Apply the journal's entries, in order, if it belongs to this index.

        Every entry is checked against its file before it is used (size and mtime, else the
        content's hash), so a line that is stale, half-written or from a race costs at worst a
        parse, never a wrong finding."""
        try:
            with open(self.journal, "rb") as handle:
                lines = handle.read().split(b"\n")
        except OSError:
            return
        try:
            header = json.loads(lines[0])
        except ValueError:
            header = None
        if self._generation is None or header != {"generation": self._generation}:
            self._journal_lines = JOURNAL_MAX  # someone else's: the next write replaces both
            return
        for line in lines[1:]:
            if not line:
                continue
            try:
                rel, entry = json.loads(line)
            except (ValueError, TypeError):
                continue  # a line cut short by a crash, or a header written by a racing process
            if not isinstance(rel, str):
                continue
            if entry is None:
                self._entries.pop(rel, None)
            elif isinstance(entry, (list, dict)):
                self._entries[rel] = entry
            self._journal_lines += 1

    # ----- look-ups -----------------------------------------------------------------------
    # An entry is [size, mtime_ns, digest, relevant] for a file with nothing in it (most files of a
    # large repository), else {"stat": [size, mtime_ns] or null, "facts": FileFacts data}.
    def stat_matches(self, rel: str, st: os.stat_result) -> bool:
        """The file has the size and mtime it had when cached (then `cached` has its facts)."""
        entry = self._entries.get(rel)
        if isinstance(entry, list):
            return len(entry) == 4 and entry[0] == st.st_size and entry[1] == st.st_mtime_ns
        return isinstance(entry, dict) and entry.get("stat") == [st.st_size, st.st_mtime_ns]

    def cached(self, rel: str) -> Optional[FileFacts]:
        """The stored facts, or None for a missing or damaged entry."""
        entry = self._entries.get(rel)
        known = self._decoded.get(rel)
        if known is not None and known[0] is entry:
            return known[1]
        if isinstance(entry, list):
            found = self._plain(rel, entry) if len(entry) == 4 else None
        else:
            found = self._facts(rel, entry) if isinstance(entry, dict) else None
        if found is not None:
            self._decoded[rel] = (entry, found)
        return found

    def _plain(self, rel: str, entry: list) -> Optional[FileFacts]:
        from credlint.facts.file import FileFacts

        if not isinstance(entry[2], str):
            return None
        return FileFacts(path=rel, digest=entry[2], relevant=bool(entry[3]))

    def digest_of(self, rel: str) -> str:
        entry = self._entries.get(rel)
        if isinstance(entry, list):
            return entry[2] if len(entry) == 4 and isinstance(entry[2], str) else ""
        facts = entry.get("facts") if isinstance(entry, dict) else None
        digest = facts.get("digest", "") if isinstance(facts, dict) else ""
        return digest if isinstance(digest, str) else ""

    def _facts(self, rel: str, entry: dict) -> Optional[FileFacts]:
        from credlint.facts.file import FileFacts

        data = entry.get("facts")
        try:
            facts = FileFacts.from_data(data)
        except Exception:  # noqa: BLE001 - a damaged entry is a miss, whatever is wrong with it
            self._entries.pop(rel, None)
            self._dirty = True
            return None
        return facts if facts.path == rel else None

    # ----- updates ------------------------------------------------------------------------
    @staticmethod
    def _stat(st: Optional[os.stat_result]):
        if st is None or time.time_ns() - st.st_mtime_ns < _RACY_NS:
            return None  # too fresh to trust: the next run checks the content
        return [st.st_size, st.st_mtime_ns]

    def store(self, facts: FileFacts, st: Optional[os.stat_result]) -> None:
        if facts.digest:
            self._put(facts, st)

    def _put(self, facts: FileFacts, st: Optional[os.stat_result]) -> None:
        stat = self._stat(st)
        entry: object
        if facts.module is None and facts.deploy is None and not facts.matches and stat is not None:
            entry = [stat[0], stat[1], facts.digest, facts.relevant]
        else:
            entry = {"stat": stat, "facts": facts.to_data()}
        self._entries[facts.path] = entry
        self._decoded[facts.path] = (entry, facts)
        self._changed[facts.path] = entry
        self._dirty = True

    def forget_except(self, keep: Iterable[str]) -> None:
        """Drop entries of files that no longer exist (or are now excluded)."""
        keep = set(keep)
        stale = [rel for rel in self._entries if rel not in keep]
        for rel in stale:
            del self._entries[rel]
            self._decoded.pop(rel, None)
            self._changed[rel] = None
        self._dirty = self._dirty or bool(stale)

    def save(self) -> None:
        """Write what changed (now, or once the caller has answered: `deferred`): appended to the
        journal while it is short, else the index rewritten whole. Failing to write is not an error."""
        if not self._dirty:
            return
        self._dirty = False
        changed, self._changed = self._changed, {}
        write_now_or_later(lambda: self._write(changed))

    def _write(self, changed: Dict[str, object]) -> None:
        if (changed and self._generation is not None and self._journal_lines + len(changed) <= JOURNAL_MAX
                and self._append(changed)):
            return
        try:
            prepare(self.directory)
            generation = os.urandom(8).hex()
            doc = {"tool": "credlint", "namespace": self.space, "generation": generation, "files": self._entries}
            temporary = self.directory / f".facts-{self.space}.{os.getpid()}.tmp"
            write_private(temporary, json.dumps(doc, separators=(",", ":")))
            os.replace(temporary, self.file)
        except OSError:
            self._dirty = True
            self._changed = {**changed, **self._changed}
            return
        self._generation, self._journal_lines = generation, 0
        try:
            self.journal.unlink()
        except OSError:
            pass  # absent; or left behind, and then ignored: it names the old generation
        self._on_disk = self._identity()
        prune(self.directory, "facts-*.json", KEEP)
        for journal in self.directory.glob("facts-*.journal"):
            if not journal.with_suffix(".json").exists():  # its index was pruned
                try:
                    journal.unlink()
                except OSError:
                    pass

    def _append(self, changed: Dict[str, object]) -> bool:
        """One write, in append mode: lines from processes writing at once do not mix."""
        body = "".join(json.dumps([rel, entry], separators=(",", ":")) + "\n" for rel, entry in changed.items())
        tighten(self.directory)
        try:
            fd = os.open(self.journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE)
            try:
                private_fd(fd)
                size = os.fstat(fd).st_size
                if size == 0:
                    body = json.dumps({"generation": self._generation}) + "\n" + body
                data = body.encode("utf-8", "surrogatepass")
                if size + len(data) > JOURNAL_MAX_BYTES:
                    return False  # long enough: folded into the index instead
                if os.write(fd, data) != len(data):
                    return False  # a short write (a full disk): the index is rewritten instead
            finally:
                os.close(fd)
        except OSError:
            return False
        self._journal_lines += len(changed)
        self._on_disk = self._identity()
        return True
