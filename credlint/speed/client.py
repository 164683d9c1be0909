"""The client side of `credlint server`: find this project's server, ask it for a check's report,
or send it a control command. `credlint.api` asks here before doing the work itself; the server
(`credlint.tools.server`) answers with the same messages.

The socket lives in a folder only this user can open; messages are an 8-byte length, then JSON.
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
from pathlib import Path
from typing import Optional

PROTOCOL = 1
CONNECT_TIMEOUT = 2.0
REPLY_TIMEOUT = 600.0  # a first request on a large project is a cold run; a hung server is not waited for
MAX_MESSAGE = 1 << 30


def supported() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "getuid")


def _runtime_dir(create: bool = True) -> Optional[Path]:
    """This user's folder for sockets: created private, refused unless it still is. A client
    only looks (`create=False`): a check with no server leaves nothing behind."""
    base = os.environ.get("XDG_RUNTIME_DIR") or ""
    if not base or not os.path.isdir(base):
        import tempfile

        base = tempfile.gettempdir()
    folder = Path(base) / f"credlint-{os.getuid()}"
    try:
        if create:
            folder.mkdir(mode=0o700, exist_ok=True)
        st = os.lstat(folder)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        return None  # another user's, or opened up: never trust a socket in it
    return folder


def socket_path(cache_dir: Path, create: bool = True) -> Optional[Path]:
    """Where the server for this cache folder listens (a short path: sockets have a length limit)."""
    folder = _runtime_dir(create)
    if folder is None:
        return None
    key = hashlib.sha256(str(Path(cache_dir).resolve()).encode("utf-8", "surrogatepass")).hexdigest()[:20]
    return folder / f"{key}.sock"


def build_id() -> str:
    """credlint's code and built-in catalogue: a server of another build must not answer."""
    from credlint.store.cache import code_fingerprint
    from credlint.prefect.catalogue_sources import builtin_digest

    return f"{code_fingerprint()}:{builtin_digest()}"


# ----- messages: an 8-byte length, then JSON ------------------------------------------------
def send_message(sock, message: dict) -> None:
    """One message: an 8-byte length, then JSON."""
    data = json.dumps(message, separators=(",", ":")).encode("utf-8", "surrogatepass")
    sock.sendall(len(data).to_bytes(8, "big") + data)


def receive_message(sock) -> dict:
    """One message, refused when too large or not a JSON object."""
    size = int.from_bytes(_read(sock, 8), "big")
    if size > MAX_MESSAGE:
        raise ValueError("message too large")
    message = json.loads(_read(sock, size).decode("utf-8", "surrogatepass"))
    if not isinstance(message, dict):
        raise ValueError("not a message")
    return message


def _read(sock, size: int) -> bytes:
    chunks = []
    while size:
        chunk = sock.recv(min(size, 1 << 20))
        if not chunk:
            raise EOFError("connection closed")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _connect(path: Path, timeout: Optional[float] = CONNECT_TIMEOUT):
    import socket

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(str(path))
    except OSError:
        sock.close()
        raise
    return sock


def call(path: Path, message: dict, timeout: Optional[float] = CONNECT_TIMEOUT) -> Optional[dict]:
    """One request and its answer; None if nobody answers."""
    try:
        sock = _connect(path)
    except OSError:
        return None
    try:
        sock.settimeout(timeout)
        send_message(sock, message)
        return receive_message(sock)
    except (OSError, EOFError, ValueError):
        return None
    finally:
        sock.close()


# ----- the client side: `credlint check` --------------------------------------------------------
def ask(cache_dir: Path, options) -> Optional[dict]:
    """The report data and stats of `options` from this project's server, or None: no server,
    another build, or a failure (then the caller does the work, and reports any error itself)."""
    if not supported():
        return None
    path = socket_path(cache_dir, create=False)
    if path is None or not path.exists():
        return None
    fields = {name: getattr(options, name) for name in OPTION_FIELDS}
    if options.stdin is not None:
        import base64

        fields["stdin"] = [options.stdin[0], base64.b64encode(options.stdin[1]).decode("ascii")]
    reply = call(path, {"protocol": PROTOCOL, "command": "check", "build": build_id(), "cwd": os.getcwd(),
                         "options": fields}, timeout=REPLY_TIMEOUT)
    if reply is None or reply.get("status") != "ok":
        return None
    if not isinstance(reply.get("report"), dict) or not isinstance(reply.get("stats"), dict):
        return None
    return reply


OPTION_FIELDS = ("paths", "config_file", "select", "ignore", "backend", "fail_on", "jobs", "cache_dir",
                  "exclude", "extend_exclude", "extend_select", "fixes")


def status(cache_dir: Path) -> Optional[dict]:
    return _command(cache_dir, "status")


def stop(cache_dir: Path) -> bool:
    return _command(cache_dir, "stop") is not None


def _command(cache_dir: Path, command: str) -> Optional[dict]:
    """The server's "ok" answer to a control command, or None (no server)."""
    path = socket_path(cache_dir, create=False) if supported() else None
    if path is None:
        return None
    reply = call(path, {"protocol": PROTOCOL, "command": command})
    return reply if reply is not None and reply.get("status") == "ok" else None
