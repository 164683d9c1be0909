"""Things that are not hard-coded secrets, and code that is not Prefect 1.x, stay quiet."""
from __future__ import annotations

import json

import textwrap

import pytest

from conftest import check_json, codes_of

# Every slot CL201/CL202 watch, filled with the same expression {v}.
SLOTS = textwrap.dedent("""
    import os
    import prefect
    from prefect import Flow, Parameter
    from prefect.run_configs import DockerRun
    from prefect.tasks.aws.s3 import S3Download
    from prefect.tasks.secrets import EnvVarSecret, PrefectSecret
    from prefect.tasks.snowflake import SnowflakeQuery

    query = SnowflakeQuery(account="acme", user="loader", password={v})
    download = S3Download(bucket="raw", boto_kwargs={{"aws_secret_access_key": {v}}})
    prefect.context.secrets["SNOWFLAKE_PASSWORD"] = {v}
    os.environ["PREFECT__CONTEXT__SECRETS__SNOWFLAKE_PASSWORD"] = {v}

    with Flow("load", run_config=DockerRun(env={{"PREFECT__CONTEXT__SECRETS__DB_PASSWORD": {v}, "DB_PASSWORD": {v}}})) as flow:
        prefect.context(secrets={{"API_TOKEN": {v}}})
        query(query="select 1", password={v})
        download(key="orders.csv")
    """)

HARDCODE_CODES = {"CL201", "CL202"}


def hardcoded(doc):
    return [f for f in doc["findings"] if f["code"] in HARDCODE_CODES]


def test_the_slots_do_fire_on_a_real_literal(project):
    """The control: each slot of SLOTS is watched, so the quiet cases below mean something."""
    project({"flow.py": SLOTS.format(v='"Zq8uPw7731xKmN"')})
    found = hardcoded(check_json(".", cwd=project.root))
    lines = sorted({f["line"] for f in found})
    # password= (init and run), boto_kwargs, context assign, environ, two env keys, context(secrets=)
    assert codes_of(found).count("CL201") == 3
    assert codes_of(found).count("CL202") == 5
    assert len(lines) == 7


@pytest.mark.parametrize("value", [
    'os.environ["SNOWFLAKE_PASSWORD"]',
    'os.environ.get("SNOWFLAKE_PASSWORD")',
    'os.getenv("SNOWFLAKE_PASSWORD")',
    'os.getenv("SNOWFLAKE_PASSWORD", "")',
    'PrefectSecret("SNOWFLAKE_PASSWORD")',
    'EnvVarSecret("SNOWFLAKE_PASSWORD")',
    'Parameter("snowflake_password_name")',
    '"<token>"',
    '"YOUR_KEY_HERE"',
    '"${TOKEN}"',
    '"$TOKEN"',
    '"{{ secrets.TOKEN }}"',
    '"xxxx"',
    '"********"',
    '""',
    "None",
])
def test_references_and_placeholders_are_not_hardcoded(project, value):
    project({"flow.py": SLOTS.format(v=value)})
    doc = check_json(".", cwd=project.root)
    assert "CL000" not in codes_of(doc)
    assert hardcoded(doc) == []


@pytest.mark.parametrize("source", [
    """
    from prefect import Flow
    from prefect.tasks.notifications import SlackTask

    with Flow("x") as flow:
        SlackTask(message="m", webhook_secret="SLACK_WEBHOOK_URL")()
    """,
    """
    from prefect import Flow, task
    from prefect.utilities.notifications import slack_notifier

    @task(state_handlers=[slack_notifier(webhook_secret="TEAM_SLACK_HOOK")])
    def hello():
        print("hi")

    with Flow("x") as flow:
        hello()
    """,
    """
    from prefect import Flow
    from prefect.storage import S3
    from prefect.tasks.secrets import PrefectSecret

    with Flow("x", storage=S3(bucket="flows", secrets=["AWS_CREDENTIALS"])) as flow:
        PrefectSecret("SNOWFLAKE_PASSWORD")
    """,
], ids=["slack-webhook_secret", "notifier-webhook_secret", "storage-and-prefect-secret"])
def test_secret_names_are_not_secret_values(project, source):
    project({"flow.py": source})
    assert hardcoded(check_json(".", cwd=project.root)) == []


PREFECT2 = {
    "flow-decorator": """
        from prefect import flow, task

        @task
        def hello(name: str):
            return f"hi {name}"

        @flow(name="greet")
        def greet(name: str = "world"):
            hello(name)

        if __name__ == "__main__":
            greet()
        """,
    "prefect-aws-block": """
        from prefect import flow
        from prefect_aws import AwsCredentials, S3Bucket

        @flow
        def ingest():
            bucket = S3Bucket(bucket_name="raw", credentials=AwsCredentials.load("prod"))
            return bucket.read_path("orders.csv")
        """,
    "secret-block": """
        from prefect import flow, task
        from prefect.blocks.system import Secret

        TOKEN = Secret.load("api-token").get()

        @task
        def call(token: str):
            return len(token)

        @flow
        def sync(api_token: str = "Zq8uPw7731xKmN"):
            call(Secret.load("api-token").get())
        """,
    "tasks-module-of-2x": """
        from datetime import timedelta
        from prefect import flow, task
        from prefect.tasks import task_input_hash

        @task(cache_key_fn=task_input_hash, cache_expiration=timedelta(days=1))
        def fetch(password: str = "Zq8uPw7731xKmN"):
            return password

        @flow
        def main():
            fetch()
        """,
}


# What the 2.x/3.x rules rightly report in these files (the codes' 2.x meaning): (code, line).
PREFECT2_EXPECTED = {"secret-block": [("CL301", 4), ("CL302", 11)]}


@pytest.mark.parametrize("name, source", PREFECT2.items(), ids=PREFECT2.keys())
def test_prefect_2_code_gets_only_what_its_own_rules_say(project, name, source):
    project({"flow.py": source})
    doc = check_json(".", cwd=project.root)
    assert sorted((f["code"], f["line"]) for f in doc["findings"]) == PREFECT2_EXPECTED.get(name, [])
    assert doc["summary"]["files"] == 1, "the file was checked, not skipped by the prefilter"


def test_plain_local_flow_is_clean(project):
    project({"flow.py": """
        from prefect import Flow, Parameter, task

        @task
        def add(x, y):
            return x + y

        with Flow("math") as flow:
            x = Parameter("x", default=1)
            add(x, 2)

        if __name__ == "__main__":
            flow.run()
        """})
    doc = check_json(".", cwd=project.root)
    assert doc["findings"] == []


def test_non_prefect_code_with_password_keywords_is_clean(project):
    project({"db.py": """
        import psycopg2

        conn = psycopg2.connect(host="db", user="app", password="Zq8uPw7731xKmN")
        """})
    assert check_json(".", cwd=project.root)["findings"] == []


# ----- client constructors called directly from flow code (CL201) ---------------------------------
@pytest.mark.parametrize("call, fires", [
    ('boto3.client("s3", aws_access_key_id=KEY_ID, aws_secret_access_key="Zq8uPw7731xKmNv0Rt5Yb2Lc9Wd4Fg6Hj1Kp3Qs8")', True),
    ('boto3.client("s3", aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"])', False),
    ('psycopg2.connect(host="db", user="etl", password="Zq8uPw7731xKmN")', True),
    ('psycopg2.connect(host="db", user="etl", password=PrefectSecret("PG").run())', False),
    ('snowflake.connector.connect(account="acme", user="etl", password="Zq8uPw7731xKmN")', True),
    ('requests.get("https://api", auth=("etl", "Zq8uPw7731xKmN"))', True),
    ('requests.get("https://api", auth=("etl", os.environ["API_PW"]))', False),
    ('HTTPBasicAuth("etl", "Zq8uPw7731xKmN")', True),
    ('psycopg2.connect(host="db", user="etl", password="<password>")', False),
], ids=["boto3", "boto3-env", "psycopg2", "psycopg2-secret", "snowflake", "requests-auth", "requests-env",
        "basic-auth-positional", "placeholder"])
def test_client_constructors_in_tasks(project, call, fires):
    project({"flow.py": f"""
        import os
        import boto3
        import psycopg2
        import requests
        import snowflake.connector
        from requests.auth import HTTPBasicAuth
        from prefect import task
        from prefect.tasks.secrets import PrefectSecret

        KEY_ID = "AKIAQX3NV5EXAMPLE7KQ"

        @task
        def work():
            return {call}
        """})
    doc = check_json("--select", "CL201", ".", cwd=project.root)
    assert bool(doc["findings"]) is fires, doc["findings"]
    assert "Zq8uPw7731" not in json.dumps(doc)


def test_credential_constant_imported_from_another_module(project):
    project({
        "settings.py": 'WAREHOUSE_PASSWORD = "Zq8uPw7731" + "xKmN"\nWAREHOUSE = "LOAD_WH"\nPLACEHOLDER = "<password>"\n',
        "flows/load.py": """
            from prefect.tasks.snowflake import SnowflakeQuery
            from settings import PLACEHOLDER, WAREHOUSE, WAREHOUSE_PASSWORD

            a = SnowflakeQuery(account="acme", user="etl", password=WAREHOUSE_PASSWORD, warehouse=WAREHOUSE)
            b = SnowflakeQuery(account="acme", user="etl", password=PLACEHOLDER)
            """,
    })
    doc = check_json("--select", "CL201", "flows/", cwd=project.root)
    assert [(f["path"], f["line"]) for f in doc["findings"]] == [("flows/load.py", 4)]
    assert "Zq8uPw7731" not in json.dumps(doc)


@pytest.mark.parametrize("source", [
    # an enum member named like a credential, used as a value
    """
    import enum
    from prefect.tasks.snowflake import SnowflakeQuery

    class Auth(enum.Enum):
        TOKEN = "token"
        PASSWORD = "password"

    query = SnowflakeQuery(account="acme", user="etl", password=Auth.PASSWORD.value)
    """,
    # secret *names* in name parameters and in storage declarations
    """
    from prefect import Flow
    from prefect.storage import S3
    from prefect.tasks.notifications import SlackTask

    HOOK_NAME = "SLACK_WEBHOOK_URL"
    with Flow("f", storage=S3(bucket="b", secrets=["AWS_CREDENTIALS", HOOK_NAME])) as flow:
        SlackTask(message="m", webhook_secret=HOOK_NAME)()
    """,
    # test fixtures with obviously fake values
    """
    from prefect.tasks.snowflake import SnowflakeQuery

    def test_query():
        SnowflakeQuery(account="acme", user="etl", password="fake-password").run(query="select 1")
        SnowflakeQuery(account="acme", user="etl", password="password").run(query="select 1")
        SnowflakeQuery(account="acme", user="etl", password="dummy").run(query="select 1")
    """,
], ids=["enum-member", "secret-names", "test-fixture"])
def test_hardcoded_secret_traps(project, source):
    project({"flow.py": source})
    doc = check_json("--select", "CL2", ".", cwd=project.root)
    assert doc["findings"] == []
