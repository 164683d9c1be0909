"""`check()`: credlint as a library call, exactly as the command line runs it.

For each project the paths are in, the cheapest answer that is still right: the project's
`credlint server` when one runs, else the report kept from the last run when nothing it read has
changed, else the pipeline (`credlint.pipeline`), whose report is then kept. The speed-ups wrap
the pipeline here; none of them enters it.
"""
from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Tuple

from credlint import collector
from credlint.config import find_root
from credlint.errors import UsageError
from credlint.files.plan import Head, Plan, head_of, plan_of, projects_of
from credlint.findings.report import Finding, Report, Run
from credlint.options import Options
from credlint.store.cache import facts_namespace

if TYPE_CHECKING:  # the pipeline is imported when it runs: a reused report needs none of it
    from credlint.engine.rule import Rule
    from credlint.pipeline import Loaded

__all__ = ["Options", "Run", "check", "load"]


def check(options: Options, progress: Optional[Callable[[str, int], None]] = None) -> Run:
    """Run credlint as the command line does and return its findings (no printing).

    Each path is checked within its own project (the root found from that path, its own
    configuration and cache): a commit that touches two services of a monorepo checks both. A
    path that does not exist is named in `Run.errors` and the others are still checked."""
    with collector.paused():  # see `credlint.collector`
        return _check(options, progress)


def _check(options: Options, progress: Optional[Callable[[str, int], None]]) -> Run:
    if options.stdin is not None:
        return _check_project(options, progress)
    groups, missing = projects_of(options.paths or ["."], options.buffers)
    if not groups:
        raise UsageError("; ".join(missing))
    runs = [_check_project(replace(options, paths=paths), progress) for paths in groups]
    run = runs[0] if len(runs) == 1 else _merged(runs)
    run.errors = missing
    return run


def load(options: Options, progress: Optional[Callable[[str, int], None]] = None) -> Loaded:
    """Configuration, rules and the project model for the paths in `options` (one project)."""
    if options.stdin is None:
        groups, missing = projects_of(options.paths or ["."], options.buffers)
        if missing:
            raise UsageError("; ".join(missing))
        if len(groups) > 1:
            roots = ", ".join(str(find_root(Path(paths[0]))) for paths in groups)
            raise UsageError(f"the paths are in {len(groups)} projects ({roots}): give the paths of one at a time")
    from credlint.pipeline import load_plan

    with collector.paused():  # see `credlint.collector`
        return load_plan(plan_of(options), options, progress)


def _check_project(options: Options, progress: Optional[Callable[[str, int], None]] = None) -> Run:
    """One project's check: its server, else its kept report, else the pipeline."""
    head = head_of(options)
    # A server's answer comes whole: `progress` is not called then, nor for a reused report.
    if options.server and options.caching and not options.buffers:
        answered = _from_server(head, options)
        if answered is not None:
            return answered
    space = facts_namespace(head.config) if options.caching else None
    early = _early_worker(head, options)
    try:
        plan = plan_of(options, head)
        memo, signature = _memo_for(plan, options, space)
        if memo is not None and signature is not None:
            reused = _reuse(memo, signature, plan, options)
            if reused is not None:
                return reused
        from credlint.pipeline import load_plan

        loaded = load_plan(plan, options, progress, early, space)
        from credlint.pipeline import run_rules

        run = run_rules(loaded, options, early.call if early is not None else None)  # it helps with the fixes
    finally:
        if early is not None:
            early.close()
    if memo is not None:
        if signature is not None and not loaded.read_failures:
            memo.save(signature, {"report": run.report.to_data(), "stats": run.stats})
        else:
            # Made from files too fresh to trust, or from a project with a file that could not
            # be read (its size and time do not change when its permissions are fixed): never
            # reuse this report, nor the older one.
            memo.forget()
    return run


def _merged(runs: List[Run]) -> Run:
    """One run from the runs of several projects: one report, one exit code. Paths stay relative
    to the working directory; `project_path` (SARIF, baselines) becomes relative to the folder
    that holds every project."""
    common = Path(os.path.commonpath([str(run.root) for run in runs]))
    findings: List[Finding] = []
    quiet: List[Finding] = []
    fail_on: Dict[str, str] = {}
    seen = set()
    files = suppressed = flows_found = 0
    by_kind: Counter = Counter()
    kinds: Dict[str, str] = {}
    checked: set = set()
    not_followed: set = set()
    stats: Dict[str, int] = {}
    for run in runs:
        prefix = run.root.relative_to(common).as_posix()
        report = run.report
        for target, items in ((findings, report.findings), (quiet, report.suppressed_findings)):
            for finding in items:
                key = (finding.path, finding.line, finding.column, finding.code, finding.message)
                if key in seen:  # a file inside two of the checked projects
                    continue
                seen.add(key)
                if prefix not in ("", "."):
                    finding.project_path = f"{prefix}/{finding.project_path}"
                fail_on.setdefault(finding.path, run.config.fail_on)
                target.append(finding)
        files += report.files
        by_kind.update(report.files_by_kind)
        kinds.update(report.kinds)
        suppressed += report.suppressed
        checked.update(report.checked_paths_display)
        flows_found += report.flows.get("found", 0)
        not_followed.update((n["path"], n["line"], n["reason"]) for n in report.not_followed)
        for key, value in run.stats.items():
            if isinstance(value, int):
                stats[key] = max(stats.get(key, 0), value) if key == "workers" else stats.get(key, 0) + value
    findings.sort(key=Finding.sort_key)
    quiet.sort(key=Finding.sort_key)
    shown = sorted(checked)
    report = Report(findings=findings, files=files, suppressed=suppressed, checked_paths=shown,
                    checked_paths_display=shown, suppressed_findings=quiet,
                    flows={"found": flows_found, "not_followed": [{"path": p, "line": n, "reason": r}
                                                                  for p, n, r in sorted(not_followed)]},
                    files_by_kind=dict(by_kind), kinds=kinds)
    rules = _LazyRules(lambda: _union_of_rules(runs))
    return Run(report, runs[0].config, common, rules, stats, fail_on_by_path=fail_on)


def _union_of_rules(runs: List[Run]) -> List[Rule]:
    by_code: Dict[str, Rule] = {}
    for run in runs:
        for rule_ in run.rules:
            by_code.setdefault(rule_.code, rule_)
    return [by_code[code] for code in sorted(by_code)]


def _memo_for(plan: Plan, options: Options, namespace: Optional[str]):
    """The run memo for these options, and the signature of the inputs (None: not reusable)."""
    if not options.caching or options.stdin is not None or options.buffers or plan.unlisted:
        return None, None  # a folder that could not be listed: its files' state is unknown
    from credlint.speed.memo import RunMemo, signature, stat_entries

    stats = plan.stats if plan.stats is not None else {}
    entries: List[Tuple[str, int, int]] = []
    for rel, path in plan.files:
        st = stats.get(rel)
        if st is None and rel in plan.explicit:  # named on the command line, not found by the scan
            try:
                st = stats[rel] = os.stat(path)
            except OSError:
                pass
        entries.append((rel, st.st_size, st.st_mtime_ns) if st is not None else (rel, -1, 0))
    plan.stats = stats
    entries.extend(stat_entries(plan.root / d for d in plan.config.rules))
    key = RunMemo.key_of(namespace, str(plan.cwd), str(plan.root),
                         repr((options.paths, options.config_file, options.select, options.ignore,
                               options.backend, options.fail_on, options.exclude, options.extend_exclude,
                               options.extend_select, options.fixes)))
    return RunMemo(plan.cache_dir, key), signature(entries)


def _from_server(head: Head, options: Options) -> Optional[Run]:
    from credlint.speed.client import ask

    reply = ask(head.cache_dir, options)
    return _run_from_data(reply, head, options) if reply is not None else None  # None: do the work here


def _reuse(memo, signature: str, plan: Plan, options: Options) -> Optional[Run]:
    run = _run_from_data(memo.load(signature), plan, options)  # None: damaged or foreign, made afresh
    if run is not None:
        run.stats.update(analysed=0, cached=run.stats.get("files", 0), workers=1, reused=1)
    return run


def _run_from_data(data: Optional[dict], where, options: Options) -> Optional[Run]:
    """A run from a report made elsewhere (the memo, a server), or None if it cannot be read."""
    if data is None:
        return None
    try:
        report = Report.from_data(data["report"])
        stats = dict(data["stats"])
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return Run(report, where.config, where.root, _LazyRules(lambda: _rules_for(where, options)), stats)


def _rules_for(where, options: Options) -> List[Rule]:
    from credlint.pipeline import rules_for

    return rules_for(where, options)


class _LazyRules(Sequence):
    """The rules a reused report was made with, collected only if a reporter asks (SARIF)."""

    def __init__(self, load: Callable[[], List[Rule]]):
        self._load = load
        self._rules: Optional[List[Rule]] = None

    def _all(self) -> List[Rule]:
        if self._rules is None:
            self._rules = self._load()
        return self._rules

    def __getitem__(self, index):
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())


def _early_worker(head: Head, options: Options):
    """A worker that imports the parser while the project is listed and the cache read (see
    `early.EarlyWorker`), when there is a core to spare: it parses the few changed files of a
    warm run, or is the second process of a cold one. Started before the analysis modules are
    imported, which it does not need yet either."""
    from credlint.store.early import EarlyWorker
    from credlint.store.cpus import can_fork, usable_cpus

    # Not `default_jobs`: a busy machine still runs the forked import beside this process's work.
    if (options.jobs or usable_cpus()) < 2 or not can_fork():
        EarlyWorker.discard()
        return None
    if _parser_loaded():
        EarlyWorker.discard()
        return None  # loaded already (`credlint server`, a pytest session): nothing to win
    worker = EarlyWorker.claim() or EarlyWorker()  # forked by `credlint check` already, if it could
    worker.begin(str(head.cache_dir) if options.caching else None)
    return worker


def _parser_loaded() -> bool:
    return "libcst" in sys.modules
