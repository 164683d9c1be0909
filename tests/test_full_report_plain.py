"""The full report written to a pipe or a file is plain text made without rich (rich costs about
half a millisecond a finding): it must be the very bytes rich writes there, for any report."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from credlint.findings.report import Finding, Report
from credlint.reporters.full import render


def _finding(path="flows/etl.py", message="Secret 'X' is read at import", **extra) -> Finding:
    values = dict(code="CL301", name="secret-at-build-time", severity="error", path=path, line=12, column=9,
                  end_line=12, end_column=30, message=message, fix="read it inside the task",
                  snippet=["    token = Secret(\"X\").get()", "    return token"], caret=(12, 29))
    values.update(extra)
    return Finding(**values)


LONG = "pkg/" + "/".join(f"very_long_folder_name_{i}" for i in range(8)) + "/flow.py"
CASES = {
    "empty": Report(findings=[], files=3),
    "plain": Report(findings=[_finding(), _finding(severity="warning", code="CL401", name="missing-block",
                                                   fix="", snippet=[])], files=2, suppressed=1,
                    flows={"found": 2, "not_followed": [{"path": "flows/x.py", "line": 3, "reason": "built by a "
                                                         "helper [dim]we cannot follow[/]"}]},
                    files_by_kind={"Python": 2, "deployment": 1}),
    "long path": Report(findings=[_finding(path=LONG)], files=1),
    "long header": Report(findings=[_finding(path="a.py")], files=1),
    "wide characters": Report(findings=[_finding(path="flows/\u6570\u636e\u6d41/\u4efb\u52a1.py",
                                                 message="\u5bc6\u7801 in \u4efb\u52a1 [bold]x[/bold]")], files=1),
    "markup, tabs and controls": Report(findings=[_finding(
        path="flows/[red]x[/red].py", message="a\ttab, a [link=http://x]link[/link] and \x1b[31mred\x1b[0m",
        fix="use \\[this] not [that]", snippet=["\tkey = '[bold]'\t# x", "more  "], caret=(1, 4))], files=1),
    "emoji codes": Report(findings=[_finding(message="a :key: and :warning: in a message")], files=1),
    "a caret past the end": Report(findings=[_finding(snippet=["x = 1"], caret=(3, 40))], files=1),
    "many": Report(findings=[_finding(path=f"d{i % 7}/f.py", line=i + 1) for i in range(60)], files=7),
}


@pytest.mark.parametrize("statistics", [False, True])
@pytest.mark.parametrize("name", sorted(CASES))
def test_plain_text_is_what_rich_writes(name, statistics):
    report = CASES[name]
    header = "credlint 0.1.0 \u00b7 " + ("/" + LONG * 2 if name == "long header" else "/home/ci/project")
    outputs = []
    for drawn_by in ("rich", "plain"):
        out = io.StringIO()
        render(report, out, header=header, statistics=statistics, elapsed=0.25, drawn_by=drawn_by)
        outputs.append(out.getvalue())
    assert outputs[1] == outputs[0]


def test_a_pipe_gets_plain_text_and_a_terminal_rich():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    report = CASES["plain"]
    piped, terminal = io.StringIO(), Terminal()
    render(report, piped)
    render(report, terminal, color=True)
    assert "\x1b[" not in piped.getvalue() and "\x1b[" in terminal.getvalue()


def test_plain_text_never_loads_richs_markup():
    """A report written to a pipe needs no markup, and does not pay rich's markup import for it."""
    import subprocess
    import sys

    probe = ("import io, sys\nfrom credlint.reporters.full import render\nfrom test_full_report_plain import CASES\n"
             "render(CASES['markup, tabs and controls'], io.StringIO(), header='h', statistics=True, elapsed=0.1)\n"
             "print('rich.markup' in sys.modules)\n")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                          cwd=str(Path(__file__).resolve().parent))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
