"""`credlint server`: one long-lived process per project that keeps the parser loaded and the
project's facts rebuilt, so `credlint check` answers a one-file change in a fraction of a second.

A fresh process cannot get below about half a second on a warm cache with one flow changed:
importing libcst alone takes a third of a second, and rebuilding the cached facts of every
Prefect module another tenth. The server pays both once. `credlint check` asks it when one is
running for the project's cache folder and does the work itself otherwise, or if the server is
of another credlint build, busy failing, or gone: the server is only ever a shortcut, and its
answer is the one a fresh process would give (tests compare them).

Opt-in, as `dmypy` is: nothing starts a server but `credlint server start`, and it stops after
`--idle-timeout` seconds without a request. It listens on a Unix socket in a folder only this
user can open, answers only this user's processes, and sends reports exactly as `check` writes
them (no secret value is ever in one). Linux only: it relies on `SO_PEERCRED`.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Optional

from credlint.speed.client import (
    OPTION_FIELDS, PROTOCOL, build_id, call, receive_message, send_message, socket_path, status,
)

DEFAULT_IDLE_TIMEOUT = 1800.0
SETTLE_AFTER = 1.0  # seconds without a request before the garbage of the last ones is collected
SETTLE_EVERY = 20  # checks in a row at most before it is collected anyway


# ----- the server side --------------------------------------------------------------------------
class Server:
    def __init__(self, path: Path, cache_dir: Path, idle_timeout: float = DEFAULT_IDLE_TIMEOUT):
        self.path = path
        self.cache_dir = cache_dir
        self.idle_timeout = idle_timeout
        self.build = build_id()
        self.started = time.time()
        self.requests = 0
        self._stopping = False
        self._listener = None
        self._identity = None

    def bind(self) -> None:
        """Listen on the socket, taking over a stale one (a server that died without cleaning up)."""
        import socket

        if self.path.exists():
            if call(self.path, {"protocol": PROTOCOL, "command": "status"}) is not None:
                raise RuntimeError("a server is already running for this cache folder")
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # the socket: this user only
        try:
            listener.bind(str(self.path))
        finally:
            os.umask(old)
        listener.listen(16)
        self._listener = listener
        st = os.stat(self.path)
        self._identity = (st.st_ino, st.st_dev)

    def warm_up(self) -> None:
        """Load now what every check needs, so the first request is as fast as the rest."""
        from credlint.store.cache import FactsCache

        FactsCache.keep_open()
        try:
            from credlint.facts.python import extract as pyfacts  # noqa: F401 - libcst, the point of a server
            from credlint.prefect.catalogue import builtin_catalogue

            builtin_catalogue(snapshot_dir=self.cache_dir)
        except Exception:  # noqa: BLE001 - a request will meet the problem and fall back
            pass
        _settle()

    def serve(self) -> None:
        import socket

        assert self._listener is not None
        last_check = time.monotonic()  # idle means no check: asking for the status is not work
        untidy = 0  # checks whose garbage is left, collected in the first quiet moment
        try:
            while not self._stopping:
                remaining = self.idle_timeout - (time.monotonic() - last_check)
                if remaining <= 0:
                    return
                self._listener.settimeout(min(remaining, SETTLE_AFTER) if untidy else remaining)
                try:
                    conn, _ = self._listener.accept()
                except socket.timeout:
                    if untidy:
                        _settle()
                        untidy = 0
                        continue
                    return  # idle for too long
                answered = self.requests
                with conn:
                    self._handle(conn)
                if self.requests != answered:
                    last_check = time.monotonic()
                    untidy += 1
                    if untidy >= SETTLE_EVERY:  # no quiet moment in a long burst: now, then
                        _settle()
                        untidy = 0
                if not self._still_ours():
                    return  # the socket was removed or taken over: nobody can reach us
        finally:
            self.close()

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
            if self._still_ours():
                try:
                    self.path.unlink()
                except OSError:
                    pass

    def _still_ours(self) -> bool:
        try:
            st = os.stat(self.path)
        except OSError:
            return False
        return (st.st_ino, st.st_dev) == self._identity

    def _handle(self, conn) -> None:
        import socket
        import struct

        try:
            pid, uid, gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                                 struct.calcsize("3i")))
            if uid != os.getuid():
                return  # another user's process: not even an answer
            conn.settimeout(30.0)
            request = receive_message(conn)
            conn.settimeout(None)
            if request.get("protocol") != PROTOCOL:
                send_message(conn, {"status": "stale"})
                return
            command = request.get("command")
            if command == "status":
                send_message(conn, {"status": "ok", "pid": os.getpid(), "started": self.started, "requests": self.requests,
                             "cache_dir": str(self.cache_dir), "idle_timeout": self.idle_timeout})
            elif command == "stop":
                self._stopping = True
                send_message(conn, {"status": "ok"})
            elif command == "check":
                self._check(conn, request)
            else:
                send_message(conn, {"status": "unknown command"})
        except (OSError, EOFError, ValueError):
            return  # the client gave up or sent garbage; it runs the check itself

    def _check(self, conn, request: dict) -> None:
        from credlint import cachedir
        from credlint.api import Options, check

        if request.get("build") != self.build:
            self._stopping = True  # credlint was upgraded or edited: this process is out of date
            send_message(conn, {"status": "stale"})
            return
        self.requests += 1
        try:
            fields = dict(request["options"])
            stdin = fields.pop("stdin", None)
            options = Options(**{name: fields[name] for name in OPTION_FIELDS}, server=False)
            if stdin is not None:
                import base64

                options.stdin = (stdin[0], base64.b64decode(stdin[1]))
            os.chdir(request["cwd"])
            with cachedir.deferred() as writes:
                run = check(options)
        except Exception:  # noqa: BLE001 - the client runs the check itself and reports the error its way
            send_message(conn, {"status": "failed"})
            return
        finally:
            try:
                os.chdir("/")  # hold no project folder open between requests
            except OSError:
                pass
        stats = dict(run.stats)
        stats["server"] = 1
        try:
            send_message(conn, {"status": "ok", "report": run.report.to_data(), "stats": stats})
        finally:
            for write in writes:  # the client has its answer (or is gone): now the cache files
                write()


def _settle() -> None:
    """Collect the garbage of the last checks, then move what survives (libcst, the facts) out
    of the collector's way. Between settles the collector is off: a full collection of this
    process takes longer than a check, and would otherwise happen in the middle of one."""
    import gc

    gc.unfreeze()
    gc.collect()
    gc.freeze()
    gc.disable()


def run_server(cache_dir: Path, idle_timeout: float, ready=None) -> int:
    """Serve in this process until stopped or idle (`credlint server start --foreground`)."""
    path = socket_path(cache_dir)
    if path is None:
        raise OSError("no private folder for the socket (XDG_RUNTIME_DIR or the temporary folder)")
    import signal

    server = Server(path, cache_dir, idle_timeout)
    server.bind()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # `kill`: remove the socket on the way out
    if ready is not None:
        ready()
    server.warm_up()
    server.serve()
    return 0


def start_detached(cache_dir: Path, idle_timeout: float, wait: float = 30.0) -> Optional[int]:
    """Start a server in the background (its own session, no terminal); its pid once it answers."""
    path = socket_path(cache_dir)
    if path is None:
        raise OSError("no private folder for the socket (XDG_RUNTIME_DIR or the temporary folder)")
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    child = os.fork()
    if child == 0:
        code = 0
        try:
            os.setsid()
            if os.fork() != 0:
                os._exit(0)
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            os.chdir("/")
            run_server(cache_dir, idle_timeout)
        except BaseException:  # noqa: BLE001 - nowhere to report it: `start` sees no answer
            code = 1
        finally:
            os._exit(code)
    os.waitpid(child, 0)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        answer = status(cache_dir)
        if answer is not None:
            return int(answer["pid"])
        time.sleep(0.05)
    return None
