"""Prefect 2.x/3.x deployment files: `prefect.yaml` (templates, deployments, literal credentials)
and Prefect settings (`prefect.toml`, `[tool.prefect]`, profiles, `PREFECT_API_KEY` in env files,
compose, CI and scripts), through the CLI and the reader.

The planted values are well-formed but invented, written split in this source so that no whole
value sits in it; they avoid the words credlint reads as placeholders.
"""
from __future__ import annotations

import json
import subprocess
import textwrap

from conftest import run_cli
from credlint.facts.deploy.classify import classify
from credlint.facts.deploy.reader import read_deployment_file
from credlint.facts.deploy.types import DeployFacts
from credlint.facts.types import load, to_data

PASSWORD = "Zq8uPw" "7731xKmN"
TOKEN = "Tb7Rk2Qw9Lm" "4Xc8Vn3Pz6"
GITHUB_TOKEN = "ghp_" "Rk3mV8qL2xW9nB4tY7cP1sD6fH0jZ5aE2uQw"
AWS_SECRET = "h7Tq2LmZ9vR4sN8pW1xY" "6cB3kD5fG0jAQe3Ru7Vb"
API_KEY = "pnu_" "Wm4Kx9Tr2Lq7Vz3Nb8Hc5Jd1Fg6Sy0PeQa7R"
PLANTED = [PASSWORD, TOKEN, GITHUB_TOKEN, AWS_SECRET, API_KEY]


def assert_clean(where: str, text: str) -> None:
    """No planted value, nor any 8-character piece of one, in `text`."""
    pieces = {value[i:i + 8] for value in PLANTED for i in range(len(value) - 7)}
    leaked = sorted(p for p in pieces if p in text)
    assert not leaked, f"{where} shows pieces of a secret value: {leaked[:3]}"


def check(root, *args):
    code, out, err = run_cli("check", "--format", "json", "--no-cache", *args, ".", cwd=root)
    assert code in (0, 1), err
    assert_clean("json report", out + err)
    return code, json.loads(out)["findings"]


def found(findings, path=None):
    return sorted((f["code"], f["path"], f["line"]) for f in findings if path is None or f["path"] == path)


def read(path: str, text: str) -> DeployFacts:
    facts = read_deployment_file(path, textwrap.dedent(text).lstrip("\n").encode())
    shown = repr(facts) + json.dumps(to_data(facts))
    assert_clean(f"facts of {path}", shown)
    assert load(DeployFacts, json.loads(json.dumps(to_data(facts)))) == facts  # what the cache stores
    return facts


FLOW = """
from prefect import flow

@flow
def etl():
    pass
"""

PREFECT_YAML = f"""
name: etl
prefect-version: 3.9.1

definitions:
  pools:
    k8s: &k8s
      name: k8s-pool
      job_variables:
        env:
          SHARED_TOKEN: "{TOKEN}"

build:
  - prefect_docker.deployments.steps.build_docker_image:
      id: build-image
      image_name: acme/etl
      buildargs:
        GIT_TOKEN: "{{{{ $GIT_TOKEN }}}}"

pull:
  - prefect.deployments.steps.git_clone:
      repository: https://github.com/acme/etl.git
      access_token: "{{{{ prefect.blocks.secret.github-token }}}}"

deployments:
  - name: nightly
    entrypoint: flows/etl.py:etl
    parameters:
      api_token: "{TOKEN}"
      region: eu-west-1
      password_parameter: password
      db_secret_key_password: sandbox_password
      db_host: "{{{{ prefect.variables.db_host }}}}"
    work_pool:
      name: ecs-pool
      job_variables:
        image: "{{{{ build-image.image }}}}"
        env:
          DB_PASSWORD: "{PASSWORD}"
          DB_USER: admin
          AWS_REGION: eu-west-1
          API_KEY: "{{{{ prefect.blocks.secret.api-key }}}}"
          HOME_DIR: "{{{{ $HOME }}}}"
          SLACK_TOKEN: "<your-slack-token>"
  - name: hourly
    entrypoint: flows/etl.py:etl
    work_pool: *k8s
    pull:
      - prefect.deployments.steps.git_clone:
          repository: https://github.com/acme/etl.git
          access_token: "{GITHUB_TOKEN}"
      - prefect_aws.deployments.steps.pull_from_s3:
          bucket: flows
          folder: etl
          credentials:
            aws_access_key_id: "{{{{ $AWS_ACCESS_KEY_ID }}}}"
            aws_secret_access_key: "{AWS_SECRET}"
      - prefect_aws.deployments.steps.pull_from_s3:
          bucket: flows
          folder: etl
          credentials: "{{{{ prefect.blocks.aws-credentials.prod }}}}"
"""


# ---- prefect.yaml through the CLI -----------------------------------------------------------

def test_literal_credentials_in_prefect_yaml_are_cl203_and_references_are_not(project):
    root = project({"flows/etl.py": FLOW, "prefect.yaml": PREFECT_YAML})
    code, findings = check(root)
    assert code == 1
    cl203 = {(f["line"], f["column"]): f["message"] for f in findings if f["code"] == "CL203"}
    job_env = "which Prefect stores and shows with the deployment"
    pull = "a credential committed in a pull step, which Prefect stores with the deployment"
    assert cl203 == {
        (10, 11): "SHARED_TOKEN is set to a string literal in prefect.yaml: a credential committed in the job "
                  f"variables of deployment 'hourly', {job_env}",
        (28, 7): "parameters.api_token is set to a string literal in prefect.yaml: a credential committed in the "
                 "parameters of deployment 'nightly', which Prefect stores with the deployment and every flow run",
        (38, 11): "DB_PASSWORD is set to a string literal in prefect.yaml: a credential committed in the job "
                  f"variables of deployment 'nightly', {job_env}",
        (50, 11): f"git_clone.access_token is set to a string literal in prefect.yaml: {pull}",
        (56, 13): "pull_from_s3.credentials.aws_secret_access_key is set to a string literal in prefect.yaml: "
                  + pull,
    }
    # the GitHub token and the AWS secret key are CL204 too, as in any file; the Secret block in the
    # job variables is CL303 (prefect deploy stores its value); nothing else fires: the references
    # in the pull steps, `{{ $HOME }}`, a step's output, a placeholder, a parameter that names a
    # secret (`password_parameter: password`), a user name
    assert found(findings) == sorted([("CL203", "prefect.yaml", line) for line, _col in cl203] +
                                     [("CL204", "prefect.yaml", 50), ("CL204", "prefect.yaml", 56),
                                      ("CL303", "prefect.yaml", 41)])
    assert all(f["secret"] is None for f in findings if f["code"] != "CL303")


def test_masked_snippets_show_names_only(project):
    root = project({"flows/etl.py": FLOW, "prefect.yaml": PREFECT_YAML})
    for fmt in ("full", "concise", "json", "sarif", "github"):
        code, out, err = run_cli("check", "--format", fmt, "--no-cache", ".", cwd=root)
        assert code == 1, err
        assert_clean(f"check --format {fmt}", out + err)
    code, out, err = run_cli("check", "--no-cache", ".", cwd=root)
    assert "38 |           DB_PASSWORD: ********" in out


def test_a_template_that_names_no_block_is_cl000_and_the_run_goes_on(project):
    root = project({
        "flows/etl.py": FLOW,
        "prefect.yaml": """
            deployments:
              - name: nightly
                entrypoint: flows/etl.py:etl
                work_pool:
                  name: pool
                  job_variables:
                    env:
                      DB_URL: "{{ prefect.blocks.secret }}"
                      FLAG: "{{ prefect.variables. }}"
            """,
        ".env": f"DB_PASSWORD={PASSWORD}\n",
    })
    code, findings = check(root)
    assert code == 1
    cl000 = [f for f in findings if f["code"] == "CL000"]
    assert [(f["line"], f["column"]) for f in cl000] == [(8, 20), (9, 18)]
    assert cl000[0]["message"].startswith(
        "cannot check this template: {{ prefect.blocks.secret }} names no block document: Prefect expects "
        "{{ prefect.blocks.<block-type-slug>.<block-document-name> }}")
    assert "names no variable" in cl000[1]["message"]
    assert ("CL203", ".env", 1) in found(findings)  # the other files are still checked


def test_a_prefect_yaml_that_does_not_parse_is_cl000_and_its_env_is_still_read(project):
    root = project({
        "flows/etl.py": FLOW,
        "prefect.yaml": f"""
            deployments:
              - name: nightly
                entrypoint: flows/etl.py:etl
                work_pool:
                  job_variables:
                    env:
                      DB_PASSWORD: "{PASSWORD}"
                      BROKEN: "no end
            """,
        "other.prefect.yaml": """
            deployments:
              - name: a
                entrypoint: flows/etl.py:etl
                work_pool:
                  job_variables:
                    env:
                      X: {{ prefect.blocks.secret.x }}
            """,
    })
    code, findings = check(root)
    assert code == 1
    messages = {(f["path"], f["line"]): f["message"] for f in findings if f["code"] == "CL000"}
    assert messages[("prefect.yaml", 9)].startswith("cannot check this file: does not parse as YAML")
    assert messages[("other.prefect.yaml", 7)].startswith(
        "cannot check this file: has a mapping or list where a key belongs (an unquoted {{ }} template?)")
    assert ("CL203", "prefect.yaml", 7) in found(findings)


def test_a_prefect_yaml_gets_no_1x_findings(project):
    """A 1.x context-secret variable in a deployment's job environment is no 1.x provider nor a
    1.x typo (CL106): the 2.x/3.x model alone reads prefect.yaml; a compose file beside it keeps 1.x."""
    env = "PREFECT__CONTEXT__SECRET__PAGER_TOKEN"
    root = project({
        "flows/etl.py": FLOW,
        "prefect.yaml": f"""
            deployments:
              - name: a
                entrypoint: flows/etl.py:etl
                work_pool:
                  job_variables:
                    env:
                      {env}: "{{{{ prefect.blocks.secret.pager }}}}"
            """,
        "docker-compose.yml": f"""
            services:
              agent:
                image: prefecthq/prefect:1.4.1
                command: prefect agent docker start -e {env}=$PAGER
            """,
    })
    code, findings = check(root)
    # (the Secret block in the job variables is the 2.x/3.x CL303: prefect deploy stores its value)
    assert found(findings) == [("CL106", "docker-compose.yml", 4), ("CL303", "prefect.yaml", 7)]


def test_1x_and_other_yaml_keep_their_readers(project):
    """A Helm values file with `deployments:` and a CI-like `build:` file are not prefect.yaml."""
    assert classify("charts/values.yaml", b"deployments:\n  - name: api\n    replicas: 2\n") is None
    assert classify("ci/build.yml", b"build:\n  script: make\n") is None
    assert classify("prefect.yaml", b"name: x\n") == "prefect-yaml"
    assert classify("deploy/prod.prefect.yml", b"") == "prefect-yaml"
    assert classify("deploy/etl.yaml", b"deployments:\n- name: a\n  entrypoint: f.py:f\n") == "prefect-yaml"
    assert classify("deploy/steps.yaml", b"pull:\n- prefect.deployments.steps.git_clone:\n    repository: r\n") \
        == "prefect-yaml"
    assert classify(".github/workflows/prefect.yaml", b"on: push\n") == "ci-yaml"
    assert classify("docker-compose.yml", b"services: {}\n") == "compose"


# ---- prefect.yaml facts: what the model reads ------------------------------------------------

def test_refs_deployments_and_where_each_template_is():
    facts = read("prefect.yaml", PREFECT_YAML)
    assert facts.kind == "prefect-yaml"
    blocks = {(r.slug, r.name, r.where, r.deployment, r.field_path, r.pos.line, r.pos.column, r.whole)
              for r in facts.block_refs}
    assert blocks == {
        ("secret", "github-token", "pull", None, "git_clone.access_token", 22, 22, True),
        ("secret", "api-key", "job_variables", "nightly", "env.API_KEY", 41, 21, True),
        ("aws-credentials", "prod", "pull", "hourly", "pull_from_s3.credentials", 60, 25, True),
    }
    assert [(r.name, r.where, r.deployment, r.field_path) for r in facts.variable_refs] == \
        [("db_host", "parameters", "nightly", "db_host")]
    assert sorted((r.name, r.where, r.deployment, r.field_path) for r in facts.env_refs) == [
        ("AWS_ACCESS_KEY_ID", "pull", "hourly", "pull_from_s3.credentials.aws_access_key_id"),
        ("GIT_TOKEN", "build", None, "build_docker_image.buildargs.GIT_TOKEN"),
        ("HOME", "job_variables", "nightly", "env.HOME_DIR"),
    ]
    nightly, hourly = facts.deployments
    assert (nightly.name, nightly.entrypoint, nightly.work_pool, nightly.steps, nightly.pos.line) == \
        ("nightly", "flows/etl.py:etl", "ecs-pool", [], 25)
    assert nightly.env == ["DB_PASSWORD", "DB_USER", "AWS_REGION", "API_KEY", "HOME_DIR", "SLACK_TOKEN"]
    # `hourly` runs its own pull steps (the file's are replaced) and its work pool through an alias
    assert (hourly.work_pool, hourly.steps, hourly.env) == ("k8s-pool", ["pull"], ["SHARED_TOKEN"])
    scopes = {(v.name, v.scope) for v in facts.env}
    assert ("DB_USER", "job-env") in scopes and ("git_clone.access_token", "deploy-setting") in scopes
    assert all(v.secret is None and v.typo_of is None for v in facts.env)  # never a 1.x context secret
    assert not facts.errors


def test_embedded_templates_and_merge_keys():
    facts = read("prefect.yaml", """
        definitions:
          clone: &clone
            repository: https://github.com/acme/etl.git
            credentials: "{{ prefect.blocks.github-credentials.acme }}"
        deployments:
          - name: a
            entrypoint: f.py:f
            pull:
              - prefect.deployments.steps.git_clone:
                  <<: *clone
            work_pool:
              job_variables:
                env:
                  DSN: "postgresql://etl:{{ prefect.blocks.secret.db.password }}@db/etl"
        """)
    refs = sorted((r.slug, r.name, r.key, r.whole, r.deployment, r.field_path, r.pos.line) for r in facts.block_refs)
    # a template reached through an alias (a merge key here) counts for the deployment that uses
    # it, at the anchor's line
    assert refs == [("github-credentials", "acme", "", True, "a", "git_clone.credentials", 4),
                    ("secret", "db", "password", False, "a", "env.DSN", 14)]


# ---- Prefect settings --------------------------------------------------------------------------

def test_prefect_settings_files(project):
    root = project({
        "flows/etl.py": FLOW,
        "prefect.toml": f'[api]\nurl = "https://api.prefect.cloud/api/accounts/a/workspaces/b"\nkey = "{API_KEY}"\n',
        "pyproject.toml": f'[project]\nname = "etl"\n\n[tool.prefect.api]\nkey = "{TOKEN}"\n\n'
                          f'[tool.prefect.server.database]\npassword = "{PASSWORD}"\n',
        "deploy/profiles.toml": f'active = "cloud"\n\n[profiles.cloud]\nPREFECT_API_URL = "https://x"\n'
                                f'PREFECT_API_KEY = "{TOKEN}"\n',
        "other/prefect.toml": '[api]\nkey = "<your-api-key>"\n',
        "broken/prefect.toml": "[api\nkey = 1\n",
    })
    code, findings = check(root)
    assert code == 1
    messages = {(f["code"], f["path"], f["line"]): f["message"] for f in findings}
    assert messages.pop(("CL203", "prefect.toml", 3)) == \
        "api.key is set to a string literal in prefect.toml: a Prefect secret setting committed with the code " \
        "(anyone who can read the repository can use it)"
    assert messages.pop(("CL204", "prefect.toml", 3)).startswith("Prefect Cloud API key")
    assert messages.pop(("CL203", "pyproject.toml", 5)).startswith("tool.prefect.api.key is set to a string literal")
    assert messages.pop(("CL203", "pyproject.toml", 8)).startswith("tool.prefect.server.database.password is set")
    assert messages.pop(("CL203", "deploy/profiles.toml", 5)).startswith("PREFECT_API_KEY is set to a string literal")
    assert messages.pop(("CL000", "broken/prefect.toml", 1)).startswith("cannot check this file: does not parse as TOML")
    assert messages == {}  # the URL, the placeholder key


def test_prefect_api_key_in_env_files_compose_ci_and_scripts(project):
    root = project({
        "flows/etl.py": FLOW,
        ".env": f"PREFECT_API_KEY={TOKEN}\nPREFECT_API_URL=https://api.prefect.cloud/api\n",
        "docker-compose.yml": f"""
            services:
              worker:
                image: prefecthq/prefect:3-latest
                command: prefect worker start --pool etl
                environment:
                  PREFECT_API_KEY: {TOKEN}
            """,
        ".github/workflows/deploy.yml": f"""
            on: push
            jobs:
              deploy:
                runs-on: ubuntu-latest
                steps:
                  - run: prefect cloud login -k {TOKEN} --workspace acme/prod
                  - run: prefect cloud login --key "$PREFECT_API_KEY" --workspace acme/prod
                  - run: prefect deploy --all
            """,
        "scripts/login.sh": f"""
            #!/bin/sh
            prefect config set PREFECT_API_URL=https://api.prefect.cloud/api
            prefect config set "PREFECT_API_KEY={TOKEN}"
            prefect config set PREFECT_API_KEY="$KEY"
            """,
    })
    code, findings = check(root)
    assert code == 1
    assert found(findings) == [
        ("CL203", ".env", 1), ("CL203", ".github/workflows/deploy.yml", 6), ("CL203", "docker-compose.yml", 6),
        ("CL203", "scripts/login.sh", 3),
    ]
    by_path = {f["path"]: f["message"] for f in findings}
    assert by_path[".github/workflows/deploy.yml"].startswith("prefect cloud login -k is given a string literal")
    assert by_path["scripts/login.sh"].startswith("PREFECT_API_KEY is set to a string literal")


def test_no_value_reaches_any_output_or_the_cache(project):
    root = project({
        "flows/etl.py": FLOW,
        "prefect.yaml": PREFECT_YAML,
        "prefect.toml": f'[api]\nkey = "{API_KEY}"\n',
        ".github/workflows/deploy.yml": f"on: push\njobs:\n  d:\n    steps:\n      - run: prefect cloud login -k {TOKEN}\n",
    })
    runs = []
    for fmt in ("full", "concise", "json", "json-lines", "sarif", "github"):
        runs.append((f"check --format {fmt}",) + run_cli("check", "--format", fmt, "--statistics", "--cache-dir",
                                                         ".credlint_cache", ".", cwd=root))
    for fmt in ("table", "json"):
        runs.append((f"inventory --format {fmt}",) + run_cli("inventory", "--format", fmt, ".", cwd=root))
    runs.append(("write-baseline",) + run_cli("check", "--write-baseline", "base.json", ".", cwd=root))
    for name, code, out, err in runs:
        assert code in (0, 1), (name, err)
        assert_clean(f"{name} output", out + err)
    assert_clean("baseline", (root / "base.json").read_text())
    cached = [p for p in (root / ".credlint_cache").rglob("*") if p.is_file()]
    assert cached
    for path in cached:
        assert_clean(f"cache file {path.name}", path.read_text(errors="replace"))


# ---- against the real Prefect -----------------------------------------------------------------

PROOF = r'''
import json, os, sys, pathlib, yaml
from prefect.utilities.templating import find_placeholders, PlaceholderType
doc = yaml.safe_load(pathlib.Path(sys.argv[1]).read_text())
found = {(p.type.value, p.name) for p in find_placeholders(doc)}
os.chdir(sys.argv[2])
from prefect.settings import Settings
settings = Settings()
print(json.dumps({"placeholders": sorted(found),
                  "toml_key_set": settings.api.key is not None,
                  "secret_setting": type(settings.api.key).__name__}))
'''


def test_templates_and_settings_as_the_real_prefect_reads_them(tmp_path):
    """Prefect 3.x's own template finder sees the same block, variable and env templates as
    credlint, and its settings take `[api] key` from prefect.toml as a secret."""
    from prefect3_venv import prefect3_python

    text = textwrap.dedent(PREFECT_YAML).lstrip("\n")
    (tmp_path / "prefect.yaml").write_text(text)
    settings_dir = tmp_path / "settings"
    settings_dir.mkdir()
    (settings_dir / "prefect.toml").write_text('[api]\nkey = "not-a-real-key"\n')
    env = {"PATH": "/usr/bin:/bin", "PREFECT_HOME": str(tmp_path / "home")}
    proc = subprocess.run([str(prefect3_python()), "-c", PROOF, str(tmp_path / "prefect.yaml"), str(settings_dir)],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    facts = read("prefect.yaml", PREFECT_YAML)
    prefect_sees = {(kind, name) for kind, name in result["placeholders"] if kind != "standard"}
    credlint_sees = {("block_document", f"prefect.blocks.{r.slug}.{r.name}" + (f".{r.key}" if r.key else ""))
                     for r in facts.block_refs}
    credlint_sees |= {("variable", f"prefect.variables.{r.name}") for r in facts.variable_refs}
    credlint_sees |= {("env_var", f"${r.name}") for r in facts.env_refs}
    assert credlint_sees == prefect_sees
    assert result["toml_key_set"] and result["secret_setting"] == "SecretStr"
