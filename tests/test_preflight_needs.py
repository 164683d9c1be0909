"""`credlint preflight` checks what the Prefect 2.x/3.x flows and prefect.yaml deployments need —
blocks by slug and name, Variables by name — in a real workspace (tests/prefect_server.py), with who
needs each, beside the config's list and --block/--variable; names only, never a value."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from prefect_server import PrefectServer, assert_no_leak, assert_no_leak_in_files, clean_env

WEBHOOK = "https://hooks.slack.com/services/" + "T0CLN4EED/B0CLN7XQZ/" + "Rk3Vb9Xz2Lq7Wm4Tn8Hc1Pd5"
DB_PASSWORD = "Zp4nW8qR" + "2xLk7Vb3Tm"
VALUES = [WEBHOOK, DB_PASSWORD]

TASKS = """
    from prefect import task
    from prefect_aws import AwsCredentials
    from prefect.blocks.system import Secret

    @task
    def extract(block_name: str):
        return AwsCredentials.load(block_name)

    @task
    def read_db():
        return Secret.load("cln-db-password").get()
    """

HOOKS = """
    from prefect.blocks.notifications import SlackWebhook

    def notify(flow, flow_run, state):
        SlackWebhook.load("cln-alerts").notify("failed")
    """

ETL = """
    from prefect import flow
    from prefect.variables import Variable
    from prefect_aws import AwsCredentials
    from pkg.tasks import extract, read_db
    from pkg.hooks import notify

    @flow(on_failure=[notify])
    def etl(block_name: str = "cl-prod"):
        extract(block_name)
        read_db()
        AwsCredentials.load("cl-prod")
        host = Variable.get("cl_db_host")

    @flow
    def backfill():
        AwsCredentials.load("cl-empty")
        AwsCredentials.load("cln-gone")
        Variable.get("cln_missing_var")
    """

PREFECT_YAML = """
    deployments:
      - name: etl-prod
        entrypoint: flows/etl.py:etl
        pull:
          - prefect.deployments.steps.git_clone:
              repository: https://github.com/acme/etl
              access_token: "{{ prefect.blocks.secret.cl-github-token }}"
    """


@pytest.fixture(scope="module")
def needs_workspace(planted_workspace: PrefectServer) -> PrefectServer:
    """The planted workspace (prefect_server.PLANTED_BLOCKS) with the blocks these flows add."""
    planted_workspace.run_prefect(f"""
        from prefect.blocks.notifications import SlackWebhook
        from prefect.blocks.system import Secret

        SlackWebhook(url={WEBHOOK!r}).save("cln-alerts", overwrite=True)
        Secret(value={DB_PASSWORD!r}).save("cln-db-password", overwrite=True)
    """)
    return planted_workspace


@pytest.fixture
def home(tmp_path) -> Path:
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


@pytest.fixture
def repo(tmp_path) -> Path:
    root = tmp_path / "repo"
    files = {"pkg/__init__.py": "", "pkg/tasks.py": TASKS, "pkg/hooks.py": HOOKS, "flows/__init__.py": "",
             "flows/etl.py": ETL, "prefect.yaml": PREFECT_YAML}
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text).lstrip("\n"))
    (root / ".git").mkdir()
    return root


def run(args, cwd: Path, env) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "credlint", "preflight", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)
    for text in (proc.stdout, proc.stderr):
        assert_no_leak(text)
        for value in VALUES:
            assert value[-12:] not in text and value[:8] not in text.replace("https://", "")
    return proc


def rows(section: dict, kind: str, key: str) -> dict:
    return {row[key]: row for row in section[kind]}


def test_the_blocks_and_variables_the_flows_need_are_checked_with_who_needs_them(needs_workspace, repo, home):
    proc = run(["--format", "json"], repo, needs_workspace.env(home))
    assert proc.returncode == 1, proc.stderr  # cln-gone and cln_missing_var are missing
    document = json.loads(proc.stdout)
    assert document["flows"] == []  # no 1.x flow
    section = document["workspace"]
    blocks = rows(section, "blocks", "block")
    etl, backfill = "flow etl (flows/etl.py:8)", "flow backfill (flows/etl.py:15)"
    deployment = "deployment etl-prod (prefect.yaml:2)"
    assert blocks["aws-credentials/cl-prod"]["status"] == "present"
    assert blocks["aws-credentials/cl-prod"]["needed_by"] == [etl, deployment]
    assert blocks["secret/cln-db-password"]["status"] == "present"  # a task of another module
    assert blocks["secret/cln-db-password"]["needed_by"] == [etl, deployment]
    assert blocks["slack-webhook/cln-alerts"]["status"] == "present"  # the flow's on_failure hook
    assert blocks["secret/cl-github-token"]["needed_by"] == [deployment]  # the deployment's pull step
    assert blocks["aws-credentials/cl-empty"]["status"] == "ambient"
    assert blocks["aws-credentials/cl-empty"]["needed_by"] == [backfill]
    gone = blocks["aws-credentials/cln-gone"]
    assert (gone["status"], gone["needed_by"]) == ("missing", [backfill])
    computed = blocks["AwsCredentials.load(block_name)"]  # a parameter: listed, not checked, not missing
    assert computed["status"] == "unverifiable" and computed["slug"] == "aws-credentials"
    assert computed["detail"] == "the name is computed at run time (parameter block_name): not checked"
    assert computed["needed_by"] == [etl, deployment]
    variables = rows(section, "variables", "variable")
    assert (variables["cl_db_host"]["status"], variables["cl_db_host"]["needed_by"]) == ("present", [etl, deployment])
    assert (variables["cln_missing_var"]["status"], variables["cln_missing_var"]["needed"]) == ("missing", True)
    assert "needed_by" not in variables["cl_db_password"]  # a credential nobody reads: listed, not failing
    assert section["summary"]["blocks"] == {"present": 4, "ambient": 1, "unverifiable": 1, "missing": 1}
    assert_no_leak_in_files(repo)


def test_all_there_passes_and_the_flow_option_picks_a_2x_flow(needs_workspace, repo, home):
    proc = run(["--format", "json", "--flow", "etl"], repo, needs_workspace.env(home))
    assert proc.returncode == 0, proc.stdout  # backfill's missing names are not etl's
    section = json.loads(proc.stdout)["workspace"]
    assert "aws-credentials/cln-gone" not in rows(section, "blocks", "block")
    assert all(row["status"] != "missing" for row in section["blocks"])
    proc = run(["--flow", "nothing-like-it"], repo, needs_workspace.env(home))
    assert proc.returncode == 2 and "no flow named 'nothing-like-it'" in proc.stderr


def test_the_table_says_who_needs_each_after_the_1x_part(needs_workspace, repo, home):
    proc = run([], repo, needs_workspace.env(home))
    assert proc.returncode == 1
    out = proc.stdout
    assert "no Prefect 1.x flows found; what the Prefect 2.x/3.x flows need is checked below" in out
    assert "needed by" in out and "aws-credentials/cln-gone" in out and "flow backfill" in out
    assert out.index(f"Prefect blocks ({needs_workspace.url})") < out.index("Prefect Variables")


def test_the_config_list_and_the_flows_needs_together(needs_workspace, repo, home):
    (repo / "credlint.toml").write_text('blocks = ["aws-credentials/cl-profile"]\n')
    proc = run(["--format", "json", "--block", "s3-bucket/cl-bucket-ref", "--flow", "etl"], repo,
               needs_workspace.env(home))
    assert proc.returncode == 0, proc.stdout
    blocks = rows(json.loads(proc.stdout)["workspace"], "blocks", "block")
    assert "needed_by" not in blocks["aws-credentials/cl-profile"] and "needed_by" not in blocks["s3-bucket/cl-bucket-ref"]
    assert blocks["aws-credentials/cl-prod"]["needed_by"]


def test_without_an_api_url_the_needs_are_unverifiable_and_no_server_is_asked(repo, home):
    proc = run(["--format", "json"], repo, clean_env(home))
    assert proc.returncode == 0, proc.stderr
    section = json.loads(proc.stdout)["workspace"]
    assert section["api_url"] is None
    assert {row["status"] for row in section["blocks"] + section["variables"]} == {"unverifiable"}


def test_an_unreachable_server_exits_2_naming_the_url(repo, home):
    proc = run([], repo, clean_env(home, PREFECT_API_URL="http://127.0.0.1:9/api"))
    assert proc.returncode == 2
    assert "cannot reach the Prefect API at http://127.0.0.1:9/api" in proc.stderr


def test_what_the_code_does_without_is_reported_and_fails_nothing(needs_workspace, repo, home):
    (repo / "flows" / "tolerant.py").write_text(textwrap.dedent("""
        from prefect import flow
        from prefect.variables import Variable
        from prefect_aws import AwsCredentials

        @flow
        def tolerant():
            try:
                AwsCredentials.load("cln-maybe")
            except ValueError:
                pass
            Variable.get("cln_maybe_var", default="eu-west-1")
        """).lstrip("\n"))
    proc = run(["--format", "json", "--flow", "tolerant"], repo, needs_workspace.env(home))
    assert proc.returncode == 0, proc.stdout
    section = json.loads(proc.stdout)["workspace"]
    block = rows(section, "blocks", "block")["aws-credentials/cln-maybe"]
    variable = rows(section, "variables", "variable")["cln_maybe_var"]
    for row in (block, variable):
        assert row["status"] == "missing" and row["optional"] is True
        assert row["detail"].endswith("optional: the code does without it (it catches a missing block, or gives "
                                      "the Variable a default)")
    proc = run(["--format", "json", "--flow", "tolerant", "--block", "aws-credentials/cln-maybe"], repo,
               needs_workspace.env(home))
    assert proc.returncode == 1  # asked for by name: it must be there
