"""`credlint check --fix / --unsafe-fixes / --diff` (issue 19, point 2): safe and unsafe fixes, a
masked diff, ruff's exit codes, and every fix on every rule example leaves a file that parses
and no longer has the finding."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conftest import in_process, leaked_pieces, run_cli
from credlint.engine.collect import collect_rules
from credlint.fixes import REGISTRY, Edit, _load, apply_edits
from credlint.tomlcompat import toml

# Invented, well-formed values, split so that this file does not look like a leak.
TOKEN = "Hn4vWq8Ys2" "Ld6Kp0T07QX3MZ1"
PASSWORD = "Zq8uPw77" "31xKmN"


def assert_no_secret(text: str) -> None:
    assert not leaked_pieces((TOKEN, PASSWORD), text), f"a secret shows in:\n{text}"


cli_in = in_process


def findings(root: Path, *args: str) -> list:
    code, out, err = cli_in(root, "check", "--format", "json", "--no-cache", "--no-server", *args)
    assert code in (0, 1), err
    return json.loads(out)["findings"]


def assert_parses(root: Path) -> None:
    for path in root.rglob("*"):
        if ".git" in path.parts or ".credlint_cache" in path.parts or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".py":
            compile(text, str(path), "exec")
        elif path.suffix == ".toml":
            toml.loads(text)
        elif path.suffix in (".yml", ".yaml"):
            list(yaml.safe_load_all(text))


def _examples_with_fixers():
    _load()
    for rule_ in collect_rules():
        if rule_.code in REGISTRY:
            for index, example in enumerate(rule_.bad):
                yield pytest.param(rule_.code, example, id=f"{rule_.code}-bad-{index}")


FIXED_ON_EXAMPLES = set()


@pytest.mark.parametrize("code, example", list(_examples_with_fixers()))
def test_every_fix_on_every_rule_example_parses_and_removes_the_finding(project, code, example):
    root = project.write(example.file_map, config=example.config or None)
    before = [f for f in findings(root) if f["code"] == code]
    fixable = [f for f in before if f["fix_safety"]]
    if not fixable:
        assert all(f["fix_safety"] is None for f in before)
        return
    assert {f["fix_safety"] for f in fixable} == {REGISTRY[code].safety}
    cli_in(root, "check", "--fix", "--unsafe-fixes", "--no-cache", "--no-server", "--format", "json")
    assert_parses(root)
    after = findings(root)
    for finding in fixable:
        still = [f for f in after if f["code"] == code and f["path"] == finding["path"] and f["line"] == finding["line"]
                 and f["secret"] == finding["secret"]]
        assert not still, f"{code} is still reported after its fix: {still}"


def _written(root: Path, example) -> Path:
    """A rule example written out as a project of its own."""
    (root / ".git").mkdir(parents=True)
    for rel, text in example.file_map.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    if example.config:
        (root / "credlint.toml").write_text(example.config, encoding="utf-8")
    return root


def test_the_rule_examples_exercise_the_fixers(tmp_path):
    """The test above passes when an example has no fix: make sure most fixers meet an example."""
    fixed = set()
    for index, param in enumerate(_examples_with_fixers()):
        code, example = param.values
        root = _written(tmp_path / str(index), example)
        if any(f["code"] == code and f["fix_safety"] for f in findings(root)):
            fixed.add(code)
    # CL103's examples are not mechanical renames; test_fix_through_the_cli_process covers it.
    assert fixed == set(REGISTRY) - {"CL103"}


MIXED = {
    "flow.py": f'''
        from prefect import Flow
        from prefect.run_configs import DockerRun

        # the key is misspelt; the value is hard-coded too
        with Flow("etl", run_config=DockerRun(env={{"PREFECT_CONTEXT_SECRETS_SLACK_WEBHOOK_URL": "{TOKEN}"}})) as flow:
            pass
        ''',
    ".env": f"API_TOKEN={TOKEN}\n",
}


def test_diff_prints_masked_changes_and_writes_nothing(project):
    root = project.write(MIXED)
    originals = {rel: (root / rel).read_bytes() for rel in MIXED}
    code, out, err = cli_in(root, "check", "--diff", "--no-cache", "--no-server")
    assert code == 1
    assert "+with Flow(" in out and '"PREFECT__CONTEXT__SECRETS__SLACK_WEBHOOK_URL"' in out
    assert "a/.env" not in out and "Would fix 1 finding\n" in err  # the .env fix is unsafe
    assert_no_secret(out + err)
    code, out, err = cli_in(root, "check", "--diff", "--unsafe-fixes", "--no-cache", "--no-server")
    assert code == 1
    assert "-API_TOKEN=********" in out and "+API_TOKEN=${API_TOKEN}" in out
    assert_no_secret(out + err)
    assert {rel: (root / rel).read_bytes() for rel in MIXED} == originals


def test_fix_applies_safe_fixes_and_reports_what_is_left(project):
    root = project.write(MIXED)
    code, out, err = cli_in(root, "check", "--fix", "--format", "json", "--no-cache", "--no-server")
    assert "Fixed 1 finding" in err
    assert '"PREFECT__CONTEXT__SECRETS__SLACK_WEBHOOK_URL"' in (root / "flow.py").read_text()
    assert "# the key is misspelt; the value is hard-coded too" in (root / "flow.py").read_text()
    left = json.loads(out)["findings"]
    assert "CL106" not in {f["code"] for f in left}
    assert code == 1  # CL202 (the hard-coded value) and the .env CL203 are errors and remain
    assert (root / ".env").read_text() == f"API_TOKEN={TOKEN}\n"
    assert_no_secret(out + err)

    code, out, err = cli_in(root, "check", "--fix", "--unsafe-fixes", "--format", "concise", "--no-cache",
                            "--no-server")
    assert (root / ".env").read_text() == "API_TOKEN=${API_TOKEN}\n"
    assert "CL203" not in out
    assert_no_secret(out + err)


def test_fix_exits_0_when_nothing_at_fail_on_is_left_and_diff_0_when_nothing_to_change(project):
    root = project.write({"flow.py": "", "agent.sh": """
        prefect agent local start \\
          -e PREFECT__CONTEXT__SECRET__AWS_CREDENTIALS="$AWS_CREDS"
        """})
    assert cli_in(root, "check", "--no-cache", "--no-server")[0] == 1
    code, _, err = cli_in(root, "check", "--fix", "--no-cache", "--no-server", "--quiet")
    assert code == 0, err  # what is left (an unused secret) is a warning
    assert "Fixed 1 finding" in err
    assert "PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS=\"$AWS_CREDS\"" in (root / "agent.sh").read_text()
    code, out, _ = cli_in(root, "check", "--diff", "--no-cache", "--no-server")
    assert (code, out) == (0, "")


def test_fix_through_the_cli_process(project):
    root = project.write({"flow.py": """
        from prefect.tasks.secrets import EnvVarSecret

        user = EnvVarSecret(env_var="DB_USER")
        both = EnvVarSecret("DB_USER", env_var="DB_USER")
        """})
    code, out, err = run_cli("check", "--fix", "--format", "concise", "--no-cache", cwd=root)
    text = (root / "flow.py").read_text()
    assert 'user = EnvVarSecret(name="DB_USER")' in text
    # name given (positionally) as well: renaming would pass it twice, so that one is left to the user
    assert 'both = EnvVarSecret("DB_USER", env_var="DB_USER")' in text
    assert "Fixed 1 finding (1 remaining)" in err
    assert code == 1 and "flow.py:4:" in out


def test_json_findings_carry_fix_safety(project):
    root = project.write({**MIXED, "tasks.py": f'''
        from prefect.tasks.snowflake import SnowflakeQuery

        query = SnowflakeQuery(account="acme", user="loader", password="{PASSWORD}")
        '''})
    by_code = {f["code"]: f["fix_safety"] for f in findings(root)}
    assert by_code["CL106"] == "safe"
    assert by_code["CL203"] == "unsafe"
    assert by_code["CL201"] is None  # no automatic fix (yet) for hard-coded Python credentials


def test_unused_secret_removal_keeps_layout_and_comments(project):
    root = project.write({"flow.py": """
        from prefect import Flow
        from prefect.storage import GCS
        from prefect.tasks.gcp.storage import GCSDownload

        storage = GCS(
            bucket="flows",
            secrets=[
                "GCP_CREDENTIALS",  # read by GCSDownload
                "AWS_CREDENTIALS",  # left over
            ],
        )

        with Flow("reports", storage=storage) as flow:
            GCSDownload(bucket="raw")(blob="in.csv")
        """})
    code, _, _ = cli_in(root, "check", "--fix", "--no-cache", "--no-server", "--quiet")
    assert '"AWS_CREDENTIALS"' in (root / "flow.py").read_text()  # unsafe: not without --unsafe-fixes
    cli_in(root, "check", "--fix", "--unsafe-fixes", "--no-cache", "--no-server", "--quiet")
    text = (root / "flow.py").read_text()
    assert '    secrets=[\n        "GCP_CREDENTIALS",  # read by GCSDownload\n    ],\n' in text
    assert "AWS_CREDENTIALS" not in text and "left over" not in text


def test_explain_names_each_rules_fix_safety(project):
    code, out, _ = run_cli("explain", "CL106", cwd=project.root)
    assert code == 0 and "Fix safety: safe" in out
    assert "Fix safety: unsafe" in run_cli("explain", "CL104", cwd=project.root)[1]
    assert "Fix safety: no automatic fix" in run_cli("explain", "CL102", cwd=project.root)[1]


def test_overlapping_edits_wait_for_the_next_pass():
    text = "abcdef"
    new, applied = apply_edits(text, [Edit(1, 3, "X"), Edit(2, 4, "Y"), Edit(4, 5, "Z")])
    assert new == "aXdZf"
    assert [(e.start, e.end) for e in applied] == [(1, 3), (4, 5)]


def test_the_language_server_offers_each_fix_as_a_quick_fix(project, api_check):
    """The code action provider (see tests/test_lsp.py for the server end to end): the fix is
    made against the buffer, in the client's code units, and says whether it is safe."""
    pytest.importorskip("lsprotocol")
    from lsprotocol import types
    from pygls.workspace import PositionCodec

    from credlint.tools.lsp.server import diagnostic
    from credlint.tools.lsp.actions import code_actions
    from credlint.tools.lsp.proposals import Target

    text = ('from prefect import Flow\nfrom prefect.run_configs import DockerRun\n\n'
            'with Flow("ünï😀", run_config=DockerRun(env={"PREFECT_CONTEXT_SECRETS_SLACK_WEBHOOK_URL": "$HOOK"})) as flow:\n'
            '    pass\n')
    root = project.write({"flow.py": text})
    (finding,) = [f for f in api_check(root) if f.code == "CL106"]
    codec = PositionCodec()
    lines = text.split("\n")
    target = Target("file:///flow.py", str(root / "flow.py"), 1, text, diagnostic(finding, lines, codec), finding,
                    codec)
    (action,) = [a for a in code_actions([target]) if a.title.startswith("credlint: fix CL106 (safe)")]
    assert action.kind == types.CodeActionKind.QuickFix and action.is_preferred
    (edit,) = action.edit.document_changes[0].edits
    assert edit.range.start.line == edit.range.end.line == 3
    units = lines[3].encode("utf-16-le")  # the client counts UTF-16 code units: the emoji is two
    fixed = (units[:2 * edit.range.start.character].decode("utf-16-le") + edit.new_text
             + units[2 * edit.range.end.character:].decode("utf-16-le"))
    assert fixed == lines[3].replace("PREFECT_CONTEXT_SECRETS_", "PREFECT__CONTEXT__SECRETS__")


def test_diff_masks_multi_line_strings_and_comments_around_a_fix(project):
    root = project.write({"flow.py": f'''
        from prefect import Flow
        from prefect.run_configs import DockerRun

        NOTES = """
        staging: {PASSWORD}
        """
        with Flow("etl", run_config=DockerRun(env={{"PREFECT_CONTEXT_SECRETS_SLACK_WEBHOOK_URL": "$HOOK"}})) as flow:  # {TOKEN}
            pass
        '''})
    code, out, err = cli_in(root, "check", "--diff", "--no-cache", "--no-server")
    assert code == 1 and '+with Flow("********", run_config=DockerRun(env={"PREFECT__CONTEXT__SECRETS__' in out
    assert " ********\n" in out  # the line inside the string, masked whole
    assert_no_secret(out + err)


def test_fixable_codes_are_the_registered_fixers():
    """`FIXABLE` decides whether a check loads the fixers at all: it must name every fixer."""
    from credlint.fixes import FIXABLE, REGISTRY, _load

    _load()
    assert set(REGISTRY) == set(FIXABLE)


def test_fix_safety_survives_a_reused_report(project):
    """fix_safety is computed with the findings, so the kept report (and a server) carry it."""
    import os
    import time

    project({"deploy/agent.sh": "prefect agent local start -e PREFECT__CONTEXT__SECRET__TOKEN=$T\n",
             "flows/etl.py": "from prefect import Flow\nwith Flow('x') as flow:\n    pass\n"})
    old = time.time() - 60
    for path in project.root.rglob("*"):
        if path.is_file():
            os.utime(path, (old, old))
    first = json.loads(run_cli("check", "--format", "json", ".", cwd=project.root)[1])
    again = json.loads(run_cli("check", "--format", "json", ".", cwd=project.root)[1])
    assert [f["fix_safety"] for f in first["findings"] if f["code"] == "CL106"] == ["safe"]
    assert again["findings"] == first["findings"]


def _python_examples_checked(tmp_path: Path):
    """(code, index, findings) of every rule example with a Python file whose rule has a fixer,
    each written out as a project of its own and checked."""
    from credlint.api import Options, check

    for index, param in enumerate(_examples_with_fixers()):
        code, example = param.values
        if any(rel.endswith(".py") for rel in example.file_map):
            root = _written(tmp_path / str(index), example)
            yield code, index, check(Options(paths=[str(root)], cache=False, server=False, fixes=False)).report.findings


def test_a_fix_inside_one_statement_is_the_fix_a_whole_module_rebuild_makes(tmp_path, monkeypatch):
    """`PythonFile.replace` rebuilds and regenerates only the top-level statement it changes:
    on every rule example, its edits are exactly those of rebuilding the whole module."""
    from credlint.fixes import plan
    from credlint.fixes.python import PythonFile

    real = PythonFile._replace_in_statement
    local = []

    def counted(self, *args):
        done, edit = real(self, *args)
        local.append(done)
        return done, edit

    def whole_module(self, *args):
        return False, None

    compared = 0
    for code, index, found in _python_examples_checked(tmp_path):
        edits = {}
        for how in (counted, whole_module):
            monkeypatch.setattr(PythonFile, "_replace_in_statement", how)
            planned = plan(found, Path.cwd(), unsafe=True)
            edits[how] = {path: [(e.start, e.end, e.text, e.code) for e in items]
                          for path, items in planned.edits.items()}
        assert edits[counted] == edits[whole_module], f"{code} example {index}"
        compared += sum(len(items) for path, items in edits[counted].items() if path.endswith(".py"))
    assert compared >= 10 and local.count(True) >= 10  # the statement path was taken, and agreed


def test_fixers_find_their_nodes_in_one_statement_as_in_the_whole_module(tmp_path, monkeypatch):
    """`PythonFile` works out positions and parents for the statement that holds a finding only:
    on every rule example, the fixes are those made with the whole module's, and no fixer had to
    ask for the whole module's."""
    from credlint.fixes import plan
    from credlint.fixes.python import PythonFile

    whole = []
    real_all = PythonFile.index_all

    def counted_all(self):
        whole.append(self)
        return real_all(self)

    def only_whole(self, index):
        return False  # as if no statement could be placed alone: the whole module is indexed

    compared = 0
    for code, index, found in _python_examples_checked(tmp_path):
        whole.clear()
        monkeypatch.setattr(PythonFile, "index_all", counted_all)
        by_statement = plan(found, Path.cwd(), unsafe=True)
        assert not whole, f"{code} example {index}: a fixer needed the whole module's positions"
        monkeypatch.setattr(PythonFile, "_index", only_whole)
        by_module = plan(found, Path.cwd(), unsafe=True)
        monkeypatch.undo()
        edits = [{path: [(e.start, e.end, e.text, e.code) for e in items] for path, items in p.edits.items()}
                 for p in (by_statement, by_module)]
        assert edits[0] == edits[1], f"{code} example {index}"
        compared += sum(len(items) for items in by_statement.edits.values())
    assert compared >= 10 and whole  # the whole-module way was taken too, and agreed


def test_fixers_given_the_checks_facts_make_the_fixes_they_make_from_their_own(tmp_path):
    """`pipeline.run_rules` hands the fixers the facts the check extracted (`Source.facts`)
    instead of letting them extract each fixable file again: on every rule example, the edits
    are those made from freshly extracted facts."""
    from credlint.api import Options, load
    from credlint.fixes import plan

    compared = 0
    for code, index, found in _python_examples_checked(tmp_path):
        root = tmp_path / str(index)
        modules = load(Options(paths=[str(root)], cache=False, server=False)).project.modules
        given = plan(found, Path.cwd(), unsafe=True, facts=lambda f: modules.get(f.project_path))
        extracted = plan(found, Path.cwd(), unsafe=True)
        edits = [{path: [(e.start, e.end, e.text, e.code) for e in items] for path, items in p.edits.items()}
                 for p in (given, extracted)]
        assert edits[0] == edits[1], f"{code} example {index}"
        assert all(s.facts is not None for path, s in given.sources.items() if path.endswith(".py"))
        compared += sum(len(items) for path, items in edits[0].items() if path.endswith(".py"))
    assert compared >= 10


def test_a_json_check_does_not_extract_a_fixable_file_twice(project, monkeypatch):
    """`fix_safety` comes from the check's own facts: with the fixers' extraction broken, a
    literal given to a task in a flow still gets its (unsafe) fix."""
    import credlint.fixes.python_facts as python_facts

    def never(*args, **kwargs):
        raise AssertionError("a fixer extracted facts the check had already")

    root = project.write({"flow.py": f'''
        from prefect import Flow
        from prefect.tasks.snowflake import SnowflakeQuery

        query = SnowflakeQuery(account="acme", user="loader")

        with Flow("load") as flow:
            query(password="{PASSWORD}")
        '''})
    monkeypatch.setattr(python_facts, "extract", never)
    by_code = {f["code"]: f["fix_safety"] for f in findings(root, "--jobs", "1")}
    assert by_code["CL201"] == "unsafe"


def test_fixers_read_a_file_under_the_configurations_prefect(project):
    """Without the check's facts (`--fix`), the fixers extract them as the check does: under the
    configuration's `prefect`, not each file's own imports."""
    from credlint.fixes import Source
    from credlint.fixes.python_facts import facts_of

    text = "import os\n\nTOKEN = os.environ.get('TOKEN')\n"
    assert facts_of(Source("helpers.py", text)).model == ""
    assert facts_of(Source("helpers.py", text, prefect="2")).model == "2"


def test_one_statements_positions_are_those_of_the_whole_module():
    """The positions `PythonFile` works out for one top-level statement are libcst's for the
    whole module, node for node, on every example file (comments, decorators, blank lines and
    statements on one line included)."""
    import libcst as cst

    from credlint.fixes.python import PythonFile, positions_of

    checked = 0
    sources = [path.read_text(encoding="utf-8") for path in sorted(
        (Path(__file__).resolve().parents[1] / "examples").rglob("*.py"))]
    sources.append("# head\n\n@d\n# between\ndef f():\n    x = 1; y = 'a'\n\n\nz = (1,\n     2)  # tail\n# foot\n")
    sources.append("a = 1\r\nif a:\r\n    b = 'x'\r\n")
    for text in sources:
        try:
            module = PythonFile(text)
        except cst.ParserSyntaxError:
            continue
        expected = dict(positions_of(module.wrapper))
        for index, statement in enumerate(module.wrapper.module.body):
            assert module._index(index)
            for node, where in module._indexed[index].items():
                assert where == expected[node], (index, type(node).__name__)
                checked += 1
            line = expected[statement].start.line
            assert module._statement_on(line) == index
    assert checked > 1000
    assert not any(PythonFile(text)._whole for text in sources[-2:])


def test_positions_are_those_libcst_resolves():
    """`positions_of` skips `MetadataWrapper.resolve`'s empty batch visit: same positions."""
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    from credlint.fixes.python import positions_of

    for path in sorted((Path(__file__).resolve().parents[1] / "examples").rglob("*.py")):
        try:
            module = cst.parse_module(path.read_text(encoding="utf-8"))
        except cst.ParserSyntaxError:
            continue
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        ours = dict(positions_of(wrapper))
        assert ours and ours == dict(wrapper.resolve(PositionProvider)), path.name
