"""The early worker: one process forked by `credlint check` first thing, which loads the parser
while the run does its own imports, lists the files and reads the cache; then it parses a warm
run's few changed files, or is a cold run's second process (`workers.run_jobs`), and can run one
more function for the run after that (`EarlyWorker.call`). A bare fork and two pipes."""
from __future__ import annotations

import os
import sys

from credlint.store.cpus import can_fork, usable_cpus

TYPE_CHECKING = False  # not `typing`'s: this module is imported before the early fork, which waits for it
if TYPE_CHECKING:
    from typing import Callable, List, Optional, Sequence

    from credlint.store.workers import Job, Outcome

# The worker `EarlyWorker.prestart` forked at the start of `credlint check`, until claimed.
_PRESTARTED: Optional["EarlyWorker"] = None


class EarlyWorker:
    """One worker forked at the start of a run, for the few files a warm run may have to parse,
    or as a cold run's second process (`take_batches`).

    Importing libcst costs about a third of a second, more than parsing a changed flow. Forked
    before the project is even listed, the worker imports the parser while this process lists
    the files, checks the kept report and rebuilds the cached facts; the files to parse are then
    handed to it. If the report can be reused, or there is nothing (or too much) for it to do,
    it is stopped unused. Any failure falls back to analysing in this process, as with the pool.

    A bare fork and two pipes rather than `multiprocessing`: importing that costs 20 ms, which a
    run that reuses its report would pay for nothing.

    `credlint check` forks it first thing (`prestart`), before its own imports and before it
    knows whether the run will want it: 50-60 ms earlier, which is what a changed flow waits for.
    The run then `claim`s it and tells it the cache folder (`begin`), or `discard`s it.
    """

    # Jobs are written before the worker reads them (it is busy importing): a larger batch
    # would fill the pipe and stall this process, so it is analysed here instead.
    MAX_BATCH_BYTES = 60_000

    def __init__(self, cache_dir: Optional[str] = None):
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()  # nothing buffered may be written twice
            except (AttributeError, OSError, ValueError):  # closed or absent: nothing to write twice
                pass
        to_worker = os.pipe()
        from_worker = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the caller's code
            code = 0
            try:
                os.close(to_worker[1])
                os.close(from_worker[0])
                _serve_early(_Channel(to_worker[0], from_worker[1]))
            except BaseException:  # noqa: BLE001 - the parent sees the pipe close and carries on
                code = 1
            finally:
                os._exit(code)
        os.close(to_worker[0])
        os.close(from_worker[1])
        self.pid: Optional[int] = pid
        self._channel = _Channel(from_worker[0], to_worker[1])
        self._busy = 0
        self._dead = False
        self._begun = False
        self.failed = False  # see `take_batches`
        self._reading = False  # it has answered: past its imports, it reads whatever is written
        if cache_dir is not None:
            self.begin(cache_dir)

    @classmethod
    def prestart(cls, words: Sequence[str] = ()) -> None:
        """Fork the worker now, for the run to `claim`, where it can overlap anything; not when the
        command line (`words`) asks for one process."""
        global _PRESTARTED
        if _one_process(words):
            return
        if _PRESTARTED is None and can_fork() and usable_cpus() >= 2 and "libcst" not in sys.modules:
            try:
                _PRESTARTED = cls()
            except OSError:  # no process to spare: the run does without
                pass

    @staticmethod
    def claim() -> Optional["EarlyWorker"]:
        """The worker `prestart` forked, for the caller alone (None if there is none)."""
        global _PRESTARTED
        worker, _PRESTARTED = _PRESTARTED, None
        return worker

    @staticmethod
    def discard() -> None:
        """Stop the prestarted worker if nobody claimed it."""
        worker = EarlyWorker.claim()
        if worker is not None:
            worker.close()

    def begin(self, cache_dir: Optional[str]) -> None:
        """Tell the worker the run's cache folder (its catalogue snapshot), before any job."""
        if self._begun or self._dead:
            return
        self._begun = True
        try:
            self._channel.send(cache_dir or "")
        except OSError:  # the worker is gone: the first `submit` finds out
            pass

    def submit(self, jobs: Sequence[Job]) -> bool:
        """Hand jobs over; their outcomes come from `results`. False: do them yourself."""
        if self._dead:
            return False
        self.begin(None)
        try:
            sent = self._channel.send(list(jobs), limit=self.MAX_BATCH_BYTES)
        except OSError:  # the worker is gone (a closed pipe): analyse here
            self.fail()
            return False
        if sent:
            self._busy = len(jobs)
        return sent

    def running(self) -> bool:
        """The worker is on a CPU now (importing the parser, say), as `/proc` tells."""
        try:
            with open(f"/proc/{self.pid}/stat", encoding="ascii", errors="replace") as handle:
                return handle.read().rpartition(")")[2].split()[0] == "R"
        except (OSError, IndexError, TypeError):
            return False

    def results(self) -> Optional[List[Outcome]]:
        """Outcomes in the order submitted, or None if the worker failed."""
        try:
            outcomes = self._channel.recv()
        except Exception:  # noqa: BLE001 - the worker died (killed for memory, ...)
            outcomes = None
        if not isinstance(outcomes, list) or len(outcomes) != self._busy:
            self.fail()
            return None
        self._busy = 0
        self._reading = True
        return outcomes

    def fail(self) -> None:
        """Say that the worker failed (the run goes on in this process) and stop it."""
        print("credlint: the worker process failed; continuing in one process", file=sys.stderr)
        self.close()

    def call(self, function: Callable, args: tuple) -> Callable[[], object]:
        """Start `function(*args)` in the worker (a module-level function, pickled by name); the
        returned callable waits for its result, None when the worker could not give one. Until
        the worker has answered once it may still be importing, reading nothing: the arguments
        must then fit the pipe's buffer, or this process would wait on the write."""
        if self._dead or self.failed or self._busy:
            return lambda: None
        try:
            if not self._channel.send(("call", function, args), limit=None if self._reading else self.MAX_BATCH_BYTES):
                return lambda: None
        except Exception:  # noqa: BLE001 - the worker is gone, or the arguments do not pickle
            self.failed = True
            return lambda: None

        def result() -> object:
            try:
                answer = self._channel.recv()
            except Exception:  # noqa: BLE001 - the worker died: the caller does the work itself
                self.fail()
                return None
            return answer

        return result

    def take_batches(self, batches: List[List[Job]], claims, done: List[Optional[List[Outcome]]],
                     answered: List[int]) -> None:
        """(A thread of `_shared_with`.) Take batches from the start of the list in turn with this
        process, keep two of them with the worker, and put its outcomes in `done`. A worker that
        fails sets `failed` and is sent nothing more: what it held is done by this process."""
        from collections import deque

        from credlint.store.workers import claim_batch

        sent = deque()
        following = 0

        def send_next() -> None:
            nonlocal following
            while following < len(batches):
                index = following
                following += 1
                if claim_batch(claims, index):
                    if not self._channel.send(batches[index], limit=self.MAX_BATCH_BYTES):
                        return  # too large to write without waiting (an editor's buffer): left to this process
                    sent.append(index)
                    return

        try:
            self.begin(None)
            send_next()
            send_next()
            while sent:
                outcomes = self._channel.recv()
                index = sent.popleft()
                if not isinstance(outcomes, list) or len(outcomes) != len(batches[index]):
                    raise ValueError("the worker could not analyse a batch")
                done[index] = outcomes
                answered.append(index)
                self._reading = True
                send_next()
        except Exception:  # noqa: BLE001 - the worker died or failed: this process does the rest
            self.failed = True

    def close(self) -> None:
        """Stop the worker, whatever it is doing, and reap it."""
        self._dead = True
        if self.pid is None:
            return
        import signal

        try:
            os.kill(self.pid, signal.SIGKILL)
        except OSError:  # already gone
            pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        self.pid = None
        self._channel.close()


def _one_process(words: Sequence[str]) -> bool:
    """The command line asks for one process (`--jobs 1`, `-j 1`, `-j1`, `--jobs=1`)."""
    for index, word in enumerate(words):
        if word in ("--jobs", "-j") and index + 1 < len(words) and words[index + 1] == "1":
            return True
        if word in ("--jobs=1", "-j1"):
            return True
    return False


class _Channel:
    """Length-prefixed pickles over a pair of pipe ends, between this process and its own fork."""

    def __init__(self, read_fd: int, write_fd: int):
        self._read_fd, self._write_fd = read_fd, write_fd

    def send(self, obj, limit: Optional[int] = None) -> bool:
        import pickle

        data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        if limit is not None and len(data) > limit:
            return False
        view = memoryview(len(data).to_bytes(8, "big") + data)
        while view:
            view = view[os.write(self._write_fd, view):]
        return True

    def recv(self):
        import pickle

        return pickle.loads(self._read(int.from_bytes(self._read(8), "big")))

    def _read(self, size: int) -> bytes:
        chunks = []
        while size:
            chunk = os.read(self._read_fd, min(size, 1 << 20))
            if not chunk:
                raise EOFError("the other end closed the pipe")
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        for fd in (self._read_fd, self._write_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        self._read_fd = self._write_fd = -1


def _serve_early(channel: _Channel) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it stops us
    from pathlib import Path

    from credlint.store import workers

    try:
        from credlint.facts.python import extract as pyfacts  # noqa: F401 - the point of this process: libcst loads now
    except Exception:  # noqa: BLE001 - a job that needs it fails, and the parent redoes it its way
        pass
    # The worker loads the catalogue itself, the built-in one from the same snapshot folder as the
    # run (`pipeline.load_plan`), which the run names first: it is forked before this process has
    # loaded any, and must be, since loading it first would cost 10-20 ms a warm run whose kept
    # report answers never needs; nor can it be sent (146 KB pickled: more than the pipe holds
    # while the worker is busy importing).
    try:
        cache_dir = channel.recv()
    except (EOFError, OSError):
        return
    catalogue = None
    try:
        from credlint.prefect.catalogue import builtin_catalogue

        catalogue = builtin_catalogue(snapshot_dir=Path(cache_dir) if cache_dir else None)
    except Exception:  # noqa: BLE001 - a job that needs it fails, and the parent redoes it its way
        pass
    while True:
        try:
            message = channel.recv()
        except (EOFError, OSError):
            return
        try:
            if isinstance(message, tuple) and message[:1] == ("call",):  # `EarlyWorker.call`
                answer = message[1](*message[2])
            else:
                answer = [workers.run_job(job, catalogue) for job in message]  # looked up here: tests stand in for it
        except Exception:  # noqa: BLE001 - the parent redoes the work and reports it its way
            answer = None
        try:
            channel.send(answer)
        except OSError:  # the parent is gone
            return
