"""Adopting credlint on a repository with findings: write a baseline, fail only on new ones."""
import json

from conftest import run_cli

FLOW = """
    from prefect import Flow, Parameter
    from prefect.tasks.snowflake import SnowflakeQuery

    a = SnowflakeQuery(account="a", user="u", password="Zq8uPw7731xKmA")
    b = SnowflakeQuery(account="a", user="u", password="Zq8uPw7731xKmA")

    with Flow("f") as flow:
        token = Parameter("api_token")
    """
VALUE = "Zq8uPw7731xKmA"


def test_baseline_adoption_cycle(project):
    project({"flows/load.py": FLOW})
    code, _, err = run_cli("check", ".", cwd=project.root)
    assert code == 1
    code, _, err = run_cli("check", "--write-baseline", "baseline.json", ".", cwd=project.root)
    assert code == 0 and "recorded 3" in err
    text = (project.root / "baseline.json").read_text()
    document = json.loads(text)
    assert document["version"] == 2
    assert "line" not in text and VALUE not in text and VALUE[:8] not in text
    assert all(set(e) == {"fingerprint", "code", "path", "count"} for e in document["findings"])
    assert text == json.dumps(document, indent=2, sort_keys=True) + "\n"  # sorted, stable

    code, out, err = run_cli("check", "--baseline", "baseline.json", ".", cwd=project.root)
    assert code == 0, out

    # lines move around: still nothing new
    (project.root / "flows/load.py").write_text("# moved\n\n" + (project.root / "flows/load.py").read_text())
    code, out, _ = run_cli("check", "--baseline", "baseline.json", ".", cwd=project.root)
    assert code == 0, out

    # one more identical hard-coded secret: exactly one new finding
    with open(project.root / "flows/load.py", "a") as handle:
        handle.write('c = SnowflakeQuery(account="a", user="u", password="Zq8uPw7731xKmA")\n')
    code, out, _ = run_cli("check", "--baseline", "baseline.json", "--format", "json", ".", cwd=project.root)
    assert code == 1
    findings = json.loads(out)["findings"]
    assert [f["code"] for f in findings] == ["CL201"]


def test_stale_baseline_entries_are_reported(project):
    project({"flows/load.py": FLOW})
    run_cli("check", "--write-baseline", "baseline.json", ".", cwd=project.root)
    (project.root / "flows/load.py").write_text("import prefect\n")
    code, _, err = run_cli("check", "--baseline", "baseline.json", ".", cwd=project.root)
    assert code == 0
    # two identical findings are two entries (their fingerprints carry an occurrence index)
    assert err.count("no longer matches") == 3
    assert err.count("CL201 in flows/load.py (x1)") == 2 and "CL302 in flows/load.py" in err


def test_bad_baseline_is_a_usage_error(project):
    project({"flows/load.py": FLOW, "baseline.json": "{not json"})
    code, _, err = run_cli("check", "--baseline", "baseline.json", ".", cwd=project.root)
    assert code == 2 and "not a credlint baseline" in err
    code, _, err = run_cli("check", "--baseline", "missing.json", ".", cwd=project.root)
    assert code == 2 and "not found" in err
