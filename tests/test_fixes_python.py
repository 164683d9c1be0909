"""The Python fixes of issue 19 (point 2) beyond renames: `await` for an unawaited block load
(CL403, safe), a hard-coded credential replaced by a reference named after its parameter (CL201,
CL202, unsafe), and a secret added to the flow's storage `secrets=[...]` (CL101, unsafe). Each
keeps the file's layout and comments, leaves no value in the file or any output, and removes
its finding."""
from __future__ import annotations

import json
from pathlib import Path

import libcst as cst
import pytest

from conftest import in_process, leaked_pieces
from credlint.fixes.python import PythonFile
from credlint.fixes.python_refs import env_name

# Invented, well-formed values, split so that this file does not look like a leak.
PASSWORD = "Zq8uPw77" "31xKmNv4"
AWS_SECRET = "wJalrXUtnFEMI" "K7MDENGbPxRfiCYz9xq8"
AWS_KEY_ID = "AKIA4QWE" "RTYUIOPASDFG"
WEBHOOK = "https://hooks.slack.com/services/" "T0001/B0001/QWERTYUIOPASDFGH"
VALUES = (PASSWORD, AWS_SECRET, AWS_KEY_ID, WEBHOOK.rsplit("/", 1)[-1])


def assert_no_secret(text: str) -> None:
    assert not leaked_pieces(VALUES, text), f"a secret shows in:\n{text}"


cli_in = in_process


def findings(root: Path, code: str = "") -> list:
    status, out, err = cli_in(root, "check", "--format", "json", "--no-cache", "--no-server")
    assert status in (0, 1), err
    assert_no_secret(out + err)
    return [f for f in json.loads(out)["findings"] if not code or f["code"] == code]


def fix(root: Path, *extra: str) -> str:
    """`check --fix` (with `extra`), the outputs checked for values; its standard error."""
    status, out, err = cli_in(root, "check", "--fix", "--format", "json", "--no-cache", "--no-server", *extra)
    assert status in (0, 1), err
    assert_no_secret(out + err)
    return err


def diff(root: Path) -> str:
    status, out, err = cli_in(root, "check", "--diff", "--unsafe-fixes", "--no-cache", "--no-server")
    assert status in (0, 1), err
    assert_no_secret(out + err)
    return out


# -- CL403: await the load ------------------------------------------------------------------------

ASYNC_FLOW = """
    from prefect import flow
    from prefect.blocks.system import Secret
    from prefect_aws import AwsCredentials

    @flow
    async def sync_bucket():
        credentials = AwsCredentials.load("prod")  # the bucket's account
        token = Secret.load("slack-token").get()
        already = await AwsCredentials.load("prod")
        return credentials, token, already
    """


def test_cl403_awaits_the_load_and_parenthesises_a_method_call_on_it(project):
    root = project.write({"flows/sync.py": ASYNC_FLOW})
    before = findings(root, "CL403")
    assert [(f["line"], f["fix_safety"]) for f in before] == [(7, "safe"), (8, "safe")]
    assert all(f["fix"] for f in before)
    assert "Fixed 2 findings" in fix(root)  # safe: no --unsafe-fixes needed
    text = (root / "flows/sync.py").read_text()
    assert '    credentials = await AwsCredentials.load("prod")  # the bucket\'s account\n' in text
    assert '    token = (await Secret.load("slack-token")).get()\n' in text
    assert '    already = await AwsCredentials.load("prod")\n' in text  # not awaited twice
    assert findings(root, "CL403") == []


# -- CL201 in Prefect 1.x: PrefectSecret at run time in a flow, Secret().get() in a task -----------

SNOWFLAKE_FLOW = f"""
    from prefect import Flow, task
    from prefect.tasks.snowflake import SnowflakeQuery

    query = SnowflakeQuery(account="acme", user="loader", password="{PASSWORD}")

    @task
    def count():
        return SnowflakeQuery(account="acme", user="loader").run(query="select 1", password="{PASSWORD}")

    with Flow("load") as flow:
        query(query="select 1", password="{PASSWORD}")  # nightly
        count()
        query.map(query=["select 1", "select 2"], password="{PASSWORD}")
    """


def test_cl201_in_prefect1_refers_to_a_secret_named_after_the_parameter(project):
    root = project.write({"flow.py": SNOWFLAKE_FLOW})
    by_line = {f["line"]: f["fix_safety"] for f in findings(root, "CL201")}
    # at construction outside a task the argument cannot be a task, and Secret().get() there
    # would be read at build time (CL301): no fix
    # nor for `.map`, which would map over the secret's characters
    assert by_line == {4: None, 8: "unsafe", 11: "unsafe", 13: None}
    shown = diff(root)
    # one edit per pass where each adds an import: the diff (the first pass) shows one of them
    assert '+    return SnowflakeQuery(account="********", user="********").run(query="********", ' \
           'password=Secret("SNOWFLAKE_PASSWORD").get())' in shown or \
           '+    query(query="********", password=PrefectSecret("SNOWFLAKE_PASSWORD"))  # ********' in shown
    assert "Fixed 0 findings" in fix(root)  # unsafe: nothing without --unsafe-fixes
    fix(root, "--unsafe-fixes")
    text = (root / "flow.py").read_text()
    assert text.startswith("from prefect.tasks.secrets import PrefectSecret\n"
                           "from prefect.client import Secret\n") or \
        text.startswith("from prefect.client import Secret\nfrom prefect.tasks.secrets import PrefectSecret\n")
    assert '    query(query="select 1", password=PrefectSecret("SNOWFLAKE_PASSWORD"))  # nightly\n' in text
    assert '.run(query="select 1", password=Secret("SNOWFLAKE_PASSWORD").get())\n' in text
    assert text.count(PASSWORD) == 2  # the module-level construction and the map are left to the user
    assert [f["line"] for f in findings(root, "CL201")] == [6, 15]
    compile(text, "flow.py", "exec")


def test_a_fix_in_the_last_statement_of_a_file_without_a_final_newline(project):
    """libcst ends the module's last statement with a newline the file lacks: the fixer must not
    look past the file's end (it used to fail there, and the finding had no fix)."""
    root = project.write({"flow.py": f"""
        from prefect import Flow
        from prefect.tasks.snowflake import SnowflakeQuery

        query = SnowflakeQuery(account="acme", user="loader")

        with Flow("load") as flow:
            query(password="{PASSWORD}")"""})
    assert [f["fix_safety"] for f in findings(root, "CL201")] == ["unsafe"]
    fix(root, "--unsafe-fixes")
    text = (root / "flow.py").read_text()
    assert text.endswith('    query(password=PrefectSecret("SNOWFLAKE_PASSWORD"))') and PASSWORD not in text


def test_cl201_in_prefect1_keeps_an_import_it_finds_and_never_shadows_a_name(project):
    root = project.write({"flow.py": f"""
        from prefect import Flow, task
        from prefect.tasks.secrets import PrefectSecret
        from prefect.tasks.snowflake import SnowflakeQuery
        from vault import Secret

        query = SnowflakeQuery(account="acme", user="loader")

        @task
        def count():
            return SnowflakeQuery(account="acme").run(query="select 1", password="{PASSWORD}")

        with Flow("load") as flow:
            query(query="select 1", password="{PASSWORD}")
        """})
    fix(root, "--unsafe-fixes")
    text = (root / "flow.py").read_text()
    assert text.count("import PrefectSecret") == 1 and 'password=PrefectSecret("SNOWFLAKE_PASSWORD")' in text
    assert text.count(PASSWORD) == 1  # `Secret` is vault's here: no Secret("...").get() in the task
    assert [f["fix_safety"] for f in findings(root, "CL201")] == [None]


# -- CL201 in Prefect 2.x/3.x: the registration script reads the environment -----------------------

REGISTER_BLOCKS = f'''
    """Creates the blocks (run once per workspace)."""
    from __future__ import annotations

    from prefect.blocks.system import Secret
    from prefect_aws import AwsCredentials
    from prefect_github import GitHubCredentials

    # the production account
    AwsCredentials(
        aws_access_key_id="{AWS_KEY_ID}",
        aws_secret_access_key="{AWS_SECRET}",  # rotated yearly
    ).save("prod", overwrite=True)
    Secret(value="{PASSWORD}").save("slack-token", overwrite=True)
    hook = Secret(value="{PASSWORD}")
    hook.save("hook")
    github = GitHubCredentials()
    github.token = "{PASSWORD}"
    github.save("ci")
    '''


def test_cl201_in_prefect2_reads_each_field_from_the_environment(project):
    root = project.write({"setup/register.py": REGISTER_BLOCKS})
    assert {f["fix_safety"] for f in findings(root, "CL201")} == {"unsafe"}
    shown = diff(root)
    assert "+import os\n" in shown
    fix(root, "--unsafe-fixes")
    text = (root / "setup/register.py").read_text()
    assert text.startswith('"""Creates the blocks (run once per workspace)."""\n'
                           "from __future__ import annotations\n"
                           "import os\n")
    assert text.count("import os") == 1
    assert '    aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],\n' in text
    assert '    aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],  # rotated yearly\n' in text
    assert "# the production account\n" in text
    assert 'Secret(value=os.environ["SLACK_TOKEN"]).save("slack-token", overwrite=True)\n' in text
    assert 'hook = Secret(value=os.environ["SECRET_VALUE"])\n' in text  # saved elsewhere: a generic name
    assert 'github.token = os.environ["TOKEN"]\n' in text
    for value in VALUES:
        assert value not in text
    assert findings(root, "CL201") == []


def test_the_diff_of_a_reference_shows_the_name_never_the_value(project):
    root = project.write({"register.py": f"""
        import os
        from prefect_aws import AwsCredentials

        AwsCredentials(aws_secret_access_key="{AWS_SECRET}").save("prod")
        """})
    shown = diff(root)
    assert '-AwsCredentials(aws_secret_access_key="********").save("********")' in shown
    assert '+AwsCredentials(aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"]).save("********")' in shown
    assert "+import os" not in shown  # bound already


# -- CL202: context secrets from the environment, run-config env to the agent ---------------------

def test_cl202_reads_context_secrets_from_the_environment_and_leaves_env_values_to_the_agent(project):
    root = project.write({"flow.py": f"""
        import os

        import prefect
        from prefect import Flow
        from prefect.run_configs import DockerRun

        prefect.context.secrets["SLACK_WEBHOOK_URL"] = "{WEBHOOK}"
        prefect.context.secrets["AWS_CREDENTIALS"] = {{"ACCESS_KEY": "{AWS_KEY_ID}", "SECRET_ACCESS_KEY": "{AWS_SECRET}"}}
        with prefect.context(secrets={{"DB_PASSWORD": "{PASSWORD}", "DB_HOST": os.environ["HOST"]}}):
            pass

        run_config = DockerRun(env={{
            "PREFECT__CONTEXT__SECRETS__REDIS_PASSWORD": "{PASSWORD}",  # the cache
            "LOG_LEVEL": "DEBUG",
        }})
        with Flow("etl", run_config=run_config) as flow:
            pass
        """})
    assert [f["fix_safety"] for f in findings(root, "CL202")] == ["unsafe"] * 4
    assert "-    \"PREFECT__CONTEXT__SECRETS__REDIS_PASSWORD\": \"********\",  # ********" in diff(root)
    fix(root, "--unsafe-fixes")
    text = (root / "flow.py").read_text()
    assert 'prefect.context.secrets["SLACK_WEBHOOK_URL"] = os.environ["SLACK_WEBHOOK_URL"]\n' in text
    assert 'secrets={"DB_PASSWORD": os.environ["DB_PASSWORD"], "DB_HOST": os.environ["HOST"]}' in text
    assert ('prefect.context.secrets["AWS_CREDENTIALS"] = {"ACCESS_KEY": os.environ["AWS_CREDENTIALS_ACCESS_KEY"], '
            '"SECRET_ACCESS_KEY": os.environ["AWS_CREDENTIALS_SECRET_ACCESS_KEY"]}\n') in text
    assert 'run_config = DockerRun(env={\n    "LOG_LEVEL": "DEBUG",\n}})\n'.replace("}}", "}") in text
    assert text.count("import os") == 1
    for value in VALUES:
        assert value not in text
    assert findings(root, "CL202") == []


# -- CL101: declare the secret on the flow's storage ----------------------------------------------

def test_cl101_adds_the_secret_to_the_storage_keyword_or_list(project):
    root = project.write({
        "one.py": """
            from prefect import Flow
            from prefect.storage import Docker
            from prefect.tasks.notifications import SlackTask

            with Flow("nightly", storage=Docker(image_name="flows")) as flow:
                SlackTask(message="loaded")()
            """,
        "two.py": """
            from prefect import Flow
            from prefect.storage import Docker
            from prefect.tasks.notifications import SlackTask
            from prefect.tasks.secrets import PrefectSecret

            storage = Docker(
                image_name="flows",
                secrets=[
                    "PAGER_TOKEN",  # the on-call pager
                ],
            )
            with Flow("weekly", storage=storage) as flow:
                SlackTask(message="loaded")()
                PrefectSecret("PAGER_TOKEN")
            """,
        "three.py": """
            from prefect import Flow
            from prefect.storage import Docker
            from prefect.tasks.notifications import SlackTask

            with Flow("monthly", storage=Docker(
                image_name="flows",  # the registry's
            )) as flow:
                SlackTask(message="loaded")()
            """,
    })
    assert {(f["path"], f["severity"], f["fix_safety"]) for f in findings(root, "CL101")} == \
        {("one.py", "warning", "unsafe"), ("two.py", "warning", "unsafe"), ("three.py", "warning", "unsafe")}
    fix(root, "--unsafe-fixes")
    assert 'storage=Docker(image_name="flows", secrets=["SLACK_WEBHOOK_URL"])) as flow:' in (root / "one.py").read_text()
    assert ('    secrets=[\n        "PAGER_TOKEN",  # the on-call pager\n        "SLACK_WEBHOOK_URL",\n    ],\n'
            in (root / "two.py").read_text())
    assert '    image_name="flows",  # the registry\'s\n    secrets=["SLACK_WEBHOOK_URL"],\n)) as flow:' in \
        (root / "three.py").read_text()
    assert findings(root, "CL101") == []


def test_cl101_has_no_fix_where_storage_secrets_would_not_provide_it(project):
    root = project.write({
        "flow.py": """
            from prefect import Flow
            from prefect.storage import Docker
            from prefect.tasks.notifications import SlackTask

            with Flow("nightly", storage=Docker(image_name="flows")) as flow:
                SlackTask(message="loaded")()
            """,
        "bare.py": """
            from prefect import Flow
            from prefect.tasks.notifications import SlackTask

            with Flow("hourly") as flow:
                SlackTask(message="loaded")()
            """}, config='backend = "server"\n')
    # server has no secret store: the storage would load it from the same empty context
    assert [f["fix_safety"] for f in findings(root, "CL101")] == [None, None]
    (root / "credlint.toml").unlink()
    # Cloud without an inventory: no storage in the file to add it to
    assert {f["path"]: f["fix_safety"] for f in findings(root, "CL101")} == {"bare.py": None, "flow.py": "unsafe"}


# -- units -----------------------------------------------------------------------------------------

def test_env_name_derives_a_variable_name():
    assert env_name("aws_secret_access_key") == "AWS_SECRET_ACCESS_KEY"
    assert env_name("slack-token") == "SLACK_TOKEN"
    assert env_name("snowflake", "password") == "SNOWFLAKE_PASSWORD"
    assert env_name("", "token") == "TOKEN"


@pytest.mark.parametrize("source, name, modules, wanted", [
    ("import os\n", "os", (), ()),
    ("import os.path\n", "os", (), ()),
    ("import sys\n", "os", (), ("import os",)),
    ("import posixpath as os\n", "os", (), None),
    ("os = None\n", "os", (), None),
    ("from prefect.client import Secret\n", "Secret", ("prefect.client",), ()),
    ("from prefect.client.secrets import Secret\n", "Secret", ("prefect.client", "prefect.client.secrets"), ()),
    ("from vault import Secret\n", "Secret", ("prefect.client",), None),
    ("def Secret():\n    pass\n", "Secret", ("prefect.client",), None),
    ("", "PrefectSecret", ("prefect.tasks.secrets",), ("from prefect.tasks.secrets import PrefectSecret",)),
])
def test_imports_for_adds_only_what_is_missing_and_never_shadows(source, name, modules, wanted):
    assert PythonFile(source).imports_for(name, *modules) == wanted


def test_new_imports_go_after_the_docstring_and_future_imports():
    module = PythonFile('"""Doc."""\nfrom __future__ import annotations\n\nimport sys\nx = "a"\n')
    (node,) = [n for n in module.positions if isinstance(n, cst.SimpleString) and n.value == '"a"']
    edit = module.replace({node: lambda _: cst.parse_expression("os.sep")}, imports=("import os",))
    text = module.text[:edit.start] + edit.text + module.text[edit.end:]
    assert text == '"""Doc."""\nfrom __future__ import annotations\nimport os\n\nimport sys\nx = os.sep\n'
