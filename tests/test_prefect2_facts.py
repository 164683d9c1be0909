"""The facts of a Prefect 2.x/3.x Python file (`ModuleFacts.blocks`, issue 18 scope 2): block
loads, saves and builds, block classes, Variables, flows with their parameters and hooks, calls of
project code, deployments; with positions, where the code runs, sync/async, and values redacted.
The rules that read them come later: these tests pin the facts themselves, their round trip
through the cache, and that no planted secret is kept anywhere."""
from __future__ import annotations

import json
import textwrap

import pytest

from conftest import check_json, run_cli
from credlint.facts.python.extract import extract
from credlint.facts.types import ModuleFacts, from_data, to_data
from credlint.prefect.catalogue import load_catalogue

# Fake but well-formed values, split in this source so that no scanner sees them whole here.
PASSWORD = "Zq8uPw7731" "xKmNv"
AWS_SECRET = "wJalrXUtnFEMI" "K7MDENGbPxRfiCYz9xq8"
TOKEN = "ghp_" + "R7k2Lm9Qw4Xz8Vb3Nc6Hj1Tp5Ys0Ud2Fg4Ae"
PLANTED = (PASSWORD, AWS_SECRET, TOKEN)


def facts(source: str, path: str = "flows/etl.py", prefect: str = "auto") -> ModuleFacts:
    return extract(textwrap.dedent(source).lstrip("\n").encode(), path, load_catalogue(), prefect)


def where(source: str, text: str, occurrence: int = 1):
    """(line, column) of the n-th `text` in the dedented source, 1-based."""
    lines = textwrap.dedent(source).lstrip("\n").splitlines()
    seen = 0
    for number, line in enumerate(lines, 1):
        start = 0
        while True:
            column = line.find(text, start)
            if column < 0:
                break
            seen += 1
            if seen == occurrence:
                return number, column + 1
            start = column + 1
    raise AssertionError(f"{text!r} not in source")


def no_secret_in(module: ModuleFacts) -> None:
    dumped = json.dumps(to_data(module))
    assert [s for s in PLANTED if s in dumped] == []


# ----------------------------------------------------------------------------------------- loads

LOADS = '''
import prefect_aws as pa
from prefect.blocks import system
from prefect.blocks.core import Block
from prefect.blocks.system import Secret as S
from prefect_aws import AwsCredentials as AC
from settings import BLOCK_NAME

ENV = "prod"
Creds = AC

a = AC.load("aws-prod")
b = pa.AwsCredentials.load(name="aws-named")
c = Creds.load(f"{ENV}-aws")
d = Block.load("slack-webhook/alerts")
e = S.load("api-token").get()
f = system.Secret.load(BLOCK_NAME)
g = AC.load(ENV + "-" + "west")
'''


def test_block_loads_through_aliases_constants_and_module_imports():
    module = facts(LOADS)
    assert module.model == "2"
    got = [(l.cls, l.name, l.slug, l.name_ref, l.get, l.var) for l in module.blocks.loads]
    assert got == [
        ("prefect_aws.AwsCredentials", "aws-prod", None, None, False, "a"),
        ("prefect_aws.AwsCredentials", "aws-named", None, None, False, "b"),
        ("prefect_aws.AwsCredentials", "prod-aws", None, None, False, "c"),
        ("prefect.blocks.core.Block", "alerts", "slack-webhook", None, False, "d"),
        ("prefect.blocks.system.Secret", "api-token", None, None, True, "e"),
        ("prefect.blocks.system.Secret", None, None, "settings.BLOCK_NAME", False, "f"),
        ("prefect_aws.AwsCredentials", "prod-west", None, None, False, "g"),
    ]
    assert all(l.known and l.where == "module" and l.method == "load" for l in module.blocks.loads)
    first = module.blocks.loads[0]
    assert (first.pos.line, first.pos.column) == where(LOADS, 'AC.load("aws-prod")')
    assert (first.pos.end_line, first.pos.end_column) == (first.pos.line, first.pos.column + len('AC.load("aws-prod")'))
    assert (first.name_pos.line, first.name_pos.column) == where(LOADS, '"aws-prod"')
    # No 1.x fact is recorded for a 2.x file; the names other modules import are.
    assert (module.calls, module.flows, module.reads, module.parameters, module.credential_args) == ([], [], [], [], [])
    assert module.imports["Creds"] == "prefect_aws.AwsCredentials"
    assert module.constants["ENV"].kind == "str"


def test_a_class_of_another_project_module_is_recorded_for_the_model_to_resolve():
    module = facts('''
        import json
        from prefect import flow
        from acme.blocks import TeamCreds

        creds = TeamCreds.load("team")
        settings = json.load(open("x.json"))
        ''')
    assert [(l.cls, l.name, l.known) for l in module.blocks.loads] == [("acme.blocks.TeamCreds", "team", False)]


def test_a_name_that_looks_like_a_secret_is_not_kept():
    source = f'''
        from prefect.blocks.system import Secret

        value = Secret.load("{TOKEN}")
        '''
    module = facts(source)
    assert module.blocks.loads[0].name is None
    line, column = where(source, '"ghp_')
    assert any(p.line == line and p.column == column for p in module.sensitive)
    no_secret_in(module)


WHERE = '''
from prefect import flow, task
from prefect.blocks.system import Secret

TOKEN = Secret.load("at-import")

class Settings:
    token = Secret.load("in-class")

def notify(flow, flow_run, state):
    Secret.load("in-hook")

def helper(name):
    return Secret.load(name).get()

@task
def fetch():
    return Secret.load("in-task").get()

@flow(on_failure=[notify])
def etl(token=Secret.load("in-default")):
    later = lambda: Secret.load("in-lambda")
    try:
        optional = Secret.load("guarded")
    except ValueError:
        optional = None
    fetch()
    return Secret.load("in-flow")

if __name__ == "__main__":
    Secret.load("as-script")
'''


def test_where_each_load_runs():
    module = facts(WHERE)
    got = {l.name or l.name_param: (l.where, l.owner) for l in module.blocks.loads}
    assert got == {
        "at-import": ("module", None),
        "in-class": ("class", "flows.etl.Settings"),
        "in-hook": ("hook", "flows.etl.notify"),
        "name": ("function", "flows.etl.helper"),
        "in-task": ("task", "flows.etl.fetch"),
        "in-default": ("default", None),
        "in-lambda": ("function", "flows.etl.etl"),
        "guarded": ("flow", "flows.etl.etl"),
        "in-flow": ("flow", "flows.etl.etl"),
        "as-script": ("main", None),
    }
    assert [l.name for l in module.blocks.loads if l.guarded] == ["guarded"]
    kinds = {q: f.kind for q, f in module.blocks.functions.items()}
    assert kinds == {"flows.etl.notify": "hook", "flows.etl.helper": "function", "flows.etl.fetch": "task",
                     "flows.etl.etl": "flow"}
    assert module.blocks.functions["flows.etl.etl"].hooks == {"on_failure": ["flows.etl.notify"]}


ASYNC = '''
import asyncio
from prefect import flow
from prefect.blocks.system import Secret
from prefect_aws import AwsCredentials

@flow
async def pull():
    bare = Secret.load("bare")
    awaited = await Secret.load("awaited")
    explicit = await AwsCredentials.aload("explicit")
    value = (await Secret.aload("value")).get()
    broken = Secret.load("broken").get()

@flow
def sync():
    plain = Secret.load("plain").get()
    ran = asyncio.run(Secret.aload("ran"))
'''


def test_sync_and_async_loads():
    module = facts(ASYNC)
    got = {l.name: (l.method, l.in_async, l.awaited, l.get) for l in module.blocks.loads}
    assert got == {
        "bare": ("load", True, False, False),
        "awaited": ("load", True, True, False),
        "explicit": ("aload", True, True, False),
        "value": ("aload", True, True, True),
        "broken": ("load", True, False, True),
        "plain": ("load", False, False, True),
        "ran": ("aload", False, True, False),
    }
    assert module.blocks.functions["flows.etl.pull"].is_async


# ----------------------------------------------------------------------------------------- saves

SAVES = f'''
from PIL import Image
from prefect.blocks.system import Secret
from prefect_aws import AwsCredentials, S3Bucket

def register():
    AwsCredentials(aws_access_key_id="AKIA-placeholder", aws_secret_access_key="{AWS_SECRET}").save("prod")
    secret = Secret(value="{TOKEN}")
    secret.save("github-token", overwrite=True)
    copy = AwsCredentials.load("prod")
    copy.save(name="prod-copy")
    Image.open("a.png").save("b.png")

async def aregister():
    bucket = S3Bucket(bucket_name="raw", credentials=AwsCredentials.load("prod"))
    await bucket.asave("raw-bucket")
'''


def test_block_saves():
    module = facts(SAVES)
    blocks = module.blocks
    got = [(s.cls, s.name, s.method, s.overwrite, s.build, s.load, s.awaited, s.owner) for s in blocks.saves]
    assert got == [
        ("prefect_aws.AwsCredentials", "prod", "save", False, 0, None, False, "flows.etl.register"),
        ("prefect.blocks.system.Secret", "github-token", "save", True, 1, None, False, "flows.etl.register"),
        ("prefect_aws.AwsCredentials", "prod-copy", "save", False, None, 0, False, "flows.etl.register"),
        ("prefect_aws.S3Bucket", "raw-bucket", "asave", False, 2, None, True, "flows.etl.aregister"),
    ]
    assert [b.cls for b in blocks.builds] == ["prefect_aws.AwsCredentials", "prefect.blocks.system.Secret",
                                             "prefect_aws.S3Bucket"]
    assert blocks.builds[2].args["credentials"].value.kind == "block_load"
    assert blocks.builds[2].args["credentials"].value.ref == "1"
    no_secret_in(module)
    # Every literal given to a block is masked in snippets.
    for text in (f'"{AWS_SECRET}"', f'"{TOKEN}"'):
        line, column = where(SAVES, text)
        assert any(p.line == line and p.column == column for p in module.sensitive), text


# ----------------------------------------------------------------------------------------- builds

BUILDS = f'''
import os
import pandas
from pydantic import SecretStr
from prefect.runner.storage import GitRepository
from prefect.variables import Variable
from prefect.blocks.system import Secret
from prefect_aws import AwsCredentials, S3Bucket
from prefect_sqlalchemy import SqlAlchemyConnector
from acme.blocks import TeamCreds

SETTINGS = {{"region_name": "eu-west-1"}}

def build(token):
    keys = AwsCredentials(
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=SecretStr("{AWS_SECRET}"),
        aws_session_token="",
        profile_name="<your profile>",
        region_name=Variable.get("aws_region"),
    )
    bucket = S3Bucket(bucket_name=os.getenv("BUCKET"), credentials=AwsCredentials(profile_name="ops"))
    regional = AwsCredentials(**SETTINGS)
    unknown = AwsCredentials(**load_settings())
    db = SqlAlchemyConnector(connection_info="postgresql://app:{PASSWORD}@db/app")
    TeamCreds(token=token).save("team")
    frame = pandas.DataFrame(rows=[1])
    unsaved = TeamCreds(token=token)
    repo = GitRepository(url="https://github.com/acme/flows", credentials={{"access_token": Secret.load("gh")}})
    keys.aws_session_token = "{PASSWORD}"
'''


def test_block_builds_and_what_their_keywords_are():
    module = facts(BUILDS)
    by_cls = [(b.cls, b.known) for b in module.blocks.builds]
    assert by_cls == [("prefect_aws.AwsCredentials", True), ("prefect_aws.AwsCredentials", True),
                      ("prefect_aws.S3Bucket", True), ("prefect_aws.AwsCredentials", True),
                      ("prefect_aws.AwsCredentials", True), ("prefect_sqlalchemy.SqlAlchemyConnector", True),
                      ("acme.blocks.TeamCreds", False), ("prefect.runner.storage.GitRepository", False)]
    keys = module.blocks.builds[0].args
    kinds = {k: (a.value.kind, a.value.ref, a.value.empty, a.value.placeholder) for k, a in keys.items()}
    assert kinds == {
        "aws_access_key_id": ("env", "AWS_ACCESS_KEY_ID", False, False),
        "aws_secret_access_key": ("str", None, False, False),  # SecretStr("...") holds the literal
        "aws_session_token": ("str", None, False, False),  # `keys.aws_session_token = "..."` after "": the last
        "profile_name": ("str", None, False, True),
        "region_name": ("variable", "aws_region", False, False),
    }
    assert all(a.value.text is None for a in keys.values())
    bucket = module.blocks.builds[2]
    assert bucket.args["bucket_name"].value.kind == "env"
    assert bucket.args["credentials"].value.kind == "block_build" and bucket.args["credentials"].value.ref == "1"
    assert module.blocks.builds[3].args["region_name"].value.kind == "str" and not module.blocks.builds[3].star_kwargs
    assert module.blocks.builds[4].star_kwargs
    assert module.blocks.builds[6].args["token"].value.kind == "parameter"  # built where it is saved
    assert [(s.cls, s.build) for s in module.blocks.saves] == [("acme.blocks.TeamCreds", 6)]
    repo = module.blocks.builds[7].args["credentials"].value
    assert repo.kind == "dict" and repo.items["access_token"].kind == "block_load"
    assert all(b.pos.line for b in module.blocks.builds)
    no_secret_in(module)


def test_block_classes_of_the_file():
    module = facts('''
        from typing import ClassVar, Optional
        from pydantic import SecretStr
        from prefect.blocks.core import Block
        from prefect.types import SecretDict
        from acme.blocks import TeamBlock

        class ApiCredentials(Block):
            _block_type_name = "Acme API Credentials"
            _logo_url: ClassVar[str] = "https://example.com/logo.png"
            api_key: SecretStr
            extra: Optional[SecretDict] = None
            endpoint: str = "https://api.acme.io"

        class Scoped(ApiCredentials):
            _block_type_slug = "acme-scoped"
            scope: str

        class Team(TeamBlock):
            token: "SecretStr"

        class NotABlock:
            password: str
        ''')
    got = [(c.qualname, c.slug, c.fields, c.secret_fields, c.known, c.bases) for c in module.blocks.classes]
    assert got == [
        ("flows.etl.ApiCredentials", "acme-api-credentials", ["api_key", "extra", "endpoint"], ["api_key", "extra"],
         True, ["prefect.blocks.core.Block"]),
        ("flows.etl.Scoped", "acme-scoped", ["scope"], [], True, ["flows.etl.ApiCredentials"]),
        ("flows.etl.Team", None, ["token"], ["token"], False, ["acme.blocks.TeamBlock"]),
    ]
    assert module.blocks.classes[0].type_name == "Acme API Credentials"


def test_a_block_class_of_the_file_is_loaded_and_built_as_one():
    module = facts('''
        from pydantic import SecretStr
        from prefect.blocks.core import Block

        class ApiCredentials(Block):
            api_key: SecretStr

        ApiCredentials(api_key="x").save("acme")
        creds = ApiCredentials.load("acme")
        ''')
    assert [(b.cls, b.known) for b in module.blocks.builds] == [("flows.etl.ApiCredentials", True)]
    assert [(l.cls, l.name, l.known) for l in module.blocks.loads] == [("flows.etl.ApiCredentials", "acme", True)]
    assert module.blocks.saves[0].build == 0


# ----------------------------------------------------------------------------------------- Variables

def test_variables():
    source = f'''
        from prefect import flow, variables
        from prefect.variables import Variable

        @flow
        async def configure():
            host = Variable.get("db_host", default="localhost")
            Variable.set("db_password", "{PASSWORD}", overwrite=True)
            await Variable.aset(name="api_token", value=host)
            token = await Variable.aget("api_token")
            Variable.unset("old")
            legacy = variables.get("legacy_name")
        '''
    module = facts(source)
    got = [(v.op, v.method, v.name, v.overwrite, v.awaited, v.in_async) for v in module.blocks.variables]
    assert got == [("get", "get", "db_host", False, False, True), ("set", "set", "db_password", True, False, True),
                   ("set", "aset", "api_token", False, True, True), ("get", "aget", "api_token", False, True, True),
                   ("unset", "unset", "old", False, False, True), ("get", "function", "legacy_name", False, False, True)]
    first, second, third = module.blocks.variables[:3]
    assert first.default.value.kind == "str" and first.default.value.text is None
    assert second.value.value.kind == "str" and not second.value.value.placeholder
    assert third.value.value.kind == "variable" and third.value.value.ref == "db_host"
    line, column = where(source, f'"{PASSWORD}"')
    assert (second.value.pos.line, second.value.pos.column) == (line, column)
    assert any(p.line == line and p.column == column for p in module.sensitive)
    no_secret_in(module)


# ----------------------------------------------------------------------------------------- flows

FLOWS = f'''
from typing import Optional
from pydantic import SecretStr
from prefect import flow, task
from prefect_aws import AwsCredentials
from acme.alerts import page_oncall
from acme.helpers import get_creds, load_named

@task(name="fetch rows", on_completion=[page_oncall])
def fetch(table):
    return table

def local_named(block_name):
    return AwsCredentials.load(block_name)

@flow(name="nightly etl", on_crashed=page_oncall)
def etl(
    api_token: str = "{TOKEN}",
    db_password: Optional[SecretStr] = None,
    region: str = "eu-west-1",
    creds: AwsCredentials = AwsCredentials.load("etl-default"),
    *args,
    **kwargs,
):
    fetch("orders")
    fetch.submit("items")
    fetch.map(["a", "b"])
    fetch.with_options(retries=2)("users")
    get_creds(block_name="prod-aws")
    load_named("positional-name")
    local_named("in-file-helper")

@etl.on_failure
def cleanup(flow, flow_run, state):
    AwsCredentials.load("cleanup")
'''


def test_flows_parameters_hooks_and_calls():
    module = facts(FLOWS)
    functions = module.blocks.functions
    etl = functions["flows.etl.etl"]
    assert (etl.kind, etl.name) == ("flow", "nightly etl")
    assert etl.hooks == {"on_crashed": ["acme.alerts.page_oncall"], "on_failure": ["flows.etl.cleanup"]}
    assert functions["flows.etl.fetch"].hooks == {"on_completion": ["acme.alerts.page_oncall"]}
    assert (functions["flows.etl.fetch"].kind, functions["flows.etl.fetch"].name) == ("task", "fetch rows")
    assert functions["flows.etl.cleanup"].kind == "hook"
    assert module.blocks.loads[-1].where == "hook"
    params = [(p.name, p.credential, p.annotation, p.default.value.kind if p.default else None) for p in etl.parameters]
    assert params == [("api_token", True, "str", "str"), ("db_password", True, "pydantic.SecretStr", "none"),
                      ("region", False, "str", "str"), ("creds", True, "prefect_aws.AwsCredentials", "block_load")]
    token = etl.parameters[0]
    assert token.default.value.shaped and token.default.value.text is None
    assert (token.pos.line, token.pos.column) == where(FLOWS, "api_token")
    line, column = where(FLOWS, f'"{TOKEN}"')
    assert (token.default.pos.line, token.default.pos.column) == (line, column)
    assert any(p.line == line and p.column == column for p in module.sensitive)
    sites = [(c.target, c.via) for c in module.blocks.calls]
    assert sites == [("flows.etl.fetch", ""), ("flows.etl.fetch", "submit"), ("flows.etl.fetch", "map"),
                     ("flows.etl.fetch", ""), ("acme.helpers.get_creds", ""), ("acme.helpers.load_named", ""),
                     ("flows.etl.local_named", "")]
    assert all(c.owner == "flows.etl.etl" and c.where == "flow" for c in module.blocks.calls)
    by_target = {c.target: c for c in module.blocks.calls}
    # A name-like keyword keeps its text; a positional argument to another module's helper does
    # not (it could be anything); one given to this file's helper that loads by it does.
    assert by_target["acme.helpers.get_creds"].args["block_name"].value.text == "prod-aws"
    assert by_target["acme.helpers.load_named"].positional[0].value.text is None
    assert by_target["flows.etl.local_named"].positional[0].value.text == "in-file-helper"
    assert module.blocks.loads[0].name_param == "block_name"
    assert functions["flows.etl.local_named"].returns[0].kind == "block_load"
    no_secret_in(module)


def test_flow_and_task_made_by_calling_the_decorator():
    module = facts('''
        from prefect import flow, task, Flow

        def extract():
            pass

        def load():
            pass

        extract_task = task(extract)
        load_flow = flow(name="loader")(load)
        ''')
    kinds = {q: (f.kind, f.name) for q, f in module.blocks.functions.items()}
    assert kinds == {"flows.etl.extract": ("task", None), "flows.etl.load": ("flow", "loader")}


# ----------------------------------------------------------------------------------------- deployments

DEPLOY = f'''
import os
from prefect import flow, deploy, serve
from prefect.blocks.system import Secret
from prefect.deployments import Deployment
from prefect.variables import Variable
from flows.etl import etl

@flow
def report():
    pass

if __name__ == "__main__":
    etl.deploy(
        name="etl-prod",
        work_pool_name="ecs-prod",
        image="acme/etl:latest",
        job_variables={{"env": {{
            "DB_PASSWORD": Secret.load("db-password").get(),
            "API_TOKEN": os.environ["API_TOKEN"],
            "HOST": Variable.get("db_host"),
            "LITERAL": "{PASSWORD}",
        }}}},
        parameters={{"api_token": Secret.load("api").get()}},
    )
    flow.from_source(source="https://github.com/acme/flows", entrypoint="flows/etl.py:etl").deploy(
        name="from-git", work_pool_name="k8s")
    nightly = report.to_deployment(name="nightly", parameters={{"day": "mon"}})
    hourly = etl.to_deployment(name="hourly")
    serve(nightly, hourly)
    deploy(nightly, work_pool_name="docker")
    report.serve(name="local")
    Deployment.build_from_flow(flow=report, name="old-style", infra_overrides={{"env": {{"X": os.getenv("X")}}}})
'''


def test_deployments():
    module = facts(DEPLOY)
    got = [(d.method, d.flow, d.name, d.work_pool, d.entrypoint, d.deployments, d.var, d.where)
           for d in module.blocks.deployments]
    assert got == [
        ("deploy", "flows.etl.etl", "etl-prod", "ecs-prod", None, [], None, "main"),
        ("deploy", None, "from-git", "k8s", "flows/etl.py:etl", [], None, "main"),
        ("to_deployment", "flows.etl.report", "nightly", None, None, [], "nightly", "main"),
        ("to_deployment", "flows.etl.etl", "hourly", None, None, [], "hourly", "main"),
        ("serve", None, None, None, None, [2, 3], None, "main"),
        ("deploy", None, None, "docker", None, [2], None, "main"),
        ("serve", "flows.etl.report", "local", None, None, [], None, "main"),
        ("build_from_flow", "flows.etl.report", "old-style", None, None, [], None, "main"),
    ]
    first = module.blocks.deployments[0]
    env = first.job_variables.value.items["env"].items
    assert {k: (v.kind, v.ref) for k, v in env.items()} == {
        "DB_PASSWORD": ("block_value", "0"), "API_TOKEN": ("env", "API_TOKEN"), "HOST": ("variable", "db_host"),
        "LITERAL": ("str", None)}
    assert module.blocks.loads[0].name == "db-password" and module.blocks.loads[0].get
    assert list(first.env.value.items) == ["DB_PASSWORD", "API_TOKEN", "HOST", "LITERAL"]
    assert [(p.line, p.column) for p in first.env.keys] == [where(DEPLOY, f'"{k}"') for k in first.env.value.items]
    assert (first.env.parts[0].line, first.env.parts[0].column) == where(DEPLOY, 'Secret.load("db-password")')
    assert first.parameters.value.items["api_token"].kind == "block_value"
    assert first.args["image"].value.kind == "str"
    assert module.blocks.deployments[1].source.value.kind == "str"
    old = module.blocks.deployments[-1].job_variables.value.items["env"].items["X"]
    assert (old.kind, old.ref) == ("env", "X")
    line, column = where(DEPLOY, f'"{PASSWORD}"')
    assert any(p.line == line and p.column == column for p in module.sensitive)
    no_secret_in(module)


# ----------------------------------------------------------------------------------------- modules

def test_a_helper_module_and_the_flow_that_imports_it():
    helpers = facts('''
        from prefect_aws import AwsCredentials, S3Bucket

        DEFAULT = AwsCredentials.load("shared")

        def bucket(name):
            return S3Bucket(bucket_name=name, credentials=AwsCredentials.load("prod"))
        ''', path="acme/helpers.py")
    assert helpers.blocks.loads[0].var == "DEFAULT"
    assert helpers.blocks.functions["acme.helpers.bucket"].returns[0].kind == "block_build"
    flow = facts('''
        from prefect import flow
        from acme import helpers
        from acme.helpers import DEFAULT

        @flow
        def etl():
            helpers.bucket("raw")
            return DEFAULT
        ''')
    assert [c.target for c in flow.blocks.calls] == ["acme.helpers.bucket"]
    assert flow.blocks.functions["flows.etl.etl"].returns[0].kind == "import"
    assert flow.blocks.functions["flows.etl.etl"].returns[0].ref == "acme.helpers.DEFAULT"


# ----------------------------------------------------------------------------------------- storage

def test_facts_round_trip_and_1x_files_have_none():
    for source in (LOADS, WHERE, ASYNC, SAVES, BUILDS, FLOWS, DEPLOY):
        module = facts(source)
        data = to_data(module)
        assert to_data(from_data(data)) == data
        assert from_data(data).blocks == module.blocks
    one = facts('''
        from prefect import Flow
        from prefect.tasks.secrets import PrefectSecret

        with Flow("x") as flow:
            PrefectSecret("TOKEN")
        ''')
    assert (one.model, one.blocks) == ("1", None)
    assert "blocks" not in to_data(one)
    assert facts("import os\n").model == ""


def test_forced_2_reads_a_file_without_prefect_imports_as_2x():
    module = facts("from acme.blocks import Creds\nCreds.load('x')\n", prefect="3")
    assert module.model == "2" and module.blocks.loads[0].name == "x"


def test_the_cache_keeps_the_facts_and_no_secret(project):
    project({"flows/etl.py": FLOWS, "flows/deploy.py": DEPLOY, "flows/builds.py": BUILDS})
    first = check_json(".", cwd=project.root)
    second = check_json(".", cwd=project.root)
    assert first["findings"] == second["findings"]
    from credlint.config import Config
    from credlint.store.cache import FactsCache, facts_namespace

    cache_dir = project.root / ".credlint_cache"
    cache = FactsCache.open(cache_dir, facts_namespace(Config()))
    cached = cache.cached("flows/etl.py")
    assert cached is not None and cached.module.model == "2"
    assert cached.module.blocks == facts(FLOWS).blocks
    for path in cache_dir.rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", "replace")
            assert [s for s in PLANTED if s in text] == [], path
    code, out, err = run_cli("check", ".", "--format", "json", cwd=project.root)
    assert [s for s in PLANTED if s in out + err] == []


def test_many_flows_in_one_module_keep_their_own_facts():
    body = "\n".join(textwrap.dedent(FLOWS).replace("def etl(", f"def etl{i}(").replace("def cleanup(", f"def cleanup{i}(")
                     .replace("@etl.on_failure", f"@etl{i}.on_failure") for i in range(40))
    module = extract(body.encode(), "big.py", load_catalogue())
    assert module.error is None and len(module.blocks.flows()) == 40
    assert all(f.hooks["on_failure"] == [f"big.cleanup{i}"] for i, f in enumerate(module.blocks.flows()))


@pytest.mark.parametrize("setting", ["auto", "3"])
def test_unparsable_and_odd_code_never_crashes_the_pass(setting):
    odd = '''
        from prefect import flow
        from prefect_aws import AwsCredentials

        AwsCredentials.load()
        AwsCredentials.load(*names)
        AwsCredentials.load(**options)
        AwsCredentials().save()
        x = AwsCredentials
        x.load(123)
        (lambda: AwsCredentials.load("l"))()
        [AwsCredentials.load(n) for n in ("a", "b")]
        flow()
        flow(name="x")
        flow.from_source().deploy()
        match command:
            case "go":
                AwsCredentials.load("matched")
        async def gen():
            async with client() as c:
                async for row in c.rows():
                    yield await AwsCredentials.aload(row)
        '''
    module = facts(odd, prefect=setting)
    assert module.error is None
    assert "matched" in [l.name for l in module.blocks.loads]
