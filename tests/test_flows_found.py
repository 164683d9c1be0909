"""Every Prefect 1.x flow is found, followed, or reported as not followed (issue 16, items 1-2).

A flow is a flow whatever its name and whatever class builds it: Prefect's Flow reached through a
project alias or subclass, a Flow subclass whose methods add its tasks, a copy of another flow,
or an object some call returned that then gets a storage. What credlint cannot follow is said in
every output (`summary.flows` in JSON, the full report, --statistics, inventory), never skipped.
"""
from __future__ import annotations

import json
import os
import sys
import time

import pytest

from conftest import check_json, run_cli, with_code


def found(doc, code=None):
    """(code, secret, flow) of the findings, optionally of one code."""
    return sorted((f["code"], f["secret"], f["flow"]) for f in doc["findings"] if code is None or f["code"] == code)


# ----- item 1: a flow whose name is computed ----------------------------------------------------
COMPUTED_NAMES = {
    "helper-of-file": ("def get_flow_name(path):\n    return path\n\n", "get_flow_name(__file__)",
                       "Flow(get_flow_name(__file__))"),
    "path-stem": ("from pathlib import Path\n\n", "Path(__file__).stem", "Flow(Path(__file__).stem)"),
    "getenv": ("import os\n\n", 'os.getenv("ETL_NAME", "etl")', 'Flow(os.getenv("ETL_NAME", "etl"))'),
    "f-string": ('import os\n\nPREFIX = os.environ["TEAM"]\n\n', 'f"{PREFIX}-etl"', 'Flow(f"{PREFIX}-etl")'),
    "keyword": ("import os\n\n", 'name=os.environ.get("ETL_NAME")', 'Flow(os.environ.get("ETL_NAME"))'),
    "imported-constant": ("from settings import FLOW_NAME\n\n", "FLOW_NAME", "Flow(FLOW_NAME)"),
}


@pytest.mark.parametrize("head,argument,label", COMPUTED_NAMES.values(), ids=COMPUTED_NAMES.keys())
def test_a_flow_with_a_computed_name_is_found_and_named_as_written(project, head, argument, label):
    project({"settings.py": 'FLOW_NAME = "etl"\n', "flow.py": head + (
        "from prefect import Flow\n"
        "from prefect.storage import S3\n"
        "from prefect.tasks.aws import S3Download\n\n"
        f"with Flow({argument}) as pipeline:\n"
        '    S3Download(bucket="raw")(key="k")\n\n'
        'pipeline.storage = S3(bucket="flows")\n')})
    doc = check_json(".", cwd=project.root)
    assert found(doc) == [("CL102", "AWS_CREDENTIALS", label)] * 2  # the task and the storage
    assert doc["summary"]["flows"] == {"found": 1, "not_followed": []}
    inventory = json.loads(run_cli("inventory", "--format", "json", ".", cwd=project.root)[1])
    assert [f["flow"] for f in inventory["flows"]] == [label]


def test_a_computed_name_keeps_fingerprints_across_line_shifts(project):
    source = ("import os\nfrom prefect import Flow\nfrom prefect.storage import S3\n\n"
              'with Flow(os.getenv("ETL")) as flow:\n    pass\nflow.storage = S3(bucket="flows")\n')
    project({"flow.py": source})
    before = check_json(".", cwd=project.root)["findings"]
    project({"flow.py": "# a comment moves everything down\n\n" + source})
    after = check_json(".", cwd=project.root)["findings"]
    assert [f["line"] + 2 for f in before] == [f["line"] for f in after]
    assert [f["fingerprint"] for f in before] == [f["fingerprint"] for f in after]


def test_a_name_expression_never_shows_a_credential_shaped_literal(project):
    key = "AKI" "AZ7Q2M4R8T1V6X3N5"  # split: the repository must not look like it leaks
    project({"flow.py": f"""
        from prefect import Flow
        from prefect.storage import S3

        def named(text):
            return "etl"

        with Flow(named("{key}")) as etl_flow:
            pass
        etl_flow.storage = S3(bucket="flows")
        """})
    doc = check_json(".", cwd=project.root)
    assert [f["flow"] for f in with_code(doc, "CL102")] == ["etl_flow"]
    for args in (("check", "--format", "full", "--statistics", "."), ("inventory", "."),
                 ("inventory", "--format", "json", ".")):
        out = run_cli(*args, cwd=project.root)[1]
        assert key[4:] not in out, args


# ----- item 2: Flow reached through the project -------------------------------------------------
ALIASED = {
    "acme/__init__.py": "",
    "acme/base.py": """
        from prefect import Flow

        class OwnedFlow(Flow):
            def __init__(self, name, owners=None, **kwargs):
                super().__init__(name, **kwargs)
        """,
    "acme/deco.py": """
        from acme.base import OwnedFlow

        Flow = OwnedFlow
        """,
    "acme/nightly.py": """
        from acme.base import OwnedFlow as Base

        class NightlyFlow(Base):
            pass
        """,
    # No word of Prefect in this file: found through the project's alias all the same.
    "flows/aliased.py": """
        from acme.deco import Flow
        from acme.tasks import download

        with Flow("aliased", owners=["data"]) as aliased:
            download(key="k")
        """,
    "acme/tasks.py": """
        from prefect.tasks.aws import S3Download

        download = S3Download(bucket="raw")
        """,
    "flows/subclassed.py": """
        from prefect.storage import S3
        from acme.nightly import NightlyFlow

        nightly = NightlyFlow("nightly", storage=S3(bucket="flows", secrets=["AWS_CREDENTIALS"]))
        """,
    "flows/local.py": """
        from prefect import Flow
        from prefect.storage import GCS

        class TeamFlow(Flow):
            pass

        team = TeamFlow("team")
        team.storage = GCS("flows")
        """,
    "deploy/register.py": """
        from prefect.storage import GCS
        from flows.aliased import aliased

        aliased.storage = GCS("flows")
        """,
}


def test_flow_classes_reached_through_the_project_make_flows(project):
    project(ALIASED)
    doc = check_json(".", cwd=project.root)
    assert found(doc) == [
        ("CL102", "AWS_CREDENTIALS", "aliased"),  # its task
        ("CL102", "GCP_CREDENTIALS", "aliased"),  # the storage the registration script gives it
        ("CL102", "GCP_CREDENTIALS", "team"),
    ]
    assert {(f["flow"], f["path"]) for f in doc["findings"]} == {
        ("aliased", "flows/aliased.py"), ("aliased", "deploy/register.py"), ("team", "flows/local.py")}
    assert doc["summary"]["flows"] == {"found": 3, "not_followed": []}  # aliased, nightly, team


def test_instances_of_classes_that_are_not_flows_are_not_flows(project):
    project({
        "acme/db.py": """
            from sqlalchemy.orm import Session as BaseSession

            class Session(BaseSession):
                pass
            """,
        "flow.py": """
            import copy
            from prefect import task
            from prefect.client import Secret
            from acme.db import Session

            SETTINGS = {"retries": 2}
            settings = copy.deepcopy(SETTINGS)

            def connect():
                with Session() as session:
                    return Secret("DB_PASSWORD").get()

            @task
            def load():
                return connect()
            """,
    })
    doc = check_json(".", cwd=project.root)
    assert doc["summary"]["flows"] == {"found": 0, "not_followed": []}
    assert with_code(doc, "CL301") == []  # the read runs in a task, not while a flow is built


# ----- a Flow subclass that builds itself ----------------------------------------------------------
SELF_BUILT = {
    "lake/__init__.py": "",
    "lake/flows.py": """
        from prefect import Flow
        from prefect.tasks.aws import S3Download
        from prefect.tasks.notifications import SlackTask

        class S3ToLake(Flow):
            def __init__(self, name, bucket, *args, **kwargs):
                self.bucket = bucket
                super().__init__(*args, name=name, **kwargs)
                self.gen_flow()

            def gen_flow(self):
                download = S3Download(bucket=self.bucket)
                download.bind(key="k", flow=self)
                notify = SlackTask()
                notify.bind(message="done", flow=self)
        """,
    "tests/test_lake.py": """
        from lake.flows import S3ToLake

        def test_runs():
            flow = S3ToLake("test run", bucket="b")
            flow.run()
        """,
}


def test_a_flow_subclass_that_adds_its_own_tasks_is_one_flow(project):
    project(SELF_BUILT)
    doc = check_json(".", cwd=project.root)
    assert found(doc) == [("CL101", "SLACK_WEBHOOK_URL", "S3ToLake"), ("CL102", "AWS_CREDENTIALS", "S3ToLake")]
    assert {f["path"] for f in doc["findings"]} == {"lake/flows.py"}
    # The test's instance adds nothing: it is the class's flow, not one more.
    assert doc["summary"]["flows"] == {"found": 1, "not_followed": []}


def test_an_instance_with_its_own_storage_stands_for_its_flow_class(project):
    project({**SELF_BUILT, "deploy.py": """
        from prefect.storage import S3
        from lake.flows import S3ToLake

        prod = S3ToLake("prod", bucket="b",
                        storage=S3(bucket="flows", secrets=["AWS_CREDENTIALS", "SLACK_WEBHOOK_URL"]))
        """})
    doc = check_json(".", cwd=project.root)
    assert doc["findings"] == []  # the tasks' secrets come with the instance's storage
    assert doc["summary"]["flows"] == {"found": 1, "not_followed": []}
    inventory = json.loads(run_cli("inventory", "--format", "json", ".", cwd=project.root)[1])
    (flow,) = inventory["flows"]
    assert flow["flow"] == "prod"
    assert {(n["secret"], n["state"]) for n in flow["needs"] if n["mechanism"] != "storage_preload"} == {
        ("AWS_CREDENTIALS", "provided"), ("SLACK_WEBHOOK_URL", "provided")}


def test_a_flow_subclass_whose_wiring_cannot_be_read_is_reported_not_followed(project):
    project({"pipeline.py": """
        from prefect import Flow
        from prefect.storage import GCS
        from builders import add_standard_tasks

        class StandardFlow(Flow):
            def __init__(self, name):
                super().__init__(name)
                self.storage = GCS("flows")
                add_standard_tasks(self)
        """, "builders.py": """
        def add_standard_tasks(flow):
            for task in flow.registry():
                flow.add_task(task)
        """})
    doc = check_json(".", cwd=project.root)
    assert found(doc) == [("CL102", "GCP_CREDENTIALS", "StandardFlow")]  # its storage is still checked
    assert doc["summary"]["flows"] == {"found": 1, "not_followed": [{
        "path": "pipeline.py", "line": 5,
        "reason": "Flow subclass StandardFlow, which adds its tasks through code credlint cannot follow"}]}


# ----- copies ------------------------------------------------------------------------------------
TEMPLATE = """
    from prefect import Flow
    from prefect.tasks.aws import S3Download

    download = S3Download(bucket="raw")
    with Flow("template") as template_flow:
        download(key="k")
    """


def test_copies_of_a_flow_have_its_tasks_and_their_own_storage(project):
    project({"template.py": TEMPLATE, "team.py": """
        import copy
        from copy import deepcopy
        from prefect.storage import GCS, S3
        from template import template_flow

        provided = deepcopy(template_flow)
        provided.name = "provided"
        provided.storage = S3(bucket="flows", secrets=["AWS_CREDENTIALS"])

        bare = copy.copy(template_flow)
        bare.name = "bare"
        bare.storage = GCS("flows")

        third = template_flow.copy()
        """})
    doc = check_json(".", cwd=project.root)
    assert sorted((code, secret, flow, f["path"]) for (code, secret, flow), f in
                  zip(found(doc), sorted(doc["findings"], key=lambda f: (f["code"], f["secret"], f["flow"])))) == [
        ("CL102", "AWS_CREDENTIALS", "bare", "template.py"),
        ("CL102", "AWS_CREDENTIALS", "template", "template.py"),
        ("CL102", "AWS_CREDENTIALS", "third", "template.py"),
        ("CL102", "GCP_CREDENTIALS", "bare", "team.py"),
    ]
    assert doc["summary"]["flows"] == {"found": 4, "not_followed": []}


def test_a_copy_keeps_the_storage_of_its_original_until_given_its_own(project):
    project({"flows.py": """
        from copy import deepcopy
        from prefect import Flow
        from prefect.storage import S3
        from prefect.tasks.aws import S3Download

        with Flow("base", storage=S3(bucket="flows", secrets=["AWS_CREDENTIALS"])) as base:
            S3Download(bucket="raw")(key="k")

        daily = deepcopy(base)
        daily.name = "daily"
        """})
    doc = check_json(".", cwd=project.root)
    assert doc["findings"] == []
    assert doc["summary"]["flows"]["found"] == 2


def test_a_copy_of_something_that_cannot_be_found_is_not_followed(project):
    project({"flows.py": """
        from copy import deepcopy
        from prefect.storage import S3
        from vendor.templates import nightly_template

        nightly = deepcopy(nightly_template)
        nightly.storage = S3(bucket="flows")
        """})
    doc = check_json(".", cwd=project.root)
    assert found(doc) == [("CL102", "AWS_CREDENTIALS", "nightly")]
    assert doc["summary"]["flows"]["not_followed"] == [
        {"path": "flows.py", "line": 5, "reason": "copy of nightly_template, which credlint cannot find"}]


# ----- flows returned by calls --------------------------------------------------------------------
LIBRARY_BUILT = """
    from prefect.storage import S3
    from somelib import build_plan

    plan_flow = build_plan("recipe")
    plan_flow.storage = S3(bucket="flows", secrets=["AWS_CREDENTIALS", "WAREHOUSE_PASSWORD"])
    """
NOT_FOLLOWED = [{"path": "recipe.py", "line": 4,
                 "reason": "flow returned by build_plan(), a call credlint cannot follow"}]


def test_a_flow_built_by_a_library_is_checked_and_reported_not_followed(project):
    project({"recipe.py": LIBRARY_BUILT.replace(', secrets=["AWS_CREDENTIALS", "WAREHOUSE_PASSWORD"]', "")})
    doc = check_json(".", cwd=project.root)
    assert found(doc) == [("CL102", "AWS_CREDENTIALS", "plan_flow")]  # its storage is checked
    assert doc["summary"]["flows"] == {"found": 1, "not_followed": NOT_FOLLOWED}
    # What its tasks need is unknown, so no secret it declares is called unused (CL104).
    project({"recipe.py": LIBRARY_BUILT})
    doc = check_json(".", cwd=project.root)
    assert doc["findings"] == []
    assert doc["summary"]["flows"] == {"found": 1, "not_followed": NOT_FOLLOWED}


def test_not_followed_flows_show_in_every_report(project):
    project({"recipe.py": LIBRARY_BUILT, "other.py": 'from prefect import Flow\nwith Flow("other") as f:\n    pass\n'})
    full = run_cli("check", "--statistics", ".", cwd=project.root)[1]
    assert "1 flow not followed" in full
    assert "recipe.py:4: flow returned by build_plan(), a call credlint cannot follow" in full
    assert "    2  flows found" in full and "    1  flows not followed" in full
    assert "checked 2 files: 2 Python, 2 flows (1 not followed)" in full.splitlines()[-1]
    table = run_cli("inventory", ".", cwd=project.root)[1]
    assert "not followed: flow returned by build_plan(), a call credlint cannot follow" in table
    inventory = json.loads(run_cli("inventory", "--format", "json", ".", cwd=project.root)[1])
    assert [(f["flow"], f["not_followed"]) for f in inventory["flows"]] == [
        ("other", None), ("plan_flow", NOT_FOLLOWED[0]["reason"])]
    assert inventory["summary"] == {"found": 2, "not_followed": NOT_FOLLOWED}
    # Line-oriented finding formats are unchanged.
    concise = run_cli("check", "--format", "concise", ".", cwd=project.root)[1]
    assert "not followed" not in concise and "flows" not in concise


def test_a_function_s_flow_configured_by_its_callers_is_their_flow(project):
    project({"flows/__init__.py": "", "flows/build.py": """
        from prefect import Flow
        from prefect.tasks.aws import S3Download

        def build(name):
            with Flow(name) as flow:
                S3Download(bucket="raw")(key="k")
            return flow
        """, "deploy.py": """
        from prefect.storage import S3
        from flows.build import build

        etl = build("etl")
        etl.storage = S3(bucket="flows", secrets=["AWS_CREDENTIALS"])
        """})
    doc = check_json(".", cwd=project.root)
    assert doc["findings"] == []  # the caller's storage provides what the function's flow needs
    assert doc["summary"]["flows"] == {"found": 1, "not_followed": []}


@pytest.mark.parametrize("call", ['set_default_parameters(flow, default_parameters={"day": "today"})',
                                  'set_default_parameters(flow=flow, default_parameters={"day": "today"})'])
def test_a_flow_handed_to_a_helper_and_assigned_back_is_the_same_flow(project, call):
    project({"flow.py": f"""
        from prefect import Flow
        from prefect.storage import S3
        from prefect.tasks.aws import S3Download
        from utils import set_default_parameters

        with Flow("etl") as flow:
            S3Download(bucket="raw")(key="k")
        flow = {call}
        flow.storage = S3(bucket="flows", secrets=["AWS_CREDENTIALS"])
        """, "utils.py": "def set_default_parameters(flow, default_parameters):\n    return flow\n"})
    doc = check_json(".", cwd=project.root)
    assert doc["findings"] == []
    assert doc["summary"]["flows"] == {"found": 1, "not_followed": []}


def test_a_default_secret_read_whose_absence_is_caught_is_optional(project):
    """Library flow classes often try a default secret name and go on without it."""
    project({"lake.py": """
        from prefect import Flow, Task
        from prefect.tasks.secrets import PrefectSecret

        class Upload(Task):
            def run(self, credentials_secret=None):
                if not credentials_secret:
                    try:
                        credentials_secret = PrefectSecret("LAKE_DEFAULT_SECRET").run()
                    except ValueError:
                        pass
                if not credentials_secret:
                    try:
                        credentials_secret = PrefectSecret("LAKE_FALLBACK_SECRET").run()
                    except ValueError as error:
                        raise RuntimeError("no credentials") from error
                return credentials_secret

        class ToLake(Flow):
            def __init__(self, name):
                super().__init__(name)
                Upload().bind(flow=self)
        """})
    doc = check_json(".", cwd=project.root)
    assert found(doc) == [("CL101", "LAKE_FALLBACK_SECRET", "ToLake")]  # the first one may be missing
    inventory = json.loads(run_cli("inventory", "--format", "json", ".", cwd=project.root)[1])
    states = {n["secret"]: n["state"] for n in inventory["flows"][0]["needs"]}
    assert states == {"LAKE_DEFAULT_SECRET": "ambient", "LAKE_FALLBACK_SECRET": "unverifiable"}


def test_prefect_2_files_have_no_1x_flows(project):
    project({"flow.py": """
        from prefect import Flow, flow
        from prefect.filesystems import S3

        def etl():
            pass

        pipeline = Flow(etl, name="etl")
        """})
    # one flow, and a 3.x one: `Flow(fn)` is 3.x's flow class, not a 1.x Flow with its tasks
    assert check_json(".", cwd=project.root)["summary"]["flows"] == {"found": 1, "not_followed": []}
    code, out, _ = run_cli("inventory", "--format", "json", ".", cwd=project.root)
    assert code == 0 and [f["model"] for f in json.loads(out)["flows"]] == ["2"]


# ----- reused reports ------------------------------------------------------------------------------
def _age(root, seconds=60):
    when = time.time() - seconds
    for path in root.rglob("*"):
        if path.is_file() and ".credlint_cache" not in path.parts:
            os.utime(path, (when, when))


def test_a_reused_report_keeps_the_flows_summary(project):
    project({"recipe.py": LIBRARY_BUILT})
    _age(project.root)
    fresh = run_cli("check", "--format", "json", "--no-cache", ".", cwd=project.root)[1]
    run_cli("check", "--format", "json", ".", cwd=project.root)
    assert list((project.root / ".credlint_cache").glob("run-*.json")), "the report was not kept"
    reused = run_cli("check", "--format", "json", ".", cwd=project.root)[1]
    assert json.loads(reused) == json.loads(fresh)
    assert json.loads(reused)["summary"]["flows"]["not_followed"] == NOT_FOLLOWED
    full = [run_cli("check", "--format", "full", *extra, ".", cwd=project.root)[1] for extra in (("--no-cache",), ())]
    assert all("1 flow not followed" in text for text in full)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="credlint server is Linux only")
def test_a_server_answer_keeps_the_flows_summary(project, tmp_path, monkeypatch):
    folder = tmp_path / "run"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    project({"recipe.py": LIBRARY_BUILT})
    _age(project.root)
    code, out, err = run_cli("server", "start", "--idle-timeout", "60", cwd=project.root)
    assert code == 0, err
    try:
        served = run_cli("check", "--format", "json", ".", cwd=project.root)[1]
        status = run_cli("server", "status", cwd=project.root)[1]
        assert " 1 check(s)" in status, status
    finally:
        run_cli("server", "stop", cwd=project.root)
    assert json.loads(served)["summary"]["flows"] == {"found": 1, "not_followed": NOT_FOLLOWED}
