"""Fingerprints, messages, baselines and the cache say nothing about a secret's value (issue 15).

A fingerprint is made from what the report shows (the masked line), so it cannot be checked
against guesses of a value, and two projects that differ only in their secrets' values give the
same fingerprints. Messages say "a string literal", not its length. The cache is its owner's
alone and holds no hash or length of a value.

The values are invented and well formed; literals of credential formats are split ("AKI" "A...")
so that this file does not look like it holds credentials.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import stat
import textwrap
import time

import pytest

from conftest import check_json, run_cli
from test_secrets_never_leak import assert_no_leak

# Three sets of values: A and B have the same lengths, C other lengths. AWS key ids have 20
# characters of the base-32 alphabet (A-Z, 2-7), which CL204 insists on.
VALUES = {
    "A": {"password": "Zq8uPw7731xKmN", "token": "ghp_" "Rk3mV8qL2xW9nB4tY7cP1sD6fH0jZ5aE2uQw",
          "key_id": "AKI" "AZ7Q4M2N3B5V3C6XW", "pin": "48213377"},
    "B": {"password": "Lm3nBv9922pQrT", "token": "ghp_" "Zx9cV2bN7mL4kJ8hG3fD6sA1pO5iU0yT7rEw",
          "key_id": "AKI" "AQ3W7E5R2T6Y2U4IJ", "pin": "90517263"},
    "C": {"password": "Hw5vK8rT1qZ2nM7pL4xQ9", "token": "ghp_" "Pq7Lm2Xv9Bn4Tc8Zr1Wk6Hs3Jd5Fy0Ga2Ue8QxNmR4",
          "key_id": "AKI" "AR4T5Y6U7I2O3P4A5", "pin": "731"},  # a key id's length is fixed
}


def _project_files(v: dict) -> dict:
    """Every rule that reports a hard-coded value, in Python and in deployment files."""
    return {
        "flows/etl.py": f'''
            import os

            import prefect
            from prefect import Flow, Parameter
            from prefect.run_configs import DockerRun
            from prefect.tasks.snowflake import SnowflakeQuery

            PASSWORD = "{v["password"]}"
            query = SnowflakeQuery(account="acme", user="loader", password="{v["password"]}")
            again = SnowflakeQuery(account="acme", user="loader", password=PASSWORD)
            prefect.context.secrets["DB_PASSWORD"] = "{v["password"]}"
            prefect.context.secrets["PIN"] = {v["pin"]}
            os.environ["PREFECT__CONTEXT__SECRETS__API"] = "{v["token"]}"
            KEY_ID = "{v["key_id"]}"  # an access key id in a string
            # rotated last week: {v["token"]}

            with Flow("load", run_config=DockerRun(env={{"PREFECT__CONTEXT__SECRETS__X": "{v["password"]}"}})) as flow:
                api_token = Parameter("api_token", default="{v["password"]}")
                repo = Parameter("repo", default="{v["token"]}")
                query(query="select 1", password="{v["password"]}")
            ''',
        "deploy/config.toml": f'''
            [context.secrets]
            DB_PASSWORD = "{v["password"]}"
            GCP_CREDENTIALS = '{{"type": "service_account", "private_key": "{v["password"]}", "active": true}}'
            ''',
        "deploy/agent.sh": f'''
            #!/bin/sh
            prefect agent local start --key {v["password"]} --label etl --env PREFECT__CONTEXT__SECRETS__A={v["password"]}
            prefect agent docker start -e GITHUB_TOKEN={v["token"]}
            ''',
        ".env": f"API_TOKEN={v['token']}\nDB_PASSWORD={v['password']}\nAWS_ACCESS_KEY_ID={v['key_id']}\n",
        "docker-compose.yml": f'''
            services:
              agent:
                command: prefect agent docker start
                environment:
                  PREFECT__CONTEXT__SECRETS__AWS_SECRET: "{v["password"]}"
            ''',
    }


VALUE_RULES = {"CL105", "CL201", "CL202", "CL203", "CL204", "CL302"}


def _write(root, files: dict) -> None:
    (root / ".git").mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


@pytest.fixture
def variants(tmp_path):
    """One project per set of values, identical but for the values."""
    roots = {}
    for name, values in VALUES.items():
        roots[name] = tmp_path / name
        _write(roots[name], _project_files(values))
    return roots


def _outputs(root) -> dict:
    """What a reader of each format learns: JSON findings, the baseline file, SARIF fingerprints."""
    doc = check_json("--no-cache", ".", cwd=root)
    code, out, err = run_cli("check", "--no-cache", "--write-baseline", "baseline.json", ".", cwd=root)
    assert code == 0, err
    code, sarif, err = run_cli("check", "--no-cache", "--format", "sarif", ".", cwd=root)
    assert code == 1, err
    results = json.loads(sarif)["runs"][0]["results"]
    return {
        "json": sorted((f["code"], f["path"], f["line"], f["message"], f["fingerprint"]) for f in doc["findings"]),
        "baseline": (root / "baseline.json").read_text(encoding="utf-8"),
        "sarif": sorted((r["ruleId"], r["partialFingerprints"]["credlintFingerprint/v2"]) for r in results),
    }


def test_fingerprints_do_not_depend_on_the_secret_values(variants):
    """Same length or not, other values give the same fingerprints, messages and baseline: nothing
    in them can be checked against a guess."""
    seen = {name: _outputs(root) for name, root in variants.items()}
    codes = {finding[0] for finding in seen["A"]["json"]}
    assert VALUE_RULES <= codes, codes
    assert len({finding[-1] for finding in seen["A"]["json"]}) == len(seen["A"]["json"])  # all distinct
    for name in ("B", "C"):
        for what in ("json", "baseline", "sarif"):
            assert seen[name][what] == seen["A"][what], f"{what} differs between values A and {name}"


def test_fingerprints_tell_findings_apart_and_survive_line_shifts(variants):
    root = variants["A"]
    before = check_json("--no-cache", ".", cwd=root)["findings"]
    by_fingerprint = {f["fingerprint"]: f for f in before}
    assert len(by_fingerprint) == len(before)  # another line, code or file: another fingerprint
    for path in ("flows/etl.py", "deploy/config.toml", "deploy/agent.sh", ".env", "docker-compose.yml"):
        target = root / path
        target.write_text("# moved down\n\n" + target.read_text(encoding="utf-8"), encoding="utf-8")
    after = check_json("--no-cache", ".", cwd=root)["findings"]
    assert sorted(f["fingerprint"] for f in after) == sorted(by_fingerprint)
    for finding in after:
        old = by_fingerprint[finding["fingerprint"]]
        assert (finding["code"], finding["path"], finding["message"]) == (old["code"], old["path"], old["message"])
        assert finding["line"] == old["line"] + 2


_LENGTH = re.compile(r"\d+\s*(?:characters|chars|bytes)\b")


@pytest.mark.parametrize("fmt", ["full", "concise", "json", "json-lines", "sarif", "github"])
def test_no_message_states_a_values_length(variants, fmt):
    root = variants["C"]
    code, out, err = run_cli("check", "--no-cache", "--format", fmt, ".", cwd=root)
    assert code == 1, err
    assert "CL201" in out and "CL204" in out
    assert "a string literal" in out
    assert not _LENGTH.search(out), _LENGTH.search(out)
    for value in VALUES["C"].values():
        assert value not in out and value not in err


def test_no_value_in_any_output_of_the_variant_project(variants):
    root = variants["A"]
    for fmt in ("full", "json", "sarif"):
        code, out, err = run_cli("check", "--no-cache", "--format", fmt, ".", cwd=root)
        for value in VALUES["A"].values():
            assert value not in out + err, (fmt, value)
    assert_no_leak("full report", run_cli("check", "--no-cache", ".", cwd=root)[1])


# ----- baselines ---------------------------------------------------------------------------

FLOW = """
    from prefect import Flow, Parameter
    from prefect.tasks.snowflake import SnowflakeQuery

    a = SnowflakeQuery(account="a", user="u", password="Zq8uPw7731xKmA")
    b = SnowflakeQuery(account="a", user="u", password="Zq8uPw7731xKmA")

    with Flow("f") as flow:
        token = Parameter("api_token")
    """
EXTRA = 'c = SnowflakeQuery(account="a", user="u", password="Zq8uPw7731xKmA")\n'


def _old_baseline(root, entries) -> None:
    """A baseline as credlint wrote it before fingerprints were made from masked lines."""
    document = {"version": 1, "tool": "credlint", "findings": [
        {"fingerprint": hashlib.sha256(f"{code}{path}{n}".encode()).hexdigest()[:20], "code": code,
         "path": path, "count": count} for n, (code, path, count) in enumerate(entries)]}
    (root / "old.json").write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def test_a_version_1_baseline_still_hides_what_it_recorded_and_says_how_to_rewrite_it(project):
    project({"flows/load.py": FLOW})
    _old_baseline(project.root, [("CL201", "flows/load.py", 2), ("CL302", "flows/load.py", 1)])
    code, out, err = run_cli("check", "--baseline", "old.json", ".", cwd=project.root)
    assert code == 0, out + err
    assert "3 known finding(s) not shown" in err
    notes = [line for line in err.splitlines() if "older credlint (version 1)" in line]
    assert len(notes) == 1 and "--write-baseline old.json" in notes[0], err
    assert notes[0].startswith("credlint: baseline old.json: ")

    # matched by code and file, up to each entry's count: a third CL201 is new
    with open(project.root / "flows/load.py", "a", encoding="utf-8") as handle:
        handle.write(EXTRA)
    doc = check_json("--baseline", "old.json", ".", cwd=project.root)
    assert [f["code"] for f in doc["findings"]] == ["CL201"]

    # rewriting it as the note says gives a version 2 baseline, read without a note
    code, _, err = run_cli("check", "--write-baseline", "old.json", ".", cwd=project.root)
    assert code == 0 and json.loads((project.root / "old.json").read_text())["version"] == 2
    code, out, err = run_cli("check", "--baseline", "old.json", ".", cwd=project.root)
    assert code == 0 and "older credlint" not in err, err


def test_a_version_1_baseline_reports_entries_that_match_nothing(project):
    project({"flows/load.py": FLOW})
    _old_baseline(project.root, [("CL201", "flows/load.py", 3), ("CL203", ".env", 1)])
    code, out, err = run_cli("check", "--baseline", "old.json", "--format", "json", ".", cwd=project.root)
    assert [f["code"] for f in json.loads(out)["findings"]] == ["CL302"]  # not recorded
    assert "no longer matches: CL201 in flows/load.py (x1)" in err
    assert "no longer matches: CL203 in .env (x1)" in err


def test_a_version_2_baseline_matches_by_fingerprint(project):
    project({"flows/load.py": FLOW})
    code, _, err = run_cli("check", "--write-baseline", "base.json", ".", cwd=project.root)
    assert code == 0, err
    document = json.loads((project.root / "base.json").read_text())
    assert document["version"] == 2 and len(document["findings"]) == 3
    assert {e["path"] for e in document["findings"]} == {"flows/load.py"}
    # Another finding of the same code in the same file is not hidden by a count.
    for entry in document["findings"]:
        if entry["code"] == "CL302":
            entry["fingerprint"] = "0" * 20
    (project.root / "base.json").write_text(json.dumps(document), encoding="utf-8")
    code, out, err = run_cli("check", "--baseline", "base.json", "--format", "json", ".", cwd=project.root)
    assert "older credlint" not in err
    assert [f["code"] for f in json.loads(out)["findings"]] == ["CL302"]
    assert "no longer matches: CL302 in flows/load.py (x1)" in err


def test_a_baseline_of_another_version_is_refused(project):
    project({"flows/load.py": FLOW, "base.json": json.dumps({"version": 3, "tool": "credlint", "findings": []})})
    code, _, err = run_cli("check", "--baseline", "base.json", ".", cwd=project.root)
    assert code == 2 and "not a credlint baseline" in err


# ----- the cache ---------------------------------------------------------------------------

def _modes(folder):
    return {p.relative_to(folder).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in [folder, *folder.rglob("*")]}


def _age(root, seconds=60):
    when = time.time() - seconds  # old enough to be trusted by mtime: the report is kept too
    for path in root.rglob("*"):
        if path.is_file() and ".credlint_cache" not in path.parts:
            os.utime(path, (when, when))


def test_the_cache_is_private_even_with_an_open_umask(variants):
    root = variants["A"]
    _age(root)
    old = os.umask(0)  # the child inherits it: files would be 0666 if credlint relied on it
    try:
        code, _, err = run_cli("check", ".", cwd=root)
    finally:
        os.umask(old)
    assert code == 1, err
    cache = root / ".credlint_cache"
    modes = _modes(cache)
    assert {name for name in modes if name.startswith("run-")}, modes  # the kept report
    assert {name for name in modes if name.startswith("catalogue-")}, modes  # the catalogue snapshot
    assert modes.pop(".") == 0o700
    assert modes and set(modes.values()) == {0o600}, modes


def test_an_existing_open_cache_folder_is_closed_when_written(variants):
    root = variants["A"]
    _age(root)
    assert run_cli("check", ".", cwd=root)[0] == 1
    cache = root / ".credlint_cache"
    os.chmod(cache, 0o755)  # as an older credlint left it
    for path in cache.iterdir():
        os.chmod(path, 0o644)
    flow = root / "flows" / "etl.py"
    flow.write_text(flow.read_text() + "\nOTHER = 1\n")
    _age(root, 30)
    assert run_cli("check", ".", cwd=root)[0] == 1
    modes = _modes(cache)
    assert [name for name in modes if name.endswith(".journal")], modes  # the edit went to the journal
    assert modes.pop(".") == 0o700
    assert set(modes.values()) == {0o600}, modes


def test_a_cache_dir_that_is_not_a_cache_is_left_open(variants, tmp_path):
    """`--cache-dir` pointing at a folder with other files in it: its mode is the user's business."""
    shared = tmp_path / "common"
    shared.mkdir()
    (shared / "notes.txt").write_text("mine\n")
    os.chmod(shared, 0o755)
    _age(variants["A"])
    assert run_cli("check", "--cache-dir", str(shared), ".", cwd=variants["A"])[0] == 1
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755
    assert stat.S_IMODE((shared / "CACHEDIR.TAG").stat().st_mode) == 0o600  # its own files are private


def _old_value_digest(text: str) -> str:
    """How credlint 0.x hashed a value into the cache (key in the code): a guess could be checked."""
    return hmac.new(b"credlint/value-digest/v1", text.encode(), hashlib.sha256).hexdigest()[:12]


def _values_in(data, found):
    if isinstance(data, dict):
        if data.get("kind") in ("str", "bytes") or "pattern" in data:
            found.append(data)
        for item in data.values():
            _values_in(item, found)
    elif isinstance(data, list):
        for item in data:
            _values_in(item, found)
    return found


def test_the_cache_holds_no_hash_or_length_of_a_value(variants):
    root = variants["A"]
    _age(root)
    assert run_cli("check", ".", cwd=root)[0] == 1
    cache = root / ".credlint_cache"
    (index,) = cache.glob("facts-*.json")
    stored = json.loads(index.read_text())
    values = _values_in(stored, [])
    assert any("pattern" in v for v in values) and any(v.get("kind") == "str" for v in values)
    for value in values:
        assert not {"length", "digest"} & set(value), value
    text = "".join(p.read_text(errors="replace") for p in cache.iterdir() if p.is_file())
    for value in VALUES["A"].values():
        for hashed in (_old_value_digest(value), hashlib.sha256(value.encode()).hexdigest()[:12]):
            assert hashed not in text
        assert value not in text


def test_a_value_that_is_its_own_variables_name_is_a_placeholder(project):
    """`ApiToken: ApiToken` in a template stands for the variable's value. This was told by
    comparing value digests; it is now decided when the file is read, so facts need no digest."""
    project({
        "flows/etl.py": "import prefect\n",
        "docker-compose.yml": """
            services:
              agent:
                command: prefect agent local start
                environment:
                  ApiToken: ApiToken
                  OtherToken: Xq7vN2mL9pR4tW8z
            """,
        "deploy/config.toml": """
            [context.secrets]
            MyToken = "MyToken"
            OtherToken = "Xq7vN2mL9pR4tW8z"
            """,
        "deploy/agent.sh": "prefect agent local start --token --token\nprefect agent local start -t Xq7vN2mL9pR4tW8z\n",
    })
    doc = check_json(".", cwd=project.root)
    found = sorted((f["path"], f["line"]) for f in doc["findings"] if f["code"] == "CL203")
    assert found == [("deploy/agent.sh", 2), ("deploy/config.toml", 3), ("docker-compose.yml", 6)], found


def test_content_digests_in_the_cache_are_keyed_with_the_caches_own_secret(variants):
    """A plain SHA-256 of a `.env` holding one secret lets a copy of the cache test guesses; the
    cache keys its content digests with a random key of its own, kept 0600 beside them."""
    root = variants["A"]
    _age(root)
    assert run_cli("check", ".", cwd=root)[0] == 1
    cache = root / ".credlint_cache"
    text = "".join(p.read_text(errors="replace") for p in cache.iterdir() if p.is_file() and p.name != "key")
    files = [p for p in root.rglob("*") if p.is_file() and ".credlint_cache" not in p.parts and ".git" not in p.parts]
    assert files
    for path in files:
        plain = hashlib.sha256(path.read_bytes()).hexdigest()
        assert plain[:32] not in text and plain[:16] not in text, path
    key = cache / "key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(bytes.fromhex(key.read_text().strip())) == 32
    # The digests are keyed with that key: a `git checkout` that touches files without changing
    # them still costs a hash, not a parse (the cache keeps working) ...
    for path in files:
        os.utime(path)
    _age(root, 30)
    from credlint.api import Options, check

    before = os.getcwd()
    os.chdir(root)
    try:
        run = check(Options(paths=["."], server=False))
    finally:
        os.chdir(before)
    assert run.stats["analysed"] == 0, run.stats
    # ... and a cache whose key is replaced is simply not trusted by content.
    key.write_text(os.urandom(32).hex() + "\n")
    for path in files:
        os.utime(path)
    _age(root, 20)
    os.chdir(root)
    try:
        run = check(Options(paths=["."], server=False))
    finally:
        os.chdir(before)
    assert run.stats["analysed"] > 0, run.stats
