"""CL101/CL102 fire for every catalogued integration: one representative consumer per
(integration, default secret name), used in a flow the way that kind of object is used."""
from __future__ import annotations

import re

import pytest

from conftest import check_json
from credlint.prefect.catalogue import builtin_catalogue
from credlint.api import Options, check


def _representatives():
    chosen = {}
    for entry in builtin_catalogue():
        for spec in entry.secrets:
            if not spec.name or spec.mechanism not in ("context", "secret_get"):
                continue
            key = (entry.integration, spec.name)
            if key not in chosen:
                chosen[key] = (entry, spec)
    return [chosen[k] for k in sorted(chosen)]


REPRESENTATIVES = _representatives()


def _usage(entry) -> str:
    module, name = entry.symbol.rsplit(".", 1)
    head = f"from prefect import Flow, task\nfrom {module} import {name}\n\n"
    if entry.kind == "storage":
        return head + f'with Flow("f", storage={name}()) as flow:\n    pass\n'
    if entry.kind == "result":
        return head + f'with Flow("f", result={name}()) as flow:\n    pass\n'
    if entry.kind == "notifier":
        return head + f'with Flow("f", state_handlers=[{name}]) as flow:\n    pass\n'
    if name[:1].islower() and entry.kind == "utility":
        return head + f"@task\ndef work():\n    return {name}()\n\nwith Flow(\"f\") as flow:\n    work()\n"
    if name[:1].islower():
        return head + f'with Flow("f") as flow:\n    {name}()\n'
    return head + f'with Flow("f") as flow:\n    {name}()()\n'


def test_every_integration_with_a_default_secret_is_represented():
    integrations = {e.integration for e in builtin_catalogue() if any(s.name for s in e.secrets)}
    assert integrations == {entry.integration for entry, _ in REPRESENTATIVES}
    assert len(REPRESENTATIVES) >= 15


@pytest.mark.parametrize("entry, spec", REPRESENTATIVES,
                         ids=[f"{e.integration}-{s.name}" for e, s in REPRESENTATIVES])
def test_representative_consumer_is_reported(project, monkeypatch, entry, spec):
    project({"flow.py": _usage(entry)}, config='backend = "server"\n')
    monkeypatch.chdir(project.root)
    report = check(Options(paths=["."])).report
    expected_code = "CL102" if spec.mechanism == "context" else "CL101"
    found = {(f.code, f.secret, f.symbol) for f in report.findings}
    if spec.optional:  # git storage tokens: anonymous access without them, no fallback to report
        assert not any(secret == spec.name for _, secret, _ in found), sorted(found)
        return
    assert (expected_code, spec.name, entry.symbol) in found, (
        f"{entry.symbol} used as a {entry.kind} should report {expected_code} for {spec.name}; got {sorted(found)}")


def test_catalog_command_json_lists_every_entry(project):
    from conftest import run_cli
    import json

    code, out, _ = run_cli("catalog", "--format", "json", cwd=project.root)
    assert code == 0
    data = json.loads(out)
    assert len(data) == len(builtin_catalogue())
    keys = {"symbol", "aliases", "kind", "integration", "secrets", "credential_params", "env_vars", "notes"}
    assert all(set(item) == keys for item in data)
    s3 = next(item for item in data if item["symbol"] == "prefect.tasks.aws.s3.S3Download")
    assert s3["secrets"][0]["name"] == "AWS_CREDENTIALS" and s3["secrets"][0]["mechanism"] == "context"
    assert set(s3["secrets"][0]) == {"name", "mechanism", "name_param", "required", "shape"}
    assert {p["param"] for p in s3["credential_params"]} >= {"credentials", "boto_kwargs"}


@pytest.mark.parametrize("symbol", ["prefect.tasks.aws.S3Download", "prefect.tasks.aws.s3.S3Download"])
def test_catalog_command_shows_one_entry_by_any_import_path(project, symbol):
    import json

    from conftest import run_cli

    code, out, _ = run_cli("catalog", symbol, "--format", "json", cwd=project.root)
    assert code == 0
    assert json.loads(out)["symbol"] == "prefect.tasks.aws.s3.S3Download"
    code, out, _ = run_cli("catalog", symbol, cwd=project.root)
    assert code == 0 and "AWS_CREDENTIALS" in out and "boto_kwargs" in out


def test_catalog_command_unknown_symbol(project):
    from conftest import run_cli

    code, _, err = run_cli("catalog", "prefect.tasks.aws.S3Downlaod", cwd=project.root)
    assert code == 2 and "not in the catalogue" in err


# ----- CL103 ineffective-credential-argument -------------------------------------------------------
@pytest.mark.parametrize("code, expected", [
    ('S3Download(bucket="b", aws_credentials_secret="ETL_AWS")', [("CL103", "aws_credentials_secret")]),
    ('S3Download(bucket="b")(key="k", aws_credentials_secret="ETL_AWS")', [("CL103", "aws_credentials_secret")]),
    ('GCSDownload(bucket="b", credentials_secret="GCP")', [("CL103", "credentials_secret")]),
    ('SftpDownload(host="h", port_number=22)(remote_path="/x", password=pw)', [("CL103", "password")]),
    ('SftpDownload(host="h", port_number=22, username="u", password=pw)(remote_path="/x")', []),
    ('S3Download(bucket="b")(key="k", credentials=creds)', []),
], ids=["0x-init", "0x-run", "0x-gcp", "sftp-run-password", "sftp-init-password", "current-arg"])
def test_ineffective_credential_arguments(project, code, expected):
    project({"flow.py": f"""
        from prefect import Flow
        from prefect.tasks.aws.s3 import S3Download
        from prefect.tasks.gcp.storage import GCSDownload
        from prefect.tasks.secrets import PrefectSecret
        from prefect.tasks.sftp import SftpDownload

        with Flow("f") as flow:
            pw = PrefectSecret("SFTP_PASSWORD")
            creds = PrefectSecret("AWS_CREDENTIALS")
            {code}
        """})
    doc = check_json("--select", "CL103", ".", cwd=project.root)
    got = [(f["code"], re.search(r"(\w+)=", f["message"]).group(1)) for f in doc["findings"]]
    assert got == expected, doc["findings"]
    for finding in doc["findings"]:
        assert "Prefect" in finding["message"]


# ----- CL303 secret-in-flow-metadata (catalogue part) -----------------------------------------------
@pytest.mark.parametrize("storage, task, fires", [
    ('S3(bucket="flows")', 'DbtCloudRunJob(cause="c")()', True),
    ("None", 'DbtCloudRunJob(cause="c")()', True),
    ('GitHub(repo="a/b", path="f.py")', 'DbtCloudRunJob(cause="c")()', False),
    ('S3(bucket="flows", stored_as_script=True)', 'DbtCloudRunJob(cause="c")()', False),
    ('S3(bucket="flows")', 'DbtCloudRunJob(cause="c", token=token)()', False),
    ('S3(bucket="flows")', 'CubePreAggregationsBuildTask(subdomain="acme")()', True),
], ids=["pickled", "default-storage", "script-storage", "stored-as-script", "token-given", "cubejs"])
def test_credentials_read_in_init_are_pickled(project, storage, task, fires):
    project({"flow.py": f"""
        import os
        from prefect import Flow
        from prefect.storage import GitHub, S3
        from prefect.tasks.cubejs import CubePreAggregationsBuildTask
        from prefect.tasks.dbt import DbtCloudRunJob

        token = os.environ["DBT_TOKEN"]
        with Flow("f", storage={storage}) as flow:
            {task}
        """})
    doc = check_json("--select", "CL303", ".", cwd=project.root)
    assert bool(doc["findings"]) is fires, doc["findings"]
    if fires:
        (finding,) = doc["findings"]
        assert "__init__" in finding["message"] and finding["flow"] == "f"


@pytest.mark.parametrize("expression, fires", [
    ('KubernetesRun(env={"PW": Secret("PW").get()})', True),
    ('KubernetesRun(env={"AWS_SECRET_ACCESS_KEY": os.environ["AWS_SECRET_ACCESS_KEY"]})', True),
    ('KubernetesRun(env={"REGION": os.environ["AWS_REGION"]})', False),
    ('KubernetesRun(env=dotenv_values(".env"))', True),
    ('DockerRun(env={"TOKEN": dotenv_values(".env")["TOKEN"]})', True),
    ('ECSRun(task_definition={"containerDefinitions": [{"environment": [{"name": "PW", "value": Secret("PW").get()}]}]})', True),
    ('KubernetesRun(env={"PREFECT__CONTEXT__SECRETS__PW": "$PW"})', False),
], ids=["secret-get", "credential-env", "plain-env", "dotenv-map", "dotenv-value", "ecs-task-definition", "reference"])
def test_registration_time_values_in_run_configs(project, expression, fires):
    project({"flow.py": f"""
        import os
        from dotenv import dotenv_values
        from prefect import Flow
        from prefect.client import Secret
        from prefect.run_configs import DockerRun, ECSRun, KubernetesRun

        with Flow("f") as flow:
            pass

        flow.run_config = {expression}
        """})
    doc = check_json("--select", "CL303", ".", cwd=project.root)
    assert bool(doc["findings"]) is fires, doc["findings"]
    if fires:
        assert all("plain text" in f["message"] for f in doc["findings"])


def test_registration_time_values_in_storage(project):
    project({"flow.py": """
        import os
        from prefect import Flow
        from prefect.storage import Docker, S3

        flow = Flow("f", storage=S3(bucket="b", client_options={"aws_secret_access_key": os.environ["AWS_SECRET_ACCESS_KEY"]}))
        other = Flow("g", storage=Docker(env_vars={"API_TOKEN": os.getenv("API_TOKEN")}))
        """})
    doc = check_json("--select", "CL303", ".", cwd=project.root)
    assert sorted(f["line"] for f in doc["findings"]) == [5, 6]
