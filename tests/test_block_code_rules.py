"""The per-file Prefect 2.x/3.x rules through the CLI: CL403 unawaited-block-load, CL404
credential-in-variable, and the 2.x/3.x meaning of CL201, CL301 and CL302, each on a project
with the traps that must stay quiet, and no planted value in any output format."""
from __future__ import annotations

import pytest

from conftest import check_json, run_cli, with_code

# Fake but well-formed values, split in this source so that no scanner sees them whole here.
AWS_SECRET = "Qm9vB2sPlTx" "7Rk3Wz8Yc1Nf5Hd0Jg4Ls6AeUi"
AWS_KEY_ID = "AKIA" "ZQ7MN3KD5VX2PLW8"
PASSWORD = "Zq8uPw7731" "xKmNv"
TOKEN = "ghp_" + "R7k2Lm9Qw4Xz8Vb3Nc6Hj1Tp5Ys0Ud2Fg4Ae"
HOOK = "https://hooks.slack.com/services/" + "T04KQ7ZP2/B06MX9RL1/" + "Vn3kQw8Zr5Tp2Ly7"
PLANTED = (AWS_SECRET, AWS_KEY_ID, PASSWORD, TOKEN, HOOK, "Tok3nR" "eallyS3cret")

FLOW = f'''
import os
from prefect import flow, task
from prefect.blocks.system import Secret
from prefect.variables import Variable
from prefect_aws import AwsCredentials
from prefect_slack import SlackWebhook
from prefect_sqlalchemy import SqlAlchemyConnector

CREDS = AwsCredentials.load("prod")
API_KEY = Secret.load("vendor").get()


class Settings:
    creds = AwsCredentials.load("settings")


def helper(creds=AwsCredentials.load("default")):
    return creds


@task
def upload():
    return AwsCredentials.load("prod").get_boto3_session()


@flow
async def etl(api_token: str, db_host: str = "db", password: str = "{PASSWORD}", token_block: str = "gh"):
    bare = AwsCredentials.load("prod")
    awaited = await AwsCredentials.aload("prod")
    also = await AwsCredentials.load("prod")
    pw = Variable.get("db_password")
    host = Variable.get("db_host")
    Variable.set("api_token", "{TOKEN}")
    Variable.set("last_run", "2024-01-01")
    Variable.set("copy", Secret.load("vendor").get())
    upload()


def save_blocks():
    AwsCredentials(aws_access_key_id="{AWS_KEY_ID}", aws_secret_access_key="{AWS_SECRET}").save("prod")
    AwsCredentials(aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                   aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"]).save("env", overwrite=True)
    Secret(value="<paste it in the UI>").save("placeholder")
    Secret(value="{PASSWORD}").save("literal")
    SlackWebhook(url="{HOOK}").save("alerts")
    SqlAlchemyConnector(connection_info={{"driver": "postgresql+psycopg2", "username": "etl",
                                          "password": "{PASSWORD}", "host": "db"}}).save("warehouse")


if __name__ == "__main__":
    AwsCredentials.load("main")
'''

PREFECT_YAML = '''
deployments:
  - name: nightly
    entrypoint: flows/etl.py:etl
    parameters:
      token: "{{ prefect.variables.github_token }}"
      host: "{{ prefect.variables.db_host }}"
'''

TEST_FILE = '''
from prefect_aws import AwsCredentials
from prefect.blocks.system import Secret


def test_save():
    Secret(value="test-secret").save("t")
    AwsCredentials(aws_access_key_id="fake", aws_secret_access_key="fake-secret-for-tests")
'''


def line_of(text: str, source: str = FLOW, occurrence: int = 1) -> int:
    lines = source.lstrip("\n").splitlines()
    found = [n for n, line in enumerate(lines, 1) if text in line]
    return found[occurrence - 1]


@pytest.fixture(scope="module")
def doc(tmp_path_factory):
    root = tmp_path_factory.mktemp("blockrules")
    (root / ".git").mkdir()
    (root / "flows").mkdir()
    (root / "tests").mkdir()
    (root / "flows" / "etl.py").write_text(FLOW.lstrip("\n"), encoding="utf-8")
    (root / "tests" / "test_blocks.py").write_text(TEST_FILE.lstrip("\n"), encoding="utf-8")
    (root / "prefect.yaml").write_text(PREFECT_YAML.lstrip("\n"), encoding="utf-8")
    return root, check_json(".", cwd=root)


def places(doc, code):
    return sorted((f["path"], f["line"]) for f in with_code(doc, code))


def test_cl403_unawaited_load_only(doc):
    root, document = doc
    found = with_code(document, "CL403")
    assert [(f["path"], f["line"], f["column"]) for f in found] == [
        ("flows/etl.py", line_of('bare = AwsCredentials.load("prod")'), 12),
        ("flows/etl.py", line_of('Variable.set("copy", Secret.load("vendor")'), 26)]
    assert "await AwsCredentials.aload" in found[0]["fix"]
    assert "async def etl" in found[0]["message"]
    assert ".get() on it fails" in found[1]["message"]


def test_cl404_variables(doc):
    root, document = doc
    assert places(document, "CL404") == sorted([
        ("flows/etl.py", line_of('Variable.get("db_password")')),
        ("flows/etl.py", line_of('Variable.set("api_token"')),
        ("flows/etl.py", line_of('Variable.set("copy"')),
        ("prefect.yaml", 5),
    ])
    messages = " ".join(f["message"] for f in with_code(document, "CL404"))
    assert "db_host" not in messages and "last_run" not in messages


def test_cl201_literals_reach_block_fields(doc):
    root, document = doc
    found = with_code(document, "CL201")
    assert all(f["path"] == "flows/etl.py" for f in found), "test fakes under tests/ are not findings"
    got = sorted((f["line"], f["message"].split(" is given")[0]) for f in found)
    assert got == sorted([
        (line_of("AwsCredentials(aws_access_key_id=\""), "AwsCredentials(aws_access_key_id=)"),
        (line_of("AwsCredentials(aws_access_key_id=\""), "AwsCredentials(aws_secret_access_key=)"),
        (line_of(f'Secret(value="{PASSWORD}")'), "Secret(value=)"),
        (line_of("SlackWebhook(url="), "SlackWebhook(url=)"),
        (line_of('"password": '), "SqlAlchemyConnector(connection_info['password'])"),
    ])


def test_cl301_loads_at_import(doc):
    root, document = doc
    assert places(document, "CL301") == sorted(("flows/etl.py", line_of(text)) for text in (
        'CREDS = AwsCredentials.load("prod")', 'API_KEY = Secret.load("vendor")',
        'creds = AwsCredentials.load("settings")', 'def helper(creds=AwsCredentials.load("default"))'))
    assert any(".get()" in f["message"] for f in with_code(document, "CL301"))


def test_cl302_flow_parameters(doc):
    root, document = doc
    found = with_code(document, "CL302")
    assert sorted(f["message"].split("'")[1] for f in found) == ["api_token", "password"]
    assert all(f["line"] == line_of("async def etl(") for f in found)


def test_no_1x_finding_on_the_2x_file(doc):
    root, document = doc
    wrong = [f for f in document["findings"] if f["code"] in ("CL101", "CL202")]
    assert wrong == []


@pytest.mark.parametrize("fmt", ["full", "concise", "json", "sarif", "github"])
def test_no_planted_value_in_any_output(doc, fmt):
    root, _ = doc
    code, out, err = run_cli("check", ".", "--format", fmt, cwd=root)
    assert code == 1, err
    assert [s for s in PLANTED if s in out + err] == []


def test_rules_are_selectable_and_documented(doc):
    root, _ = doc
    document = check_json(".", "--select", "CL403,CL404", cwd=root)
    assert {f["code"] for f in document["findings"]} == {"CL403", "CL404"}
    code, out, err = run_cli("explain", "CL404", cwd=root)
    assert code == 0, err
    assert "Variable" in out


# ------------------------------------------------------------------------- focused unit checks

def _project(source: str, path: str = "flows/etl.py"):
    import textwrap

    from credlint.config import Config
    from credlint.facts.python.extract import extract
    from credlint.model.project import Project
    from credlint.prefect.catalogue import load_catalogue

    catalogue = load_catalogue()
    module = extract(textwrap.dedent(source).lstrip("\n").encode(), path, catalogue, "auto")
    return Project([module], catalogue, Config()), module


def _hits(check, source: str):
    import inspect

    project, module = _project(source)
    args = {"module": module, "project": project}
    return list(check(*[args[name] for name in inspect.signature(check).parameters]))


def test_unit_cl403_sync_function_and_asyncio_run_are_fine():
    from credlint.rules.blocks_code import check_unawaited_block_load

    assert _hits(check_unawaited_block_load, '''
        import asyncio
        from prefect_aws import AwsCredentials

        def sync():
            return AwsCredentials.load("prod")

        def runner():
            return asyncio.run(AwsCredentials.aload("prod"))
        ''') == []
    hits = _hits(check_unawaited_block_load, '''
        from prefect_aws import AwsCredentials

        async def helper():
            return AwsCredentials.load("prod")
        ''')
    assert [h.pos.line for h in hits] == [4]


def test_unit_cl404_value_and_env():
    from credlint.rules.blocks_code import check_credential_in_variable

    hits = _hits(check_credential_in_variable, f'''
        import os
        from prefect.variables import Variable

        Variable.set("gh", "{TOKEN}")
        Variable.set("conn", os.environ["DB_PASSWORD"])
        Variable.set("region", os.environ["AWS_REGION"])
        Variable.set("note", "{PASSWORD}")
        ''')
    assert [h.pos.line for h in hits] == [4, 5]
    assert hits[0].mask and "credential's format" in hits[0].message
    assert "DB_PASSWORD" in hits[1].message


def test_unit_cl201_local_block_class_and_env():
    from credlint.rules.hardcoded import check_hardcoded_credential_argument

    hits = _hits(check_hardcoded_credential_argument, f'''
        import os
        from prefect.blocks.core import Block
        from pydantic import SecretStr
        from prefect_gcp import GcpCredentials

        class ApiCreds(Block):
            host: str
            token: SecretStr

        ApiCreds(host="api.acme.io", token="{PASSWORD}").save("api")
        ApiCreds(host="api.acme.io", token=os.environ["API_TOKEN"]).save("env")
        GcpCredentials(service_account_info={{"type": "service_account", "project_id": "acme",
                                             "private_key": "{PASSWORD}"}})
        ''')
    assert [(h.pos.line, h.message.split(" is")[0]) for h in hits] == [
        (10, "ApiCreds(token=)"), (13, "GcpCredentials(service_account_info['private_key'])")]


def test_unit_cl302_block_typed_parameter_is_fine():
    from credlint.rules.buildtime import check_secret_parameter

    assert _hits(check_secret_parameter, '''
        from prefect import flow
        from prefect_aws import AwsCredentials

        @flow
        def etl(credentials: AwsCredentials, password_block: str = "pw", secret_name: str = "x"):
            pass
        ''') == []
