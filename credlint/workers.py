"""Per-file facts computed in parallel worker processes.

Facts of one file depend only on its bytes and path (`filefacts.analyse`), so files are
spread over processes and the results put back in input order: the output is the same for any
number of workers. Small inputs get no pool at all, since starting one costs more than it saves.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence

from .filefacts import MAX_FILE_BYTES, FileFacts, analyse, content_digest, unreadable

# Below this many files to analyse one process is faster than starting workers.
MIN_FILES_FOR_POOL = 48


@dataclass
class Job:
    rel: str
    path: str
    known_digest: str = ""  # the cached content digest: unchanged content needs no analysis
    forced_deploy: bool = False  # named by the config's `sources`
    parse: Optional[bool] = None  # None: the prefilter decides
    data: Optional[bytes] = None  # content given directly (--stdin-filename)


@dataclass
class Outcome:
    facts: Optional[FileFacts]  # None: content unchanged, use the cached facts
    digest: str
    st: Optional[os.stat_result]


_CATALOGUE = None


def _init(catalogue) -> None:
    global _CATALOGUE
    _CATALOGUE = catalogue


def run_job(job: Job, catalogue=None) -> Outcome:
    """Read one file and compute its facts (or report that its content is the cached one)."""
    catalogue = catalogue if catalogue is not None else _CATALOGUE
    st = None
    data = job.data
    if data is None:
        try:
            st = os.stat(job.path)
            if st.st_size > MAX_FILE_BYTES:
                if job.rel.endswith(".py"):
                    why = f"file larger than {MAX_FILE_BYTES // (1024 * 1024)} MB, not analysed"
                    return Outcome(unreadable(job.rel, why), "", st)
                return Outcome(FileFacts(path=job.rel), "", st)
            with open(job.path, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            if job.rel.endswith(".py"):
                return Outcome(unreadable(job.rel, f"cannot read: {exc.strerror or exc}"), "", None)
            return Outcome(FileFacts(path=job.rel), "", None)
    digest = content_digest(data)
    if job.known_digest and digest == job.known_digest and job.parse is None:
        return Outcome(None, digest, st)
    kind = None
    if not job.rel.endswith(".py"):
        from .deployfiles import HEAD_BYTES, classify

        kind = classify(job.rel, data[:HEAD_BYTES])
    facts = analyse(job.rel, data, catalogue, deploy_kind=kind, forced_deploy=job.forced_deploy, parse=job.parse)
    return Outcome(facts, digest, st)


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def pool_size(jobs: int, workers: int) -> int:
    """Processes worth starting for this many files (1: stay in this process)."""
    if jobs < MIN_FILES_FOR_POOL:
        return 1
    return max(1, min(workers, jobs // (MIN_FILES_FOR_POOL // 2)))


def run_jobs(jobs: Sequence[Job], catalogue, workers: int,
             progress: Optional[Callable[[Job, Outcome], None]] = None) -> List[Outcome]:
    """Outcomes in the order of `jobs`, computed by up to `workers` processes."""
    workers = pool_size(len(jobs), workers)
    if workers <= 1:
        outcomes = []
        for job in jobs:
            outcome = run_job(job, catalogue)
            if progress is not None:
                progress(job, outcome)
            outcomes.append(outcome)
        return outcomes
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    # fork where the platform has it: workers inherit the loaded catalogue and imports.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() and sys.platform != "darwin" else None
    context = multiprocessing.get_context(method)
    chunk = max(1, min(32, len(jobs) // (workers * 8)))
    outcomes: List[Outcome] = []
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init,
                                 initargs=(catalogue,)) as pool:
            for job, outcome in zip(jobs, pool.map(run_job, jobs, chunksize=chunk)):
                if progress is not None:
                    progress(job, outcome)
                outcomes.append(outcome)
    except (BrokenProcessPool, OSError) as exc:
        # A worker died (killed for memory, or the platform refused processes): finish here.
        print(f"credlint: worker processes failed ({type(exc).__name__}); continuing in one process",
              file=sys.stderr)
        for job in jobs[len(outcomes):]:
            outcome = run_job(job, catalogue)
            if progress is not None:
                progress(job, outcome)
            outcomes.append(outcome)
    return outcomes
