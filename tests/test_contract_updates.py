"""Issue 16, the updated contract and what users see: git storage without a token, secrets read
at build time, run-config identities, config.toml declarations, masked snippets of deployment
files, fix texts and the inventory table."""
import json

import pytest

from conftest import check_json, run_cli, with_code
from credlint.findings.configmask import mask_config_line

# Fake, well-formed values, split so that this file does not look like it leaks.
DB_PASSWORD = "zq81" "-ops" "-db7"
ADMIN_PASSWORD = "Xv4t" "Lm9q" "Rw2e"


def _findings(project, *paths):
    doc = check_json(*(paths or (".",)), cwd=project.root)
    return sorted((f["code"], f["secret"], f["path"], f["line"]) for f in doc["findings"])


def _inventory(project, *args):
    code, out, err = run_cli("inventory", "--format", "json", *(args or (".",)), cwd=project.root)
    assert code == 0, err
    return {flow["flow"]: flow for flow in json.loads(out)["flows"]}


# ----------------------------------------------------------------------------------------- git storage

GIT_STORAGES = {
    "GitHub": ('GitHub(repo="acme/public-flows", path="flows/etl.py")', "GITHUB_ACCESS_TOKEN"),
    "GitLab": ('GitLab(repo="acme/public-flows", path="flows/etl.py")', "GITLAB_ACCESS_TOKEN"),
    "Bitbucket": ('Bitbucket(project="ACME", repo="flows", path="flows/etl.py")', "BITBUCKET_ACCESS_TOKEN"),
}


@pytest.mark.parametrize("storage", sorted(GIT_STORAGES))
def test_git_storage_without_a_token_is_no_fallback_and_is_listed_as_optional(project, storage):
    call, token = GIT_STORAGES[storage]
    project({"flows/etl.py": f"""
        from prefect import Flow
        from prefect.storage import {storage}

        with Flow("public") as flow:
            pass

        flow.storage = {call}
        """})
    assert _findings(project) == []
    (need,) = _inventory(project)["public"]["needs"]
    assert (need["secret"], need["mechanism"], need["state"], need["optional"]) == (token, "context", "ambient", True)
    assert "anonymous" in need["reason"]
    code, out, err = run_cli("inventory", ".", cwd=project.root)
    assert code == 0 and "ambient, optional" in out, out + err


def test_storages_that_fall_back_to_other_credentials_still_warn(project):
    project({"flows/etl.py": """
        from prefect import Flow
        from prefect.storage import S3

        with Flow("etl", storage=S3(bucket="acme-flows")) as flow:
            pass
        """})
    assert _findings(project) == [("CL102", "AWS_CREDENTIALS", "flows/etl.py", 4)]
    (need,) = _inventory(project)["etl"]["needs"]
    assert need["state"] == "missing" and need["optional"] is False


def test_a_token_secret_name_replaces_the_context_read_without_an_argument_row(project):
    project({"flows/etl.py": """
        from prefect import Flow
        from prefect.storage import Bitbucket, GitHub

        with Flow("private") as flow:
            pass

        with Flow("cloud mode") as other:
            pass

        flow.storage = GitHub(repo="acme/private-flows", path="flows/etl.py", access_token_secret="ACME_GH_TOKEN")
        other.storage = Bitbucket(project="ACME", repo="flows", path="flows/etl.py", workspace="acme")
        """})
    # The named secret is fetched with Secret.get: declared nowhere, so the Cloud warning stays.
    assert _findings(project) == [("CL101", "ACME_GH_TOKEN", "flows/etl.py", 10)]
    flows = _inventory(project)
    assert [(n["secret"], n["state"]) for n in flows["private"]["needs"]] == [("ACME_GH_TOKEN", "unverifiable")]
    assert flows["cloud mode"]["needs"] == []  # Bitbucket Cloud reads no context secret at all


# ----------------------------------------------------------------------------------------- CL301

def test_every_build_time_read_is_cl301_and_not_also_cl101(project):
    project({
        "acme/__init__.py": "",
        "acme/settings.py": """
            import prefect
            from prefect.client import Secret
            from prefect.tasks.secrets import PrefectSecret

            API_KEY = Secret("ACME_API_KEY").get()
            REPORT_TOKEN = PrefectSecret("ACME_REPORT_TOKEN").run()
            LEGACY = prefect.context.secrets["ACME_LEGACY"]
            """,
        "flows/etl.py": """
            from prefect import Flow, task
            from prefect.client import Secret
            from acme.settings import API_KEY

            TOKEN = Secret("ACME_TOKEN").get()

            @task
            def push(key):
                return key

            with Flow("etl") as flow:
                hook = Secret("ACME_HOOK").get()
                push(API_KEY)
            """,
    })
    found = _findings(project)
    assert found == [
        ("CL301", "ACME_API_KEY", "acme/settings.py", 5),
        ("CL301", "ACME_HOOK", "flows/etl.py", 12),
        ("CL301", "ACME_LEGACY", "acme/settings.py", 7),
        ("CL301", "ACME_REPORT_TOKEN", "acme/settings.py", 6),
        ("CL301", "ACME_TOKEN", "flows/etl.py", 5),
    ], found


# ----------------------------------------------------------------------------------------- identities

def _ecs_flow(run_config: str) -> str:
    return f"""
        from prefect import Flow
        from prefect.run_configs import ECSRun
        from prefect.storage import S3

        with Flow("ecs", storage=S3(bucket="acme-flows"), run_config={run_config}) as flow:
            pass
        """


@pytest.mark.parametrize("run_config", [
    'ECSRun(task_definition_arn="arn:aws:ecs:eu-west-1:000000000000:task-definition/acme:1")',
    'ECSRun(task_definition_path="s3://acme-deploy/task-definition.yaml")',
    'ECSRun(task_definition={"containerDefinitions": [{"name": "flow"}]})',
], ids=["arn", "path", "inline-without-role"])
def test_a_task_definition_alone_proves_no_identity(project, run_config):
    project({"flows/etl.py": _ecs_flow(run_config)})
    assert _findings(project) == [("CL102", "AWS_CREDENTIALS", "flows/etl.py", 5)]


@pytest.mark.parametrize("run_config", [
    'ECSRun(task_role_arn="arn:aws:iam::000000000000:role/etl")',
    'ECSRun(task_definition={"taskRoleArn": "arn:aws:iam::000000000000:role/etl", "containerDefinitions": []})',
], ids=["task-role", "inline-with-role"])
def test_a_task_role_grants_an_identity(project, run_config):
    project({"flows/etl.py": _ecs_flow(run_config)})
    assert _findings(project) == []
    (need,) = _inventory(project)["ecs"]["needs"]
    assert need["state"] == "ambient" and "identity" in need["reason"]


# ----------------------------------------------------------------------------------------- config.toml

CONFIG_FLOW = """
    from prefect import Flow
    from prefect.tasks.notifications import SlackTask

    with Flow("notify") as flow:
        SlackTask(message="done")()
    """


def test_an_unused_config_toml_secret_is_cl104_with_did_you_mean(project):
    project({"flows/notify.py": CONFIG_FLOW, ".prefect/config.toml": """
        [context.secrets]
        SLACK_WEBHOOK_URL = "$SLACK_WEBHOOK_URL"
        SLACK_WEBHOK_URL = "$SLACK_WEBHOOK_URL"
        UNUSED_TOKEN = "$UNUSED_TOKEN"
        """})
    found = _findings(project)
    assert found == [
        ("CL104", "SLACK_WEBHOK_URL", ".prefect/config.toml", 3),
        ("CL104", "UNUSED_TOKEN", ".prefect/config.toml", 4),
    ], found
    messages = {f["secret"]: f["message"] for f in with_code(check_json(".", cwd=project.root), "CL104")}
    assert "did you mean 'SLACK_WEBHOOK_URL'?" in messages["SLACK_WEBHOK_URL"]
    assert "did you mean" not in messages["UNUSED_TOKEN"]


def test_a_config_toml_secret_read_anywhere_in_the_project_is_used(project):
    project({"flows/notify.py": CONFIG_FLOW,
             "scripts/register.py": """
                 from prefect.client import Secret

                 DEPLOY_KEY = Secret("DEPLOY_KEY").get()  # run where the config is the user config
                 """,
             "flows/load.py": """
                 from prefect import Flow
                 from prefect.storage import S3

                 with Flow("load", storage=S3(bucket="acme-flows", secrets=["AWS_CREDENTIALS", "LOADER_TOKEN"])) as flow:
                     pass
                 """,
             "deploy/config.toml": """
                 [context.secrets]
                 SLACK_WEBHOOK_URL = "$SLACK_WEBHOOK_URL"
                 DEPLOY_KEY = "$DEPLOY_KEY"
                 LOADER_TOKEN = "$LOADER_TOKEN"
                 AWS_CREDENTIALS = { ACCESS_KEY = "$KEY", SECRET_ACCESS_KEY = "$SECRET" }
                 """})
    unused = with_code(check_json(".", cwd=project.root), "CL104")
    # only the storage's own LOADER_TOKEN, which no task of its flow reads: the config's entries are all read
    assert [(f["secret"], f["path"]) for f in unused] == [("LOADER_TOKEN", "flows/load.py")]


def test_an_example_config_reaches_no_flow(project):
    project({"flows/notify.py": CONFIG_FLOW, "deploy/config_example.toml": """
        [context.secrets]
        SLACK_WEBHOOK_URL = "$SLACK_WEBHOOK_URL"
        UNUSED_TOKEN = "$UNUSED_TOKEN"
        """}, config='backend = "server"\n')
    # not loaded anywhere: it declares nothing (no CL104) and provides nothing (CL101 stays)
    assert _findings(project) == [("CL101", "SLACK_WEBHOOK_URL", "flows/notify.py", 5)]


# ----------------------------------------------------------------------------------------- snippets

def test_a_makefile_snippet_shows_the_reported_variable_and_no_value(project):
    project({"flows/etl.py": CONFIG_FLOW, "Makefile": f"""
        db:
        \texport POSTGRES_USER=etl POSTGRES_PASSWORD={DB_PASSWORD} && docker compose up -d
        """})
    doc = check_json(".", cwd=project.root)
    (finding,) = [f for f in with_code(doc, "CL203") if f["path"] == "Makefile"]
    code, out, err = run_cli("check", "--format", "full", "--no-cache", ".", cwd=project.root)
    assert "export POSTGRES_USER=******** POSTGRES_PASSWORD=******** && docker compose up -d" in out, out
    assert DB_PASSWORD not in out + err + json.dumps(doc)
    assert finding["line"] == 2


def test_deployment_fingerprints_do_not_depend_on_the_values(project, tmp_path):
    def findings(value):
        root = tmp_path / value
        (root / ".git").mkdir(parents=True)
        (root / "db.sh").write_text(f"#!/bin/sh\nexport POSTGRES_USER=etl POSTGRES_PASSWORD={value} OTHER=x\n")
        (root / "docker-compose.yml").write_text(
            "services:\n  agent:\n    image: prefecthq/prefect:1.4.1\n"
            f"    command: prefect agent docker start --env A=1 --env PREFECT__CONTEXT__SECRETS__DB_PASSWORD={value}\n")
        doc = check_json("--no-cache", ".", cwd=root)
        return sorted((f["code"], f["path"], f["line"], f["fingerprint"]) for f in doc["findings"])

    first = findings(DB_PASSWORD)
    assert {path for _, path, _, _ in first} == {"db.sh", "docker-compose.yml"}, first
    assert findings(ADMIN_PASSWORD + "-longer") == first


@pytest.mark.parametrize("line, anchor, shown", [
    ("export POSTGRES_USER=x POSTGRES_PASSWORD=y", 23, "export POSTGRES_USER=******** POSTGRES_PASSWORD=********"),
    ('ACME_DB_PASSWORD="zq81 ops db"', 0, "ACME_DB_PASSWORD=********"),
    ("POSTGRES_PASSWORD=please change me", 0, "POSTGRES_PASSWORD=********"),
    ("  POSTGRES_PASSWORD: some value", 2, "  POSTGRES_PASSWORD: ********"),
    ("      - POSTGRES_PASSWORD=somevalue", 8, "      - POSTGRES_PASSWORD=********"),
    ("    command: prefect agent docker start --env A=x --env B=y --label etl", 58,
     "    command: prefect agent docker start --env A=******** --env B=******** --label etl"),
    ("prefect agent local start --key somekey --label etl -e PREFECT__CONTEXT__SECRETS__A=y", None,
     "prefect agent local start --key ******** --label etl -e PREFECT__CONTEXT__SECRETS__A=********"),
    ("docker run -d --env GRAPH_AUTH=neo4j/somepass neo4j:latest", 20, "docker run -d --env GRAPH_AUTH=********"),
    ("ENV A=x B=y", 9, "ENV A=******** B=********"),
    ("ENV PASSWORD some value", 4, "ENV PASSWORD ********"),
    ('DB_PASSWORD = "somevalue"', 0, "DB_PASSWORD = ********"),
    ('AWS_CREDENTIALS = { ACCESS_KEY = "a", SECRET_ACCESS_KEY = "b" }', 38,
     "AWS_CREDENTIALS = { ACCESS_KEY = ******** SECRET_ACCESS_KEY = ******** }"),
    ('environment=A="x",B="y,z"', 18, "environment=A=********,B=********"),
    ("          - name: RDFDB_PASSWORD", 18, "          - name: RDFDB_PASSWORD"),
    ("          docker login -u builder -p somepass registry:5000", 34,
     "          docker ******** -u ******** -p ********"),
    ("--env=PREFECT__CONTEXT__SECRETS__X=abc", 6, "--env=PREFECT__CONTEXT__SECRETS__X=********"),
    ("mysql -h db -uroot -psomepass etl", None, "******** -h ******** -u******** -p********"),
])
def test_masked_deployment_lines(line, anchor, shown):
    assert mask_config_line(line, anchor) == shown


# ----------------------------------------------------------------------------------------- fix texts

def test_the_fix_does_not_suggest_the_name_argument_already_passed(project):
    project({"flows/notify.py": """
        from prefect import Flow
        from prefect.tasks.notifications import SlackTask

        with Flow("notify") as flow:
            SlackTask(message="done", webhook_secret="TEAM_HOOK")()
            SlackTask(message="again")()
        """}, config='backend = "server"\n')
    fixes = {f["secret"]: f["fix"] for f in with_code(check_json(".", cwd=project.root), "CL101")}
    assert "webhook_secret" not in fixes["TEAM_HOOK"] and "TEAM_HOOK" in fixes["TEAM_HOOK"]
    assert "or pass webhook_secret=" in fixes["SLACK_WEBHOOK_URL"]


# ----------------------------------------------------------------------------------------- inventory

def test_the_inventory_table_never_cuts_a_path(project):
    folder = "exemplos/extras/com_um_nome_bem_comprido/e_mais_uma_pasta"
    project({f"{folder}/docker_dependencias.py": """
        from prefect import Flow
        from prefect.storage import S3
        from prefect.tasks.aws.s3 import S3Download

        with Flow("deps", storage=S3(bucket="acme-flows", secrets=["AWS_CREDENTIALS"])) as flow:
            S3Download(bucket="raw")(key="k")
        """})
    code, out, err = run_cli("inventory", "--no-cache", ".", cwd=project.root)
    assert code == 0, err
    assert "…" not in out
    assert f"({folder}/docker_dependencias.py:6)" in out
    # Wider than any table may grow: folded onto more lines, still never cut.
    deep = "/".join(["uma_pasta_com_um_nome_muito_comprido_mesmo"] * 7)
    project({f"{deep}/flow.py": (project.root / folder / "docker_dependencias.py").read_text()})
    code, out, err = run_cli("inventory", "--no-cache", deep, cwd=project.root)
    assert code == 0, err
    assert "…" not in out and "flow.py:6)" in out


TEMPLATE = """
    apiVersion: batch/v1
    kind: Job
    spec:
      template:
        spec:
          containers:
            - name: flow
              env:
                - name: GRAPH_DB_PASSWORD
                  valueFrom:
                    secretKeyRef:
                      name: acme-secrets
                      key: graph-db-password
                - name: PREFECT__CONTEXT__SECRETS__SLACK_WEBHOOK_URL
                  valueFrom:
                    secretKeyRef:
                      name: acme-secrets
                      key: slack
    """


def test_a_job_template_file_provides_only_to_the_flows_that_name_it(project):
    flow = """
        import os
        from prefect import Flow, task
        from prefect.run_configs import KubernetesRun
        from prefect.tasks.notifications import SlackTask

        @task
        def push():
            return os.environ.get("GRAPH_DB_PASSWORD")

        with Flow("{name}") as flow:
            push()
            SlackTask(message="done")()

        flow.run_config = KubernetesRun({args})
        """
    project({
        "deploy/acme-job-template.yaml": TEMPLATE,
        "flows/with_template.py": flow.format(
            name="with template",
            args='job_template_path="https://raw.githubusercontent.com/acme/flows/main/deploy/acme-job-template.yaml"'),
        "flows/without_template.py": flow.format(name="without template", args='image="acme/flows:1"'),
    })
    flows = _inventory(project)
    named = {(n["secret"], n["mechanism"]): n for n in flows["with template"]["needs"]}
    other = {(n["secret"], n["mechanism"]): n for n in flows["without template"]["needs"]}
    assert named[("SLACK_WEBHOOK_URL", "secret_get")]["state"] == "provided"
    assert named[("SLACK_WEBHOOK_URL", "secret_get")]["providers"][0]["path"] == "deploy/acme-job-template.yaml"
    assert other[("SLACK_WEBHOOK_URL", "secret_get")]["state"] == "unverifiable"
    env = named[("GRAPH_DB_PASSWORD", "environment")]
    assert env["state"] == "provided" and env["providers"][0]["path"] == "deploy/acme-job-template.yaml"
    assert env["consumer"] == "os.environ in push()" and env["line"] == 8
    assert other[("GRAPH_DB_PASSWORD", "environment")]["state"] == "ambient"
    # environment needs are for the inventory only
    assert _findings(project) == [("CL101", "SLACK_WEBHOOK_URL", "flows/without_template.py", 12)]


def test_environment_needs_only_for_credential_names_read_in_tasks(project):
    project({"flows/push.py": """
        import os
        from prefect import Flow, task

        REGION = os.environ.get("ACME_DB_PASSWORD_AT_IMPORT")

        def connect():
            return os.environ["GRAPH_API_TOKEN"]

        @task
        def push():
            connect()
            return os.getenv("GRAPH_DB_PASSWORD"), os.environ.get("GRAPH_DB_HOST")

        with Flow("push graph") as flow:
            push()
        """})
    needs = _inventory(project)["push graph"]["needs"]
    assert sorted((n["secret"], n["mechanism"], n["line"]) for n in needs) == [
        ("GRAPH_API_TOKEN", "environment", 7), ("GRAPH_DB_PASSWORD", "environment", 12)]
    assert _findings(project) == []
