"""One check run: files -> facts -> project model -> rules -> findings.

The only place that knows the order of the pipeline. It reads the whole project (providers
may live anywhere under the root) and reports findings only for the paths asked about. When
nothing a run would read has changed since the last one, its report is reused (`memo`).
"""
from __future__ import annotations

import fnmatch
import os
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Tuple

from credlint.config import Config, discover_config, find_root, glob_matcher
from credlint.errors import UsageError
from credlint.findings.report import Finding, Report, fingerprint

if TYPE_CHECKING:  # a reused report needs none of the analysis: it is imported when it runs
    from credlint.engine import Hit, Rule
    from credlint.model.project import Project

DEFAULT_EXCLUDES = (".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "__pycache__", "node_modules",
                    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".credlint_cache", "build", "dist",
                    "site-packages", ".eggs", "*.egg-info")


@dataclass
class Options:
    paths: List[str] = field(default_factory=lambda: ["."])
    config_file: Optional[str] = None
    select: Optional[List[str]] = None
    ignore: Optional[List[str]] = None
    backend: Optional[str] = None
    fail_on: Optional[str] = None
    jobs: Optional[int] = None  # worker processes; None: the cores available
    cache: bool = True
    cache_dir: Optional[str] = None  # default: .credlint_cache/ at the project root
    prefilter: bool = True  # False parses every Python file (tests check it changes nothing)
    stdin: Optional[Tuple[str, bytes]] = None  # (path, content): lint an editor buffer as that file
    # path -> content: unsaved editor buffers that stand for those files (`credlint lsp`). Unlike
    # `stdin` they are not the only paths reported on: `paths` says that, and need not exist.
    buffers: Dict[str, bytes] = field(default_factory=dict)
    server: bool = True  # ask the project's `credlint server` when one is running
    # Command-line settings as ruff has them: `exclude` replaces the configured `exclude` (None:
    # keep it), `extend_exclude` and `extend_select` add to the configuration's.
    exclude: Optional[List[str]] = None
    extend_exclude: List[str] = field(default_factory=list)
    extend_select: List[str] = field(default_factory=list)


@dataclass
class Run:
    report: Report
    config: Config
    root: Path  # the project root; for paths in several projects, the folder that holds them all
    rules: List[Rule]
    stats: Dict[str, int] = field(default_factory=dict)  # files analysed / from the cache, workers
    errors: List[str] = field(default_factory=list)  # paths that could not be checked (exit code 2)
    # For paths in several projects: each finding's displayed path -> its project's `fail-on`.
    fail_on_by_path: Dict[str, str] = field(default_factory=dict)

    def failed(self) -> bool:
        """A finding at or above the failing severity of its own project's configuration."""
        if not self.fail_on_by_path:
            return self.report.failed(self.config.fail_on)
        from credlint.findings.report import SEVERITY_RANK

        return any(SEVERITY_RANK[f.severity] >= SEVERITY_RANK[self.fail_on_by_path.get(f.path, self.config.fail_on)]
                   for f in self.report.findings)


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


def _rel(path: Path, base: Path) -> Optional[str]:
    try:
        return path.resolve().relative_to(base).as_posix()
    except ValueError:
        return None


_DEPLOY_SUFFIXES = (".toml", ".sh", ".bash", ".mk", ".yml", ".yaml", ".env", ".conf", ".ini", ".dockerfile", ".cfg",
                    ".bat", ".cmd")
# Files read only for credential formats (CL204), as detect-secrets and gitleaks read them: data,
# documentation, notebooks, Terraform, client credential files and private keys. None of them is
# a deployment file (`deployfiles.classify` gives them no kind), and binary ones (DER, PKCS#12)
# are skipped by the pattern scan.
_SCANNED_SUFFIXES = (".json", ".md", ".markdown", ".rst", ".txt", ".ipynb", ".tf", ".tfvars", ".properties",
                     ".pem", ".key", ".p8", ".ppk", ".asc", ".ovpn", ".npmrc", ".pypirc", ".netrc", ".s3cfg",
                     ".boto", ".git-credentials")
_SSH_KEY_NAMES = ("id_rsa", "id_dsa", "id_ecdsa", "id_ed25519")  # and id_rsa_deploy, ...; not *.pub


def _maybe_relevant(name: str) -> bool:
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
            if not _maybe_relevant(name) and not forced(rel):
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


def _displayer(root: Path, cwd: Path) -> Callable[[str], str]:
    """root-relative path -> cwd-relative display path, without pathlib per file."""
    if root == cwd:
        return lambda rel: rel
    try:
        prefix = root.relative_to(cwd).as_posix() + "/"
        return lambda rel: prefix + rel
    except ValueError:
        return lambda rel: _display(root / rel, cwd)


def _display(path: Path, cwd: Path) -> str:
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        return os.path.relpath(path, cwd).replace(os.sep, "/") if os.name != "nt" else path.as_posix()


class Sources:
    """File contents for snippets and suppression comments, read when first asked for (a warm
    run reads only the files that have findings)."""

    def __init__(self, root: Path):
        self.root = root
        self.given: Dict[str, bytes] = {}  # contents that are not on disk (--stdin-filename)

    def get(self, rel: str) -> Optional[bytes]:
        if rel not in self.given:
            from credlint.facts.file import MAX_FILE_BYTES
            from credlint.files.read import Unreadable, read_file

            try:
                self.given[rel] = read_file(str(self.root / rel), MAX_FILE_BYTES)
            except Unreadable:
                self.given[rel] = None
        return self.given[rel]


def _config_key(config: Config) -> str:
    """The configuration as it affects per-file facts, for the cache's namespace."""
    import json
    from dataclasses import asdict

    data = asdict(config)
    data.pop("lines", None)
    data.pop("path", None)
    return json.dumps(data, sort_keys=True, default=str)


@dataclass
class Loaded:
    """The project read whole, and which of its files the user asked about."""

    project: Project
    config: Config
    root: Path
    cwd: Path
    wanted: set
    sources: Sources
    rules: List[Rule]
    stats: Dict[str, int] = field(default_factory=dict)
    read_failures: int = 0  # files that could not be read: such a run's report is never kept
    known_codes: set = field(default_factory=set)  # codes and names of every rule, selected or not

    def display(self, rel: str) -> str:
        return _display(self.root / rel, self.cwd)


def check(options: Options, progress: Optional[Callable[[str, int], None]] = None) -> Run:
    """Run credlint as the command line does and return its findings (no printing).

    Each path is checked within its own project (the root found from that path, its own
    configuration and cache): a commit that touches two services of a monorepo checks both. A
    path that does not exist is named in `Run.errors` and the others are still checked."""
    if options.stdin is not None:
        return _check_project(options, progress)
    groups, missing = projects_of(options.paths or ["."], options.buffers)
    if not groups:
        raise UsageError("; ".join(missing))
    from dataclasses import replace

    runs = [_check_project(replace(options, paths=paths), progress) for paths in groups]
    run = runs[0] if len(runs) == 1 else _merged(runs)
    run.errors = missing
    return run


def projects_of(paths: Sequence[str], buffers: Optional[Dict[str, bytes]] = None) -> Tuple[List[List[str]], List[str]]:
    """The paths grouped by project root (in the order given), and an error for each path that
    does not exist (an editor buffer exists whether it was saved or not)."""
    groups: Dict[Path, List[str]] = {}
    missing: List[str] = []
    for path in paths:
        target = Path(path)
        if not target.exists() and not target.is_symlink() and str(target) not in _given(buffers):
            missing.append(f"{path}: no such file or directory")
            continue
        groups.setdefault(find_root(target), []).append(path)
    return list(groups.values()), missing


def _given(buffers: Optional[Dict[str, bytes]]) -> set:
    """The paths of editor buffers as `Path` spells them (`./x.py` is `x.py`)."""
    return {str(Path(path)) for path in buffers or ()}


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


def _check_project(options: Options, progress: Optional[Callable[[str, int], None]] = None) -> Run:
    """One project's check: its server, else its kept report, else the pipeline."""
    head = _head(options)
    # A server's answer comes whole: `progress` is not called then, nor for a reused report.
    if options.server and _caching(options) and not options.buffers:
        answered = _from_server(head, options)
        if answered is not None:
            return answered
    early = _early_worker(head, options)
    try:
        plan = _plan(options, head)
        memo, signature = _memo_for(plan, options)
        if memo is not None and signature is not None:
            reused = _reuse(memo, signature, plan, options)
            if reused is not None:
                return reused
        loaded = _load(plan, options, progress, early)
    finally:
        if early is not None:
            early.close()
    from credlint.engine import run_rule

    project, config, root, cwd = loaded.project, loaded.config, loaded.root, loaded.cwd
    hits: List[Tuple[Rule, Hit]] = []
    post = [r for r in loaded.rules if "suppression" in r.fixtures]
    for rule_ in loaded.rules:
        if rule_ in post:
            continue
        for hit in run_rule(rule_, project):
            hits.append((rule_, hit))
    kept, silenced = _apply_suppressions(hits, project, config, loaded)
    if post:
        for rule_ in post:
            for hit in run_rule(rule_, project):
                if _per_file_ignored(hit.path, rule_.code, rule_.name, config):
                    silenced.append((rule_, hit, ("external", "per-file-ignores in the configuration")))
                else:
                    kept.append((rule_, hit))
    findings = _to_findings(kept, project, config, root, cwd, loaded.wanted, loaded.sources)
    from credlint.fixes import FIXABLE

    if any(f.code in FIXABLE for f in findings):  # the fixers (libcst, the readers) only when needed
        from credlint.fixes import annotate

        annotate(findings, cwd, options.stdin)  # `fix_safety`, kept with the report (memo, server)
    quiet = _to_findings([(r, h) for r, h, _ in silenced], project, config, root, cwd, loaded.wanted,
                         loaded.sources, [why for _, _, why in silenced])
    checked = sorted(r for r in loaded.wanted if r.endswith(".py"))
    shown = _displayer(root, cwd)
    display = sorted(shown(r) for r in checked)
    from credlint.model.flows import summary

    kind_of = _file_kind(project)
    run = Run(Report(findings=findings, files=len(checked), suppressed=len(quiet),
                     checked_paths=checked, checked_paths_display=display, suppressed_findings=quiet,
                     flows=summary(project.flows, loaded.wanted, shown),
                     files_by_kind=dict(Counter(kind_of(rel) for rel in set(loaded.wanted))),
                     kinds={f.path: kind_of(f.project_path) for f in findings + quiet if f.project_path}),
              config, root, loaded.rules, loaded.stats)
    if memo is not None:
        if signature is not None and not loaded.read_failures:
            memo.save(signature, {"report": run.report.to_data(), "stats": run.stats})
        else:
            # Made from files too fresh to trust, or from a project with a file that could not
            # be read (its size and time do not change when its permissions are fixed): never
            # reuse this report, nor the older one.
            memo.forget()
    return run


def _file_kind(project: Project) -> Callable[[str], str]:
    """A root-relative path -> "Python", "deployment" or "other" (read for key formats only)."""
    deploy = project.deploy_by_path
    return lambda rel: "Python" if rel in project.modules or rel.endswith(".py") else \
        "deployment" if rel in deploy else "other"


@dataclass
class Plan:
    """What a run reads, decided before anything is analysed."""

    root: Path
    cwd: Path
    config: Config
    cache_dir: Path
    files: List[Tuple[str, str]]  # (root-relative path, path) of every file of the project
    wanted: List[str]  # the files asked about
    explicit: set  # files named one by one (what pre-commit passes)
    stdin_rel: Optional[str] = None
    stats: Optional[Dict[str, os.stat_result]] = None  # taken by the scan, for the memo and the cache
    head: Optional["Head"] = None
    unlisted: Dict[str, str] = field(default_factory=dict)  # folders that could not be listed -> why
    buffers: Dict[str, bytes] = field(default_factory=dict)  # root-relative path -> editor buffer
    all_rules: List["Rule"] = field(default_factory=list)  # every rule, selected or not (`_rules_for`)

    @property
    def namespace(self) -> str:
        return self.head.namespace if self.head is not None else ""


@dataclass
class Head:
    """Where a run is and how it is configured: known in a few milliseconds, before any listing."""

    cwd: Path
    targets: List[Path]
    root: Path
    config: Config
    cache_dir: Path
    _namespace: Optional[str] = None

    @property
    def namespace(self) -> str:
        """The facts cache's namespace: credlint's build, the catalogue and the configuration."""
        if self._namespace is None:
            from credlint.store.cache import code_fingerprint, namespace
            from credlint.prefect.catalogue_sources import builtin_digest

            self._namespace = namespace(code_fingerprint(), builtin_digest(), _config_key(self.config))
        return self._namespace


def _head(options: Options) -> Head:
    cwd = Path.cwd().resolve()
    targets = [Path(p) for p in options.paths] or [Path(".")]
    if options.stdin is not None:
        targets = [Path(options.stdin[0])]  # need not exist: a new, unsaved buffer
    else:
        for target in targets:
            if not target.exists() and str(target) not in _given(options.buffers):
                raise UsageError(f"{target}: no such file or directory")
    root = find_root(targets[0])
    config = discover_config(root, Path(options.config_file) if options.config_file else None)
    if options.backend:
        config.backend = options.backend
    if options.fail_on:
        config.fail_on = options.fail_on
    if options.exclude is not None:
        config.exclude = list(options.exclude)
    if options.extend_exclude:
        config.extend_exclude = config.extend_exclude + list(options.extend_exclude)
    cache_dir = Path(options.cache_dir) if options.cache_dir else root / ".credlint_cache"
    return Head(cwd, targets, root, config, cache_dir)


def _plan(options: Options, head: Optional[Head] = None) -> Plan:
    head = head if head is not None else _head(options)
    cwd, targets, root, config, cache_dir = head.cwd, head.targets, head.root, head.config, head.cache_dir
    excludes = list(DEFAULT_EXCLUDES) + config.exclude + config.extend_exclude

    # The project, read whole; then the subset of files the user asked about.
    stats: Optional[Dict[str, os.stat_result]] = {} if _caching(options) and options.stdin is None else None
    unlisted: Dict[str, str] = {}
    files = discover(root, excludes, config.sources, stats, unlisted)
    excluded, is_source = Excludes(excludes), glob_matcher(config.sources)
    known = {rel for rel, _ in files}
    wanted: List[str] = []
    explicit: set = set()
    for target in targets:
        resolved = target.resolve()
        rel = _rel(resolved, root)
        if not resolved.is_dir() or options.stdin is not None:
            if rel is None:
                continue
            if excluded(rel):
                continue
            if rel not in known and (_maybe_relevant(resolved.name) or is_source(rel)):
                files.append((rel, str(resolved)))
                known.add(rel)
            wanted.append(rel)
            explicit.add(rel)
        else:
            prefix = "" if rel in (None, "", ".") else rel + "/"
            wanted.extend(r for r, _ in files if r.startswith(prefix))
            wanted.extend(r for r in unlisted if r.startswith(prefix))
    stdin_rel = _rel(Path(options.stdin[0]).resolve(), root) if options.stdin is not None else None
    buffers: Dict[str, bytes] = {}
    for path, data in options.buffers.items():
        rel = _rel(Path(path).resolve(), root)
        if rel is None or excluded(rel):
            continue
        if rel not in known:  # a new file, not saved yet
            if not (_maybe_relevant(Path(rel).name) or is_source(rel)):
                continue
            files.append((rel, str(root / rel)))
            known.add(rel)
        buffers[rel] = data
    return Plan(root, cwd, config, cache_dir, files, wanted, explicit, stdin_rel, stats, head, unlisted, buffers)


def _caching(options: Options) -> bool:
    return options.cache and options.prefilter


def _memo_for(plan: Plan, options: Options):
    """The run memo for these options, and the signature of the inputs (None: not reusable)."""
    if not _caching(options) or options.stdin is not None or options.buffers or plan.unlisted:
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
    key = RunMemo.key_of(plan.namespace, str(plan.cwd), str(plan.root),
                         repr((options.paths, options.config_file, options.select, options.ignore,
                               options.backend, options.fail_on, options.exclude, options.extend_exclude,
                               options.extend_select)))
    return RunMemo(plan.cache_dir, key), signature(entries)


def _from_server(head: Head, options: Options) -> Optional[Run]:
    from credlint.speed.server import ask

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


def _rules_for(plan, options: Options) -> List[Rule]:
    """The selected rules; unknown selectors are a usage or configuration error."""
    from credlint.engine import collect_rules, select_rules, unknown_selectors

    config = plan.config
    all_rules = collect_rules([plan.root / d for d in config.rules])
    if isinstance(plan, Plan):
        plan.all_rules = all_rules  # for the suppressions' known codes: users' rule files run once
    unknown = unknown_selectors(all_rules, (options.select or []) + (options.ignore or [])
                                + list(options.extend_select))
    if unknown:
        raise UsageError(f"unknown rule selector(s): {', '.join(unknown)} (see `credlint rules`)")
    for key, selectors in (("select", config.select), ("ignore", config.ignore)):
        unknown = unknown_selectors(all_rules, selectors)
        if unknown:
            raise config.error(key, f"unknown rule code or name: {', '.join(unknown)} (see `credlint rules`)")
    for pattern, codes in config.per_file_ignores.items():
        unknown = unknown_selectors(all_rules, codes)
        if unknown:
            raise config.error("per-file-ignores", f"unknown rule code or name for {pattern!r}: {', '.join(unknown)}")
    return select_rules(all_rules, effective_select(options, config),
                        options.ignore if options.ignore is not None else config.ignore)


def effective_select(options: Options, config: Config) -> List[str]:
    """`--select` replaces the configured `select`, `--extend-select` adds to it. Empty means
    every rule, which extending cannot widen."""
    select = list(options.select if options.select is not None else config.select)
    return select + list(options.extend_select) if select else []


def _early_worker(head: Head, options: Options):
    """A worker that imports the parser while the project is listed and the cache read (see
    `workers.EarlyWorker`): on a warm run, when there is a core to spare. Started before the
    analysis modules are imported, which it does not need yet either."""
    from credlint.store.workers import EarlyWorker, can_fork, default_jobs

    if not _caching(options) or (options.jobs or default_jobs()) < 2 or not can_fork():
        return None
    if _parser_loaded():
        return None  # loaded already (`credlint server`, a pytest session): nothing to win
    from credlint.store.cache import FactsCache

    if not FactsCache.exists(head.cache_dir, head.namespace):
        return None  # a cold run: the pool does the work
    return EarlyWorker(str(head.cache_dir))


def _parser_loaded() -> bool:
    return "libcst" in sys.modules


def load(options: Options, progress: Optional[Callable[[str, int], None]] = None) -> Loaded:
    """Configuration, rules and the project model for the paths in `options` (one project)."""
    if options.stdin is None:
        groups, missing = projects_of(options.paths or ["."], options.buffers)
        if missing:
            raise UsageError("; ".join(missing))
        if len(groups) > 1:
            roots = ", ".join(str(find_root(Path(paths[0]))) for paths in groups)
            raise UsageError(f"the paths are in {len(groups)} projects ({roots}): give the paths of one at a time")
    return _load(_plan(options), options, progress)


def _load(plan: Plan, options: Options, progress: Optional[Callable[[str, int], None]] = None,
          early=None) -> Loaded:
    from credlint.prefect.catalogue import builtin_catalogue
    from credlint.store.gather import gather
    from credlint.model.project import FileError, Project

    root, config, files = plan.root, plan.config, plan.files
    cache = None
    if _caching(options):
        from credlint.store.cache import FactsCache

        catalogue = builtin_catalogue(snapshot_dir=plan.cache_dir)
        cache = FactsCache.open(plan.cache_dir, plan.namespace)  # read while `early` imports the parser
    else:
        catalogue = builtin_catalogue()
    chosen = _rules_for(plan, options)
    wanted_set = set(plan.wanted)
    explicit, stdin_rel = plan.explicit, plan.stdin_rel

    gathered = gather(files, config, catalogue, cache=cache, jobs=options.jobs, prefilter=options.prefilter,
                      stdin=(stdin_rel, options.stdin[1]) if stdin_rel is not None else None, buffers=plan.buffers,
                      progress=(lambda rel: progress(rel, 0) if rel in wanted_set else None)
                      if progress is not None else None, stats=plan.stats, early=early)
    if early is not None:
        early.close()  # the parsing is done: no need to keep it until the report is out
    if cache is not None:
        cache.forget_except(rel for rel, _ in files if rel != stdin_rel)
        cache.save()
    modules = [gathered.facts[rel].module for rel in sorted(gathered.included)]
    deploy = [f.deploy for _, f in sorted(gathered.facts.items()) if f.deploy is not None]
    pattern_hits = {rel: f.matches for rel, f in sorted(gathered.facts.items()) if f.matches}
    sources = Sources(root)
    sources.given.update(plan.buffers)
    if stdin_rel is not None:
        sources.given[stdin_rel] = options.stdin[1]
    failed = {rel: f.error for rel, f in sorted(gathered.facts.items()) if f.error}
    unreadable = [FileError(rel, why) for rel, why in failed.items() if rel not in gathered.included]
    unreadable += [FileError(rel, why, severity="warning", kind="folder") for rel, why in sorted(plan.unlisted.items())]
    project = Project(modules, catalogue, config, deploy, pattern_hits, unreadable)
    # A changed deployment file named on the command line (pre-commit passes only what changed)
    # re-checks the flows it serves: an agent's flows, or every flow for files that set secrets.
    for facts in deploy:
        if facts.path not in explicit:
            continue
        if facts.agents:
            for agent in facts.agents:
                wanted_set.update(flow.path for flow in project.flows_served(agent))
        elif any(env.secret or env.typo_of for env in facts.env):
            wanted_set.update(flow.path for flow in project.flows)
    stats = {"files": len(files), "analysed": gathered.analysed, "cached": len(gathered.facts) - gathered.analysed,
             "modules": len(gathered.included), "workers": gathered.workers}
    known = set()
    for rule_ in plan.all_rules:
        known |= _names(rule_.code, rule_.name)
    return Loaded(project, config, root, plan.cwd, wanted_set, sources, chosen, stats,
                  read_failures=len(failed) + len(plan.unlisted), known_codes=known)


@dataclass
class UnusedSuppression:
    """A suppression comment that silenced nothing (or could not: a bare ignore, a code no rule
    has)."""

    path: str
    suppression: object  # facts.Suppression
    codes: List[str]  # the codes that matched no finding; [] for a bare ignore
    unknown: List[str] = field(default_factory=list)  # codes of no rule credlint knows (a typo: CL999)


def _suppressions_of(rel: str, project: Project, loaded: "Loaded") -> list:
    module = project.modules.get(rel)
    if module is not None:
        return module.suppressions
    if rel not in project.deploy_by_path and rel not in project.pattern_hits:
        return []  # a file credlint did not read: nothing in it can be silenced
    data = loaded.sources.get(rel)
    if data is None:
        return []
    from credlint.facts.suppressions import scan_text

    return scan_text(data.decode("utf-8", "replace"))


def _names(code: str, name: str) -> set:
    return {code, name.upper()}


def _apply_suppressions(hits, project: Project, config: Config, loaded: "Loaded"):
    """Split hits into kept and silenced ones (with why); record which suppression comments
    were used (for CL001)."""
    from credlint.facts.suppressions import applies

    kept = []
    silenced = []
    used: Dict[Tuple[str, int], set] = {}
    cache: Dict[str, list] = {}
    for rule_, hit in hits:
        if hit.path not in loaded.wanted:
            continue
        if _per_file_ignored(hit.path, rule_.code, rule_.name, config):
            silenced.append((rule_, hit, ("external", "per-file-ignores in the configuration")))
            continue
        if hit.path not in cache:
            cache[hit.path] = _suppressions_of(hit.path, project, loaded)
        matched = None
        for index, item in enumerate(cache[hit.path]):
            if item.codes and applies(item, hit.pos.line) and _names(rule_.code, rule_.name) & set(item.codes):
                used.setdefault((hit.path, index), set()).update(_names(rule_.code, rule_.name) & set(item.codes))
                matched = matched or item
        if matched is not None:
            where = {"line": "on its line", "next-line": f"on line {matched.line}", "file": "for the whole file"}
            silenced.append((rule_, hit, ("inSource", f"a suppression comment {where.get(matched.scope, '')}".strip())))
            continue
        kept.append((rule_, hit))
    selected = set()
    for rule_ in loaded.rules:
        selected |= _names(rule_.code, rule_.name)
    unused: List[UnusedSuppression] = []
    for rel in sorted(loaded.wanted):
        items = cache[rel] if rel in cache else _suppressions_of(rel, project, loaded)
        for index, item in enumerate(items):
            if not item.codes:
                unused.append(UnusedSuppression(rel, item, []))
                continue
            stale = [c for c in item.codes if c in selected and c not in used.get((rel, index), set())]
            unknown = [c for c in item.codes if c not in loaded.known_codes]
            if stale or unknown:
                unused.append(UnusedSuppression(rel, item, stale, unknown))
    project.unused_suppressions = unused
    return kept, silenced


def _per_file_ignored(rel: str, code: str, name: str, config: Config) -> bool:
    for pattern, codes in config.per_file_ignores.items():
        if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(rel, pattern.rstrip("/") + "/*"):
            if any(code.startswith(c.strip().upper()) or c.strip() == name or c.strip() == "ALL" for c in codes):
                return True
    return False


_STRING_BODY = re.compile(r"""(?P<open>[rRbBuUfF]{0,2}(?P<q>'''|\"\"\"|'|"))(?:\\.|(?!(?P=q)).)*(?P<close>(?P=q)|$)""")


def _mask_line(line: str, spans: List[Tuple[int, int]], literal_only: Sequence[Tuple[int, int]] = ()) -> str:
    """Replace each span's content (columns, 1-based, end exclusive) by a fixed mask.

    `literal_only` spans are masked only where they hold a string literal: a finding placed on
    a name that folds to a secret shows the name."""
    extra = [s for s in literal_only if s not in spans]
    for start, end in sorted(list(spans) + extra, reverse=True):
        start0, end0 = max(start - 1, 0), max(end - 1, 0)
        segment = line[start0:end0]
        quote = re.match(r"[rRbBuUfF]{0,2}('''|\"\"\"|'|\")", segment)
        if (start, end) in extra and not quote:
            continue
        if quote and segment.endswith(quote.group(1)) and len(segment) >= 2 * len(quote.group(1)):
            opening = quote.group(0)
            masked = opening + "********" + quote.group(1)
        else:
            masked = "********"
        line = line[:start0] + masked + line[end0:]
    return line


def _to_findings(hits, project: Project, config: Config, root: Path, cwd: Path, wanted: set,
                 sources: Sources, suppressions: Optional[List[Tuple[str, str]]] = None) -> List[Finding]:
    from credlint.facts.types import Pos

    findings: List[Finding] = []
    seen = set()
    lines_cache: Dict[str, List[str]] = {}

    def lines_of(rel: str) -> List[str]:
        if rel not in lines_cache:
            data = sources.get(rel) or b""
            # Lines as Python and libcst count them: only \n (and \r\n) end a line, not \f or \v.
            lines_cache[rel] = [line.rstrip("\r") for line in data.decode("utf-8", "replace").split("\n")]
        return lines_cache[rel]

    for number, (rule_, hit) in enumerate(hits):
        if hit.path not in wanted:
            continue
        module = project.modules.get(hit.path)
        pos = hit.pos if hit.pos.line else Pos(1, 1, 1, 1)
        key = (rule_.code, hit.path, pos.line, pos.column, hit.message)
        if key in seen:
            continue
        seen.add(key)
        text_lines = lines_of(hit.path)
        masks: Dict[int, List[Tuple[int, int]]] = {}
        forced_masks: Dict[int, List[Tuple[int, int]]] = {}
        for match in project.pattern_hits.get(hit.path, ()):
            # A known credential format is masked wherever it shows, string or comment.
            for line_no in range(match.line, match.end_line + 1):
                start = match.column if line_no == match.line else 1
                end = match.end_column if line_no == match.end_line else 10 ** 6
                forced_masks.setdefault(line_no, []).append((start, end))
        if module is not None:
            for span in module.sensitive:
                if span.line == span.end_line:
                    masks.setdefault(span.line, []).append((span.column, span.end_column))
                else:
                    for line_no in range(span.line, span.end_line + 1):
                        masks.setdefault(line_no, []).append((1, 10 ** 6))
        literal_only: List[Tuple[int, int]] = []
        if hit.mask and pos.line == pos.end_line:
            literal_only.append((pos.column, pos.end_column))
        snippet = []
        last = min(pos.end_line or pos.line, pos.line + 2)
        unanalysed = module is None or module.error is not None
        for line_no in range(pos.line, last + 1):
            if 1 <= line_no <= len(text_lines):
                text = text_lines[line_no - 1]
                forced = _merge(forced_masks.get(line_no, []))
                if not hit.path.endswith(".py"):
                    # A deployment file: show where the variable is, never what it is set to.
                    anchor = pos.column - 1 if line_no == pos.line and not forced and pos.column else None
                    snippet.append(_mask_config_line(_mask_spans(text, forced), anchor))
                    continue
                if unanalysed:
                    # Nothing is known about this file's values: show no string's content.
                    snippet.append(_STRING_BODY.sub(r"\g<open>********\g<close>", _mask_spans(text, forced)))
                    continue
                snippet.append(_mask_line(text, _merge(masks.get(line_no, []) + forced),
                                          literal_only if line_no == pos.line else ()))
        caret = None
        if snippet and 1 <= pos.line <= len(text_lines):
            start = max(pos.column - 1, 0)
            end = pos.end_column - 1 if (pos.end_line or pos.line) == pos.line and pos.end_column > pos.column \
                else len(text_lines[pos.line - 1].rstrip())
            caret = _caret(text_lines[pos.line - 1], snippet[0], start, end)
        display = _display(root / hit.path, cwd)
        findings.append(Finding(
            code=rule_.code, name=rule_.name, severity=hit.severity or rule_.severity, path=display,
            line=pos.line, column=pos.column, end_line=pos.end_line or pos.line,
            end_column=pos.end_column or pos.column, message=hit.message, secret=hit.secret, flow=hit.flow,
            symbol=hit.symbol, fix=hit.fix, snippet=snippet, project_path=hit.path,
            suppression=suppressions[number] if suppressions is not None else None, caret=caret,
        ))
    findings.sort(key=Finding.sort_key)
    from credlint.findings.report import anchor as fingerprint_anchor

    occurrences: Dict[Tuple, int] = {}
    for finding in findings:
        # Made from what the report shows (the masked line), never from the source's raw text.
        rel = _rel(cwd / finding.path, root) or finding.path
        base = (finding.code, rel, finding.secret, finding.flow, finding.symbol, fingerprint_anchor(finding))
        occurrence = occurrences.get(base, 0)
        occurrences[base] = occurrence + 1
        finding.fingerprint = fingerprint(finding, rel, occurrence)
    return findings


def _caret(original: str, shown: str, start: int, end: int) -> Tuple[int, int]:
    """Columns (0-based, end exclusive) of [start, end) of `original` in its masked form: a mask
    is shorter or longer than what it hides, so the marker under a snippet moves with it."""
    if original == shown:
        return start, max(end, start + 1)
    import difflib

    blocks = difflib.SequenceMatcher(None, original, shown, autojunk=False).get_opcodes()

    def where(column: int, closing: bool) -> int:
        for tag, a0, a1, b0, b1 in blocks:
            if a0 <= column < a1 or (closing and column == a1):
                if tag == "equal":
                    return b0 + (column - a0)
                return b1 if closing else b0  # inside a masked span: cover the whole mask
        return len(shown)

    new_start = where(start, False)
    return new_start, max(where(end, True), new_start + 1)


def _mask_spans(line: str, spans: List[Tuple[int, int]]) -> str:
    """Replace exact column spans (1-based, end exclusive) by a fixed mask."""
    for start, end in sorted(spans, reverse=True):
        line = line[:max(start - 1, 0)] + "********" + line[max(end - 1, 0):]
    return line


def _merge(spans: List[Tuple[int, int]]) -> List[Tuple[int, int]]:
    merged: List[Tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _mask_config_line(line: str, anchor: Optional[int] = None) -> str:
    """A line of a non-Python file with every value masked, option values (an agent's `--key`)
    and each assignment's alike (`credlint.findings.configmask`); `anchor` is the finding's 0-based column."""
    from credlint.findings.configmask import mask_config_line

    return mask_config_line(line, anchor)
