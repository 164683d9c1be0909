"""Files -> per-file facts: from the cache where the content is known, else from workers.

Gather decides from the cache what needs work; workers compute facts and nothing else. A file
whose size or mtime changed goes to a worker with the cached content's digest, and only when the
cached facts are already in hand: the worker's answer "unchanged" then needs nothing more.

The byte prefilter decides which Python files are parsed; then imports are followed from the
parsed modules until nothing new is reached, so a module that matters only because a flow
imports it (a `settings.py` holding a constant) is parsed as well. The result is the set of
modules the project model is built from, the same whatever the cache and the worker count.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from credlint.config import glob_matcher
from credlint.facts.types import ModuleFacts, module_name_for
from credlint.facts.file import FileFacts
from credlint.store.early import EarlyWorker
from credlint.store.cpus import default_jobs
from credlint.store.workers import Job, Outcome, few, pool_size, run_jobs


class Gathered:
    def __init__(self, facts: Dict[str, FileFacts], included: Set[str], analysed: int = 0, workers: int = 1):
        self.facts = facts
        self.included = included  # Python files the project model is built from
        self.analysed = analysed  # the rest came from the cache
        self.workers = workers  # processes used for the largest batch


def gather(files: Sequence[Tuple[str, Path]], config, catalogue, *, cache=None, jobs: Optional[int] = None,
           prefilter: bool = True, stdin: Optional[Tuple[str, bytes]] = None,
           buffers: Optional[Dict[str, bytes]] = None,
           progress: Optional[Callable[[str], None]] = None,
           stats: Optional[Dict[str, os.stat_result]] = None, early: Optional[EarlyWorker] = None) -> Gathered:
    """Facts for every file of the project (`files` as (root-relative path, absolute path)).

    `stats` are the files' stats when the caller has taken them already; `early` is a worker
    started beforehand, used if only a few files need analysing. `stdin` and `buffers` hold
    contents that stand for files (root-relative path -> bytes): editors' buffers, never cached."""
    facts: Dict[str, FileFacts] = {}
    pending: List[Job] = []
    unchanged: List[str] = []  # files whose cached facts stand: rebuilt while `early` parses
    known: Dict[str, FileFacts] = {}  # cached facts of the pending files sent with their digest
    paths = dict(files)
    is_source = glob_matcher(config.sources)
    key = cache.key if cache is not None else b""
    given = dict(buffers or {})
    if stdin is not None:
        given[stdin[0]] = stdin[1]

    def job(rel: str, path, known: str = "") -> Job:
        if rel in given:
            return Job(rel, str(path), forced_deploy=is_source(rel), parse=None if prefilter else True, data=given[rel],
                       digest_key=key, prefect=config.prefect)
        return Job(rel, str(path), known_digest=known, forced_deploy=is_source(rel), parse=None if prefilter else True,
                   digest_key=key, prefect=config.prefect)

    for rel, path in files:
        if cache is not None and rel not in given:
            if stats is not None:
                st = stats.get(rel)
            else:
                try:
                    st = os.stat(path)
                except OSError:
                    st = None
            if st is not None and cache.stat_matches(rel, st):
                unchanged.append(rel)
                continue
            digest = cache.digest_of(rel)
            found = cache.cached(rel) if digest else None
            if found is None:  # nothing cached, or a damaged entry: analysed like a new file
                digest = ""
            else:
                known[rel] = found
            pending.append(job(rel, path, digest))
        else:
            pending.append(job(rel, path))
    if known:
        pending = _drop_untouched(pending, known, cache, facts, progress)
    helper = None  # the early worker, as the pool's second process when there are many files
    if early is not None and not (pending and few(pending) and early.submit(pending)):
        if pending:
            helper = early
        else:
            early.close()
        early = None
    workers = jobs or default_jobs(own=1 if helper is not None and helper.running() else 0)
    damaged: List[Job] = []
    for rel in unchanged:
        found = cache.cached(rel)
        if found is None:  # analysed like a new file
            damaged.append(job(rel, paths[rel]))
            continue
        facts[rel] = found
        if progress is not None:
            progress(rel)
    used = pool_size(pending + damaged, workers)
    if helper is not None and pool_size(pending, workers) != 2:
        helper.close()  # one process is enough, or a pool of more (whose workers fork from here)
        helper = None
    analysed = _run(pending, catalogue, workers, cache, facts, known, progress, early, helper)
    if damaged:
        analysed += _run(damaged, catalogue, workers, cache, facts, known, progress)

    # Follow imports from the parsed modules to the project modules they need. A module the
    # prefilter let through that turns out to use no Prefect at all (its bytes only looked
    # relevant) is followed only as far as its possible flows need: the flows it patches, and
    # the classes (and their bases) or flows its objects may be made from. Should one of those
    # turn out to use Prefect (a Flow subclass), it and whoever reached it are followed in full;
    # so is a module that a module using Prefect imports.
    index = _ModuleIndex.of(tuple(rel for rel, _ in files if rel.endswith(".py")))
    included = {rel for rel, f in facts.items() if f.module is not None and f.relevant}
    limited = {rel for rel in included if not _uses_prefect(facts[rel].module)}
    reached_by: Dict[str, Set[str]] = {}  # module -> the limited modules that reached it
    frontier = sorted(included)
    seen = set(included)
    while frontier:
        wanted: List[str] = []
        for rel in frontier:
            module = facts[rel].module
            narrow = rel in limited
            for target in index.targets(_may_make_flows(module) if narrow else _referenced(module)):
                if narrow:
                    reached_by.setdefault(target, set()).add(rel)
                if target in limited and not narrow:  # needed after all: its imports are followed in full
                    limited.discard(target)
                    wanted.append(target)
                elif target not in seen:
                    seen.add(target)
                    wanted.append(target)
                    if narrow:
                        limited.add(target)  # decided below, once parsed
        missing = [rel for rel in wanted if rel in facts and facts[rel].module is None]
        if missing:
            more = [Job(rel, str(paths[rel]), parse=True, digest_key=key,
                        data=given.get(rel), prefect=config.prefect) for rel in sorted(missing)]
            analysed += _run(more, catalogue, workers, cache, facts, known, None,
                             early if early is not None and few(more) and early.submit(more)
                             else None)
        frontier = [rel for rel in wanted if rel in facts and facts[rel].module is not None]
        for rel in frontier:
            if rel in limited and _uses_prefect(facts[rel].module):
                limited.discard(rel)
        for target in list(reached_by):  # a module using Prefect that limited ones led to
            if target not in limited and target in facts and facts[target].module is not None \
                    and _uses_prefect(facts[target].module):
                frontier.extend(_promote(target, limited, reached_by))
                del reached_by[target]
        frontier = sorted(set(frontier))
        included.update(frontier)
    if not prefilter:
        # Everything that parses goes in: the prefilter must make no difference to the findings
        # (tests compare). Files that do not parse stay out unless needed, as with the filter:
        # CL000 is about files credlint has to read.
        included |= {rel for rel, f in facts.items() if f.module is not None and f.module.error is None}
    return Gathered(facts, included, analysed, used)


def _run(jobs: List[Job], catalogue, workers: int, cache, facts: Dict[str, FileFacts], known: Dict[str, FileFacts],
         progress: Optional[Callable[[str], None]], early: Optional[EarlyWorker] = None,
         helper: Optional[EarlyWorker] = None) -> int:
    """Analyse `jobs` (already submitted to `early` when it is given; shared with `helper`, see
    `workers.run_jobs`) and record their facts; `known` holds the cached facts of the jobs sent
    with a known digest."""
    def done(job: Job, outcome: Outcome) -> None:
        if progress is not None:
            progress(job.rel)

    outcomes = early.results() if early is not None else None
    if outcomes is not None:
        for job, outcome in zip(jobs, outcomes):
            done(job, outcome)
    else:
        outcomes = run_jobs(jobs, catalogue, workers, done, helper)
    analysed = 0
    for job, outcome in zip(jobs, outcomes):
        if outcome.facts is None:  # content unchanged since it was cached
            found = facts[job.rel] = known[job.rel]
            cache.store(found, outcome.st)  # with the file's new size and mtime
            continue
        analysed += 1
        facts[job.rel] = outcome.facts
        if cache is not None and job.data is None:
            cache.store(outcome.facts, outcome.st)
    return analysed


def _drop_untouched(pending: List[Job], known: Dict[str, FileFacts], cache, facts: Dict[str, FileFacts],
                    progress: Optional[Callable[[str], None]]) -> List[Job]:
    """The pending jobs left once the files whose size or time changed but whose content is the
    cached one are hashed here (a checkout that only touched them, a CI cache restored under new
    times): their cached facts stand, and only real changes count as work for the workers."""
    from credlint.facts.file import MAX_FILE_BYTES, content_digest
    from credlint.files.read import Unreadable, not_regular, read_file

    left: List[Job] = []
    for job in pending:
        if not job.known_digest:
            left.append(job)
            continue
        try:
            st = os.stat(job.path)
            if not_regular(st.st_mode) or st.st_size > MAX_FILE_BYTES:
                left.append(job)  # the worker reports it as it does
                continue
            data = read_file(job.path, MAX_FILE_BYTES + 1)
        except (OSError, Unreadable):
            left.append(job)
            continue
        if content_digest(data, job.digest_key) != job.known_digest:
            left.append(job)
            continue
        facts[job.rel] = known[job.rel]
        cache.store(known[job.rel], st)  # with the file's new size and mtime
        if progress is not None:
            progress(job.rel)
    return left


def _uses_prefect(module: ModuleFacts) -> bool:
    """The module imports Prefect or an integration, or makes a flow of Prefect's own Flow class,
    or patches one: the names it imports may carry what its flows and helpers need. (Flows made
    from a project class, which may or may not be a Flow subclass, are `_may_make_flows`.)"""
    return bool(module.uses_prefect or module.model or module.patches
                or any(flow.cls is None and flow.source != "copy" and flow.source != "call" for flow in module.flows))


def _promote(rel: str, limited: Set[str], reached_by: Dict[str, Set[str]]) -> List[str]:
    """The limited modules that led to `rel`, a module using Prefect, directly or through other
    limited modules: their flows may be real after all, so each is followed in full from now."""
    promoted: List[str] = []
    stack = [rel]
    while stack:
        for referrer in reached_by.get(stack.pop(), ()):
            if referrer in limited:
                limited.discard(referrer)
                promoted.append(referrer)
                stack.append(referrer)
    return promoted


def _may_make_flows(module: ModuleFacts) -> Iterable[str]:
    """What a module without Prefect needs from others for its possible flows: the flows it
    patches, the classes its candidate flows are made from and the bases of its own classes
    (any of them may be a Flow subclass), and the flows it copies or calls for."""
    yield from _patched(module)
    for flow in module.flows:
        if flow.cls:
            yield flow.cls
        if flow.origin:
            yield flow.origin.rstrip("()")
    for fact in module.classes.values():
        yield from fact.bases


def _patched(module: ModuleFacts) -> Iterable[str]:
    """What a module without Prefect still refers to: the flows it patches and what it sets on them."""
    for patch in module.patches:
        yield patch.target
        if patch.ref:
            yield patch.ref.rstrip("()")


def _referenced(module: ModuleFacts) -> Iterable[str]:
    """Dotted names this module refers to in other modules (imports, refs, patch targets)."""
    for qual in module.imports.values():
        yield qual
    for flow in module.flows:
        for ref in (flow.storage_ref, flow.run_config_ref):
            if ref:
                yield ref.rstrip("()")
        for use in flow.uses:
            if use.target:
                yield use.target
    for routine in module.routines.values():
        for use in routine.uses:
            if use.target:
                yield use.target
    yield from _patched(module)


class _ModuleIndex:
    """Project modules by dotted suffix of their name, as `Project.find_module` looks them up (a
    project whose import root is a sub-folder imports `pkg.mod` for `src/pkg/mod.py`).

    Indexed by the last part of the name only, and suffixes compared on look-up: a warm run of a
    large repository looks up a few thousand names but would otherwise index every suffix of
    every file."""

    _last: Optional[Tuple[Tuple[str, ...], "_ModuleIndex"]] = None

    @classmethod
    def of(cls, rels: Tuple[str, ...]) -> "_ModuleIndex":
        """The index of these files; the last one again if they have not changed (a long-lived
        process checks the same project over and over, and keeps the names it looked up)."""
        if cls._last is not None and cls._last[0] == rels:
            return cls._last[1]
        index = cls(rels)
        cls._last = (rels, index)
        return index

    def __init__(self, rels: Iterable[str]):
        self.by_last: Dict[str, List[str]] = {}
        for rel in rels:
            parts = rel[:-3].split("/") if rel.endswith(".py") else rel.split("/")
            if parts[-1] == "__init__":
                parts.pop()
            if parts:
                self.by_last.setdefault(parts[-1], []).append(rel)
        self._names: Dict[str, str] = {}
        self._found: Dict[str, List[str]] = {}
        self._of_qual: Dict[str, List[str]] = {}  # modules name the same few things: `prefect.Flow`, ...

    def _suffix(self, dotted: str) -> List[str]:
        found = self._found.get(dotted)
        if found is None:
            tail = "." + dotted
            found = []
            for rel in self.by_last.get(dotted.rsplit(".", 1)[-1], ()):
                name = self._names.get(rel)
                if name is None:
                    name = self._names[rel] = module_name_for(rel)[0]
                if name == dotted or name.endswith(tail):
                    found.append(rel)
            self._found[dotted] = found
        return found

    def targets(self, quals: Iterable[str]) -> List[str]:
        out: List[str] = []
        for qual in quals:
            found = self._of_qual.get(qual)
            if found is None:
                found = []
                parts = qual.split(".")
                for end in range(1, len(parts) + 1):  # the module itself and every parent package
                    found.extend(self._suffix(".".join(parts[:end])))
                self._of_qual[qual] = found
            out.extend(found)
        return out
