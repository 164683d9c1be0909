"""Which files a run reads: every file of the project that can matter, folder by folder, minus
the excluded ones. What each file *is* (Python, a deployment file, data read for key formats) is
decided later, from its content."""
from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from credlint.config import glob_matcher

DEFAULT_EXCLUDES = (".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "__pycache__", "node_modules",
                    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".credlint_cache", "build", "dist",
                    "site-packages", ".eggs", "*.egg-info")


class Excludes:
    """Exclude globs compiled once into two regexes (a per-file loop over fnmatch dominated a
    warm run of a large repository). A pattern matches the path, a folder above it, or, when it
    has no `/`, any one part of the path (`node_modules`, `*.egg-info`)."""

    def __init__(self, patterns: Sequence[str]):
        whole, part = [], []
        for pattern in patterns:
            pat = pattern.rstrip("/")
            if not pat:
                continue
            whole += [fnmatch.translate(pat), fnmatch.translate(pat + "/*")]
            if "/" not in pat:
                part.append(fnmatch.translate(pat))
        self._whole = re.compile("|".join(whole)).match if whole else None
        self._part = re.compile("|".join(part)).match if part else None

    def __call__(self, rel: str) -> bool:
        if self._whole is not None and self._whole(rel):
            return True
        if self._part is not None:
            return any(self._part(piece) for piece in rel.split("/"))
        return False

    def file(self, rel: str, name: str) -> bool:
        """For a file whose folders were already found not excluded (a walk that prunes)."""
        return bool((self._whole is not None and self._whole(rel)) or (self._part is not None and self._part(name)))


_DEPLOY_SUFFIXES = (".toml", ".sh", ".bash", ".mk", ".yml", ".yaml", ".env", ".conf", ".ini", ".dockerfile", ".cfg",
                    ".bat", ".cmd", ".tf", ".tfvars")
# Files read only for credential formats (CL204), as detect-secrets and gitleaks read them: data,
# documentation, notebooks, client credential files and private keys. None of them is a
# deployment file (`facts.deploy.classify` gives them no kind), and binary ones (DER, PKCS#12)
# are skipped by the pattern scan.
_SCANNED_SUFFIXES = (".json", ".md", ".markdown", ".rst", ".txt", ".ipynb", ".properties",
                     ".pem", ".key", ".p8", ".ppk", ".asc", ".ovpn", ".npmrc", ".pypirc", ".netrc", ".s3cfg",
                     ".boto", ".git-credentials")
_SSH_KEY_NAMES = ("id_rsa", "id_dsa", "id_ecdsa", "id_ed25519")  # and id_rsa_deploy, ...; not *.pub


def maybe_relevant(name: str) -> bool:
    """Python files, names that can be deployment files (decided by content later), and files
    read for credential formats only."""
    return (name.endswith(".py") or name.endswith(_DEPLOY_SUFFIXES) or name in ("Makefile", "makefile")
            or name.startswith(("Dockerfile", ".env", "Containerfile"))
            or name.endswith(_SCANNED_SUFFIXES) or name == "credentials"
            or (name.startswith(_SSH_KEY_NAMES) and not name.endswith(".pub")))


def discover(root: Path, excludes: Sequence[str], sources: Sequence[str] = (),
             stats: Optional[Dict[str, os.stat_result]] = None,
             unlisted: Optional[Dict[str, str]] = None) -> List[Tuple[str, str]]:
    """Python files and candidate deployment files, as (root-relative path, path), folder by
    folder in name order. With `stats`, each file's stat is put there too (from the directory
    scan, without building its path again: a warm run stats every file of the project).
    Folders that cannot be listed go into `unlisted` (root-relative path -> why): they are
    reported, never skipped in silence. Files that are not regular (a FIFO named `x.py`) are
    listed like the others: reading them is what refuses them."""
    excluded = Excludes(excludes)
    forced = glob_matcher(sources)
    out: List[Tuple[str, str]] = []

    def walk(folder: str, prefix: str) -> None:
        try:
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=_entry_name)
        except OSError as exc:
            if unlisted is not None and prefix:
                from credlint.files.read import describe_error

                unlisted[prefix.rstrip("/")] = describe_error(exc).replace("cannot read: ", "")
            return
        if prefix and any(entry.name == "CACHEDIR.TAG" for entry in entries):
            return  # a cache folder (credlint's own under --cache-dir, pytest's, ...): its JSON is no input
        folders = []
        for entry in entries:
            try:
                is_folder = entry.is_dir()
            except OSError:
                is_folder = False
            if is_folder:
                folders.append(entry)
                continue
            name = entry.name
            rel = prefix + name
            if not maybe_relevant(name) and not forced(rel):
                continue
            if excluded.file(rel, name):
                continue
            out.append((rel, entry.path))
            if stats is not None:
                try:
                    stats[rel] = entry.stat()
                except OSError:
                    pass
        for entry in folders:
            rel = prefix + entry.name
            if not excluded(rel) and not entry.is_symlink():  # links to folders are not followed
                walk(entry.path, rel + "/")

    walk(str(root), "")
    return out


def _entry_name(entry: os.DirEntry) -> str:
    return entry.name
