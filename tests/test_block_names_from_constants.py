"""Block and Variable names kept in another module's constant (`AwsCredentials.load(AWS_BLOCK)`):
the block model follows them, and the cache keeps the text of such name constants only.

Planted values are well-formed but invented, split in this source so no whole value sits in it.
"""
from __future__ import annotations

import json

from conftest import check_json

PASSWORD = "correct-" "horse-battery-" "staple"  # lower-case words: shaped like a name, and a secret

SETTINGS = f"""
AWS_BLOCK = "prod-aws"
SECRET_REF = "secret/db-pass"
SANDBOX_BLOCK_NAME = "sandbox"
DB_PASSWORD = "{PASSWORD}"
DEFAULT_REGION = "{PASSWORD}"
"""

FLOWS = """
from prefect import flow
from prefect.blocks.core import Block
from prefect_aws import AwsCredentials
from pkg.settings import AWS_BLOCK, SECRET_REF
from pkg import settings


@flow
def etl():
    AwsCredentials.load(AWS_BLOCK)
    Block.load(SECRET_REF)
    AwsCredentials.load(settings.SANDBOX_BLOCK_NAME)
"""

SETUP = """
import os
from prefect_aws import AwsCredentials
from pkg.settings import SANDBOX_BLOCK_NAME

AwsCredentials(profile_name="sandbox").save(SANDBOX_BLOCK_NAME, overwrite=True)
"""


def _write(project, config=""):
    project({"pkg/__init__.py": "", "pkg/settings.py": SETTINGS, "pkg/flows.py": FLOWS, "setup_blocks.py": SETUP},
            config=config)


def _missing(root):
    document = check_json("--no-cache", ".", cwd=root)
    assert PASSWORD not in json.dumps(document)
    return sorted((f["line"], f["secret"], f["message"].split(" needs")[0])
                  for f in document["findings"] if f["code"] == "CL401")


def test_names_held_by_constants_are_judged(project):
    _write(project, config='blocks = ["aws-credentials/prod"]\n')
    assert _missing(project.root) == [
        (10, "aws-credentials/prod-aws", "AwsCredentials.load(AWS_BLOCK)"),
        (11, "secret/db-pass", "Block.load(SECRET_REF)"),
    ]  # the sandbox block is saved under the same constant's name: provided
    (project.root / "setup_blocks.py").unlink()
    assert _missing(project.root)[-1] == (12, "aws-credentials/sandbox", "AwsCredentials.load(SANDBOX_BLOCK_NAME)")


def test_a_constant_name_that_is_declared_is_quiet(project):
    _write(project, config='blocks = ["aws-credentials/prod-aws", "secret/db-pass"]\n')
    assert _missing(project.root) == []


def test_the_cache_keeps_only_name_constants(project):
    """A name constant's text is in the cached facts (other modules load by it); a credential's,
    or a constant whose name does not say it names something, is not, whatever its shape."""
    _write(project)
    check_json(".", cwd=project.root)
    cached = "".join(p.read_text(encoding="utf-8", errors="replace")
                     for p in (project.root / ".credlint_cache").rglob("*") if p.is_file())
    assert "prod-aws" in cached and "db-pass" in cached
    assert PASSWORD not in cached
