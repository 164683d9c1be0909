"""`credlint preflight` for Prefect 2.x/3.x against a real Prefect server (tests/prefect_server.py):
the configured `blocks` and `--block` names checked in the workspace — present, ambient (a
credentials block with no credential field set), missing with the closest name or the type it
exists under — Variables whose names say they hold credentials, and no value anywhere."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from prefect_server import (PLANTED_BLOCKS, PrefectServer, assert_no_leak, assert_no_leak_in_files, clean_env)

FLOW_1X = """
from prefect import Flow
from prefect.tasks.notifications.slack_task import SlackTask

with Flow("notify") as flow:
    SlackTask(message="hi")()
"""


def run(args, cwd: Path, env) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "credlint", "preflight", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)
    for text in (proc.stdout, proc.stderr):
        assert_no_leak(text)
    return proc


@pytest.fixture
def home(tmp_path) -> Path:
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


@pytest.fixture
def repo(tmp_path) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "flows").mkdir()
    (root / "flows" / "notify.py").write_text(FLOW_1X)
    return root


def configure(repo: Path, blocks) -> None:
    (repo / "credlint.toml").write_text("blocks = [" + ", ".join(f'"{b}"' for b in blocks) + "]\n")


def rows_by(section: dict, kind: str, key: str) -> dict:
    return {row[key]: row for row in section[kind]}


def test_configured_blocks_are_present_ambient_or_missing(planted_workspace: PrefectServer, repo, home):
    configure(repo, [f"{slug}/{name}" for slug, name in PLANTED_BLOCKS] + ["aws-credentials/cl-prodd"])
    proc = run(["--format", "json", "--block", "secret/cl-prod", "--block", "gcp-credentials/cl-gcp"], repo,
               planted_workspace.env(home))
    assert proc.returncode == 1, proc.stderr
    document = json.loads(proc.stdout)
    assert [flow["flow"] for flow in document["flows"]] == ["notify"]  # the 1.x part is still there
    section = document["workspace"]
    assert section["api_url"] == planted_workspace.url
    rows = rows_by(section, "blocks", "block")
    for (slug, name), status in PLANTED_BLOCKS.items():
        assert rows[f"{slug}/{name}"]["status"] == status, rows[f"{slug}/{name}"]
    assert rows["aws-credentials/cl-prod"]["detail"] == "credential fields set: aws_access_key_id, " \
                                                        "aws_secret_access_key, aws_session_token"
    assert rows["aws-credentials/cl-profile"]["detail"] == "credential fields set: profile_name"
    assert rows["aws-credentials/cl-region-only"]["detail"].startswith("the block has no credential field set")
    assert rows["s3-bucket/cl-bucket-inline"]["detail"].startswith(
        "credentials (aws-credentials) has no credential field set")
    assert rows["s3-bucket/cl-bucket-ref"]["detail"].startswith("credential fields set: credentials.aws_access_key_id")
    assert rows["aws-credentials/cl-prodd"] == {
        "block": "aws-credentials/cl-prodd", "slug": "aws-credentials", "name": "cl-prodd", "status": "missing",
        "detail": "not in the workspace; did you mean aws-credentials/cl-prod?"}
    assert "exists as aws-credentials" in rows["secret/cl-prod"]["detail"]
    assert rows["gcp-credentials/cl-gcp"]["detail"] == "not in the workspace, which has no gcp-credentials block"
    assert section["summary"]["blocks"] == {"present": 4, "ambient": 3, "unverifiable": 0, "missing": 3}
    variables = rows_by(section, "variables", "variable")
    assert variables["cl_db_password"]["status"] == "credential"
    assert "cl_db_host" not in variables  # not asked for, and not a credential by its name
    assert_no_leak_in_files(repo)  # the config, the cache: nothing credlint wrote holds a value


def test_table_shows_blocks_and_variables_after_the_flows(planted_workspace: PrefectServer, repo, home):
    configure(repo, ["aws-credentials/cl-empty", "secret/cl-github-token"])
    proc = run(["--variable", "cl_db_host", "--variable", "cl_db_port"], repo, planted_workspace.env(home))
    assert proc.returncode == 1, proc.stderr  # cl_db_port is missing, cl_db_password is a credential
    out = proc.stdout
    assert out.index("flow 'notify'") < out.index(f"Prefect blocks ({planted_workspace.url})") \
        < out.index("Prefect Variables")
    for text in ("aws-credentials/cl-empty", "ambient", "secret/cl-github-token", "cl_db_host", "cl_db_port",
                 "cl_db_password", "credential"):
        assert text in out
    assert "blocks: 1 present, 1 ambient; variables: 1 present, 1 missing, 1 credential" in out


def test_blocks_there_pass_a_credential_variable_fails_only_where_needed(planted_workspace: PrefectServer, repo,
                                                                           home):
    (repo / "flows" / "notify.py").unlink()  # no 1.x needs: only the workspace decides
    configure(repo, ["aws-credentials/cl-prod", "aws-credentials/cl-empty"])
    proc = run(["--format", "json"], repo, planted_workspace.env(home))
    assert proc.returncode == 0, proc.stdout  # ambient is a state, not a failure
    section = json.loads(proc.stdout)["workspace"]
    assert [row["status"] for row in section["blocks"]] == ["ambient", "present"]
    row, = section["variables"]  # listed: the workspace keeps a credential in plain text
    assert (row["variable"], row["status"], row["needed"]) == ("cl_db_password", "credential", False)
    assert "plain text" in row["detail"] and "Secret block" in row["detail"]
    proc = run(["--format", "json", "--variable", "cl_db_password"], repo, planted_workspace.env(home))
    assert proc.returncode == 1  # a flow reads it
    assert json.loads(proc.stdout)["workspace"]["variables"][0]["needed"] is True
    proc = run(["--format", "json", "--block", "secret/cl-gone"], repo, planted_workspace.env(home))
    assert proc.returncode == 1  # a missing block alone fails it


def test_without_blocks_to_check_preflight_is_as_before_and_asks_no_server(repo, home):
    """No `blocks`, no --block: the 1.x preflight alone, even with an API URL that answers nothing."""
    proc = run(["--format", "json"], repo, clean_env(home, PREFECT_API_URL="http://127.0.0.1:9/api"))
    assert proc.returncode == 1, proc.stderr  # the 1.x Slack webhook is missing, as before
    assert "workspace" not in json.loads(proc.stdout)
    table = run([], repo, clean_env(home, PREFECT_API_URL="http://127.0.0.1:9/api"))
    assert "Prefect blocks" not in table.stdout


def test_unreachable_server_exits_2_naming_the_url(repo, home):
    configure(repo, ["aws-credentials/cl-prod"])
    key = "pnu_" + "Zq8Wm2Xr5Lt9Kb3Vn7Hc1Pd4Gj6Fs0Ya2Bq"
    proc = run([], repo, clean_env(home, PREFECT_API_URL="http://127.0.0.1:9/api", PREFECT_API_KEY=key))
    assert proc.returncode == 2
    assert "cannot reach the Prefect API at http://127.0.0.1:9/api" in proc.stderr
    assert key[4:] not in proc.stderr + proc.stdout


def test_refused_key_exits_2_without_echoing_it(prefect_server: PrefectServer, repo, home):
    key = "pnu_" + "Zq8Wm2Xr5Lt9Kb3Vn7Hc1Pd4Gj6Fs0Ya2Bq"
    proc = run(["--block", "secret/cl-github-token"], repo,
               prefect_server.env(home, authenticated=False, PREFECT_API_KEY=key))
    assert proc.returncode == 2
    assert "refused PREFECT_API_KEY (HTTP 401)" in proc.stderr
    assert key[4:12] not in proc.stderr + proc.stdout


def test_without_api_url_configured_names_are_unverifiable_and_asked_names_an_error(repo, home):
    configure(repo, ["aws-credentials/cl-prod"])
    proc = run(["--format", "json"], repo, clean_env(home))
    assert proc.returncode == 1, proc.stderr  # the 1.x need only
    row, = json.loads(proc.stdout)["workspace"]["blocks"]
    assert row["status"] == "unverifiable" and "PREFECT_API_URL is not set" in row["detail"]
    proc = run(["--block", "secret/x"], repo, clean_env(home))
    assert proc.returncode == 2 and "PREFECT_API_URL is not set" in proc.stderr


@pytest.mark.parametrize("config, bad", [
    ('blocks = "aws-credentials/prod"\n', 'must be a list of "slug/name"'),
    ('select = ["CL1"]\nblocks = ["prod"]\n', 'must be a list of "slug/name"'),
    ('blocks = [\n  "aws-credentials/prod",\n  "AWS/Prod",\n]\n', 'must be a list of "slug/name"'),
])
def test_config_blocks_of_an_unknown_shape_exit_2_naming_file_line_and_key(repo, home, config, bad):
    (repo / "credlint.toml").write_text(config)
    proc = run([], repo, clean_env(home))
    assert proc.returncode == 2
    line = config.splitlines().index(next(l for l in config.splitlines() if l.startswith("blocks"))) + 1
    assert f"credlint.toml:{line}: blocks: {bad}" in proc.stderr


def test_bad_block_argument_is_a_usage_error(repo, home):
    proc = run(["--block", "aws-credentials"], repo, clean_env(home))
    assert proc.returncode == 2 and "--block aws-credentials: expected SLUG/NAME" in proc.stderr


# ---- the decision itself, on field states (no server) -----------------------------------------


def node(slug, set_fields=(), empty=(), secret=(), nested=()):
    from credlint.tools.prefect_api import BlockNode

    return BlockNode(slug, frozenset(set_fields), frozenset(empty), frozenset(secret), tuple(nested))


@pytest.mark.parametrize("block, status", [
    # GcpCredentials(service_account_info={}) comes back with the field empty: ADC
    (node("gcp-credentials", ["project"], ["service_account_info", "service_account_file"],
          ["service_account_info"]), "ambient"),
    (node("gcp-credentials", ["service_account_file"], ["service_account_info"], ["service_account_info"]),
     "present"),
    # account_url alone: DefaultAzureCredential
    (node("azure-blob-storage-credentials", ["account_url"], ["connection_string", "client_id", "tenant_id",
                                                              "client_secret"],
          ["connection_string", "client_secret"]), "ambient"),
    (node("azure-container-instance-credentials", ["credential_kwargs"],
          ["client_id", "tenant_id", "client_secret"], ["client_secret"]), "ambient"),
    (node("kubernetes-credentials", [], [], [], [("cluster_config", node("kubernetes-cluster-config",
                                                                         ["config", "context_name"]), "k8s")]),
     "present"),
    (node("kubernetes-credentials", [], ["cluster_config"]), "ambient"),
    (node("github-credentials", [], ["token"], ["token"]), "ambient"),
    (node("json", ["value"]), "present"),  # holds no credentials: nothing to be ambient about
    (node("gcs-bucket", ["bucket"], [], [], [("gcp_credentials", node("gcp-credentials", ["project"]), None)]),
     "ambient"),
])
def test_credentials_block_states(block, status):
    from credlint.tools.block_preflight import assess_document
    from credlint.tools.prefect_api import BlockDocument

    assert assess_document(BlockDocument(block.slug, "x", block))[0] == status


def test_the_catalogue_may_name_the_credential_fields():
    from credlint.tools.block_preflight import assess_document
    from credlint.tools.prefect_api import BlockDocument

    document = BlockDocument("acme-credentials", "x", node("acme-credentials", ["realm"], ["pin"]))
    assert assess_document(document)[0] == "ambient"
    assert assess_document(document, lambda slug: {"realm"})[0] == "present"


def test_the_block_catalogue_decides_for_the_types_it_knows():
    """`catalogue_fields` (the default) takes a type's fields from prefect/blocks.py: an AWS profile
    or role chooses the credentials; a region does not."""
    from credlint.tools.block_preflight import assess_document, catalogue_fields
    from credlint.tools.prefect_api import BlockDocument

    assert {"profile_name", "assume_role_arn", "aws_access_key_id"} <= catalogue_fields("aws-credentials")
    assert "region_name" not in catalogue_fields("aws-credentials")
    assert catalogue_fields("acme-credentials") is None
    role = node("aws-credentials", ["assume_role_arn", "region_name"], ["aws_access_key_id"], ["aws_secret_access_key"])
    assert assess_document(BlockDocument("aws-credentials", "x", role), catalogue_fields)[0] == "present"
    region = node("aws-credentials", ["region_name", "aws_client_parameters"], ["assume_role_arn"])
    assert assess_document(BlockDocument("aws-credentials", "x", region), catalogue_fields)[0] == "ambient"
