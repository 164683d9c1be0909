"""Consumers are found whatever the import style, however the flow is built, and providers
anywhere in the project are taken into account. Everything through the CLI's JSON output."""
from __future__ import annotations

import textwrap

import pytest

from conftest import check_json


def found(doc, code=None):
    """(code, secret) pairs of the findings, optionally of one code."""
    return sorted((f["code"], f["secret"]) for f in doc["findings"] if code is None or f["code"] == code)


FALLBACK = [("CL102", "AWS_CREDENTIALS")]

# ----- import styles --------------------------------------------------------------------------
IMPORT_STYLES = {
    "from-package": """
        from prefect import Flow
        from prefect.tasks.aws import S3Download

        dl = S3Download(bucket="b")
        with Flow("etl") as flow:
            dl(key="k")
        """,
    "from-module-as": """
        from prefect import Flow
        from prefect.tasks.aws.s3 import S3Download as Dl

        dl = Dl(bucket="b")
        with Flow("etl") as flow:
            dl(key="k")
        """,
    "import-module-as": """
        from prefect import Flow
        import prefect.tasks.aws.s3 as s3

        dl = s3.S3Download(bucket="b")
        with Flow("etl") as flow:
            dl(key="k")
        """,
    "import-prefect": """
        import prefect

        dl = prefect.tasks.aws.S3Download(bucket="b")
        with prefect.Flow("etl") as flow:
            dl(key="k")
        """,
}


@pytest.mark.parametrize("source", IMPORT_STYLES.values(), ids=IMPORT_STYLES.keys())
def test_import_styles_find_the_consumer(project, source):
    project({"flow.py": source})
    doc = check_json(".", cwd=project.root)
    assert found(doc) == FALLBACK
    (finding,) = doc["findings"]
    assert finding["symbol"] == "prefect.tasks.aws.s3.S3Download"
    assert finding["flow"] == "etl"


# ----- flow styles ----------------------------------------------------------------------------
FLOW_STYLES = {
    "with-flow": """
        from prefect import Flow
        from prefect.tasks.aws import S3Download

        dl = S3Download(bucket="b")
        with Flow("x") as flow:
            dl(key="k")
        """,
    "add-task": """
        from prefect import Flow
        from prefect.tasks.aws import S3Download

        dl = S3Download(bucket="b")
        flow = Flow("x")
        flow.add_task(dl)
        """,
    "set-dependencies": """
        from prefect import Flow, Parameter
        from prefect.tasks.aws import S3Download

        dl = S3Download(bucket="b")
        key = Parameter("key")
        flow = Flow("x")
        flow.set_dependencies(task=dl, keyword_tasks={"key": key})
        """,
    "built-in-a-function": """
        from prefect import Flow
        from prefect.tasks.aws import S3Download

        def build():
            dl = S3Download(bucket="b")
            with Flow("x") as flow:
                dl(key="k")
            return flow

        flow = build()
        """,
    "task-in-another-module": {
        "tasks/__init__.py": "",
        "tasks/common.py": """
            from prefect.tasks.aws import S3Download

            download = S3Download(bucket="b")
            """,
        "flow.py": """
            from prefect import Flow
            from tasks.common import download

            with Flow("x") as flow:
                download(key="k")
            """,
    },
    "imperative-in-task-function": """
        from prefect import Flow, task
        from prefect.tasks.aws import S3Download

        @task
        def fetch():
            return S3Download(bucket="b").run(key="k")

        with Flow("x") as flow:
            fetch()
        """,
    "flow-tasks-argument": """
        from prefect import Flow
        from prefect.tasks.aws import S3Download

        dl = S3Download(bucket="b")
        flow = Flow("x", tasks=[dl])
        """,
    "map": """
        from prefect import Flow
        from prefect.tasks.aws import S3Download

        dl = S3Download(bucket="b")
        with Flow("x") as flow:
            dl.map(key=["a", "b"])
        """,
    "with-existing-flow-under-main-guard": """
        from prefect import Flow
        from prefect.tasks.aws import S3Download

        if __name__ == "__main__":
            flow = Flow("x")
            with flow:
                S3Download(bucket="b")(key="k")
        """,
    "custom-task-class": """
        from prefect import Flow, Task
        from prefect.tasks.aws import S3Download

        class MyTask(Task):
            def run(self, key):
                return S3Download(bucket="b").run(key=key)

        my_task = MyTask()
        with Flow("x") as flow:
            my_task(key="k")
        """,
}


@pytest.mark.parametrize("files", FLOW_STYLES.values(), ids=FLOW_STYLES.keys())
def test_flow_styles_find_the_consumer(project, files):
    project(files if isinstance(files, dict) else {"flow.py": files})
    doc = check_json(".", cwd=project.root)
    assert found(doc) == FALLBACK, doc["findings"]
    assert {f["flow"] for f in doc["findings"]} == {"x"}


def test_task_from_another_module_is_reported_at_its_use_in_the_flow(project):
    project(FLOW_STYLES["task-in-another-module"])
    (finding,) = check_json(".", cwd=project.root)["findings"]
    assert finding["path"] == "flow.py"
    assert finding["line"] == 5


def test_task_module_alone_has_no_flow_and_no_finding(project):
    project(FLOW_STYLES["task-in-another-module"])
    doc = check_json("tasks/common.py", cwd=project.root)
    assert doc["findings"] == []


def test_providers_of_one_flow_do_not_leak_into_another(project):
    project({"flow.py": """
        from prefect import Flow
        from prefect.storage import S3
        from prefect.tasks.aws import S3Download

        dl = S3Download(bucket="b")

        with Flow("a", storage=S3(bucket="f", secrets=["AWS_CREDENTIALS"])) as a:
            dl(key="k")

        with Flow("b") as b:
            dl(key="k")
        """})
    doc = check_json(".", cwd=project.root)
    assert [(f["code"], f["flow"], f["line"]) for f in doc["findings"]] == [("CL102", "b", 11)]


# ----- providers attached after construction ---------------------------------------------------
BASE = textwrap.dedent("""
    from prefect import Flow
    from prefect.run_configs import ECSRun, KubernetesRun
    from prefect.storage import S3
    from prefect.tasks.aws import S3Download

    dl = S3Download(bucket="b")
    with Flow("x") as flow:
        dl(key="k")
    """)


def test_base_case_without_a_provider_is_reported(project):
    project({"flow.py": BASE})
    assert found(check_json(".", cwd=project.root)) == FALLBACK


@pytest.mark.parametrize("line", [
    'flow.storage = S3(bucket="flows", secrets=["AWS_CREDENTIALS"])',
    'flow.run_config = ECSRun(task_role_arn="arn:aws:iam::123456789012:role/etl")',
], ids=["storage-secrets", "ecs-task-role"])
def test_provider_assigned_after_construction(project, line):
    project({"flow.py": BASE + "\n" + line + "\n"})
    assert found(check_json(".", cwd=project.root)) == []


def test_storage_secret_for_another_name_does_not_provide(project):
    project({"flow.py": BASE + '\nflow.storage = S3(bucket="flows", secrets=["GCP_CREDENTIALS"])\n'})
    doc = check_json(".", cwd=project.root)
    # the task and the S3 storage itself both read AWS_CREDENTIALS; GCP_CREDENTIALS is unused (CL104)
    assert sorted((f["code"], f["secret"], f["symbol"]) for f in doc["findings"]) == [
        ("CL102", "AWS_CREDENTIALS", "prefect.storage.s3.S3"),
        ("CL102", "AWS_CREDENTIALS", "prefect.tasks.aws.s3.S3Download"),
        ("CL104", "GCP_CREDENTIALS", None),
    ]


@pytest.mark.parametrize("storage, expected", [
    ('S3(bucket="flows")', [("CL102", "AWS_CREDENTIALS")]),
    ('S3(bucket="flows", secrets=["AWS_CREDENTIALS"])', []),
], ids=["no-secrets", "declared"])
def test_s3_storage_itself_reads_aws_credentials(project, storage, expected):
    """The flow is pulled from S3 through get_boto_client inside the secrets context (cli/execute.py)."""
    project({"flow.py": f"""
        from prefect import Flow, task
        from prefect.storage import S3

        @task
        def hello():
            print("hi")

        with Flow("x", storage={storage}) as flow:
            hello()
        """})
    doc = check_json(".", cwd=project.root)
    assert found(doc) == expected
    for finding in doc["findings"]:
        assert finding["symbol"] == "prefect.storage.s3.S3"


def test_kubernetes_service_account_grants_gcp_identity(project):
    source = """
        from prefect import Flow
        from prefect.run_configs import KubernetesRun
        from prefect.tasks.gcp.storage import GCSDownload

        with Flow("reports", run_config=KubernetesRun({arg})) as flow:
            GCSDownload(bucket="raw")(blob="orders.csv")
        """
    project({"flow.py": source.replace("{arg}", "")})
    assert found(check_json(".", cwd=project.root)) == [("CL102", "GCP_CREDENTIALS")]
    project({"flow.py": source.replace("{arg}", 'service_account_name="etl"')})
    assert found(check_json(".", cwd=project.root)) == []


def test_run_config_env_from_os_environ_provides(project):
    project({"flow.py": """
        import os
        from prefect import Flow
        from prefect.run_configs import DockerRun
        from prefect.tasks.aws import S3Download

        dl = S3Download(bucket="b")
        env = {"PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS": os.environ["X"]}
        with Flow("x", run_config=DockerRun(env=env)) as flow:
            dl(key="k")
        """})
    assert found(check_json(".", cwd=project.root), "CL102") == []


def test_allow_fallback_aws(project):
    project({"flow.py": BASE}, config='allow-fallback = ["aws"]\n')
    assert found(check_json(".", cwd=project.root)) == []


def test_allow_fallback_of_another_family_does_not_help(project):
    project({"flow.py": BASE}, config='allow-fallback = ["gcp"]\n')
    assert found(check_json(".", cwd=project.root)) == FALLBACK


# ----- notifier state handlers -----------------------------------------------------------------
HANDLER_FLOW = """
    import functools
    from prefect import Flow, task
    from prefect.engine.state import Failed
    from prefect.utilities.notifications import slack_notifier

    @task
    def hello():
        print("hi")

    with Flow("x", state_handlers=[{handler}]) as flow:
        hello()
    """


@pytest.mark.parametrize("handler, secret", [
    ("slack_notifier", "SLACK_WEBHOOK_URL"),
    ('functools.partial(slack_notifier, webhook_secret="X")', "X"),
    ("slack_notifier(only_states=[Failed])", "SLACK_WEBHOOK_URL"),
], ids=["bare", "partial", "curried"])
def test_notifier_state_handler_needs_its_webhook_secret(project, handler, secret):
    project({"flow.py": HANDLER_FLOW.replace("{handler}", handler)}, config='backend = "server"\n')
    doc = check_json(".", cwd=project.root)
    assert found(doc) == [("CL101", secret)]
    (finding,) = doc["findings"]
    assert finding["severity"] == "error"
    assert finding["flow"] == "x"
    assert secret in finding["message"]


def test_notifier_handler_satisfied_by_run_config_env(project):
    project({"flow.py": """
        from prefect import Flow, task
        from prefect.run_configs import DockerRun
        from prefect.utilities.notifications import slack_notifier

        @task
        def hello():
            print("hi")

        env = {"PREFECT__CONTEXT__SECRETS__SLACK_WEBHOOK_URL": "$HOOK"}
        with Flow("x", state_handlers=[slack_notifier], run_config=DockerRun(env=env)) as flow:
            hello()
        """}, config='backend = "server"\n')
    assert found(check_json(".", cwd=project.root)) == []


# ----- per-task arguments ----------------------------------------------------------------------
def test_prefect_secret_as_credentials_replaces_the_context_need(project):
    project({"flow.py": """
        from prefect import Flow
        from prefect.tasks.aws import S3Download
        from prefect.tasks.secrets import PrefectSecret

        dl = S3Download(bucket="b")
        with Flow("x") as flow:
            creds = PrefectSecret("AWS_CREDENTIALS")
            dl(key="k", credentials=creds)
        """}, config='backend = "server"\n')
    doc = check_json(".", cwd=project.root)
    assert found(doc, "CL102") == []
    assert found(doc, "CL101") == [("CL101", "AWS_CREDENTIALS")]


# ----- checked-in config.toml and cloud inventory ------------------------------------------------
SLACK = """
    from prefect import Flow
    from prefect.tasks.notifications import SlackTask

    with Flow("x") as flow:
        SlackTask(message="done")()
    """


def test_config_toml_context_secrets_provides_secret_get(project):
    project({"flow.py": SLACK}, config='backend = "server"\n')
    assert found(check_json(".", cwd=project.root)) == [("CL101", "SLACK_WEBHOOK_URL")]
    project({"deploy/config.toml": """
        [context.secrets]
        SLACK_WEBHOOK_URL = "$SLACK_HOOK"
        """})
    assert found(check_json(".", cwd=project.root)) == []


def test_config_toml_context_secrets_provides_context_need(project):
    project({"flow.py": BASE, "config.toml": """
        [context.secrets.AWS_CREDENTIALS]
        ACCESS_KEY = "$AK"
        SECRET_ACCESS_KEY = "$SK"
        """})
    assert found(check_json(".", cwd=project.root)) == []


def test_config_toml_with_another_name_does_not_provide(project):
    project({"flow.py": SLACK, "config.toml": """
        [context.secrets]
        TEAMS_WEBHOOK = "$HOOK"
        """}, config='backend = "server"\n')
    # and the config's own entry is declared for every flow, which none reads
    assert found(check_json(".", cwd=project.root)) == [("CL101", "SLACK_WEBHOOK_URL"), ("CL104", "TEAMS_WEBHOOK")]


@pytest.mark.parametrize("inventory, expected", [
    ('["SLACK_WEBHOOK_URL"]', []),
    ('["OTHER_SECRET"]', [("CL101", "SLACK_WEBHOOK_URL", "error")]),
    ("[]", [("CL101", "SLACK_WEBHOOK_URL", "error")]),
    (None, [("CL101", "SLACK_WEBHOOK_URL", "warning")]),
], ids=["listed", "unlisted", "empty", "no-inventory"])
def test_cloud_secrets_inventory(project, inventory, expected):
    config = f"cloud-secrets = {inventory}\n" if inventory is not None else ""
    project({"flow.py": SLACK}, config=config)
    doc = check_json(".", cwd=project.root)
    assert sorted((f["code"], f["secret"], f["severity"]) for f in doc["findings"]) == expected


# ----- storage and run configs defined elsewhere ---------------------------------------------------
INFRA = """
    from prefect.run_configs import ECSRun
    from prefect.storage import GitHub, S3

    RUN = ECSRun(task_role_arn="arn:aws:iam::123456789012:role/etl")
    SHARED = S3(bucket="flows", secrets=["AWS_CREDENTIALS"])

    def storage_for(name):
        return GitHub(repo="acme/flows", path=f"flows/{name}.py", secrets=["GITHUB_ACCESS_TOKEN", "AWS_CREDENTIALS"])
    """


@pytest.mark.parametrize("flow_kwargs, expected", [
    ("", [("CL102", "AWS_CREDENTIALS")]),
    ("run_config=RUN", []),
    ("storage=SHARED", []),
    ('storage=storage_for("etl")', []),
], ids=["nothing", "shared-run-config", "shared-storage", "storage-from-a-function"])
def test_storage_and_run_config_from_another_module(project, flow_kwargs, expected):
    project({
        "common/infra.py": INFRA,
        "flows/etl.py": f"""
            from prefect import Flow
            from prefect.tasks.aws import S3Download
            from common.infra import RUN, SHARED, storage_for

            with Flow("etl", {flow_kwargs}) as flow:
                S3Download(bucket="raw")(key="k")
            """,
    })
    doc = check_json("flows/", cwd=project.root)
    assert [(f["code"], f["secret"]) for f in doc["findings"]] == expected


def test_findings_of_a_shared_storage_are_placed_in_the_flow_file(project):
    project({
        "common/infra.py": 'from prefect.storage import S3\nSTORE = S3(bucket="acme-flows")\n',
        "flows/etl.py": """
            from prefect import Flow
            from common.infra import STORE

            with Flow("etl", storage=STORE) as flow:
                pass
            """,
    })
    doc = check_json("flows/etl.py", cwd=project.root)
    (finding,) = doc["findings"]
    assert (finding["code"], finding["secret"], finding["path"]) == ("CL102", "AWS_CREDENTIALS", "flows/etl.py")
    assert finding["line"] == 4


def test_task_called_as_a_function_is_a_task(project):
    project({"flow.py": """
        from prefect import Flow, task
        from prefect.tasks.aws import S3Download

        def fetch(key):
            return S3Download(bucket="raw").run(key=key)

        fetch_task = task(fetch)

        with Flow("etl") as flow:
            fetch_task("k")
        """})
    doc = check_json(".", cwd=project.root)
    assert [(f["code"], f["secret"], f["line"]) for f in doc["findings"]] == [("CL102", "AWS_CREDENTIALS", 5)]
