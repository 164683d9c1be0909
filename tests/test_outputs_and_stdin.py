"""Several reports from one run, suppressed findings in SARIF, and editor buffers on stdin."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import _env, run_cli
from test_formats import SCHEMA
from test_secrets_never_leak import assert_no_leak

PASSWORD = "Zq8uPw7731xKmN"  # planted, well-formed, never to be shown
FLOW = f'''
from prefect import Flow
from prefect.tasks.snowflake import SnowflakeQuery

with Flow("load") as flow:
    SnowflakeQuery(account="a", user="u", password="{PASSWORD}", query="q")()  # credlint: ignore[CL201]
    SnowflakeQuery(account="a", user="u", password="{PASSWORD}", query="q")()
'''
LEGACY = f'''
from prefect.tasks.snowflake import SnowflakeQuery

q = SnowflakeQuery(account="a", user="u", password="{PASSWORD}", query="q")
'''


@pytest.fixture
def ci_project(project):
    project({"flows/load.py": FLOW, "legacy/old.py": LEGACY},
            config='[per-file-ignores]\n"legacy/*" = ["CL201"]\n')
    return project


def test_one_run_writes_a_sarif_file_and_a_readable_log(ci_project):
    code, out, err = run_cli("check", "--output-format", "sarif:credlint.sarif", "--output-format", "concise", ".",
                             cwd=ci_project.root)
    assert code == 1, err
    assert out.startswith("flows/load.py:6:") and "CL201" in out and out.count("\n") == 1
    document = json.loads((ci_project.root / "credlint.sarif").read_text())
    assert document["version"] == "2.1.0"
    assert_no_leak("sarif file", (ci_project.root / "credlint.sarif").read_text())
    assert_no_leak("stdout", out)


def test_format_and_output_still_name_a_report_next_to_output_format(ci_project):
    code, out, err = run_cli("check", "--format", "json", "--output-format", "json-lines:findings.jsonl", ".",
                             cwd=ci_project.root)
    assert code == 1, err
    assert json.loads(out)["summary"]["findings"] == 1
    lines = (ci_project.root / "findings.jsonl").read_text().splitlines()
    assert [json.loads(line)["code"] for line in lines] == ["CL201"]


@pytest.mark.parametrize("args, message", [
    (["--output-format", "full", "--output-format", "concise"], "more than one report to standard output"),
    (["--output-format", "xml:out.xml"], "unknown format 'xml'"),
])
def test_output_format_mistakes_are_usage_errors(ci_project, args, message):
    code, _, err = run_cli("check", *args, ".", cwd=ci_project.root)
    assert code == 2 and message in err


def test_an_unwritable_report_is_an_error_but_the_others_are_written(ci_project):
    code, out, err = run_cli("check", "--output-format", "sarif:missing/dir/x.sarif", "--output-format", "concise",
                             ".", cwd=ci_project.root)
    assert code == 2 and "cannot write missing/dir/x.sarif" in err and "CL201" in out


def test_sarif_keeps_suppressed_findings_as_suppressed_results(ci_project):
    import jsonschema
    run_cli("check", "--write-baseline", "baseline.json", "flows/", cwd=ci_project.root)
    code, out, err = run_cli("check", "--format", "sarif", "--baseline", "baseline.json", ".", cwd=ci_project.root)
    assert code == 0, err  # everything left is known or silenced
    document = json.loads(out)
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(document)
    results = document["runs"][0]["results"]
    kinds = sorted((r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                    r["locations"][0]["physicalLocation"]["region"]["startLine"],
                    r["suppressions"][0]["kind"], r["suppressions"][0]["justification"]) for r in results)
    assert kinds == [
        ("flows/load.py", 5, "inSource", "a suppression comment on its line"),
        ("flows/load.py", 6, "external", "recorded in the baseline baseline.json"),
        ("legacy/old.py", 3, "external", "per-file-ignores in the configuration"),
    ]
    assert_no_leak("sarif with suppressions", out)
    # The other formats never show suppressed findings.
    code, out, _ = run_cli("check", "--format", "json", ".", cwd=ci_project.root)
    assert [(f["path"], f["line"]) for f in json.loads(out)["findings"]] == [("flows/load.py", 6)]


def _stdin(args, text, cwd):
    proc = subprocess.run([sys.executable, "-m", "credlint", "check", *args], input=text.encode(), cwd=str(cwd),
                          env=_env(), capture_output=True, timeout=120)
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def test_stdin_is_checked_as_the_named_file_in_its_project(ci_project):
    # The buffer differs from the file on disk: the buffer is what counts.
    buffer = FLOW.lstrip("\n").replace("  # credlint: ignore[CL201]", "")
    code, out, err = _stdin(["--stdin-filename", "flows/load.py", "--format", "json"], buffer, ci_project.root)
    assert code == 1, err
    found = json.loads(out)["findings"]
    assert [(f["code"], f["path"], f["line"]) for f in found] == [("CL201", "flows/load.py", 5),
                                                                  ("CL201", "flows/load.py", 6)]
    assert_no_leak("stdin json", out)
    # The disk version is unchanged and still reads as before, cache or not.
    code, out, _ = run_cli("check", "--format", "concise", "flows/load.py", cwd=ci_project.root)
    assert out.count("CL201") == 1


def test_stdin_uses_providers_from_the_rest_of_the_project(project):
    project({"deploy/start.sh": "prefect agent local start -e PREFECT__CONTEXT__SECRETS__SLACK_WEBHOOK_URL=\"$H\"\n"})
    flow = ('from prefect import Flow\nfrom prefect.tasks.notifications.slack_task import SlackTask\n'
            'with Flow("n") as flow:\n    SlackTask()(message="m")\n')
    code, out, err = _stdin(["--stdin-filename", "flows/new_unsaved.py", "-", "--format", "concise"], flow,
                            project.root)
    assert code == 0 and out == "", (out, err)
    (project.root / "deploy/start.sh").unlink()
    code, out, err = _stdin(["--stdin-filename", "flows/new_unsaved.py", "--format", "concise"], flow, project.root)
    assert out.startswith("flows/new_unsaved.py:4:5: CL101"), (out, err)


def test_stdin_respects_excludes_and_reports_parse_errors(project):
    project({}, config='exclude = ["generated/"]\n')
    (project.root / "generated").mkdir()
    code, out, _ = _stdin(["--stdin-filename", "generated/x.py", "--format", "concise"],
                          f'from prefect.tasks.snowflake import SnowflakeQuery\nSnowflakeQuery(password="{PASSWORD}")\n',
                          project.root)
    assert (code, out) == (0, "")
    code, out, _ = _stdin(["--stdin-filename", "flow.py", "--format", "concise"], "from prefect import Flow\nif (:\n",
                          project.root)
    assert code == 1 and out.startswith("flow.py:2:") and "CL000" in out


@pytest.mark.parametrize("args, message", [
    (["--stdin-filename", "a.py", "other.py"], "give no other paths"),
    (["-"], "only with --stdin-filename"),
])
def test_stdin_mistakes_are_usage_errors(project, args, message):
    code, _, err = _stdin(args, "x = 1\n", project.root)
    assert code == 2 and message in err, err


def test_the_marker_under_a_masked_line_sits_under_the_mask(project):
    project({"flows/load.py": f'''
        from prefect.tasks.snowflake import SnowflakeQuery
        q = SnowflakeQuery(account="a", user="{PASSWORD}", password="{PASSWORD}x", query="q")
    '''})
    code, out, _ = run_cli("check", "--select", "CL201", "flows/load.py", cwd=project.root)
    lines = out.splitlines()
    for number, line in enumerate(lines):
        if line.strip().startswith("2 |") and "password=" in line:
            shown, marker = line, lines[number + 1]
            break
    else:
        raise AssertionError(out)
    column = shown.index('password="********"') + len("password=")
    assert marker.index("^") == column and marker.count("^") == len('"********"'), f"{shown}\n{marker}"
