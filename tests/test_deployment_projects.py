"""Deployment files as providers, through the CLI: what reaches a flow run and what does not."""
import json

import pytest

from conftest import check_json, run_cli

FLOW = """
    from prefect import Flow
    from prefect.run_configs import DockerRun
    from prefect.tasks.aws.s3 import S3Download

    with Flow("etl", run_config=DockerRun(labels=["etl"])) as flow:
        S3Download(bucket="raw")(key="k")
    """

SECRET_VALUE = "Q7vLm2xPz9RkT4wNs8Yb"


def _findings(project, *paths):
    doc = check_json(*(paths or (".",)), cwd=project.root)
    return sorted((f["code"], f["secret"], f["path"], f["line"]) for f in doc["findings"])


def test_docker_agent_script_with_env_provides(project):
    project({"flows/etl.py": FLOW, "deploy/agent.sh": """
        #!/bin/sh
        prefect agent docker start --label etl \\
            -e PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS="$AWS_CREDENTIALS"
        """})
    assert _findings(project) == []


def test_agent_labels_tie_flows_to_agents(project):
    project({"flows/etl.py": FLOW, "deploy/agent.sh": """
        prefect agent docker start --label reports \\
            -e PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS="$AWS_CREDENTIALS"
        """})
    # the only agent with the secret does not serve the "etl" flow; its --env then reaches no reader
    assert _findings(project) == [
        ("CL102", "AWS_CREDENTIALS", "flows/etl.py", 6),
    ]


def test_secret_on_the_docker_agent_container_is_not_forwarded(project):
    project({"flows/etl.py": FLOW, "docker-compose.yml": """
        services:
          agent:
            image: prefecthq/prefect:1.4.1
            command: prefect agent docker start --label etl
            environment:
              - PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS=${AWS_CREDENTIALS}
        """})
    assert _findings(project) == [
        ("CL102", "AWS_CREDENTIALS", "flows/etl.py", 6),
        ("CL107", "AWS_CREDENTIALS", "docker-compose.yml", 6),
    ]


def test_local_agent_under_supervisord_forwards_its_own_environment(project):
    project({"flows/etl.py": FLOW.replace('DockerRun(labels=["etl"])', "None"), "supervisord.conf": """
        [supervisord]
        nodaemon=true

        [program:prefect-agent]
        command=prefect agent local start
        environment=PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS="%(ENV_AWS_CREDENTIALS)s"
        """})
    assert _findings(project) == []


def test_kubernetes_agent_install_manifest(project):
    env_vars = json.dumps({"PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS": "${AWS_CREDENTIALS}"})
    project({"flows/etl.py": FLOW.replace('labels=["etl"]', "").replace("DockerRun", "DockerRun"),
             "k8s/agent.yaml": f"""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: prefect-agent
        spec:
          template:
            spec:
              containers:
                - name: agent
                  image: prefecthq/prefect:1.4.1-python3.9
                  command: ["/bin/bash", "-c"]
                  args: ["prefect agent kubernetes start"]
                  env:
                    - name: PREFECT__CLOUD__AGENT__ENV_VARS
                      value: '{env_vars}'
        """})
    assert _findings(project) == []


def test_env_file_of_an_agent_service_is_its_own_environment(project):
    project({"flows/etl.py": FLOW, "docker-compose.yml": """
        services:
          agent:
            image: prefecthq/prefect:1.4.1
            command: prefect agent docker start --label etl
            env_file: agent.env
        """, "agent.env": "PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS=${AWS_CREDENTIALS}\n"})
    codes = _findings(project)
    assert ("CL107", "AWS_CREDENTIALS", "agent.env", 1) in codes


def test_typo_and_hardcoded_values_in_deployment_files(project):
    project({"flows/etl.py": FLOW, "deploy/agent.sh": f"""
        prefect agent docker start --label etl \\
            -e PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS="$AWS_CREDENTIALS" \\
            -e PREFECT_CONTEXT_SECRETS_SLACK_WEBHOOK_URL="$HOOK" \\
            -e DB_PASSWORD={SECRET_VALUE}
        """})
    found = _findings(project)
    assert ("CL106", "SLACK_WEBHOOK_URL", "deploy/agent.sh", 3) in found
    assert any(code == "CL203" and path == "deploy/agent.sh" and line == 4 for code, _, path, line in found)
    for fmt in ("full", "concise", "json"):
        code, out, err = run_cli("check", "--format", fmt, ".", cwd=project.root)
        assert SECRET_VALUE not in out + err
        assert all(SECRET_VALUE[i:i + 8] not in out + err for i in range(len(SECRET_VALUE) - 7))


def test_unused_agent_secret(project):
    project({"flows/etl.py": FLOW, "deploy/agent.sh": """
        prefect agent docker start --label etl \\
            -e PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS="$AWS_CREDENTIALS" \\
            -e PREFECT__CONTEXT__SECRETS__GCP_CREDENTIALS="$GCP_CREDENTIALS"
        """})
    assert _findings(project) == [("CL104", "GCP_CREDENTIALS", "deploy/agent.sh", 3)]


def test_malformed_aws_credentials_in_config_toml(project):
    project({"flows/etl.py": FLOW, "prefect/config.toml": """
        [context.secrets]
        AWS_CREDENTIALS = '{"ACCESS_KEY": "$AWS_KEY"}'
        """})
    assert _findings(project) == [("CL105", "AWS_CREDENTIALS", "prefect/config.toml", 2)]


def test_precommit_mode_reads_providers_from_the_whole_project(project):
    project({"flows/etl.py": FLOW, "deploy/agent.sh": """
        prefect agent docker start --label etl -e PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS="$AWS"
        """})
    assert _findings(project, "flows/etl.py") == []
    (project.root / "deploy/agent.sh").write_text("prefect agent docker start --label etl\n")
    assert _findings(project, "flows/etl.py") == [("CL102", "AWS_CREDENTIALS", "flows/etl.py", 6)]


def test_inventory_names_the_agent_as_provider(project):
    project({"flows/etl.py": FLOW, "deploy/agent.sh": """
        prefect agent docker start --label etl -e PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS="$AWS"
        """})
    code, out, err = run_cli("inventory", "--format", "json", ".", cwd=project.root)
    assert code == 0, err
    (flow,) = json.loads(out)["flows"]
    (need,) = [n for n in flow["needs"] if n["consumer"] == "S3Download"]
    assert need["state"] == "provided"
    assert need["providers"][0]["kind"] == "agent_env" and need["providers"][0]["path"] == "deploy/agent.sh"


@pytest.mark.parametrize("run_config", [
    'KubernetesRun(job_template={"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": {'
    '"containers": [{"name": "flow", "env": [{"name": "PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS", '
    '"valueFrom": {"secretKeyRef": {"name": "aws", "key": "credentials"}}}]}]}}}})',
    'ECSRun(task_definition={"containerDefinitions": [{"name": "flow", "environment": ['
    '{"name": "PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS", '
    '"valueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:etl-aws"}]}]})',
], ids=["kubernetes-job-template", "ecs-task-definition"])
def test_job_template_and_task_definition_environments_provide(project, run_config):
    project({"flows/etl.py": f"""
        import os
        from prefect import Flow
        from prefect.run_configs import ECSRun, KubernetesRun
        from prefect.tasks.aws.s3 import S3Download

        with Flow("etl", run_config={run_config}) as flow:
            S3Download(bucket="raw")(key="k")
        """})
    assert _findings(project) == []


def test_changed_agent_file_rechecks_the_flows_it_serves(project):
    project({"flows/etl.py": FLOW, "flows/other.py": FLOW.replace('"etl"]', '"other"]'),
             "deploy/agent.sh": "prefect agent docker start --label etl\n"})
    # pre-commit passes only the changed agent script: the flow it serves is re-checked
    assert _findings(project, "deploy/agent.sh") == [("CL102", "AWS_CREDENTIALS", "flows/etl.py", 6)]
