"""Fixes of deployment files beyond `.env`, shell and compose values (issue 19): CL203 in GitHub
Actions, Kubernetes, Dockerfiles and prefect.yaml pull steps, CL104 on an agent's `--env`, and
`--fix` / `--diff` on standard input. Every fix changes only the bytes concerned, leaves a file
that parses and no longer has the finding, and never shows a value."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import _env, in_process, leaked_pieces, run_cli

# Invented, well-formed values, split so that this file does not look like a leak.
TOKEN = "Hn4vWq8Ys2" "Ld6Kp0T07QX3MZ1"
PASSWORD = "Zq8uPw77" "31xKmN"
GH_TOKEN = "ghp_" "Hn4vWq8Ys2Ld6Kp0T07QX3MZ1abcdefghij"
VALUES = (TOKEN, PASSWORD, GH_TOKEN)

FLOW = """\
from prefect import Flow
from prefect.tasks.secrets import PrefectSecret

with Flow("etl") as flow:
    PrefectSecret("SLACK_TOKEN")
"""


def assert_no_secret(text: str) -> None:
    assert not leaked_pieces(VALUES, text), f"a secret shows in:\n{text}"


def cli_in(root: Path, *args: str):
    """`credlint ARGS` in-process in `root`, every output checked for the planted values."""
    code, out, err = in_process(root, *args)
    assert_no_secret(out + err)
    return code, out, err


def findings(root: Path) -> list:
    code, out, err = cli_in(root, "check", "--format", "json", "--no-cache", "--no-server")
    assert code in (0, 1), err
    return json.loads(out)["findings"]


def fix(root: Path) -> str:
    code, out, err = cli_in(root, "check", "--fix", "--unsafe-fixes", "--no-cache", "--no-server", "--format",
                            "concise")
    return err


def fixed(project, files: dict, rel: str, code: str) -> str:
    """Write the project, check that `rel` has `code` with an unsafe fix, fix it, and return the
    fixed text of `rel` once re-checked without `code` there (and parsing, for YAML)."""
    root = project.write({"flow.py": FLOW, **files})
    before = [f for f in findings(root) if f["code"] == code and f["path"] == rel]
    assert before and all(f["fix_safety"] == "unsafe" for f in before), before
    fix(root)
    text = (root / rel).read_text(encoding="utf-8")
    if rel.endswith((".yml", ".yaml")):
        list(yaml.safe_load_all(text))
    assert not [f for f in findings(root) if f["code"] == code and f["path"] == rel]
    assert_no_secret(text)
    return text


def fix_safety(project, files: dict, rel: str, code: str) -> list:
    root = project.write({"flow.py": FLOW, **files})
    found = [f["fix_safety"] for f in findings(root) if f["code"] == code and f["path"] == rel]
    assert found, f"no {code} in {rel}"
    return found


# ----- CL203: GitHub Actions ---------------------------------------------------------------------------
def test_github_actions_env_literals_become_repository_secrets(project):
    text = fixed(project, {".github/workflows/ci.yml": f"""
        name: ci
        on: push
        env:
          PREFECT_API_KEY: "pnu_{TOKEN}abcde"  # the workspace key
        jobs:
          build:
            runs-on: ubuntu-latest
            env:
              API_TOKEN: {TOKEN}
            steps:
              - run: echo hi
                env: {{DB_PASSWORD: '{PASSWORD}'}}
        """}, ".github/workflows/ci.yml", "CL203")
    assert text == """\
name: ci
on: push
env:
  PREFECT_API_KEY: "${{ secrets.PREFECT_API_KEY }}"  # the workspace key
jobs:
  build:
    runs-on: ubuntu-latest
    env:
      API_TOKEN: ${{ secrets.API_TOKEN }}
    steps:
      - run: echo hi
        env: {DB_PASSWORD: '${{ secrets.DB_PASSWORD }}'}
"""


def test_no_github_secret_for_a_reserved_name_nor_for_other_ci(project):
    assert fix_safety(project, {".github/workflows/ci.yml": f"""
        on: push
        env:
          GITHUB_TOKEN: {GH_TOKEN}
        """}, ".github/workflows/ci.yml", "CL203") == [None]  # GitHub refuses secrets named GITHUB_*
    assert fix_safety(project, {".gitlab-ci.yml": f"""
        variables:
          API_TOKEN: {TOKEN}
        build:
          script: echo hi
        """}, ".gitlab-ci.yml", "CL203") == [None]


# ----- CL203: Kubernetes -------------------------------------------------------------------------------
def test_kubernetes_env_values_become_secret_key_refs(project):
    text = fixed(project, {"k8s/worker.yaml": f"""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: worker
        spec:
          template:
            spec:
              containers:
                - name: worker
                  image: prefecthq/prefect:2-latest
                  env:
                    - name: API_TOKEN
                      value: "{TOKEN}"  # rotated yearly
                    - name: LOG_LEVEL
                      value: INFO
        """}, "k8s/worker.yaml", "CL203")
    assert "            - name: API_TOKEN\n" \
           "              valueFrom: {secretKeyRef: {name: api-token, key: API_TOKEN}}  # rotated yearly\n" \
           "            - name: LOG_LEVEL\n              value: INFO\n" in text


# ----- CL203: Dockerfiles ------------------------------------------------------------------------------
def test_dockerfile_values_become_build_arguments(project):
    text = fixed(project, {"Dockerfile": f"""
        FROM python:3.11
        ENV API_TOKEN={TOKEN}
        ENV DB_PASSWORD="{PASSWORD}" LOG_LEVEL=info
        ARG GITHUB_TOKEN={GH_TOKEN}
        ENV SECRET_KEY {PASSWORD}
        RUN pip install prefect
        """}, "Dockerfile", "CL203")
    assert text == """\
FROM python:3.11
ARG API_TOKEN
ARG DB_PASSWORD
ENV LOG_LEVEL=info
ARG GITHUB_TOKEN
ARG SECRET_KEY
RUN pip install prefect
"""


def test_a_dockerfile_instruction_over_lines_gets_no_fix(project):
    assert fix_safety(project, {"Dockerfile": f"""
        FROM python:3.11
        ENV API_TOKEN={TOKEN} \\
            LOG_LEVEL=info
        ENV LOG_FORMAT=json \\
            DB_PASSWORD={PASSWORD}
        """}, "Dockerfile", "CL203") == [None, None]


# ----- CL203: prefect.yaml -----------------------------------------------------------------------------
PREFECT_YAML = f"""
    name: etl
    prefect-version: 3.0.0
    pull:
      - prefect.deployments.steps.git_clone:
          repository: https://github.com/acme/flows.git
          access_token: {GH_TOKEN}
    deployments:
      - name: etl
        entrypoint: flow.py:etl
        work_pool:
          name: k8s
          job_variables:
            env:
              DB_PASSWORD: "{PASSWORD}"
        pull:
          - prefect.deployments.steps.git_clone:
              repository: https://github.com/acme/flows.git
              access_token: '{GH_TOKEN}'  # CI's token
    """


def test_a_pull_step_literal_becomes_a_secret_block_reference(project):
    root = project.write({"flows/etl.py": "from prefect import flow\n\n@flow\ndef etl():\n    pass\n",
                          "prefect.yaml": PREFECT_YAML})
    by_line = {f["line"]: f["fix_safety"] for f in findings(root) if f["code"] == "CL203"}
    assert by_line == {6: "unsafe", 14: None, 18: "unsafe"}  # none in job variables: see below
    fix(root)
    text = (root / "prefect.yaml").read_text(encoding="utf-8")
    assert "      access_token: \"{{ prefect.blocks.secret.git-access-token }}\"\n" in text
    assert "          access_token: '{{ prefect.blocks.secret.git-access-token }}'  # CI's token\n" in text
    document = yaml.safe_load(text)
    assert document["pull"][0]["prefect.deployments.steps.git_clone"]["access_token"] == \
        "{{ prefect.blocks.secret.git-access-token }}"
    left = [f["line"] for f in findings(root) if f["code"] == "CL203"]
    assert left == [14]
    assert text.count(PASSWORD) == 1  # the job variable is left to the user


def test_the_rule_page_says_why_job_variables_get_no_fix(project):
    code, out, _ = run_cli("explain", "CL203", cwd=project.root)
    assert code == 0 and "Fix safety: unsafe" in out
    page = " ".join(out.split())
    assert "None for a literal in a prefect.yaml deployment's job variables" in page and "(CL303)" in page
    assert "`ARG NAME`" in page and "${{ secrets.NAME }}" in page and "secretKeyRef" in page


def test_block_names_follow_the_step_and_the_key():
    from credlint.fixes.yaml_refs import block_name

    assert block_name("git_clone", "access_token") == "git-access-token"
    assert block_name("agit_clone", "access_token") == "git-access-token"
    assert block_name("pull_from_s3", "aws_secret_access_key") == "s3-aws-secret-access-key"
    assert block_name("git_clone", "git_token") == "git-token"


# ----- CL104: an agent's --env ------------------------------------------------------------------------
AGENT_FILES = {
    "run.sh": """
        prefect agent local start \\
          --env PREFECT__CONTEXT__SECRETS__SLACK_TOKEN="$SLACK" \\
          -e PREFECT__CONTEXT__SECRETS__UNUSED_A="$A" \\
          --label etl
        prefect agent docker start -e PREFECT__CONTEXT__SECRETS__UNUSED_B=$B --label etl
        prefect agent local start \\
          --label etl \\
          -e PREFECT__CONTEXT__SECRETS__UNUSED_C="$C"
        echo started
        """,
    "docker-compose.yml": """
        services:
          agent:
            image: prefecthq/prefect:1.4.1
            command: prefect agent local start --env PREFECT__CONTEXT__SECRETS__UNUSED_D="$D" --label etl
          agent2:
            image: prefecthq/prefect:1.4.1
            command:
              - prefect
              - agent
              - local
              - start
              - --env
              - PREFECT__CONTEXT__SECRETS__UNUSED_E=$E
              - --label
              - etl
        """,
    "supervisord.conf": """
        [supervisord]
        nodaemon=true

        [program:agent]
        command=prefect agent local start -e PREFECT__CONTEXT__SECRETS__UNUSED_F=%(ENV_F)s --label etl
        """,
    "Makefile": "agent:\n\tprefect agent local start --env=PREFECT__CONTEXT__SECRETS__UNUSED_G=$$G --label etl\n",
    "k8s/agent.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: agent
        spec:
          template:
            spec:
              containers:
                - name: agent
                  image: prefecthq/prefect:1.4.1
                  args:
                    - prefect
                    - agent
                    - kubernetes
                    - start
                    - --env
                    - PREFECT__CONTEXT__SECRETS__UNUSED_H=$(H)
                    - --label
                    - etl
                - name: agent2
                  image: prefecthq/prefect:1.4.1
                  command: ["prefect", "agent", "kubernetes", "start", "-e", "PREFECT__CONTEXT__SECRETS__UNUSED_I=$(I)"]
        """,
    "Dockerfile": "FROM prefecthq/prefect:1.4.1\nCMD prefect agent local start -e PREFECT__CONTEXT__SECRETS__UNUSED_J=$J\n",
    ".github/workflows/agent.yml": """
        on: push
        jobs:
          agent:
            runs-on: ubuntu-latest
            steps:
              - run: |
                  prefect agent local start \\
                    -e PREFECT__CONTEXT__SECRETS__UNUSED_K="$K" \\
                    --label etl
        """,
}


def test_unused_agent_env_pairs_are_removed_and_the_commands_stay_valid(project):
    root = project.write({"flow.py": FLOW, **AGENT_FILES})
    unused = [f for f in findings(root) if f["code"] == "CL104"]
    assert sorted(f["secret"] for f in unused) == [f"UNUSED_{c}" for c in "ABCDEFGHIJK"]
    assert {f["fix_safety"] for f in unused} == {"unsafe"}
    code, _, err = cli_in(root, "check", "--fix", "--no-cache", "--no-server", "--quiet")
    assert "Fixed 0 findings" in err  # unsafe: not without --unsafe-fixes
    fix(root)
    assert not [f for f in findings(root) if f["code"] == "CL104"]
    assert (root / "run.sh").read_text() == (
        'prefect agent local start \\\n  --env PREFECT__CONTEXT__SECRETS__SLACK_TOKEN="$SLACK" \\\n  --label etl\n'
        "prefect agent docker start --label etl\n"
        "prefect agent local start \\\n  --label etl\n"
        "echo started\n")
    compose = (root / "docker-compose.yml").read_text()
    assert "    command: prefect agent local start --label etl\n" in compose
    assert yaml.safe_load(compose)["services"]["agent2"]["command"] == ["prefect", "agent", "local", "start",
                                                                         "--label", "etl"]
    assert (root / "supervisord.conf").read_text().endswith("command=prefect agent local start --label etl\n")
    assert (root / "Makefile").read_text() == "agent:\n\tprefect agent local start --label etl\n"
    containers = yaml.safe_load((root / "k8s/agent.yaml").read_text())["spec"]["template"]["spec"]["containers"]
    assert containers[0]["args"] == ["prefect", "agent", "kubernetes", "start", "--label", "etl"]
    assert '      command: ["prefect", "agent", "kubernetes", "start"]\n' in (root / "k8s/agent.yaml").read_text()
    assert (root / "Dockerfile").read_text().endswith("\nCMD prefect agent local start\n")
    steps = yaml.safe_load((root / ".github/workflows/agent.yml").read_text())["jobs"]["agent"]["steps"]
    assert steps[0]["run"] == "prefect agent local start \\\n  --label etl\n"
    result = subprocess.run(["sh", "-n", str(root / "run.sh")], capture_output=True)
    assert result.returncode == 0, result.stderr


def test_a_diff_of_agent_env_removals_masks_the_values(project):
    root = project.write({"flow.py": FLOW, "run.sh": f"""
        prefect agent local start -e PREFECT__CONTEXT__SECRETS__UNUSED_A={TOKEN} --label etl
        """})
    code, out, err = cli_in(root, "check", "--diff", "--unsafe-fixes", "--no-cache", "--no-server")
    assert code == 1
    assert "-prefect agent local start -e PREFECT__CONTEXT__SECRETS__UNUSED_A=******** --label etl" in out
    assert "+prefect agent local start --label etl" in out
    assert TOKEN in (root / "run.sh").read_text()


def test_the_rule_page_names_the_agent_env_removal(project):
    page = " ".join(run_cli("explain", "CL104", cwd=project.root)[1].split())
    assert "Fix safety: unsafe" in page and "an agent command's `--env NAME=value`" in page


# ----- --fix / --diff with --stdin-filename ----------------------------------------------------------
def _stdin_cli(root: Path, text: str, *args: str):
    proc = subprocess.run([sys.executable, "-m", "credlint", "check", "--no-cache", *args], cwd=str(root),
                          env=_env(), input=text.encode("utf-8"), capture_output=True, timeout=120)
    out, err = proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")
    assert_no_secret(err)
    return proc.returncode, out, err


def test_fix_on_standard_input_prints_the_fixed_text_and_leaves_the_file(project):
    on_disk = "prefect agent local start --label etl\n"
    buffer = ('prefect agent local start -e PREFECT_CONTEXT_SECRETS_SLACK_TOKEN="$S" '
              '-e PREFECT__CONTEXT__SECRETS__UNUSED_A="$A" --label etl\n')
    root = project.write({"flow.py": FLOW, "deploy/agent.sh": on_disk})
    code, out, err = _stdin_cli(root, buffer, "--fix", "--stdin-filename", "deploy/agent.sh", "--format", "concise")
    # the safe fix (CL106) is made; the unsafe one (CL104) is left and reported on stderr
    assert out == buffer.replace("PREFECT_CONTEXT_SECRETS_", "PREFECT__CONTEXT__SECRETS__")
    assert "Fixed 1 finding (1 remaining)" in err and "deploy/agent.sh:1:" in err and "CL104" in err
    assert code == 0  # what is left is a warning
    assert (root / "deploy/agent.sh").read_text() == on_disk

    code, out, err = _stdin_cli(root, buffer, "--fix", "--unsafe-fixes", "--stdin-filename", "deploy/agent.sh")
    assert out == 'prefect agent local start -e PREFECT__CONTEXT__SECRETS__SLACK_TOKEN="$S" --label etl\n'
    assert "Fixed 2 findings (0 remaining)" in err and code == 0
    assert (root / "deploy/agent.sh").read_text() == on_disk


def test_fix_on_standard_input_with_nothing_to_fix_echoes_it(project):
    root = project.write({"flow.py": FLOW})
    text = "prefect agent local start --label etl\n"
    code, out, err = _stdin_cli(root, text, "--fix", "--stdin-filename", "agent.sh")
    assert (code, out) == (0, text) and "Fixed 0 findings" in err


def test_diff_on_standard_input_is_masked_and_changes_nothing(project):
    root = project.write({"flow.py": FLOW, ".env": "API_TOKEN=${API_TOKEN}\n"})
    code, out, err = _stdin_cli(root, f"API_TOKEN={TOKEN}\n", "--diff", "--unsafe-fixes", "--stdin-filename", ".env")
    assert code == 1
    assert out == "--- a/.env\n+++ b/.env\n@@ -1 +1 @@\n-API_TOKEN=********\n+API_TOKEN=${API_TOKEN}\n"
    assert "Would fix 1 finding" in err
    assert_no_secret(out)
    assert (root / ".env").read_text() == "API_TOKEN=${API_TOKEN}\n"
    code, out, err = _stdin_cli(root, f"API_TOKEN={TOKEN}\n", "--diff", "--stdin-filename", ".env")
    assert (code, out) == (0, "")  # the only fix is unsafe


@pytest.mark.parametrize("rel", ["Dockerfile", "k8s/worker.yaml", ".github/workflows/ci.yml"])
def test_diff_of_each_new_format_never_shows_the_value(project, rel):
    files = {
        "Dockerfile": f"FROM python:3.11\nENV DB_PASSWORD=\"{PASSWORD}\" API_TOKEN={TOKEN}\n",
        "k8s/worker.yaml": ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: w\nspec:\n  containers:\n    - name: w\n"
                            f"      image: i\n      env:\n        - name: API_TOKEN\n          value: {TOKEN}\n"),
        ".github/workflows/ci.yml": f"on: push\nenv:\n  API_TOKEN: {TOKEN}\n",
    }
    root = project.write({"flow.py": FLOW, rel: files[rel]})
    code, out, err = cli_in(root, "check", "--diff", "--unsafe-fixes", "--no-cache", "--no-server")
    assert code == 1 and f"+++ b/{rel}" in out
    assert (root / rel).read_text() == files[rel]
