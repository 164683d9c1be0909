"""CL204 as broad as detect-secrets for high-confidence formats (issue 15, point 9).

Every value here is built at run time from a seeded generator (never written whole in this file),
well-formed for its format and free of the words credlint reads as placeholders. The corpus is
planted in tmp_path, scanned by detect-secrets with its high-confidence plugins and by credlint,
and every (file, line) detect-secrets flags must be a CL204 of credlint's.
"""
from __future__ import annotations

import base64
import json
import os
import random
import string
import subprocess
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from conftest import check_json, run_cli
from test_catalogue_proof import prefect_python  # noqa: F401 - the session fixture that builds the venv

pytest_plugins = ["pytester"]

# detect-secrets' plugins whose findings are formats, not guesses. Left out: the entropy plugins
# and KeywordDetector (guesses by design), ArtifactoryDetector ("AP" + 9 characters: noise) and
# IPPublicDetector (an address is not a credential).
HIGH_CONFIDENCE = (
    "AWSKeyDetector", "AzureStorageKeyDetector", "BasicAuthDetector", "CloudantDetector", "DiscordBotTokenDetector",
    "GitHubTokenDetector", "GitLabTokenDetector", "IbmCloudIamDetector", "IbmCosHmacDetector", "JwtTokenDetector",
    "MailchimpDetector", "NpmDetector", "OpenAIDetector", "PrivateKeyDetector", "PypiTokenDetector",
    "SendGridDetector", "SlackDetector", "SoftlayerDetector", "SquareOAuthDetector", "StripeDetector",
    "TelegramBotTokenDetector", "TwilioKeyDetector",
)

PLACEHOLDER_WORDS = ("fake", "example", "dummy", "sample", "test", "changeme", "xxx", "your", "here")
ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "_-"
B64 = ALNUM + "+/"
HEX = "0123456789abcdef"
B32 = string.ascii_uppercase + "234567"
UPPER_DIGITS = string.ascii_uppercase + string.digits


class Values:
    """Well-formed invented credentials, one of each format, from a fixed seed."""

    def __init__(self, seed: int = 15):
        self.rng = random.Random(seed)

    def rand(self, n: int, alphabet: str = ALNUM) -> str:
        while True:
            value = "".join(self.rng.choice(alphabet) for _ in range(n))
            lowered = value.lower()
            if any(w in lowered for w in PLACEHOLDER_WORDS) or _has_run(value):
                continue
            if alphabet in (ALNUM, URLSAFE, B64) and not (any(c.isupper() for c in value)
                                                          and any(c.islower() for c in value)
                                                          and any(c.isdigit() for c in value)):
                continue
            return value

    def digits(self, n: int) -> str:
        return str(self.rng.randint(10 ** (n - 1), 10 ** n - 1))

    def all(self) -> Dict[str, str]:
        b64url = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()  # noqa: E731
        claims = {"sub": "svc-loader", "iat": 1714003200, "scope": "flows:write"}
        jwt = (b64url(b'{"alg":"HS256","typ":"JWT"}') + "." + b64url(json.dumps(claims).encode()) + "."
               + self.rand(43, URLSAFE))
        return {
            "aws_access_key_id": "AK" "IA" + self.rand(16, B32),
            "aws_secret_access_key": self.rand(40, B64),
            "azure_storage": "AccountKey=" + self.rand(86, B64) + "==",
            "database_url": "postgresql://etl:" + self.rand(14) + "@db.internal:5432/warehouse",
            "cloudant_password": self.rand(64, HEX),
            "discord_bot_token": b64url(self.digits(18).encode()) + "." + self.rand(6, URLSAFE) + "."
            + self.rand(27, URLSAFE),
            "github_token": "gh" "p_" + self.rand(36),
            "gitlab_token": "gl" "pat-" + self.rand(20),
            "ibm_cloud_iam_api_key": self.rand(44, URLSAFE),
            "cos_hmac_secret_access_key": self.rand(48, HEX),
            "jwt": jwt,
            "mailchimp_api_key": self.rand(32, HEX) + "-us" + str(self.rng.randint(1, 21)),
            "npmrc": "//registry.npmjs.org/:_authToken=" "np" "m_" + self.rand(36),
            "openai_api_key": "sk" "-" + self.rand(20) + "T3Blbk" "FJ" + self.rand(20),
            "pypi_token": "py" "pi-AgEIcHlwaS5vcmc" + self.rand(80, URLSAFE),
            "sendgrid_api_key": "S" "G." + self.rand(22, URLSAFE) + "." + self.rand(43, URLSAFE),
            "slack_bot_token": "xo" "xb-" + self.digits(11) + "-" + self.digits(12) + "-" + self.rand(24),
            "slack_webhook_url": "https://hooks.slack.com/services/T" + self.rand(8, UPPER_DIGITS)
            + "/B" + self.rand(8, UPPER_DIGITS) + "/" + self.rand(24),
            "softlayer_api_key": self.rand(64, string.ascii_lowercase + string.digits),
            "square_secret": "sq" "0csp-" + self.rand(43, URLSAFE),
            "stripe_api_key": "sk" "_live_" + self.rand(24),
            "telegram_bot_token": self.digits(9) + ":A" "A" + self.rand(33, URLSAFE),
            "twilio_api_key": "S" "K" + self.rand(32, HEX),
        }

    def pem(self, kind: str = "RSA ") -> List[str]:
        body = ["MII" + self.rand(61, B64)] + [self.rand(64, B64) for _ in range(4)] + [self.rand(20, B64) + "=="]
        return ["-----BEGIN " + kind + "PRIVATE" " KEY-----", *body, "-----END " + kind + "PRIVATE" " KEY-----"]

    def putty(self) -> List[str]:
        return (["PuTTY-User-" "Key-File-2: ssh-rsa", "Encryption: none", "Comment: rsa-key-20240611",
                 "Public-Lines: 1", "AAAAB3Nza" + self.rand(55, B64), "Private-Lines: 2"]
                + [self.rand(64, B64) for _ in range(2)] + ["Private-MAC: " + self.rand(40, HEX)])


def _has_run(text: str, size: int = 5) -> bool:
    """A straight run such as abcde or 54321, which credlint rightly reads as not random."""
    codes = [ord(c) for c in text]
    for step in (1, -1):
        run = 1
        for a, b in zip(codes, codes[1:]):
            run = run + 1 if b - a == step else 1
            if run >= size:
                return True
    return False


# ---------------------------------------------------------------------------------------------
# The planted corpus: every format in every text file type, plus key files


def _quoted_lines(values: Dict[str, str], assign: str) -> List[str]:
    out = []
    for name, value in values.items():
        out.append(value if name == "npmrc" else f'{name}{assign}"{value}"')
    return out


def plant(root: Path, seed: int = 15) -> Dict[str, List[str]]:
    """Write the corpus under `root`; return {relative path: [planted value, ...]}."""
    gen = Values(seed)
    values = gen.all()
    pem, openssh, putty = gen.pem(), gen.pem("OPENSSH "), gen.putty()
    planted: Dict[str, List[str]] = {}

    def write(rel: str, text: str, secrets: List[str]) -> None:
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        planted[rel] = secrets

    everything = list(values.values())
    write("flows/settings.py", "\n".join(_quoted_lines(values, " = ") + ['KEY = """' + "\n".join(pem) + '"""'])
          + "\n", everything + [pem[1]])
    doc = dict(values)
    doc["private_key"] = "\n".join(pem) + "\n"
    write("config/services.json", json.dumps(doc, indent=2) + "\n", everything + [pem[1]])
    write("deploy/values.yaml", "\n".join(_quoted_lines(values, ": ") + ["private_key: |"] + ["  " + x for x in pem])
          + "\n", everything + [pem[1]])
    toml_key = 'private_key = """' + "\n".join(pem) + '"""'
    write("deploy/settings.toml", "\n".join(_quoted_lines(values, " = ") + [toml_key]) + "\n", everything + [pem[1]])
    write("docs/setup.md", "# Setup\n\nThe service account in use:\n\n```python\n"
          + "\n".join(_quoted_lines(values, " = ")) + "\n```\n\nIts key:\n\n```\n" + "\n".join(pem) + "\n```\n",
          everything + [pem[1]])
    write("docs/notes.txt", "\n".join(f"{name}: {value}" for name, value in values.items()) + "\n", everything)
    write(".env", "\n".join(_quoted_lines(values, "=")) + "\n", everything)
    cells = [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
              "source": [line + "\n" for line in _quoted_lines(values, " = ")]},
             {"cell_type": "markdown", "metadata": {}, "source": ["Key:\n", "\n".join(pem)]}]
    notebook = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    write("notebooks/explore.ipynb", json.dumps(notebook, indent=1) + "\n", everything + [pem[1]])
    write("keys/id_rsa", "\n".join(openssh) + "\n", [openssh[1]])
    write("keys/key.pem", "\n".join(pem) + "\n", [pem[1]])
    write("keys/deploy.ppk", "\r\n".join(putty) + "\r\n", [putty[6]])
    return planted


def lines_holding(root: Path, planted: Dict[str, List[str]]) -> Dict[str, set]:
    """{path: lines where a planted value starts (for a JSON-escaped key, its BEGIN line)}."""
    out: Dict[str, set] = {}
    for rel, secrets in planted.items():
        lines = (root / rel).read_text(encoding="utf-8").split("\n")
        for secret in secrets:
            probe = secret[:30]
            hits = [i + 1 for i, line in enumerate(lines) if probe in line or probe in line.replace("\\n", "\n")]
            assert hits, (rel, probe[:6])
            out.setdefault(rel, set()).update(hits)
    return out


def detect_secrets_hits(root: Path) -> List[Tuple[str, int, str]]:
    """(path, line, type) of every finding of detect-secrets' high-confidence plugins."""
    from detect_secrets import SecretsCollection
    from detect_secrets.settings import transient_settings

    found = []
    with transient_settings({"plugins_used": [{"name": name} for name in HIGH_CONFIDENCE]}):
        collection = SecretsCollection()
        for folder, folders, files in os.walk(root):
            folders[:] = sorted(f for f in folders if f not in (".git", ".credlint_cache"))
            for name in sorted(files):
                collection.scan_file(os.path.join(folder, name))
        for filename, secret in collection:
            found.append((Path(filename).relative_to(root).as_posix(), secret.line_number, secret.type))
    return sorted(found)


def cl204_spans(doc: dict) -> Dict[str, List[Tuple[int, int]]]:
    spans: Dict[str, List[Tuple[int, int]]] = {}
    for finding in doc["findings"]:
        if finding["code"] == "CL204":
            spans.setdefault(finding["path"], []).append((finding["line"], finding["end_line"]))
    return spans


def covered(spans: Dict[str, List[Tuple[int, int]]], path: str, line: int) -> bool:
    return any(start <= line <= end for start, end in spans.get(path, ()))


@pytest.fixture
def corpus(project):
    project({"flows/flow.py": "import prefect\n"})
    return project.root, plant(project.root)


def test_every_line_detect_secrets_flags_is_a_cl204(corpus):
    """The issue's measure: detect-secrets (high-confidence plugins) finds nothing credlint misses.

    CL204 fires on its own wherever a format matches (CL203 in a .env or CL201 in code may come
    too, but never instead), so the comparison asks for CL204 itself."""
    root, planted = corpus
    theirs = detect_secrets_hits(root)
    ours = cl204_spans(check_json("--select", "CL204", ".", cwd=root))
    missed = [(path, line, kind) for path, line, kind in theirs if not covered(ours, path, line)]
    assert not missed, f"detect-secrets flags lines credlint does not: {missed}"
    # detect-secrets really ran, with every plugin, over every file type
    kinds = {kind for _, _, kind in theirs}
    assert len(kinds) == len(HIGH_CONFIDENCE), sorted(kinds)  # one secret type per plugin
    assert {path for path, _, _ in theirs} == set(planted)


def test_credlint_finds_every_planted_value_in_every_file_type(corpus):
    root, planted = corpus
    doc = check_json("--select", "CL204", ".", cwd=root)
    ours = cl204_spans(doc)
    for path, lines in sorted(lines_holding(root, planted).items()):
        missing = sorted(line for line in lines if not covered(ours, path, line))
        assert not missing, f"{path}: no CL204 on lines {missing}"
    assert set(ours) == set(planted)  # and in nothing else (flows/flow.py is clean)


def secret_part(value: str) -> str:
    """A planted value without its public part (a URL's host, a key name, an .npmrc's registry)."""
    for public in ("_authToken=", "/services/", "AccountKey="):
        value = value.split(public, 1)[-1]
    if value.startswith("postgresql://"):
        value = value.split(":", 2)[2].split("@", 1)[0]
    return value


def test_findings_in_the_new_file_types_show_no_part_of_a_value(corpus):
    root, planted = corpus
    secrets = {secret_part(value) for values in planted.values() for value in values}
    pieces = {s[i:i + 8] for s in secrets for i in range(0, len(s) - 7)}
    for fmt in ("full", "json", "sarif", "concise"):
        code, out, err = run_cli("check", "--no-cache", "--format", fmt, ".", cwd=root)
        assert code == 1, err
        leaked = sorted(p for p in pieces if p in out or p in err)
        assert not leaked, (fmt, leaked[:3])


# ---------------------------------------------------------------------------------------------
# Discovery, limits and classification

GH = "gh" "p_Rk3mV8qL2xW9nB4tY7cP1sD6fH0jZ5aE2uQw"


def test_scanned_only_types_are_discovered_but_never_deployment_files(project):
    typo = "PREFECT__CONTEXT__SECRET__AWS_CREDENTIALS"  # CL106 in a deployment file
    project({
        "flows/flow.py": "import prefect\n",
        "docs/agent.md": f"Start it with `prefect agent docker start -e {typo}=$X`.\n",
        "docs/agent.rst": f"  prefect agent docker start -e {typo}=$X\n",
        "notes/run.txt": f"{typo}=abc123\n",
        "config/settings.json": '{"env": {"' + typo + '": "$X"}}\n',
        "infra/main.tf": f'token = "{GH}"\n',
        ".npmrc": f"//npm.pkg.github.com/:_authToken={GH}\n",
        ".aws/credentials": "[default]\naws_access_key_id = AK" "IA4OLYYN3T6VICJWWQ\n",
        "keys/id_ed25519.pub": f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 {GH}\n",  # a public key file is not read
        "keys/store.p12": b"0\x82\x00\x00" + GH.encode(),  # binary: out of scope
    })
    doc = check_json("--no-cache", ".", cwd=project.root)
    got = sorted((f["path"], f["code"]) for f in doc["findings"])
    assert got == [(".aws/credentials", "CL204"), (".npmrc", "CL204"), ("infra/main.tf", "CL204")], got


def test_binary_key_files_are_skipped(project):
    project({"flows/flow.py": "import prefect\n", "tls.key": b"\x30\x82\x04\xa4\x00\x01" + GH.encode() + b"\n",
             "tls2.key": b"junk\n" + GH.encode() + b"\n"})
    doc = check_json("--no-cache", ".", cwd=project.root)
    assert [(f["path"], f["code"]) for f in doc["findings"]] == [("tls2.key", "CL204")]


def test_files_over_the_size_limit_are_not_read(project):
    from credlint.facts.file import MAX_FILE_BYTES

    filler = ("x" * 99 + "\n") * (MAX_FILE_BYTES // 100 + 1)
    project({"flows/flow.py": "import prefect\n", "big.json": f'"{GH}"\n' + filler, "small.json": f'"{GH}"\n'})
    doc = check_json("--no-cache", ".", cwd=project.root)
    assert [(f["path"], f["code"]) for f in doc["findings"]] == [("small.json", "CL204")]


def test_a_private_key_finding_covers_its_block_and_masks_every_line(project):
    gen = Values(3)
    pem = gen.pem("EC ")
    project({"flows/flow.py": "import prefect\n", "certs/server.pem": "\n".join(pem) + "\n"})
    code, out, err = run_cli("check", "--no-cache", "--format", "full", ".", cwd=project.root)
    assert code == 1, err
    doc = check_json("--no-cache", ".", cwd=project.root)
    (finding,) = doc["findings"]
    assert (finding["code"], finding["line"], finding["end_line"]) == ("CL204", 1, len(pem))
    for line in pem[1:-1]:
        assert line[:12] not in out and line[-12:] not in out


# ---------------------------------------------------------------------------------------------
# Prefect config.toml: dict-valued secrets, key by key

def test_dict_valued_config_secrets_are_checked_key_by_key(project):
    secret = Values(4).rand(40, B64)
    project({
        "flows/flow.py": "from prefect import Flow\nfrom prefect.tasks.aws.s3 import S3Download\n"
                         "with Flow('etl') as flow:\n    S3Download(bucket='b')(key='k')\n",
        "deploy/config.toml": "\n".join([
            "[context.secrets]",
            f'AWS_CREDENTIALS = {{ ACCESS_KEY = "$AWS_ACCESS_KEY_ID", SECRET_ACCESS_KEY = "{secret}" }}',
            'GCP_CREDENTIALS = { type = "service_account", client_email = "etl@acme.iam.gserviceaccount.com" }',
            "",
            "[context.secrets.SNOWFLAKE]",
            'user = "loader"',
            f'password = "{secret[::-1]}"',
            'region = "eu-west-1"',
            "",
            "[context.secrets.PLACEHOLDERS]",
            'SECRET_ACCESS_KEY = "<your secret access key>"',
            'token = "${TOKEN}"',
        ]) + "\n",
    })
    doc = check_json("--no-cache", ".", cwd=project.root)
    got = sorted((f["code"], f["line"], f["column"], f["secret"]) for f in doc["findings"])
    assert got == [
        ("CL104", 3, 1, "GCP_CREDENTIALS"),  # declared in a config, and the flow reads only AWS
        ("CL104", 5, 18, "SNOWFLAKE"),
        ("CL104", 10, 18, "PLACEHOLDERS"),
        ("CL105", 3, 1, "GCP_CREDENTIALS"),  # no private_key, no token_uri: a dict of the wrong shape
        ("CL203", 2, 56, "AWS_CREDENTIALS"),  # the literal secret key, at its own key
        ("CL203", 7, 1, "SNOWFLAKE"),  # a table's password; not user, not region
        ("CL204", 2, 77, None),  # and its format, as anywhere
    ], got
    messages = [f["message"] for f in doc["findings"] if f["code"] == "CL203"]
    assert "SECRET_ACCESS_KEY of secret 'AWS_CREDENTIALS'" in messages[0]
    assert "password of secret 'SNOWFLAKE'" in messages[1]
    for f in doc["findings"]:
        assert secret[:10] not in json.dumps(f) and secret[::-1][:10] not in json.dumps(f)


def test_a_dict_valued_secret_of_the_wrong_shape_is_cl105_in_table_form(project):
    project({
        "flows/flow.py": "from prefect import Flow\nfrom prefect.tasks.aws.s3 import S3Download\n"
                         "with Flow('etl') as flow:\n    S3Download(bucket='b')(key='k')\n",
        "config.toml": '[context.secrets.AWS_CREDENTIALS]\nACCESS_KEY = "$KEY_ID"\nREGION = "eu-west-1"\n',
    })
    doc = check_json("--no-cache", ".", cwd=project.root)
    assert [(f["code"], f["line"], f["secret"]) for f in doc["findings"]] == [("CL105", 1, "AWS_CREDENTIALS")]
    assert "SECRET_ACCESS_KEY" in doc["findings"][0]["message"]


# ---------------------------------------------------------------------------------------------
# The kept report, the cache folder, the pytest plugin


def test_a_new_or_edited_json_file_is_checked_on_the_next_run(project, monkeypatch):
    import time

    project({"flows/flow.py": "import prefect\n", "docs/readme.md": "nothing here\n"})
    monkeypatch.setenv("CREDLINT_NO_SERVER", "1")
    assert check_json(".", cwd=project.root)["findings"] == []
    time.sleep(2.2)  # older than the two seconds within which a kept report is not trusted
    assert check_json(".", cwd=project.root)["findings"] == []  # may be the kept report
    (project.root / "config.json").write_text(f'{{"token": "{GH}"}}\n')
    assert [f["path"] for f in check_json(".", cwd=project.root)["findings"]] == ["config.json"]
    time.sleep(2.2)
    (project.root / "docs/readme.md").write_text(f"token {GH}\n")
    assert [f["path"] for f in check_json(".", cwd=project.root)["findings"]] == ["config.json", "docs/readme.md"]


def test_a_cache_folder_inside_the_project_is_not_read(project):
    from credlint.files.discover import DEFAULT_EXCLUDES, discover

    project({"flows/flow.py": "import prefect\n"})
    code, _out, err = run_cli("check", "--no-server", "--cache-dir", "build-cache", ".", cwd=project.root)
    assert code == 0, err
    assert any(p.suffix == ".json" for p in (project.root / "build-cache").iterdir())
    assert [rel for rel, _ in discover(project.root, DEFAULT_EXCLUDES)] == ["flows/flow.py"]


def test_pytest_credlint_makes_items_of_the_scanned_types(pytester):
    (pytester.path / "pyproject.toml").write_text("[tool.credlint]\n", encoding="utf-8")
    (pytester.path / "keys").mkdir()
    (pytester.path / "keys/id_rsa").write_text("\n".join(Values(5).pem()) + "\n", encoding="utf-8")
    (pytester.path / "keys/id_rsa.pub").write_text("ssh-rsa AAAAB3NzaC1yc2E\n", encoding="utf-8")
    (pytester.path / "data.json").write_text('{"a": 1}\n', encoding="utf-8")
    result = pytester.runpytest_subprocess("-p", "no:randomly", "--credlint", "-v")
    result.stdout.fnmatch_lines(["*data.json::credlint PASSED*"])
    result.stdout.fnmatch_lines(["*keys/id_rsa::credlint FAILED*"])
    assert "id_rsa.pub" not in result.stdout.str()
    result.assert_outcomes(passed=3, failed=1)  # data.json, pyproject.toml, the project item; keys/id_rsa


# ---------------------------------------------------------------------------------------------
# No CL204 on a clean corpus: Prefect 1.4.1 itself

def test_no_cl204_on_the_prefect_1_4_1_source(prefect_python, tmp_path):  # noqa: F811 - the fixture
    """The installed prefect package (its .py files and the .json, .yaml, .toml, .txt data inside)
    and its README (the wheel's METADATA, Markdown), copied into a project of their own."""
    import shutil

    where = subprocess.run([str(prefect_python), "-c", "import os, prefect; print(os.path.dirname(prefect.__file__))"],
                           capture_output=True, text=True, timeout=120, check=True).stdout.strip()
    package = Path(where)
    root = tmp_path / "prefect-1.4.1"
    shutil.copytree(package, root / "prefect", ignore=shutil.ignore_patterns("__pycache__"))
    metadata = next(package.parent.glob("prefect-1.4.1.dist-info")) / "METADATA"
    shutil.copy(metadata, root / "README.md")
    (root / ".git").mkdir()
    kinds = {p.suffix for p in root.rglob("*") if p.is_file()}
    assert {".py", ".json", ".yaml", ".toml", ".txt", ".md"} <= kinds
    doc = check_json("--no-cache", "--select", "CL204", ".", cwd=root)
    assert doc["findings"] == [], [(f["path"], f["line"], f["message"]) for f in doc["findings"]]
    from credlint.files.discover import DEFAULT_EXCLUDES, discover

    scanned = [rel for rel, _ in discover(root, DEFAULT_EXCLUDES)]
    assert len(scanned) > 300 and any(rel.endswith(".json") for rel in scanned)
