"""Planted secret values never reach any output: not whole, not in part (DESIGN.md sections 1, 7).

The values are well-formed but invented. They avoid the words credlint reads as placeholders
(fake, example, dummy, sample, test, changeme, xxx), so credlint treats them as real secrets.
"""
from __future__ import annotations

import json
import os
import time

import pytest

from conftest import run_cli

PASSWORD = "Zq8uPw7731xKmN"
AWS_SECRET = "h7Tq2LmZ9vR4sN8pW1xY6cB3kD5fG0jAQe3Ru7Vb"
SLACK_HOOK = "https://hooks.slack.com/services/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"
GITHUB_TOKEN = "ghp_Rk3mV8qL2xW9nB4tY7cP1sD6fH0jZ5aE2uQw"

# What must never be shown. The public prefix of the Slack URL is not a secret (and may well be
# named in a message), so only the part after /services/ is cut into substrings.
SECRET_TEXTS = [PASSWORD, AWS_SECRET, SLACK_HOOK.split("/services/", 1)[1], GITHUB_TOKEN]


def fragments(texts=SECRET_TEXTS, width=8):
    out = set()
    for text in texts:
        out.add(text)
        out.update(text[i:i + width] for i in range(len(text) - width + 1))
    return out


def assert_no_leak(where: str, text: str) -> None:
    leaked = sorted(f for f in fragments() if f in text)
    assert not leaked, f"{where} shows secret fragments {leaked[:5]}:\n{text}"


def test_planted_values_are_well_formed():
    assert len(AWS_SECRET) == 40
    for value in SECRET_TEXTS:
        lowered = value.lower()
        assert not any(w in lowered for w in ("fake", "example", "dummy", "sample", "test", "changeme", "xxx"))


FLOW = f'''
import prefect
from prefect import Flow, Parameter
from prefect.run_configs import DockerRun
from prefect.tasks.aws.s3 import S3Download
from prefect.tasks.snowflake import SnowflakeQuery

PREFIX = "{PASSWORD[:6]}"
PASSWORD = PREFIX + "{PASSWORD[6:]}"
AWS_KEY = "{AWS_SECRET[:20]}" "{AWS_SECRET[20:]}"
HOOK = "{SLACK_HOOK}"

query = SnowflakeQuery(account="acme", user="loader", password=PASSWORD)
download = S3Download(bucket="raw", boto_kwargs={{"aws_secret_access_key": AWS_KEY}})
prefect.context.secrets["SLACK_WEBHOOK_URL"] = HOOK

env = {{
    "PREFECT__CONTEXT__SECRETS__DB_PASSWORD": f"{{PREFIX}}{PASSWORD[6:]}",
    "AWS_SECRET_ACCESS_KEY": AWS_KEY,
}}

with Flow("load", run_config=DockerRun(env=env)) as flow:
    api_token = Parameter("api_token", default=PASSWORD)
    repo_token = Parameter("repo", default="{GITHUB_TOKEN}")
    query(query="select 1", password="{PASSWORD}")
    download(key="orders.csv")
'''

CONFIG_TOML = f'''
[context.secrets]
AWS_CREDENTIALS = {{ ACCESS_KEY = "AKIAZ7Q4M2N8B5V3C6X1", SECRET_ACCESS_KEY = "{AWS_SECRET}" }}
'''

EXPECTED = {"CL201", "CL202", "CL302"}


@pytest.fixture
def planted(project):
    (project.root / "flow.py").write_text(FLOW.lstrip("\n"), encoding="utf-8")
    (project.root / "deploy").mkdir()
    (project.root / "deploy" / "config.toml").write_text(CONFIG_TOML.lstrip("\n"), encoding="utf-8")
    return project


def _codes_in_json(text):
    return {f["code"] for f in json.loads(text)["findings"]}


def test_the_planted_values_are_found(planted):
    code, out, err = run_cli("check", "--format", "json", ".", cwd=planted.root)
    assert code == 1, err
    found = json.loads(out)["findings"]
    assert EXPECTED <= {f["code"] for f in found}
    assert sum(f["code"] == "CL201" for f in found) >= 3  # password= (init, run) and boto_kwargs
    assert sum(f["code"] == "CL202" for f in found) >= 3  # context write and two env entries
    assert sum(f["code"] == "CL302" for f in found) == 2


@pytest.mark.parametrize("fmt", ["full", "concise", "json"])
def test_no_value_in_stdout_or_stderr(planted, fmt):
    code, out, err = run_cli("check", "--format", fmt, ".", cwd=planted.root)
    assert code == 1, err
    for expected in EXPECTED:
        assert expected in out, f"{expected} missing from the {fmt} report"
    assert_no_leak(f"--format {fmt} stdout", out)
    assert_no_leak(f"--format {fmt} stderr", err)


@pytest.mark.parametrize("fmt", ["full", "concise", "json"])
def test_no_value_in_the_output_file(planted, fmt):
    code, out, err = run_cli("check", "--format", fmt, "--output", "report.out", ".", cwd=planted.root)
    assert code == 1, err
    written = (planted.root / "report.out").read_text(encoding="utf-8")
    for expected in EXPECTED:
        assert expected in written
    assert_no_leak(f"--output ({fmt})", written)
    assert_no_leak(f"--output ({fmt}) stdout", out)
    assert_no_leak(f"--output ({fmt}) stderr", err)


def test_no_value_with_statistics_and_color(planted):
    code, out, err = run_cli("check", "--statistics", "--color", "always", ".", cwd=planted.root)
    assert code == 1, err
    assert "CL201" in out
    assert_no_leak("full --color always --statistics", out)


def test_no_value_in_multi_line_snippets_after_a_form_feed(project):
    """A form feed (^L, PEP 8's page break) is whitespace to Python, not a line break: the snippet
    under a multi-line finding must still show (masked) the right lines."""
    source = (
        "from prefect import Flow, Parameter\n"
        "\x0c\n"
        "with Flow(\"x\") as flow:\n"
        "    token = Parameter(\"api_token\",\n"
        f"        default=\"{PASSWORD}\",\n"
        "        required=False)\n"
    )
    (project.root / "flow.py").write_text(source, encoding="utf-8")
    code, out, err = run_cli("check", ".", cwd=project.root)
    assert "CL302" in out
    assert_no_leak("full report of a file with a form feed", out)


def test_no_value_in_the_snippet_of_a_parse_error(project):
    """credlint cannot tell which strings of an unparsable file are secrets, so it must not print
    the raw line with its string literals."""
    (project.root / "flow.py").write_text(
        "from prefect.tasks.snowflake import SnowflakeQuery\n"
        f'query = SnowflakeQuery(account="acme", password="{PASSWORD}"\n', encoding="utf-8")
    for fmt in ("full", "concise", "json"):
        code, out, err = run_cli("check", "--format", fmt, ".", cwd=project.root)
        assert "CL000" in out
        assert_no_leak(f"--format {fmt} for a parse error", out + err)


DEPLOY_FILES = {
    "deploy/agent.sh": (
        "#!/bin/sh\n"
        f"# legacy token, do not use: {GITHUB_TOKEN}\n"
        "prefect agent docker start --label etl \\\n"
        f"  -e PREFECT__CONTEXT__SECRETS__DB_PASSWORD={PASSWORD} \\\n"
        f"  -e SLACK_WEBHOOK_URL={SLACK_HOOK}\n"
    ),
    "docker-compose.yml": (
        "services:\n"
        "  agent:\n"
        "    command: prefect agent docker start\n"
        "    environment:\n"
        f"      PREFECT__CONTEXT__SECRETS__AWS_SECRET: \"{AWS_SECRET}\"\n"
    ),
    ".env": f"API_TOKEN={GITHUB_TOKEN}\nPREFECT__CONTEXT__SECRET__PW={PASSWORD}\n",
    "notes.py": f"# rotated on Monday: {GITHUB_TOKEN}\nOLD = '{GITHUB_TOKEN}'\n",
}


@pytest.fixture
def planted_everywhere(planted):
    for rel, text in DEPLOY_FILES.items():
        target = planted.root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return planted


def test_every_output_of_every_command_is_clean(planted_everywhere):
    root = planted_everywhere.root
    code, out, err = run_cli("check", "--format", "json", ".", cwd=root)
    found = {f["code"] for f in json.loads(out)["findings"]}
    assert {"CL106", "CL107", "CL203", "CL204"} <= found, found
    runs = []
    for fmt in ("full", "concise", "json"):
        runs.append((f"check --format {fmt}",) + run_cli("check", "--format", fmt, "--statistics", ".", cwd=root)[1:])
    for fmt in ("table", "json"):
        runs.append((f"inventory --format {fmt}",) + run_cli("inventory", "--format", fmt, ".", cwd=root)[1:])
    runs.append(("write-baseline",) + run_cli("check", "--write-baseline", "base.json", ".", cwd=root)[1:])
    runs.append(("baseline",) + run_cli("check", "--baseline", "base.json", ".", cwd=root)[1:])
    for name, out, err in runs:
        assert_no_leak(f"{name} stdout", out)
        assert_no_leak(f"{name} stderr", err)
    assert_no_leak("baseline file", (root / "base.json").read_text())


def test_the_cache_holds_no_value(planted_everywhere):
    root = planted_everywhere.root
    when = time.time() - 60  # old enough to be trusted by mtime, so the report is kept too
    for path in root.rglob("*"):
        if path.is_file():
            os.utime(path, (when, when))
    for jobs in ("1", "2"):  # each writes a cache of its own
        code, out, err = run_cli("check", "--jobs", jobs, "--format", "json", "--cache-dir",
                                 f".credlint_cache/jobs-{jobs}", ".", cwd=root)
        assert code == 1, err
    # An edit after the cache is warm goes to the index's journal: it is written too.
    flow = sorted(p for p in root.rglob("*.py") if ".credlint_cache" not in p.parts)[0]
    flow.write_text(flow.read_text() + f'\nANOTHER_PASSWORD = "{PASSWORD}"\n')
    os.utime(flow, (when + 1, when + 1))
    code, out, err = run_cli("check", "--jobs", "1", "--format", "json", "--cache-dir", ".credlint_cache/jobs-1",
                             ".", cwd=root)
    assert code == 1, err
    cache = root / ".credlint_cache"
    written = sorted(p for p in cache.rglob("*") if p.is_file())
    assert [p for p in written if p.suffix == ".journal"], f"no journal was written: {written}"
    facts = [p for p in written if p.name.startswith("facts-") and p.suffix == ".json"]
    assert facts, f"no facts were cached: {written}"
    assert [p for p in written if p.name.startswith("run-")], f"no report was kept: {written}"
    index = json.loads(facts[0].read_text())
    planted_files = {p.relative_to(root).as_posix() for p in root.rglob("*")
                     if p.is_file() and ".credlint_cache" not in p.parts and ".git" not in p.parts}
    assert planted_files - {"base.json"} <= set(index["files"])  # every planted file went through the cache
    # Nor anything a guess could be checked against: the keyed digest credlint used to store
    # (its key was in the code) or a plain hash of a value.
    import hashlib
    import hmac

    hashes = {hmac.new(b"credlint/value-digest/v1", v.encode(), hashlib.sha256).hexdigest()[:12] for v in SECRET_TEXTS}
    hashes |= {hashlib.sha256(v.encode()).hexdigest()[:12] for v in SECRET_TEXTS}
    for path in written:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert_no_leak(f"cache file {path.name}", text)
        assert not [h for h in hashes if h in text], f"cache file {path.name} holds a hash of a value"


def test_stdin_and_multiple_outputs_show_no_value(planted):
    import subprocess
    import sys

    from conftest import _env

    source = (planted.root / "flow.py").read_bytes()
    proc = subprocess.run([sys.executable, "-m", "credlint", "check", "--stdin-filename", "flows/unsaved.py",
                           "--output-format", "sarif:out.sarif", "--output-format", "full"], input=source,
                          cwd=str(planted.root), env=_env(), capture_output=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert b"CL201" in proc.stdout
    assert_no_leak("stdin full", proc.stdout.decode())
    assert_no_leak("stdin stderr", proc.stderr.decode())
    assert_no_leak("stdin sarif", (planted.root / "out.sarif").read_text())
