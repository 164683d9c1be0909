"""`credlint preflight`: the environment checked against the flows' needs, values never shown."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

# Planted values: well formed, never a placeholder word. None may appear in any output.
AKID = "AKIAQ7RZ4MPLW2K5HN3D"
SAK = "k3Jh9Qw2Lr8Vn5Tb7Yc1Xz4Pm6Ds0Fg2Hj8Kl5Nq"
HOOK = "https://hooks.slack.com/services/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"
DSN = "postgresql://etl:Vq7nR2pL9xWz@db.internal:5432/warehouse"
PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7Zx4Qm\n-----END PRIVATE KEY-----\n"
# the secret-bearing parts (a URL scheme or host is no secret)
PLANTED = [AKID, SAK, HOOK.rsplit("/services/", 1)[1], "Vq7nR2pL9xWz", "db.internal:5432/warehouse",
           "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7Zx4Qm"]

ETL = """
from prefect import Flow
from prefect.tasks.aws.s3 import S3Download
from prefect.tasks.gcp.storage import GCSDownload
from prefect.tasks.notifications.slack_task import SlackTask

with Flow("etl") as flow:
    S3Download(bucket="b")(key="k")
    GCSDownload(bucket="b")(blob="x")
    SlackTask(message="hi")()
"""
LOADER = """
from prefect import Flow
from prefect.storage import Docker
from prefect.run_configs import DockerRun
from prefect.tasks.notifications.slack_task import SlackTask

with Flow("loader", storage=Docker(secrets=["DB_DSN"]),
          run_config=DockerRun(env={"PREFECT__CONTEXT__SECRETS__SLACK_WEBHOOK_URL": "$HOOK"})) as loader:
    SlackTask(message="hi")()
"""


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "proj"
    (root / "flows").mkdir(parents=True)
    (root / "credlint.toml").write_text("")
    (root / "flows" / "etl.py").write_text(ETL)
    (root / "flows" / "loader.py").write_text(LOADER)
    (tmp_path / "home").mkdir()
    return root


def base_env(tmp_path, **extra):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path / "home"), "NO_COLOR": "1"}
    env.update(extra)
    return env


def run(project, env, *args):
    proc = subprocess.run([sys.executable, "-m", "credlint", "preflight", *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=120)
    for text in (proc.stdout, proc.stderr):
        assert_no_leak(text)
    return proc


def assert_no_leak(text):
    for value in PLANTED:
        for i in range(0, len(value) - 7):
            assert value[i:i + 8] not in text, f"planted value fragment {value[i:i + 8]!r} leaked"


def doc(proc):
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


def need(document, flow, secret):
    for f in document["flows"]:
        if f["flow"] == flow:
            for n in f["needs"]:
                if n["secret"] == secret:
                    return n
    raise AssertionError(f"no need {secret} in {flow}")


def sa_file(path, drop=()):
    data = {"type": "service_account", "project_id": "acme-etl", "private_key_id": "4f1e9c2d7a",
            "private_key": PEM, "client_email": "etl@acme-etl.iam.gserviceaccount.com",
            "token_uri": "https://oauth2.googleapis.com/token"}
    for key in drop:
        data.pop(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


AWS_DICT = json.dumps({"ACCESS_KEY": AKID, "SECRET_ACCESS_KEY": SAK})


# --------------------------------------------------------------------------------------------


def test_nothing_provided_is_missing_and_exit_1(project, tmp_path):
    proc = run(project, base_env(tmp_path), "--format", "json")
    assert proc.returncode == 1
    d = doc(proc)
    assert need(d, "etl", "AWS_CREDENTIALS")["status"] == "missing"
    assert need(d, "etl", "GCP_CREDENTIALS")["status"] == "missing"
    assert need(d, "etl", "SLACK_WEBHOOK_URL")["status"] == "missing"
    assert d["environment"] == {**d["environment"], "backend": "cloud", "use_local_secrets": True, "agent": None}
    assert d["version"] == 1 and d["tool"]["name"] == "credlint"
    assert set(d["summary"]) == {"present", "ambient", "unverifiable", "missing", "malformed"}


def test_env_context_secrets_present_with_shapes_and_exit_0(project, tmp_path):
    sa = sa_file(tmp_path / "keys" / "sa.json")
    env = base_env(tmp_path, PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS=AWS_DICT,
                   PREFECT__CONTEXT__SECRETS__SLACK_WEBHOOK_URL=HOOK,
                   PREFECT__CONTEXT__SECRETS__DB_DSN=DSN, GOOGLE_APPLICATION_CREDENTIALS=str(sa))
    proc = run(project, env, "--format", "json")
    d = doc(proc)
    aws = need(d, "etl", "AWS_CREDENTIALS")
    assert aws["status"] == "present"
    assert aws["source"] == "env PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS"
    assert aws["shape"] == "dict with keys ACCESS_KEY, SECRET_ACCESS_KEY"
    slack = need(d, "etl", "SLACK_WEBHOOK_URL")
    assert slack["status"] == "present" and slack["shape"] == "string of 64-127 characters"  # 77: never exact
    gcp = need(d, "etl", "GCP_CREDENTIALS")
    assert gcp["status"] == "ambient" and "GOOGLE_APPLICATION_CREDENTIALS" in gcp["source"]
    assert need(d, "loader", "DB_DSN")["status"] == "present"
    assert proc.returncode == 0, d["summary"]
    table = run(project, env)
    assert table.returncode == 0 and "present" in table.stdout and "ACCESS_KEY" in table.stdout


def test_aws_credentials_without_secret_key_is_malformed(project, tmp_path):
    env = base_env(tmp_path, PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS=json.dumps({"ACCESS_KEY": AKID}))
    proc = run(project, env, "--format", "json", "--flow", "etl")
    assert proc.returncode == 1
    aws = need(doc(proc), "etl", "AWS_CREDENTIALS")
    assert aws["status"] == "malformed" and "SECRET_ACCESS_KEY" in aws["shape"]


def test_json_with_booleans_stays_a_string_for_context_consumers(project, tmp_path):
    value = json.dumps({"ACCESS_KEY": AKID, "SECRET_ACCESS_KEY": SAK, "rotate": True})
    env = base_env(tmp_path, PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS=value)
    aws = need(doc(run(project, env, "--format", "json")), "etl", "AWS_CREDENTIALS")
    assert aws["status"] == "malformed"
    assert aws["shape"].startswith("string of 64-127 characters") and "JSON" in aws["shape"]
    assert str(len(value)) not in aws["shape"]


def test_slack_webhook_not_a_url_is_malformed(project, tmp_path):
    env = base_env(tmp_path, PREFECT__CONTEXT__SECRETS__SLACK_WEBHOOK_URL=DSN)
    slack = need(doc(run(project, env, "--format", "json")), "etl", "SLACK_WEBHOOK_URL")
    assert slack["status"] == "malformed" and "characters" in slack["shape"]


def test_user_config_context_secrets_and_dollar_expansion(project, tmp_path):
    prefect_dir = tmp_path / "home" / ".prefect"
    prefect_dir.mkdir(parents=True)
    (prefect_dir / "config.toml").write_text(textwrap.dedent("""
        [context.secrets]
        SLACK_WEBHOOK_URL = "$SLACK_HOOK_VALUE"
        [context.secrets.AWS_CREDENTIALS]
        ACCESS_KEY = "$AWS_KEY_VALUE"
        SECRET_ACCESS_KEY = "$AWS_SECRET_VALUE"
        """))
    env = base_env(tmp_path, SLACK_HOOK_VALUE=HOOK, AWS_KEY_VALUE=AKID, AWS_SECRET_VALUE=SAK)
    d = doc(run(project, env, "--format", "json"))
    slack = need(d, "etl", "SLACK_WEBHOOK_URL")
    assert slack["status"] == "present" and slack["source"] == "user config ~/.prefect/config.toml"
    assert slack["shape"] == "string of 64-127 characters"  # expanded like Prefect does ($SLACK_HOOK_VALUE: 16-31)
    aws = need(d, "etl", "AWS_CREDENTIALS")
    assert aws["status"] == "present" and aws["shape"] == "dict with keys ACCESS_KEY, SECRET_ACCESS_KEY"


def test_user_config_path_variable(project, tmp_path):
    cfg = tmp_path / "elsewhere.toml"
    cfg.write_text(f'[context.secrets]\nSLACK_WEBHOOK_URL = "{HOOK}"\n')
    env = base_env(tmp_path, PREFECT__USER_CONFIG_PATH=str(cfg))
    slack = need(doc(run(project, env, "--format", "json")), "etl", "SLACK_WEBHOOK_URL")
    assert slack["status"] == "present" and "elsewhere.toml" in slack["source"]


def test_aws_env_credentials_chain(project, tmp_path):
    env = base_env(tmp_path, AWS_ACCESS_KEY_ID=AKID, AWS_SECRET_ACCESS_KEY=SAK)
    aws = need(doc(run(project, env, "--format", "json")), "etl", "AWS_CREDENTIALS")
    assert aws["status"] == "ambient" and aws["source"].startswith("AWS env credentials")


def test_aws_shared_credentials_default_and_named_profile(project, tmp_path):
    aws_dir = tmp_path / "home" / ".aws"
    aws_dir.mkdir(parents=True)
    (aws_dir / "credentials").write_text(
        f"[default]\naws_access_key_id = {AKID}\naws_secret_access_key = {SAK}\n"
        f"[etl]\naws_access_key_id = {AKID}\n")
    d = doc(run(project, base_env(tmp_path), "--format", "json"))
    aws = need(d, "etl", "AWS_CREDENTIALS")
    assert aws["status"] == "ambient" and aws["source"] == "AWS profile default in ~/.aws/credentials"
    d = doc(run(project, base_env(tmp_path, AWS_PROFILE="etl"), "--format", "json"))
    assert need(d, "etl", "AWS_CREDENTIALS")["status"] == "malformed"
    d = doc(run(project, base_env(tmp_path, AWS_PROFILE="nowhere"), "--format", "json"))
    assert need(d, "etl", "AWS_CREDENTIALS")["status"] == "missing"


def test_aws_config_file_role_and_identity_variables(project, tmp_path):
    cfg = tmp_path / "awsconfig"
    cfg.write_text("[profile ops]\nrole_arn = arn:aws:iam::123456789012:role/etl\nsource_profile = base\n")
    env = base_env(tmp_path, AWS_CONFIG_FILE=str(cfg), AWS_PROFILE="ops")
    aws = need(doc(run(project, env, "--format", "json")), "etl", "AWS_CREDENTIALS")
    assert aws["status"] == "ambient" and "role_arn" in aws["source"]
    token = tmp_path / "web-identity"
    token.write_text("eyJhbGciOiJSUzI1NiJ9")
    env = base_env(tmp_path, AWS_WEB_IDENTITY_TOKEN_FILE=str(token), AWS_ROLE_ARN="arn:aws:iam::123456789012:role/etl")
    assert need(doc(run(project, env, "--format", "json")), "etl", "AWS_CREDENTIALS")["status"] == "ambient"
    env = base_env(tmp_path, AWS_CONTAINER_CREDENTIALS_RELATIVE_URI="/v2/credentials/4d1c")
    aws = need(doc(run(project, env, "--format", "json")), "etl", "AWS_CREDENTIALS")
    assert aws["status"] == "ambient" and "container" in aws["source"]


def test_gcp_service_account_file_missing_client_email_is_malformed(project, tmp_path):
    sa = sa_file(tmp_path / "keys" / "sa.json", drop=("client_email",))
    env = base_env(tmp_path, GOOGLE_APPLICATION_CREDENTIALS=str(sa))
    proc = run(project, env, "--format", "json")
    assert proc.returncode == 1
    gcp = need(doc(proc), "etl", "GCP_CREDENTIALS")
    assert gcp["status"] == "malformed" and "client_email" in gcp["shape"]


def test_gcloud_adc_file(project, tmp_path):
    adc = tmp_path / "home" / ".config" / "gcloud" / "application_default_credentials.json"
    adc.parent.mkdir(parents=True)
    adc.write_text(json.dumps({"type": "authorized_user", "client_id": "764086051850.apps.googleusercontent.com",
                               "client_secret": "d-FL95Q19q7MQmFpd7hHD0Ty", "refresh_token": "1//0gLq3vR8"}))
    gcp = need(doc(run(project, base_env(tmp_path), "--format", "json")), "etl", "GCP_CREDENTIALS")
    assert gcp["status"] == "ambient" and "gcloud ADC" in gcp["source"]


def test_gcp_dict_in_context(project, tmp_path):
    value = repr({"type": "service_account", "private_key": PEM, "client_email": "etl@acme-etl.iam.gserviceaccount.com",
                  "token_uri": "https://oauth2.googleapis.com/token"})
    env = base_env(tmp_path, PREFECT__CONTEXT__SECRETS__GCP_CREDENTIALS=value)
    gcp = need(doc(run(project, env, "--format", "json")), "etl", "GCP_CREDENTIALS")
    assert gcp["status"] == "present" and "client_email" in gcp["shape"]


def test_agent_docker_ignores_process_env(project, tmp_path):
    env = base_env(tmp_path, PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS=AWS_DICT,
                   PREFECT__CONTEXT__SECRETS__SLACK_WEBHOOK_URL=HOOK, AWS_ACCESS_KEY_ID=AKID,
                   AWS_SECRET_ACCESS_KEY=SAK, PREFECT__BACKEND="server")
    d = doc(run(project, env, "--format", "json", "--agent", "docker"))
    assert d["environment"]["agent"] == "docker" and d["environment"]["use_local_secrets"] is False
    assert need(d, "etl", "AWS_CREDENTIALS")["status"] == "missing"
    assert need(d, "etl", "SLACK_WEBHOOK_URL")["status"] == "missing"
    # run-config env declared in the flow still reaches the run
    loader_slack = need(d, "loader", "SLACK_WEBHOOK_URL")
    assert loader_slack["status"] == "present" and "static" in loader_slack["source"]
    assert need(d, "loader", "DB_DSN")["status"] == "missing"  # backend server: no remote store


def test_agent_local_keeps_process_env(project, tmp_path):
    env = base_env(tmp_path, PREFECT__CONTEXT__SECRETS__SLACK_WEBHOOK_URL=HOOK, AWS_ACCESS_KEY_ID=AKID,
                   AWS_SECRET_ACCESS_KEY=SAK)
    d = doc(run(project, env, "--format", "json", "--agent", "local", "--flow", "etl"))
    assert need(d, "etl", "SLACK_WEBHOOK_URL")["status"] == "present"
    assert need(d, "etl", "AWS_CREDENTIALS")["status"] == "ambient"
    assert d["environment"]["use_local_secrets"] is False


def test_backend_cloud_with_agent_is_unverifiable_server_is_missing(project, tmp_path):
    d = doc(run(project, base_env(tmp_path), "--format", "json", "--agent", "kubernetes", "--flow", "loader"))
    dsn = need(d, "loader", "DB_DSN")
    assert dsn["status"] == "unverifiable" and "Prefect Cloud" in dsn["source"]
    d = doc(run(project, base_env(tmp_path, PREFECT__BACKEND="server"), "--format", "json", "--agent", "kubernetes",
                "--flow", "loader"))
    assert d["environment"]["backend"] == "server"
    assert need(d, "loader", "DB_DSN")["status"] == "missing"


def test_backend_from_backend_toml_and_user_config_flag(project, tmp_path):
    prefect_dir = tmp_path / "home" / ".prefect"
    prefect_dir.mkdir(parents=True)
    (prefect_dir / "backend.toml").write_text('backend = "server"\n')
    (prefect_dir / "config.toml").write_text('backend = "cloud"\n[cloud]\nuse_local_secrets = false\n')
    d = doc(run(project, base_env(tmp_path), "--format", "json", "--flow", "loader"))
    assert d["environment"]["backend"] == "server" and d["environment"]["use_local_secrets"] is False
    (prefect_dir / "backend.toml").unlink()
    d = doc(run(project, base_env(tmp_path), "--format", "json", "--flow", "loader"))
    assert d["environment"]["backend"] == "cloud"
    assert need(d, "loader", "DB_DSN")["status"] == "unverifiable"


def test_flow_filter_and_usage_errors(project, tmp_path):
    d = doc(run(project, base_env(tmp_path), "--format", "json", "--flow", "loader"))
    assert [f["flow"] for f in d["flows"]] == ["loader"]
    assert run(project, base_env(tmp_path), "--flow", "nope").returncode == 2
    assert run(project, base_env(tmp_path), "--agent", "nomad").returncode == 2
    assert run(project, base_env(tmp_path), "does/not/exist").returncode == 2


def test_no_value_written_to_files(project, tmp_path):
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    env = base_env(tmp_path, PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS=AWS_DICT,
                   PREFECT__CONTEXT__SECRETS__DB_DSN=DSN, CREDLINT_DEBUG="1")
    run(project, env, "--format", "json")
    run(project, env)
    for path in tmp_path.rglob("*"):
        if path.is_file() and path not in before:
            if path.parent.name == ".credlint_cache" and path.name.startswith("catalogue-"):
                continue  # credlint's own catalogue (it names Snowflake's `warehouse` parameter)
            assert_no_leak(path.read_text(errors="replace"))


def test_nested_env_form_and_mixed_case_prefix(project, tmp_path):
    env = base_env(tmp_path, PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS__ACCESS_KEY=AKID,
                   PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS__SECRET_ACCESS_KEY=SAK,
                   PREFECT__Context__Secrets__SLACK_WEBHOOK_URL=HOOK)
    d = doc(run(project, env, "--format", "json", "--flow", "etl"))
    aws = need(d, "etl", "AWS_CREDENTIALS")
    assert aws["status"] == "present" and aws["shape"] == "dict with keys ACCESS_KEY, SECRET_ACCESS_KEY"
    assert need(d, "etl", "SLACK_WEBHOOK_URL")["status"] == "missing"  # Prefect never reads that prefix


def test_agent_forwarding_declared_in_deployment_files(project, tmp_path):
    deploy = project / "deploy"
    deploy.mkdir()
    (deploy / "agent.sh").write_text(
        "#!/bin/sh\nprefect agent docker start -e PREFECT__CONTEXT__SECRETS__SLACK_WEBHOOK_URL=\"$HOOK\"\n")
    d = doc(run(project, base_env(tmp_path), "--format", "json", "--agent", "docker", "--flow", "etl"))
    slack = need(d, "etl", "SLACK_WEBHOOK_URL")
    assert slack["status"] == "present" and "docker agent --env" in slack["source"]


def test_dict_keys_that_look_like_values_are_not_shown(project, tmp_path):
    env = base_env(tmp_path, PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS=repr({AKID: SAK, "ACCESS_KEY": AKID}))
    proc = run(project, env, "--format", "json", "--flow", "etl")
    aws = need(doc(proc), "etl", "AWS_CREDENTIALS")
    assert aws["status"] == "malformed" and "SECRET_ACCESS_KEY" in aws["shape"]
    table = run(project, env, "--flow", "etl")
    assert table.returncode == 1


def test_a_string_is_described_by_a_range_of_lengths_never_its_length():
    """A secret's exact length narrows a guess: the shape gives a power-of-two range instead."""
    from credlint.tools.preflight import describe

    assert describe("") == "empty string"
    assert describe("a") == describe("a" * 7) == "string of fewer than 8 characters"
    assert describe("a" * 32) == describe("a" * 63) == "string of 32-63 characters"
    assert describe("a" * 64) == "string of 64-127 characters"
    for length in range(9, 300):
        if length & (length - 1) and (length + 1) & length:  # not a range's bound (2**k, 2**(k+1) - 1)
            assert str(length) not in describe("a" * length)
