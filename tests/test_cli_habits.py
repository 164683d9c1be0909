"""CLI habits as ruff has them (--show-settings, --exclude, --extend-exclude, --extend-select,
--statistics in every format) and the full report (no "ok" lines, files counted by kind, long
source lines cropped around the finding, `explain` rendered on a terminal)."""
import json
import os
import pty
import re
import subprocess
import sys
import time

from conftest import check_json, codes_of, run_cli

from credlint.findings.report import Report
from credlint.reporters.full import ELLIPSIS, RunProgress, cut, window

PASSWORD = "Zq8uPw" "7731xKmN"  # fake, split so the repository does not look like it leaks

HARDCODED = f"""
    from prefect import Flow
    from prefect.tasks.snowflake import SnowflakeQuery

    query = SnowflakeQuery(account="acme", user="loader", password="{PASSWORD}")

    with Flow("load") as flow:
        query(query="select 1")
    """
DOTENV = f"PREFECT__CONTEXT__SECRETS__DB_PASSWORD={PASSWORD}q\n"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _no_secret(*outputs: str) -> None:
    for text in outputs:
        assert PASSWORD not in text


# ----- --show-settings ------------------------------------------------------------------------
def test_show_settings_names_where_each_value_comes_from(project):
    project({"flow.py": HARDCODED}, config='backend = "server"\n\nexclude = ["legacy"]\n')
    code, out, err = run_cli("check", "--show-settings", "--fail-on", "warning", "--extend-exclude", "gen,tmp",
                             "--extend-select", "CL2", ".", cwd=project.root)
    assert code == 0, err
    settings = {line.split("=", 1)[0].strip(): line.split("=", 1)[1].strip() for line in out.splitlines()
                if " = " in line}
    assert settings["backend"] == '"server"  # credlint.toml:1'
    assert settings["exclude"] == '["legacy"]  # credlint.toml:3'
    assert settings["fail-on"] == '"warning"  # command line (--fail-on)'
    assert settings["extend-exclude"] == '["gen", "tmp"]  # command line (--extend-exclude)'
    assert settings["docs-url"] == "null  # default"
    assert settings["extend-select"] == '["CL2"]  # command line (--extend-select)'
    assert "CL201" not in out.split("extend-select")[0], "no check was run: no findings printed"
    _no_secret(out, err)


def test_show_settings_rules_run_follow_select_and_extend_select(project):
    project({"flow.py": HARDCODED}, config='select = ["CL1"]\nignore = ["CL104"]\n')
    out = run_cli("check", "--show-settings", "--extend-select", "CL201", ".", cwd=project.root)[1]
    rules = json.loads(re.search(r"^rules run\s+= (\[.*?\])  #", out, re.M).group(1))
    assert "CL201" in rules and "CL101" in rules and "CL104" not in rules and "CL202" not in rules


# ----- --exclude / --extend-exclude / --extend-select ----------------------------------------------
def test_exclude_replaces_the_configured_exclude_and_extend_exclude_adds(project):
    project({"legacy/old.py": HARDCODED, "flows/new.py": HARDCODED, "gen/made.py": HARDCODED},
            config='exclude = ["legacy"]\n')
    _age(project.root)

    def paths(*args):
        return sorted({f["path"] for f in check_json(*args, ".", cwd=project.root)["findings"]})

    assert paths() == ["flows/new.py", "gen/made.py"]
    assert paths("--exclude", "gen") == ["flows/new.py", "legacy/old.py"]
    assert paths("--extend-exclude", "gen") == ["flows/new.py"]
    assert paths("--exclude", "gen", "--extend-exclude", "flows/*") == ["legacy/old.py"]
    assert paths() == ["flows/new.py", "gen/made.py"], "a reused report must not answer for other excludes"


def _age(root, seconds=60):
    """Back-date every file: the run memo keeps no report made from files too fresh to trust."""
    when = time.time() - seconds
    for path in root.rglob("*"):
        if ".git" not in path.parts:
            os.utime(path, (when, when))


def test_extend_select_adds_to_select_and_is_part_of_the_reused_report_key(project):
    project({"flow.py": HARDCODED}, config='select = ["CL1"]\n')
    _age(project.root)
    assert "CL201" not in codes_of(check_json(".", cwd=project.root))
    assert "CL201" in codes_of(check_json("--extend-select", "CL201", ".", cwd=project.root))
    assert "CL201" in codes_of(check_json("--select", "CL3", "--extend-select", "CL2", ".", cwd=project.root))
    assert "CL201" not in codes_of(check_json(".", cwd=project.root))
    code, _, err = run_cli("check", "--extend-select", "CL999", ".", cwd=project.root)
    assert code == 2 and "CL999" in err


# ----- --statistics in every format -------------------------------------------------------------
def _stats_project(project):
    project({"flow.py": HARDCODED, ".env": DOTENV})
    return project.root


def test_statistics_in_concise_and_github_replace_the_findings(project):
    root = _stats_project(project)
    expected = ["    1  CL201  hardcoded-credential-argument", "    1  CL203  hardcoded-secret-in-config"]
    for fmt in ("concise", "github"):
        code, out, err = run_cli("check", "--format", fmt, "--statistics", ".", cwd=root)
        assert code == 1, err
        assert out.splitlines() == expected, (fmt, out)
        _no_secret(out, err)
    assert "::error" in run_cli("check", "--format", "github", ".", cwd=root)[1]


def test_statistics_in_json_is_an_added_list(project):
    root = _stats_project(project)
    plain = check_json(".", cwd=root)
    counted = check_json("--statistics", ".", cwd=root)
    assert "statistics" not in plain
    assert counted["statistics"] == [{"code": "CL201", "name": "hardcoded-credential-argument", "count": 1},
                                     {"code": "CL203", "name": "hardcoded-secret-in-config", "count": 1}]
    assert {k: v for k, v in counted.items() if k != "statistics"} == plain


def test_statistics_leave_sarif_alone_and_add_a_section_to_full(project):
    root = _stats_project(project)
    assert run_cli("check", "--format", "sarif", "--statistics", ".", cwd=root)[1] == \
        run_cli("check", "--format", "sarif", ".", cwd=root)[1]
    full = run_cli("check", "--statistics", ".", cwd=root)[1]
    assert "statistics" in full and "    1  CL203  hardcoded-secret-in-config" in full


# ----- the full report --------------------------------------------------------------------------
def test_full_report_lists_only_files_with_findings_and_counts_every_file_by_kind(project):
    project({"flow.py": HARDCODED, "clean.py": "x = 1\n", "other.py": "y = 2\n", ".env": DOTENV})
    code, out, err = run_cli("check", ".", cwd=project.root)
    assert code == 1, err
    assert not re.search(r"^\S+ ok$", out, re.M), out
    assert "clean.py" not in out and "other.py" not in out
    summary = out.splitlines()[-1]
    assert summary.startswith("2 errors in 2 files (1 Python, 1 deployment); "
                              "checked 4 files: 3 Python, 1 deployment, 1 flow ("), summary
    _no_secret(out, err)


def test_summary_counts_a_deployment_file_alone(project):
    project({".env": DOTENV})
    out = run_cli("check", ".env", cwd=project.root)[1]
    assert "1 error in 1 file (1 deployment); checked 1 file: 1 deployment" in out.splitlines()[-1]


def test_long_source_line_is_cropped_so_the_marker_stays_under_the_code(project):
    # A 200-character line with the password at column ~150.
    head = 'PAD = "' + "a" * 75 + '"; query = SnowflakeQuery(account="acme", user="loader", password="'
    line = head + PASSWORD + '")  # ' + "note " * 8
    assert len(line) >= 200 and 140 < len(head) < 160
    project({"flow.py": "from prefect import Flow\nfrom prefect.tasks.snowflake import SnowflakeQuery\n"
                        + line + '\nwith Flow("load") as flow:\n    query(query="select 1")\n'})
    env = dict(os.environ, COLUMNS="80")
    proc = subprocess.run([sys.executable, "-m", "credlint", "check", "--color", "always", "."], cwd=project.root,
                          env=env, capture_output=True, text=True, timeout=120)
    out = ANSI.sub("", proc.stdout)
    lines = out.splitlines()
    at = next(i for i, text in enumerate(lines) if re.match(r"\s+3 \| ", text))
    source, marker = lines[at], lines[at + 1]
    assert len(source) <= 80 and len(marker) <= 80, out
    assert ELLIPSIS in source
    start = marker.index("^")
    width = len(marker) - start
    assert source[start:start + width] == '"********"', (source, marker)
    _no_secret(proc.stdout, proc.stderr)


def test_window_and_cut_keep_the_span_in_view():
    line = "x" * 150 + "SPAN" + "y" * 50
    first = window(150, 154, len(line), 60)
    shown = cut(line, first, 60)
    assert len(shown) == 60 and shown[0] == ELLIPSIS and shown[-1] == ELLIPSIS
    assert shown[150 - first:154 - first] == "SPAN"
    assert window(3, 5, 40, 60) == 0 and cut("short", 0, 60) == "short"


def test_report_data_carries_the_counts_by_kind():
    report = Report(findings=[], files=2, files_by_kind={"Python": 2, "deployment": 1}, kinds={".env": "deployment"})
    again = Report.from_data(json.loads(json.dumps(report.to_data())))
    assert again.files_by_kind == {"Python": 2, "deployment": 1} and again.kinds == {".env": "deployment"}


def test_progress_bar_appears_only_after_its_delay():
    with RunProgress(delay=60) as quick:
        quick("a.py")
    assert quick._bar is None
    with RunProgress(delay=0) as slow:
        slow("a.py")
        slow("b.py")
        assert slow._bar is not None and slow._bar.tasks[0].completed == 2
    assert slow._bar.live.is_started is False


def test_no_progress_output_when_not_on_a_terminal(project):
    project({"flow.py": HARDCODED})
    code, out, err = run_cli("check", ".", cwd=project.root)
    assert code == 1 and err == ""


# ----- explain ------------------------------------------------------------------------------------
def _on_terminal(*args: str) -> str:
    pid, fd = pty.fork()
    if pid == 0:  # the child: credlint with a terminal for stdout
        os.environ["COLUMNS"] = "80"
        os.execv(sys.executable, [sys.executable, "-m", "credlint", *args])
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.waitpid(pid, 0)
    return ANSI.sub("", out.decode("utf-8", "replace"))


def test_explain_renders_markdown_on_a_terminal_and_stays_plain_in_a_pipe():
    piped = run_cli("explain", "CL201", cwd=".")[1]
    assert "## What it does" in piped and "```python" in piped
    shown = _on_terminal("explain", "CL201")
    assert "What it does" in shown and "## What it does" not in shown and "```" not in shown
    assert max(len(line.rstrip()) for line in shown.splitlines()) <= 80


def test_summary_counts_by_kind_across_projects(project):
    project({"svc_a/pyproject.toml": "[project]\nname = 'a'\n", "svc_a/flow.py": HARDCODED,
             "svc_b/pyproject.toml": "[project]\nname = 'b'\n", "svc_b/.env": DOTENV})
    out = run_cli("check", "svc_a", "svc_b", cwd=project.root)[1]
    assert out.splitlines()[-1].startswith("2 errors in 2 files (1 Python, 1 deployment); "
                                           "checked 4 files: 1 Python, 1 deployment, 2 other, 1 flow ("), out
