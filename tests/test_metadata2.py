"""CL303 secret-in-flow-metadata in its Prefect 2.x/3.x meaning, and CL203's wording for Prefect
2.x/3.x files, through the CLI: what `prefect deploy` resolves and stores with a deployment (a
prefect.yaml's job variables, parameters and other fields), what Python deployment calls send,
the places a template stays a reference (pull steps, work pools' base job templates, Terraform,
a template passed from Python), and no planted value in any output.

The planted values are well-formed but invented, written split in this source so that no whole
value sits in it.
"""
from __future__ import annotations

from conftest import check_json, run_cli, with_code

TOKEN = "ghp_" + "Vn3kQw8Zr5Tp2Ly7Rk2Lm9Qw4Xz8Vb3Nc6Hj1"
PASSWORD = "Wq7rLk2" "Zx9Mn4Tb"
API_KEY = "pnu_" "Wm4Kx9Tr2Lq7Vz3Nb8Hc5Jd1Fg6Sy0PeQa7R"
PLANTED = (TOKEN, PASSWORD, API_KEY)

FLOW = """
from prefect import flow

@flow
def etl():
    pass
"""

PREFECT_YAML = """
name: etl
prefect-version: 3.9.1

definitions:
  pools:
    shared: &shared
      name: k8s
      job_variables:
        env:
          SHARED_TOKEN: "{{ prefect.blocks.secret.shared-token }}"

build:
  - prefect_docker.deployments.steps.build_docker_image:
      id: build-image
      image_name: acme/etl
      buildargs:
        GIT_TOKEN: "{{ $GIT_TOKEN }}"

pull:
  - prefect.deployments.steps.git_clone:
      repository: https://github.com/acme/etl.git
      access_token: "{{ prefect.blocks.secret.github-token }}"

deployments:
  - name: nightly
    entrypoint: flows/etl.py:etl
    description: "{{ prefect.variables.db_host }}"
    parameters:
      api_token: "{{ prefect.blocks.secret.api-token }}"
      webhook_secret: "{{ prefect.variables.hook_name }}"
      region: "{{ prefect.variables.region }}"
    work_pool:
      name: ecs
      job_variables:
        image: "{{ build-image.image }}"
        bucket: "{{ prefect.blocks.s3-bucket.raw }}"
        bucket_name: "{{ prefect.blocks.s3-bucket.raw.bucket_name }}"
        aws_key: "{{ prefect.blocks.aws-credentials.prod.aws_secret_access_key }}"
        aws_region: "{{ prefect.blocks.aws-credentials.prod.region_name }}"
        env:
          DB_PASSWORD: "{{ prefect.blocks.secret.db-password }}"
          API_TOKEN: "{{ $API_TOKEN }}"
          WAREHOUSE_PASSWORD: "{{ $WH_PW }}"
          DB_HOST: "{{ prefect.variables.db_host }}"
          IMAGE_TAG: "{{ $IMAGE_TAG }}"
          AWS_REGION: "{{ prefect.variables.region }}"
  - name: hourly
    entrypoint: flows/etl.py:etl
    work_pool: *shared
  - name: weekly
    entrypoint: flows/etl.py:etl
    work_pool: *shared
    build:
      - prefect.deployments.steps.run_shell_script:
          script: echo "{{ $GIT_TOKEN }}"
    pull:
      - prefect.deployments.steps.git_clone:
          repository: https://github.com/acme/etl.git
          access_token: "{{ prefect.blocks.secret.github-token }}"
"""


def assert_clean(where: str, text: str) -> None:
    pieces = {value[i:i + 8] for value in PLANTED for i in range(len(value) - 7)}
    leaked = sorted(p for p in pieces if p in text)
    assert not leaked, f"{where} shows pieces of a secret value: {leaked[:3]}"


def cl303(doc, path=None):
    return {(f["path"], f["line"], f["column"]): f for f in with_code(doc, "CL303")
            if path is None or f["path"] == path}


def every_format(root) -> None:
    for fmt in ("full", "concise", "json", "sarif", "github", "json-lines"):
        code, out, err = run_cli("check", "--no-cache", "--format", fmt, ".", cwd=root)
        assert code in (0, 1), err
        assert_clean(f"--format {fmt}", out + err)


# ---- prefect.yaml -----------------------------------------------------------------------------

def test_templates_of_credentials_that_prefect_deploy_stores_are_cl303(project):
    root = project({"flows/etl.py": FLOW, "prefect.yaml": PREFECT_YAML})
    doc = check_json("--no-cache", ".", cwd=root)
    found = cl303(doc)
    tail = ": prefect deploy resolves it and stores the value in plain text with the deployment " \
           "(PrefectHQ/prefect#14088)"
    assert {(line, col): f["message"] for (_p, line, col), f in found.items()} == {
        (10, 26): "job_variables.env.SHARED_TOKEN of deployments 'hourly', 'weekly' is "
                  "{{ prefect.blocks.secret.shared-token }}, the value of Secret block 'secret/shared-token'" + tail,
        (29, 19): "parameters.api_token of deployment 'nightly' is {{ prefect.blocks.secret.api-token }}, the value "
                  "of Secret block 'secret/api-token'" + tail,
        (36, 18): "job_variables.bucket of deployment 'nightly' is {{ prefect.blocks.s3-bucket.raw }}, the whole of "
                  "block 's3-bucket/raw', its credentials included" + tail,
        (38, 19): "job_variables.aws_key of deployment 'nightly' is "
                  "{{ prefect.blocks.aws-credentials.prod.aws_secret_access_key }}, the aws_secret_access_key of "
                  "block 'aws-credentials/prod'" + tail,
        (41, 25): "job_variables.env.DB_PASSWORD of deployment 'nightly' is {{ prefect.blocks.secret.db-password }}, "
                  "the value of Secret block 'secret/db-password'" + tail,
        (42, 23): "job_variables.env.API_TOKEN of deployment 'nightly' is {{ $API_TOKEN }}, the deployer's "
                  "environment variable API_TOKEN" + tail,
        (43, 32): "job_variables.env.WAREHOUSE_PASSWORD of deployment 'nightly' is {{ $WH_PW }}, the deployer's "
                  "environment variable WH_PW" + tail,
    }
    # JSON `secret`: the block's slug/name for a block template, else null
    assert {f["secret"] for f in found.values()} == {
        "secret/shared-token", "secret/api-token", "s3-bucket/raw", "aws-credentials/prod", "secret/db-password",
        None}
    fixes = {line: f["fix"] for (_p, line, _c), f in found.items()}
    assert fixes[41] == ('reference it where the worker resolves it at run time instead (a pull step, or the work '
                         "pool's base job template: a deployment's env is merged into it), or load it in the flow "
                         '(Secret.load("db-password").get())')
    assert fixes[29] == ("pass the block's name as the parameter and load it in the flow "
                         '(Secret.load("api-token").get())')
    assert "AwsCredentials.load(\"prod\")" in fixes[38] and "S3Bucket.load(\"raw\")" in fixes[36]
    # nothing else: pull and build steps, settings (db_host, region, IMAGE_TAG), a key that is not a
    # credential (bucket_name, region_name), a parameter that names a secret (webhook_secret), a
    # step's output, a description that is a setting
    every_format(root)


def test_a_credential_variable_in_job_variables_is_cl303_and_cl404(project):
    root = project({"flows/etl.py": FLOW, "prefect.yaml": """
        deployments:
          - name: nightly
            entrypoint: flows/etl.py:etl
            work_pool:
              name: k8s
              job_variables:
                env:
                  GITHUB_TOKEN: "{{ prefect.variables.github_token }}"
                  DB_PASSWORD: "{{ prefect.variables.warehouse }}"
        """})
    doc = check_json("--no-cache", ".", cwd=root)
    assert sorted((f["line"], f["column"]) for f in cl303(doc).values()) == [(8, 26), (9, 25)]
    assert [f["message"].split(":")[0] for f in cl303(doc).values()] == [
        "job_variables.env.GITHUB_TOKEN of deployment 'nightly' is {{ prefect.variables.github_token }}, "
        "Variable 'github_token'",
        "job_variables.env.DB_PASSWORD of deployment 'nightly' is {{ prefect.variables.warehouse }}, "
        "Variable 'warehouse'"]
    # the Variable named as a credential is CL404 as well (Variables are plain text)
    assert [(f["line"], f["column"]) for f in with_code(doc, "CL404")] == [(8, 26)]


def test_prefect_2_in_the_config_leaves_job_variables_to_the_worker(project):
    """Prefect 2.20 keeps job variables out of what `prefect deploy` resolves
    (PrefectHQ/prefect#14156): the worker resolves them; parameters are still resolved."""
    root = project({"flows/etl.py": FLOW, "prefect.yaml": PREFECT_YAML}, config='prefect = "2"\n')
    doc = check_json("--no-cache", ".", cwd=root)
    assert sorted((line, col) for (_p, line, col) in cl303(doc)) == [(29, 19)]


def test_terraform_sends_templates_as_written(project):
    """Terraform's provider creates deployments and work pools through the API with the templates
    as written: the worker resolves them at each run."""
    root = project({"flows/etl.py": FLOW, "infra/prefect.tf": """
        resource "prefect_deployment" "etl" {
          name = "etl"
          job_variables = jsonencode({
            env = { DB_PASSWORD = "{{ prefect.blocks.secret.db-password }}" }
          })
          parameters = jsonencode({ api_token = "{{ prefect.blocks.secret.api-token }}" })
        }

        resource "prefect_work_pool" "k8s" {
          name = "k8s"
          type = "kubernetes"
          base_job_template = jsonencode({
            job_configuration = { env = { DB_PASSWORD = "{{ prefect.blocks.secret.db-password }}" } }
          })
        }
        """})
    doc = check_json("--no-cache", ".", cwd=root)
    assert cl303(doc) == {}


# ---- Python deployments ---------------------------------------------------------------------

DEPLOY = f'''
import os
from prefect import deploy, flow, serve
from prefect.blocks.system import Secret
from prefect.variables import Variable

from pkg.settings import WAREHOUSE_PASSWORD, REGION


def github_token():
    return Secret.load("github").get()


@flow
def etl(token: str = "", db_block: str = "db"):
    password = Secret.load(db_block).get()


if __name__ == "__main__":
    etl.deploy(
        name="nightly", work_pool_name="k8s", image="acme/etl:1",
        job_variables={{"env": {{"DB_PASSWORD": Secret.load("db-password").get(),
                                "API_TOKEN": os.environ["API_TOKEN"],
                                "GH_TOKEN": github_token(),
                                "WAREHOUSE_PASSWORD": WAREHOUSE_PASSWORD,
                                "SLACK_TOKEN": "{TOKEN}",
                                "DB_PASS": Variable.get("warehouse"),
                                "AWS_REGION": os.environ["AWS_REGION"],
                                "REGION": REGION,
                                "DB_HOST": Variable.get("db_host"),
                                "VENDOR_TOKEN": "{{{{ prefect.blocks.secret.vendor-token }}}}"}},
                       "image_pull_policy": "Always"}},
        parameters={{"token": Secret.load("api-token").get(), "db_block": "db"}},
    )
    served = etl.to_deployment(name="served", job_variables={{"env": {{"API_TOKEN": os.environ["API_TOKEN"]}}}},
                               parameters={{"token": os.environ["API_TOKEN"]}})
    deployed = etl.to_deployment(name="pooled", job_variables={{"env": {{"X_TOKEN": os.getenv("X_TOKEN")}}}})
    serve(served)
    deploy(deployed, work_pool_name="k8s", image="acme/etl:1")
    etl.serve(name="local", parameters={{"token": Secret.load("api-token").get()}})
    etl.serve(name="plain")
'''

SETTINGS = '''
import os

WAREHOUSE_PASSWORD = os.environ["WAREHOUSE_PASSWORD"]
REGION = "eu-west-1"
'''

LEGACY = '''
import os
from prefect import Flow
from prefect.run_configs import KubernetesRun

with Flow("legacy") as flow:
    pass

flow.run_config = KubernetesRun(env={"AWS_REGION": os.environ["AWS_REGION"]})
'''


def test_python_deployment_calls_that_store_a_secret_are_cl303(project):
    root = project({"deploy_etl.py": DEPLOY, "pkg/__init__.py": "", "pkg/settings.py": SETTINGS,
                    "legacy.py": LEGACY})
    doc = check_json("--no-cache", ".", cwd=root)
    found = cl303(doc, "deploy_etl.py")
    jv = "when the deployment is made: Prefect stores job_variables in plain text with the deployment " \
         "(PrefectHQ/prefect#17432)"
    params = "when the deployment is made: Prefect stores parameters in plain text with the deployment and every " \
             "flow run"
    assert {(line, col): f["message"] for (_p, line, col), f in found.items()} == {
        (21, 47): "etl.deploy(job_variables['env']['DB_PASSWORD']=...) gets the value of block 'secret/db-password' "
                  f"(Secret.load(\"db-password\").get()) {jv}",
        (22, 46): f"etl.deploy(job_variables['env']['API_TOKEN']=...) gets the deployer's environment variable "
                  f"API_TOKEN {jv}",
        (23, 45): "etl.deploy(job_variables['env']['GH_TOKEN']=...) gets what github_token() returns, the value of "
                  f"block 'secret/github' (Secret.load(\"github\").get()) {jv}",
        (24, 55): "etl.deploy(job_variables['env']['WAREHOUSE_PASSWORD']=...) gets pkg.settings.WAREHOUSE_PASSWORD, a "
                  f"credential by its name {jv}",
        (25, 48): f"etl.deploy(job_variables['env']['SLACK_TOKEN']=...) gets a string literal in a credential's "
                  f"format {jv}",
        (26, 44): f"etl.deploy(job_variables['env']['DB_PASS']=...) gets Variable 'warehouse' {jv}",
        (32, 30): "etl.deploy(parameters['token']=...) gets the value of block 'secret/api-token' "
                  f"(Secret.load(\"api-token\").get()) {params}",
        (35, 53): f"etl.to_deployment(parameters['token']=...) gets the deployer's environment variable API_TOKEN "
                  f"{params}",
        (36, 83): "etl.to_deployment(job_variables['env']['X_TOKEN']=...) gets the deployer's environment variable "
                  f"X_TOKEN {jv}",
        (39, 50): "etl.serve(parameters['token']=...) gets the value of block 'secret/api-token' "
                  f"(Secret.load(\"api-token\").get()) {params}",
    }
    assert found[("deploy_etl.py", 21, 47)]["secret"] == "secret/db-password"
    assert found[("deploy_etl.py", 22, 46)]["secret"] is None
    assert found[("deploy_etl.py", 21, 47)]["fix"] == (
        'pass a reference the worker resolves at run time instead ("{{ prefect.blocks.secret.<name> }}" stays a '
        'reference in the deployment), or load it in the flow (Secret.load("<name>").get())')
    # nothing for: settings (AWS_REGION, REGION, db_host), the template passed from Python, a
    # parameter that names a block, the job variables of a deployment only served (Prefect refuses
    # them without a work pool), `serve()` without parameters, the 1.x flow beside
    assert cl303(doc, "legacy.py") == {}
    every_format(root)
    # the literal is masked where the finding shows its line
    code, out, _err = run_cli("check", "--no-cache", "--select", "CL303", ".", cwd=root)
    assert '"SLACK_TOKEN": "********",' in out


def test_a_value_landing_on_a_credential_name(project):
    """A parameter of the function that deploys, or a literal, landing on a credential's name is
    reported: the parameter's value is whatever the caller computed, stored as it is; the literal
    is masked."""
    root = project({"deploy_etl.py": f'''
        from prefect import flow
        from pkg.consts import DB_TEMPLATE

        @flow
        def etl():
            pass

        def ship(password):
            etl.deploy(name="nightly", work_pool_name="k8s", image="acme/etl:1",
                       job_variables={{"env": {{"DB_PASSWORD": password, "DB_NAME": password,
                                              "SMTP_PASSWORD": "{PASSWORD}", "ADMIN_PASSWORD": DB_TEMPLATE}}}})
        ''', "pkg/__init__.py": "", "pkg/consts.py": 'DB_TEMPLATE = "{{ prefect.blocks.secret.db }}"\n'})
    doc = check_json("--no-cache", ".", cwd=root)
    # not the imported constant that holds a template: it stays a reference
    assert [f["message"].split(" when")[0] for f in with_code(doc, "CL303")] == [
        "etl.deploy(job_variables['env']['DB_PASSWORD']=...) gets parameter 'password'",
        "etl.deploy(job_variables['env']['SMTP_PASSWORD']=...) gets a string literal"]
    code, out, _err = run_cli("check", "--no-cache", "--select", "CL303", ".", cwd=root)
    assert '"SMTP_PASSWORD": "********"' in out
    every_format(root)


# ---- CL203's wording for Prefect 2.x/3.x files ------------------------------------------------

def test_cl203_says_what_the_prefect_2_place_is(project):
    root = project({
        "flows/etl.py": FLOW,
        "prefect.yaml": f"""
            pull:
              - prefect.deployments.steps.git_clone:
                  repository: https://github.com/acme/etl.git
                  access_token: "{TOKEN}"
            deployments:
              - name: nightly
                entrypoint: flows/etl.py:etl
                parameters:
                  api_token: "{PASSWORD}"
                work_pool:
                  name: k8s
                  job_variables:
                    env:
                      DB_PASSWORD: "{PASSWORD}"
            """,
        "infra/prefect.tf": f"""
            resource "prefect_block" "db" {{
              name      = "db-password"
              type_slug = "secret"
              data      = jsonencode({{ value = "{PASSWORD}" }})
            }}

            variable "prefect_api_key" {{
              default = "{API_KEY}"
            }}
            """,
        ".env": f"PREFECT_API_KEY={API_KEY}\n",
        "prefect.toml": f'[api]\nkey = "{API_KEY}"\n',
        "deploy/config.toml": f'[context.secrets]\nDB_PASSWORD = "{PASSWORD}"\n',
    })
    doc = check_json("--no-cache", ".", cwd=root)
    got = {(f["path"], f["line"]): (f["message"], f["fix"]) for f in with_code(doc, "CL203")}
    secret_ref = '"{{ prefect.blocks.secret.<name> }}"'
    assert got[("prefect.yaml", 4)] == (
        "git_clone.access_token is set to a string literal in prefect.yaml: a credential committed in a pull step, "
        "which Prefect stores with the deployment",
        f"save it in a Secret block and write {secret_ref} instead: Prefect resolves it on the worker at each run")
    assert got[("prefect.yaml", 9)] == (
        "parameters.api_token is set to a string literal in prefect.yaml: a credential committed in the parameters of "
        "deployment 'nightly', which Prefect stores with the deployment and every flow run",
        "pass the name of a block and load it in the flow (Secret.load(name).get())")
    assert got[("prefect.yaml", 14)] == (
        "DB_PASSWORD is set to a string literal in prefect.yaml: a credential committed in the job variables of "
        "deployment 'nightly', which Prefect stores and shows with the deployment",
        'save it in a Secret block and load it in the flow (Secret.load("<name>").get()), or reference it '
        f"({secret_ref}) from a pull step or the work pool's base job template (a job variable's template is "
        "resolved and stored by prefect deploy)")
    assert got[("infra/prefect.tf", 4)] == (
        "secret/db-password.value is set to a string literal in infra/prefect.tf: a credential committed in "
        "Terraform's block data",
        "feed it from a sensitive variable (var.x, set from your CI's secrets) rather than a literal; Terraform's "
        "state still holds `data` (`data_wo` keeps it out)")
    assert got[("infra/prefect.tf", 8)][1] == (
        "remove the default and feed the variable from your CI's secrets (TF_VAR_prefect_api_key; sensitive = true); "
        "Terraform's state still holds it")
    api_key_fix = ("set PREFECT_API_KEY in the environment of the machine or CI job that runs Prefect (your CI's "
                   "secrets, a secret store), not in a committed file")
    for path, name in ((".env", "PREFECT_API_KEY"), ("prefect.toml", "api.key")):
        message, fix = got[(path, 1 if path == ".env" else 2)]
        assert message == (f"{name} is set to a string literal in {path}: a Prefect secret setting committed with "
                           "the code (anyone who can read the repository can use it)")
        assert fix == api_key_fix
    # a Prefect 1.x config keeps its wording
    assert got[("deploy/config.toml", 2)] == (
        "secret 'DB_PASSWORD' is set to a string literal in deploy/config.toml: a credential committed in a "
        "deployment file",
        "reference it instead ($VAR, a Kubernetes Secret, CI secrets) and keep the value in a secret store")
    every_format(root)
