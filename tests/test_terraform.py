"""Terraform (`.tf`, `.tfvars`) read with a real HCL2 parser: the Prefect blocks it declares,
the templates its Prefect resources hold, and the credentials written into it (CL203); a file
that does not parse is CL000 and the run goes on.

The planted values are well-formed but invented, written split in this source.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from conftest import run_cli
from credlint.facts.deploy.classify import classify
from credlint.facts.deploy.reader import read_deployment_file
from credlint.facts.deploy.types import DeployFacts
from credlint.facts.types import load, to_data

PASSWORD = "Zq8uPw" "7731xKmN"
TOKEN = "Tb7Rk2Qw9Lm" "4Xc8Vn3Pz6"
AWS_SECRET = "h7Tq2LmZ9vR4sN8pW1xY" "6cB3kD5fG0jAQe3Ru7Vb"
API_KEY = "pnu_" "Wm4Kx9Tr2Lq7Vz3Nb8Hc5Jd1Fg6Sy0PeQa7R"
GITHUB_TOKEN = "ghp_" "Rk3mV8qL2xW9nB4tY7cP1sD6fH0jZ5aE2uQw"
PLANTED = [PASSWORD, TOKEN, AWS_SECRET, API_KEY, GITHUB_TOKEN]


def assert_clean(where: str, text: str) -> None:
    pieces = {value[i:i + 8] for value in PLANTED for i in range(len(value) - 7)}
    leaked = sorted(p for p in pieces if p in text)
    assert not leaked, f"{where} shows pieces of a secret value: {leaked[:3]}"


def check(root):
    code, out, err = run_cli("check", "--format", "json", "--no-cache", ".", cwd=root)
    assert code in (0, 1), err
    assert_clean("json report", out + err)
    return code, json.loads(out)["findings"]


def read(path: str, text: str) -> DeployFacts:
    facts = read_deployment_file(path, textwrap.dedent(text).lstrip("\n").encode())
    assert_clean(f"facts of {path}", repr(facts) + json.dumps(to_data(facts)))
    assert load(DeployFacts, json.loads(json.dumps(to_data(facts)))) == facts  # what the cache stores
    return facts


FLOW = "from prefect import flow\n\n@flow\ndef etl():\n    pass\n"

PREFECT_TF = f"""
provider "prefect" {{
  api_key    = "{API_KEY}"
  account_id = var.account_id
}}

variable "prefect_api_key" {{
  type      = string
  sensitive = true
  default   = "{TOKEN}"
}}

variable "region" {{
  default = "eu-west-1"
}}

variable "db_password" {{
  sensitive = true
  default   = ""
}}

resource "prefect_block" "aws" {{
  name      = "prod"
  type_slug = "aws-credentials"
  data = jsonencode({{
    "aws_access_key_id"     = var.aws_key_id
    "aws_secret_access_key" = "{AWS_SECRET}"
    "region_name"           = "eu-west-1"
  }})
}}

resource "prefect_block" "db" {{
  name      = "db-password"
  type_slug = "secret"
  data      = jsonencode({{ value = "{PASSWORD}" }})
}}

resource "prefect_block" "from_var" {{
  name      = "${{var.env}}-github"
  type_slug = "secret"
  data      = jsonencode({{ value = var.github_token }})
}}

resource "prefect_deployment" "etl" {{
  name    = "nightly"
  flow_id = prefect_flow.etl.id
  pull_steps = [
    {{
      type         = "git_clone"
      repository   = "https://github.com/acme/etl"
      access_token = "{GITHUB_TOKEN}"
    }},
    {{
      type        = "git_clone"
      repository  = "https://github.com/acme/etl"
      credentials = "{{{{ prefect.blocks.github-credentials.acme }}}}"
    }},
  ]
}}

resource "prefect_work_pool" "ecs" {{
  name = "ecs"
  type = "ecs"
  base_job_template = jsonencode({{
    variables = {{
      properties = {{
        env = {{
          default = {{ DB_PASSWORD = "{PASSWORD}", LOG_LEVEL = "INFO" }}
        }}
      }}
    }}
  }})
}}
"""


def test_prefect_terraform_literals_are_cl203(project):
    root = project({"flows/etl.py": FLOW, "infra/prefect.tf": PREFECT_TF,
                    "infra/prod.tfvars": f'prefect_api_key = "{TOKEN}"\nregion = "eu-west-1"\n'})
    code, findings = check(root)
    assert code == 1
    cl203 = {(f["path"], f["line"], f["column"]): f["message"] for f in findings if f["code"] == "CL203"}
    suffix = " is set to a string literal in infra/prefect.tf: a credential committed "
    state, block_data = "in Terraform, and kept in its state", "in Terraform's block data"
    assert cl203 == {
        ("infra/prefect.tf", 2, 3): "provider.prefect.api_key" + suffix + "in Terraform's provider configuration",
        ("infra/prefect.tf", 9, 3): "var.prefect_api_key" + suffix + "as a Terraform variable's default",
        ("infra/prefect.tf", 26, 5): "aws-credentials/prod.aws_secret_access_key" + suffix + block_data,
        ("infra/prefect.tf", 34, 28): "secret/db-password.value" + suffix + block_data,
        ("infra/prefect.tf", 50, 7): "prefect_deployment.etl.pull_steps[0].access_token" + suffix +
                                     "in Terraform, in a deployment's pull steps and Terraform's state",
        ("infra/prefect.tf", 67, 23): "prefect_work_pool.ecs.base_job_template.variables.properties.env.default."
                                      "DB_PASSWORD" + suffix + state,
        ("infra/prod.tfvars", 1, 1): "prefect_api_key is set to a string literal in infra/prod.tfvars: a credential "
                                     "committed in a Terraform variable file",
    }
    # the formats are CL204 as in any file; nothing for references, names, empty defaults
    assert sorted((f["path"], f["line"]) for f in findings if f["code"] != "CL203") == [
        ("infra/prefect.tf", 2), ("infra/prefect.tf", 26), ("infra/prefect.tf", 50)]
    code, out, err = run_cli("check", "--no-cache", ".", cwd=root)
    assert '26 |     "aws_secret_access_key" = ********' in out
    assert "34 |   data      = ******** value = ******** })" in out
    for fmt in ("full", "concise", "sarif", "github", "json-lines"):
        code, out, err = run_cli("check", "--format", fmt, "--no-cache", ".", cwd=root)
        assert_clean(f"check --format {fmt}", out + err)


def test_a_tf_file_with_only_names_and_references_is_clean(project):
    root = project({"flows/etl.py": FLOW, "main.tf": """
        terraform {
          required_providers {
            prefect = { source = "PrefectHQ/prefect" }
          }
        }
        provider "prefect" {
          api_key      = var.prefect_api_key
          account_id   = "9b1c2d3e-0000-4000-8000-0123456789ab"
        }
        variable "prefect_api_key" {
          type      = string
          sensitive = true
        }
        resource "prefect_block" "slack" {
          name      = "alerts"
          type_slug = "slack-webhook"
          data      = file("${path.module}/slack.json")
        }
        resource "prefect_variable" "db_host" {
          name  = "db_host"
          value = "db.internal"
        }
        """})
    code, findings = check(root)
    assert (code, findings) == (0, [])


def test_a_tf_that_does_not_parse_is_cl000_and_the_run_goes_on(project):
    root = project({
        "flows/etl.py": FLOW,
        "broken.tf": f'resource "prefect_block" "x" {{\n  name = "a"\n  data = "{API_KEY}"\n',
        ".env": f"DB_PASSWORD={PASSWORD}\n",
    })
    code, findings = check(root)
    assert code == 1
    by = {(f["code"], f["path"], f["line"]): f["message"] for f in findings}
    assert by[("CL000", "broken.tf", 4)] == "cannot check this file: does not parse as HCL (unexpected end of file)"
    assert ("CL204", "broken.tf", 3) in by  # still scanned for credential formats
    assert ("CL203", ".env", 1) in by


def test_block_declarations_and_template_refs():
    facts = read("infra/prefect.tf", PREFECT_TF)
    assert facts.kind == "terraform"
    assert [(d.slug, d.name, d.address, d.fields, d.pos.line) for d in facts.block_decls] == [
        ("aws-credentials", "prod", "prefect_block.aws", ["aws_access_key_id", "aws_secret_access_key", "region_name"],
         21),
        ("secret", "db-password", "prefect_block.db", ["value"], 31),
        ("secret", None, "prefect_block.from_var", ["value"], 37),
    ]
    assert [(r.slug, r.name, r.where, r.deployment, r.field_path, r.pos.line, r.pos.column) for r in facts.block_refs] \
        == [("github-credentials", "acme", "pull", "nightly", "pull_steps[1].credentials", 55, 22)]
    # only the literal credentials are entries (names and references are not)
    assert [v.name for v in facts.env] == [
        "provider.prefect.api_key", "var.prefect_api_key", "aws-credentials/prod.aws_secret_access_key",
        "secret/db-password.value", "prefect_deployment.etl.pull_steps[0].access_token",
        "prefect_work_pool.ecs.base_job_template.variables.properties.env.default.DB_PASSWORD"]
    assert {v.scope for v in facts.env} == {"deploy-setting"}
    assert all(v.secret is None for v in facts.env)


def test_other_forms_of_block_data():
    facts = read("blocks.tf", f"""
        resource "prefect_block" "heredoc" {{
          name      = "h"
          type_slug = "secret"
          data      = <<EOT
        {{"value": "{PASSWORD}"}}
        EOT
        }}
        resource "prefect_block" "write_only" {{
          name      = "w"
          type_slug = "aws-credentials"
          data_wo   = jsonencode({{ aws_secret_access_key = "{AWS_SECRET}", profile_name = null }})
        }}
        resource "prefect_block" "per_env" {{
          for_each  = toset(["dev", "prod"])
          name      = each.key
          type_slug = "secret"
          data      = jsonencode(var.values)
        }}
        """)
    assert [(d.name, d.fields) for d in facts.block_decls] == [("h", ["value"]), ("w", ["aws_secret_access_key"]),
                                                               (None, None)]
    assert [(v.name, v.pos.line, v.pos.column) for v in facts.env] == [
        ("secret/h.value", 5, 2), ("aws-credentials/w.aws_secret_access_key", 11, 28)]


def test_classified_as_terraform():
    assert classify("infra/main.tf", b"") == "terraform"
    assert classify("infra/prod.tfvars", b"") == "terraform"
    assert classify("infra/main.tf.json", b"{}") is None


def test_the_hcl_parser_is_imported_only_for_terraform(tmp_path):
    script = ("import sys\nfrom credlint.facts.deploy.reader import read_deployment_file\n"
              "read_deployment_file('.env', b'A=1\\n')\n"
              "assert 'hcl2' not in sys.modules and 'lark' not in sys.modules, 'imported without a .tf'\n"
              "read_deployment_file('main.tf', b'x = 1\\n')\n"
              "assert 'hcl2' in sys.modules\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
