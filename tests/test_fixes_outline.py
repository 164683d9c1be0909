"""The fixes that change one statement (CL201, CL202) parse an outline of their file, not the
whole of it (`fixes.outline`): the same offsets, lines and columns, with the code far from the
finding left out. The edits are those the whole file gives, in every layout below, and a fixer
that needs more than the outline runs again on the whole file."""
from __future__ import annotations

import textwrap

import pytest

from credlint import fixes
from credlint.fixes.outline import outline
from credlint.fixes.python import PythonFile

PASSWORD = "Qm7vXk2p" "Lw9tRz41"  # invented, split so that this file does not look like a leak

MODULE = '''\
"""Loads the warehouse."""
from prefect import Flow, task
from prefect.tasks.snowflake import SnowflakeQuery

LIMIT = 10  # a constant


@task(name="clean")
def clean(rows: list) -> list:
    """Drops the empty rows."""
    kept = [row for row in rows if row]
    return kept[:LIMIT]


class Holder:
    value = """a string
ending at the start of a line
"""


class Settings:
    @staticmethod
    def name():
        return "warehouse"


if LIMIT:
    for index in range(3):
        print(index)

query = SnowflakeQuery(account="acme", user="loader")

with Flow("load") as flow:
    query(password="{password}")


def later():
    return 1
'''


def _lines(text: str):
    return [len(line) for line in text.split("\n")]


def test_an_outline_keeps_every_offset_and_the_statement_of_the_finding():
    text = MODULE.format(password=PASSWORD)
    line = next(n for n, t in enumerate(text.split("\n"), 1) if "password=" in t)
    sparse = outline(text, line, line)
    assert sparse is not None and len(sparse) == len(text) and _lines(sparse) == _lines(text)
    kept, dropped = sparse.split("\n"), text.split("\n")
    for number, (new, old) in enumerate(zip(kept, dropped), 1):
        assert new == old or not new.strip() or new.strip() == "0", number
    assert 'with Flow("load") as flow:' in sparse and f'query(password="{PASSWORD}")' in sparse
    for header in ('@task(name="clean")', "def clean(rows: list) -> list:", "class Holder:", "class Settings:",
                   "def later():",
                   "from prefect import Flow, task", "LIMIT = 10  # a constant", '"""Loads the warehouse."""',
                   'query = SnowflakeQuery(account="acme", user="loader")'):
        assert header in sparse, header
    for body in ("kept = [row", "return kept", "for index in range", "print(index)", "return 1",
                 "@staticmethod", 'return "warehouse"'):
        assert body not in sparse, body
    # The class body ends on a line too short for its indentation and `0` (the closing quotes of
    # a string): the class stays whole.
    assert "ending at the start of a line" in sparse
    compile(sparse, "outline.py", "exec")


@pytest.mark.parametrize("text", [
    "x = 1\r\ndef f():\r\n    return 2\r\ny = 3\r\n",  # carriage returns: counted differently
    "def f(:\n    pass\n",  # not Python
    "x = 1\ny = 2\n",  # nothing to leave out
    "def f(): return 1\nx = 2\n",  # a body on its header's line
])
def test_no_outline_where_it_could_not_be_exact_or_would_leave_nothing_out(text):
    assert outline(text, 4, 4) is None


def _source(root, path, facts):
    source = fixes.read_source(path, root)
    source.facts = facts
    return source


def _edits(found, root, modules, monkeypatch, outlines: bool):
    with monkeypatch.context() as patch:
        if not outlines:
            patch.setattr(PythonFile, "outlined", classmethod(lambda cls, *args: None))
        planned = fixes.plan(found, root, unsafe=True, facts=lambda f: modules.get(f.project_path))
    return {path: [(e.start, e.end, e.text, e.code) for e in items] for path, items in planned.edits.items()}


LAYOUTS = {
    "after tasks and a class": MODULE,
    "without a trailing newline": MODULE.rstrip("\n").rsplit("\n\n\ndef later", 1)[0],
    "with tabs and comments after a body": MODULE.replace('    """Drops', '\t"""Drops').replace(
        "    kept = [row", "\tkept = [row").replace(
        "    return kept[:LIMIT]", "\treturn kept[:LIMIT]\n\t\t# a comment of the body's, deeper"),
    "in a task's body": '''\
        from prefect import Flow, task
        from prefect.tasks.snowflake import SnowflakeQuery


        def helper():
            return [1, 2, 3]


        @task
        def load():
            SnowflakeQuery(account="acme", user="loader").run(password="{password}")


        with Flow("load") as flow:
            load()
        ''',
    "needing an import, after a docstring and a future import": '''\
        """Docs."""
        from __future__ import annotations

        import os


        def helper():
            return os.getcwd()


        from prefect import Flow
        from prefect.tasks.snowflake import SnowflakeQuery

        query = SnowflakeQuery(account="acme", user="loader")

        with Flow("load") as flow:
            query(password="{password}")
        ''',
    "a context secret": '''\
        import prefect


        def helper():
            return 1


        prefect.context.secrets["SNOWFLAKE_PASSWORD"] = "{password}"
        ''',
    "a function that binds the name an import would take (no fix)": '''\
        import prefect


        def os():
            return 1


        prefect.context.secrets["SNOWFLAKE_PASSWORD"] = "{password}"
        ''',
    "a block built in a function": '''\
        from prefect import flow
        from prefect_snowflake import SnowflakeCredentials


        def helper():
            return 1


        @flow
        def save():
            SnowflakeCredentials(account="acme", user="loader", password="{password}").save("prod")
        ''',
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_the_outline_makes_the_edits_the_whole_file_makes(project, monkeypatch, layout):
    from credlint.api import Options, check, load

    body = LAYOUTS[layout]
    text = (body if not body.startswith("        ") else textwrap.dedent(body)).format(password=PASSWORD)
    root = project.write({"flows/load.py": text})
    monkeypatch.chdir(root)
    options = Options(paths=["."], jobs=1, cache=False, fixes=False)
    found = [f for f in check(options).report.findings if f.code in ("CL201", "CL202")]
    assert found, layout
    modules = load(options).project.modules
    whole = _edits(found, root, modules, monkeypatch, outlines=False)
    assert bool(whole) == ("no fix" not in layout), layout
    assert _edits(found, root, modules, monkeypatch, outlines=True) == whole


def test_the_outline_is_parsed_instead_of_the_whole_file(project, monkeypatch):
    from credlint.api import Options, check, load

    root = project.write({"flows/load.py": MODULE.format(password=PASSWORD)})
    monkeypatch.chdir(root)
    options = Options(paths=["."], jobs=1, cache=False, fixes=False)
    (literal,) = [f for f in check(options).report.findings if f.code == "CL201"]
    modules = load(options).project.modules
    source = _source(root, literal.path, modules[literal.project_path])
    edit = fixes.edit_for(literal, source)
    assert edit is not None and edit.safety == "unsafe"
    assert source._python is None  # the whole file was never parsed
    assert source._near.is_outline and "print(index)" not in source._near.text


def test_a_fix_the_outline_cannot_make_is_made_on_the_whole_file(project, monkeypatch):
    """The literal's statement is the file's last and the file has no final newline: a change to
    it needs the whole module (`replace` raises WholeModuleNeeded), and the fixer runs again."""
    from credlint.api import Options, check, load

    text = MODULE.format(password=PASSWORD).rstrip("\n").rsplit("\n\n\ndef later", 1)[0]
    root = project.write({"flows/load.py": text})
    monkeypatch.chdir(root)
    options = Options(paths=["."], jobs=1, cache=False, fixes=False)
    (literal,) = [f for f in check(options).report.findings if f.code == "CL201"]
    source = _source(root, literal.path, load(options).project.modules[literal.project_path])
    edit = fixes.edit_for(literal, source)
    assert edit is not None and source._near is False and source._python is not None
    fixed = text[:edit.start] + edit.text + text[edit.end:]
    assert PASSWORD not in fixed and 'PrefectSecret("SNOWFLAKE_PASSWORD")' in fixed
