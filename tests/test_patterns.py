"""CL204's credential formats (credlint/patterns.py): vectors, placeholders, positions, no leaks, speed.

Every token below is invented, built to have the right shape. Literals are split ("AKI" "A...")
so that this file does not itself look like it holds credentials to other scanners.
"""
from __future__ import annotations

import importlib
import inspect
import random
import time

import pytest

from credlint.facts.patterns.scan import could_match, scan
from credlint.facts.patterns.table import PATTERNS, Pattern
from credlint.facts.types import Match

IDS = [p.id for p in PATTERNS]

# The formats the CL204 issue asks for, by id.
REQUIRED = {
    "aws-access-key-id", "aws-secret-access-key", "private-key", "gcp-service-account", "github-token",
    "gitlab-token", "slack-token", "slack-webhook", "stripe-key", "sendgrid-key", "twilio-key",
    "databricks-token", "snowflake-url-password", "generic-url-password",
}

# Words that mark a value as a placeholder: true vectors must not lean on them.
PLACEHOLDER_WORDS = ("fake", "example", "dummy", "sample", "test", "xxx", "changeme")


def ids_of(text: str):
    return [m.pattern for m in scan(text.encode("utf-8"))]


def spans(text: str):
    """(match, the text a match covers), the text cut from `text` by the match's positions."""
    lines = text.split("\n")
    out = []
    for m in scan(text.encode("utf-8")):
        if m.line == m.end_line:
            covered = lines[m.line - 1][m.column - 1:m.end_column - 1]
        else:
            covered = "\n".join([lines[m.line - 1][m.column - 1:]] + lines[m.line:m.end_line - 1]
                                + [lines[m.end_line - 1][:m.end_column - 1]])
        out.append((m, covered))
    return out


def fragments(secret: str, width: int = 8):
    return {secret[i:i + width] for i in range(len(secret) - width + 1)} | {secret}


# ---------------------------------------------------------------------------------------------
# The catalogue


def test_catalogue_covers_the_issue_and_is_well_formed():
    assert REQUIRED <= set(IDS)
    assert len(IDS) == len(set(IDS))
    for p in PATTERNS:
        assert isinstance(p, Pattern)
        assert p.title and p.title[0].isalpha()
        assert len(p.true_vectors) >= 2, p.id
        assert len(p.false_vectors) >= 2, p.id


# What detect-secrets' high-confidence plugins find that the first catalogue lacked (issue 15,
# point 9), and the common formats gitleaks also knows; tests/test_secret_breadth.py measures the
# parity on a planted corpus.
BREADTH = {
    "mailchimp-key", "discord-bot-token", "telegram-bot-token", "jwt", "square-token", "ibm-cloud-iam-key",
    "ibm-cos-hmac-key", "cloudant-credential", "softlayer-key", "huggingface-token", "vault-token",
    "digitalocean-token", "azure-ad-client-secret",
}


def test_catalogue_covers_detect_secrets_high_confidence_formats():
    assert BREADTH <= set(IDS)
    keys = next(p for p in PATTERNS if p.id == "private-key").true_vectors
    for header in ("RSA PRIVATE", "EC PRIVATE", "DSA PRIVATE", "ENCRYPTED PRIVATE", "OPENSSH PRIVATE",
                   "PGP PRIVATE KEY BLOCK", "SSH2 ENCRYPTED", "PuTTY-User-Key-File-2", "PuTTY-User-Key-File-3"):
        assert any(header in v for v in keys), header


def test_binary_data_is_not_scanned():
    """A NUL byte in the first 8 KB marks a binary file (a DER key, an image): out of reach."""
    assert ids_of(GH) == ["github-token"]
    for data in (b"\x30\x82\x00" + GH.encode(), b"\x00" * 8191 + b"\n" + GH.encode()):
        assert scan(data) == [] and not could_match(data)
    late = b"x" * 8192 + b"\x00\n" + GH.encode()  # a NUL further in: still text
    assert [m.pattern for m in scan(late)] == ["github-token"] and could_match(late)


def test_a_jwt_is_found_in_prose_and_judged_by_its_decoded_parts():
    (token,) = [v.split("=", 1)[1] for v in next(p for p in PATTERNS if p.id == "jwt").true_vectors
                if v.startswith("PREFECT__")]
    assert ids_of(f"Log in with {token}. Then run the flow.") == ["jwt"]
    header, claims, signature = token.split(".")
    assert ids_of(f"{header}.{claims}.{signature[:-1]}") == []  # HS256 signs with 43 characters
    assert ids_of(f"{header}.{claims}.{signature}x") == []
    assert ids_of(f"{header}.{header}.{signature}") == ids_of(f"{header}.{claims}.{signature}")  # any claims
    assert ids_of(f"{claims}.{claims}.{signature}") == []  # no "alg": not a JWT header
    import base64
    import hashlib
    import hmac

    for key in (b"secret", b"your-256-bit-secret", b"a key nobody documents"):
        mac = hmac.new(key, f"{header}.{claims}".encode(), hashlib.sha256).digest()
        resigned = f"{header}.{claims}." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
        # signed with a key from documentation: anyone can forge it, so it is a sample
        assert ids_of(resigned) == ([] if key != b"a key nobody documents" else ["jwt"]), key


def test_scan_reports_only_catalogued_ids():
    everything = "\n".join(v for p in PATTERNS for v in p.true_vectors)
    assert set(ids_of(everything)) == set(IDS)


@pytest.mark.parametrize("pattern_id,vector", [(p.id, v) for p in PATTERNS for v in p.true_vectors])
def test_true_vectors_match_with_their_id(pattern_id, vector):
    assert ids_of(vector) == [pattern_id]
    assert could_match(vector.encode())


@pytest.mark.parametrize("pattern_id,vector", [(p.id, v) for p in PATTERNS for v in p.false_vectors])
def test_false_vectors_match_nothing(pattern_id, vector):
    assert ids_of(vector) == []


@pytest.mark.parametrize("pattern_id,vector", [(p.id, v) for p in PATTERNS for v in p.true_vectors])
def test_true_vectors_do_not_lean_on_placeholder_words(pattern_id, vector):
    for match, secret in spans(vector):
        assert not any(w in secret.lower() for w in PLACEHOLDER_WORDS), (pattern_id, match)


def test_the_catalogue_and_these_tests_do_not_read_as_credentials():
    """True vectors are split literals, so other scanners (and push protection) stay quiet."""
    import credlint.facts.patterns.table as module
    for path in (inspect.getsourcefile(module), __file__):
        assert scan(open(path, "rb").read()) == [], path


def test_true_vectors_still_match_inside_a_larger_file():
    body = "\n".join(f"x{i} = {i}" for i in range(50))
    for p in PATTERNS:
        for v in p.true_vectors:
            assert ids_of(body + "\n" + v + "\n" + body) == [p.id], (p.id, v[:40])


# ---------------------------------------------------------------------------------------------
# Placeholders and documentation examples

DOCUMENTED = [
    'AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"',
    "aws_access_key_id = AKIAI44QH8DHBEXAMPLE",
    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    'AWS_SECRET_ACCESS_KEY: "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"',
    '{"ACCESS_KEY": "AKIAIOSFODNN7EXAMPLE", "SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}',
    "GITHUB_TOKEN=ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    "GITHUB_TOKEN=<token>", "GITHUB_TOKEN=ghp_<token>", "token: YOUR_KEY_HERE", "GITHUB_TOKEN=ghp_YOUR_KEY_HERE",
    "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "GITHUB_TOKEN=${GITHUB_TOKEN}",
    "GITLAB_TOKEN=glpat-xxxxxxxxxxxxxxxxxxxx", "GITLAB_TOKEN=glpat-{{ gitlab_token }}",
    "SLACK_BOT_TOKEN=xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",
    "SLACK_BOT_TOKEN=xoxb-<token>", "SLACK_BOT_TOKEN=xoxb-xxxxxxxxxxxx-xxxxxxxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx",
    "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
    "https://hooks.slack.com/services/${SLACK_PATH}",
    "STRIPE_API_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx", "STRIPE_API_KEY=sk_live_<key>",
    "STRIPE_API_KEY=sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "SENDGRID_API_KEY=SG.xxxxxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "DATABRICKS_TOKEN=dapixxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "DATABRICKS_TOKEN=${DATABRICKS_TOKEN}",
    "GOOGLE_API_KEY=AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe",
    "AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq"
    "/K1SZFPTOtr/KBHBeksoGMGw==",
    "snowflake://loader:<password>@acme/raw", "snowflake://loader:${SNOWFLAKE_PASSWORD}@acme/raw",
    "snowflake://loader:YOUR_PASSWORD_HERE@acme/raw", "snowflake://loader:xxxxxxxx@acme/raw",
    "snowflake://{user}:{password}@{account}", "snowflake://loader:{{ password }}@acme/raw",
    "postgresql://etl:%(password)s@db/warehouse", "postgresql://etl:$DB_PASSWORD@db/warehouse",
    "postgresql://etl:********@db/warehouse", "postgresql://user:pass@example.com/db",
    "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
    "-----BEGIN PRIVATE KEY-----\n<your key here>\n-----END PRIVATE KEY-----",
    "-----BEGIN PRIVATE KEY-----\n${PRIVATE_KEY}\n-----END PRIVATE KEY-----",
    "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC...\n-----END PRIVATE KEY-----",
    '{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\nYOUR_KEY_HERE\\n'
    '-----END PRIVATE KEY-----\\n"}',
]


@pytest.mark.parametrize("line", DOCUMENTED)
def test_documented_examples_and_placeholders_are_not_findings(line):
    assert ids_of(line) == []


def test_bodies_that_are_not_random_are_not_findings():
    for body in ("A" * 36, "ab" * 18, "0123456789abcdefghijABCDEFGHIJ012345", "aaaaabbbbbcccccdddddeeeeefffffgggggh",
                 "thisisjustalowercasewordnotatokenabc"):
        assert ids_of("GITHUB_TOKEN=gh" "p_" + body) == [], body


# ---------------------------------------------------------------------------------------------
# Positions

GH = "gh" "p_Rk3mV8qL2xW9nB4tY7cP1sD6fH0jZ5aE2uQw"
AK = "AKI" "A4OLYYN3T6VICJWWQ"
PW = "3fnZWQNi" "22zV"
PEM = ["-----BEGIN RSA " "PRIVATE KEY-----",
       "MIIEowIBAAKCAQEA" "H1dVfRR/6wafw4JBjDDOeyxJ66CSvl33VC75R1jLIcRH7Q9O",
       "a168zTwOu8zlim+MTQ4lMIVz7pfeq8ZI3GzhvCzfzN99J1uKbZWOejXcxosFTAYR",
       "KzzVATVHCp3O/Yw5wvT9cZwXXf8QP9==",
       "-----END RSA " "PRIVATE KEY-----"]

FILE = "\n".join([
    '"""Loader flow: no secrets up here, only prose about tokens."""',  # 1
    "import os",  # 2
    "",  # 3
    f'AWS = "{AK}"',  # 4
    f'NAME = "Zoë ✓ ünïcode"; TOKEN = "{GH}"  # non-ASCII before the token',  # 5
    f"URL = 'postgresql://etl:{PW}@db.internal:5432/warehouse'",  # 6
    'KEY = """' + PEM[0],  # 7
    *PEM[1:4],  # 8-10
    PEM[4] + '"""',  # 11
    f"SAME = '{AK}'",  # 12
])


def expected_span(text, needle, occurrence=0):
    """1-based (line, column, end_line, end_column) of `needle` in `text`, columns in characters."""
    at = -1
    for _ in range(occurrence + 1):
        at = text.index(needle, at + 1)
    end = at + len(needle)

    def where(offset):
        line = text.count("\n", 0, offset) + 1
        return line, offset - (text.rfind("\n", 0, offset) + 1) + 1

    return where(at) + where(end)


def test_positions_are_exact_on_a_multiline_file():
    matches = scan(FILE.encode("utf-8"))
    got = [(m.pattern, m.line, m.column, m.end_line, m.end_column) for m in matches]
    key_text = "\n".join(PEM)
    assert got == [
        ("aws-access-key-id",) + expected_span(FILE, AK),
        ("github-token",) + expected_span(FILE, GH),
        ("generic-url-password",) + expected_span(FILE, PW),
        ("private-key",) + expected_span(FILE, key_text),
        ("aws-access-key-id",) + expected_span(FILE, AK, 1),
    ]
    assert got[1][1:3] == (5, 34)  # counted in characters: UTF-8 bytes would put it at 39
    assert FILE.split("\n")[4].encode().index(GH.encode()) + 1 == 39
    assert got[3][1:] == (7, 10, 11, len(PEM[4]) + 1)  # from its BEGIN line through END


def test_positions_survive_crlf_line_endings_and_a_byte_order_mark():
    plain = [(m.pattern, m.line, m.column, m.end_line, m.end_column) for m in scan(FILE.encode())]
    crlf = [(m.pattern, m.line, m.column, m.end_line, m.end_column)
            for m in scan(FILE.replace("\n", "\r\n").encode())]
    bom = [(m.pattern, m.line, m.column, m.end_line, m.end_column)
           for m in scan(b"\xef\xbb\xbf" + FILE.encode())]
    assert plain == crlf == bom


def test_columns_after_undecodable_bytes_count_replacement_characters():
    data = b"x = '\xff\xfe\xe2\x82' ; t = '" + GH.encode() + b"'\n"
    (m,) = scan(data)
    prefix = data[:data.index(b"gh")].decode("utf-8", "replace")
    assert (m.line, m.column, m.end_column) == (1, len(prefix) + 1, len(prefix) + 1 + len(GH))


def test_matches_are_sorted_and_repeated_secrets_are_each_reported():
    text = "\n".join([f"a = '{GH}'", f"b = '{AK}'", f"c = '{GH}'"])
    matches = scan(text.encode())
    assert [(m.line, m.pattern) for m in matches] == [(1, "github-token"), (2, "aws-access-key-id"),
                                                     (3, "github-token")]
    assert matches == sorted(matches, key=lambda m: (m.line, m.column))


# ---------------------------------------------------------------------------------------------
# Secrets never leak into a Match

@pytest.mark.parametrize("pattern_id,vector", [(p.id, v) for p in PATTERNS for v in p.true_vectors])
def test_a_match_holds_no_part_of_the_secret(pattern_id, vector):
    for match, covered in spans(vector):
        assert covered, match
        shown = repr(match) + " ".join(str(getattr(match, f)) for f in Match.__dataclass_fields__)
        for piece in fragments(covered):
            assert piece not in shown, (pattern_id, match)


def test_a_match_says_nothing_about_the_value():
    """Matches are cached: no hash or length of the secret, which a reader could test guesses on.
    Two secrets of one format at one place give the same Match."""
    assert list(Match.__dataclass_fields__) == ["pattern", "line", "column", "end_line", "end_column"]
    other_gh = GH[:4] + GH[4:][::-1]
    for text, other in ((f"t = '{GH}'", f"t = '{other_gh}'"), (FILE, FILE.replace(AK, AK[:4] + AK[4:][::-1]))):
        assert scan(text.encode()) == scan(other.encode()) != []


# ---------------------------------------------------------------------------------------------
# Specific behaviour


def test_the_most_specific_format_wins_where_two_overlap():
    assert ids_of(f"git clone https://x-access-token:{GH}@github.com/acme/flows.git") == ["github-token"]
    assert ids_of(f"snowflake://loader:{PW}@acme/raw") == ["snowflake-url-password"]


def test_a_private_key_without_footer_is_still_reported_through_its_body():
    text = "\n".join(PEM[:3]) + "\n"  # truncated: no END line
    (m,) = scan(text.encode())
    assert (m.pattern, m.line, m.column, m.end_line, m.end_column) == ("private-key", 1, 1, 2, len(PEM[1]) + 1)


def test_a_private_key_in_python_string_pieces_is_one_finding():
    text = 'KEY = (\n    "' + '\\n"\n    "'.join(PEM) + '\\n"\n)\n'
    (m,) = scan(text.encode())
    assert m.pattern == "private-key" and (m.line, m.end_line) == (2, 6)


def test_aws_secret_needs_its_key_name_on_the_same_line():
    value = "30eWnUt1xfTCt38Q" "vE2aCj405jPvGcfLYflaTgrr"
    assert ids_of(f"aws_secret_access_key = {value}") == ["aws-secret-access-key"]
    assert ids_of(f"SecretAccessKey: {value}") == ["aws-secret-access-key"]
    assert ids_of(f"aws_secret_access_key =\n{value}") == []
    assert ids_of(f"value = {value}") == []


def test_scan_and_could_match_never_raise():
    for data in (b"", b"\x00\xff" * 100, "ünïcode ✓".encode(), bytearray(GH.encode()), memoryview(GH.encode()),
                 GH, None, 42):
        assert isinstance(scan(data), list)
        assert isinstance(could_match(data), bool)
    assert ids_of(GH) == ["github-token"]
    assert [m.pattern for m in scan(bytearray(GH.encode()))] == ["github-token"]


# ---------------------------------------------------------------------------------------------
# The cheap pre-check

PREFECT_FLOW = b'''
import prefect
from prefect import Flow, task, Parameter
from prefect.run_configs import KubernetesRun
from prefect.storage import GitHub


@task
def extract(url: str) -> list:
    return [url]


with Flow("etl", storage=GitHub(repo="acme/flows", path="flows/etl.py"),
          run_config=KubernetesRun(image="acme/etl:1.4")) as flow:
    rows = extract(Parameter("url", default="https://api.acme.io/v1/items"))
'''


@pytest.mark.parametrize("module", ["textwrap", "bisect", "heapq", "colorsys", "string", "csv", "shlex"])
def test_could_match_is_false_on_ordinary_python(module):
    source = open(inspect.getsourcefile(importlib.import_module(module)), "rb").read()
    assert not could_match(source)
    assert scan(source) == []


def test_could_match_is_false_on_a_flow_without_credentials():
    assert not could_match(PREFECT_FLOW)


def test_could_match_holds_whenever_scan_finds_something():
    rng = random.Random(7)
    pieces = [v for p in PATTERNS for v in p.true_vectors] + ["x = 1", "://", "@", "-", "_", "'", "\n", " "]
    for _ in range(300):
        text = "".join(rng.choice(pieces)[rng.randrange(3):] for _ in range(rng.randrange(1, 6)))
        if scan(text.encode()):
            assert could_match(text.encode()), text


# ---------------------------------------------------------------------------------------------
# Speed: linear on adversarial input (bounds are generous, for slow machines)

MB = 1 << 20
RNG = random.Random(204)
B64 = bytes(RNG.choice(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") for _ in range(MB))


def fill(unit: bytes, size: int = MB) -> bytes:
    return unit * (size // len(unit) + 1)


ADVERSARIAL = {
    "base64 run": B64,
    "one character": b"A" * MB,
    "BEGIN headers": fill(b"-----BEGIN "),
    "BEGIN key headers": fill(b"-----BEGIN PRIVATE KEY-----"),
    "BEGIN with bodies, no END": fill(b"-----BEGIN RSA PRIVATE KEY-----\n" + B64[:64] + b"\n"),
    "BEGIN bodies, one far END": fill(b"-----BEGIN PRIVATE KEY-----\n" + B64[:64] + b"\n")
    + b"-----END PRIVATE KEY-----",
    "://a: fragments": fill(b"://a:") + b"x://a:Zq8u" b"Pw7731xKmN@h",
    "://a: with colons": fill(b"x://" + b":" * 400) + b"@h",
    "scheme runs": fill(b"a" * 300 + b"://u:") + b"@",
    "snowflake URLs": fill(b"snowflake://a/?w=1&"),
    "key names": fill(b"aws_secret_access_key=") + b" " * 1000,
    "key names and spaces": b"AWS_SECRET_ACCESS_KEY" + b" " * MB,
    "token prefixes": fill(b"ghp_xoxb-1-glpat-sk_live_SG.dapiAIzanpm_pnu_"),
    "OpenAI markers": fill(b"sk-" + b"T3BlbkFJ" * 40 + b"a" * 300 + b" "),
    "slack hooks": fill(b"hooks.slack.com/services/T0123456/"),
    "service accounts": fill(b'"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\n'),
    "JWT marks": fill(b"eyJ"),
    "JWT-like runs": fill(b" eyJ" + B64[:4000].replace(b"+", b"-").replace(b"/", b".")),
    "JWT headers": fill(b"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0." + b"a" * 43 + b" "),
    "Mailchimp data centres": fill(b"-us1"),
    "Mailchimp bodies": fill(b"0" * 40 + b"-us12"),
    "Telegram colons": fill(b"1234567890:A"),
    "Telegram bodies": fill(b"1234567890:A" + B64[:34].replace(b"+", b"_").replace(b"/", b"-") + b" "),
    "Azure AD markers": fill(b"abc8Q~"),
    "Discord ids": fill(b"MTA" + b"x" * 22 + b".abcdef."),
    "PuTTY headers": fill(b"PuTTY-User-Key-File-2: ssh-rsa\n"),
    "PuTTY private lines": fill(b"PuTTY-User-Key-File-3: ssh-rsa\nPrivate-Lines: 999\n" + B64[:64] + b"\n"),
    "SSH2 headers": fill(b"---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\n"),
    "vendor key names": fill(b"ibm_cloud_api_key=cloudant_password=softlayer_api_key=cos_hmac_secret_access_key="),
}


@pytest.mark.parametrize("name", list(ADVERSARIAL))
def test_scanning_adversarial_input_is_linear(name):
    data = ADVERSARIAL[name]
    started = time.perf_counter()
    scan(data)
    could_match(data)
    assert time.perf_counter() - started < 2.0, name


def test_many_real_findings_cost_little_each():
    keys = [b"AKIA" + bytes(RNG.choice(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16)) for _ in range(10000)]
    data = b"\n".join(b"k = '" + k + b"'" for k in keys)
    started = time.perf_counter()
    matches = scan(data)
    assert time.perf_counter() - started < 2.0
    assert len(matches) == len(keys)
