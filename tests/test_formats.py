"""--format sarif | github | json-lines: valid for their consumers, and never a secret value."""
import json
from pathlib import Path

import pytest

from conftest import run_cli
from test_secrets_never_leak import assert_no_leak

# The OASIS SARIF 2.1.0 schema (errata 01), vendored: the suite needs nothing outside the repository.
SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"

FLOW = """
    from prefect import Flow, Parameter
    from prefect.tasks.aws.s3 import S3Download
    from prefect.tasks.snowflake import SnowflakeQuery

    q = SnowflakeQuery(account="a", user="u", password="Zq8uPw7731xKmN")

    with Flow("etl, nightly: 100%") as flow:
        S3Download(bucket="raw")(key="k")
        token = Parameter("api_token")
    """


@pytest.fixture
def findings_project(project):
    project({"flows/etl.py": FLOW})
    return project


def test_sarif_passes_the_official_schema(findings_project):
    import jsonschema
    code, out, err = run_cli("check", "--format", "sarif", ".", cwd=findings_project.root)
    assert code == 1, err
    document = json.loads(out)
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(document)
    run = document["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert {"CL000", "CL101", "CL201", "CL204", "CL303"} <= set(rules)
    assert "## What it does" in rules["CL201"]["help"]["text"]  # the same page as `credlint explain`
    assert float(rules["CL201"]["properties"]["security-severity"]) >= 7
    results = run["results"]
    assert {r["ruleId"] for r in results} == {"CL102", "CL201", "CL302"}
    for result in results:
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"] == {"uri": "flows/etl.py", "uriBaseId": "%SRCROOT%"}
        assert result["partialFingerprints"]["credlintFingerprint/v2"]
        assert rules[result["ruleId"]] is run["tool"]["driver"]["rules"][result["ruleIndex"]]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].startswith("file://")


def test_sarif_fingerprints_survive_unrelated_line_shifts(findings_project):
    def fingerprints():
        out = run_cli("check", "--format", "sarif", ".", cwd=findings_project.root)[1]
        return sorted(r["partialFingerprints"]["credlintFingerprint/v2"] for r in json.loads(out)["runs"][0]["results"])

    before = fingerprints()
    path = findings_project.root / "flows/etl.py"
    path.write_text("# a new comment\n\n" + path.read_text())
    assert fingerprints() == before


def test_github_workflow_commands_are_escaped(findings_project, tmp_path):
    summary = tmp_path / "summary.md"
    import os
    import subprocess
    import sys

    env = dict(os.environ, GITHUB_STEP_SUMMARY=str(summary), NO_COLOR="1")
    proc = subprocess.run([sys.executable, "-m", "credlint", "check", "--format", "github", "."],
                          cwd=findings_project.root, env=env, capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert all(line.startswith(("::error ", "::warning ")) for line in lines)
    flow_line = next(line for line in lines if "CL102" in line)
    assert flow_line.startswith("::warning file=flows/etl.py,line=")
    # the flow name carries ',', ':' and '%': escaped in the message as the Actions toolkit does
    assert "100%25" in flow_line and "title=CL102 credentials-fallback::" in flow_line
    text = summary.read_text()
    assert "| CL201 | hardcoded-credential-argument | error | 1 |" in text
    assert_no_leak("github format", proc.stdout + text)


def test_json_lines_is_one_finding_per_line(findings_project):
    code, out, _ = run_cli("check", "--format", "json-lines", ".", cwd=findings_project.root)
    assert code == 1
    objects = [json.loads(line) for line in out.splitlines()]
    _, doc, _ = run_cli("check", "--format", "json", ".", cwd=findings_project.root)
    assert objects == json.loads(doc)["findings"]


@pytest.mark.parametrize("fmt", ["sarif", "github", "json-lines"])
def test_new_formats_never_show_a_value(findings_project, fmt):
    code, out, err = run_cli("check", "--format", fmt, ".", cwd=findings_project.root)
    assert code == 1
    assert "CL201" in out
    assert_no_leak(f"--format {fmt}", out + err)


def test_docs_rules_md_is_up_to_date():
    from credlint.tools.docs import rules_markdown

    path = Path(__file__).resolve().parents[1] / "docs" / "rules.md"
    assert path.read_text(encoding="utf-8") == rules_markdown(), (
        "docs/rules.md is out of date: run `python -m credlint.tools.docs > docs/rules.md`")
