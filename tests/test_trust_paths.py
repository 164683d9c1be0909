"""Every path is checked, nothing hangs and nothing hides: monorepos, missing paths, files
that cannot be read, and files that are not regular files."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import _env, run_cli

# A literal password for a catalogue class: CL201 wherever it is.
LEAKY = """\
from prefect import Flow
from prefect.tasks.snowflake import SnowflakeQuery

with Flow("{name}") as flow:
    SnowflakeQuery(account="a", user="u", password="Zq8uPw7731xKmN")(query="select 1")
"""
CLEAN = """\
from prefect import Flow
from prefect.tasks.shell import ShellTask

with Flow("{name}") as flow:
    ShellTask()(command="ls")
"""
# An AWS key id in a committed .env (well-formed, invented; split so this file holds none).
AWS_KEY_ID = "AKI" "A4OLYYN3T6VICJWWQ"
ENV_WITH_KEY = f"AWS_ACCESS_KEY_ID={AWS_KEY_ID}\n"


def _write(root: Path, files: dict) -> None:
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def _json(out: str) -> dict:
    return json.loads(out)


def _where(document: dict) -> list:
    return sorted((f["code"], f["path"]) for f in document["findings"])


# -- a monorepo: every path against its own project ----------------------------------------------

@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    _write(tmp_path, {
        "svc_a/pyproject.toml": "[project]\nname = 'a'\n",
        "svc_a/flows/x.py": CLEAN.format(name="a"),
        "svc_b/pyproject.toml": "[project]\nname = 'b'\n\n[tool.credlint]\nfail-on = \"error\"\n",
        "svc_b/flows/y.py": LEAKY.format(name="b"),
    })
    return tmp_path


def test_paths_in_two_projects_are_both_checked(monorepo):
    code, out, err = run_cli("check", "--format", "json", "svc_a/flows/x.py", "svc_b/flows/y.py", cwd=monorepo)
    assert code == 1, err
    assert _where(_json(out)) == [("CL201", "svc_b/flows/y.py")]
    assert _json(out)["summary"]["files"] == 2
    # The order of the paths does not matter: the first one used to decide the project.
    code, out, err = run_cli("check", "--format", "json", "svc_b/flows/y.py", "svc_a/flows/x.py", cwd=monorepo)
    assert code == 1, err
    assert _where(_json(out)) == [("CL201", "svc_b/flows/y.py")]


def test_each_project_uses_its_own_configuration(monorepo):
    # svc_a ignores CL201 in its own configuration; svc_b does not.
    _write(monorepo, {"svc_a/pyproject.toml": "[tool.credlint]\nignore = [\"CL201\"]\n",
                      "svc_a/flows/x.py": LEAKY.format(name="a")})
    code, out, err = run_cli("check", "--format", "json", "svc_a/flows/x.py", "svc_b/flows/y.py", cwd=monorepo)
    assert code == 1, err
    assert _where(_json(out)) == [("CL201", "svc_b/flows/y.py")]
    code, out, err = run_cli("check", "--format", "json", "svc_a/flows/x.py", cwd=monorepo)
    assert code == 0, out + err


def test_each_project_fails_on_its_own_severity(monorepo):
    # A warning fails svc_a (fail-on = "warning") even when svc_b's configuration would pass it.
    _write(monorepo, {
        "svc_a/pyproject.toml": "[tool.credlint]\nfail-on = \"warning\"\n",
        "svc_a/flows/x.py": "from prefect import Parameter\n\napi_token = Parameter(\"api_token\")\n",
        "svc_b/flows/y.py": CLEAN.format(name="b"),
    })
    code, out, err = run_cli("check", "--format", "json", "svc_b/flows/y.py", "svc_a/flows/x.py", cwd=monorepo)
    assert _where(_json(out)) == [("CL302", "svc_a/flows/x.py")]
    assert code == 1, out + err
    # The same warning in svc_b, whose fail-on is "error", passes.
    _write(monorepo, {"svc_a/flows/x.py": CLEAN.format(name="a"),
                      "svc_b/flows/y.py": "from prefect import Parameter\n\napi_token = Parameter(\"api_token\")\n"})
    code, out, err = run_cli("check", "--format", "json", "svc_a/flows/x.py", "svc_b/flows/y.py", cwd=monorepo)
    assert _where(_json(out)) == [("CL302", "svc_b/flows/y.py")]
    assert code == 0, out + err


def test_sarif_of_two_projects_locates_each_file_from_the_common_folder(monorepo):
    code, out, err = run_cli("check", "--format", "sarif", "svc_a/flows/x.py", "svc_b/flows/y.py", cwd=monorepo)
    assert code == 1, err
    document = json.loads(out)
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in document["runs"][0]["results"]]
    assert uris == ["svc_b/flows/y.py"]
    import jsonschema

    schema = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(document)


def test_the_api_reports_two_projects_as_one_run(monorepo, monkeypatch):
    from credlint.api import Options, check

    monkeypatch.chdir(monorepo)
    run = check(Options(paths=["svc_a/flows/x.py", "svc_b/flows/y.py"], cache=False))
    assert [(f.code, f.path, f.project_path) for f in run.report.findings] == [
        ("CL201", "svc_b/flows/y.py", "svc_b/flows/y.py")]
    assert run.root == monorepo.resolve()
    assert run.failed() and run.errors == []


# -- a missing path ------------------------------------------------------------------------------

def test_a_missing_path_is_an_error_and_the_others_are_still_checked(project):
    project({"flows/etl.py": LEAKY.format(name="etl")})
    code, out, err = run_cli("check", "--format", "concise", "flows/gone.py", "flows/etl.py", "nope/",
                             cwd=project.root)
    assert code == 2, out + err
    assert "flows/etl.py:5:" in out and "CL201" in out  # the path that exists was checked
    assert "flows/gone.py: no such file or directory" in err
    assert "nope/: no such file or directory" in err
    # Only missing paths: an error, nothing checked.
    code, out, err = run_cli("check", "flows/gone.py", cwd=project.root)
    assert code == 2 and "flows/gone.py: no such file or directory" in err and out == ""


def test_a_missing_path_still_gives_a_whole_json_report(project):
    project({"flows/etl.py": LEAKY.format(name="etl")})
    code, out, err = run_cli("check", "--format", "json", "flows/etl.py", "gone.py", cwd=project.root)
    assert code == 2
    assert _where(_json(out)) == [("CL201", "flows/etl.py")]
    assert "gone.py: no such file or directory" in err


# -- files that cannot be read -------------------------------------------------------------------

def _without_read_override() -> list:
    """A command prefix under which this process's user cannot read a file it has no read
    permission on. As root that means dropping the capabilities that bypass permissions."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.fail("running as root, and setpriv (util-linux) is needed to drop CAP_DAC_OVERRIDE")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"]


def _credlint(*args: str, cwd: Path, restricted: bool = False):
    prefix = _without_read_override() if restricted else []
    proc = subprocess.run([*prefix, sys.executable, "-m", "credlint", *args], cwd=str(cwd), env=_env(),
                          capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def test_an_unreadable_env_file_is_reported_and_found_once_readable(project):
    project({"flows/etl.py": CLEAN.format(name="etl"), ".env": ENV_WITH_KEY})
    secret = project.path(".env")
    os.chmod(secret, 0)
    # Back-date it so that the report would be kept (fresh files never are).
    os.utime(secret, (1_600_000_000, 1_600_000_000))
    os.utime(project.path("flows/etl.py"), (1_600_000_000, 1_600_000_000))
    try:
        code, out, err = _credlint("check", "--format", "json", ".", cwd=project.root, restricted=True)
        assert code == 1, out + err
        found = _json(out)["findings"]
        assert [(f["code"], f["path"]) for f in found] == [("CL000", ".env")], found
        assert "permission denied" in found[0]["message"]
        # The same unchanged run again: still reported, from the cache as from a fresh read.
        code, out, err = _credlint("check", "--format", "json", ".", cwd=project.root, restricted=True)
        assert [(f["code"], f["path"]) for f in _json(out)["findings"]] == [("CL000", ".env")]
    finally:
        os.chmod(secret, 0o644)
    # Permissions fixed, nothing else changed (same size and time): the key is found, not a
    # report kept from when the file could not be read.
    code, out, err = _credlint("check", "--format", "json", ".", cwd=project.root, restricted=True)
    assert code == 1, out + err
    codes = {f["code"] for f in _json(out)["findings"] if f["path"] == ".env"}
    assert "CL204" in codes and "CL000" not in codes, out
    assert AWS_KEY_ID not in out + err


def test_an_unreadable_python_file_named_on_the_command_line_is_cl000(project):
    project({"flows/etl.py": LEAKY.format(name="etl")})
    os.chmod(project.path("flows/etl.py"), 0)
    try:
        code, out, err = _credlint("check", "--format", "concise", "flows/etl.py", cwd=project.root,
                                   restricted=True)
    finally:
        os.chmod(project.path("flows/etl.py"), 0o644)
    assert code == 1, out + err
    assert out.startswith("flows/etl.py:1:1: CL000 parse-error cannot check this file: cannot read: permission denied")


def test_a_folder_that_cannot_be_listed_is_a_warning(project):
    project({"flows/etl.py": CLEAN.format(name="etl"), "private/flow.py": LEAKY.format(name="p")})
    os.chmod(project.path("private"), 0)
    try:
        code, out, err = _credlint("check", "--format", "json", ".", cwd=project.root, restricted=True)
    finally:
        os.chmod(project.path("private"), 0o755)
    found = _json(out)["findings"]
    assert [(f["code"], f["path"], f["severity"]) for f in found] == [("CL000", "private", "warning")], found
    assert "cannot check this folder: permission denied" in found[0]["message"]
    assert code == 0, out + err  # a warning: the default fail-on is "error"


# -- files that are not regular files ------------------------------------------------------------

@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX feature")
@pytest.mark.parametrize("args", [(".",), ("flows/x.py", "Dockerfile", "flows/etl.py")],
                         ids=["discovered", "named"])
def test_named_pipes_never_block_the_run(project, args):
    project({"flows/etl.py": LEAKY.format(name="etl")})
    os.mkfifo(project.path("flows/x.py"))
    os.mkfifo(project.path("Dockerfile"))
    # No writer ever opens these pipes: opening one to read would wait forever.
    proc = subprocess.run([sys.executable, "-m", "credlint", "check", "--format", "json", *args],
                          cwd=str(project.root), env=_env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    found = [(f["code"], f["path"], f["message"]) for f in _json(proc.stdout)["findings"]]
    assert ("CL000", "Dockerfile", "cannot check this file: not a regular file (a named pipe): skipped") in found
    assert ("CL000", "flows/x.py", "cannot check this file: not a regular file (a named pipe): skipped") in found
    assert any(code == "CL201" for code, _, _ in found)  # the rest of the project was checked


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX feature")
def test_read_file_refuses_special_files_without_opening_them_blocking(tmp_path):
    from credlint.files.read import Unreadable, read_file

    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    with pytest.raises(Unreadable, match="named pipe"):
        read_file(str(fifo))
    with pytest.raises(Unreadable, match="character device"):
        read_file("/dev/zero")  # would never end
    with pytest.raises(Unreadable, match="folder"):
        read_file(str(tmp_path))
    regular = tmp_path / "a.py"
    regular.write_bytes(b"x" * 100)
    assert read_file(str(regular)) == b"x" * 100
    assert read_file(str(regular), 10) == b"x" * 10
    link = tmp_path / "dangling.py"
    link.symlink_to(tmp_path / "nowhere")
    with pytest.raises(Unreadable, match="symbolic link to nothing"):
        read_file(str(link))


# -- suppressions that name no rule --------------------------------------------------------------

def test_a_suppression_with_an_unknown_code_is_reported(project):
    project({"flows/etl.py": textwrap.dedent("""\
        from prefect import Parameter

        api_token = Parameter("api_token")  # credlint: ignore[CL302, CL999]
        day = Parameter("day")  # noqa: E501, CL998
        other = Parameter("other")  # credlint: ignore[missing-secrte]
        """)})
    code, out, err = run_cli("check", "--format", "json", ".", cwd=project.root)
    found = [(f["code"], f["line"], f["message"]) for f in _json(out)["findings"]]
    assert ("CL001", 3, "suppression names CL999, which no rule has, so it silences nothing "
                        "(see `credlint rules`)") in found
    assert ("CL001", 4, "suppression names CL998, which no rule has, so it silences nothing "
                        "(see `credlint rules`)") in found
    assert ("CL001", 5, "suppression names MISSING-SECRTE, which no rule has, so it silences nothing "
                        "(see `credlint rules`)") in found
    # CL302 on line 3 was used (the token parameter is silenced); E501 is another tool's code.
    assert not any(code == "CL302" and line == 3 for code, line, _ in found)
    assert not any("E501" in message for _, _, message in found)


def test_codes_of_the_users_own_rules_are_known(project):
    project({
        "flows/etl.py": "from prefect import Parameter\n\nday = Parameter(\"day\")  # credlint: ignore[ACME001]\n",
        "lint_rules/acme.py": textwrap.dedent('''\
            from credlint.engine import Hit, rule


            @rule("ACME001", "acme-day", "warning", bad=[], good=[])
            def check_day(parameter):
                """Parameters named day."""
                module, fact = parameter
                if fact.name == "day":
                    yield Hit(path=module.path, pos=fact.pos, message="a day parameter")
            '''),
    }, config='rules = ["lint_rules"]\n')
    code, out, err = run_cli("check", "--format", "json", ".", cwd=project.root)
    assert code == 0, out + err
    assert _json(out)["findings"] == []
    # Not selected in this run: known, so neither unknown nor unused.
    code, out, err = run_cli("check", "--format", "json", "--ignore", "ACME001", ".", cwd=project.root)
    assert _json(out)["findings"] == [], out
