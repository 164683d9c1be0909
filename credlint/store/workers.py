"""Per-file facts computed in parallel worker processes.

Facts of one file depend only on its bytes and path (`facts.file.analyse`), so files are
spread over processes and the results put back in input order: the output is the same for any
number of workers. Small inputs get no pool at all, since starting one costs more than it saves.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, List, Optional, Protocol, Sequence

from credlint.collector import one_file
from credlint.store.cpus import can_fork

if TYPE_CHECKING:  # run_job imports it: starting a worker must not wait for the analysis modules
    from credlint.facts.file import FileFacts

# Below this many Python files to analyse, one process is faster than starting workers. The
# break-even measured on two free cores (cold runs, 5 kB flows of the bench's Prefect-heavy tree):
# 16 files 0.43 s with one process and 0.42 s with two, 32 files 0.61 and 0.50 s, 64 files 0.96 and
# 0.78 s. Other files (read and scanned, never parsed) cost a fiftieth of a flow and are not counted.
MIN_FILES_FOR_POOL = 16


@dataclass
class Job:
    rel: str
    path: str
    # The cached content's digest, given only when the cached facts are at hand: content with
    # this digest needs no analysis, and the worker answers "unchanged" (`Outcome.facts` None).
    known_digest: str = ""
    forced_deploy: bool = False  # named by the config's `sources`
    parse: Optional[bool] = None  # None: the prefilter decides
    data: Optional[bytes] = None  # content given directly (--stdin-filename)
    digest_key: bytes = b""  # the cache's key for content digests (b"": no cache)
    prefect: str = "auto"  # the configuration's `prefect` setting


@dataclass
class Outcome:
    facts: Optional[FileFacts]  # None: content unchanged (`Job.known_digest`), the cached facts stand
    digest: str
    st: Optional[os.stat_result]


def run_job(job: Job, catalogue) -> Outcome:
    """Read one file and compute its facts (or report that its content is the cached one)."""
    from credlint.facts.file import MAX_FILE_BYTES, FileFacts, analyse, content_digest, unreadable

    from credlint.files.read import Unreadable, describe_error, not_regular, read_file

    st = None
    data = job.data
    if data is None:
        try:
            st = os.stat(job.path)
            why = not_regular(st.st_mode)
            if why:  # a FIFO, socket or device: never opened (it could block forever)
                return Outcome(unreadable(job.rel, why), "", None)
            if st.st_size > MAX_FILE_BYTES:
                if job.rel.endswith(".py"):
                    why = f"file larger than {MAX_FILE_BYTES // (1024 * 1024)} MB, not analysed"
                    return Outcome(unreadable(job.rel, why, failed=False), "", st)
                return Outcome(FileFacts(path=job.rel), "", st)
            data = read_file(job.path, MAX_FILE_BYTES + 1)
        except OSError as exc:
            return Outcome(unreadable(job.rel, describe_error(exc)), "", None)
        except Unreadable as exc:
            return Outcome(unreadable(job.rel, exc.reason), "", None)
    digest = content_digest(data, job.digest_key)
    if job.known_digest and digest == job.known_digest and job.parse is None:
        return Outcome(None, digest, st)
    kind = None
    if not job.rel.endswith(".py"):
        from credlint.facts.deploy.classify import HEAD_BYTES, classify

        kind = classify(job.rel, data[:HEAD_BYTES])
    with one_file():  # see `credlint.collector`
        facts = analyse(job.rel, data, catalogue, deploy_kind=kind, forced_deploy=job.forced_deploy, parse=job.parse,
                        digest=digest, prefect=job.prefect)
    return Outcome(facts, digest, st)


def _parses(job: Job) -> bool:
    """The job may need a parse: a Python file (gather has already hashed the files it could,
    so a job with a cached digest most often holds a change)."""
    return job.rel.endswith(".py")


def few(jobs: Sequence[Job]) -> bool:
    """Too little work for a pool: one process does it faster."""
    return sum(1 for job in jobs if _parses(job)) < MIN_FILES_FOR_POOL


def pool_size(jobs: Sequence[Job], workers: int) -> int:
    """Processes worth using for these jobs, this one included (1: no pool), each with at least
    the break-even's share of Python files to parse."""
    if workers <= 1 or few(jobs):
        return 1
    return min(workers, max(2, sum(1 for job in jobs if _parses(job)) // MIN_FILES_FOR_POOL))


def run_jobs(jobs: Sequence[Job], catalogue, workers: int,
             progress: Optional[Callable[[Job, Outcome], None]] = None,
             helper: Optional["Helper"] = None) -> List[Outcome]:
    """Outcomes in the order of `jobs`, computed by up to `workers` processes, this one included.

    The pool's `workers - 1` processes take batches from the start of the list while this
    process takes them from the end, until the two meet: no process sits idle waiting for the
    others, and this process's share is never pickled. With two processes and a `helper` (the
    worker `credlint check` forked first thing, which has loaded the parser meanwhile), that
    worker is the other process: see `_shared_with`."""
    workers = pool_size(jobs, workers)
    if workers <= 1:
        return [_run_one(job, catalogue, progress) for job in jobs]
    if helper is not None and workers == 2:
        return _shared_with(helper, jobs, catalogue, progress)
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    import multiprocessing

    from credlint.facts.python import extract  # noqa: F401 - loaded once here, inherited by the forks

    # fork where the platform has it: workers inherit the loaded catalogue and imports.
    context = multiprocessing.get_context("fork" if can_fork() else None)
    size = max(1, min(32, len(jobs) // (workers * 8)))
    batches = [list(jobs[start:start + size]) for start in range(0, len(jobs), size)]
    done: List[Optional[List[Outcome]]] = [None] * len(batches)
    # Who does a batch is settled by claiming it in flags all the processes share (not by
    # cancelling its future: a pool that breaks then fails on the cancelled ones).
    claims = (context.Lock(), context.RawArray("b", len(batches)))
    try:
        with ProcessPoolExecutor(max_workers=workers - 1, mp_context=context, initializer=_start_pool_worker,
                                 initargs=(catalogue, claims)) as pool:
            futures = [pool.submit(_run_batch_in_pool, index, batch) for index, batch in enumerate(batches)]
            for index in range(len(batches) - 1, -1, -1):
                if not claim_batch(claims, index):  # a worker has it: the batches before are theirs too
                    break
                done[index] = [_run_one(job, catalogue, progress) for job in batches[index]]
            for index, future in enumerate(futures):
                if done[index] is None:
                    done[index] = future.result()
                    if progress is not None:
                        for job, outcome in zip(batches[index], done[index]):
                            progress(job, outcome)
    except (BrokenProcessPool, OSError) as exc:
        # A worker died (killed for memory, or the platform refused processes): finish here.
        print(f"credlint: worker processes failed ({type(exc).__name__}); continuing in one process",
              file=sys.stderr)
        for index, batch in enumerate(batches):
            if done[index] is None:
                done[index] = [_run_one(job, catalogue, progress) for job in batch]
    return [outcome for outcomes in done for outcome in outcomes]


class Helper(Protocol):
    """A worker process started before the pool was wanted (`early.EarlyWorker`)."""

    failed: bool  # set by `take_batches` when the worker dies or cannot analyse a batch

    def take_batches(self, batches: List[List[Job]], claims, done: List[Optional[List[Outcome]]],
                     answered: List[int]) -> None: ...

    def fail(self) -> None: ...

    def close(self) -> None: ...


def _shared_with(helper: Helper, jobs: Sequence[Job], catalogue,
                 progress: Optional[Callable[[Job, Outcome], None]]) -> List[Outcome]:
    """The jobs shared between this process and `helper`, both taking batches from the start.

    A pool forks when the files are known, so its parent must import the parser first (a
    tenth of a second, before anything runs in parallel) for its workers to inherit it. The
    helper was forked before the run's own imports and has been importing the parser beside
    them; this process imports it when its first file needs a parse, while the helper works.

    A thread of this process feeds the helper over its pipe, two batches ahead, so that it never
    waits for this process to notice an answer; since a batch is taken when it is sent, batches
    shrink towards the end of the list, so that neither process is left with much to do while
    the other waits. Outcomes go back in input order; what the helper did not answer (it died)
    is done here."""
    import threading

    batches = _shrinking_batches(jobs)
    done: List[Optional[List[Outcome]]] = [None] * len(batches)
    answered: List[int] = []  # batches the helper answered, in order, for `progress` here
    claims = (threading.Lock(), bytearray(len(batches)))
    feeder = threading.Thread(target=helper.take_batches, args=(batches, claims, done, answered),
                              name="credlint helper feed", daemon=True)
    feeder.start()
    reported = 0
    try:
        for index in range(len(batches)):
            if claim_batch(claims, index):
                done[index] = [_run_one(job, catalogue, progress) for job in batches[index]]
            reported = _report(batches, done, answered, reported, progress)
    except BaseException:  # Ctrl-C, or a failure here: stop the helper, or the feed waits on it
        helper.close()
        raise
    finally:
        feeder.join()
    _report(batches, done, answered, reported, progress)
    if helper.failed:
        helper.fail()
    for index, batch in enumerate(batches):
        if done[index] is None:  # sent to the helper, never answered
            done[index] = [_run_one(job, catalogue, progress) for job in batch]
    return [outcome for outcomes in done for outcome in outcomes]


def _shrinking_batches(jobs: Sequence[Job], processes: int = 2) -> List[List[Job]]:
    """Batches of at most 32 jobs, each a quarter of what is left divided among the processes:
    large while there is much to do (fewer round trips), one job at a time at the end."""
    batches, start = [], 0
    while start < len(jobs):
        size = max(1, min(32, (len(jobs) - start) // (4 * processes)))
        batches.append(list(jobs[start:start + size]))
        start += size
    return batches


def _report(batches, done, answered: List[int], reported: int,
            progress: Optional[Callable[[Job, Outcome], None]]) -> int:
    """`progress` for the batches the helper answered since the last call; how many that makes."""
    while reported < len(answered):
        index = answered[reported]
        if progress is not None:
            for job, outcome in zip(batches[index], done[index]):
                progress(job, outcome)
        reported += 1
    return reported


def _run_one(job: Job, catalogue, progress: Optional[Callable[[Job, Outcome], None]]) -> Outcome:
    outcome = run_job(job, catalogue)
    if progress is not None:
        progress(job, outcome)
    return outcome


# In a pool's worker process, the catalogue `run_jobs` was given: inherited at the fork (or sent
# once per process where there is no fork), never pickled with each batch of jobs (146 KB); and
# the batches' claim flags, shared with the process that started the pool.
_POOL_CATALOGUE = None
_POOL_CLAIMS = None


def _start_pool_worker(catalogue, claims) -> None:
    global _POOL_CATALOGUE, _POOL_CLAIMS
    _POOL_CATALOGUE, _POOL_CLAIMS = catalogue, claims


def claim_batch(claims, index: int) -> bool:
    """Take batch `index` for this process; False if another process took it."""
    lock, flags = claims
    with lock:
        if flags[index]:
            return False
        flags[index] = 1
        return True


def _run_batch_in_pool(index: int, batch: List[Job]) -> Optional[List[Outcome]]:
    if not claim_batch(_POOL_CLAIMS, index):
        return None  # the process that started the pool is doing it
    return [run_job(job, _POOL_CATALOGUE) for job in batch]
