"""Tasks put into flows by every wiring Prefect 1.x offers, objects built by helper functions,
and secrets read by state handlers and by direct calls of Prefect's client helpers.

Each case is a small invented project checked through the CLI's JSON output (which `check_json`
also compares with a run that parses every file)."""
from __future__ import annotations

import textwrap

import pytest

from conftest import check_json


def found(doc, code=None):
    """(code, secret, path, line) of each finding, optionally of one code."""
    return sorted((f["code"], f["secret"], f["path"], f["line"]) for f in doc["findings"]
                  if code is None or f["code"] == code)


SERVER = 'backend = "server"\n'
SLACK = ("CL101", "SLACK_WEBHOOK_URL")

# ----- task wiring beyond calls ----------------------------------------------------------------
# Each flow adds a SlackTask (which fetches SLACK_WEBHOOK_URL) in one way; `line` is where the
# finding belongs: the wiring call when it passes the task's arguments, else where it was made.
WIRING = {
    "flow-chain": ("""
        from prefect import Flow, task
        from prefect.tasks.notifications import SlackTask

        @task
        def compose():
            return "hi"

        notify = SlackTask()
        flow = Flow("chain")
        flow.chain(compose, notify)
        """, 10),
    "task-map-unmapped": ("""
        from prefect import Flow, task, unmapped
        from prefect.tasks.notifications import SlackTask

        @task
        def shout(word, sink):
            return word

        notify = SlackTask(message="done")
        with Flow("map") as flow:
            shout.map(["a", "b"], sink=unmapped(notify))
        """, 8),
    "instance-map-flatten": ("""
        from prefect import Flow, task, flatten
        from prefect.tasks.notifications import SlackTask

        @task
        def batches():
            return [["a"], ["b"]]

        notify = SlackTask()
        with Flow("map") as flow:
            notify.map(message=flatten(batches()))
        """, 10),
    "apply-map": ("""
        from prefect import Flow, apply_map
        from prefect.tasks.notifications import SlackTask

        notify = SlackTask()

        def announce(word):
            notify(message=word)

        with Flow("apply") as flow:
            apply_map(announce, ["a", "b"])
        """, 7),
    "case": ("""
        from prefect import Flow, task, case
        from prefect.tasks.notifications import SlackTask

        @task
        def failed():
            return True

        notify = SlackTask()
        with Flow("case") as flow:
            with case(failed(), True):
                notify(message="it failed")
        """, 11),
    "set-dependencies": ("""
        from prefect import Flow, task
        from prefect.tasks.notifications import SlackTask

        @task
        def compose():
            return "hi"

        notify = SlackTask()
        flow = Flow("deps")
        flow.set_dependencies(task=notify, keyword_tasks={"message": compose})
        """, 10),
    "add-task": ("""
        from prefect import Flow
        from prefect.tasks.notifications import SlackTask

        notify = SlackTask(message="hi")
        flow = Flow("added")
        flow.add_task(notify)
        """, 6),
    "set-upstream-key-flow": ("""
        from prefect import Flow, Task
        from prefect.tasks.notifications import SlackTask

        class Compose(Task):
            def run(self):
                return "hi"

        flow = Flow("upstream")
        message = Compose()
        notify = SlackTask()
        notify.set_upstream(message, key="message", flow=flow)
        """, 10),
    "set-downstream-flow": ("""
        from prefect import Flow, Task
        from prefect.tasks.notifications import SlackTask

        class Compose(Task):
            def run(self):
                return "hi"

        flow = Flow("downstream")
        notify = SlackTask()
        Compose().set_downstream(notify, key="message", flow=flow)
        """, 9),
    "bind-flow": ("""
        from prefect import Flow
        from prefect.tasks.notifications import SlackTask

        flow = Flow("bound")
        notify = SlackTask()
        notify.bind(message="hi", flow=flow)
        """, 6),
    "call-with-flow": ("""
        from prefect import Flow
        from prefect.tasks.notifications import SlackTask

        flow = Flow("called")
        notify = SlackTask()
        notify(message="hi", flow=flow)
        """, 6),
    "flow-tasks": ("""
        from prefect import Flow
        from prefect.tasks.notifications import SlackTask

        notify = SlackTask(message="hi")
        flow = Flow("listed", tasks=[notify])
        """, 5),
    "upstream-tasks-of-a-task-function": ("""
        from prefect import Flow, task
        from prefect.utilities.notifications import slack_notifier

        @task(state_handlers=[slack_notifier])
        def prepare():
            return 1

        @task
        def load():
            return 2

        with Flow("upstream tasks") as flow:
            load(upstream_tasks=[prepare])
        """, 4),
}


@pytest.mark.parametrize("source, line", WIRING.values(), ids=WIRING.keys())
def test_every_wiring_puts_the_task_into_the_flow(project, source, line):
    project({"flow.py": source}, config=SERVER)
    assert found(check_json(".", cwd=project.root)) == [SLACK + ("flow.py", line)]


# `@task(state_handlers=[...])` reached through each wiring: the handler's secret is needed.
HANDLED_TASK = """
    from prefect import Flow, task, apply_map
    from prefect.utilities.notifications import slack_notifier

    @task(state_handlers=[slack_notifier])
    def publish(x=None):
        return x

    def each(x):
        publish(x)

    flow = Flow("handled")
    {wiring}
    """


@pytest.mark.parametrize("wiring", [
    "flow.chain(publish)",
    "publish.map([1, 2], flow=flow)",
    "publish.bind(x=1, flow=flow)",
    "apply_map(each, [1, 2], flow=flow)",
    "flow.set_dependencies(task=publish)",
    "flow.add_task(publish)",
])
def test_a_task_state_handler_is_reached_through_each_wiring(project, wiring):
    project({"flow.py": HANDLED_TASK.replace("{wiring}", wiring)}, config=SERVER)
    assert found(check_json(".", cwd=project.root)) == [SLACK + ("flow.py", 4)]


def test_a_task_that_is_never_wired_has_no_need(project):
    project({"flow.py": HANDLED_TASK.replace("{wiring}", "print(flow)")}, config=SERVER)
    assert found(check_json(".", cwd=project.root)) == []


# ----- .map() and names passed along keep CL104 ---------------------------------------------------
UNUSED = ("CL104", "UNUSED_TOKEN")


@pytest.mark.parametrize("files", [
    {"flow.py": """
        from prefect import Flow, task
        from prefect.storage import S3

        @task
        def double(x):
            return 2 * x

        with Flow("mapped", storage=S3(bucket="b", secrets=["AWS_CREDENTIALS", "UNUSED_TOKEN"])) as flow:
            double.map([1, 2, 3])
        """},
    {"tasks.py": """
        from prefect import task

        @task
        def double(x):
            return 2 * x
        """,
     "flow.py": """
        from prefect import Flow
        from prefect.storage import S3
        import tasks
        from tasks import double

        with Flow("mapped", storage=S3(bucket="b", secrets=["AWS_CREDENTIALS", "UNUSED_TOKEN"])) as flow:
            tasks.double.map([1, 2, 3])
            double.bind(x=4)
        """},
    {"settings.py": 'BUCKET = "raw-data"\n',
     "flow.py": """
        from prefect import Flow, task
        from prefect.storage import S3
        import settings

        @task
        def load(bucket):
            return bucket

        with Flow("constants", storage=S3(bucket="b", secrets=["AWS_CREDENTIALS", "UNUSED_TOKEN"])) as flow:
            load(settings.BUCKET)
        """},
], ids=["local-task-map", "imported-task-map-and-bind", "constant-passed-along"])
def test_map_and_names_passed_along_keep_unused_secret_checks(project, files):
    project(files)
    assert [f[:2] for f in found(check_json(".", cwd=project.root))] == [UNUSED]


def test_a_task_we_cannot_see_still_switches_off_unused_secret(project):
    project({"flow.py": """
        from prefect import Flow
        from prefect.storage import S3
        from vendor_tasks import Extract

        with Flow("opaque", storage=S3(bucket="b", secrets=["AWS_CREDENTIALS", "UNUSED_TOKEN"])) as flow:
            Extract().map([1, 2])
        """})
    assert found(check_json(".", cwd=project.root)) == []


# ----- objects built by helpers ------------------------------------------------------------------
def fallback(path, line, secret="AWS_CREDENTIALS"):
    return ("CL102", secret, path, line)


def test_imported_helper_returning_a_local_variable(project):
    project({
        "infra/__init__.py": "",
        "infra/storage.py": """
            from prefect.storage import S3

            def make_storage(bucket):
                storage = S3(bucket=bucket)
                return storage
            """,
        "flows/etl.py": """
            from prefect import Flow
            from infra.storage import make_storage

            with Flow("etl", storage=make_storage("acme-flows")) as flow:
                pass
            """,
    })
    assert found(check_json(".", cwd=project.root)) == [fallback("flows/etl.py", 4)]


def test_module_constant_holding_what_a_helper_returns(project):
    project({
        "infra.py": """
            from prefect.storage import GCS

            def make_storage():
                return GCS(bucket="acme-flows")

            STORAGE = make_storage()
            """,
        "flows/etl.py": """
            from prefect import Flow
            from infra import STORAGE

            with Flow("etl", storage=STORAGE) as flow:
                pass
            """,
    })
    assert found(check_json(".", cwd=project.root)) == [fallback("flows/etl.py", 4, "GCP_CREDENTIALS")]


HELPERS = """
    from prefect import Flow
    from prefect.storage import S3, Local

    def same_class(env):
        if env == "prod":
            return S3(bucket="prod-flows")
        return S3(bucket="dev-flows")

    def chained(env):
        return same_class(env)

    def different(env):
        if env == "prod":
            return S3(bucket="prod-flows")
        return Local()

    def different_secrets(env):
        if env == "dev":
            return S3(bucket="dev-flows")
        else:
            return S3(bucket="prod-flows", secrets=["AWS_CREDENTIALS"])

    def may_fall_through(env):
        if env == "prod":
            return S3(bucket="prod-flows")

    def anything(env):
        return env.storage

    with Flow("f", storage={helper}("prod")) as flow:
        pass
    """


@pytest.mark.parametrize("helper, expected", [
    ("same_class", [fallback("flow.py", 30)]),
    ("chained", [fallback("flow.py", 30)]),
    ("different", []),
    ("different_secrets", []),
    ("may_fall_through", []),
    ("anything", []),
])
def test_a_helper_is_followed_only_when_what_it_returns_is_known(project, helper, expected):
    project({"flow.py": HELPERS.replace("{helper}", helper)})
    assert found(check_json(".", cwd=project.root)) == expected


def test_result_built_by_an_imported_helper(project):
    project({
        "results.py": """
            from prefect.engine.results import S3Result

            def get_s3_result():
                return S3Result(bucket="acme-results")
            """,
        "flow.py": """
            from prefect import Flow, task
            from results import get_s3_result

            @task(result=get_s3_result())
            def crunch():
                return 1

            with Flow("task result") as flow:
                crunch()

            with Flow("flow result", result=get_s3_result()) as other:
                pass
            """,
    })
    assert found(check_json(".", cwd=project.root)) == [fallback("flow.py", 4), fallback("flow.py", 11)]


def test_run_config_built_by_a_helper_grants_its_identity(project):
    project({
        "deploy.py": """
            from prefect.run_configs import ECSRun

            def build_run_config(env):
                return ECSRun(labels=[env], task_role_arn="arn:aws:iam::123456789012:role/etl")
            """,
        "flow.py": """
            from prefect import Flow
            from prefect.tasks.aws.s3 import S3Download
            from deploy import build_run_config

            download = S3Download(bucket="raw")
            with Flow("with identity", run_config=build_run_config("prod")) as flow:
                download(key="k")
            with Flow("without") as other:
                download(key="k")
            """,
    })
    doc = check_json(".", cwd=project.root)
    assert found(doc) == [fallback("flow.py", 9)]
    assert [f["flow"] for f in doc["findings"]] == ["without"]


ETL = """
    from prefect import Flow, task

    @task
    def load():
        return 1

    with Flow("{name}") as flow:
        load()
    """


def test_registration_script_applies_a_storage_factory_to_every_flow(project):
    project({
        "flows/__init__.py": "",
        "flows/etl.py": ETL.replace("{name}", "etl"),
        "flows/report.py": ETL.replace("{name}", "report"),
        "deploy/__init__.py": "",
        "deploy/factory.py": """
            from prefect.storage import GCS

            def storage_factory(name):
                return GCS(bucket="acme-flows", key=name)
            """,
        "register.py": """
            from flows import etl, report
            from deploy.factory import storage_factory

            FLOWS = [etl.flow, report.flow]
            for flow in FLOWS:
                flow.storage = storage_factory(flow.name)
                flow.register(project_name="acme")
            """,
    })
    doc = check_json(".", cwd=project.root)
    assert found(doc) == [fallback("register.py", 6, "GCP_CREDENTIALS")] * 2
    assert sorted(f["flow"] for f in doc["findings"]) == ["etl", "report"]


def test_registration_helper_given_each_flow(project):
    project({
        "flows/__init__.py": "",
        "flows/etl.py": ETL.replace("{name}", "etl"),
        "flows/report.py": ETL.replace("{name}", "report"),
        "register.py": """
            from prefect.run_configs import ECSRun
            from prefect.storage import S3
            from flows import etl, report

            def register(flow, storage):
                flow.storage = storage
                flow.run_config = ECSRun(labels=["prod"])
                flow.register(project_name="acme")

            def main():
                register(etl.flow, storage=S3(bucket="acme-flows"))
                register(report.flow, S3(bucket="acme-flows", secrets=["AWS_CREDENTIALS"]))

            main()
            """,
    })
    doc = check_json(".", cwd=project.root)
    assert found(doc) == [fallback("register.py", 11)]
    assert [f["flow"] for f in doc["findings"]] == ["etl"]


# ----- consumers outside the catalogue's classes: state handlers ---------------------------------
def test_notifier_attached_by_attribute_to_a_task_instance(project):
    project({"flow.py": """
        from prefect import Flow, Task
        from prefect.engine.state import Failed
        from prefect.utilities.notifications import slack_notifier

        alert = slack_notifier(only_states=[Failed])

        class Publish(Task):
            def run(self):
                return 1

        publish = Publish()
        publish.state_handlers = [alert]
        quiet = Publish()

        with Flow("publish docs") as flow:
            publish()

        with Flow("quiet") as other:
            quiet()
        """}, config=SERVER)
    doc = check_json(".", cwd=project.root)
    assert found(doc) == [SLACK + ("flow.py", 5)]
    assert [f["flow"] for f in doc["findings"]] == ["publish docs"]


def test_custom_handler_of_a_task_reads_its_secret(project):
    project({"flow.py": """
        from prefect import Flow, task
        from prefect.client import Secret

        def ping_chat(obj, old, new):
            if new.is_failed():
                url = Secret("CHAT_HOOK").get()
            return new

        @task(state_handlers=[ping_chat])
        def crunch():
            return 42

        with Flow("crunch numbers") as flow:
            crunch()
        """}, config=SERVER)
    assert found(check_json(".", cwd=project.root)) == [("CL101", "CHAT_HOOK", "flow.py", 6)]


HANDLER_SHAPES = {
    "flow-terminal-state-handler": """
        def on_end(flow, state, reference_task_states):
            token = prefect.context.secrets["PAGER_TOKEN"]
            return state

        with Flow("f", terminal_state_handler=on_end) as flow:
            crunch()
        """,
    "flow-state-handlers": """
        def on_end(flow, old, new):
            token = PrefectSecret("PAGER_TOKEN").run()
            return new

        with Flow("f", state_handlers=[on_end]) as flow:
            crunch()
        """,
    "flow-on-failure-partial": """
        def on_end(flow, state, channel):
            token = Secret("PAGER_TOKEN").get()

        with Flow("f", on_failure=functools.partial(on_end, channel="ops")) as flow:
            crunch()
        """,
    "flow-append": """
        def on_end(flow, old, new):
            token = Secret("PAGER_TOKEN").get()
            return new

        with Flow("f") as flow:
            crunch()
        flow.state_handlers.append(on_end)
        """,
    "task-instance-constructor": """
        class Crunch(Task):
            def run(self):
                return 1

        def on_end(task, old, new):
            token = Secret("PAGER_TOKEN").get()
            return new

        crunching = Crunch(state_handlers=[on_end])
        with Flow("f") as flow:
            crunching()
        """,
    "task-class-super-init": """
        def on_end(task, old, new):
            token = Secret("PAGER_TOKEN").get()
            return new

        class Crunch(Task):
            def __init__(self, **kwargs):
                super().__init__(state_handlers=[on_end], **kwargs)

            def run(self):
                return 1

        with Flow("f") as flow:
            Crunch()()
        """,
    "task-function-augmented": """
        def on_end(task, old, new):
            token = Secret("PAGER_TOKEN").get()
            return new

        crunch.state_handlers += [on_end]
        with Flow("f") as flow:
            crunch()
        """,
}
HANDLER_HEAD = """
    import functools
    import prefect
    from prefect import Flow, Task, task
    from prefect.client import Secret
    from prefect.tasks.secrets import PrefectSecret

    @task
    def crunch():
        return 1

    """


@pytest.mark.parametrize("source", HANDLER_SHAPES.values(), ids=HANDLER_SHAPES.keys())
def test_secret_read_in_a_state_handler_is_a_need(project, source):
    project({"flow.py": textwrap.dedent(HANDLER_HEAD) + textwrap.dedent(source)}, config=SERVER)
    doc = check_json(".", cwd=project.root)
    assert [f[:2] for f in found(doc)] == [("CL101", "PAGER_TOKEN")]
    (finding,) = doc["findings"]
    assert finding["flow"] == "f"
    # Read at run time, in the handler: never "at build time" (CL301).


def test_handler_read_counts_as_a_read_for_unused_secret(project):
    project({"flow.py": textwrap.dedent(HANDLER_HEAD) + textwrap.dedent("""
        from prefect.storage import S3

        def on_end(flow, old, new):
            Secret("PAGER_TOKEN").get()
            return new

        with Flow("f", storage=S3(bucket="b", secrets=["AWS_CREDENTIALS", "PAGER_TOKEN", "UNUSED_TOKEN"]),
                  state_handlers=[on_end]) as flow:
            crunch()
        """)})
    assert [f[:2] for f in found(check_json(".", cwd=project.root))] == [UNUSED]


def test_imported_notifier_and_helper_made_notifier(project):
    project({
        "alerts.py": """
            from prefect.utilities.notifications import slack_notifier

            alert = slack_notifier(webhook_secret="OPS_HOOK")

            def make_alert():
                return slack_notifier(webhook_secret="DATA_HOOK")
            """,
        "tasks.py": """
            from prefect import task

            @task
            def load():
                return 1
            """,
        "flow.py": """
            from prefect import Flow
            from alerts import make_alert
            from tasks import load

            with Flow("f", state_handlers=[make_alert()]) as flow:
                load()
            """,
        # A registration script that never names Prefect: the handler goes with the pickled flow.
        "register.py": """
            from alerts import alert
            from flow import flow
            from tasks import load

            load.state_handlers = [alert]
            flow.register(project_name="acme")
            """,
    }, config=SERVER)
    # Each is reported where it is attached to the flow's task or to the flow.
    assert found(check_json(".", cwd=project.root)) == [
        ("CL101", "DATA_HOOK", "flow.py", 5), ("CL101", "OPS_HOOK", "register.py", 5)]


# ----- consumers outside the catalogue's classes: Prefect's client helpers -----------------------
CLIENT_HELPERS = """
    from prefect import Flow, task
    from prefect.tasks.secrets import PrefectSecret
    from prefect.utilities.aws import get_boto_client
    from prefect.utilities.gcp import get_google_client

    @task
    def list_keys(credentials=None):
        return get_boto_client("s3", {credentials}).list_objects_v2(Bucket="acme")

    @task
    def datasets():
        return get_google_client("bigquery").list_datasets()

    with Flow("clients") as flow:
        list_keys({run})
        datasets()
    """


@pytest.mark.parametrize("credentials, run, expected", [
    ("", "", [fallback("flow.py", 8), fallback("flow.py", 12, "GCP_CREDENTIALS")]),
    ("credentials=credentials", 'credentials=PrefectSecret("AWS_KEYS")',
     [("CL101", "AWS_KEYS", "flow.py", 15), fallback("flow.py", 12, "GCP_CREDENTIALS")]),
], ids=["context", "credentials-argument"])
def test_client_helpers_read_context_credentials(project, credentials, run, expected):
    project({"flow.py": CLIENT_HELPERS.replace("{credentials}", credentials).replace("{run}", run)})
    assert found(check_json(".", cwd=project.root)) == expected


def test_a_module_name_bound_twice_keeps_each_use_with_its_own_object(project):
    project({"flow.py": """
        from prefect import Flow, Task
        from prefect.client import Secret

        class Extract(Task):
            def run(self):
                return Secret("EXTRACT_KEY").get()

        class Load(Task):
            def run(self):
                return 1

        step = Extract()
        with Flow("extract") as first:
            step()

        step = Load()
        with Flow("load") as second:
            step()
        """}, config=SERVER)
    doc = check_json(".", cwd=project.root)
    assert found(doc) == [("CL101", "EXTRACT_KEY", "flow.py", 6)]
    assert [f["flow"] for f in doc["findings"]] == ["extract"]


def test_client_helper_called_in_a_flow_state_handler(project):
    project({"flow.py": """
        from prefect import Flow, task
        from prefect.utilities.aws import get_boto_client

        def archive_logs(flow, old, new):
            get_boto_client("s3").put_object(Bucket="logs", Key="run", Body=b"")
            return new

        @task
        def crunch():
            return 1

        with Flow("archived", state_handlers=[archive_logs]) as flow:
            crunch()
        """})
    assert found(check_json(".", cwd=project.root)) == [fallback("flow.py", 5)]


def test_a_secret_read_in_a_lambda_handler_is_not_read_at_build_time(project):
    project({"flow.py": """
        from prefect import Flow, task
        from prefect.client import Secret

        @task
        def crunch():
            return 1

        with Flow("f", state_handlers=[lambda flow, old, new: Secret("PAGER_TOKEN").get() and new]) as flow:
            crunch()
        """})
    assert found(check_json(".", cwd=project.root), "CL301") == []
