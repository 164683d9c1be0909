"""One file's facts: the unit credlint caches and hands to worker processes.

Everything the project model needs from a file is computed from its bytes and its path alone:
Python facts (when the file is parsed), deployment-file facts, and the credential formats found
in it. Nothing here depends on other files, so results can be cached by content and computed in
any order, in any process.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import List, Optional

from credlint.facts.deploy.types import DeployFacts
from credlint.facts.types import Match, ModuleFacts, ParseError, load as _load, module_name_for, to_data

MAX_FILE_BYTES = 5 * 1024 * 1024  # larger files are not read at all
# libcst holds about 500 bytes of memory per byte of source while it parses, and its time grows
# faster than linearly with bracket depth (a 1,000-deep expression: 15 s and 1.9 GB). Python
# files beyond these limits are reported (CL000) instead of parsed; real flows are far below.
MAX_PARSE_BYTES = 256 * 1024
MAX_NESTING = 100
_BRACKETS = b"()[]{}"
_NOT_BRACKETS = bytes(b for b in range(256) if b not in _BRACKETS)


@dataclass
class FileFacts:
    path: str  # relative to the project root, with /
    digest: str = ""  # keyed hash of the content, for the cache ("" when it could not be read)
    relevant: bool = False  # Python: its bytes can matter (see prefilter); others: unused
    module: Optional[ModuleFacts] = None  # Python files that were parsed (or could not be read)
    deploy: Optional[DeployFacts] = None  # deployment files
    matches: List[Match] = field(default_factory=list)  # credential formats (CL204)
    error: str = ""  # why reading the file failed (CL000); its facts are then empty


    @property
    def parsed(self) -> bool:
        return self.module is not None

    def to_data(self) -> dict:
        return to_data(self)

    @classmethod
    def from_data(cls, data: dict) -> "FileFacts":
        return _load(cls, data)


def content_digest(data: bytes, key: bytes = b"") -> str:
    """The content's identity for the cache: 128 bits of an HMAC with the cache's own random key
    (a plain hash of a file holding one secret would let a copy of the cache test guesses)."""
    if key:
        return hmac.new(key, data, hashlib.sha256).hexdigest()[:32]
    return hashlib.sha256(data).hexdigest()[:32]  # no cache: the digest never leaves this run


def unreadable(rel: str, why: str, *, failed: bool = True) -> FileFacts:
    """A file credlint could not read (`failed`: permissions, not a regular file, ...) or would
    not (too large): reported as CL000, never a crash and never a silent skip. A Python file
    also gets a module with the error, so that it takes part in the project like one that does
    not parse."""
    error = why if failed else ""
    if not rel.endswith(".py"):
        return FileFacts(path=rel, error=error)
    name, is_package = module_name_for(rel)
    module = ModuleFacts(path=rel, module=name, is_package=is_package, error=ParseError(why))
    return FileFacts(path=rel, relevant=True, module=module, error=error)


def analyse(rel: str, data: bytes, catalogue, *, deploy_kind: Optional[str] = None, forced_deploy: bool = False,
            parse: Optional[bool] = None, digest: Optional[str] = None, prefect: str = "auto") -> FileFacts:
    """Facts of one file from its bytes.

    `parse`: None lets the byte prefilter decide whether a Python file is parsed; True parses it
    anyway (a module a parsed module imports, or a run without the prefilter); False never.
    `prefect`: the configuration's `prefect` setting (which Prefect Python files are read under).
    """
    from credlint.facts.patterns.scan import could_match, scan
    from credlint.facts.python.prefilter import relevant

    out = FileFacts(path=rel, digest=digest if digest is not None else content_digest(data))
    if could_match(data):
        out.matches = scan(data, rel)
    if not rel.endswith(".py"):
        if deploy_kind is not None or forced_deploy:
            from credlint.facts.deploy.reader import read_deployment_file

            out.deploy = read_deployment_file(rel, data, deploy_kind)
        return out
    out.relevant = relevant(data)
    if parse is None:
        parse = out.relevant
    if parse:
        why = _too_big_to_parse(data)
        if why:
            out.module = unreadable(rel, why).module
        else:
            from credlint.facts.python.extract import extract

            out.module = extract(data, rel, catalogue, prefect)
    return out


def _too_big_to_parse(data: bytes) -> str:
    if len(data) > MAX_PARSE_BYTES:
        return (f"{len(data) // 1024} KB is more than the {MAX_PARSE_BYTES // 1024} KB credlint "
                f"parses (libcst needs about 500 bytes of memory per byte of source)")
    depth = _bracket_depth(data.translate(None, _NOT_BRACKETS))
    if depth > MAX_NESTING:
        depth = _token_depth(data, depth)  # brackets inside strings and comments do not count
    if depth > MAX_NESTING:
        return f"brackets nested {depth} deep (credlint parses up to {MAX_NESTING})"
    return ""


def _bracket_depth(brackets: bytes) -> int:
    depth = deepest = 0
    for byte in brackets:
        if byte in (40, 91, 123):  # ( [ {
            depth += 1
            if depth > deepest:
                deepest = depth
        elif depth:
            depth -= 1
    return deepest


def _token_depth(data: bytes, fallback: int) -> int:
    import io
    import tokenize

    depth = deepest = 0
    try:
        for token in tokenize.tokenize(io.BytesIO(data).readline):
            if token.type == tokenize.OP and token.string in ("(", "[", "{"):
                depth += 1
                deepest = max(deepest, depth)
            elif token.type == tokenize.OP and token.string in (")", "]", "}") and depth:
                depth -= 1
    except (tokenize.TokenError, SyntaxError, UnicodeDecodeError):
        return fallback
    return deepest
