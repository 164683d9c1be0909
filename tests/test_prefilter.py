"""The byte prefilter and the import closure that completes it.

Every `check_json` and `api_check` call of the suite is also compared with a run without the
prefilter (see conftest); these tests pin the cases the filter alone would get wrong.
"""
from __future__ import annotations

import pytest

from conftest import check_json, codes_of
from credlint.facts.python.prefilter import relevant


@pytest.mark.parametrize("source", [
    b"from prefect import Flow\n",
    b"import Prefect\n",
    b'os.environ["PREFECT__CONTEXT__SECRETS__X"] = v\n',
    b"x = 1  # credlint: ignore[CL201]\n",
    b"x = 1  # noqa: E501, CL201\n",
    b"flow.storage = STORAGE\n",
    b"f.run_config=cfg\n",
    b"class Nightly(OwnedFlow):\n    pass\n",  # a project's Flow subclass
    b"from acme.flows import Flow\n",
    b"with Flow('x') as flow: pass\n",
])
def test_files_that_can_matter_are_parsed(source):
    assert relevant(source)


@pytest.mark.parametrize("source", [
    b"import os\n\ndef double(x):\n    return 2 * x\n",
    b"x = 1  # noqa: E501\n",
    b'DB_PASSWORD = "x"\n',  # read only if a parsed module imports it
    b"def f(api_key=None, token=None): pass\n",
    b"self.storage = []\n",
    b"if flow.storage == other: pass\n",
    b"class NonLocalFlowControlTestCase(unittest.TestCase): pass\n",  # a name that goes on after Flow
    b"def testOverFlowRecv(self): pass\n",
    b"",
])
def test_files_that_cannot_matter_are_not(source):
    assert not relevant(source)


def test_a_constant_in_a_module_without_credential_words_is_read_through_the_import(project):
    project.write({
        "settings.py": 'WAREHOUSE_PW = "Hq7-Lm2k-Zx9w-Pp4r"\n',
        "flows/load.py": '''
            from prefect import Flow
            from prefect.tasks.snowflake import SnowflakeQuery
            from settings import WAREHOUSE_PW

            with Flow("load") as flow:
                SnowflakeQuery(account="acme", user="loader", password=WAREHOUSE_PW, query="select 1")()
        ''',
    })
    assert not relevant(project.path("settings.py").read_bytes())
    assert "CL201" in codes_of(check_json("flows/load.py", cwd=project.root))


def test_a_registration_script_that_never_names_prefect_is_read(project):
    project.write({
        "flows/notify.py": '''
            from prefect import Flow
            from prefect.tasks.notifications.slack_task import SlackTask

            with Flow("notify") as flow:
                SlackTask()(message="done")
        ''',
        "infra.py": '''
            from prefect.storage import S3
            STORE = S3(bucket="flows", secrets=["SLACK_WEBHOOK_URL"])
        ''',
        "register.py": '''
            from flows.notify import flow
            from infra import STORE

            flow.storage = STORE
        ''',
    })
    doc = check_json(".", cwd=project.root)
    assert "CL101" not in codes_of(doc)
    project.path("register.py").unlink()
    assert "CL101" in codes_of(check_json(".", cwd=project.root))


def test_syntax_errors_are_reported_where_credlint_has_to_read(project):
    project.write({
        "unrelated.py": "def broken(:\n",
        "flows/bad.py": "from prefect import Flow\ndef broken(:\n",
        "helpers.py": "def also_broken(:\n",
        "flows/uses.py": "from prefect import Flow\nfrom helpers import also_broken\n",
    })
    found = check_json(".", cwd=project.root)["findings"]
    assert sorted(f["path"] for f in found if f["code"] == "CL000") == ["flows/bad.py", "helpers.py"]


def test_token_formats_are_found_in_files_that_are_never_parsed(project):
    project.write({"notes.py": '"""Ops notes."""\nHOOK = "https://hooks.slack.com/services/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"\n'})
    assert not relevant(project.path("notes.py").read_bytes())
    assert "CL204" in codes_of(check_json(".", cwd=project.root))


TWENTY_MODULES = {f"lib/mod{i}.py": f"def f{i}(x):\n    return x + {i}\n" for i in range(20)}


def _with_and_without_the_prefilter(project, monkeypatch, files):
    """The project checked with the prefilter and without it: the same findings, both runs."""
    from credlint.api import Options, check

    project.write(files)
    monkeypatch.chdir(project.root)
    filtered = check(Options(paths=["."], cache=False))
    unfiltered = check(Options(paths=["."], cache=False, prefilter=False))
    assert [f.to_json() for f in filtered.report.findings] == [f.to_json() for f in unfiltered.report.findings]
    return filtered, unfiltered


def test_a_run_without_the_prefilter_parses_more_and_finds_the_same(project, monkeypatch):
    files = dict(TWENTY_MODULES)
    files["flows/a.py"] = '''
        from prefect import Flow
        from prefect.tasks.notifications.slack_task import SlackTask
        from lib.mod1 import f1

        with Flow("a") as flow:
            SlackTask()(message="x")
    '''
    filtered, unfiltered = _with_and_without_the_prefilter(project, monkeypatch, files)
    assert filtered.stats["modules"] == 2  # the flow and lib/mod1.py, which it imports
    assert unfiltered.stats["modules"] == 21
    assert codes_of(filtered.report.findings) == ["CL101"]


def test_imports_are_followed_in_a_src_layout_and_through_packages(project):
    project({
        "src/acme/__init__.py": "from .conf.values import WAREHOUSE_PW\n",
        "src/acme/conf/__init__.py": "",
        "src/acme/conf/values.py": 'WAREHOUSE_PW = "Hq7-Lm2k-Zx9w-Pp4r"\n',
        "src/acme/flows/load.py": '''
            from prefect import Flow
            from prefect.tasks.snowflake import SnowflakeQuery
            from acme import WAREHOUSE_PW

            with Flow("load") as flow:
                SnowflakeQuery(account="acme", user="loader", password=WAREHOUSE_PW, query="select 1")()
        ''',
    })
    doc = check_json("src/acme/flows/load.py", cwd=project.root)
    assert [(f["code"], f["path"]) for f in doc["findings"]] == [("CL201", "src/acme/flows/load.py")]


def _dialog_project(project, imported_by_flow: bool):
    """A module whose bytes pass the filter (`dialog.result = ...`) but that uses no Prefect, and
    imports twenty modules; a flow that imports it, or not."""
    files = {f"lib/mod{i}.py": f"def f{i}(x):\n    return x + {i}\n" for i in range(20)}
    files["ui/dialog.py"] = "".join(f"from lib.mod{i} import f{i}\n" for i in range(20)) + (
        "\n\ndef ok(dialog, value):\n    dialog.result = f1(value)\n")
    files["flows/a.py"] = '''
        from prefect import Flow
        from prefect.tasks.notifications.slack_task import SlackTask
        {}

        with Flow("a") as flow:
            SlackTask()(message="x")
    '''.format("from ui.dialog import ok" if imported_by_flow else "")
    project.write(files)


@pytest.mark.parametrize("imported_by_flow, modules", [(False, 2), (True, 22)])
def test_imports_are_followed_only_from_modules_that_use_prefect(project, monkeypatch, imported_by_flow, modules):
    """The dialog's imports are followed only when a flow's module imports it (then what it
    imports may be what the flow needs): the stdlib's idlelib passes the filter this way."""
    from credlint.api import Options, check

    _dialog_project(project, imported_by_flow)
    monkeypatch.chdir(project.root)
    assert relevant(project.path("ui/dialog.py").read_bytes())
    filtered = check(Options(paths=["."], cache=False))
    unfiltered = check(Options(paths=["."], cache=False, prefilter=False))
    assert filtered.stats["modules"] == modules
    assert [f.to_json() for f in filtered.report.findings] == [f.to_json() for f in unfiltered.report.findings]


@pytest.mark.parametrize("resource_is_a_flow, modules", [(False, 3), (True, 23)])
def test_a_module_without_prefect_follows_only_its_classes_unless_they_lead_to_prefect(
        project, monkeypatch, resource_is_a_flow, modules):
    """`class DataFlow(Resource)` passes the filter: the module's twenty imports are read only once
    `Resource` (another module's class, followed to find out) turns out to be a Flow subclass."""
    files = dict(TWENTY_MODULES)
    files["lib/res.py"] = ("from prefect import Flow\n\n\nclass Resource(Flow):\n    pass\n" if resource_is_a_flow
                           else "class Resource:\n    def __enter__(self):\n        return self\n")
    files["ui/window.py"] = "".join(f"from lib.mod{i} import f{i}\n" for i in range(20)) + (
        "from lib.res import Resource\n\n\nclass DataFlow(Resource):\n    pass\n\n\n"
        "with DataFlow(\"nightly\") as flow:\n    f1(2)\n")
    files["flows/a.py"] = '''
        from prefect import Flow
        from prefect.tasks.notifications.slack_task import SlackTask

        with Flow("a") as flow:
            SlackTask()(message="x")
    '''
    filtered, _ = _with_and_without_the_prefilter(project, monkeypatch, files)
    assert filtered.stats["modules"] == modules
