"""Deployment files: agents, what they forward, env vars and the context secrets Prefect makes of them.

The planted values are well-formed but invented; they avoid the words credlint reads as
placeholders, so credlint must treat them as real secrets and never keep them.
"""
from __future__ import annotations

import json
import random
import shlex

import pytest

from credlint.facts.deploy.classify import classify
from credlint.facts.deploy.lexer import Word as _Word, lex as _lex
from credlint.facts.deploy.positions import LineSrc as _LineSrc
from credlint.facts.deploy.reader import read_deployment_file
from credlint.facts.deploy.shapes import interpret_value
from credlint.facts.deploy.types import DeployFacts
from credlint.facts.types import load, to_data
from credlint.prefect.names import prefect_secret_name, typo_secret_name

PASSWORD = "Zq8uPw7731xKmN"
AWS_KEY_ID = "AKIAZQ8UPW7731XKMN7Q"
AWS_SECRET = "h7Tq2LmZ9vR4sN8pW1xY6cB3kD5fG0jAQe3Ru7Vb"
GITHUB_TOKEN = "ghp_Rk3mV8qL2xW9nB4tY7cP1sD6fH0jZ5aE2uQw"
SLACK_PATH = "T0A1B2C3D/B4E5F6G7H/q9W8e7R6t5Y4u3I2o1P0aSdF"
API_KEY = "pnu_Wm4Kx9Tr2Lq7Vz3Nb8Hc5Jd1Fg6Sy0Pe"
PLANTED = [PASSWORD, AWS_KEY_ID, AWS_SECRET, GITHUB_TOKEN, SLACK_PATH, API_KEY]


def test_planted_values_are_well_formed():
    assert len(AWS_SECRET) == 40 and len(AWS_KEY_ID) == 20
    for value in PLANTED:
        lowered = value.lower()
        assert not any(w in lowered for w in ("fake", "example", "dummy", "sample", "test", "changeme", "xxx"))


def assert_no_values(facts: DeployFacts) -> None:
    """Neither repr() nor the JSON data of the facts holds a planted value or an 8-char piece of one."""
    shown = repr(facts) + "\n" + json.dumps(to_data(facts))
    for value in PLANTED:
        pieces = {value[i:i + 8] for i in range(len(value) - 7)}
        leaked = sorted(p for p in pieces if p in shown)
        assert not leaked, f"{facts.path} keeps pieces of a secret value: {leaked[:3]}"


def read(path: str, text: str, kind=None) -> DeployFacts:
    facts = read_deployment_file(path, text.encode("utf-8"), kind)
    assert_no_values(facts)
    return facts


def env(facts: DeployFacts, name: str, scope=None):
    found = [v for v in facts.env if v.name == name and (scope is None or v.scope == scope)]
    assert len(found) == 1, (name, scope, [(v.name, v.scope, v.pos.line) for v in facts.env])
    return found[0]


def names(items):
    return [v.name for v in items]


# --------------------------------------------------------------------------------------------
# Shell: a Docker agent started with -e over continuation lines
# --------------------------------------------------------------------------------------------

SHELL = f"""#!/usr/bin/env bash
set -euo pipefail
export AWS_DEFAULT_REGION=eu-west-1
DB_PASSWORD='{PASSWORD}'
export PREFECT__CONTEXT__SECRETS__SLACK_WEBHOOK_URL="$SLACK_URL"

exec prefect agent docker start \\
    --label prod -l etl \\
    -e PREFECT__CONTEXT__SECRETS__GITHUB_ACCESS_TOKEN={GITHUB_TOKEN} \\
    --env "PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS={{\\"ACCESS_KEY\\": \\"$AK\\", \\"SECRET_ACCESS_KEY\\": \\"$SK\\"}}" \\
    -e 'PREFECT__CONTEXT__SECRETS__SNOWFLAKE_PASSWORD=pa$WORD' \\
    -e PREFECT__CONTEXT__SECRET__EMAIL_PASSWORD="$EMAIL_PASSWORD" \\
    --env=PREFECT_CONTEXT_SECRETS_REDIS_PASSWORD={PASSWORD} >> /var/log/agent.log 2>&1
cat > /tmp/notes <<EOF
prefect agent local start -e NOT_A_COMMAND=1
EOF
"""


def test_shell_docker_agent_with_continuation_lines():
    facts = read("deploy/start-agent.sh", SHELL)
    assert facts.kind == "shell"
    assert facts.problems == []
    [agent] = facts.agents  # the heredoc body is not a command
    assert (agent.type, agent.action, agent.pos.line, agent.pos.column) == ("docker", "start", 7, 6)
    assert agent.labels == ["prod", "etl"]
    assert names(agent.forwards) == [
        "PREFECT__CONTEXT__SECRETS__GITHUB_ACCESS_TOKEN",
        "PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS",
        "PREFECT__CONTEXT__SECRETS__SNOWFLAKE_PASSWORD",
        "PREFECT__CONTEXT__SECRET__EMAIL_PASSWORD",
        "PREFECT_CONTEXT_SECRETS_REDIS_PASSWORD",
    ]
    assert names(agent.own_env) == ["AWS_DEFAULT_REGION", "PREFECT__CONTEXT__SECRETS__SLACK_WEBHOOK_URL"]

    token = env(facts, "PREFECT__CONTEXT__SECRETS__GITHUB_ACCESS_TOKEN")
    assert (token.scope, token.agent, token.agent_ref) == ("forwarded", "docker", "deploy/start-agent.sh:7")
    assert (token.pos.line, token.pos.column) == (9, 8)
    assert token.secret == "GITHUB_ACCESS_TOKEN" and token.typo_of is None
    assert token.value.kind == "str" and token.value.is_literal and token.value.shaped
    assert not token.value.empty and token.shape == "str"

    aws = env(facts, "PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS")
    assert (aws.pos.line, aws.pos.column) == (10, 12)
    assert aws.value.kind == "reference" and aws.shape == "dict"
    assert aws.keys == ["ACCESS_KEY", "SECRET_ACCESS_KEY"]

    # single quotes: the shell passes $WORD through and Prefect's config loader expands it
    snow = env(facts, "PREFECT__CONTEXT__SECRETS__SNOWFLAKE_PASSWORD")
    assert snow.expands and snow.value.kind == "reference" and snow.pos.line == 11

    typo = env(facts, "PREFECT__CONTEXT__SECRET__EMAIL_PASSWORD")
    assert typo.secret is None and typo.typo_of == "EMAIL_PASSWORD" and typo.pos.line == 12
    redis = env(facts, "PREFECT_CONTEXT_SECRETS_REDIS_PASSWORD")
    assert redis.typo_of == "REDIS_PASSWORD" and (redis.pos.line, redis.pos.column) == (13, 11)
    assert redis.value.is_literal

    # exported before the agent: its own environment, which a Docker agent does not forward
    slack = env(facts, "PREFECT__CONTEXT__SECRETS__SLACK_WEBHOOK_URL")
    assert (slack.scope, slack.agent, slack.secret, slack.pos.line) == ("agent", "docker", "SLACK_WEBHOOK_URL", 5)
    assert slack.value.kind == "reference" and slack.value.ref == "SLACK_URL"
    region = env(facts, "AWS_DEFAULT_REGION")
    assert (region.scope, region.pos.line, region.pos.column) == ("agent", 3, 8)

    # set but not exported: in no environment
    db = env(facts, "DB_PASSWORD")
    assert db.scope == "shell" and db.value.is_literal and db.pos.line == 4
    assert "NOT_A_COMMAND" not in names(facts.env)


def test_shell_exports_after_the_agent_and_without_agent_are_process_env():
    facts = read("run.sh", "export A=1\nprefect agent local start\nexport B=2\npython etl.py\n")
    [agent] = facts.agents
    assert env(facts, "A").scope == "agent"
    assert env(facts, "B").scope == "process"
    # the Local agent forwards its own environment
    assert names(agent.forwards) == ["A"] and names(agent.own_env) == ["A"]


def test_shell_sourced_env_file_is_linked_to_the_agent():
    facts = read("deploy/run-agent.sh", "set -a\n. ./agent.env\nset +a\nprefect agent ecs start\n")
    [link] = facts.links
    assert (link.target, link.kind, link.scope, link.agent, link.pos.line) == \
        ("deploy/agent.env", "env_file", "agent", "ecs", 2)


def test_shell_command_prefix_sh_c_and_docker_run():
    text = (
        "PREFECT__CONTEXT__SECRETS__A=x prefect agent local start\n"
        "bash -lc 'prefect agent vertex start -e PREFECT__CONTEXT__SECRETS__B=$B_VALUE'\n"
        "docker run -d --name agent -e PREFECT__CONTEXT__SECRETS__C=\"$C\" --env-file ./agent.env \\\n"
        "  prefecthq/prefect:1.4.1 prefect agent docker start -l docker\n"
        "prefect agent start -q default\n"  # Prefect 2, not a 1.x agent
    )
    facts = read("deploy/run.sh", text)
    assert [(a.type, a.pos.line) for a in facts.agents] == [("local", 1), ("vertex", 2), ("docker", 4)]
    a = env(facts, "PREFECT__CONTEXT__SECRETS__A")
    assert (a.scope, a.agent, a.secret) == ("agent", "local", "A")
    b = env(facts, "PREFECT__CONTEXT__SECRETS__B")
    assert (b.scope, b.agent, b.pos.line, b.pos.column) == ("forwarded", "vertex", 2, 41)
    # the outer quotes are removed by the script's shell; the inner bash expands $B_VALUE
    assert not b.expands and b.value.kind == "reference" and b.value.ref == "B_VALUE"
    c = env(facts, "PREFECT__CONTEXT__SECRETS__C")
    assert (c.scope, c.agent, c.pos.line) == ("agent", "docker", 3)
    [link] = facts.links
    assert (link.target, link.kind, link.scope, link.agent) == ("deploy/agent.env", "env_file", "agent", "docker")


# --------------------------------------------------------------------------------------------
# Kubernetes: the manifest `prefect agent kubernetes install --env ... --label ...` prints
# --------------------------------------------------------------------------------------------

K8S = f"""apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    app: prefect-agent
  name: prefect-agent
spec:
  replicas: 1
  selector:
    matchLabels:
      app: prefect-agent
  template:
    metadata:
      labels:
        app: prefect-agent
    spec:
      containers:
      - args:
        - prefect agent kubernetes start
        command:
        - /bin/bash
        - -c
        env:
        - name: PREFECT__CLOUD__API_KEY
          value: {API_KEY}
        - name: PREFECT__CLOUD__AGENT__LABELS
          value: '[''prod'', ''k8s'']'
        - name: PREFECT__BACKEND
          value: cloud
        - name: PREFECT__CONTEXT__SECRETS__SLACK_WEBHOOK_URL
          valueFrom:
            secretKeyRef:
              name: prefect-secrets
              key: slack
        - name: PREFECT__CLOUD__AGENT__ENV_VARS
          value: '{{"PREFECT__CONTEXT__SECRETS__GITHUB_ACCESS_TOKEN": "{GITHUB_TOKEN}", "PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS": "{{\\"ACCESS_KEY\\": \\"{AWS_KEY_ID}\\"}}"}}'
        envFrom:
        - secretRef:
            name: more-secrets
        image: prefecthq/prefect:1.4.1-python3.9
        imagePullPolicy: Always
        name: agent
---
apiVersion: v1
kind: Secret
metadata:
  name: prefect-secrets
stringData:
  slack: "https://hooks.slack.com/services/{SLACK_PATH}"
"""


def test_kubernetes_agent_manifest_from_install():
    facts = read("k8s/agent.yaml", K8S)
    assert facts.kind == "k8s" and facts.problems == []
    [agent] = facts.agents
    assert (agent.type, agent.action, agent.pos.line, agent.pos.column) == ("kubernetes", "start", 19, 11)
    assert agent.labels == ["prod", "k8s"]  # from PREFECT__CLOUD__AGENT__LABELS
    assert agent.owner == "container Deployment/prefect-agent/agent"
    assert names(agent.forwards) == ["PREFECT__CONTEXT__SECRETS__GITHUB_ACCESS_TOKEN",
                                     "PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS"]

    gh = env(facts, "PREFECT__CONTEXT__SECRETS__GITHUB_ACCESS_TOKEN")
    assert (gh.scope, gh.agent, gh.agent_ref, gh.secret) == ("forwarded", "kubernetes", "k8s/agent.yaml:19",
                                                            "GITHUB_ACCESS_TOKEN")
    assert (gh.pos.line, gh.pos.column) == (36, 21) and gh.value.is_literal and gh.value.shaped
    creds = env(facts, "PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS")
    assert creds.shape == "dict" and creds.keys == ["ACCESS_KEY"] and creds.pos.line == 36
    assert creds.pos.column > gh.pos.column

    holder = env(facts, "PREFECT__CLOUD__AGENT__ENV_VARS")
    assert (holder.scope, holder.pos.line, holder.pos.column) == ("agent", 35, 17)
    assert holder.shape == "dict"

    # a secret in the Kubernetes agent's own env does not reach flow runs (CL107 material)
    slack = env(facts, "PREFECT__CONTEXT__SECRETS__SLACK_WEBHOOK_URL")
    assert (slack.scope, slack.agent, slack.pos.line) == ("agent", "kubernetes", 30)
    assert slack.value.kind == "reference" and slack.value.ref == "secret/prefect-secrets/slack"
    key = env(facts, "PREFECT__CLOUD__API_KEY")
    assert key.scope == "agent" and key.value.is_literal and key.pos.line == 24

    [link] = facts.links
    assert (link.target, link.kind, link.scope, link.pos.line) == ("secret/more-secrets", "secret", "agent", 39)
    # the second document of the stream: a Secret with a literal value
    slack_data = env(facts, "slack")
    assert (slack_data.scope, slack_data.owner, slack_data.pos.line) == ("process", "secret/prefect-secrets", 49)
    assert slack_data.value.shaped


def test_kubernetes_exec_form_and_nested_env_vars_form():
    text = """apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          initContainers:
          - name: init
            image: busybox
            env: [{name: INIT_ONLY, value: "1"}]
          containers:
          - name: agent
            command: ["prefect", "agent", "kubernetes", "start", "-e", "PREFECT__CONTEXT__SECRETS__K=$(K_VALUE)"]
            env:
            - name: PREFECT__CLOUD__AGENT__ENV_VARS
              value: '{"PREFECT__CONTEXT__SECRETS__IGNORED": "1"}'
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: old-install}
spec:
  template:
    spec:
      containers:
      - name: agent
        args: ["prefect", "agent", "kubernetes", "start"]
        env:
        - name: PREFECT__CLOUD__AGENT__ENV_VARS__PREFECT__CONTEXT__SECRETS__NESTED
          value: abc
        - name: PREFECT__CLOUD__AGENT__ENV_VARS__MY_TOKEN
          value: $(TOKEN)
"""
    facts = read("k8s/cron.yaml", text)
    first, second = facts.agents
    assert (first.type, first.pos.line, first.owner) == ("kubernetes", 15, "container CronJob/nightly/agent")
    k = env(facts, "PREFECT__CONTEXT__SECRETS__K")
    assert k.scope == "forwarded" and k.value.kind == "reference" and k.value.ref == "K_VALUE"
    assert k.expands is False  # $(VAR) is Kubernetes' own substitution
    assert env(facts, "INIT_ONLY").scope == "process"
    # --env is given: Prefect ignores the configured env vars, which stay on the agent
    ignored = env(facts, "PREFECT__CONTEXT__SECRETS__IGNORED")
    assert (ignored.scope, ignored.agent, ignored.pos.line) == ("agent", "kubernetes", 18)
    assert names(first.forwards) == ["PREFECT__CONTEXT__SECRETS__K"]
    assert facts.problems == ["line 17: PREFECT__CLOUD__AGENT__ENV_VARS is ignored: the agent at line 15 "
                              "passes --env, which replaces it"]
    # the nested form lower-cases and nests: the run gets a variable "prefect", not the secret
    assert (second.pos.line, names(second.forwards)) == (28, ["prefect", "my_token"])
    nested = env(facts, "prefect")
    assert (nested.scope, nested.secret, nested.typo_of, nested.shape) == ("forwarded", None, "NESTED", "dict")
    assert (nested.pos.line, nested.pos.column) == (30, 50)  # where the part after ENV_VARS__ starts
    token = env(facts, "my_token")
    assert token.value.kind == "reference" and token.value.ref == "TOKEN"


# --------------------------------------------------------------------------------------------
# docker compose: a Docker agent with a secret in its own `environment` (CL107)
# --------------------------------------------------------------------------------------------

COMPOSE = f"""version: "3.8"
x-aws: &aws
  AWS_DEFAULT_REGION: eu-west-1
services:
  agent:
    image: prefecthq/prefect:1.4.1-python3.9
    command: >-
      prefect agent docker start --label compose
      -e PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS=${{AWS_CREDENTIALS_JSON}}
    environment:
      PREFECT__CLOUD__API_KEY: ${{PREFECT_API_KEY}}
      PREFECT__CONTEXT__SECRETS__SNOWFLAKE_PASSWORD: "{PASSWORD}"
      DOCKER_HOST:
    env_file:
      - ./agent.env
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock
  worker:
    image: acme/etl:latest
    environment:
      <<: *aws
      DEBUG:
    command: ["python", "-m", "etl"]
  api:
    image: acme/api:latest
    environment:
      - API_TOKEN={AWS_SECRET}
      - VERBOSE
"""


def test_compose_docker_agent_with_secret_in_own_environment():
    facts = read("docker-compose.yml", COMPOSE)
    assert facts.kind == "compose"
    [agent] = facts.agents
    assert (agent.type, agent.action, agent.pos.line, agent.owner) == ("docker", "start", 8, "service agent")
    assert agent.labels == ["compose"]
    assert names(agent.forwards) == ["PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS"]
    assert names(agent.own_env) == ["PREFECT__CLOUD__API_KEY", "PREFECT__CONTEXT__SECRETS__SNOWFLAKE_PASSWORD",
                                    "DOCKER_HOST"]

    wrong = env(facts, "PREFECT__CONTEXT__SECRETS__SNOWFLAKE_PASSWORD")
    assert (wrong.scope, wrong.agent, wrong.agent_ref) == ("agent", "docker", "docker-compose.yml:8")
    assert (wrong.pos.line, wrong.pos.column, wrong.secret) == (12, 7, "SNOWFLAKE_PASSWORD")
    assert wrong.value.is_literal and not wrong.value.empty

    fwd = env(facts, "PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS")
    assert (fwd.scope, fwd.pos.line, fwd.pos.column) == ("forwarded", 9, 10)
    assert fwd.value.kind == "reference" and fwd.value.ref == "AWS_CREDENTIALS_JSON" and not fwd.expands

    assert env(facts, "PREFECT__CLOUD__API_KEY").value.kind == "reference"
    assert env(facts, "DOCKER_HOST").value.kind == "none"
    [link] = facts.links
    assert (link.owner, link.target, link.scope, link.pos.line) == ("service agent", "agent.env", "agent", 15)

    region = env(facts, "AWS_DEFAULT_REGION")  # through the merge key, written at line 3
    assert (region.scope, region.owner, region.pos.line) == ("process", "service worker", 3)
    api = env(facts, "API_TOKEN")
    assert (api.scope, api.agent, api.pos.line, api.pos.column) == ("process", None, 27, 9)
    assert api.value.is_literal
    assert env(facts, "VERBOSE").value.kind == "none"


# --------------------------------------------------------------------------------------------
# supervisord: a Local agent (as `prefect agent local install` writes it)
# --------------------------------------------------------------------------------------------

SUPERVISORD = f"""; Supervisor config file for running Prefect Agents.
[unix_http_server]
file=/tmp/supervisor.sock   ; the path to the socket file

[supervisord]
loglevel=debug               ; log level; default info
environment=PREFECT__BACKEND="cloud"

[program:prefect-agent]
command=prefect agent local start -l etl -e PREFECT__CONTEXT__SECRETS__PUSHBULLET_TOKEN={PASSWORD}
environment=PREFECT__CONTEXT__SECRETS__EMAIL_PASSWORD="{PASSWORD}",
    PREFECT__CLOUD__API_KEY="%(ENV_PREFECT_KEY)s"

[program:web]
command=gunicorn app:app
environment=PREFECT_CONTEXT_SECRETS_X="abc"
"""


def test_supervisord_local_agent():
    facts = read("deploy/supervisord.conf", SUPERVISORD)
    assert facts.kind == "supervisord" and facts.problems == []
    [agent] = facts.agents
    assert (agent.type, agent.action, agent.pos.line, agent.pos.column) == ("local", "start", 10, 9)
    assert agent.owner == "program:prefect-agent" and agent.labels == ["etl"]
    push = env(facts, "PREFECT__CONTEXT__SECRETS__PUSHBULLET_TOKEN")
    assert (push.scope, push.agent, push.pos.line, push.pos.column) == ("forwarded", "local", 10, 45)
    email = env(facts, "PREFECT__CONTEXT__SECRETS__EMAIL_PASSWORD")
    assert (email.scope, email.agent, email.pos.line, email.pos.column) == ("agent", "local", 11, 13)
    assert email.value.is_literal
    key = env(facts, "PREFECT__CLOUD__API_KEY")
    assert (key.pos.line, key.pos.column) == (12, 5)
    assert key.value.kind == "reference" and key.value.ref == "PREFECT_KEY"
    backend = env(facts, "PREFECT__BACKEND")
    assert (backend.scope, backend.pos.line) == ("agent", 7)
    # the Local agent forwards its own environment to every flow run
    assert set(names(agent.forwards)) == {"PREFECT__CONTEXT__SECRETS__PUSHBULLET_TOKEN", "PREFECT__BACKEND",
                                         "PREFECT__CONTEXT__SECRETS__EMAIL_PASSWORD", "PREFECT__CLOUD__API_KEY"}
    other = env(facts, "PREFECT_CONTEXT_SECRETS_X")
    assert (other.scope, other.typo_of, other.pos.line) == ("process", "X", 16)


# --------------------------------------------------------------------------------------------
# Dockerfile: ENV over continuation lines, CMD ["prefect", "agent", "local", "start"]
# --------------------------------------------------------------------------------------------

DOCKERFILE = f"""# syntax=docker/dockerfile:1
FROM python:3.9-slim AS base
ENV PIP_NO_CACHE_DIR=1

FROM golang:1.21 AS tools
ENV GOFLAGS=-mod=mod

FROM base
ARG PREFECT_VERSION=1.4.1
RUN pip install "prefect==${{PREFECT_VERSION}}"
ENV PREFECT__BACKEND=cloud \\
    PREFECT__CONTEXT__SECRETS__SNOWFLAKE_PASSWORD="{PASSWORD}" \\
    PREFECT__Context__Secrets__DB_URL=postgres://etl@db/etl
ENV LEGACY_FORM some value
RUN <<EOF
prefect agent docker start
EOF
CMD ["prefect", "agent", "local", "start", "--label", "image"]
"""


def test_dockerfile_env_and_exec_form_agent():
    facts = read("docker/agent.Dockerfile", DOCKERFILE)
    assert facts.kind == "dockerfile" and facts.problems == []
    [agent] = facts.agents
    assert (agent.type, agent.action, agent.pos.line, agent.pos.column) == ("local", "start", 18, 7)
    assert agent.labels == ["image"]
    assert names(agent.own_env) == ["PIP_NO_CACHE_DIR", "PREFECT__BACKEND",
                                    "PREFECT__CONTEXT__SECRETS__SNOWFLAKE_PASSWORD",
                                    "PREFECT__Context__Secrets__DB_URL", "LEGACY_FORM"]
    snow = env(facts, "PREFECT__CONTEXT__SECRETS__SNOWFLAKE_PASSWORD")
    assert (snow.scope, snow.agent, snow.pos.line, snow.pos.column) == ("agent", "local", 12, 5)
    assert snow.value.is_literal
    typo = env(facts, "PREFECT__Context__Secrets__DB_URL")
    assert (typo.secret, typo.typo_of, typo.pos.line) == (None, "DB_URL", 13)
    assert env(facts, "LEGACY_FORM").pos.line == 14
    assert env(facts, "PIP_NO_CACHE_DIR").scope == "agent"  # inherited from stage "base"
    assert env(facts, "GOFLAGS").scope == "process"  # another stage
    assert env(facts, "PREFECT_VERSION").scope == "process"


def test_dockerfile_shell_form_and_entrypoint():
    text = "FROM prefecthq/prefect:1.4.1\nENV PREFECT__CONTEXT__SECRETS__A=$A_FROM_ARG\n" \
           "ENTRYPOINT [\"/usr/bin/tini\", \"--\"]\nCMD prefect agent ecs start \\\n  --label ecs\n"
    facts = read("Dockerfile", text)
    [agent] = facts.agents
    assert (agent.type, agent.pos.line, agent.labels) == ("ecs", 4, ["ecs"])
    a = env(facts, "PREFECT__CONTEXT__SECRETS__A")
    assert a.scope == "agent" and a.value.kind == "reference"


# --------------------------------------------------------------------------------------------
# .env
# --------------------------------------------------------------------------------------------

DOTENV = f"""# agent settings
export PREFECT__CLOUD__API_KEY={API_KEY}
PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS='{{"ACCESS_KEY": "{AWS_KEY_ID}", "SECRET_ACCESS_KEY": "{AWS_SECRET}"}}'
PREFECT__CONTEXT__SECRETS__GCP_CREDENTIALS={{"type": "service_account", "private": true}}
SLACK_URL="${{SLACK_BASE}}/services"  # a comment
PREFECT__CONTEXT__SECRETS__GITHUB_ACCESS_TOKEN=<your token here>
EMPTY=
NO_VALUE
MULTI="first line
second line"
PREFECT__CONTEXT__SECRETS__PORT=5432
PREFECT__CONTEXT__SECRETS__FLAG=True
"""


def test_dotenv():
    facts = read("deploy/.env", DOTENV)
    assert facts.kind == "dotenv"
    assert all(v.scope == "process" for v in facts.env)
    assert [(v.name, v.pos.line) for v in facts.env] == [
        ("PREFECT__CLOUD__API_KEY", 2), ("PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS", 3),
        ("PREFECT__CONTEXT__SECRETS__GCP_CREDENTIALS", 4), ("SLACK_URL", 5),
        ("PREFECT__CONTEXT__SECRETS__GITHUB_ACCESS_TOKEN", 6), ("EMPTY", 7), ("NO_VALUE", 8), ("MULTI", 9),
        ("PREFECT__CONTEXT__SECRETS__PORT", 11), ("PREFECT__CONTEXT__SECRETS__FLAG", 12),
    ]
    assert env(facts, "PREFECT__CLOUD__API_KEY").pos.column == 8
    aws = env(facts, "PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS")
    assert (aws.secret, aws.shape, aws.keys) == ("AWS_CREDENTIALS", "dict", ["ACCESS_KEY", "SECRET_ACCESS_KEY"])
    assert aws.value.is_literal and aws.value.shaped and sorted(aws.value.items) == ["ACCESS_KEY", "SECRET_ACCESS_KEY"]
    gcp = env(facts, "PREFECT__CONTEXT__SECRETS__GCP_CREDENTIALS")
    assert gcp.shape == "json-string"  # `true` is JSON, not Python: Prefect hands over a str
    assert env(facts, "SLACK_URL").value.kind == "reference"
    gh = env(facts, "PREFECT__CONTEXT__SECRETS__GITHUB_ACCESS_TOKEN")
    assert gh.value.kind == "str" and gh.value.placeholder and not gh.value.is_literal
    assert env(facts, "EMPTY").shape == "empty"
    assert env(facts, "NO_VALUE").value.kind == "none"
    assert env(facts, "PREFECT__CONTEXT__SECRETS__PORT").shape == "int"
    assert env(facts, "PREFECT__CONTEXT__SECRETS__FLAG").shape == "bool"


# --------------------------------------------------------------------------------------------
# GitHub Actions
# --------------------------------------------------------------------------------------------

WORKFLOW = f"""name: agent
on: [push]
env:
  PREFECT__CLOUD__API_KEY: ${{{{ secrets.PREFECT_API_KEY }}}}
jobs:
  run-agent:
    runs-on: ubuntu-latest
    env:
      PREFECT__CONTEXT__SECRETS__SLACK_WEBHOOK_URL: ${{{{ secrets.SLACK_WEBHOOK_URL }}}}
    steps:
      - uses: actions/checkout@v4
      - name: Start agent
        env:
          PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS: '{{"ACCESS_KEY": "${{{{ secrets.AK }}}}", "SECRET_ACCESS_KEY": "${{{{ secrets.SK }}}}"}}'
        run: |
          pip install prefect==1.4.1
          prefect agent local start \\
            --label ci \\
            -e PREFECT__CONTEXT__SECRETS__GITHUB_ACCESS_TOKEN=${{{{ secrets.GH_TOKEN }}}}
  lint:
    runs-on: ubuntu-latest
    env:
      LINT_TOKEN: {AWS_SECRET}
    steps:
      - run: make lint
"""


def test_github_workflow():
    facts = read(".github/workflows/agent.yml", WORKFLOW)
    assert facts.kind == "ci-yaml" and facts.problems == []
    [agent] = facts.agents
    assert (agent.type, agent.pos.line, agent.pos.column, agent.owner) == ("local", 17, 11, "job run-agent")
    assert agent.labels == ["ci"]
    gh = env(facts, "PREFECT__CONTEXT__SECRETS__GITHUB_ACCESS_TOKEN")
    assert (gh.scope, gh.pos.line, gh.pos.column) == ("forwarded", 19, 16)
    assert gh.value.kind == "reference" and gh.value.ref == "secrets.GH_TOKEN"
    # workflow-, job- and step-level env reach the step that runs the agent
    for name, line in (("PREFECT__CLOUD__API_KEY", 4), ("PREFECT__CONTEXT__SECRETS__SLACK_WEBHOOK_URL", 9),
                       ("PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS", 14)):
        var = env(facts, name)
        assert (var.scope, var.agent, var.pos.line) == ("agent", "local", line)
        assert var.value.kind == "reference"
    aws = env(facts, "PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS")
    assert aws.shape == "dict" and aws.keys == ["ACCESS_KEY", "SECRET_ACCESS_KEY"]
    lint = env(facts, "LINT_TOKEN")
    assert (lint.scope, lint.owner, lint.pos.line) == ("process", "job lint", 23)
    assert lint.value.is_literal


def test_gitlab_ci():
    text = """variables:
  PREFECT__CONTEXT__SECRETS__TOKEN: $CI_TOKEN
agent:
  variables:
    PREFECT__CONTEXT_SECRETS__REGION:
      value: eu-west-1
      description: typo in the prefix
  script:
    - prefect agent docker start -l gitlab
"""
    facts = read(".gitlab-ci.yml", text)
    [agent] = facts.agents
    assert (agent.type, agent.pos.line, agent.owner) == ("docker", 9, "job agent")
    token = env(facts, "PREFECT__CONTEXT__SECRETS__TOKEN")
    assert (token.scope, token.value.kind, token.pos.line) == ("agent", "reference", 2)
    region = env(facts, "PREFECT__CONTEXT_SECRETS__REGION")
    assert (region.typo_of, region.pos.line, region.value.kind) == ("REGION", 5, "str")


# --------------------------------------------------------------------------------------------
# Helm templates and YAML that does not parse
# --------------------------------------------------------------------------------------------

HELM = f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{{{ include "agent.fullname" . }}}}
spec:
  template:
    spec:
      containers:
        - name: agent
          image: "{{{{ .Values.image.repository }}}}:{{{{ .Values.image.tag }}}}"
          command: ["/bin/bash", "-c"]
          args:
            - prefect agent kubernetes start --label {{{{ .Values.label }}}}
          env:
            {{{{- if .Values.apiKey }}}}
            - name: PREFECT__CLOUD__API_KEY
              value: {{{{ .Values.apiKey | quote }}}}
            {{{{- end }}}}
            - name: PREFECT__CONTEXT__SECRETS__SNOWFLAKE_PASSWORD
              value: "{PASSWORD}"
            {{{{- range $k, $v := .Values.extraEnv }}}}
            - name: {{{{ $k }}}}
              value: {{{{ $v | quote }}}}
            {{{{- end }}}}
"""


def test_helm_template_that_does_not_parse():
    facts = read("chart/templates/agent.yaml", HELM)
    assert facts.kind == "k8s"
    assert facts.problems == ["line 15: template does not parse as YAML, read with its {{ }} expressions set aside"]
    [agent] = facts.agents
    assert (agent.type, agent.pos.line, agent.pos.column) == ("kubernetes", 13, 15)
    assert agent.labels == []  # a templated label is unknown
    key = env(facts, "PREFECT__CLOUD__API_KEY")
    assert (key.scope, key.pos.line, key.value.kind) == ("agent", 16, "reference")
    snow = env(facts, "PREFECT__CONTEXT__SECRETS__SNOWFLAKE_PASSWORD")
    assert (snow.scope, snow.agent, snow.pos.line, snow.pos.column) == ("agent", "kubernetes", 19, 21)
    assert snow.value.is_literal
    assert names(facts.env) == ["PREFECT__CLOUD__API_KEY", "PREFECT__CONTEXT__SECRETS__SNOWFLAKE_PASSWORD"]


def test_yaml_read_line_by_line_when_nothing_else_works():
    text = f"""apiVersion: v1
kind: Pod
spec:
  containers:
  - name: agent
    args: ["prefect agent docker start -e PREFECT__CONTEXT__SECRETS__X={PASSWORD}"]
    env:
    - name: PREFECT__CONTEXT__SECRETS__Y
      value: "{PASSWORD}"
    - name: FROM_SECRET
      valueFrom:
        secretKeyRef: {{name: s, key: k}}
    {{{{ if .Values.x }}}} bad: [
"""
    facts = read("k8s/broken.yaml", text)
    assert len(facts.problems) == 1 and facts.problems[0].startswith("line 13: does not parse as YAML")
    [agent] = facts.agents
    assert (agent.type, agent.pos.line, agent.pos.column) == ("docker", 6, 13)
    x = env(facts, "PREFECT__CONTEXT__SECRETS__X")
    assert (x.scope, x.pos.line) == ("forwarded", 6)
    y = env(facts, "PREFECT__CONTEXT__SECRETS__Y")
    assert (y.scope, y.agent, y.pos.line, y.pos.column) == ("agent", "docker", 8, 13)
    assert y.value.is_literal
    assert env(facts, "FROM_SECRET").value.kind == "reference"
    assert names(facts.env) == ["PREFECT__CONTEXT__SECRETS__X", "PREFECT__CONTEXT__SECRETS__Y", "FROM_SECRET"]


def test_multi_document_yaml_keeps_going_after_a_bad_document():
    text = """apiVersion: v1
kind: ConfigMap
metadata: {name: a}
data:
  PREFECT__CONTEXT__SECRETS__ONE: "1"
---
apiVersion: v1
kind: ConfigMap
data: [unclosed
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
data:
  PREFECT__CONTEXT__SECRETS__THREE: "3"
"""
    facts = read("k8s/multi.yaml", text)
    assert [(v.secret, v.pos.line, v.owner) for v in facts.env] == [("ONE", 5, "configmap/a"),
                                                                    ("THREE", 15, "configmap/c")]
    # libyaml marks the end of the document, PyYAML's pure-Python parser the unclosed "["
    assert len(facts.problems) == 1
    assert facts.problems[0].startswith(("line 9: does not parse as YAML", "line 10: does not parse as YAML"))


# --------------------------------------------------------------------------------------------
# Prefect config.toml
# --------------------------------------------------------------------------------------------

CONFIG_TOML = f"""backend = "server"

[context.secrets]
SNOWFLAKE_PASSWORD = "{PASSWORD}"
AWS_CREDENTIALS = '{{"ACCESS_KEY": "{AWS_KEY_ID}", "SECRET_ACCESS_KEY": "{AWS_SECRET}"}}'
PORT = "5432"
DATA_DIR = "~/data"
GH = {{ token = "{GITHUB_TOKEN}", "user" = "bot" }}
JSONISH = '{{"enabled": true}}'

[context.secrets.GCP_CREDENTIALS]
type = "service_account"
private_key_id = "{AWS_SECRET}"

[cloud.agent]
labels = ["prod"]

[cloud.agent.env_vars]
PREFECT__CONTEXT__SECRETS__SLACK_WEBHOOK_URL = "$SLACK_URL"
PREFECT__CONTEXT__SECRET__REDIS_PASSWORD = "{PASSWORD}"

[secrets]
JIRASECRETS = "{PASSWORD}"
"""


def test_prefect_config_toml():
    facts = read("deploy/prefect/config.toml", CONFIG_TOML)
    assert facts.kind == "prefect-config" and facts.problems == []
    got = [(v.name, v.scope, v.secret, v.typo_of, v.shape, v.pos.line, v.pos.column) for v in facts.env]
    assert got == [
        ("SNOWFLAKE_PASSWORD", "config", "SNOWFLAKE_PASSWORD", None, "str", 4, 1),
        ("AWS_CREDENTIALS", "config", "AWS_CREDENTIALS", None, "dict", 5, 1),
        ("PORT", "config", "PORT", None, "int", 6, 1),
        ("DATA_DIR", "config", "DATA_DIR", None, "str", 7, 1),
        ("GH", "config", "GH", None, "dict", 8, 1),
        ("GH.token", "config-key", "GH", None, "str", 8, 8),  # each string of a dict-valued secret
        ("GH.user", "config-key", "GH", None, "str", 8, 60),
        ("JSONISH", "config", "JSONISH", None, "json-string", 9, 1),
        ("GCP_CREDENTIALS", "config", "GCP_CREDENTIALS", None, "dict", 11, 18),
        ("GCP_CREDENTIALS.type", "config-key", "GCP_CREDENTIALS", None, "str", 12, 1),
        ("GCP_CREDENTIALS.private_key_id", "config-key", "GCP_CREDENTIALS", None, "str", 13, 1),
        ("PREFECT__CONTEXT__SECRETS__SLACK_WEBHOOK_URL", "forwarded", "SLACK_WEBHOOK_URL", None, "reference", 19, 1),
        ("PREFECT__CONTEXT__SECRET__REDIS_PASSWORD", "forwarded", None, "REDIS_PASSWORD", "str", 20, 1),
        ("JIRASECRETS", "config", None, "JIRASECRETS", "str", 23, 1),  # [secrets] is not read
    ]
    aws = env(facts, "AWS_CREDENTIALS")
    assert aws.keys == ["ACCESS_KEY", "SECRET_ACCESS_KEY"] and aws.value.is_literal and aws.value.shaped
    assert env(facts, "DATA_DIR").expands
    gh = env(facts, "GH")
    assert gh.value.kind == "dict" and gh.keys == ["token", "user"] and gh.value.items["token"].shaped
    gcp = env(facts, "GCP_CREDENTIALS")
    assert gcp.keys == ["type", "private_key_id"]
    assert env(facts, "PREFECT__CONTEXT__SECRETS__SLACK_WEBHOOK_URL").agent is None


def test_prefect_config_toml_that_does_not_parse():
    facts = read("config.toml", f"[context.secrets]\nA = \"{PASSWORD}\nB = 1\n")
    assert facts.env == [] and len(facts.problems) == 1
    assert facts.problems[0].startswith("line 2: does not parse as TOML")


# --------------------------------------------------------------------------------------------
# Makefile
# --------------------------------------------------------------------------------------------


def test_makefile():
    text = f"""TOKEN := {GITHUB_TOKEN}
export PREFECT__CONTEXT__SECRETS__GITHUB_ACCESS_TOKEN = $(TOKEN)

.PHONY: agent
agent:
\t@prefect agent local start \\
\t  -l make -e PREFECT__CONTEXT__SECRETS__X=$(X_VALUE)
"""
    facts = read("Makefile", text)
    [agent] = facts.agents
    assert (agent.type, agent.pos.line, agent.pos.column, agent.owner) == ("local", 6, 3, "target agent")
    assert env(facts, "TOKEN").scope == "shell" and env(facts, "TOKEN").value.is_literal
    exported = env(facts, "PREFECT__CONTEXT__SECRETS__GITHUB_ACCESS_TOKEN")
    assert (exported.scope, exported.value.ref, exported.pos.line) == ("agent", "TOKEN", 2)
    x = env(facts, "PREFECT__CONTEXT__SECRETS__X")
    assert (x.scope, x.pos.line, x.pos.column, x.value.ref) == ("forwarded", 7, 15, "X_VALUE")


# --------------------------------------------------------------------------------------------
# Agent semantics
# --------------------------------------------------------------------------------------------


def test_env_vars_config_is_ignored_when_the_agent_has_env_options():
    text = """services:
  agent:
    image: prefecthq/prefect:1.4.1
    command: prefect agent docker start -e A=1
    environment:
      PREFECT__CLOUD__AGENT__ENV_VARS: '{"PREFECT__CONTEXT__SECRETS__B": "2"}'
"""
    facts = read("compose.yaml", text)
    [agent] = facts.agents
    assert names(agent.forwards) == ["A"]
    b = env(facts, "PREFECT__CONTEXT__SECRETS__B")
    assert (b.scope, b.agent, b.pos.line) == ("agent", "docker", 6)
    assert facts.problems == ["line 6: PREFECT__CLOUD__AGENT__ENV_VARS is ignored: the agent at line 4 passes "
                              "--env, which replaces it"]


def test_env_vars_json_with_json_literals_is_a_problem():
    facts = read(".env", "PREFECT__CLOUD__AGENT__ENV_VARS={\"A\": true}\n")
    assert facts.problems and "not a Python dict literal" in facts.problems[0]


def test_agent_env_without_value_and_key_option():
    facts = read("a.sh", f"prefect agent local start -e JUST_A_NAME --key {API_KEY} -k \"$KEY\"\n")
    [agent] = facts.agents
    assert names(agent.forwards)[0] == "JUST_A_NAME"
    assert env(facts, "JUST_A_NAME").value.kind == "none"
    assert facts.problems == ["line 1: --env JUST_A_NAME has no '=VALUE': the agent CLI fails on it "
                              "(Prefect splits each --env at '=')"]
    key = env(facts, "--key")
    assert (key.scope, key.agent, key.value.kind) == ("agent", "local", "str") and key.value.is_literal
    assert env(facts, "-k").value.kind == "reference"


def test_install_command_forwards_but_does_not_bind_its_own_env():
    facts = read("install.sh", "export X=1\nprefect agent local install -e PREFECT__CONTEXT__SECRETS__A=$A "
                               "--label box > supervisord.conf\n")
    [agent] = facts.agents
    assert (agent.type, agent.action, agent.labels) == ("local", "install", ["box"])
    assert names(agent.forwards) == ["PREFECT__CONTEXT__SECRETS__A"]
    assert env(facts, "X").scope == "process"


# --------------------------------------------------------------------------------------------
# Prefect's parsing rules
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, secret, typo", [
    ("PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS", "AWS_CREDENTIALS", None),
    ("PREFECT__CONTEXT__SECRETS__MixedCase_Key", "MixedCase_Key", None),
    ("PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS__ACCESS_KEY", "AWS_CREDENTIALS", None),
    ("PREFECT__context__secrets__k", "k", None),
    ("PREFECT__Context__Secrets__X", None, "X"),
    ("PREFECT__CONTEXT__Secrets__X", None, "X"),
    ("PREFECT__CONTEXT__SECRET__X", None, "X"),
    ("PREFECT_CONTEXT_SECRETS_X", None, "X"),
    ("PREFECT__CONTEXT_SECRETS__X", None, "X"),
    ("PREFECT__CONTEXT__SECRETS_X", None, "X"),
    ("PREFECT__SECRETS__X", None, "X"),
    ("prefect__context__secrets__x", None, "x"),
    (" PREFECT__CONTEXT__SECRETS__X", None, "X"),
    ("PREFECT__CONTEXT__SECRETS__X ", "X ", "X"),
    ("PREFECT__CONTEXT__SECRETS____X", None, "X"),
    ("PREFECT__CONTEXT__SECRETS__MY_CONTEXT__SECRETS_X", "MY_context", "MY_CONTEXT"),
    ("PREFECT__CONTEXT__SECRETS__", None, None),
    ("PREFECT__CONTEXT__SECRETS", None, None),
    ("PREFECT__CLOUD__API_KEY", None, None),
    ("AWS_SECRET_ACCESS_KEY", None, None),
    ("MY_PREFECT_SECRET_X", None, None),
])
def test_secret_names(name, secret, typo):
    assert prefect_secret_name(name) == secret
    assert typo_secret_name(name) == typo


@pytest.mark.parametrize("text, shape, keys, expands", [
    ("true", "bool", [], False),
    ("FALSE", "bool", [], False),
    ("42", "int", [], False),
    ("1.5", "float", [], False),
    ("'x'", "str", [], False),
    ("None", "none", [], False),
    ("[1, 2]", "list", [], False),
    ('{"ACCESS_KEY": "a", "SECRET_ACCESS_KEY": "b"}', "dict", ["ACCESS_KEY", "SECRET_ACCESS_KEY"], False),
    ('{"enabled": true}', "json-string", ["enabled"], False),
    ('["a", null]', "json-string", [], False),
    ("{broken", "str", [], False),
    ("", "empty", [], False),
    ("plain words", "str", [], False),
    ("pa$MYVAR", "str", [], True),
    ("${cloud.endpoint}", "str", [], True),
    ("~/data", "str", [], True),
])
def test_interpret_value(text, shape, keys, expands):
    assert interpret_value(text) == (shape, keys, expands)


# --------------------------------------------------------------------------------------------
# Classification, robustness, plain data
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path, head, kind", [
    ("Dockerfile", b"FROM x", "dockerfile"),
    ("docker/Dockerfile.agent", b"", "dockerfile"),
    ("agent.dockerfile", b"", "dockerfile"),
    ("docker-compose.yml", b"", "compose"),
    ("docker-compose.prod.yaml", b"", "compose"),
    ("compose.yaml", b"", "compose"),
    (".env", b"", "dotenv"),
    (".env.production", b"", "dotenv"),
    ("deploy/agent.env", b"", "dotenv"),
    ("scripts/start.sh", b"", "shell"),
    ("scripts/start", b"#!/bin/bash\nprefect agent local start\n", "shell"),
    ("Makefile", b"", "makefile"),
    ("build/rules.mk", b"", "makefile"),
    (".github/workflows/ci.yml", b"on: push", "ci-yaml"),
    (".gitlab-ci.yml", b"", "ci-yaml"),
    ("k8s/agent.yaml", b"apiVersion: v1\nkind: Pod\n", "k8s"),
    ("ansible/agent.yml", b"- shell: prefect agent local start\n", "yaml"),
    ("deploy/supervisord.conf", b"[program:agent]\ncommand=x\n", "supervisord"),
    ("agent.ini", b"[program:agent]\n", "supervisord"),
    ("prefect/config.toml", b"[context.secrets]\nA = 1\n", "prefect-config"),
    ("backend.toml", b"[cloud.agent.env_vars]\nA = '1'\n", "prefect-config"),
    ("config.toml", b"[ context . secrets ]\n", "prefect-config"),
    ("mkdocs.yml", b"site_name: docs\n", None),
    ("pyproject.toml", b"[context.secrets]\n", None),
    ("settings.toml", b"[tool.black]\n", None),
    ("nginx.conf", b"server {}\n", None),
    ("flows/etl.py", b"import prefect\n", None),
    ("README.md", b"prefect agent local start\n", None),
    ("image.sh", b"\x00\x01binary", None),
])
def test_classify(path, head, kind):
    assert classify(path, head) == kind


ALL_FILES = [
    ("deploy/start-agent.sh", SHELL), ("k8s/agent.yaml", K8S), ("docker-compose.yml", COMPOSE),
    ("deploy/supervisord.conf", SUPERVISORD), ("Dockerfile", DOCKERFILE), ("deploy/.env", DOTENV),
    (".github/workflows/agent.yml", WORKFLOW), ("chart/templates/agent.yaml", HELM),
    ("prefect/config.toml", CONFIG_TOML),
]


@pytest.mark.parametrize("path, text", ALL_FILES, ids=[p for p, _ in ALL_FILES])
def test_facts_are_plain_data_without_values(path, text):
    facts = read(path, text)
    data = to_data(facts)
    assert json.loads(json.dumps(data)) == data
    for var in facts.env:
        assert var.value.text is None
        stored = json.dumps(to_data(var.value))
        assert '"digest"' not in stored and '"length"' not in stored  # nothing computed from the value


@pytest.mark.parametrize("path, text", ALL_FILES, ids=[p for p, _ in ALL_FILES])
def test_facts_round_trip_through_plain_data(path, text):
    facts = read(path, text)
    again = load(DeployFacts, json.loads(json.dumps(to_data(facts))))
    assert to_data(again) == to_data(facts)
    assert [(v.name, v.scope, v.value.kind, v.pos) for v in again.env] == \
        [(v.name, v.scope, v.value.kind, v.pos) for v in facts.env]


@pytest.mark.parametrize("path, text", ALL_FILES, ids=[p for p, _ in ALL_FILES])
def test_never_raises_on_damaged_input(path, text):
    rnd = random.Random(path)
    junk = ["\"", "'", "\\", "$", "`", "{{", "}}", "[", "]", "(", "\n", "---\n", "<<EOF\n", "${{", "=", ":", "\t"]
    for _ in range(150):
        damaged = text
        for _ in range(rnd.randint(1, 5)):
            at = rnd.randint(0, len(damaged))
            roll = rnd.random()
            if roll < 0.45:
                damaged = damaged[:at] + rnd.choice(junk) + damaged[at:]
            elif roll < 0.8:
                damaged = damaged[:at] + damaged[at + rnd.randint(1, 30):]
            else:
                damaged = damaged[:at]
        facts = read_deployment_file(path, damaged.encode("utf-8"))
        assert not any("could not be read" in p or "too deeply" in p for p in facts.problems), facts.problems
        assert_no_values(facts)


def test_pathological_inputs():
    cases = {
        "deep.yaml": "apiVersion: v1\nkind: Pod\nx: " + "[" * 5000 + "]" * 5000 + "\n",
        "deep.sh": "echo " + "$(" * 3000 + ")" * 3000 + "\nprefect agent local start\n",
        "Dockerfile": "FROM x\nCMD " + "[" * 5000 + "\n",
        "deep.toml": "[context.secrets]\nA = " + "[" * 3000 + "]" * 3000 + "\n",
        "bin.sh": "\udcff garbage\nprefect agent local start\n",
    }
    for path, text in cases.items():
        facts = read_deployment_file(path, text.encode("utf-8", "surrogateescape"))
        assert isinstance(facts, DeployFacts)
    big = read_deployment_file("big.env", b"A=" + b"x" * (9 * 1024 * 1024))
    assert big.env == [] and big.problems == ["line 1: skipped, larger than 8 MiB"]
    odd = read_deployment_file("x.cfg", b"A=1\n", kind="nonsense")
    assert odd.problems == ["line 1: unknown deployment file kind 'nonsense'"]


def test_suppressions_and_crlf():
    text = "PREFECT__CONTEXT__SECRETS__A=b  # credlint: ignore[CL203]\r\nB=c\r\n"
    facts = read(".env", text)
    assert facts.suppressions == {1: ["CL203"]}
    assert [(v.name, v.pos.line) for v in facts.env] == [("PREFECT__CONTEXT__SECRETS__A", 1), ("B", 2)]
    value = env(facts, "PREFECT__CONTEXT__SECRETS__A").value
    assert value.kind == "str" and value.is_literal and not value.empty


@pytest.mark.parametrize("line", [
    "prefect agent docker start -e A=1 --label 'two words'",
    "a\\ b \"c d\" 'e f' g\"h i\"j",
    "x=\"$HOME/p\" y='$NOT' z=\\$ESC",
    "-e \"K={\\\"a\\\": 1}\"",
])
def test_shell_words_agree_with_shlex(line):
    words = [t.text for t in _lex(line, _LineSrc(line)) if isinstance(t, _Word)]
    assert words == shlex.split(line)


def test_shell_continuation_lines_join_words_and_keep_positions():
    # a shell removes backslash-newline (shlex would keep the newline in the word)
    text = "prefect agent local start \\\n  -e A=on\\\ne -l x\n"
    words = [t for t in _lex(text, _LineSrc(text)) if isinstance(t, _Word)]
    assert [w.text for w in words] == ["prefect", "agent", "local", "start", "-e", "A=one", "-l", "x"]
    assert [w.loc(0) for w in words[4:6]] == [(2, 3), (2, 6)]
    assert words[5].loc(4) == (3, 1)  # the "e" after the continuation
