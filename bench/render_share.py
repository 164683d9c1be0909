"""What rendering each report format costs next to the cold check that made the report.

    python bench/render_share.py TREE --formats full,concise,sarif,github [--jobs N] [--out FILE]

In one process: `credlint.api.check` on TREE, cold (no cache, no server), timed with the import
of `credlint.api`; then each format's reporter (`credlint.reporters.get_reporter`, its import
included, as a command-line run pays it) writes that run's report to /dev/null, timed one after
the other, with the options `credlint check` gives it. The check names fixes (`Options.fixes`)
when a format that shows them is asked for, as `credlint check` does: bench/run.py runs this once
for the formats without fixes and once for those with them. Prints, or writes to FILE, one JSON
object: the check's seconds, CPU seconds, workers, findings and each format's render seconds.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tree")
    parser.add_argument("--formats", required=True, help="comma-separated report formats")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: credlint's)")
    parser.add_argument("--out", help="write the JSON here instead of standard output")
    args = parser.parse_args()
    formats = [name for name in args.formats.split(",") if name]
    os.environ.pop("GITHUB_STEP_SUMMARY", None)  # the github format would append a summary there

    started, cpu_started = time.perf_counter(), time.process_time()
    from credlint import __version__
    from credlint.api import Options, check
    from credlint.reporters import FIX_FORMATS, get_reporter

    run = check(Options(paths=[args.tree], jobs=args.jobs, cache=False, server=False,
                        fixes=any(name in FIX_FORMATS for name in formats)))
    cold, cold_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    result = {"check_seconds": cold, "check_cpu_seconds": cold_cpu, "workers": run.stats.get("workers"),
              "findings": len(run.report.findings), "files": run.report.files, "render": {}}
    for name in formats:
        options = dict(quiet=False, statistics=False, elapsed=cold, header=f"credlint {__version__} · {run.root}",
                       rules=run.rules, root=run.root, docs_url=run.config.docs_url)
        with open(os.devnull, "w", encoding="utf-8") as out:
            began, cpu_began = time.perf_counter(), time.process_time()
            get_reporter(name)(run.report, out, color=False, **options)
            out.flush()
            result["render"][name] = {"seconds": time.perf_counter() - began,
                                      "cpu_seconds": time.process_time() - cpu_began}
    text = json.dumps(result, indent=2) + "\n"
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
