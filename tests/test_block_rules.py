"""CL401 missing-block and CL402 block-type-mismatch through the CLI, on small Prefect 2.x/3.x
projects with the false-positive traps of the reference, plus the block model they stand on.

Planted values are well-formed but invented, split in this source so no whole value sits in it.
"""
from __future__ import annotations

import json
import subprocess
import sys

from conftest import check_json

AWS_SECRET = "h7Tq2LmZ9vR4sN8pW1xY" "6cB3kD5fG0jAQe3Ru7Vb"
AWS_KEY = "AKIA" "QX7RZ2LM4TN8VB3K"
SLACK_URL = "https://hooks.slack.com/services/" "T0A1B2C3D/B0E4F5G6H/" "Xq7Lm2Rt9Vz4Kp8Nc3Hb6Jd"
PLANTED = [AWS_SECRET, AWS_KEY, SLACK_URL.rsplit("/", 1)[-1]]

SETUP = f"""
from prefect_aws import AwsCredentials
from prefect.blocks.system import Secret
from prefect.blocks.notifications import SlackWebhook

AwsCredentials(aws_access_key_id="{AWS_KEY}", aws_secret_access_key="{AWS_SECRET}").save("prod", overwrite=True)
Secret(value="{AWS_SECRET}").save("db-password", overwrite=True)
SlackWebhook(url="{SLACK_URL}").save("alerts", overwrite=True)
"""

FLOWS = """
from prefect import flow, task
from prefect.variables import Variable
from prefect_aws import AwsCredentials
from prefect.blocks.system import Secret


@task
def extract():
    return AwsCredentials.load("prd")


@flow
async def etl():
    creds = await AwsCredentials.aload("prod")
    host = Variable.get("db_host")
    password = Secret.load("db-password").get()
    extract()
"""


def _clean(where: str, text: str) -> None:
    pieces = {value[i:i + 8] for value in PLANTED for i in range(len(value) - 7)}
    leaked = sorted(p for p in pieces if p in text)
    assert not leaked, f"{where} shows pieces of a secret value: {leaked[:3]}"


def _check(root) -> list:
    document = check_json("--no-cache", ".", cwd=root)
    _clean("json report", json.dumps(document))
    return [f for f in document["findings"] if f["code"] in ("CL401", "CL402")]


def _brief(findings) -> list:
    return sorted((f["code"], f["path"], f["line"], f["severity"], f["secret"]) for f in findings)


def test_a_typo_is_a_warning_and_declared_blocks_are_quiet(project):
    """Declared in another module: `await aload`, `.get()` and a `.load` in a task are judged
    alike; only the typo fires, with the close name and the fixes; a Variable is no block."""
    project({"setup_blocks.py": SETUP, "flows/etl.py": FLOWS})
    found = _check(project.root)
    assert _brief(found) == [("CL401", "flows/etl.py", 9, "warning", "aws-credentials/prd")]
    hit = found[0]
    assert "'aws-credentials/prod' (setup_blocks.py:5)" in hit["message"]
    assert 'AwsCredentials(...).save("prd")' in hit["fix"] and "credlint blocks --write" in hit["fix"]


def test_no_declaration_anywhere_means_no_warning(project):
    """A repository that makes no block manages them elsewhere: it is not flooded."""
    project({"flows/etl.py": FLOWS})
    assert _check(project.root) == []


def test_blocks_of_a_type_the_repository_never_makes_are_made_elsewhere(project):
    """Terraform makes the Secrets; the AWS credentials come from elsewhere: no warning for
    them, and still one for a Secret the repository does not make."""
    project({"flows/etl.py": FLOWS, "infra/blocks.tf": """
        resource "prefect_block" "db" {
          name      = "db-passwrd"
          type_slug = "secret"
          data      = jsonencode({ value = var.db_password })
        }
        """})
    found = _check(project.root)
    assert _brief(found) == [("CL401", "flows/etl.py", 16, "warning", "secret/db-password")]
    assert "did you mean 'secret/db-passwrd' (infra/blocks.tf:1)?" in found[0]["message"]


def test_a_configured_list_makes_missing_blocks_errors(project):
    project({"flows/etl.py": FLOWS}, config='blocks = ["aws-credentials/prod", "secret/db-password"]\n')
    assert _brief(_check(project.root)) == [("CL401", "flows/etl.py", 9, "error", "aws-credentials/prd")]
    project(config='blocks = ["aws-credentials/prod", "aws-credentials/prd", "secret/db-password"]\n')
    assert _check(project.root) == []


def test_prefect_yaml_references_and_terraform_declarations(project):
    """A pull-step reference to a block Terraform makes is provided; a misspelt one is not."""
    project({
        "infra/blocks.tf": """
            resource "prefect_block" "gh" {
              name      = "gh-token"
              type_slug = "secret"
              data      = jsonencode({ value = var.github_token })
            }
            """,
        "flows/etl.py": "from prefect import flow\n\n@flow\ndef etl():\n    pass\n",
        "prefect.yaml": """
            pull:
            - prefect.deployments.steps.git_clone:
                repository: https://github.com/acme/etl
                access_token: "{{ prefect.blocks.secret.gh-token }}"
            deployments:
            - name: nightly
              entrypoint: flows/etl.py:etl
              pull:
              - prefect.deployments.steps.git_clone:
                  repository: https://github.com/acme/etl
                  access_token: "{{ prefect.blocks.secret.gh-tokn }}"
            """})
    found = _check(project.root)
    assert _brief(found) == [("CL401", "prefect.yaml", 11, "warning", "secret/gh-tokn")]
    assert "deployment 'nightly'" in found[0]["message"]
    assert "did you mean 'secret/gh-token' (infra/blocks.tf:1)" in found[0]["message"]


def test_a_computed_declaration_may_make_any_block_of_its_slug(project):
    project({
        "infra/blocks.tf": """
            resource "prefect_block" "per_env" {
              name      = "${var.env}-token"
              type_slug = "secret"
              data      = jsonencode({ value = var.token })
            }
            """,
        "flows/etl.py": """
            from prefect import flow
            from prefect.blocks.system import Secret

            @flow
            def etl():
                Secret.load("prod-token").get()
            """}, config='blocks = ["aws-credentials/prod"]\n')
    assert _check(project.root) == []


def test_a_guarded_load_and_a_computed_name_are_left_alone(project):
    project({"setup_blocks.py": SETUP, "flows/etl.py": """
        from prefect import flow
        from prefect_aws import AwsCredentials

        @flow
        def etl(env: str):
            try:
                creds = AwsCredentials.load("staging")
            except ValueError:
                creds = AwsCredentials.load("prod")
            AwsCredentials.load(env)
            AwsCredentials.load(f"{env}-aws")
        """})
    assert _check(project.root) == []


def test_1x_code_beside_3x_code(project):
    """A 1.x flow's secrets are no blocks: CL401 judges the 3.x file only."""
    project({"setup_blocks.py": SETUP, "flows/etl.py": FLOWS, "legacy/flow1.py": """
        from prefect import Flow
        from prefect.tasks.secrets import PrefectSecret

        with Flow("legacy") as flow:
            token = PrefectSecret("prd")
        """})
    assert _brief(_check(project.root)) == [("CL401", "flows/etl.py", 9, "warning", "aws-credentials/prd")]


def test_the_two_slack_webhooks_and_secret_against_string(project):
    project({"setup_blocks.py": SETUP, "flows/notify.py": """
        from prefect import flow
        from prefect_slack import SlackWebhook
        from prefect.blocks.system import String

        @flow
        def notify():
            SlackWebhook.load("alerts")
            String.load("db-password")
        """})
    found = _check(project.root)
    assert _brief(found) == [("CL402", "flows/notify.py", 7, "error", "slack-incoming-webhook/alerts"),
                             ("CL402", "flows/notify.py", 8, "error", "string/db-password")]
    slack, string = sorted(found, key=lambda f: f["line"])
    assert "declared as 'slack-webhook/alerts' (setup_blocks.py:7)" in slack["message"]
    assert "load it with prefect.blocks.notifications.SlackWebhook" in slack["message"]
    assert "load it with prefect.blocks.system.Secret" in string["message"]


def test_block_load_by_slug(project):
    project({"setup_blocks.py": SETUP, "flows/etl.py": """
        from prefect import flow
        from prefect.blocks.core import Block

        @flow
        def etl():
            Block.load("aws-credentials/prod")
            Block.load("aws-credential/prod")
            Block.load("acme-vault/reader")
            Block.load("acme-vault/prod")
        """})
    found = _check(project.root)
    assert _brief(found) == [("CL402", "flows/etl.py", 7, "error", "aws-credential/prod"),
                             ("CL402", "flows/etl.py", 8, "warning", "acme-vault/reader"),
                             ("CL402", "flows/etl.py", 9, "error", "acme-vault/prod")]
    typo, unknown, declared = sorted(found, key=lambda f: f["line"])
    assert "did you mean 'aws-credentials' (prefect_aws.AwsCredentials)?" in typo["message"]
    assert unknown["message"].endswith("which no known block class has")
    assert "('prod' is declared as 'aws-credentials/prod', setup_blocks.py:5)" in declared["message"]


def test_a_project_block_class_across_modules(project):
    """The project's own class: its slug from `_block_type_name`, inherited by a subclass."""
    project({
        "acme/blocks.py": """
            from prefect.blocks.core import Block
            from pydantic import SecretStr

            class VaultToken(Block):
                _block_type_name = "Acme Vault Token"
                token: SecretStr

            class ScopedToken(VaultToken):
                scope: str = "read"
            """,
        "setup_blocks.py": """
            import os
            from prefect.blocks.system import Secret
            from acme.blocks import ScopedToken

            ScopedToken(token=os.environ["VAULT_TOKEN"]).save("reader")
            Secret(value=os.environ["DB_PASSWORD"]).save("db-password")
            """,
        "flows/etl.py": """
            from prefect import flow
            from prefect.blocks.core import Block
            from acme.blocks import VaultToken

            @flow
            def etl():
                VaultToken.load("reader")
                Block.load("acme-vault-token/reader")
                VaultToken.load("writer")
            """})
    assert _brief(_check(project.root)) == [("CL401", "flows/etl.py", 9, "warning", "acme-vault-token/writer")]


def test_a_loaded_block_saved_again_keeps_its_slug(project):
    """`Block.load("secret/db").save("db-copy")` declares `secret/db-copy` (the slug of the load)."""
    project({
        "copy_blocks.py": """
            from prefect.blocks.core import Block
            from prefect_aws import AwsCredentials

            def copy():
                AwsCredentials.load("prod").save("prod-copy")
                Block.load("secret/db").save("db-copy")
            """,
        "flows/etl.py": """
            from prefect import flow
            from prefect_aws import AwsCredentials
            from prefect.blocks.system import Secret

            @flow
            def etl():
                AwsCredentials.load("prod-copy")
                Secret.load("db-copy").get()
                Secret.load("db-cpy").get()
            """}, config='blocks = ["aws-credentials/prod", "secret/db"]\n')
    found = _check(project.root)
    assert _brief(found) == [("CL401", "flows/etl.py", 9, "error", "secret/db-cpy")]
    assert "did you mean 'secret/db-copy' (copy_blocks.py:6)?" in found[0]["message"]

# ----- the model ------------------------------------------------------------------------------
def _model(project, files, config=None):
    from credlint.api import Options, load

    project(files, config=config)
    return load(Options(paths=[str(project.root)], cache=False)).project


def test_states_and_declarations(project):
    model = _model(project, {"setup_blocks.py": SETUP, "flows/etl.py": FLOWS},
                   config='blocks = ["aws-credentials/prod"]\n').blocks
    assert [(d.source, d.ref) for d in model.declarations] == [
        ("save", "aws-credentials/prod"), ("save", "secret/db-password"), ("save", "slack-webhook/alerts"),
        ("config", "aws-credentials/prod")]
    assert [(n.ref, n.state, n.where) for n in model.needs] == [
        ("aws-credentials/prd", "missing", "task"), ("aws-credentials/prod", "provided", "flow"),
        ("secret/db-password", "provided", "flow")]
    assert model.configured and model.makes("secret") and not model.makes("string")


def test_unverifiable_without_a_list(project):
    model = _model(project, {"flows/etl.py": FLOWS}).blocks
    assert {n.state for n in model.needs} == {"unverifiable"}
    assert not model.configured and not model.makes("aws-credentials")


def test_a_1x_project_never_builds_the_model(project):
    project({"flow.py": """
        from prefect import Flow
        from prefect.tasks.secrets import PrefectSecret

        with Flow("legacy") as flow:
            token = PrefectSecret("TOKEN")
        """})
    script = ("import sys; from credlint.api import Options, check\n"
              "check(Options(paths=['.'], cache=False))\n"
              "print('credlint.model.blocks' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", script], cwd=project.root, capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.split() == ["False"], out.stderr
    assert _model(project, {}).blocks is None
