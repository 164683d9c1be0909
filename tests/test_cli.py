"""The command line contract (DESIGN.md sections 4-6): exit codes, formats, selection, rules, explain."""
from __future__ import annotations

import json
import re

import pytest

from conftest import check_json, codes_of, run_cli, with_code
from credlint.engine.collect import collect_rules

# One hard-coded password (CL201, an error) and one AWS task nothing provides credentials for
# (CL102, a warning).
HARDCODED = """
    from prefect import Flow
    from prefect.tasks.snowflake import SnowflakeQuery

    query = SnowflakeQuery(account="acme", user="loader", password="Zq8uPw7731xKmN")

    with Flow("load") as flow:
        query(query="select 1")
    """

FALLBACK = """
    from prefect import Flow
    from prefect.tasks.aws.s3 import S3Download

    download = S3Download(bucket="raw-data")

    with Flow("ingest") as flow:
        download(key="orders.csv")
    """

CLEAN = """
    from prefect import Flow, task

    @task
    def say(x):
        print(x)

    with Flow("hello") as flow:
        say("hi")
    """


# ----- exit codes ---------------------------------------------------------------------------
def test_exit_0_on_a_clean_project(project):
    project({"flow.py": CLEAN})
    code, out, err = run_cli("check", ".", cwd=project.root)
    assert code == 0, out + err


def test_exit_1_on_error_findings(project):
    project({"flow.py": HARDCODED})
    code, out, err = run_cli("check", ".", cwd=project.root)
    assert code == 1, out + err
    assert "CL201" in out


def test_warning_findings_fail_with_fail_on_warning(project):
    project({"flow.py": FALLBACK})
    code, out, _ = run_cli("check", "--fail-on", "warning", ".", cwd=project.root)
    assert code == 1
    assert "CL102" in out


def test_fail_on_warning_from_the_config_file(project):
    project({"flow.py": FALLBACK}, config='fail-on = "warning"\n')
    code, out, _ = run_cli("check", ".", cwd=project.root)
    assert code == 1, out


def test_exit_zero_flag(project):
    project({"flow.py": HARDCODED})
    code, out, _ = run_cli("check", "--exit-zero", ".", cwd=project.root)
    assert code == 0
    assert "CL201" in out, "--exit-zero changes the exit code, not the report"


def test_exit_2_for_a_nonexistent_path(project):
    project({"flow.py": CLEAN})
    code, _, err = run_cli("check", "no/such/dir", cwd=project.root)
    assert code == 2
    assert "no/such/dir" in err


@pytest.mark.parametrize("flag", ["--select", "--ignore"])
def test_exit_2_for_an_unknown_rule_selector(project, flag):
    project({"flow.py": CLEAN})
    code, _, err = run_cli("check", flag, "CL999", ".", cwd=project.root)
    assert code == 2
    assert "CL999" in err


@pytest.mark.parametrize("config", ["backend = [\n", "bogus = 1\n", 'backend = "moon"\n'],
                         ids=["invalid-toml", "unknown-key", "bad-value"])
def test_exit_2_for_a_bad_config_file(project, config):
    project({"flow.py": HARDCODED}, config=config)
    code, out, err = run_cli("check", ".", cwd=project.root)
    assert code == 2
    assert "credlint.toml" in err
    assert "Traceback" not in err


def test_exit_2_for_a_missing_explicit_config(project):
    project({"flow.py": CLEAN})
    code, _, err = run_cli("check", "--config", "nope.toml", ".", cwd=project.root)
    assert code == 2
    assert "nope.toml" in err


# ----- JSON ---------------------------------------------------------------------------------
FINDING_KEYS = {"code", "name", "severity", "path", "line", "column", "end_line", "end_column", "message",
                "secret", "flow", "symbol", "fingerprint",
                "fix", "fix_safety", "url"}  # compatible additions (DESIGN.md section 6)


def test_json_document_shape(project):
    project({"flows/load.py": HARDCODED, "flows/ingest.py": FALLBACK})
    doc = check_json(".", cwd=project.root)
    assert set(doc) == {"version", "tool", "findings", "summary"}
    assert doc["version"] == 1
    assert set(doc["tool"]) == {"name", "version"}
    assert doc["tool"]["name"] == "credlint"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", doc["tool"]["version"])
    assert set(doc["summary"]) == {"files", "findings", "by_severity", "flows"}  # flows: a compatible addition
    assert set(doc["summary"]["by_severity"]) == {"error", "warning", "info"}
    assert doc["summary"]["flows"] == {"found": 2, "not_followed": []}
    assert doc["summary"]["files"] == 2
    assert doc["summary"]["findings"] == len(doc["findings"]) == 2
    by = doc["summary"]["by_severity"]
    assert by == {"error": 1, "warning": 1, "info": 0}


def test_json_findings_have_exactly_the_contract_keys(project):
    project({"flows/load.py": HARDCODED, "flows/ingest.py": FALLBACK})
    doc = check_json(".", cwd=project.root)
    assert doc["findings"]
    for finding in doc["findings"]:
        assert set(finding) == FINDING_KEYS, finding
        assert finding["severity"] in ("error", "warning", "info")
        for key in ("line", "column", "end_line", "end_column"):
            assert isinstance(finding[key], int) and finding[key] >= 1, (key, finding)
        assert (finding["end_line"], finding["end_column"]) >= (finding["line"], finding["column"])
        assert isinstance(finding["fingerprint"], str) and finding["fingerprint"]


def test_json_values_of_a_need_finding(project):
    project({"flows/ingest.py": FALLBACK})
    (finding,) = check_json(".", cwd=project.root)["findings"]
    assert finding["code"] == "CL102"
    assert finding["name"] == "credentials-fallback"
    assert finding["severity"] == "warning"
    assert finding["path"] == "flows/ingest.py"
    assert finding["secret"] == "AWS_CREDENTIALS"
    assert finding["flow"] == "ingest"
    assert finding["symbol"] == "prefect.tasks.aws.s3.S3Download"
    assert "AWS_CREDENTIALS" in finding["message"]


def test_json_null_fields_where_they_do_not_apply(project):
    project({"broken.py": "from prefect import Flow\nwith Flow('x') as flow\n    pass\n"})
    (finding,) = check_json(".", cwd=project.root)["findings"]
    assert finding["code"] == "CL000"
    assert finding["secret"] is None and finding["flow"] is None and finding["symbol"] is None


def test_json_lines_and_columns_are_one_based(project):
    project({"flow.py": HARDCODED})
    (finding,) = with_code(check_json(".", cwd=project.root), "CL201")
    lines = (project.root / "flow.py").read_text().splitlines()
    expected_line = next(i for i, text in enumerate(lines, 1) if "password=" in text)
    assert finding["line"] == expected_line
    text = lines[expected_line - 1]
    value_start = text.index('"Zq8') + 1  # 1-based column of the literal (its opening quote)
    assert finding["column"] == value_start


def test_json_path_relative_to_the_working_directory(project):
    project({"flows/etl/load.py": HARDCODED})
    (project.root / "sub").mkdir()
    at_root = check_json(".", cwd=project.root)["findings"]
    assert [f["path"] for f in at_root] == ["flows/etl/load.py"]
    in_flows = check_json(".", cwd=project.root / "flows")["findings"]
    assert [f["path"] for f in in_flows] == ["etl/load.py"]
    beside = check_json("../flows", cwd=project.root / "sub")["findings"]
    assert [f["path"] for f in beside] == ["../flows/etl/load.py"]


def test_json_reports_only_the_paths_asked_about(project):
    project({"a/load.py": HARDCODED, "b/load.py": HARDCODED})
    doc = check_json("a", cwd=project.root)
    assert [f["path"] for f in doc["findings"]] == ["a/load.py"]
    assert doc["summary"]["files"] == 1


# ----- concise and full ---------------------------------------------------------------------
CONCISE_LINE = re.compile(r"^(?P<path>[^:\s]+):(?P<line>\d+):(?P<col>\d+): (?P<code>CL\d{3}) (?P<name>[a-z0-9-]+) (?P<msg>.+)$")


def test_concise_line_shape(project):
    project({"flows/load.py": HARDCODED, "flows/ingest.py": FALLBACK})
    code, out, _ = run_cli("check", "--format", "concise", ".", cwd=project.root)
    doc = check_json(".", cwd=project.root)
    lines = out.splitlines()
    assert len(lines) == len(doc["findings"]) == 2
    for text, finding in zip(lines, doc["findings"]):
        match = CONCISE_LINE.match(text)
        assert match, text
        assert match["path"] == finding["path"]
        assert int(match["line"]) == finding["line"] and int(match["col"]) == finding["column"]
        assert match["code"] == finding["code"] and match["name"] == finding["name"]
        assert match["msg"] == finding["message"]


def test_concise_prints_nothing_for_a_clean_project(project):
    project({"flow.py": CLEAN})
    code, out, _ = run_cli("check", "--format", "concise", ".", cwd=project.root)
    assert code == 0 and out.strip() == ""


def test_full_format_shows_location_code_and_summary(project):
    project({"flow.py": HARDCODED})
    code, out, _ = run_cli("check", ".", cwd=project.root)
    assert re.search(r"flow\.py:4:\d+: CL201 hardcoded-credential-argument", out), out
    assert "1 error" in out


# ----- --output -----------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["json", "concise", "full"])
def test_output_file(project, fmt):
    project({"flow.py": HARDCODED})
    code, out, err = run_cli("check", "--format", fmt, "--output", "report.txt", ".", cwd=project.root)
    assert code == 1, err
    assert out.strip() == "", "the report goes to the file, not to stdout"
    written = (project.root / "report.txt").read_text(encoding="utf-8")
    assert "CL201" in written
    if fmt == "json":
        assert codes_of(json.loads(written)) == ["CL201"]


def test_output_file_is_not_checked_as_a_source(project):
    project({"flow.py": HARDCODED})
    run_cli("check", "--format", "json", "--output", "report.json", ".", cwd=project.root)
    doc = check_json(".", cwd=project.root)
    assert doc["summary"]["files"] == 1


# ----- selection ----------------------------------------------------------------------------
BOTH = {"load.py": HARDCODED, "ingest.py": FALLBACK}


@pytest.mark.parametrize("args, expected", [
    ((), ["CL102", "CL201"]),
    (("--select", "CL1"), ["CL102"]),
    (("--select", "CL2"), ["CL201"]),
    (("--select", "CL201"), ["CL201"]),
    (("--select", "credentials-fallback"), ["CL102"]),
    (("--select", "CL102,CL201"), ["CL102", "CL201"]),
    (("--select", "CL102", "--select", "CL201"), ["CL102", "CL201"]),
    (("--ignore", "CL102"), ["CL201"]),
    (("--ignore", "hardcoded-credential-argument"), ["CL102"]),
    (("--select", "CL1,CL2", "--ignore", "CL102"), ["CL201"]),
], ids=lambda v: " ".join(v) if isinstance(v, tuple) else None)
def test_select_and_ignore(project, args, expected):
    project(BOTH)
    assert codes_of(check_json(*args, ".", cwd=project.root)) == expected


def test_select_from_config_and_cli_overrides_it(project):
    project(BOTH, config='select = ["CL1"]\n')
    assert codes_of(check_json(".", cwd=project.root)) == ["CL102"]
    assert codes_of(check_json("--select", "CL2", ".", cwd=project.root)) == ["CL201"]


def test_backend_flag_overrides_config(project):
    project({"flow.py": """
        from prefect import Flow
        from prefect.tasks.notifications import SlackTask

        with Flow("nightly") as flow:
            SlackTask(message="done")()
        """}, config='backend = "cloud"\n')
    cloud = with_code(check_json(".", cwd=project.root), "CL101")
    server = with_code(check_json("--backend", "server", ".", cwd=project.root), "CL101")
    assert [f["severity"] for f in cloud] == ["warning"]
    assert [f["severity"] for f in server] == ["error"]


# ----- rules and explain --------------------------------------------------------------------
def test_rules_lists_every_code_and_name(project):
    code, out, _ = run_cli("rules", cwd=project.root)
    assert code == 0
    for r in collect_rules():
        assert r.code in out
        assert r.name in out


def test_rules_json(project):
    code, out, _ = run_cli("rules", "--format", "json", cwd=project.root)
    assert code == 0
    listed = json.loads(out)
    assert [r["code"] for r in listed] == [r.code for r in collect_rules()]
    assert all(set(r) >= {"code", "name", "severity", "summary"} for r in listed)


@pytest.mark.parametrize("key", ["CL101", "missing-secret", "cl101"])
def test_explain_prints_the_rule_page(project, key):
    code, out, _ = run_cli("explain", key, cwd=project.root)
    assert code == 0
    (r,) = [x for x in collect_rules() if x.code == "CL101"]
    assert out.startswith("CL101 missing-secret")
    for title in ("What it does", "Why is this bad?", "How to fix"):
        assert title in out
    assert "Example (bad)" in out and "Example (good)" in out
    # the examples' own code and configuration are printed
    for example in (r.bad[0], r.good[0]):
        for text in example.file_map.values():
            for line in text.strip().splitlines():
                assert line.rstrip() in out, line
        for line in example.config.strip().splitlines():
            assert line in out


@pytest.mark.parametrize("r", collect_rules(), ids=lambda r: r.code)
def test_explain_works_for_every_rule(project, r):
    code, out, _ = run_cli("explain", r.code, cwd=project.root)
    assert code == 0
    assert out.startswith(f"{r.code} {r.name}")


@pytest.mark.parametrize("key", ["CL999", "no-such-rule"])
def test_explain_unknown_rule_exits_2(project, key):
    code, out, err = run_cli("explain", key, cwd=project.root)
    assert code == 2
    assert key in err


# ----- fingerprints -------------------------------------------------------------------------
def _fingerprints(doc):
    return {(f["code"], f["line"]): f["fingerprint"] for f in doc["findings"]}


def test_fingerprint_stable_across_runs(project):
    project(BOTH)
    first = check_json(".", cwd=project.root)
    second = check_json(".", cwd=project.root)
    assert _fingerprints(first) == _fingerprints(second)


def test_fingerprint_stable_when_lines_are_inserted_above(project):
    project({"flow.py": HARDCODED})
    (before,) = with_code(check_json(".", cwd=project.root), "CL201")
    path = project.root / "flow.py"
    path.write_text("# a comment\nimport os\n\n\n" + path.read_text())
    (after,) = with_code(check_json(".", cwd=project.root), "CL201")
    assert after["line"] == before["line"] + 4
    assert after["fingerprint"] == before["fingerprint"]


def test_fingerprints_differ_between_findings(project):
    project({"flow.py": HARDCODED, "ingest.py": FALLBACK, "other.py": HARDCODED.replace("acme", "beta")})
    doc = check_json(".", cwd=project.root)
    prints = [f["fingerprint"] for f in doc["findings"]]
    assert len(prints) == 3
    assert len(set(prints)) == 3


def test_fingerprints_differ_for_identical_findings_in_one_file(project):
    project({"flow.py": """
        from prefect.tasks.snowflake import SnowflakeQuery

        a = SnowflakeQuery(account="acme", user="loader", password="Zq8uPw7731xKmN")
        a = SnowflakeQuery(account="acme", user="loader", password="Zq8uPw7731xKmN")
        """})
    prints = [f["fingerprint"] for f in with_code(check_json(".", cwd=project.root), "CL201")]
    assert len(prints) == 2 and prints[0] != prints[1]


def test_fingerprint_independent_of_the_working_directory(project):
    """A baseline recorded at the root must still match when credlint runs from a sub-folder
    (pre-commit, editors and CI do not all start in the same place)."""
    project({"flows/load.py": HARDCODED})
    (at_root,) = check_json(".", cwd=project.root)["findings"]
    (in_flows,) = check_json(".", cwd=project.root / "flows")["findings"]
    assert at_root["path"] != in_flows["path"]
    assert at_root["fingerprint"] == in_flows["fingerprint"]


# ----- explicit files (pre-commit) ----------------------------------------------------------
def test_explicit_file_still_sees_providers_elsewhere_in_the_project(project):
    project({
        "flows/alerts.py": """
            from prefect import Flow
            from prefect.tasks.notifications import SlackTask

            with Flow("alerts") as flow:
                SlackTask(message="done")()
            """,
        "flows/load.py": HARDCODED,
    }, config='backend = "server"\n')
    before = check_json("flows/alerts.py", cwd=project.root)
    assert codes_of(before) == ["CL101"]
    project({"deploy/config.toml": '[context.secrets]\nSLACK_WEBHOOK_URL = "$SLACK_HOOK"\n'})
    after = check_json("flows/alerts.py", cwd=project.root)
    assert after["findings"] == []
    assert after["summary"]["files"] == 1


def test_explicit_files_report_only_themselves(project):
    project({"flows/load.py": HARDCODED, "flows/ingest.py": FALLBACK, "other/load.py": HARDCODED})
    doc = check_json("flows/load.py", "flows/ingest.py", cwd=project.root)
    assert sorted(f["path"] for f in doc["findings"]) == ["flows/ingest.py", "flows/load.py"]
    doc = check_json("load.py", cwd=project.root / "flows")
    assert [f["path"] for f in doc["findings"]] == ["load.py"]


@pytest.mark.parametrize("flags", [("--quiet",), ("--statistics",), ("--color", "always")])
def test_json_stays_pure_json_with_other_flags(project, flags):
    project({"flow.py": HARDCODED})
    code, out, err = run_cli("check", "--format", "json", *flags, ".", cwd=project.root)
    assert code == 1, err
    assert codes_of(json.loads(out)) == ["CL201"]
