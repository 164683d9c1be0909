"""SARIF paths from the repository root, rule links (SARIF `helpUri`, JSON `url`), the `docs-url`
setting, and the JSON findings' compatible additions (`fix`, `fix_safety`, `url`)."""
from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from conftest import run_cli

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "tests" / "data" / "sarif-schema-2.1.0.json"
DEFAULT = "https://github.com/credlint/credlint/blob/main/docs/rules.md"

# CL201 at line 4 (a literal password) and CL102 at line 7 (nothing provides AWS_CREDENTIALS).
FLOW = """\
from prefect import Flow
from prefect.tasks.aws.s3 import S3Download
from prefect.tasks.snowflake import SnowflakeQuery
q = SnowflakeQuery(account="a", user="u", password="Zq8uPw7731xKmN")

with Flow("etl") as flow:
    S3Download(bucket="raw")(key="k")
"""
VALUE = "Zq8uPw7731xKmN"
CONTRACT = ["code", "name", "severity", "path", "line", "column", "end_line", "end_column", "message",
            "secret", "flow", "symbol", "fingerprint"]


def write(root: Path, files: dict) -> Path:
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


def sarif(*args: str, cwd: Path) -> dict:
    code, out, err = run_cli("check", "--no-cache", "--format", "sarif", *args, cwd=cwd)
    assert code == 1, out + err
    assert VALUE not in out
    document = json.loads(out)
    import jsonschema

    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).validate(document)
    return document


def located(document: dict) -> list:
    """(ruleId, artifactLocation) of every result."""
    return [(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"])
            for r in document["runs"][0]["results"]]


def base_uri(document: dict) -> str:
    return document["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]


def fingerprints(document: dict) -> list:
    return sorted(r["partialFingerprints"]["credlintFingerprint/v2"] for r in document["runs"][0]["results"])


def json_findings(*args: str, cwd: Path) -> list:
    code, out, err = run_cli("check", "--no-cache", "--format", "json", *args, cwd=cwd)
    assert code in (0, 1), out + err
    return json.loads(out)["findings"]


# ----- SARIF paths ------------------------------------------------------------------------------
@pytest.mark.parametrize("git", ["folder", "file"], ids=["repository", "worktree-or-submodule"])
def test_a_project_in_a_sub_folder_is_located_from_the_repository_root(tmp_path, git):
    repo = tmp_path / "repo"
    if git == "folder":
        (repo / ".git").mkdir(parents=True)
    else:  # a worktree's or submodule's .git is a file naming the real git folder
        repo.mkdir()
        (repo / ".git").write_text("gitdir: /elsewhere/.git/worktrees/repo\n", encoding="utf-8")
    project = write(repo / "services" / "etl", {"pyproject.toml": '[tool.credlint]\nbackend = "server"\n',
                                                  "flows/etl.py": FLOW})
    document = sarif(".", cwd=project)
    assert sorted(located(document), key=lambda x: x[0]) == [
        ("CL102", {"uri": "services/etl/flows/etl.py", "uriBaseId": "%SRCROOT%"}),
        ("CL201", {"uri": "services/etl/flows/etl.py", "uriBaseId": "%SRCROOT%"}),
    ]
    assert base_uri(document) == repo.resolve().as_uri() + "/"
    # From a sub-folder of the project, the same locations.
    assert located(sarif("etl.py", cwd=project / "flows")) == located(document)


def test_fingerprints_do_not_depend_on_the_repository(tmp_path):
    """They are made from the project path: moving the project into a repository changes no alert."""
    alone = write(tmp_path / "alone", {"pyproject.toml": "[tool.credlint]\n", "flows/etl.py": FLOW})
    inside = write(tmp_path / "repo" / "svc", {"pyproject.toml": "[tool.credlint]\n", "flows/etl.py": FLOW})
    (tmp_path / "repo" / ".git").mkdir()
    outside, within = sarif(".", cwd=alone), sarif(".", cwd=inside)
    assert located(within)[0][1]["uri"] == "svc/flows/etl.py"
    assert located(outside)[0][1]["uri"] == "flows/etl.py"
    assert fingerprints(within) == fingerprints(outside)
    assert fingerprints(within) == sorted(f["fingerprint"] for f in json_findings(".", cwd=inside))


def test_outside_any_repository_paths_are_relative_to_the_project_root(tmp_path):
    project = write(tmp_path / "p", {"credlint.toml": "", "flows/etl.py": FLOW})
    document = sarif(".", cwd=project / "flows")
    assert {loc["uri"] for _, loc in located(document)} == {"flows/etl.py"}
    assert base_uri(document) == project.resolve().as_uri() + "/"


def test_several_projects_are_located_from_their_repository_root(tmp_path):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    write(repo / "services", {"a/pyproject.toml": "[tool.credlint]\n", "a/flows/x.py": FLOW,
                              "b/pyproject.toml": "[tool.credlint]\n", "b/flows/y.py": FLOW})
    document = sarif("services/a/flows/x.py", "services/b/flows/y.py", cwd=repo)
    assert {loc["uri"] for _, loc in located(document)} == {"services/a/flows/x.py", "services/b/flows/y.py"}
    assert base_uri(document) == repo.resolve().as_uri() + "/"


def test_paths_are_uri_references(tmp_path):
    """A space, `#`, `%` or a non-ASCII letter is escaped, as a URI needs it."""
    (tmp_path / ".git").mkdir()
    write(tmp_path, {"my flows/étl #1%.py": FLOW})
    document = sarif(".", cwd=tmp_path)
    assert {loc["uri"] for _, loc in located(document)} == {"my%20flows/%C3%A9tl%20%231%25.py"}


# ----- rule links -------------------------------------------------------------------------------
def github_anchor(heading: str) -> str:
    """The id GitHub gives a Markdown heading: lower case, punctuation dropped, spaces to `-`."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_rule_links_to_its_section_of_the_rule_docs(tmp_path):
    (tmp_path / ".git").mkdir()
    write(tmp_path, {"flows/etl.py": FLOW})
    rules = sarif(".", cwd=tmp_path)["runs"][0]["tool"]["driver"]["rules"]
    docs = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    anchors = {github_anchor(line[3:]): line[3:] for line in docs.splitlines() if line.startswith("## ")}
    assert len(rules) == len(anchors) > 10
    for described in rules:
        base, _, anchor = described["helpUri"].partition("#")
        assert base == DEFAULT
        name = described["properties"]["tags"][-1]  # the rule's kebab-case name
        assert anchors.get(anchor) == f"{described['id']} {name}", described["id"]


def test_json_findings_carry_fix_fix_safety_and_url_after_the_contract(tmp_path):
    (tmp_path / ".git").mkdir()
    write(tmp_path, {"flows/etl.py": FLOW})
    findings = json_findings(".", cwd=tmp_path)
    assert {f["code"] for f in findings} == {"CL102", "CL201"}
    for finding in findings:
        assert list(finding) == CONTRACT + ["fix", "fix_safety", "url"]
        assert finding["url"] == f"{DEFAULT}#{finding['code'].lower()}-{finding['name']}"
        assert finding["fix"] and isinstance(finding["fix"], str)
        assert finding["fix_safety"] is None
    code, out, _ = run_cli("check", "--no-cache", "--format", "json-lines", ".", cwd=tmp_path)
    assert [json.loads(line) for line in out.splitlines()] == findings
    assert VALUE not in out


@pytest.mark.parametrize("setting, expected", [
    ("https://docs.example.com/credlint/rules.html", "https://docs.example.com/credlint/rules.html#cl201-"
                                                     "hardcoded-credential-argument"),
    ("https://docs.example.com/rules/{code}/{name}", "https://docs.example.com/rules/CL201/"
                                                     "hardcoded-credential-argument"),
    ("http://wiki.internal/credlint#{code}", "http://wiki.internal/credlint#CL201"),
], ids=["page", "template", "template-fragment"])
def test_docs_url_moves_every_link(tmp_path, setting, expected):
    (tmp_path / ".git").mkdir()
    write(tmp_path, {"flows/etl.py": FLOW, "pyproject.toml": f'[tool.credlint]\ndocs-url = "{setting}"\n'})
    (finding,) = [f for f in json_findings(".", cwd=tmp_path) if f["code"] == "CL201"]
    assert finding["url"] == expected
    rules = {r["id"]: r for r in sarif(".", cwd=tmp_path)["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["CL201"]["helpUri"] == expected


@pytest.mark.parametrize("setting", ['"docs.example.com/rules"', '"https://x.example/rules.md#top"',
                                     '"https://x.example/{rule}"', '"https://x.example/a b"', "3"],
                         ids=["no-scheme", "fragment-without-placeholder", "unknown-placeholder", "space",
                              "not-a-string"])
def test_a_bad_docs_url_is_a_configuration_error(tmp_path, setting):
    (tmp_path / ".git").mkdir()
    write(tmp_path, {"flows/etl.py": FLOW, "credlint.toml": f'backend = "server"\ndocs-url = {setting}\n'})
    code, out, err = run_cli("check", ".", cwd=tmp_path)
    assert code == 2 and out == ""
    assert re.search(r"credlint\.toml:2: docs-url: must be an http\(s\) URL", err), err


def test_rules_of_ones_own_have_no_link(tmp_path):
    """credlint's docs do not describe them: no url, no helpUri, rather than a dead anchor."""
    (tmp_path / ".git").mkdir()
    write(tmp_path, {
        "credlint.toml": 'rules = ["lint_rules"]\n',
        "flows/etl.py": "from prefect import Parameter\n\nday = Parameter(\"day\")\n",
        "lint_rules/acme.py": textwrap.dedent('''\
            from credlint.engine import Hit, rule


            @rule("ACME001", "acme-day", "error", bad=[], good=[])
            def check_day(parameter):
                """Parameters named day."""
                module, fact = parameter
                if fact.name == "day":
                    yield Hit(path=module.path, pos=fact.pos, message="a day parameter")
            '''),
    })
    (finding,) = json_findings(".", cwd=tmp_path)
    assert finding["code"] == "ACME001" and finding["url"] is None
    assert finding["fix"] is None  # the Hit gives none: null, not ""
    rules = {r["id"]: r for r in sarif(".", cwd=tmp_path)["runs"][0]["tool"]["driver"]["rules"]}
    assert "helpUri" not in rules["ACME001"]
    assert rules["CL201"]["helpUri"].startswith(DEFAULT + "#")
