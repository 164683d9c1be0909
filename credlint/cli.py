"""The command line: `credlint check | rules | explain | ...`. Exit codes: 0 clean, 1 findings, 2 errors."""
from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from credlint import __version__
from credlint.errors import UsageError
from credlint.prefect.names import AGENT_TYPES


def _split(values: Optional[List[str]]) -> Optional[List[str]]:
    if values is None:
        return None
    out: List[str] = []
    for value in values:
        out.extend(v.strip() for v in value.split(",") if v.strip())
    return out


def _safe(text: str) -> str:
    """A message that names users' paths or keys, made harmless for the terminal."""
    from credlint.reporters.text import safe

    return safe(text)


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def _outputs(args) -> List[Tuple[str, Optional[str]]]:
    """(format, file or None for stdout) for every report this run writes."""
    from credlint.reporters import FORMATS

    if not args.outputs:
        return [(args.format, args.output)]
    outputs: List[Tuple[str, Optional[str]]] = []
    for spec in args.outputs:
        name, _, target = spec.partition(":")
        name = name.strip()
        if name not in FORMATS:
            raise UsageError(f"--output-format {spec}: unknown format {name!r} (one of {', '.join(FORMATS)})")
        outputs.append((name, target or None))
    if args.output or args.format != "full":
        # --format/--output still name a report of their own next to --output-format ones.
        outputs.insert(0, (args.format, args.output))
    to_stdout = [name for name, target in outputs if target is None]
    if len(to_stdout) > 1:
        raise UsageError(f"more than one report to standard output ({', '.join(to_stdout)}): give all but one a FILE")
    return outputs


def _reading_options(command: argparse.ArgumentParser) -> None:
    """How a command reads the project: workers and cache (check, inventory, preflight)."""
    command.add_argument("--jobs", "-j", type=_positive, metavar="N",
                         help="processes for per-file analysis (default: the cores free for it)")
    command.add_argument("--no-cache", action="store_true",
                         help="neither read nor write the cache (also CREDLINT_NO_CACHE=1)")
    command.add_argument("--cache-dir", metavar="DIR", help="where the cache lives (default: .credlint_cache/ "
                                                            "at the project root; also CREDLINT_CACHE_DIR)")


def _reading(args) -> dict:
    """Options() arguments for `_reading_options`, with their environment variables."""
    return dict(jobs=args.jobs, cache=not (args.no_cache or getattr(args, "no_prefilter", False)
                                           or _env_flag("CREDLINT_NO_CACHE")),
                cache_dir=args.cache_dir or os.environ.get("CREDLINT_CACHE_DIR") or None)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="credlint",
        description="Which credentials each Prefect 1.x flow needs, where they come from, and what leaks.",
    )
    parser.add_argument("--version", action="version", version=f"credlint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = sub.add_parser("check", help="lint flows (default: the current folder)")
    check.add_argument("paths", nargs="*", default=["."], help="files or folders to report on")
    check.add_argument("--format", choices=("full", "concise", "json", "json-lines", "sarif", "github"),
                       default="full")
    check.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    check.add_argument("--output-format", action="append", metavar="FORMAT[:FILE]", dest="outputs",
                       help="one more report: a format, written to FILE or (without FILE) to stdout; "
                            "repeatable, e.g. --output-format sarif:credlint.sarif --output-format full")
    check.add_argument("--stdin-filename", metavar="PATH",
                       help="read the file's content from standard input and check it as if it were PATH "
                            "(editors: the unsaved buffer, within the project's context)")
    _reading_options(check)
    check.add_argument("--no-prefilter", action="store_true", help=argparse.SUPPRESS)  # parse every file (tests)
    check.add_argument("--no-server", action="store_true",
                       help="do the work in this process even if a `credlint server` is running "
                            "(also CREDLINT_NO_SERVER=1)")
    check.add_argument("--select", action="append", metavar="CODES", help="rules to run: codes, prefixes or names")
    check.add_argument("--ignore", action="append", metavar="CODES", help="rules to skip: codes, prefixes or names")
    check.add_argument("--extend-select", action="append", metavar="CODES",
                       help="rules to run as well as those `select` (configured or --select) chooses")
    check.add_argument("--exclude", action="append", metavar="PATTERN",
                       help="globs of files and folders to skip, instead of the configured `exclude`")
    check.add_argument("--extend-exclude", action="append", metavar="PATTERN",
                       help="globs to skip as well as the configured `exclude` and `extend-exclude`")
    check.add_argument("--show-settings", action="store_true",
                       help="print the resolved settings and where each comes from, then exit without checking")
    check.add_argument("--config", metavar="FILE", help="configuration file (default: found from the project root)")
    check.add_argument("--backend", choices=("cloud", "server"), help="Prefect backend the flows run against")
    check.add_argument("--fail-on", choices=("warning", "error"), help="lowest severity that fails the run")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    check.add_argument("--baseline", metavar="FILE", help="report only findings not recorded in FILE")
    check.add_argument("--write-baseline", metavar="FILE", help="record every current finding in FILE and exit 0")
    check.add_argument("--fix", action="store_true", help="apply the safe fixes, then report what is left")
    check.add_argument("--unsafe-fixes", action="store_true",
                       help="with --fix or --diff: also the fixes that change behaviour")
    check.add_argument("--diff", action="store_true",
                       help="print what --fix would change as a diff (values masked); change nothing")
    check.add_argument("--quiet", "-q", action="store_true", help="findings and the summary only")
    check.add_argument("--statistics", action="store_true",
                       help="count findings per rule: instead of the findings (concise, github), as a "
                            "`statistics` list (json), or a closing section (full)")
    check.add_argument("--color", choices=("auto", "always", "never"), default="auto")

    rules = sub.add_parser("rules", help="list the rules, or test the examples of your own (--test DIR)")
    rules.add_argument("--format", choices=("table", "json"), default="table")
    rules.add_argument("--test", metavar="DIR",
                       help="run the bad and good examples of the rules in your rules folder DIR, one line per "
                            "example: exit 0 when all pass, 1 when one fails, 2 when DIR or a rule file cannot be "
                            "loaded")

    inventory = sub.add_parser("inventory", help="per flow: every secret it needs and where it comes from")
    inventory.add_argument("paths", nargs="*", default=["."])
    inventory.add_argument("--format", choices=("table", "json"), default="table")
    inventory.add_argument("--config", metavar="FILE")
    inventory.add_argument("--backend", choices=("cloud", "server"))
    inventory.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    _reading_options(inventory)

    preflight = sub.add_parser("preflight",
                               help="check this environment provides what the flows need (no values shown)")
    preflight.add_argument("paths", nargs="*", default=["."])
    preflight.add_argument("--flow", metavar="NAME", help="only the flow with this name")
    preflight.add_argument("--agent", choices=AGENT_TYPES,
                           help="apply the forwarding rules of this agent type (default: this process is the flow run)")
    preflight.add_argument("--format", choices=("table", "json"), default="table")
    preflight.add_argument("--config", metavar="FILE")
    preflight.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    preflight.add_argument("--block", action="append", metavar="SLUG/NAME",
                           help="Prefect 2.x/3.x: also check this block document in the workspace at PREFECT_API_URL "
                                "(repeatable; the configured `blocks` are checked too)")
    preflight.add_argument("--variable", action="append", metavar="NAME",
                           help="Prefect 2.x/3.x: also check that this Variable exists in the workspace (repeatable)")
    _reading_options(preflight)

    blocks = sub.add_parser("blocks", help="Prefect 2.x/3.x: the workspace's blocks at PREFECT_API_URL as the "
                                           "config's `blocks = [...]` (names only, never values)")
    blocks.add_argument("path", nargs="?", default=".", help="a folder of the project whose configuration --write "
                                                             "updates (default: the current one)")
    blocks.add_argument("--write", action="store_true",
                        help="set `blocks` in the project's configuration (credlint.toml, .credlint.toml or "
                             "pyproject.toml [tool.credlint]; credlint.toml is created if there is none), "
                             "keeping the rest of the file as it is")
    blocks.add_argument("--config", metavar="FILE", help="the configuration file --write updates")
    blocks.add_argument("--format", choices=("toml", "json"), default="toml")

    catalog = sub.add_parser("catalog", help="what credlint knows about each Prefect 1.4.1 class and each "
                                             "Prefect 2.x/3.x block type")
    catalog.add_argument("symbol", nargs="?", help="one class or function, by any import path, or a block type's slug")
    catalog.add_argument("--format", choices=("table", "json"), default="table")
    catalog.add_argument("--all", action="store_true",
                         help="table: also list the classes that need no credentials (json always lists all)")
    catalog.add_argument("--prefect", choices=("1", "2", "3"),
                         help="list one model only: 1 (the 1.4.1 catalogue), 2 or 3 (its block types); the table "
                              "shows both models by default, json the 1.4.1 catalogue")

    server = sub.add_parser("server", help="keep a process with the project loaded, for fast re-checks "
                                           "(`check` uses it while it runs)")
    server.add_argument("action", choices=("start", "stop", "status"))
    server.add_argument("path", nargs="?", default=".", help="a folder of the project (default: the current one)")
    server.add_argument("--cache-dir", metavar="DIR", help="the cache folder `check` is run with, if not the default "
                                                           "(also CREDLINT_CACHE_DIR)")
    server.add_argument("--idle-timeout", type=_positive, metavar="SECONDS",
                        help="stop after this long without a request (default: 1800)")
    server.add_argument("--foreground", action="store_true",
                        help="start: serve in this process until stopped (for editors and service managers)")

    sub.add_parser("lsp", help="a Language Server over stdio, for editors: diagnostics, quick fixes, hover")

    explain = sub.add_parser("explain", help="show a rule's documentation page")
    explain.add_argument("rule", help="a rule code (CL101) or name (missing-secret)")
    explain.add_argument("--format", choices=("text", "json"), default="text")
    return parser


def _use_color(choice: str, stream) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return hasattr(stream, "isatty") and stream.isatty()


def cmd_check(args) -> int:
    from credlint.reporters import get_reporter
    from credlint.api import Options, check

    select, ignore = _split(args.select), _split(args.ignore)
    settings = dict(exclude=_split(args.exclude), extend_exclude=_split(args.extend_exclude) or [],
                    extend_select=_split(args.extend_select) or [])
    if args.show_settings:
        return show_settings(args, select, ignore, settings)
    outputs = _outputs(args)
    stdin = None
    if args.stdin_filename:
        if any(p not in (".", "-") for p in args.paths):
            raise UsageError("--stdin-filename checks standard input only: give no other paths (or `-`)")
        stdin = (args.stdin_filename, sys.stdin.buffer.read())
    elif "-" in args.paths:
        raise UsageError("`-` reads standard input only with --stdin-filename PATH (the path it stands for)")
    started = time.perf_counter()
    shown = sys.stdout  # the report's stream; standard error when standard output gets the fixed text
    renderers = {name: get_reporter(name) for name, _ in outputs}  # imported while a worker parses

    def run_check(progress=None, text=None):
        """`text`: what standard input stands for after a fix pass (--fix --stdin-filename)."""
        from credlint.reporters import FIX_FORMATS

        read = stdin if text is None else (stdin[0], text)
        return check(Options(paths=args.paths, config_file=args.config, select=select, ignore=ignore,
                             backend=args.backend, fail_on=args.fail_on, prefilter=not args.no_prefilter, stdin=read,
                             server=not (args.no_server or _env_flag("CREDLINT_NO_SERVER")), **settings,
                             fixes=any(name in FIX_FORMATS for name, _ in outputs), **_reading(args)), progress)

    with _progress(args, outputs) as progress:
        run = run_check(progress)
    if args.diff:
        from credlint.tools.fix import show_diff
        from credlint.tools.fix_stdin import show_stdin_diff

        count = (show_diff(run, args.unsafe_fixes, Path.cwd()) if stdin is None
                 else show_stdin_diff(run, args.unsafe_fixes, Path.cwd(), stdin))
        print(f"Would fix {count} finding{'' if count == 1 else 's'}", file=sys.stderr)
        return 2 if run.errors else (1 if count else 0)
    if args.fix and stdin is not None:  # as ruff: the fixed text on stdout, the report on stderr
        from credlint.tools.fix_stdin import print_fixed_stdin

        run = print_fixed_stdin(run, lambda text: run_check(text=text), args.unsafe_fixes, stdin)
        shown = sys.stderr
    elif args.fix:
        from credlint.tools.fix import fix_in_place

        run, count = fix_in_place(run, run_check, args.unsafe_fixes, Path.cwd())
        print(f"Fixed {count} finding{'' if count == 1 else 's'} ({len(run.report.findings)} remaining)",
              file=sys.stderr)
    elapsed = time.perf_counter() - started
    report = run.report
    if args.write_baseline:
        from credlint.findings.baseline import write_baseline

        count = write_baseline(Path(args.write_baseline), report.findings)
        print(f"credlint: recorded {count} finding(s) in {args.write_baseline}", file=sys.stderr)
        return 0
    if args.baseline:
        from credlint.findings.baseline import apply_baseline

        result = apply_baseline(Path(args.baseline), report.findings)
        for note in result.notes:
            print(f"credlint: baseline {args.baseline}: {note}", file=sys.stderr)
        report.findings = result.kept
        report.suppressed_findings.extend(result.known)
        print(f"credlint: baseline {args.baseline}: {result.matched} known finding(s) not shown", file=sys.stderr)
        for code, rel, count in result.stale:
            print(f"credlint: baseline entry no longer matches: {code} in {rel} (x{count}); "
                  f"rewrite the baseline to drop it", file=sys.stderr)
    options = dict(quiet=args.quiet, statistics=args.statistics, elapsed=elapsed,
                   header=f"credlint {__version__} · {run.root}", rules=run.rules, root=run.root,
                   docs_url=run.config.docs_url)
    status = 0
    for name, target in outputs:
        render = renderers[name]
        if target is None:
            render(report, shown, color=_use_color(args.color, shown), **options)
            continue
        buffer = io.StringIO()
        render(report, buffer, color=False, **options)
        try:
            with open(target, "w", encoding="utf-8") as handle:
                handle.write(buffer.getvalue())
        except OSError as exc:
            print(f"credlint: error: cannot write {target}: {exc.strerror}", file=sys.stderr)
            status = 2
    for error in run.errors:  # paths that could not be checked; the others were
        print(f"credlint: error: {_safe(error)}", file=sys.stderr)
    if status or run.errors:
        return 2
    if args.exit_zero:
        return 0
    return 1 if run.failed() else 0


def _is_terminal(stream) -> bool:
    """A stream that is a terminal (None, as sys.stdout is when fd 1 was closed, is not)."""
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def _progress(args, outputs):
    """A progress bar for a full report on a terminal (see `reporters.full.RunProgress`), or
    nothing: pipes, files, CI logs and `--quiet` get no bar."""
    import contextlib

    if args.quiet or not _is_terminal(sys.stdout) or not _is_terminal(sys.stderr) or ("full", None) not in outputs:
        return contextlib.nullcontext(None)
    from credlint.reporters.full import RunProgress

    return RunProgress()


def show_settings(args, select, ignore, settings) -> int:
    """`check --show-settings`: the configuration as a check with these arguments would use it,
    each value with its source (default, the file and line, or the flag), as ruff shows it."""
    from credlint.config import settings_with_sources
    from credlint.files.plan import head_of
    from credlint.options import Options
    from credlint.pipeline import rules_for

    options = Options(paths=[p for p in args.paths if p != "-"] or ["."], config_file=args.config, select=select,
                      ignore=ignore, backend=args.backend, fail_on=args.fail_on, **settings, **_reading(args))
    head = head_of(options)
    flags = {key: flag for key, flag, given in (
        ("select", "--select", select is not None), ("ignore", "--ignore", ignore is not None),
        ("backend", "--backend", args.backend), ("fail-on", "--fail-on", args.fail_on),
        ("exclude", "--exclude", settings["exclude"] is not None),
        ("extend-exclude", "--extend-exclude", settings["extend_exclude"])) if given}
    config = head.config
    if select is not None:
        config.select = list(select)
    if ignore is not None:
        config.ignore = list(ignore)
    rows = settings_with_sources(config, flags)
    extend = settings["extend_select"]
    rows.append(("extend-select", extend, "command line (--extend-select)" if extend else "default"))
    rows.append(("rules run", [r.code for r in rules_for(head, options)], "select + extend-select - ignore"))
    print(f"project root: {_safe(str(head.root))}")
    print(f"configuration file: {_safe(config.path) if config.path else 'none (defaults)'}")
    print(f"cache folder: {_safe(str(head.cache_dir))}")
    width = max(len(key) for key, _, _ in rows)
    for key, value, source in rows:
        print(f"{key:<{width}} = {_safe(json.dumps(value))}  # {_safe(source)}")
    return 0


def cmd_rules(args) -> int:
    if args.test is not None:
        from credlint.tools.rule_examples import run_folder_examples

        return run_folder_examples(Path(args.test), sys.stdout)
    from credlint.engine.collect import collect_rules

    rules = collect_rules()
    if args.format == "json":
        json.dump([{"code": r.code, "name": r.name, "severity": r.severity, "summary": r.summary} for r in rules],
                  sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title="credlint rules", show_lines=False)
    table.add_column("code", no_wrap=True)
    table.add_column("name", no_wrap=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("what it finds")
    for r in rules:
        table.add_row(r.code, r.name, r.severity, r.summary)
    Console(highlight=False).print(table)
    return 0


def cmd_explain(args) -> int:
    from credlint.engine.collect import collect_rules
    from credlint.reporters.rule_page import explain_text

    key = args.rule.strip()
    rules = [r for r in collect_rules() if r.code == key.upper() or r.name == key]
    if not rules:
        print(f"credlint: error: no rule {key!r} (see `credlint rules`)", file=sys.stderr)
        return 2
    r = rules[0]
    sections = r.sections()
    if args.format == "json":
        json.dump({"code": r.code, "name": r.name, "severity": r.severity, "summary": r.summary,
                   "sections": {k: v for k, v in sections.items() if k != "summary"},
                   "bad": [e.file_map for e in r.bad], "good": [e.file_map for e in r.good]},
                  sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if _is_terminal(sys.stdout):  # a terminal reads it rendered; pipes and files get the Markdown as is
        from rich.console import Console
        from rich.markdown import Markdown

        Console(highlight=False).print(Markdown(explain_text(r)))
        return 0
    print(explain_text(r))
    return 0


def cmd_inventory(args) -> int:
    from credlint.tools.inventory import document, render_table
    from credlint.api import Options, load

    loaded = load(Options(paths=args.paths, config_file=args.config, backend=args.backend, **_reading(args)))
    if args.format == "json":
        json.dump(document(loaded), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        render_table(loaded, sys.stdout, _use_color(args.color, sys.stdout))
    return 0


def cmd_preflight(args) -> int:
    from credlint.tools.block_preflight import block_refs, flow_needs, workspace_section
    from credlint.tools.preflight import failed, preflight, read_environment, render_table
    from credlint.api import Options, load

    environment = read_environment(args.agent)
    backend = environment.backend if environment.backend in ("cloud", "server") else None
    explicit = block_refs(_split(args.block) or [], "--block ")
    loaded = load(Options(paths=args.paths, config_file=args.config, backend=backend, **_reading(args)))
    document = preflight(loaded, environment, args.flow)
    section = workspace_section(block_refs(loaded.config.blocks or []) + explicit, _split(args.variable) or [],
                                explicit=bool(explicit or args.variable), needed=flow_needs(loaded, args.flow))
    if section is not None:  # Prefect 2.x/3.x names to check: the workspace's answer beside the 1.x flows
        document["workspace"] = section
    if args.format == "json":
        json.dump(document, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        render_table(document, sys.stdout, _use_color(args.color, sys.stdout))
    return 1 if failed(document) else 0


def cmd_blocks(args) -> int:
    from credlint.tools.blocks import run_blocks

    return run_blocks(Path(args.path), args.write, args.config, args.format, sys.stdout, sys.stderr)


def cmd_catalog(args) -> int:
    from credlint.prefect.catalogue import builtin_catalogue
    from credlint.tools.catalog import (did_you_mean, find_blocks, listed_blocks, render_block, render_block_table,
                                        render_entry, render_table)

    catalogue = builtin_catalogue()
    blocks = []  # Prefect 2.x/3.x block types to show
    if args.symbol:
        entry = catalogue.lookup(args.symbol.strip())
        blocks = find_blocks(args.symbol) if entry is None else []
        if entry is None and not blocks:
            print(f"credlint: error: {_safe(args.symbol)} is not in the catalogue{did_you_mean(catalogue, args.symbol)}",
                  file=sys.stderr)
            return 2
        entries = [entry] if entry is not None else []
    else:
        entries = [] if args.prefect in ("2", "3") else [
            e for e in catalogue if e.credentials or args.all or args.format == "json"]
        if args.prefect in ("2", "3") or (args.prefect is None and args.format == "table"):
            blocks = listed_blocks(args.prefect or "", args.all or args.format == "json")
    if args.format == "json":
        data = [e.to_json() for e in entries] + [b.to_json() for b in blocks]
        json.dump(data[0] if args.symbol and len(data) == 1 else data, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif args.symbol:
        for shown in entries:
            render_entry(shown)
        for shown in blocks:
            render_block(shown)
    else:
        if entries or args.prefect == "1":
            render_table(entries)
        if blocks:
            render_block_table(blocks)
    return 0


def cmd_server(args) -> int:
    from credlint.files.plan import head_of
    from credlint.speed import client
    from credlint.tools import server
    from credlint.options import Options

    if not client.supported():
        raise UsageError("credlint server needs Linux (it checks who connects with SO_PEERCRED)")
    head = head_of(Options(paths=[args.path], cache_dir=args.cache_dir or os.environ.get("CREDLINT_CACHE_DIR") or None))
    head.cache_dir = head.cache_dir.resolve()  # a detached server works from /
    where = _safe(f"{head.root} (cache {head.cache_dir})")
    if args.action == "status":
        answer = client.status(head.cache_dir)
        if answer is None:
            print(f"credlint: no server running for {where}")
            return 1
        print(f"credlint: server running for {where}: pid {answer['pid']}, {answer['requests']} check(s) "
              f"answered, up {time.time() - answer['started']:.0f} s, stops after {answer['idle_timeout']:.0f} s idle")
        return 0
    if args.action == "stop":
        if not client.stop(head.cache_dir):
            print(f"credlint: no server running for {where}")
            return 1
        print(f"credlint: server for {where} stopped")
        return 0
    idle = float(args.idle_timeout or server.DEFAULT_IDLE_TIMEOUT)
    answer = client.status(head.cache_dir)
    if answer is not None:
        print(f"credlint: a server is already running for {where} (pid {answer['pid']})")
        return 0
    try:
        if args.foreground:
            return server.run_server(head.cache_dir, idle, ready=lambda: print(
                f"credlint: serving {where} (pid {os.getpid()}); Ctrl-C or `credlint server stop` stops it",
                flush=True))
        pid = server.start_detached(head.cache_dir, idle)
    except (OSError, RuntimeError) as exc:
        raise UsageError(f"cannot start the server: {exc}") from exc
    if pid is None:
        raise UsageError("the server did not start (see `credlint server start --foreground` for why)")
    print(f"credlint: server started for {where} (pid {pid}); `credlint check` uses it until "
          f"`credlint server stop` or {idle:.0f} s without a request")
    return 0


def cmd_lsp(args) -> int:
    try:
        from credlint.tools.lsp.server import serve
    except ImportError as exc:
        raise UsageError(f"`credlint lsp` needs pygls 2 ({exc.name or 'pygls'} is missing): pip install 'pygls>=2,<3'") \
            from exc
    return serve()


def main(argv: Optional[Sequence[str]] = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:1] == ["check"]:
        from credlint.store.early import EarlyWorker

        EarlyWorker.prestart(words)  # before anything else: the run claims it, or it is stopped below
        try:
            return _main(argv)
        finally:
            EarlyWorker.discard()
    return _main(argv)


def _main(argv: Optional[Sequence[str]]) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    handler = {"check": cmd_check, "rules": cmd_rules, "explain": cmd_explain, "catalog": cmd_catalog,
               "inventory": cmd_inventory, "preflight": cmd_preflight, "server": cmd_server, "lsp": cmd_lsp,
               "blocks": cmd_blocks}[args.command]
    from credlint.config import ConfigError
    from credlint.errors import RuleError

    try:
        return handler(args)
    except ConfigError as exc:
        print(f"credlint: configuration error: {_safe(str(exc))}", file=sys.stderr)
        return 2
    except (UsageError, RuleError) as exc:
        print(f"credlint: error: {_safe(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - last resort: never a traceback with file contents
        print(f"credlint: internal error: {type(exc).__name__} (please report it)", file=sys.stderr)
        if os.environ.get("CREDLINT_DEBUG"):
            raise
        return 2
