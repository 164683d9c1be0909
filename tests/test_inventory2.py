"""`credlint inventory` for Prefect 2.x/3.x (model/flows2.py, tools/inventory2.py): per flow and per
prefect.yaml deployment, every block it loads and Variable it reads, with its state — across
modules, through tasks, helpers, subflows and hooks — beside the 1.x flows, and never a value."""
from __future__ import annotations

import io
import json

import pytest

from conftest import run_cli

from credlint.prefect.entrypoints import Entrypoint, flow_name, split_entrypoint

SECRET_KEY = "q8Jh3Rw2Lt9Vn5Xb" + "7Yc1Kz4Pm6Ds0Fg2Hj8Wl5Nr"  # fake, well formed: never in any output

TASKS = """
    from prefect import task
    from prefect_aws import AwsCredentials
    from prefect.blocks.system import Secret

    @task
    def extract(block_name: str):
        return AwsCredentials.load(block_name)

    @task
    def load_db():
        return Secret.load("db-password").get()

    def shared_token():
        return Secret.load("shared-token").get()
    """

HOOKS = """
    from prefect.blocks.notifications import SlackWebhook

    def notify(flow, flow_run, state):
        SlackWebhook.load("alerts").notify("failed")
    """

ETL = """
    from prefect import flow
    from prefect.variables import Variable
    from prefect_aws import S3Bucket
    from pkg.tasks import extract, load_db, shared_token
    from pkg.hooks import notify

    BUCKET = S3Bucket.load("raw-bucket")

    @flow
    def nightly_report():
        shared_token()

    @flow(on_failure=[notify])
    def etl(block_name: str = "prod"):
        extract(block_name)
        load_db.submit()
        shared_token()
        nightly_report()
        host = Variable.get("db_host")
    """

SETUP = f"""
    from prefect_aws import AwsCredentials

    AwsCredentials(aws_access_key_id="AKIA" "Z7Q4RM2PLW5KHN3D", aws_secret_access_key="{SECRET_KEY}").save("prod")
    """

PREFECT_YAML = """
    pull:
      - prefect.deployments.steps.git_clone:
          repository: https://github.com/acme/etl
          access_token: "{{ prefect.blocks.secret.github-token }}"
    deployments:
      - name: etl-prod
        entrypoint: flows/etl.py:etl
        work_pool:
          name: k8s
          job_variables:
            env:
              DB_HOST: "{{ prefect.variables.db_host }}"
      - name: own-pull
        entrypoint: flows.etl:nightly_report
        pull:
          - prefect.deployments.steps.set_working_directory:
              directory: /opt/flows
      - name: gone
        entrypoint: flows/missing.py:nothing
        parameters:
          token: "{{ prefect.blocks.secret.gone-token }}"
    """

FLOW_1X = """
    from prefect import Flow
    from prefect.tasks.secrets import PrefectSecret
    from prefect.tasks.notifications import SlackTask

    with Flow("legacy") as flow:
        SlackTask(message="hi")(upstream_tasks=[PrefectSecret("LEGACY_TOKEN")])
    """


def write(project, **extra):
    files = {"pkg/__init__.py": "", "pkg/tasks.py": TASKS, "pkg/hooks.py": HOOKS, "flows/__init__.py": "",
             "flows/etl.py": ETL, "setup_blocks.py": SETUP, "prefect.yaml": PREFECT_YAML}
    files.update(extra)
    return project(files, config=extra.pop("config", None))


def inventory(project, *args) -> dict:
    code, out, err = run_cli("inventory", "--format", "json", *args, cwd=project.root)
    assert code == 0, err
    assert SECRET_KEY[:8] not in out + err
    return json.loads(out)


def needs_of(entry) -> dict:
    return {(n["secret"], n["consumer"]): n for n in entry["needs"]}


def test_a_flow_needs_what_its_tasks_helpers_subflows_hooks_and_imports_load(project):
    write(project)
    doc = inventory(project, ".")
    flows = {f["flow"]: f for f in doc["flows"]}
    assert set(flows) == {"etl", "nightly-report"}  # Prefect's names: `_` becomes `-`
    etl = flows["etl"]
    assert (etl["model"], etl["path"], etl["line"], etl["function"]) == ("2", "flows/etl.py", 14, "flows.etl.etl")
    needs = needs_of(etl)
    db = needs[("secret/db-password", 'Secret.load("db-password")')]  # a task of another module
    assert (db["where"], db["via"], db["path"], db["line"]) == ("task", ["flows.etl.etl", "pkg.tasks.load_db"],
                                                                 "pkg/tasks.py", 11)
    assert db["mechanism"] == "block" and db["symbol"] == "prefect.blocks.system.Secret"
    hook = needs[("slack-webhook/alerts", 'SlackWebhook.load("alerts")')]  # on_failure=[notify], another module
    assert (hook["where"], hook["via"]) == ("hook", ["flows.etl.etl", "pkg.hooks.notify"])
    bucket = needs[("s3-bucket/raw-bucket", 'S3Bucket.load("raw-bucket")')]  # at import: every flow of the module
    assert (bucket["where"], bucket["via"]) == ("module", [])
    assert ("s3-bucket/raw-bucket", 'S3Bucket.load("raw-bucket")') in needs_of(flows["nightly-report"])
    token = needs[("secret/shared-token", 'Secret.load("shared-token")')]  # directly, and through the subflow
    assert token["where"] == "function" and token["via"] == ["flows.etl.etl", "pkg.tasks.shared_token"]
    assert needs_of(flows["nightly-report"])[("secret/shared-token", 'Secret.load("shared-token")')]["via"] == [
        "flows.etl.nightly_report", "pkg.tasks.shared_token"]  # a helper called from two flows: in both
    variable = needs[("db_host", 'Variable.get("db_host")')]
    assert (variable["mechanism"], variable["where"]) == ("variable", "flow")
    assert etl["not_followed"] is None


def test_a_flow_above_the_tasks_and_helpers_it_calls(project):
    """A function body runs once the whole module is executed: a flow may call a task, a
    helper and a subflow defined further down the file."""
    project({"flows/etl.py": """
        from prefect import flow, task
        from prefect_aws import AwsCredentials


        @flow
        def etl():
            extract.submit()
            helper()
            cleanup()


        @task
        def extract():
            return AwsCredentials.load("prod")


        def helper():
            return AwsCredentials.load("other")


        @flow
        def cleanup():
            AwsCredentials.load("janitor")
        """})
    etl = {f["flow"]: f for f in inventory(project, ".")["flows"]}["etl"]
    assert {(key[0], need["where"]) for key, need in needs_of(etl).items()} == {
        ("aws-credentials/prod", "task"), ("aws-credentials/other", "function"), ("aws-credentials/janitor", "subflow")}


def test_a_name_given_as_a_parameter_is_computed_not_missing(project):
    write(project, config='blocks = ["secret/db-password"]\n')
    needs = needs_of({f["flow"]: f for f in inventory(project, ".")["flows"]}["etl"])
    computed = needs[(None, "AwsCredentials.load(block_name)")]
    assert computed["state"] == "computed"
    assert computed["reason"] == "the name is computed at run time (parameter block_name)"
    assert needs[("secret/db-password", 'Secret.load("db-password")')]["state"] == "provided"
    provider, = needs[("secret/db-password", 'Secret.load("db-password")')]["providers"]
    assert provider["kind"] == "config"
    assert needs[("secret/shared-token", 'Secret.load("shared-token")')]["state"] == "missing"  # a list, not in it


def test_states_come_from_the_block_model(project):
    write(project, **{"flows/prod.py": """
        from prefect import flow
        from prefect_aws import AwsCredentials

        @flow
        def prod():
            AwsCredentials.load("prod")
            AwsCredentials.load("prdo")

        if __name__ == "__main__":
            prod.deploy(name="prod-nightly", work_pool_name="k8s")
        """})
    entry = {f["flow"]: f for f in inventory(project, ".")["flows"]}["prod"]
    assert entry["deployed_by"] == [{"method": "deploy", "name": "prod-nightly", "work_pool": "k8s",
                                     "path": "flows/prod.py", "line": 10}]
    prod = needs_of(entry)
    saved = prod[("aws-credentials/prod", 'AwsCredentials.load("prod")')]
    assert saved["state"] == "provided"
    assert saved["providers"] == [{"kind": "save", "detail": ".save", "path": "setup_blocks.py", "line": 3}]
    assert prod[("aws-credentials/prdo", 'AwsCredentials.load("prdo")')]["state"] == "unverifiable"


def test_each_deployment_lists_its_templates_the_steps_it_inherits_and_its_flow(project):
    write(project)
    doc = inventory(project, ".")
    deployments = {d["deployment"]: d for d in doc["deployments"]}
    assert list(deployments) == ["etl-prod", "own-pull", "gone"]
    prod = deployments["etl-prod"]
    assert (prod["flow"], prod["flow_path"], prod["flow_line"], prod["problem"]) == ("etl", "flows/etl.py", 14, None)
    assert (prod["entrypoint"], prod["work_pool"], prod["line"]) == ("flows/etl.py:etl", "k8s", 6)
    needs = needs_of(prod)
    pull = needs[("secret/github-token", "{{ prefect.blocks.secret.github-token }}")]  # the file's pull section
    assert (pull["mechanism"], pull["where"], pull["field"], pull["line"]) == (
        "block_template", "pull", "git_clone.access_token", 4)
    env = needs[("db_host", "{{ prefect.variables.db_host }}")]
    assert (env["mechanism"], env["where"], env["field"]) == ("variable_template", "job_variables", "env.DB_HOST")
    assert ("secret/db-password", 'Secret.load("db-password")') in needs  # what its flow loads
    assert ("slack-webhook/alerts", 'SlackWebhook.load("alerts")') in needs
    own = deployments["own-pull"]  # a module entrypoint; its own pull replaces the file's
    assert own["flow"] == "nightly-report" and own["problem"] is None
    assert ("secret/github-token", "{{ prefect.blocks.secret.github-token }}") not in needs_of(own)
    assert ("secret/shared-token", 'Secret.load("shared-token")') in needs_of(own)


def test_an_entrypoint_that_does_not_resolve_says_why_and_keeps_its_own_templates(project):
    write(project, **{"prefect.yaml": PREFECT_YAML + """
      - name: not-a-flow
        entrypoint: pkg/tasks.py:shared_token
      - name: no-such-function
        entrypoint: flows/etl.py:etl_v2
    """})
    deployments = {d["deployment"]: d for d in inventory(project, ".")["deployments"]}
    gone = deployments["gone"]
    assert gone["flow"] is None
    assert gone["problem"] == "entrypoint 'flows/missing.py:nothing': flows/missing.py is not a Python file of the project"
    assert set(needs_of(gone)) == {("secret/gone-token", "{{ prefect.blocks.secret.gone-token }}"),
                                   ("secret/github-token", "{{ prefect.blocks.secret.github-token }}")}
    assert deployments["not-a-flow"]["problem"] == "entrypoint 'pkg/tasks.py:shared_token': shared_token is not a " \
                                                   "flow (no @flow)"
    assert deployments["no-such-function"]["problem"] == "entrypoint 'flows/etl.py:etl_v2': no function etl_v2 in " \
                                                         "flows/etl.py"
    code, out, _ = run_cli("inventory", ".", cwd=project.root)
    assert code == 0
    assert "deployment 'gone' (prefect.yaml:18), no flow: entrypoint 'flows/missing.py:nothing'" in out
    assert "secret/gone-token" in out


def test_1x_and_2x_flows_in_one_project(project):
    write(project, **{"legacy.py": FLOW_1X})
    doc = inventory(project, ".")
    models = {f["flow"]: f["model"] for f in doc["flows"]}
    assert models == {"etl": "2", "nightly-report": "2", "legacy": "1"}
    legacy = next(f for f in doc["flows"] if f["flow"] == "legacy")
    assert {n["secret"] for n in legacy["needs"]} >= {"LEGACY_TOKEN"}  # the 1.x rows as they always were
    assert set(legacy) == {"flow", "path", "line", "needs", "not_followed", "model"}
    assert doc["summary"]["found"] == 1  # the 1.x summary, unchanged
    code, out, _ = run_cli("inventory", ".", cwd=project.root)
    assert code == 0
    assert "flow 'legacy' (legacy.py:5)" in out and "flow 'etl' (flows/etl.py:14), Prefect 2.x/3.x" in out
    assert out.index("flow 'nightly-report'") < out.index("flow 'legacy'") < out.index("deployment 'etl-prod'")


def test_a_1x_project_is_as_before_and_never_builds_the_2x_model(project, monkeypatch):
    from credlint.api import Options, load
    from credlint.model import flows2
    from credlint.tools.inventory import document, render_table

    project({"legacy.py": FLOW_1X})
    doc = inventory(project, ".")
    assert "deployments" not in doc and all("model" not in f for f in doc["flows"])
    project({"empty.py": "x = 1\n"})
    code, out, _ = run_cli("inventory", "empty.py", cwd=project.root)
    assert out.strip() == "no Prefect 1.x flows found"

    def never(*args, **kwargs):
        raise AssertionError("the 2.x/3.x flow model was built for 1.x files")

    monkeypatch.setattr(flows2.FlowNeeds, "__init__", never)
    write(project)  # 2.x code in the project, but only the 1.x file asked about
    loaded = load(Options(paths=[str(project.path("legacy.py"))], cache=False))
    assert [f["flow"] for f in document(loaded)["flows"]] == ["legacy"]
    render_table(loaded, io.StringIO(), False)


def test_only_the_paths_asked_and_the_wording_without_any_flow(project):
    write(project, **{"legacy.py": FLOW_1X})
    doc = inventory(project, "legacy.py")  # 1.x files asked about: the 1.x document
    assert "deployments" not in doc and [f["flow"] for f in doc["flows"]] == ["legacy"]
    doc = inventory(project, "pkg/tasks.py")  # 2.x code, but no flow in it
    assert doc["flows"] == [] and doc["deployments"] == []
    code, out, _ = run_cli("inventory", "pkg/tasks.py", cwd=project.root)
    assert out.strip() == "no Prefect flows found (1.x, 2.x or 3.x)"


def test_the_table_escapes_markup_and_shows_no_value(project):
    write(project, **{"flows/odd.py": """
        from prefect import flow
        from prefect.blocks.system import Secret

        @flow(name="odd [bold red]x[/bold red]")
        def odd():
            Secret.load("[red]tok").get()
        """})
    code, out, err = run_cli("inventory", ".", cwd=project.root)
    assert code == 0, err
    assert "flow 'odd [bold red]x[/bold red]' (flows/odd.py:5)" in out
    assert 'Secret.load("[red]tok")' in out
    assert SECRET_KEY[:8] not in out and "AKIAZ7Q4" not in out


@pytest.mark.parametrize("text,parts", [
    ("flows/etl.py:etl", Entrypoint("flows/etl.py", None, "etl")),
    ("C:\\flows\\etl.py:etl", Entrypoint("C:\\flows\\etl.py", None, "etl")),
    ("flows/etl.py:Pipelines.run", Entrypoint("flows/etl.py", None, "Pipelines.run")),
    ("pkg.flows:etl", Entrypoint(None, "pkg.flows", "etl")),
    ("pkg.flows.etl", Entrypoint(None, "pkg.flows", "etl")),
    ("etl", None),
])
def test_entrypoints_split_as_prefect_splits_them(text, parts):
    assert split_entrypoint(text) == parts


def test_flow_names_as_prefect_gives_them():
    assert flow_name("nightly_report") == "nightly-report"
    assert flow_name("nightly_report", "Nightly report") == "Nightly report"
