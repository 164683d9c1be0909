"""Which Prefect a Python file is read under (issue 18, scope 1): per file from its imports, the
configuration's `prefect = "auto" | "1" | "2" | "3"` over it, 2.x/3.x files never getting a 1.x
finding while a 1.x file beside them keeps its own, and the import tables of
`credlint.prefect.symbols2` checked against the real packages (prefect 1.4.1, 2.20.27, 3.9.1:
their wheels, downloaded once into ~/.cache/credlint-tests/wheels)."""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path
from typing import Dict, Set

import libcst as cst
import pytest

from conftest import check_json, codes_of, run_cli
from credlint.facts.python.prefect2_model import model_of
from credlint.prefect import symbols2

# ----------------------------------------------------------------------------------------- per file

CASES = {
    # 2.x / 3.x
    "from prefect import flow": "2",
    "from prefect import flow, task, Flow": "2",  # Flow beside flow: a 2.x type hint
    "from prefect import get_run_logger": "2",
    "from prefect.blocks.system import Secret": "2",
    "import prefect.blocks.notifications": "2",
    "from prefect.variables import Variable": "2",
    "from prefect import variables": "2",
    "from prefect.deployments import Deployment": "2",
    "from prefect_aws import AwsCredentials": "2",
    "import prefect_gcp.credentials as gcp": "2",
    "from prefect.tasks import task_input_hash": "2",
    "from prefect.client.orchestration import get_client": "2",
    "from prefect.client import orchestration": "2",
    "from prefect.utilities.asyncutils import sync_compatible": "2",
    "from prefect.runtime import flow_run": "2",
    "from prefect.context import get_run_context": "2",
    "import prefect\n\n@prefect.flow\ndef f():\n    pass": "2",
    "import prefect as pf\n\n@pf.flow(name='x')\ndef f():\n    pass": "2",
    "def main():\n    from prefect_aws import AwsCredentials\n    AwsCredentials().save('x')": "2",
    "try:\n    from prefect import flow\nexcept ImportError:\n    flow = None": "2",
    "if True:\n    from prefect.blocks.core import Block": "2",
    # 1.x
    "from prefect import Flow": "1",
    "from prefect import Flow, task, Parameter": "1",
    "from prefect import Parameter": "1",
    "from prefect.tasks.secrets import PrefectSecret": "1",
    "from prefect.tasks import secrets": "",  # a name under a package 2.x made a module: not evidence
    "from prefect.storage import S3": "1",
    "from prefect.run_configs import ECSRun": "1",
    "from prefect.client import Secret": "1",
    "from prefect.client.secrets import Secret": "1",
    "import prefect.engine.signals": "1",
    "from prefect.engine import signals": "1",
    "from prefect.utilities.edges import unmapped": "1",
    "from prefect.utilities import edges": "1",
    "from prefect.executors import LocalDaskExecutor": "1",
    "from prefect.agent.local import LocalAgent": "1",
    "from prefect_saturn import PrefectCloudIntegration\nfrom prefect import Flow": "1",
    # both: read as 1.x, as such files always were
    "from prefect import flow\nfrom prefect.tasks.secrets import PrefectSecret": "1",
    "from prefect.blocks.system import Secret\nfrom prefect.storage import GitHub": "1",
    # neither
    "import os": "",
    "import prefect": "",
    "from prefect import task": "",
    "from prefect import task, tags, unmapped, context": "",
    "from prefect.tasks import Task": "",
    "from . import flows": "",
    "from .blocks import AwsCredentials": "",
    "x = 'from prefect import flow'": "",
}


@pytest.mark.parametrize("source,expected", CASES.items(), ids=list(CASES))
def test_model_of_a_file_from_its_imports(source, expected):
    assert model_of(cst.parse_module(source + "\n")) == expected


@pytest.mark.parametrize("setting,expected", [("1", "1"), ("2", "2"), ("3", "2"), ("auto", "2")])
def test_the_setting_overrides_the_imports(setting, expected):
    assert model_of(cst.parse_module("from prefect import flow\n"), setting) == expected
    if setting != "auto":
        assert model_of(cst.parse_module("from prefect import Flow\n"), setting) == expected


# ----------------------------------------------------------------------------------------- the gate

AWS_KEY = "AKIA" + "Q3EGKVPRB4ZX7NT2"  # written whole into the project: CL204 must see it
# A 3.x flow that would give 1.x findings if it were read as 1.x code: a literal to a client
# constructor in a task (CL201), a credential-named keyword of any call (CL201), a flow parameter
# with a credential default, a block loaded at module level, a literal in a block's secret field.
FLOW3 = f'''
from prefect import flow, task, Flow
from prefect.blocks.system import Secret
from prefect_aws import AwsCredentials
import psycopg2
import hvac

TOKEN = Secret.load("api-token").get()

@task
def query():
    return psycopg2.connect(host="db", password="Zq8uPw7731" "xKmNv")

@task
def vault():
    return hvac.Client(url="https://vault", token="Hn4vWq8Ys2" "Ld6Kp0T07QX")

@flow
def sync(password: str = "Zq8uPw7731" "xKmNq"):
    creds = AwsCredentials(aws_access_key_id="{AWS_KEY}", aws_secret_access_key="wJalr" "XUtnFEMIK7MDENGbPxRf")
    query()
    vault()
'''
FLOW1 = '''
from prefect import Flow
from prefect.tasks.snowflake import SnowflakeQuery

query = SnowflakeQuery(account="acme", user="loader", password="Tr0ub4dor-" "and-3")

with Flow("load") as flow:
    query(query="select 1")
'''
ONE_X_CODES = {"CL101", "CL102", "CL103", "CL201", "CL202", "CL301", "CL302", "CL303"}


def _secrets_in(text: str):
    return [s for s in (AWS_KEY, "Zq8uPw7731xKmNv", "Hn4vWq8Ys2Ld6Kp0T07QX", "Zq8uPw7731xKmNq", "wJalrXUtnFEMIK7MDENGbPxRf",
                        "Tr0ub4dor-and-3") if s in text]


def test_a_3x_file_gets_no_1x_finding_and_a_1x_file_beside_it_keeps_its_own(project):
    project({"flows/sync.py": FLOW3, "flows/load.py": FLOW1})
    doc = check_json(".", cwd=project.root)
    by_path: Dict[str, Set[str]] = {}
    for finding in doc["findings"]:
        by_path.setdefault(finding["path"], set()).add(finding["code"])
    # The 3.x file gets the codes' 2.x/3.x meaning only (DESIGN 9: codes keep their meaning across
    # models): the module-level Secret read (CL301), the flow's password parameter (CL302), the
    # AwsCredentials built with its secret (CL201); never 1.x's "any call" CL201 on psycopg2 or hvac.
    sync_lines = {(f["code"], f["line"]) for f in doc["findings"] if f["path"] == "flows/sync.py"}
    source = FLOW3.lstrip("\n").splitlines()
    line = lambda text: next(n for n, s in enumerate(source, 1) if text in s)  # noqa: E731
    assert {c for c, _ in sync_lines} & ONE_X_CODES == {"CL201", "CL301", "CL302"}, by_path
    assert {n for c, n in sync_lines if c == "CL201"} == {line("AwsCredentials(aws_access_key_id")}, sync_lines
    assert {n for c, n in sync_lines if c == "CL301"} == {line("TOKEN = Secret.load")}, sync_lines
    assert "CL201" in by_path.get("flows/load.py", set()), by_path
    # File-level rules still read every file: the AWS key's format in the 3.x file.
    assert "CL204" in by_path.get("flows/sync.py", set()), by_path
    assert _secrets_in(json.dumps(doc)) == []


def test_read_as_1x_the_same_file_would_get_1x_findings(project):
    """What the gate removes: with `prefect = "1"` the 3.x file is read by the 1.x pass."""
    project({"flows/sync.py": FLOW3}, config='prefect = "1"\n')
    doc = check_json(".", cwd=project.root)
    assert "CL201" in {f["code"] for f in doc["findings"] if f["path"] == "flows/sync.py"}
    assert _secrets_in(json.dumps(doc)) == []


def test_prefect_2_or_3_reads_a_1x_looking_file_as_2x(project):
    project({"flows/load.py": FLOW1}, config='prefect = "3"\n')
    doc = check_json(".", cwd=project.root)
    assert not set(codes_of(doc)) & ONE_X_CODES
    project({}, config='prefect = "auto"\n')
    assert "CL201" in codes_of(check_json(".", cwd=project.root))


def test_the_setting_applies_to_an_editor_buffer_on_stdin(project):
    project({"flows/load.py": "x = 1\n"}, config='prefect = "3"\n')
    for setting, expected in (("3", False), ("auto", True)):
        project({}, config=f'prefect = "{setting}"\n')
        proc = subprocess.run([sys.executable, "-m", "credlint", "check", "--stdin-filename", "flows/load.py",
                               "--format", "json"], input=FLOW1, cwd=project.root, capture_output=True, text=True,
                              timeout=120, env={**os.environ, "NO_COLOR": "1"})
        assert proc.returncode in (0, 1), proc.stderr
        assert ("CL201" in codes_of(json.loads(proc.stdout))) is expected, setting


def test_a_module_read_because_a_flow_imports_it_is_read_under_the_setting(project):
    """`helpers.py` never names Prefect (the byte prefilter skips it) but a flow imports it."""
    from credlint.config import Config
    from credlint.store.cache import FactsCache, facts_namespace

    project({"flows/etl.py": "from prefect import flow\nfrom acme.helpers import creds\n",
             "acme/helpers.py": "from acme.blocks import Creds\n\ndef creds():\n    return Creds.load('team')\n"},
            config='prefect = "3"\n')
    check_json(".", cwd=project.root)
    config = Config(path="credlint.toml", prefect="3")
    cached = FactsCache.open(project.root / ".credlint_cache", facts_namespace(config)).cached("acme/helpers.py")
    assert cached is not None and cached.module.model == "2"
    assert [load.name for load in cached.module.blocks.loads] == ["team"]


def test_file_level_rules_keep_reading_2x_files(project):
    project({
        "flows/sync.py": '''
            from prefect import flow

            @flow
            def sync():
                x = 1  # credlint: ignore[CL201]
            ''',
        "flows/broken.py": "from prefect import flow\n\n@flow\ndef sync(:\n    pass\n",
    })
    doc = check_json(".", cwd=project.root)
    codes = {(f["path"], f["code"]) for f in doc["findings"]}
    assert ("flows/sync.py", "CL001") in codes
    assert ("flows/broken.py", "CL000") in codes


@pytest.mark.parametrize("written,shown", [('prefect = 3', "3"), ('prefect = "4"', "'4'"), ('prefect = "v2"', "'v2'")])
def test_an_unknown_prefect_setting_is_a_configuration_error(project, written, shown):
    project({"flow.py": "from prefect import flow\n"}, config=f'backend = "cloud"\n{written}\n')
    code, out, err = run_cli("check", ".", cwd=project.root)
    assert code == 2
    assert "credlint.toml:2: prefect:" in err, err
    assert '"auto", "1", "2", "3"' in err and shown in err


def test_the_setting_in_pyproject(project):
    project({"pyproject.toml": '[tool.credlint]\nprefect = "2"\n', "flows/load.py": FLOW1})
    doc = check_json(".", cwd=project.root)
    assert not set(codes_of(doc)) & ONE_X_CODES


def test_changing_the_setting_is_not_answered_from_the_cache(project):
    project({"flows/load.py": FLOW1})
    assert "CL201" in codes_of(check_json(".", cwd=project.root))
    project({}, config='prefect = "3"\n')
    assert "CL201" not in codes_of(check_json(".", cwd=project.root))
    project({}, config='prefect = "auto"\n')
    assert "CL201" in codes_of(check_json(".", cwd=project.root))


# ----------------------------------------------------------------------------------------- proof

WHEELS = {"1": "prefect==1.4.1", "2": "prefect==2.20.27", "3": "prefect==3.9.1"}
# Modules of the tables that the 1.4.1 wheel does not have, and why they are there anyway.
NOT_IN_141 = {"prefect.environments": "Prefect 0.x (removed in 1.0): old 1.x-family code still imports it"}


def _wheel(spec: str) -> Path:
    folder = Path(os.environ.get("CREDLINT_WHEELS") or Path.home() / ".cache" / "credlint-tests" / "wheels")
    name, version = spec.split("==")
    found = sorted(folder.glob(f"{name}-{version}-*.whl"))
    if found:
        return found[0]
    folder.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
                           "-q", "--dest", str(folder), spec], capture_output=True, text=True, timeout=600)
    found = sorted(folder.glob(f"{name}-{version}-*.whl"))
    if proc.returncode != 0 or not found:
        pytest.fail(f"pip download {spec} failed (it needs PyPI):\n{proc.stderr[-2000:]}", pytrace=False)
    return found[0]


class Package:
    """A Prefect wheel's module tree and what each module exports, read without installing it."""

    def __init__(self, wheel: Path):
        self.zip = zipfile.ZipFile(wheel)
        self.files = {n for n in self.zip.namelist() if n.startswith("prefect/") and n.endswith(".py")}
        self.modules = {n[:-3].replace("/", ".").replace(".__init__", "") for n in self.files}

    def has(self, module: str) -> bool:
        return module in self.modules

    def is_package(self, module: str) -> bool:
        return module.replace(".", "/") + "/__init__.py" in self.files

    def exports(self, module: str) -> Set[str]:
        path = module.replace(".", "/")
        source = f"{path}/__init__.py" if f"{path}/__init__.py" in self.files else f"{path}.py"
        if source not in self.files:
            return set()
        out = {m.rsplit(".", 1)[-1] for m in self.modules if m.rsplit(".", 1)[0] == module and m != module}
        self._names(ast.parse(self.zip.read(source)).body, out)
        return out

    def _names(self, body, out: Set[str]) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                out.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                out.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                out.update(t.id for t in targets if isinstance(t, ast.Name))
                if isinstance(node.value, ast.Dict) and any(isinstance(t, ast.Name) and t.id == "_public_api"
                                                            for t in targets):
                    out.update(k.value for k in node.value.keys if isinstance(k, ast.Constant))
            elif isinstance(node, (ast.If, ast.Try)):
                self._names(node.body, out)
                self._names(getattr(node, "orelse", []), out)


@pytest.fixture(scope="module")
def packages() -> Dict[str, Package]:
    return {major: Package(_wheel(spec)) for major, spec in WHEELS.items()}


def test_1x_only_modules_are_only_in_1x(packages):
    one, later = packages["1"], (packages["2"], packages["3"])
    wrong = []
    for module in sorted(symbols2.PREFECT1_PACKAGES | symbols2.PREFECT1_MODULES):
        if module in NOT_IN_141:
            continue
        if not one.has(module) or any(p.has(module) for p in later):
            wrong.append(module)
    for module in sorted(symbols2.PREFECT1_SUBMODULES_OF):
        if not one.is_package(module) or any(p.is_package(module) for p in later):
            wrong.append(module + " (a package in 1.x, one module in 2.x and 3.x)")
    assert wrong == []


def test_2x_only_modules_are_never_in_1x(packages):
    wrong = [m for m in sorted(symbols2.PREFECT2_PACKAGES)
             if packages["1"].has(m) or not (packages["2"].has(m) or packages["3"].has(m))]
    assert wrong == []


def test_names_belong_to_the_prefect_the_tables_say(packages):
    wrong = []
    for table, owner in ((symbols2.PREFECT1_NAMES, "1"), (symbols2.PREFECT2_NAMES, "2")):
        for module, names in sorted(table.items()):
            exported = {major: packages[major].exports(module) for major in packages}
            mine = exported["1"] if owner == "1" else exported["2"] | exported["3"]
            other = exported["2"] | exported["3"] if owner == "1" else exported["1"]
            wrong += [f"{module}.{n}: {owner}.x-only?" for n in sorted(names) if n not in mine or n in other]
    for table in (symbols2.SHARED_NAMES, symbols2.PREFECT1_WEAK_NAMES):
        for module, names in table.items():
            exported = {major: packages[major].exports(module) for major in packages}
            wrong += [f"{module}.{n}: in both?" for n in sorted(names)
                      if n not in exported["1"] or n not in exported["2"] | exported["3"]]
    assert wrong == []


def test_every_module_of_2x_and_3x_that_1x_lacks_is_2x_evidence(packages):
    """A module a 2.x/3.x project may import is never read as 1.x evidence, and each one 1.x
    lacks is 2.x evidence (private ones aside)."""
    one = packages["1"]
    wrong = []
    for major in ("2", "3"):
        for module in sorted(packages[major].modules):
            if any(part.startswith("_") for part in module.split(".")) or module.startswith("prefect.cli"):
                continue
            found = symbols2.module_model(module)
            if found == "1" or (not one.has(module) and found != "2"):
                wrong.append(f"{module} ({major}.x): {found!r}")
    assert wrong == []


def test_every_1x_module_is_1x_evidence_or_shared(packages):
    later = packages["2"].modules | packages["3"].modules
    wrong = [m for m in sorted(packages["1"].modules)
             if not m.startswith("prefect.cli") and not any(part.startswith("_") for part in m.split("."))
             and m not in later and symbols2.module_model(m) != "1"]
    assert wrong == []


# What the pass recognises by qualified name, checked in the real 3.9.1 (imported in the venv of
# tests/prefect3_venv.py), else in the 2.20.27 wheel (2.x-only names).
RECOGNISED = sorted(
    symbols2.FLOW_DECORATOR | symbols2.TASK_DECORATOR | symbols2.FLOW_CLASS | symbols2.TASK_CLASS
    | symbols2.BLOCK_BASE | symbols2.SECRET_BLOCK | symbols2.SECRET_WRAPPERS | symbols2.VARIABLE_CLASS
    | symbols2.DEPLOYMENT_CLASS | symbols2.RUNNER_STORAGE | set(symbols2.DEPLOY_FUNCTIONS)
    | set(symbols2.VARIABLE_FUNCTIONS))
PROBE = textwrap.dedent("""
    import importlib, json, sys
    from prefect.utilities.slugify import slugify
    out = {"missing": [], "slugs": {}}
    for qual in json.loads(sys.argv[1]):
        module, _, name = qual.rpartition(".")
        try:
            getattr(importlib.import_module(module), name)
        except Exception:
            out["missing"].append(qual)
    for text in json.loads(sys.argv[2]):
        out["slugs"][text] = slugify(text)
    from prefect_aws import AwsCredentials, S3Bucket
    from prefect.blocks.system import Secret
    from prefect.blocks.notifications import SlackWebhook
    from prefect.blocks.core import Block
    class Custom(Block):
        pass
    out["classes"] = {c.__name__: [c._block_type_slug, c._block_type_name, c.get_block_type_slug()]
                      for c in (AwsCredentials, S3Bucket, Secret, SlackWebhook, Custom)}
    print(json.dumps(out))
""")
SLUG_SAMPLES = ["AWS Credentials", "AwsCredentials", "S3 Bucket", "Slack Webhook", "Microsoft Teams Webhook",
                "ms-teams-webhook", "Date Time", "Custom Webhook", "GCP  Credentials", "it's ok", "1,000 rows",
                "Azure ML Credentials", "dbt Cloud Credentials", "  --Strip--me--  ", "Ünïcode Blöck", "a_b.c"]


@pytest.fixture(scope="module")
def probed() -> dict:
    from prefect3_venv import prefect3_python

    python = prefect3_python()
    proc = subprocess.run([str(python), "-c", PROBE, json.dumps(RECOGNISED), json.dumps(SLUG_SAMPLES)],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PREFECT_HOME": str(Path.home() / ".cache" / "credlint-tests" / "ph")})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_recognised_names_exist_in_prefect(probed, packages):
    two = packages["2"]
    missing = []
    for qual in probed["missing"]:
        module, _, name = qual.rpartition(".")
        if qual.startswith("pydantic.v1."):
            continue  # pydantic's v1 compatibility names (pydantic 2 has them; 2.x code used them)
        if not (two.has(module) and name in two.exports(module)):
            missing.append(qual)
    assert missing == []


def test_block_slug_is_prefects(probed):
    assert {text: symbols2.block_slug(text) for text in SLUG_SAMPLES} == probed["slugs"]
    for name, (own_slug, type_name, slug) in probed["classes"].items():
        assert symbols2.block_slug(own_slug or type_name or name) == slug, name
