"""docs/integrations.md stays true: its snippets parse, name only options credlint has, and do
what the page says when they run.

Snippets are the fenced blocks of the page; those a test runs are named by an HTML comment on the
line before the fence (`<!-- snippet: NAME -->`), which Markdown does not show.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "integrations.md"
EXAMPLES = REPO / "examples"
NAMED = {"pre-commit", "pre-commit-args", "pre-commit-files", "github-actions", "gitlab-ci", "vscode-tasks",
         "editor-stdin"}


@dataclass
class Block:
    name: Optional[str]
    lang: str
    text: str
    line: int  # of the opening fence, 1-based


def _blocks() -> List[Block]:
    blocks: List[Block] = []
    lines = DOC.read_text(encoding="utf-8").splitlines()
    name: Optional[str] = None
    index = 0
    while index < len(lines):
        line = lines[index]
        marker = re.fullmatch(r"<!-- snippet: ([\w-]+) -->", line.strip())
        if marker:
            name = marker.group(1)
        elif line.startswith("```"):
            start, lang, body = index + 1, line[3:].strip(), []
            index += 1
            while index < len(lines) and not lines[index].startswith("```"):
                body.append(lines[index])
                index += 1
            assert index < len(lines), f"docs/integrations.md:{start}: unclosed code fence"
            blocks.append(Block(name, lang, "\n".join(body) + "\n", start))
            name = None
        elif line.strip():
            name = None  # a marker names only the fence right after it
        index += 1
    return blocks


def _snippet(name: str) -> Block:
    found = [b for b in _blocks() if b.name == name]
    assert len(found) == 1, f"docs/integrations.md should have one snippet named {name!r}, has {len(found)}"
    return found[0]


def _prose() -> str:
    """The page without its fenced blocks."""
    return re.sub(r"^```.*?^```[ \t]*$", "", DOC.read_text(encoding="utf-8"), flags=re.MULTILINE | re.DOTALL)


def _env(**extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("CREDLINT_DEBUG", "GITHUB_STEP_SUMMARY", "CREDLINT_CACHE_DIR", "CREDLINT_NO_CACHE")}
    env.update({"NO_COLOR": "1", "COLUMNS": "200", **extra})
    return env


def _credlint(args: List[str], cwd: Path, stdin: Optional[bytes] = None, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "credlint", *args], cwd=str(cwd), env=_env(**env),
                          input=stdin if stdin is not None else b"", capture_output=True, timeout=120)


def _command(line: str) -> List[str]:
    """`credlint check ...` from a snippet as arguments for `python -m credlint`."""
    words = shlex.split(line)
    assert words[:2] == ["credlint", "check"], line
    return words[1:]


def _show(proc: subprocess.CompletedProcess) -> str:
    return (f"exit {proc.returncode}\n--- stdout\n{proc.stdout.decode(errors='replace')}\n"
            f"--- stderr\n{proc.stderr.decode(errors='replace')}")


@pytest.fixture
def examples(tmp_path) -> Path:
    """A copy of examples/ (credlint writes its cache and the CI reports at the project root)."""
    target = tmp_path / "examples"
    shutil.copytree(EXAMPLES, target, ignore=shutil.ignore_patterns(".credlint_cache", "__pycache__"))
    return target


# -- the help output: which options and formats exist ------------------------------------------

@pytest.fixture(scope="module")
def check_help() -> Tuple[set, set]:
    """(option names, report formats) of `credlint check --help`."""
    proc = subprocess.run([sys.executable, "-m", "credlint", "check", "--help"], env=_env(COLUMNS="1000"),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    options = set(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", proc.stdout))
    formats = re.search(r"--format \{([^}]*)\}", proc.stdout)
    assert formats, proc.stdout
    return options, set(formats.group(1).split(","))


def _options_used() -> List[Tuple[str, str, Optional[str]]]:
    """Every (where, option, value) of `credlint check` the page shows: fenced blocks (YAML comments
    included), the VS Code task's args, pre-commit hook args, and inline code in the prose."""
    used: List[Tuple[str, str, Optional[str]]] = []

    def words_of(where: str, words: List[str]) -> None:
        for index, word in enumerate(words):
            if not word.startswith("-") or word == "-":
                continue
            option, _, value = word.partition("=")
            if not value and index + 1 < len(words) and not words[index + 1].startswith("-"):
                value = words[index + 1]
            used.append((where, option, value or None))

    for block in _blocks():
        where = f"docs/integrations.md:{block.line}"
        if block.lang == "json":
            for task in json.loads(block.text)["tasks"]:
                if Path(task["command"]).name == "credlint":
                    assert task["args"][0] == "check", task
                    words_of(where, task["args"][1:])
            continue
        for line in block.text.splitlines():
            code = line.split(" #", 1)[0] if block.lang == "yaml" and "credlint check" in line else line
            if "credlint check" in code:
                words_of(where, shlex.split(code[code.index("credlint check") + len("credlint check"):]))
            elif re.search(r"args: \[", line):  # pre-commit hook args, also when commented out
                inner = line[line.index("[") + 1:line.rindex("]")]
                words_of(where, [w.strip() for w in inner.split(",")])
    for span in re.findall(r"`([^`\n]+)`", _prose()):
        if span.startswith("credlint check"):
            words_of("docs/integrations.md (prose)", shlex.split(span)[2:])
        elif span.startswith("--"):
            words_of("docs/integrations.md (prose)", span.split())
    return used


# -- the page as a whole -------------------------------------------------------------------------

def test_every_snippet_parses():
    blocks = _blocks()
    assert {b.name for b in blocks if b.name} == NAMED
    for block in blocks:
        where = f"docs/integrations.md:{block.line}"
        if block.lang == "yaml":
            assert yaml.safe_load(block.text) is not None, where
        elif block.lang == "json":
            json.loads(block.text)  # tasks.json allows comments; the page's has none, so it is plain JSON
        elif block.lang == "sh":
            for line in block.text.splitlines():
                shlex.split(line)
        else:
            pytest.fail(f"{where}: a fence without a checked language ({block.lang!r})")


def test_every_credlint_check_option_in_the_docs_exists(check_help):
    """Depends on --output-format and --stdin-filename (GitHub Actions, GitLab CI, editor plugins)."""
    options, formats = check_help
    used = _options_used()
    named = {option for _, option, _ in used}
    assert {"--format", "--output-format", "--stdin-filename", "--color", "--fail-on", "--baseline"} <= named, named
    for where, option, value in used:
        assert option in options, f"{where}: `credlint check {option}` is not an option of credlint check"
        if option == "--format" and value is not None and not value.isupper():
            assert value in formats, f"{where}: --format {value} is not one of {sorted(formats)}"
        if option == "--output-format" and value is not None and not value.startswith("FORMAT"):
            assert value.split(":", 1)[0] in formats, f"{where}: --output-format {value}: unknown format"


# -- pre-commit ----------------------------------------------------------------------------------

def _manifest() -> dict:
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    return hook


@pytest.mark.parametrize("name", ["pre-commit", "pre-commit-args", "pre-commit-files"])
def test_pre_commit_snippets_are_valid_configurations(name, tmp_path):
    config = yaml.safe_load(_snippet(name).text)
    (repo,) = config["repos"]
    assert repo["repo"].endswith("/credlint") and repo["rev"]
    assert [hook["id"] for hook in repo["hooks"]] == [_manifest()["id"]]
    path = tmp_path / ".pre-commit-config.yaml"
    path.write_text(_snippet(name).text, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "pre_commit", "validate-config", str(path)],
                          env=_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_pre_commit_files_snippet_is_the_default_plus_an_extra_source():
    default = re.compile(_manifest()["files"])
    (hook,) = yaml.safe_load(_snippet("pre-commit-files").text)["repos"][0]["hooks"]
    documented = re.compile(hook["files"])
    # The page copies the manifest's alternatives verbatim, then adds its own.
    for line in _manifest()["files"].splitlines():
        if line.strip() not in ("(?x)(", ")"):
            assert line.strip() in hook["files"], f"docs/integrations.md lost {line.strip()!r} of the hook's files"
    for name in ["flows/etl.py", "pyproject.toml", "deploy/start-agent.sh", "Makefile", "k8s/agent.yaml", ".env",
                 ".env.prod", "Dockerfile.agent", "supervisord.conf", "README.md", "requirements.txt"]:
        assert bool(documented.search(name)) == bool(default.search(name)), name
    assert documented.search("deploy/agent.service") and not default.search("deploy/agent.service")


# -- GitHub Actions ------------------------------------------------------------------------------

def test_github_actions_workflow_writes_annotations_and_sarif(examples, tmp_path):
    """Depends on --output-format."""
    workflow = yaml.safe_load(_snippet("github-actions").text)
    assert workflow["permissions"]["security-events"] == "write"
    (job,) = workflow["jobs"].values()
    runs = [step["run"] for step in job["steps"] if "credlint check" in step.get("run", "")]
    assert len(runs) == 1, "one credlint run writes both reports"
    (upload,) = [step for step in job["steps"] if step.get("uses", "").startswith("github/codeql-action/upload-sarif@")]
    assert upload["uses"].endswith("@v3")
    sarif_file = upload["with"]["sarif_file"]
    args = _command(runs[0])
    assert f"sarif:{sarif_file}" in args and "github" in args

    summary = tmp_path / "step-summary.md"
    proc = _credlint(args, examples, GITHUB_STEP_SUMMARY=str(summary))
    assert proc.returncode == 1, _show(proc)  # the examples have findings: the step fails
    lines = proc.stdout.decode().splitlines()
    assert lines and all(re.match(r"::(error|warning|notice) file=[^,]+,line=\d+,", line) for line in lines), _show(proc)
    document = json.loads((examples / sarif_file).read_text(encoding="utf-8"))
    assert document["version"] == "2.1.0"
    results = document["runs"][0]["results"]
    assert len([r for r in results if not r.get("suppressions")]) == len(lines)
    assert summary.read_text(encoding="utf-8").strip()


# -- GitLab CI -----------------------------------------------------------------------------------

def test_gitlab_job_writes_its_artifacts(examples):
    """Depends on --output-format."""
    config = yaml.safe_load(_snippet("gitlab-ci").text)
    job = config["credlint"]
    (line,) = [s for s in job["script"] if s.startswith("credlint check")]
    args = _command(line)
    written = [spec.split(":", 1)[1] for spec in args if re.fullmatch(r"[\w-]+:.+", spec)]
    assert sorted(written) == sorted(job["artifacts"]["paths"])
    assert job["artifacts"]["when"] == "always"

    proc = _credlint(args, examples)
    assert proc.returncode == 1, _show(proc)
    assert re.search(r"\d+ errors?", proc.stdout.decode()), "the full report goes to the job log"
    document = json.loads((examples / "credlint.sarif").read_text(encoding="utf-8"))
    assert document["version"] == "2.1.0"
    records = [json.loads(line) for line in (examples / "credlint.jsonl").read_text(encoding="utf-8").splitlines()]
    assert records and all({"code", "severity", "path", "line", "column", "message"} <= set(r) for r in records)


# -- VS Code -------------------------------------------------------------------------------------

def _task() -> dict:
    (task,) = json.loads(_snippet("vscode-tasks").text)["tasks"]
    return task


def _matcher() -> Tuple[re.Pattern, dict]:
    """The problem matcher's pattern as a Python regex. The page's JavaScript regex uses anchors,
    groups, character classes, `\\d` and greedy and lazy quantifiers only, which mean the same in
    Python once `\\d` is limited to ASCII digits, as it is in JavaScript (re.ASCII)."""
    matcher = _task()["problemMatcher"]
    pattern = matcher["pattern"]
    return re.compile(pattern["regexp"], re.ASCII), pattern


def _expected(args: List[str], cwd: Path) -> List[Tuple[str, int, int, str, str]]:
    """What the matcher should extract, from the JSON report of the same run."""
    proc = _credlint(["check", "--format", "json", *args], cwd)
    assert proc.returncode in (0, 1), _show(proc)
    return [(f["path"], f["line"], f["column"], f["code"], f"{f['name']} {f['message']}")
            for f in json.loads(proc.stdout)["findings"]]


def _match_all(output: str, workspace: Path) -> List[Tuple[str, int, int, str, str]]:
    regex, pattern = _matcher()
    found = []
    lines = output.splitlines()
    assert lines, "no output to match"
    for line in lines:
        match = regex.match(line)
        assert match, f"the problem matcher does not match {line!r}"
        file, line_no, column = match.group(pattern["file"]), match.group(pattern["line"]), match.group(pattern["column"])
        assert (workspace / file).is_file(), f"{file} is not a file relative to the workspace folder ({line!r})"
        assert line_no.isdigit() and int(line_no) >= 1 and column.isdigit() and int(column) >= 1, line
        code, message = match.group(pattern["code"]), match.group(pattern["message"])
        assert re.fullmatch(r"CL\d{3}", code), line
        found.append((file, int(line_no), int(column), code, message))
    return found


def test_vscode_task_settings():
    task = _task()
    matcher = task["problemMatcher"]
    assert matcher["fileLocation"] == ["relative", "${workspaceFolder}"]
    assert task["options"]["cwd"] == "${workspaceFolder}"
    assert matcher["severity"] == "warning"  # concise output has no severity (see the page)
    assert task["args"][:3] == ["check", "--format", "concise"]
    assert {"file", "line", "column", "code", "message", "regexp"} <= set(matcher["pattern"])


def test_vscode_problem_matcher_reads_the_task_output(examples):
    """The task as written, run in a workspace folder: every line becomes the right problem."""
    args = _task()["args"]
    proc = _credlint(args, examples)
    assert proc.returncode == 1, _show(proc)
    found = _match_all(proc.stdout.decode(), examples)
    assert found == _expected(args[3:], examples)
    assert len({code for *_, code, _ in found}) > 5


def test_vscode_problem_matcher_reads_concise_output_on_examples(examples):
    """`credlint check --format concise examples/` from the folder above (paths with a folder in
    front), and the one-file variant the page suggests (`${relativeFile}`)."""
    workspace = examples.parent
    proc = _credlint(["check", "--format", "concise", "examples/"], workspace)
    assert proc.returncode == 1, _show(proc)
    found = _match_all(proc.stdout.decode(), workspace)
    assert found == _expected(["examples/"], workspace)
    assert all(file.startswith("examples/") for file, *_ in found)

    args = [a if a != "." else "flows/ingest.py" for a in _task()["args"]]
    proc = _credlint(args, examples)
    found = _match_all(proc.stdout.decode(), examples)
    assert found == _expected(["flows/ingest.py"], examples)
    assert {file for file, *_ in found} == {"flows/ingest.py"}


# -- editor plugins ------------------------------------------------------------------------------

FLOW = """\
from prefect import Flow
from prefect.tasks.aws.s3 import S3Download
from prefect.tasks.secrets import PrefectSecret
with Flow("etl") as flow:
    S3Download(bucket="data")(key="k", credentials=PrefectSecret("AWS_CREDENTIALS"))
"""
AGENT = '#!/bin/sh\nprefect agent docker start -e PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS="$X"\n'


def test_editor_stdin_reads_the_buffer_within_the_project(tmp_path):
    """Depends on --stdin-filename."""
    (line,) = [l for l in _snippet("editor-stdin").text.splitlines() if l.strip()]
    words = shlex.split(line)
    assert words[:2] == ["credlint", "check"] and "<" in words, line
    args = words[1:words.index("<")]  # the buffer comes on standard input, as the redirect says
    path = args[args.index("--stdin-filename") + 1]
    assert args[-1] == "-" and args[args.index("--format") + 1] == "json"

    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.credlint]\nbackend = "server"\n', encoding="utf-8")
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "start-agent.sh").write_text(AGENT, encoding="utf-8")
    (tmp_path / Path(path).parent).mkdir(parents=True, exist_ok=True)
    (tmp_path / path).write_text(FLOW, encoding="utf-8")

    # The buffer, not the file on disk, is checked; the agent script on disk provides the secret.
    clean = _credlint(args, tmp_path, stdin=FLOW.encode())
    assert clean.returncode == 0, _show(clean)
    assert json.loads(clean.stdout)["findings"] == []
    edited = FLOW.replace('PrefectSecret("AWS_CREDENTIALS")', 'PrefectSecret("AWS_CREDS")')
    proc = _credlint(args, tmp_path, stdin=edited.encode())
    assert proc.returncode == 1, _show(proc)
    findings = json.loads(proc.stdout)["findings"]
    assert [(f["code"], f["path"], f["line"], f["secret"]) for f in findings] == [("CL101", path, 5, "AWS_CREDS")]

    # The fields the page lists are those of a finding.
    paragraph = _prose()[_prose().index("each finding has"):]
    paragraph = paragraph[:paragraph.index("`url`, the rule's page") + len("`url`")]
    listed = re.findall(r"`([a-z_]+)`", paragraph)
    assert set(listed) - {"error", "warning", "info"} == set(findings[0]), listed

    # A path whose file does not exist yet (a new, unsaved file) is fine; its folder must exist.
    (tmp_path / path).unlink()
    proc = _credlint(args, tmp_path, stdin=edited.encode())
    assert proc.returncode == 1, _show(proc)
    assert [f["path"] for f in json.loads(proc.stdout)["findings"]] == [path]


def _readme_blocks(language: str) -> List[str]:
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```" + language + r"\n(.*?)```", text, flags=re.S)


def test_readme_snippets_match_the_tested_ones():
    """The README repeats the main snippets; they must parse and agree with docs/integrations.md."""
    [tasks] = [json.loads(b) for b in _readme_blocks("json")]
    readme_matcher = tasks["tasks"][0]["problemMatcher"]["pattern"]
    docs_matcher = json.loads(_snippet("vscode-tasks").text)["tasks"][0]["problemMatcher"]["pattern"]
    assert readme_matcher == docs_matcher
    yamls = [yaml.safe_load(b) for b in _readme_blocks("yaml")]
    commands = [step["run"] for doc in yamls if isinstance(doc, dict) and "steps" in doc
                for step in doc["steps"] if "run" in step]
    commands += [line for doc in yamls if isinstance(doc, dict) and "credlint" in doc
                 for line in doc["credlint"]["script"]]
    checks = [c for c in commands if c.startswith("credlint check")]
    assert len(checks) == 2 and all("--output-format" in c for c in checks)
    help_text = subprocess.run([sys.executable, "-m", "credlint", "check", "--help"], capture_output=True,
                               text=True, check=True).stdout
    for command in checks:
        for word in _command(command):
            if word.startswith("--"):
                assert word.split("=")[0] in help_text, word
