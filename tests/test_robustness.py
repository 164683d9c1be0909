"""Broken input, configuration mistakes, and the ways users switch findings off."""
from __future__ import annotations

import json
import re
import textwrap

import pytest

from conftest import check_json, codes_of, run_cli, with_code

HARDCODED = """
    from prefect.tasks.snowflake import SnowflakeQuery

    query = SnowflakeQuery(account="acme", user="loader", password="Zq8uPw7731xKmN")
    """


# ----- files credlint cannot read ---------------------------------------------------------------
def test_syntax_error_is_cl000_and_the_rest_is_still_checked(project):
    project({
        "broken.py": """
            from prefect import Flow

            with Flow("etl") as flow
                pass
            """,
        "good.py": HARDCODED,
    })
    code, out, err = run_cli("check", "--format", "json", ".", cwd=project.root)
    assert code == 1, err
    doc = json.loads(out)
    (parse,) = with_code(doc, "CL000")
    assert parse["path"] == "broken.py"
    assert parse["line"] == 3, "the line of the missing ':'"
    assert parse["severity"] == "error"
    assert "syntax" in parse["message"]
    assert [f["path"] for f in with_code(doc, "CL201")] == ["good.py"]
    assert doc["summary"]["files"] == 2


def test_syntax_error_does_not_hide_providers_of_other_files(project):
    """A broken file next to a flow: the flow is still analysed with its own providers."""
    project({
        "broken.py": "import prefect\ndef f(:\n",
        "flow.py": """
            from prefect import Flow
            from prefect.storage import S3
            from prefect.tasks.aws import S3Download

            with Flow("x", storage=S3(bucket="f", secrets=["AWS_CREDENTIALS"])) as flow:
                S3Download(bucket="b")(key="k")
            """,
    })
    doc = check_json(".", cwd=project.root)
    assert codes_of(doc) == ["CL000"]


def test_non_utf8_file_is_cl000(project):
    project({
        "latin.py": b'from prefect import Flow\nname = "caf\xe9"\n',
        "good.py": HARDCODED,
    })
    doc = check_json(".", cwd=project.root)
    (parse,) = with_code(doc, "CL000")
    assert parse["path"] == "latin.py"
    assert "UTF-8" in parse["message"] or "decode" in parse["message"]
    assert with_code(doc, "CL201"), "the other file is still checked"


def test_pep263_coding_cookie_is_honoured(project):
    """`# -*- coding: latin-1 -*-` makes a non-UTF-8 file valid Python: it can be decoded."""
    project({"latin.py": (
        b"# -*- coding: latin-1 -*-\n"
        b"from prefect.tasks.snowflake import SnowflakeQuery\n"
        b'query = SnowflakeQuery(account="caf\xe9", user="loader", password="Zq8uPw7731xKmN")\n'
    )})
    compile((project.root / "latin.py").read_bytes(), "latin.py", "exec")  # Python accepts it
    doc = check_json(".", cwd=project.root)
    assert codes_of(doc) == ["CL201"]


def test_utf8_bom_is_accepted(project):
    project({"flow.py": b"\xef\xbb\xbf" + textwrap.dedent(HARDCODED).lstrip("\n").encode()})
    doc = check_json(".", cwd=project.root)
    assert codes_of(doc) == ["CL201"]


def test_empty_and_binary_looking_files_do_not_crash(project):
    project({"empty.py": "", "nul.py": b"import prefect\x00\x00\n", "good.py": HARDCODED})
    code, out, err = run_cli("check", "--format", "json", ".", cwd=project.root)
    assert code == 1, err
    assert "internal error" not in err


# ----- configuration errors ---------------------------------------------------------------------
def _config_error(err: str):
    match = re.search(r"(?P<file>[\w./-]+\.toml):(?P<line>\d+): (?P<key>[\w.-]+): ", err)
    assert match, err
    return match["file"], int(match["line"]), match["key"]


@pytest.mark.parametrize("config, line, key", [
    ('backend = "server"\nbakend = "cloud"\n', 2, "bakend"),
    ('backend = "server"\n\nallow_fallback = ["aws"]\n', 3, "allow_fallback"),
    ("backend = 3\n", 1, "backend"),
    ('backend = "server"\nselect = "CL1"\n', 2, "select"),
    ('ignore = ["CL1"]\nallow-fallback = ["amazon"]\n', 2, "allow-fallback"),
    ('fail-on = "info"\n', 1, "fail-on"),
    ('exclude = "tests/"\n', 1, "exclude"),
], ids=["unknown-key", "underscore-spelling", "backend-int", "select-string", "bad-family", "fail-on",
        "exclude-string"])
def test_config_error_names_file_line_and_key(project, config, line, key):
    project({"flow.py": HARDCODED}, config=config)
    code, out, err = run_cli("check", ".", cwd=project.root)
    assert code == 2
    assert out.strip() == ""
    assert _config_error(err) == ("credlint.toml", line, key)


@pytest.mark.parametrize("config, line, key", [
    ('backend = "server"\n\n[bogus]\nx = 1\n', 3, "bogus"),
    ('backend = "server"\n\n[per-file-ignores]\n"flows/*" = "CL201"\n', (3, 4), "per-file-ignores"),
], ids=["unknown-table", "bad-table-value"])
def test_config_error_in_a_table_names_its_line(project, config, line, key):
    project({"flow.py": HARDCODED}, config=config)
    code, _, err = run_cli("check", ".", cwd=project.root)
    assert code == 2
    got_file, got_line, got_key = _config_error(err)
    assert (got_file, got_key) == ("credlint.toml", key)
    assert got_line in (line if isinstance(line, tuple) else (line,)), err


def test_config_error_in_pyproject_names_the_line(project):
    project({"flow.py": HARDCODED, "pyproject.toml": """
        [project]
        name = "etl"
        backend = 1

        [tool.credlint]
        select = ["CL2"]
        backend = 3
        """})
    code, _, err = run_cli("check", ".", cwd=project.root)
    assert code == 2
    assert _config_error(err) == ("pyproject.toml", 7, "backend")


def test_invalid_toml_names_the_file_and_line(project):
    project({"flow.py": HARDCODED}, config='backend = "server"\nselect = [\n')
    code, _, err = run_cli("check", ".", cwd=project.root)
    assert code == 2
    assert "credlint.toml:" in err
    assert "Traceback" not in err


# ----- where configuration comes from -------------------------------------------------------------
BOTH = {
    "load.py": HARDCODED,
    "ingest.py": """
        from prefect import Flow
        from prefect.tasks.aws import S3Download

        with Flow("ingest") as flow:
            S3Download(bucket="raw")(key="k")
        """,
}


def test_pyproject_tool_credlint_is_read(project):
    project({**BOTH, "pyproject.toml": """
        [project]
        name = "etl"
        select = ["CL2"]

        [tool.credlint]
        select = ["CL1"]
        """})
    assert codes_of(check_json(".", cwd=project.root)) == ["CL102"]


def test_pyproject_without_tool_credlint_is_ignored(project):
    project({**BOTH, "pyproject.toml": '[project]\nname = "etl"\n'})
    assert codes_of(check_json(".", cwd=project.root)) == ["CL102", "CL201"]


def test_dot_credlint_toml_is_read(project):
    project({**BOTH, ".credlint.toml": 'ignore = ["CL201"]\n'})
    assert codes_of(check_json(".", cwd=project.root)) == ["CL102"]


def test_config_is_found_from_a_subfolder(project):
    project({"flows/load.py": HARDCODED, "flows/ingest.py": BOTH["ingest.py"]}, config='select = ["CL1"]\n')
    assert codes_of(check_json(".", cwd=project.root / "flows")) == ["CL102"]


# ----- inline suppressions ----------------------------------------------------------------------
SUPPRESSED = """
    from prefect.tasks.snowflake import SnowflakeQuery

    a = SnowflakeQuery(account="a", user="u", password="Zq8uPw7731xKmA")  # credlint: ignore[CL201]
    b = SnowflakeQuery(account="a", user="u", password="Zq8uPw7731xKmB")  # noqa: CL201
    c = SnowflakeQuery(account="a", user="u", password="Zq8uPw7731xKmC")  # credlint: ignore[CL202]
    d = SnowflakeQuery(account="a", user="u", password="Zq8uPw7731xKmD")  # noqa: E501
    e = SnowflakeQuery(account="a", user="u", password="Zq8uPw7731xKmE")  # credlint: ignore[hardcoded-credential-argument]
    f = SnowflakeQuery(account="a", user="u", password="Zq8uPw7731xKmF")
    g = SnowflakeQuery(account="a", user="u", password="Zq8uPw7731xKmG")  # noqa: E501, CL201
    """


def test_inline_suppressions_apply_to_their_line_and_code_only(project):
    project({"flow.py": SUPPRESSED})
    doc = check_json(".", cwd=project.root)
    lines = (project.root / "flow.py").read_text().splitlines()
    reported = {lines[f["line"] - 1].split("=")[0].strip() for f in with_code(doc, "CL201")}
    assert reported == {"c", "d", "f"}


def test_suppression_comment_inside_a_string_does_not_count(project):
    project({"flow.py": """
        from prefect.tasks.snowflake import SnowflakeQuery

        a = SnowflakeQuery(account="# noqa: CL201", user="u", password="Zq8uPw7731xKmA")
        """})
    assert codes_of(check_json(".", cwd=project.root)) == ["CL201"]


def test_suppression_on_another_line_does_not_count(project):
    project({"flow.py": """
        from prefect.tasks.snowflake import SnowflakeQuery

        # credlint: ignore[CL201]
        a = SnowflakeQuery(account="a", user="u", password="Zq8uPw7731xKmA")
        """})
    # the finding stays, and the comment that silenced nothing is itself reported
    assert sorted(codes_of(check_json(".", cwd=project.root))) == ["CL001", "CL201"]


@pytest.mark.parametrize("comment_line, code_line, expected", [
    ("# credlint: ignore-next-line[CL201]", None, []),
    ("# credlint: ignore-file[CL201]", None, []),
    ("# credlint: ignore-file[hardcoded-credential-argument]", None, []),
    ("# credlint: ignore-next-line[CL202]", None, ["CL001", "CL201"]),
    ("", "  # credlint: ignore", ["CL001", "CL201"]),
    ("", "  # credlint: ignore[CL201, CL302]", ["CL001"]),
], ids=["next-line", "file", "file-by-name", "next-line-wrong-code", "bare", "one-code-unused"])
def test_suppression_forms(project, comment_line, code_line, expected):
    project({"flow.py": (
        "from prefect.tasks.snowflake import SnowflakeQuery\n"
        f"{comment_line}\n"
        'a = SnowflakeQuery(account="a", user="u", password="Zq8uPw7731xKmA")' + (code_line or "") + "\n"
    )})
    doc = check_json(".", cwd=project.root)
    assert sorted(codes_of(doc)) == expected
    for finding in with_code(doc, "CL001"):
        assert finding["line"] == (2 if comment_line else 3)


def test_unused_suppression_is_not_reported_for_rules_not_selected(project):
    project({"flow.py": 'from prefect import Parameter\nday = Parameter("day")  # credlint: ignore[CL302]\n'})
    assert codes_of(check_json(".", cwd=project.root)) == ["CL001"]
    assert codes_of(check_json("--select", "CL1,CL001", ".", cwd=project.root)) == []


def test_suppression_in_a_deployment_file(project):
    project({"flows/etl.py": "import prefect\n", "agent.sh": (
        "prefect agent docker start -e DB_PASSWORD=Zq8uPw7731xKmA  # credlint: ignore[CL203]\n"
        "prefect agent docker start -e API_TOKEN=Zq8uPw7731xKmB\n")})
    doc = check_json(".", cwd=project.root)
    assert [(f["code"], f["line"]) for f in doc["findings"]] == [("CL203", 2)]


# ----- per-file-ignores and exclude ---------------------------------------------------------------
TREE = {"flows/load.py": HARDCODED, "legacy/load.py": HARDCODED, "legacy/deep/load.py": HARDCODED}


def test_per_file_ignores(project):
    project(TREE, config='[per-file-ignores]\n"legacy/*" = ["CL201"]\n')
    doc = check_json(".", cwd=project.root)
    assert [f["path"] for f in doc["findings"]] == ["flows/load.py"]


def test_per_file_ignores_other_code_keeps_the_finding(project):
    project(TREE, config='per-file-ignores = {"legacy/*" = ["CL202"]}\n')
    doc = check_json(".", cwd=project.root)
    assert len(doc["findings"]) == 3


@pytest.mark.parametrize("pattern", ['"legacy/"', '"legacy"', '"legacy/*"'])
def test_exclude(project, pattern):
    project(TREE, config=f"exclude = [{pattern}]\n")
    doc = check_json(".", cwd=project.root)
    assert [f["path"] for f in doc["findings"]] == ["flows/load.py"]
    assert doc["summary"]["files"] == 1


def test_extend_exclude(project):
    project(TREE, config='extend-exclude = ["legacy/deep/"]\n')
    doc = check_json(".", cwd=project.root)
    assert sorted(f["path"] for f in doc["findings"]) == ["flows/load.py", "legacy/load.py"]


@pytest.mark.parametrize("key", ["select", "ignore"])
def test_unknown_rule_code_in_config_is_an_error(project, key):
    """A typo (letter O for zero) must not silently switch every rule off: the CLI flag already
    exits 2 for it, the configuration key must too."""
    project({"flow.py": HARDCODED}, config=f'backend = "cloud"\n{key} = ["CL2O1"]\n')
    code, out, err = run_cli("check", ".", cwd=project.root)
    assert code == 2, out
    assert _config_error(err) == ("credlint.toml", 2, key)
    assert "CL2O1" in err


def test_a_deeply_nested_expression_is_reported_not_parsed(project):
    # libcst takes ~15 s and ~2 GB for this; credlint reports it at once.
    depth = 1000
    project({"flows/deep.py": "import prefect\nx = " + "1 + (" * depth + "1" + ")" * depth + "\n"})
    doc = check_json(".", cwd=project.root)
    [finding] = with_code(doc, "CL000")
    assert finding["path"] == "flows/deep.py" and "brackets nested 1000 deep" in finding["message"]


def test_nesting_that_python_code_has_is_analysed(project):
    deep = "(" * 60 + "1" + ")" * 60
    project({
        "flows/ok.py": f'''
            from prefect.tasks.snowflake import SnowflakeQuery
            NOT_DEEP = "{'(' * 300}"  # brackets in strings do not count
            x = {deep}
            q = SnowflakeQuery(account="a", user="u", password="Hq7-Lm2k-Zx9w-Pp4r", query="q")
        ''',
    })
    assert codes_of(check_json(".", cwd=project.root)) == ["CL201"]


def test_a_very_large_python_file_is_reported_not_parsed(project):
    body = "".join(f"def f{i}(x):\n    return [x + {i} for _ in range(3)]\n\n" for i in range(9000))
    project({"flows/generated.py": "import prefect\n" + body})
    assert project.path("flows/generated.py").stat().st_size > 256 * 1024
    [finding] = with_code(check_json(".", cwd=project.root), "CL000")
    assert "KB is more than the 256 KB credlint parses" in finding["message"]
