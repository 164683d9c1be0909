"""`credlint rules --test DIR`: the examples of the rules in a user's own rules folder, each run as
a small project of its own through the whole pipeline, as the test suite runs the built-in ones,
and checked by the engine (`credlint.engine.examples`)."""
from __future__ import annotations

import json
import tempfile
import textwrap
from pathlib import Path
from typing import List, TextIO

from credlint.api import check
from credlint.config import ConfigError
from credlint.engine.collect import collect_rules
from credlint.engine.examples import example_problems, examples_of
from credlint.engine.rule import Example
from credlint.errors import UsageError
from credlint.options import Options
from credlint.reporters.text import safe


def run_folder_examples(folder: Path, out: TextIO) -> int:
    """Run the examples of every rule in `folder` and print one line per example: 0 when all
    pass, 1 when one fails. A folder that does not exist or a rule file that does not import is
    a RuleError, and a folder without rules a UsageError (exit 2), before any example runs."""
    rules = [r for r in collect_rules([folder]) if not r.origin.startswith("credlint.rules.")]
    if not rules:
        raise UsageError(f"{folder}: no rules here (a rule is a check_* function with @rule(code, name))")
    folder = Path(folder).resolve()  # the example projects are made elsewhere
    passed = failed = 0
    for rule_ in rules:
        label = f"{rule_.code} {rule_.name}"
        if not rule_.bad and not rule_.good:
            failed += 1
            out.write(f"FAIL {safe(label)}: no examples (give it bad=[Invalid(...)] and good=[Valid(...)])\n")
            continue
        for kind, index, example in examples_of(rule_):
            title = f" ({example.title})" if example.title else ""
            try:
                problems = example_problems(rule_, kind, example, _findings(folder, example))
            except (ConfigError, UsageError) as exc:
                problems = [f"the example project cannot be checked: {exc}"]
            except Exception as exc:  # noqa: BLE001 - a user's rule may fail in any way: that example fails
                problems = [f"checking it raised {type(exc).__name__}: {exc}"]
            if problems:
                failed += 1
                out.write(f"FAIL {safe(label)}: {kind} example {index + 1}{safe(title)}: {safe('; '.join(problems))}\n")
            else:
                passed += 1
                out.write(f"ok   {safe(label)}: {kind} example {index + 1}{safe(title)}\n")
    count = passed + failed
    out.write(f"{count} example{'' if count == 1 else 's'} of {len(rules)} rule{'' if len(rules) == 1 else 's'}: "
              f"{passed} passed, {failed} failed\n")
    return 1 if failed else 0


def _findings(folder: Path, example: Example) -> List:
    """Every finding of a check of the example project, with the folder's rules configured."""
    with tempfile.TemporaryDirectory(prefix="credlint-example-") as temporary:
        root = Path(temporary)
        (root / ".git").mkdir()  # the project root: no configuration above it applies
        for rel, text in example.file_map.items():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        config = f"rules = [{json.dumps(str(folder))}]\n" + textwrap.dedent(example.config).lstrip("\n")
        (root / "credlint.toml").write_text(config, encoding="utf-8")
        return check(Options(paths=[str(root)], cache=False, server=False)).report.findings
