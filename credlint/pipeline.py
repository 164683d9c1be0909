"""One run of the pipeline: files -> facts -> project model -> rules -> findings, in that order,
once. The only place that knows the order.

It reads the whole project (providers may live anywhere under the root) and reports findings
only for the paths asked about. Reusing an earlier answer (the kept report, a server) is not its
business: `credlint.api` tries those before calling it.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Tuple

from credlint.config import Config
from credlint.errors import UsageError
from credlint.files.paths import display_path, displayer
from credlint.files.plan import Plan
from credlint.findings.locate import to_findings
from credlint.findings.report import Report, Run
from credlint.findings.sources import Sources
from credlint.findings.suppress import apply_suppressions, per_file_ignored, rule_names
from credlint.options import Options

if TYPE_CHECKING:  # a reused report needs none of the analysis: it is imported when it runs
    from credlint.engine.rule import Hit, Rule
    from credlint.model.project import Project


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
        return display_path(self.root / rel, self.cwd)


def load_plan(plan: Plan, options: Options, progress: Optional[Callable[[str, int], None]] = None,
              early=None, namespace: Optional[str] = None) -> Loaded:
    """Files -> facts -> the project model: every file's facts (from the cache, or computed by
    workers; `early` is a worker already started, see `api`), linked into one project. `namespace`
    is the facts cache's, when the caller has computed it already."""
    from credlint.prefect.catalogue import builtin_catalogue
    from credlint.store.gather import gather
    from credlint.model.project import Project
    from credlint.model.types import FileError

    root, config, files = plan.root, plan.config, plan.files
    cache = None
    if options.caching:
        from credlint.store.cache import FactsCache, facts_namespace

        catalogue = builtin_catalogue(snapshot_dir=plan.cache_dir)
        space = namespace if namespace is not None else facts_namespace(config)
        cache = FactsCache.open(plan.cache_dir, space)  # read while `early` imports the parser
    else:
        catalogue = builtin_catalogue()
    chosen, every = choose_rules(config, root, options)
    wanted_set = set(plan.wanted)
    explicit, stdin_rel = plan.explicit, plan.stdin_rel

    gathered = gather(files, config, catalogue, cache=cache, jobs=options.jobs, prefilter=options.prefilter,
                      stdin=(stdin_rel, options.stdin[1]) if stdin_rel is not None else None, buffers=plan.buffers,
                      progress=(lambda rel: progress(rel, 0) if rel in wanted_set else None)
                      if progress is not None else None, stats=plan.stats, early=early)
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
    for rule_ in every:
        known |= rule_names(rule_.code, rule_.name)
    return Loaded(project, config, root, plan.cwd, wanted_set, sources, chosen, stats,
                  read_failures=len(failed) + len(plan.unlisted), known_codes=known)


def run_rules(loaded: Loaded, options: Options, elsewhere=None) -> Run:
    """The rules on the project model, then their hits made into findings: suppressions applied
    (rules that report on suppressions run after the others), masked, fingerprinted, and the
    automatic fixes' safety noted (with `elsewhere`, a second process's help: `fixes.annotate`)."""
    from credlint.engine.fixtures import run_rule

    project, config, root, cwd = loaded.project, loaded.config, loaded.root, loaded.cwd
    hits: List[Tuple[Rule, Hit]] = []
    post = [r for r in loaded.rules if "suppression" in r.fixtures]
    for rule_ in loaded.rules:
        if rule_ in post:
            continue
        for hit in run_rule(rule_, project):
            hits.append((rule_, hit))
    kept, silenced = apply_suppressions(hits, project, config, loaded.wanted, loaded.sources, loaded.rules,
                                         loaded.known_codes)
    if post:
        for rule_ in post:
            for hit in run_rule(rule_, project):
                if per_file_ignored(hit.path, rule_.code, rule_.name, config):
                    silenced.append((rule_, hit, ("external", "per-file-ignores in the configuration")))
                else:
                    kept.append((rule_, hit))
    findings = to_findings(kept, project, config, root, cwd, loaded.wanted, loaded.sources)
    from credlint.fixes import FIXABLE

    if options.fixes and any(f.code in FIXABLE for f in findings):  # the fixers (libcst, readers) only when needed
        from credlint.fixes import annotate

        annotate(findings, cwd, options.stdin, facts=lambda f: project.modules.get(f.project_path),
                 prefect=config.prefect, elsewhere=elsewhere)  # `fix_safety`, kept with the report (memo, server)
    quiet = to_findings([(r, h) for r, h, _ in silenced], project, config, root, cwd, loaded.wanted,
                         loaded.sources, [why for _, _, why in silenced])
    checked = sorted(r for r in loaded.wanted if r.endswith(".py"))
    shown = displayer(root, cwd)
    display = sorted(shown(r) for r in checked)
    from credlint.model.flows import summary

    kind_of = file_kind(project)
    run = Run(Report(findings=findings, files=len(checked), suppressed=len(quiet),
                     checked_paths=checked, checked_paths_display=display, suppressed_findings=quiet,
                     flows=summary(project.flows, loaded.wanted, shown, project.modules),
                     files_by_kind=dict(Counter(kind_of(rel) for rel in set(loaded.wanted))),
                     kinds={f.path: kind_of(f.project_path) for f in findings + quiet if f.project_path}),
              config, root, loaded.rules, loaded.stats)
    return run


def file_kind(project: Project) -> Callable[[str], str]:
    """A root-relative path -> "Python", "deployment" or "other" (read for key formats only)."""
    deploy = project.deploy_by_path
    return lambda rel: "Python" if rel in project.modules or rel.endswith(".py") else \
        "deployment" if rel in deploy else "other"


def rules_for(where, options: Options) -> List[Rule]:
    """The rules a check of `where` (a `Head` or `Plan`) with these options runs."""
    return choose_rules(where.config, where.root, options)[0]


def choose_rules(config: Config, root: Path, options: Options) -> Tuple[List[Rule], List[Rule]]:
    """The selected rules, and every rule (whose codes suppression comments may name): the
    users' rule files are collected, so run, once. Unknown selectors are a usage or configuration
    error."""
    from credlint.engine.collect import collect_rules
    from credlint.engine.selection import select_rules, unknown_selectors

    all_rules = collect_rules([root / d for d in config.rules])
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
    chosen = select_rules(all_rules, effective_select(options, config),
                          options.ignore if options.ignore is not None else config.ignore)
    return chosen, all_rules


def effective_select(options: Options, config: Config) -> List[str]:
    """`--select` replaces the configured `select`, `--extend-select` adds to it. Empty means
    every rule, which extending cannot widen."""
    select = list(options.select if options.select is not None else config.select)
    return select + list(options.extend_select) if select else []
