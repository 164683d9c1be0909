"""Reading a user's file without ever hanging on it.

A named pipe called `x.py`, a socket or a device in a checked tree would block an ordinary
`open()` forever (a FIFO waits for a writer) or stream without end. Every file credlint reads
from a project goes through `read_file`: it opens without blocking, checks on the open handle
that it is a regular file (no race between a stat and the open), and reads at most `limit`
bytes. What cannot be read raises `Unreadable` with a reason fit for a CL000 message.
"""
from __future__ import annotations

import errno
import os
import stat

_KINDS = (
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISDIR, "a folder"),
)


class Unreadable(Exception):
    """A file credlint was meant to read but could not; `reason` says why, in words."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def kind_of(mode: int) -> str:
    """What a non-regular file is, in words."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def not_regular(mode: int) -> str:
    """The CL000 reason for a file of this mode, or "" for a regular file."""
    if stat.S_ISREG(mode):
        return ""
    return f"not a regular file ({kind_of(mode)}): skipped"


def describe_error(exc: OSError) -> str:
    if exc.errno == errno.ENOENT and exc.filename is not None and os.path.islink(exc.filename):
        return "cannot read: a symbolic link to nothing"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "cannot read: permission denied"
    return f"cannot read: {exc.strerror or exc}"


def read_file(path: str, limit: int = -1) -> bytes:
    """The bytes of the regular file at `path` (at most `limit` of them when limit >= 0)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a socket, or a FIFO some systems refuse to open
            raise Unreadable("not a regular file: skipped") from None
        raise Unreadable(describe_error(exc)) from None
    try:
        why = not_regular(os.fstat(fd).st_mode)
        if why:
            raise Unreadable(why)
        chunks = []
        left = limit
        while left != 0:
            chunk = os.read(fd, 1 << 20 if left < 0 else min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            if left > 0:
                left -= len(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise Unreadable(describe_error(exc)) from None
    finally:
        os.close(fd)
