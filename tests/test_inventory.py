"""`credlint inventory`: every need of every flow with its state and providers, no values."""
import json

from conftest import run_cli

FLOW = """
    from prefect import Flow
    from prefect.run_configs import ECSRun
    from prefect.storage import S3
    from prefect.tasks.aws.s3 import S3Download
    from prefect.tasks.notifications import SlackTask
    from prefect.tasks.secrets import PrefectSecret

    with Flow("etl", storage=S3(bucket="flows", secrets=["AWS_CREDENTIALS"])) as flow:
        S3Download(bucket="raw")(key="k")
        SlackTask(message="done")(upstream_tasks=[PrefectSecret("DB_PASSWORD")])

    with Flow("reports", run_config=ECSRun(task_role_arn="arn:aws:iam::123456789012:role/reports")) as other:
        S3Download(bucket="raw")(key="k", credentials=PrefectSecret("READER_AWS"))
        S3Download(bucket="raw")(key="j")
    """


def _inventory(project, *args):
    code, out, err = run_cli("inventory", "--format", "json", *args, cwd=project.root)
    assert code == 0, err
    return json.loads(out)


def test_inventory_states_and_providers(project):
    project({"flow.py": FLOW, "deploy/config.toml": '[context.secrets]\nSLACK_WEBHOOK_URL = "$HOOK"\n'},
            config='cloud-secrets = ["AWS_CREDENTIALS"]\n')
    doc = _inventory(project, ".")
    assert doc["version"] == 1 and doc["tool"]["name"] == "credlint"
    flows = {f["flow"]: f for f in doc["flows"]}
    assert set(flows) == {"etl", "reports"}
    etl = {(n["secret"], n["consumer"]): n for n in flows["etl"]["needs"]}
    assert etl[("AWS_CREDENTIALS", "S3Download")]["state"] == "provided"
    assert etl[("AWS_CREDENTIALS", "S3Download")]["providers"][0]["kind"] == "storage"
    assert etl[("AWS_CREDENTIALS", "S3")]["state"] == "provided"  # the storage itself
    slack = etl[("SLACK_WEBHOOK_URL", "SlackTask")]
    assert slack["state"] == "provided" and slack["providers"][0]["path"] == "deploy/config.toml"
    assert slack["providers"][0]["line"] == 2
    assert etl[("DB_PASSWORD", "PrefectSecret")]["state"] == "missing"  # inventory configured, not in it
    reports = flows["reports"]["needs"]
    states = sorted((n["secret"], n["state"]) for n in reports)
    assert ("AWS_CREDENTIALS", "argument") in states
    assert ("AWS_CREDENTIALS", "ambient") in states
    assert ("READER_AWS", "missing") in states
    ambient = next(n for n in reports if n["state"] == "ambient")
    assert "task_role_arn" in ambient["reason"]


def test_inventory_reports_only_the_paths_asked_and_never_values(project):
    project({"a.py": FLOW, "b.py": 'from prefect import Flow\nwith Flow("other") as f:\n    pass\n'})
    doc = _inventory(project, "b.py")
    assert [f["flow"] for f in doc["flows"]] == ["other"]
    assert doc["flows"][0]["needs"] == []
    code, out, _ = run_cli("inventory", ".", cwd=project.root)
    assert code == 0 and "etl" in out and "unverifiable" in out and "reports" in out


def test_inventory_unverifiable_without_cloud_inventory(project):
    project({"flow.py": FLOW})
    doc = _inventory(project, ".")
    etl = {(n["secret"], n["consumer"]): n["state"] for n in doc["flows"][0]["needs"]}
    assert etl[("DB_PASSWORD", "PrefectSecret")] == "unverifiable"
