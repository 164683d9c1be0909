"""CL204 secret-pattern: high-confidence credential formats, matched on the raw bytes of a file.

No parse: every rule is a bytes regular expression that starts with a literal (so `re` can skip
ahead quickly), and runs only if one of its probes (a literal looked up in the file) hits;
`could_match` runs the probes alone. Only the matched slice is decoded, and only to judge it: a
`Match` holds where the secret is and its format, never the secret, a part, a hash or a length of it.

What counts as a finding is deliberately narrow (DESIGN.md section 3; the anchors' users complain
most about noise: reference/anchors.md 4.2). A format is here only when its shape alone says
"credential": a vendor prefix with a fixed alphabet and length, a private-key block, a password
inside a URL, or a 40-character AWS secret sitting right after a key named for it. Values that
document a secret rather than being one are never findings: vendor documentation samples
(AKIAIOSFODNN7EXAMPLE, GitHub's and Slack's published tokens, the Azure storage emulator key),
template markers (<token>, ${VAR}, {{ x }}, %(x)s, YOUR_KEY_HERE), and bodies that are not
plausibly random (one repeated character, fewer than five distinct characters, a straight run
such as 123456 or abcdef, a single character class where the real alphabet mixes them).

Scanning is linear in the file: quantifiers are bounded or run over classes disjoint from what
follows, every attempt starts at a literal, and rules that need context (a key name before an
AWS secret, the run around an OpenAI marker) read it from that literal within a bounded window.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, List, NamedTuple, Optional, Tuple

from credlint.facts.types import Match  # noqa: F401 - part of this module's interface
from credlint.facts.values import is_placeholder

__all__ = ["Pattern", "Match", "PATTERNS", "could_match", "scan"]


@dataclass(frozen=True)
class Pattern:
    """A credential format CL204 reports, with vectors the test suite checks."""

    id: str
    title: str
    true_vectors: Tuple[str, ...]
    false_vectors: Tuple[str, ...]


# ---------------------------------------------------------------------------------------------
# Placeholders and documentation samples

# Published sample values (vendor docs, emulators). Stored without their vendor prefix.
_DOC_SECRETS = (
    "16C7e42F292c6912E7710c838347Ae178B4a",  # GitHub's token-format announcement (ghp_...)
    "SyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe",  # Google API key in Google's docs (AIza...)
    "17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",  # Slack OAuth docs (xoxb-...)
    "4eC39HqLyjWDarjtT1zdp7dc",  # Stripe's public docs key
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",  # Azurite
)

# Markers of a documentation or template value inside a token. Unlike values.is_placeholder this
# leaves out markers short enough to occur by chance in a long random body ("xxx", "todo").
_DOC_MARKERS = (
    "example", "xxxx", "your_", "your-", "yourkey", "yourtoken", "placeholder", "redacted",
    "changeme", "change_me", "change-me", "dummy", "sample", "insert", "replace", "fixme", "fake",
    "_here", "-here", "${", "{{", "<", ">", "...", "***",
)


def _documented(text: str) -> bool:
    lowered = text.lower()
    return any(map(lowered.__contains__, _DOC_MARKERS)) or any(map(text.__contains__, _DOC_SECRETS))


_SUCC = bytes((b + 1) & 0xFF for b in range(256))
_PRED = bytes((b - 1) & 0xFF for b in range(256))


def _straight_run(text: str, size: int = 6) -> bool:
    """True if `text` holds `size` consecutive characters in sequence: 123456, abcdef, FEDCBA.

    Compares the text with itself shifted by one, as big integers (no per-character loop)."""
    raw = text.encode("latin-1", "replace")
    n = len(raw) - 1
    if n < size - 1:
        return False
    tail = int.from_bytes(raw[1:], "big")
    zeros = b"\0" * (size - 1)
    for table in (_SUCC, _PRED):
        diff = tail ^ int.from_bytes(raw[:-1].translate(table), "big")
        if zeros in diff.to_bytes(n, "big"):
            return True
    return False


_UPPER, _LOWER, _DIGIT = re.compile("[A-Z]"), re.compile("[a-z]"), re.compile("[0-9]")


def _classes(text: str) -> int:
    return ((_UPPER.search(text) is not None) + (_LOWER.search(text) is not None)
            + (_DIGIT.search(text) is not None))


def _not_random(body: str, mixed: bool = True) -> bool:
    """A body that a generator of random tokens would (almost) never produce.

    mixed: the real alphabet mixes letters and digits or cases, so a body with one class only
    (all lowercase, all digits) is a word or an id, not a token.
    """
    if len(set(body)) < 5 or _straight_run(body):
        return True
    return mixed and _classes(body) < 2


def _token_ok(text: str, body: str, mixed: bool = True) -> bool:
    return not _documented(text) and not _not_random(body, mixed)


# ---------------------------------------------------------------------------------------------
# Rules


class _Cand(NamedTuple):
    start: int
    end: int
    pattern: str
    secret: str
    priority: int


class _Text:
    """The file's bytes, its lowercase copy (made on demand; bytes.lower keeps offsets) and the
    probe results, so that each probe runs at most once per file."""

    __slots__ = ("data", "_lower", "_probes", "path", "_runs")

    def __init__(self, data: bytes, path: Optional[str] = None):
        self.data = data
        self._lower: Optional[bytes] = None
        self._probes: dict = {}
        self.path = path
        self._runs: Optional[bool] = None

    @property
    def runs_as_config(self) -> bool:
        """A deployment file that is not a test fixture or a CI job (`.env`, compose, agent
        scripts): the values in it are the ones services run with, weak ones included."""
        if self._runs is None:
            self._runs = False
            if self.path:
                from credlint.facts.deploy.reader import classify
                from credlint.facts.values import is_test_path

                kind = classify(self.path, self.data[:65536])
                self._runs = kind not in (None, "ci-yaml") and not is_test_path(self.path)
        return self._runs

    @property
    def lower(self) -> bytes:
        if self._lower is None:
            self._lower = self.data.lower()
        return self._lower

    def probe(self, probe: "_Probe") -> bool:
        hit = self._probes.get(probe)
        if hit is None:
            kind, needle = probe
            if kind == "in":
                hit = needle in self.data
            elif kind == "ci":
                hit = needle in self.lower
            elif kind == "rx":
                hit = _PROBE_RX[needle].search(self.data) is not None
            else:  # "cirx": a lowercase regex over the lowered file
                hit = _PROBE_RX[needle].search(self.lower) is not None
            self._probes[probe] = hit
        return hit


# A probe is a cheap whole-file test: ("in", literal), ("ci", lowercase literal, looked up in the
# lowered file), ("rx", regex starting with a literal, searched once) or ("cirx", the same over
# the lowered file). A rule runs only if one of its probes hits; `could_match` is "some probe
# hits". Probes are shared between rules.
_Probe = Tuple[str, bytes]
_PROBE_RX: dict = {}


def _rx(pattern: bytes, kind: str = "rx") -> _Probe:
    _PROBE_RX.setdefault(pattern, re.compile(pattern))
    return (kind, pattern)


P_A = _rx(rb"A(?:KIA|SIA|BIA|CCA|3T[A-Z0-9]|Iza|ccountKey=)")
P_S = _rx(rb"S(?:G\.|K[0-9a-f]{32}|haredAccessKey=)")  # "SK" alone is too common (TASK, DISK)
P_G = _rx(rb"G(?:R1348941|OCSPX-)")
P_GH = _rx(rb"gh[pousr]_")
P_GL = _rx(rb"gl(?:pat|dt|rt|ft|soat|oas|imt|agent|cbt|ffct|wt|ptt)-")
P_X = _rx(rb"x(?:ox|app-)")
P_PN = _rx(rb"p(?:n[ub]|cu)_")
P_URL = _rx(rb"://[^\s:/@]{0,128}:[^\s/@]{1,256}@")
P_GHPAT, P_HOOKS = ("in", b"github_pat_"), ("in", b"hooks.slack.com/")
P_LIVE, P_WHSEC = ("in", b"k_live_"), ("in", b"whsec_")
P_DAPI, P_DISCORD, P_TEAMS = ("in", b"dapi"), ("in", b"discord"), ("in", b".webhook.office.com/")
P_SNOW, P_OPENAI, P_ANT = ("in", b"snowflake://"), ("in", b"T3BlbkFJ"), ("in", b"sk-ant-")
P_PYPI, P_NPM, P_KEY = ("in", b"pypi-Ag"), ("in", b"npm_"), ("in", b"PRIVATE KEY")
P_TWILIO = ("ci", b"twilio")
# "secret" alone is in most Prefect flows (PrefectSecret): probe for the AWS key names themselves.
P_AWS_SECRET = (_rx(rb"secret[_.-]?access[_.-]?key", "cirx"),
                _rx(rb"aws[_.-]?(?:secret|(?:access[_.-]?)?key)", "cirx"))
P_SQUARE, P_AUTHTOKEN, P_JWT = ("in", b"sq0"), ("in", b"_authToken"), ("in", b"eyJ")
P_HF, P_DO, P_AZURE_AD = _rx(rb"hf_[A-Za-z]{34}"), _rx(rb"do[opr]_v1_"), ("in", b"Q~")
P_VAULT = _rx(rb"hv[sb]\.")
P_MAILCHIMP = _rx(rb"-us[0-9]")
P_TELEGRAM = _rx(rb":A[A-Za-z0-9_-]{34}")
P_DISCORD_BOT = _rx(rb"\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27}")
P_PUTTY = ("in", b"PuTTY-User-Key-File-")
P_IBM = (("ci", b"ibm"), _rx(rb"cloud[_.-]?iam", "cirx"))
P_CLOUDANT, P_SOFTLAYER = ("ci", b"cloudant"), ("ci", b"softlayer")

Finder = Callable[[_Text], Iterator[_Cand]]


@dataclass(frozen=True)
class _Rule:
    find: Finder
    probes: Tuple[_Probe, ...]

    def may_match(self, text: _Text) -> bool:
        return any(text.probe(p) for p in self.probes)


def _ascii(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _regex_rule(pattern_id: str, regex: bytes, probes: Tuple[_Probe, ...], *, mixed: bool = True,
                priority: int = 30, accept: Optional[Callable[[str, str], bool]] = None) -> _Rule:
    """A rule from one regex with a group `s` (the secret) and optionally `b` (its random body)."""
    compiled = re.compile(regex, re.DOTALL)
    has_body = "b" in compiled.groupindex

    def find(text: _Text) -> Iterator[_Cand]:
        data = text.data
        verdicts: dict = {}  # a secret repeated in a file is judged once
        for m in compiled.finditer(data):
            start, end = m.span("s")
            secret = _ascii(data[start:end])
            ok = verdicts.get(secret)
            if ok is None:
                body = _ascii(m.group("b")) if has_body else secret
                ok = verdicts[secret] = accept(secret, body) if accept else _token_ok(secret, body, mixed)
            if ok:
                yield _Cand(start, end, pattern_id, secret, priority)

    return _Rule(find, probes)


def _context_rule(pattern_id: str, keys: Tuple[bytes, ...], value: bytes, probes: Tuple[_Probe, ...],
                  accept: Callable[[str], bool], priority: int = 25) -> _Rule:
    """A value that has no prefix of its own, found right after a key named for it on the same
    line. Keys are matched case-insensitively by running lowercase regexes (each starting with a
    literal) over the lowered file; the value is then matched at the same offset in the file."""
    key_res = tuple(re.compile(k + _SEP) for k in keys)
    value_re = re.compile(value)

    def find(text: _Text) -> Iterator[_Cand]:
        data, lower = text.data, text.lower
        seen = set()
        for key_re in key_res:
            for key in key_re.finditer(lower):
                m = value_re.match(data, key.end())
                if m and m.start() not in seen:
                    secret = _ascii(m.group())
                    if accept(secret):
                        seen.add(m.start())
                        yield _Cand(m.start(), m.end(), pattern_id, secret, priority)

    return _Rule(find, probes)


def _lb(prefix: str, extra: str = "") -> bytes:
    """A lookbehind placed after a literal prefix: the character before the prefix is not part of
    a token. Putting it after the literal keeps the regex literal-prefixed (fast search)."""
    return b"(?<![A-Za-z0-9" + extra.encode() + b"]" + b"." * len(prefix) + b")"


# Between a key and its value on one line: quotes, brackets, spaces, = : , => (INI, YAML, .env,
# JSON, escaped JSON, Python kwargs / dict / os.environ[...] = / getenv default).
_SEP = rb"""[\\"'\])\t =:,>(\[{]{1,16}"""
# The characters of URL-safe tokens, to read a token's extent around a literal found inside it.
_TOKEN_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

_RULES: List[_Rule] = []

# AWS access key ids: long-term (AKIA), temporary (ASIA) and the two other credential prefixes;
# base32 body. Other AWS ids (AIDA users, AROA roles, ...) are identifiers, not secrets.
for _p in ("AKIA", "ASIA", "ABIA", "ACCA"):
    _RULES.append(_regex_rule(
        "aws-access-key-id",
        b"(?P<s>" + _p.encode() + _lb(_p) + b"(?P<b>[A-Z2-7]{16}))(?![A-Za-z0-9])", (P_A,), mixed=False))
# The oldest key ids start with A3T and a fourth character (gitleaks and detect-secrets know them).
_RULES.append(_regex_rule(
    "aws-access-key-id", b"(?P<s>A3T" + _lb("A3T") + b"[A-Z0-9](?P<b>[A-Z2-7]{16}))(?![A-Za-z0-9])", (P_A,),
    mixed=False))

# An AWS secret access key: 40 base64 characters, only right after a key named for it. Real keys
# mix upper and lower case; a 40-hex sha1 or a lowercase path in that slot is something else.
_RULES.append(_context_rule(
    "aws-secret-access-key",
    (rb"aws[_.-]?secret(?:[_.-]?access)?(?:[_.-]?key)?", rb"secret[_.-]?access[_.-]?key",
     rb"aws[_.-]?(?:access[_.-]?)?key"),
    rb"[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])", P_AWS_SECRET,
    lambda s: (not _documented(s) and not _not_random(s)
               and any(c.isupper() for c in s) and any(c.islower() for c in s))))

# GitHub: classic tokens (36 base62 + checksum), fine-grained PATs.
_RULES.append(_regex_rule(
    "github-token", b"(?P<s>gh" + _lb("gh") + rb"[pousr]_(?P<b>[A-Za-z0-9]{36,251}))(?![A-Za-z0-9_])",
    (P_GH,)))
_RULES.append(_regex_rule(
    "github-token",
    b"(?P<s>github_pat_" + _lb("github_pat_")
    + rb"(?P<b>[A-Za-z0-9]{20,30}_[A-Za-z0-9]{50,70}))(?![A-Za-z0-9_])", (P_GHPAT,)))

# GitLab: personal/project/group, deploy, runner, feed, OAuth, incoming-mail, agent, CI job,
# feature-flag tokens; pipeline trigger tokens; runner registration tokens.
_RULES.append(_regex_rule(
    "gitlab-token",
    b"(?P<s>gl" + _lb("gl", "_-") + rb"(?:pat|dt|rt|ft|soat|oas|imt|agent|cbt|ffct|wt)-"
    rb"(?P<b>[A-Za-z0-9_-]{20,300})(?:\.[0-9a-z]{2}\.[0-9a-z]{7,12})?)(?![A-Za-z0-9_-])", (P_GL,)))
_RULES.append(_regex_rule(
    "gitlab-token", b"(?P<s>glptt-" + _lb("glptt-", "_-") + rb"(?P<b>[0-9a-f]{40}))(?![A-Za-z0-9_-])",
    (P_GL,)))
_RULES.append(_regex_rule(
    "gitlab-token",
    b"(?P<s>GR1348941" + _lb("GR1348941", "_-") + rb"(?P<b>[A-Za-z0-9_-]{20,40}))(?![A-Za-z0-9_-])",
    (P_G,)))


# Slack tokens: bot/user/legacy (xoxb, xoxp, xoxa, xoxo, xoxs, xoxr), config tokens, app tokens.
def _slack_ok(text: str, body: str) -> bool:
    last = text.rsplit("-", 1)[-1]
    numbers = [part for part in text.split("-")[1:-1] if part.isdigit() and len(part) >= 4]
    if any(len(set(n)) < 2 for n in numbers):
        return False
    return not _documented(text) and not _straight_run(text) and not _not_random(last)


_RULES.append(_regex_rule(
    "slack-token",
    b"(?P<s>xox" + _lb("xox") + rb"(?:[abposr]-(?:[0-9]{1,14}-){1,3}[A-Za-z0-9]{8,64}"
    rb"|e(?:\.xox[bp])?-[0-9]-[A-Za-z0-9]{100,200}))(?![A-Za-z0-9-])", (P_X,), accept=_slack_ok))
_RULES.append(_regex_rule(
    "slack-token",
    b"(?P<s>xapp-" + _lb("xapp-") + rb"[0-9]-[A-Z0-9]{6,16}-[0-9]{6,16}-[a-f0-9]{32,80})(?![A-Za-z0-9-])",
    (P_X,), accept=_slack_ok))


# Slack incoming webhooks and workflow triggers: the path after /services/ is the secret.
def _slack_hook_ok(text: str, body: str) -> bool:
    parts = text.split("/")
    if any(len(set(p[1:])) < 2 for p in parts[:2]):  # T00000000 / B00000000
        return False
    return not _documented(text) and not _not_random(parts[-1])


_RULES.append(_regex_rule(
    "slack-webhook",
    rb"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<s>T[A-Z0-9]{6,12}(?:/[A-Za-z0-9]{6,64}){2,3})"
    rb"(?![A-Za-z0-9])", (P_HOOKS,), accept=_slack_hook_ok))

# Stripe live secret and restricted keys, webhook signing secrets (publishable pk_ keys are public).
for _p in ("sk_live_", "rk_live_"):
    _RULES.append(_regex_rule(
        "stripe-key", b"(?P<s>" + _p.encode() + _lb(_p) + rb"(?P<b>[A-Za-z0-9]{20,247}))(?![A-Za-z0-9])",
        (P_LIVE,)))
_RULES.append(_regex_rule(
    "stripe-key", b"(?P<s>whsec_" + _lb("whsec_") + rb"(?P<b>[A-Za-z0-9+/]{32,88}))(?![A-Za-z0-9+/=])",
    (P_WHSEC,)))

# SendGrid API keys: SG.<22>.<43>.
_RULES.append(_regex_rule(
    "sendgrid-key",
    b"(?P<s>SG\\." + _lb("SG.", "_-") + rb"(?P<b>[A-Za-z0-9_-]{22})\.[A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])",
    (P_S,)))

# Twilio: API key SIDs (SK + 32 hex; the key's secret is usually next to it) and auth tokens /
# API secrets after a key named for them. Account SIDs (AC...) are public identifiers.
_RULES.append(_regex_rule(
    "twilio-key", b"(?P<s>SK" + _lb("SK") + rb"(?P<b>[0-9a-f]{32}))(?![A-Za-z0-9])", (P_S,)))
_RULES.append(_context_rule(
    "twilio-key", (rb"twilio[_.-]?(?:auth[_.-]?token|api[_.-]?secret|secret)",),
    rb"[0-9a-f]{32}(?![A-Za-z0-9])", (P_TWILIO,), lambda s: _token_ok(s, s)))

# Databricks personal access tokens.
_RULES.append(_regex_rule(
    "databricks-token", b"(?P<s>dapi" + _lb("dapi") + rb"(?P<b>[0-9a-f]{32})(?:-[0-9])?)(?![A-Za-z0-9])",
    (P_DAPI,)))

# Google API keys and OAuth client secrets.
_RULES.append(_regex_rule(
    "google-api-key", b"(?P<s>AIza" + _lb("AIza", "_-") + rb"(?P<b>[0-9A-Za-z_-]{35}))(?![A-Za-z0-9_-])",
    (P_A,)))
_RULES.append(_regex_rule(
    "google-oauth-client-secret",
    b"(?P<s>GOCSPX-" + _lb("GOCSPX-", "_-") + rb"(?P<b>[0-9A-Za-z_-]{28}))(?![A-Za-z0-9_-])", (P_G,)))

# Azure: storage account keys and Service Bus / Event Hubs shared access keys in connection strings.
_RULES.append(_regex_rule(
    "azure-connection-key", rb"AccountKey=(?P<s>[A-Za-z0-9+/]{86}==)(?![A-Za-z0-9+/=])", (P_A,)))
_RULES.append(_regex_rule(
    "azure-connection-key", rb"SharedAccessKey=(?P<s>[A-Za-z0-9+/]{43}=)(?![A-Za-z0-9+/=])", (P_S,)))

# Package registries: PyPI upload tokens (a macaroon for pypi.org / test.pypi.org), npm tokens.
_RULES.append(_regex_rule(
    "pypi-token",
    rb"(?P<s>pypi-Ag(?:EIcHlwaS5vcmc|ENdGVzdC5weXBpLm9yZw)(?P<b>[A-Za-z0-9_-]{50,1000}))(?![A-Za-z0-9_-])",
    (P_PYPI,)))
_RULES.append(_regex_rule(
    "npm-token", b"(?P<s>npm_" + _lb("npm_", "_") + rb"(?P<b>[A-Za-z0-9]{36}))(?![A-Za-z0-9_])", (P_NPM,)))

# Prefect Cloud API keys: user and service-account keys of Prefect 2+ (pnu_, pnb_) and the user
# keys of Prefect Cloud 1.0 (pcu_, what `prefect auth login --key` takes).
_RULES.append(_regex_rule(
    "prefect-api-key", b"(?P<s>p" + _lb("p", "_") + rb"(?:n[ub]|cu)_(?P<b>[A-Za-z0-9]{36}))(?![A-Za-z0-9_])",
    (P_PN,)))

# Anthropic API keys.
_RULES.append(_regex_rule(
    "anthropic-key",
    b"(?P<s>sk-ant-" + _lb("sk-ant-", "_-")
    + rb"(?:api|admin)[0-9]{2}-(?P<b>[A-Za-z0-9_-]{80,120}))(?![A-Za-z0-9_-])", (P_ANT,)))

# Discord and Microsoft Teams incoming webhooks.
_RULES.append(_regex_rule(
    "discord-webhook",
    rb"discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/(?P<s>[A-Za-z0-9_-]{60,80})(?![A-Za-z0-9_-])",
    (P_DISCORD,)))
_RULES.append(_regex_rule(
    "teams-webhook",
    rb"\.webhook\.office\.com/webhookb2/(?P<s>[0-9a-f-]{36}@[0-9a-f-]{36}/IncomingWebhook/(?P<b>[0-9a-f]{32})"
    rb"/[0-9a-f-]{36})", (P_TEAMS,)))


# Square OAuth application secrets and (legacy) access tokens.
_RULES.append(_regex_rule(
    "square-token", b"(?P<s>sq0csp-" + _lb("sq0csp-", "_-") + rb"(?P<b>[0-9A-Za-z_-]{43}))(?![A-Za-z0-9_-])",
    (P_SQUARE,)))
_RULES.append(_regex_rule(
    "square-token", b"(?P<s>sq0atp-" + _lb("sq0atp-", "_-") + rb"(?P<b>[0-9A-Za-z_-]{22}))(?![A-Za-z0-9_-])",
    (P_SQUARE,)))

# npm's legacy tokens are UUIDs: high-confidence only as the value of an .npmrc `_authToken`.
_RULES.append(_regex_rule(
    "npm-token",
    rb"_authToken[ \t]{0,4}=[ \t\"']{0,4}(?P<s>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
    rb"[0-9a-fA-F]{12})(?![A-Za-z0-9-])", (P_AUTHTOKEN,), accept=lambda s, b: _token_ok(s, s.replace("-", ""))))

# Hugging Face access tokens, HashiCorp Vault service and batch tokens, DigitalOcean tokens.
# A Hugging Face token's body is random letters, about half of them capitals; a camelCase name
# after "hf_" (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) has a few.
_RULES.append(_regex_rule(
    "huggingface-token", b"(?P<s>hf_" + _lb("hf_", "_") + rb"(?P<b>[A-Za-z]{34}))(?![A-Za-z0-9_])", (P_HF,),
    accept=lambda s, b: _token_ok(s, b) and 7 <= sum(map(str.isupper, b)) <= 27))
_RULES.append(_regex_rule(
    "vault-token", b"(?P<s>hv" + _lb("hv", "_.-") + rb"[sb]\.(?P<b>[A-Za-z0-9_-]{90,300}))(?![A-Za-z0-9_.-])",
    (P_VAULT,)))
_RULES.append(_regex_rule(
    "digitalocean-token",
    b"(?P<s>do" + _lb("do", "_") + rb"[opr]_v1_(?P<b>[a-f0-9]{64}))(?![A-Za-z0-9_])", (P_DO,)))


# Azure AD (Entra ID) client secrets: three characters, a digit, "Q~", 31 to 34 more. Found from
# "Q~" (the four characters before it are read backwards).
_AZURE_AD = re.compile(rb"Q~(?P<b>[A-Za-z0-9_~.-]{31,34})(?![A-Za-z0-9_~.-])")
_AZURE_AD_HEAD = re.compile(rb"[A-Za-z0-9_~.]{3}[0-9]")
_AZURE_AD_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_~.-"


def _find_azure_ad(text: _Text) -> Iterator[_Cand]:
    data = text.data
    for m in _AZURE_AD.finditer(data):
        start = m.start() - 4
        if start < 0 or not _AZURE_AD_HEAD.fullmatch(data, start, m.start()):
            continue
        if start > 0 and data[start - 1] in _AZURE_AD_CHARS:
            continue
        secret = _ascii(data[start:m.end()])
        if _token_ok(secret, _ascii(m.group("b"))):
            yield _Cand(start, m.end(), "azure-ad-client-secret", secret, 30)


_RULES.append(_Rule(_find_azure_ad, (P_AZURE_AD,)))


# Telegram bot tokens: the bot's numeric id, a colon, then "A" and 34 token characters. Found
# from ":A" (the id is read backwards from it).
_TELEGRAM = re.compile(rb":A(?P<b>[A-Za-z0-9_-]{34})(?![A-Za-z0-9_-])")
_DIGITS_BEFORE = re.compile(rb"[0-9]{8,10}\Z")


def _find_telegram(text: _Text) -> Iterator[_Cand]:
    data = text.data
    for m in _TELEGRAM.finditer(data):
        at = m.start()
        bot = _DIGITS_BEFORE.search(data, max(0, at - 10), at)
        if not bot or (bot.start() > 0 and data[bot.start() - 1] in _TOKEN_CHARS):
            continue
        secret = _ascii(data[bot.start():m.end()])
        if _token_ok(secret, _ascii(m.group("b"))):
            yield _Cand(bot.start(), m.end(), "telegram-bot-token", secret, 30)


_RULES.append(_Rule(_find_telegram, (P_TELEGRAM,)))


# Mailchimp API keys: 32 hex characters and the data centre ("-us6"). Found from "-us<digit>".
_MAILCHIMP = re.compile(rb"-us[0-9]{1,2}(?![A-Za-z0-9_])")
_HEX32_BEFORE = re.compile(rb"[0-9a-f]{32}\Z")


def _find_mailchimp(text: _Text) -> Iterator[_Cand]:
    data = text.data
    for m in _MAILCHIMP.finditer(data):
        at = m.start()
        body = _HEX32_BEFORE.search(data, max(0, at - 32), at)
        if not body or (at > 32 and data[at - 33] in _TOKEN_CHARS):
            continue
        secret = _ascii(data[at - 32:m.end()])
        if _token_ok(secret, secret[:32]):
            yield _Cand(at - 32, m.end(), "mailchimp-key", secret, 30)


_RULES.append(_Rule(_find_mailchimp, (P_MAILCHIMP,)))


# Discord bot tokens: base64 of the bot's user id (a snowflake of 17 to 20 digits), a 6-character
# timestamp and an HMAC. The first part must decode to that id, which few other strings do. Found
# from ".<timestamp>." (a literal start); the id is read backwards from it.
_DISCORD_TAIL = re.compile(rb"\.[A-Za-z0-9_-]{6}\.(?P<b>[A-Za-z0-9_-]{27,38})(?![A-Za-z0-9_.-])")


def _b64url(raw: bytes) -> Optional[bytes]:
    import base64
    import binascii

    try:
        return base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        return None


def _find_discord_bots(text: _Text) -> Iterator[_Cand]:
    data = text.data
    for m in _DISCORD_TAIL.finditer(data):
        at = m.start()
        window = data[max(0, at - 28):at]
        size = len(window) - len(window.rstrip(_TOKEN_CHARS))
        start = at - size
        if not 23 <= size <= 27 or data[start:start + 1] not in (b"M", b"N", b"O") \
                or (start > 0 and data[start - 1] in b"._-"):
            continue
        user_id = _b64url(data[start:at])
        if not user_id or not user_id.isdigit() or not 17 <= len(user_id) <= 20 or user_id.startswith(b"0"):
            continue
        secret = _ascii(data[start:m.end()])
        if _token_ok(secret, _ascii(m.group("b"))):
            yield _Cand(start, m.end(), "discord-bot-token", secret, 30)


_RULES.append(_Rule(_find_discord_bots, (P_DISCORD_BOT,)))


# JSON Web Tokens. A JWT is signed data and often not a secret (an expired session in a test
# fixture, a public "anon" key); it is reported only when it is a working bearer credential by
# its shape: header and claims that decode to JSON objects, an algorithm other than "none", and a
# signature exactly as long as that algorithm makes. Found from "eyJ" (base64 of '{"'); the run of
# token characters around it is read once.
_JWT_RUN = re.compile(rb"[A-Za-z0-9_.-]*")
_JWT_SIGNATURE_LENGTHS = {
    "HS256": (43,), "HS384": (64,), "HS512": (86,), "ES256": (86,), "ES256K": (86,), "ES384": (128,),
    "ES512": (176,), "EdDSA": (86, 152), "Ed25519": (86,),
    **{f"{family}{bits}": (171, 342, 512, 683) for family in ("RS", "PS") for bits in (256, 384, 512)},
}
_JWT_PUBLIC_ROLES = ("anon",)  # Supabase's anon key is meant to be shipped to browsers
_JWT_MAX = 16 * 1024
# Keys of documentation tokens (jwt.io's, PyJWT's README, tutorials): a token that verifies with
# one of them can be forged by anyone, so it is a sample, not a leaked credential.
_JWT_DOC_KEYS = (b"secret", b"your-256-bit-secret", b"your-384-bit-secret", b"your-512-bit-secret", b"key",
                 b"my-secret", b"my_secret", b"mysecret", b"secret-key", b"secret_key", b"changeme", b"")


def _jwt_signed_with_a_documented_key(alg: str, signed: bytes, signature: bytes) -> bool:
    if not alg.startswith("HS"):
        return False
    import hashlib
    import hmac

    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    expected = _b64url(signature)
    return any(hmac.compare_digest(hmac.new(key, signed, digest).digest(), expected or b"") for key in _JWT_DOC_KEYS)


def _jwt_part(raw: bytes):
    import json

    decoded = _b64url(raw)
    if decoded is None:
        return None
    try:
        value = json.loads(decoded)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _find_jwts(text: _Text) -> Iterator[_Cand]:
    data = text.data
    pos = 0
    while True:
        at = data.find(b"eyJ", pos)
        if at < 0:
            return
        if at > 0 and data[at - 1] in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-":
            pos = at + 3
            continue
        end = pos = _JWT_RUN.match(data, at).end()
        while data[end - 1:end] == b".":
            end -= 1  # a full stop after the token, not part of it
        if end - at > _JWT_MAX or (end < len(data) and data[end] in b"+/="):
            continue  # too long for a token, or standard base64 going on
        parts = data[at:end].split(b".")
        if len(parts) != 3 or not parts[1].startswith(b"eyJ"):
            continue
        header, claims = _jwt_part(parts[0]), _jwt_part(parts[1])
        if header is None or not claims:
            continue
        lengths = _JWT_SIGNATURE_LENGTHS.get(header.get("alg"))
        if not lengths or len(parts[2]) not in lengths:
            continue
        if claims.get("role") in _JWT_PUBLIC_ROLES:
            continue
        if _jwt_signed_with_a_documented_key(header["alg"], data[at:at + len(parts[0]) + 1 + len(parts[1])], parts[2]):
            continue
        secret = _ascii(data[at:end])
        if _documented(secret) or _documented(repr(claims)) or _not_random(_ascii(parts[2])):
            continue
        yield _Cand(at, end, "jwt", secret, 30)


_RULES.append(_Rule(_find_jwts, (P_JWT,)))


# Vendor keys that have no prefix of their own, right after a key named for the vendor (as
# detect-secrets' IBM, Cloudant and SoftLayer plugins find them), with the vendor's exact alphabet
# and length. IBM COS HMAC secrets sit under the same names as AWS secrets but are 48 hex.
_RULES.append(_context_rule(
    "ibm-cloud-iam-key",
    (rb"ibm[_.-]?(?:cloud[_.-]?)?(?:iam[_.-]?)?(?:api[_.-]?)?(?:key|pwd|password|pass|token)",
     rb"cloud[_.-]?iam[_.-]?(?:api[_.-]?)?(?:key|pwd|password|pass|token)"),
    rb"[A-Za-z0-9_-]{44}(?![A-Za-z0-9_-])", P_IBM, lambda s: _token_ok(s, s)))
_RULES.append(_context_rule(
    "ibm-cos-hmac-key",
    (rb"secret[_.-]?access[_.-]?key", rb"cos[_.-]?(?:hmac[_.-]?)?secret[_.-]?(?:access[_.-]?)?key"),
    rb"[a-f0-9]{48}(?![A-Za-z0-9])", P_AWS_SECRET, lambda s: _token_ok(s, s)))
_RULES.append(_context_rule(
    "cloudant-credential",
    (rb"cloudant[_.-]?(?:api[_.-]?)?(?:key|pwd|pw|password|pass|token)",),
    rb"(?:[a-f0-9]{64}|[a-z]{24})(?![A-Za-z0-9])", (P_CLOUDANT,),
    lambda s: not _documented(s) and not _not_random(s, mixed=len(s) == 64)))
_RULES.append(_context_rule(
    "softlayer-key",
    (rb"softlayer[_.-]?(?:api[_.-]?)?(?:key|pwd|password|pass|token)",),
    rb"[a-z0-9]{64}(?![A-Za-z0-9])", (P_SOFTLAYER,), lambda s: _token_ok(s, s)))
_RULES.append(_regex_rule(
    "softlayer-key", rb"api\.softlayer\.com/soap/v3(?:\.1)?/(?P<s>[a-z0-9]{64})(?![A-Za-z0-9])",
    (P_SOFTLAYER,)))


# OpenAI keys carry "T3BlbkFJ" (base64 of "OpenAI") once, in the middle: found from that literal,
# then grown to the run of token characters around it.
_OPENAI_MARK = re.compile(rb"T3BlbkFJ")
_TOKEN_RUN = re.compile(rb"[A-Za-z0-9_-]*")
_OPENAI_HEAD = re.compile(rb"sk-(?:(?:proj|svcacct|admin)-)?[A-Za-z0-9_-]{20,200}\Z")


def _find_openai(text: _Text) -> Iterator[_Cand]:
    data = text.data
    pos = 0
    while True:
        mark = _OPENAI_MARK.search(data, pos)
        if not mark:
            return
        at = mark.start()
        # the run of token characters around the mark: backwards within a bounded window,
        # forwards to its end; the search resumes after the run, so each byte is read O(1) times
        run_end = _TOKEN_RUN.match(data, mark.end()).end()
        pos = run_end
        window = data[max(0, at - 220):at]
        start = at - (len(window) - len(window.rstrip(_TOKEN_CHARS)))
        if start > 0 and data[start - 1] in _TOKEN_CHARS:
            continue  # the run is longer than any key
        if not 20 <= run_end - mark.end() <= 220 or data.find(b"T3BlbkFJ", mark.end(), run_end) >= 0:
            continue  # a key holds the mark once, with 20 to 220 characters after it
        if not _OPENAI_HEAD.match(data[start:at]):
            continue
        secret = _ascii(data[start:run_end])
        if _token_ok(secret, secret.split("T3BlbkFJ", 1)[1]):
            yield _Cand(start, run_end, "openai-key", secret, 30)


_RULES.append(_Rule(_find_openai, (P_OPENAI,)))


# Passwords inside URLs: scheme://user:password@host, and Snowflake's JDBC form
# snowflake://account/?user=u&password=p. Both regexes start with a literal; their classes stop at
# the next ":" or "/", so no two attempts read the same stretch far. The scheme is read backwards
# from a bounded window, only for matches.
_URL = re.compile(
    rb"""://(?P<user>[^\s:/@?#'"`<>\\]{0,128}):(?P<s>[^\s@/?#'"`<>\\]{1,256})@"""
    rb"""(?P<host>[A-Za-z0-9\[][A-Za-z0-9._\-\[\]:%]{0,254})""")
_SNOWFLAKE_QUERY = re.compile(
    rb"""snowflake://[A-Za-z0-9._\-]{1,253}/?\?(?:[A-Za-z0-9_.\-]{1,64}=[^&;:/\s'"`<>#]{0,256}[&;]){0,30}"""
    rb"""password=(?P<s>[^&;\s'"`<>#]{1,256})""")
_URL_SCHEME = re.compile(rb"[A-Za-z0-9+.\-]{1,40}")
_LETTER = re.compile(rb"[A-Za-z]")
_NOT_LETTERS = re.compile(r"[\d\W_]+")
_TEMPLATE = re.compile(r"[{}\[\]()$*\\]|%[sdr(]|%$")
_WEAK_PASSWORDS = frozenset("""
    password passwd pass pwd pw secret token key apikey changeme admin administrator root guest
    user username login test tester default postgres postgresql pgpass mysql mariadb redis rabbitmq
    airflow prefect snowflake mongo mongodb letmein qwerty abc abcd foo bar foobar baz hunter
    mypassword mypass mysecret yourpassword somepassword supersecret topsecret secretpassword
    dbpassword dbpass userpass tiger scott minioadmin
""".split())
_LEET = str.maketrans("013457@$", "oieastas")
_DOC_HOSTS = frozenset(("host", "hostname", "server", "domain", "account", "myhost", "yourhost"))
_DOC_WORDS = ("example", "your", "placeholder")


# A URL password that only names its slot, in a URL whose user does too: `user:password@`.
_SLOT_PASSWORDS = frozenset("password passwd pass pwd pw secret token key apikey mypassword yourpassword "
                            "somepassword dbpassword dbpass userpass".split())
_SLOT_USERS = frozenset("user username usr login name myuser dbuser db_user youruser someuser".split())


def _url_password_verdict(user: str, password: str, host: str) -> str:
    """"real", "weak" (a common password or a service's stock default: it authenticates, but as a
    format it is also what documentation shows) or "doc" (a template, a placeholder, an example)."""
    if _TEMPLATE.search(password) or _TEMPLATE.search(user):
        return "doc"
    lowered = password.lower()
    core = _NOT_LETTERS.sub("", lowered)
    if not core and len(password) < 10:
        return "doc"  # short digit strings: ports, versions, sample numbers
    low_user, low_host = user.lower(), host.lower()
    if low_host in _DOC_HOSTS or any(w in low_host or w in low_user for w in _DOC_WORDS):
        return "doc"
    if is_placeholder(password) or (lowered in _SLOT_PASSWORDS and low_user in _SLOT_USERS):
        return "doc"
    unleet = _NOT_LETTERS.sub("", lowered.rstrip("0123456789!?.#_-").translate(_LEET))
    if len(password) < 6 or core in _WEAK_PASSWORDS or unleet in _WEAK_PASSWORDS:
        return "weak"  # password123, p4ssw0rd, s3cr3t, the scott/tiger of the SQLAlchemy docs
    if lowered == low_user or len(set(password)) < 4 or _straight_run(password):
        return "weak"
    return "real"


def _scheme_before(data: bytes, at: int) -> bytes:
    found = _URL_SCHEME.match(data[max(0, at - 40):at][::-1])
    if not found:
        return b""
    scheme = found.group()[::-1]
    letter = _LETTER.search(scheme)
    return scheme[letter.start():].lower() if letter else b""


def _find_url_passwords(text: _Text) -> Iterator[_Cand]:
    data = text.data
    verdicts: dict = {}
    if text.probe(P_URL):
        for m in _URL.finditer(data):
            scheme = _scheme_before(data, m.start())
            if not scheme:
                continue
            start, end = m.span("s")
            password = _ascii(data[start:end])
            parts = (m.group("user"), password, m.group("host"))
            verdict = verdicts.get(parts)
            if verdict is None:
                verdict = verdicts[parts] = _url_password_verdict(_ascii(parts[0]), password, _ascii(parts[2]))
            if verdict == "real" or (verdict == "weak" and text.runs_as_config):
                if scheme == b"snowflake" or scheme.endswith(b"+snowflake"):
                    yield _Cand(start, end, "snowflake-url-password", password, 15)
                else:
                    yield _Cand(start, end, "generic-url-password", password, 5)
    if text.probe(P_SNOW):
        for m in _SNOWFLAKE_QUERY.finditer(data):
            start, end = m.span("s")
            password = _ascii(data[start:end])
            verdict = _url_password_verdict("", password, "snowflake")
            if verdict == "real" or (verdict == "weak" and text.runs_as_config):
                yield _Cand(start, end, "snowflake-url-password", password, 15)


_RULES.append(_Rule(_find_url_passwords, (P_URL, P_SNOW)))


# Private key blocks, and GCP service-account JSON (a private key next to "type": "service_account").
# PEM (RSA, EC, DSA, PKCS#8, encrypted PKCS#8), OpenSSH, PGP armor, and SSH.com's "---- BEGIN SSH2
# ENCRYPTED PRIVATE KEY ----".
_KEY_HEADER = re.compile(
    rb"----(?:-BEGIN (?:[A-Z0-9]{1,12} ){0,2}PRIVATE KEY(?: BLOCK)?-----| BEGIN SSH2 ENCRYPTED PRIVATE KEY ----)")
_KEY_FOOTER = re.compile(
    rb"----(?:-END (?:[A-Z0-9]{1,12} ){0,2}PRIVATE KEY(?: BLOCK)?-----| END SSH2 ENCRYPTED PRIVATE KEY ----)")
_KEY_SEP = rb"""(?:[ \t"',+#]|\r|\n|\\+[nr])"""
_KEY_BODY = re.compile(
    _KEY_SEP + rb"{1,40}(?:(?:Proc-Type|DEK-Info|Version|Comment|Hash|Charset):[^\r\n\\]{0,200}"
    + _KEY_SEP + rb"{1,40}){0,6}(?P<b>[A-Za-z0-9+/]{40,})")
_KEY_INSIDE = re.compile(rb"""[A-Za-z0-9+/=\s"',#\\]*""")
_KEY_NOISE = re.compile(rb"\\+[nr]|[^A-Za-z0-9+/=]")
_SA_TYPE = re.compile(rb"type\W{1,12}service_account")
_SA_KEY_NAME = re.compile(rb"private_key\W{1,12}\Z")
_KEY_MAX = 64 * 1024  # longest block read as one key (a 16k-bit RSA key is ~12 KB of PEM)
_SA_REGION = 16 * 1024  # how far "type": "service_account" may be from the key


def _find_private_keys(text: _Text) -> Iterator[_Cand]:
    data = text.data
    footers: Optional[List[Tuple[int, int]]] = None
    service_accounts: Optional[List[int]] = None
    resume = 0
    for header in _KEY_HEADER.finditer(data):
        if header.start() < resume:
            continue
        body = _KEY_BODY.match(data, header.end())
        if not body:
            continue
        start, end = body.start("b"), body.end("b")
        first = _ascii(data[start:start + 64])
        if _documented(first) or _not_random(first) or data.startswith((b"...", b"\xe2\x80\xa6"), end):
            continue  # a placeholder, or a body cut short in documentation ("MIIEvQ...")
        secret = body.group("b")
        if footers is None:
            footers = [m.span() for m in _KEY_FOOTER.finditer(data)]
        i = bisect.bisect_left(footers, (start, 0))
        if i < len(footers):  # the whole block when the footer closes this key's body
            f_start, f_end = footers[i]
            if (f_start - start <= _KEY_MAX and not _KEY_HEADER.search(data, end, f_start)
                    and _KEY_INSIDE.fullmatch(data, start, f_start)):
                secret = _KEY_NOISE.sub(b"", data[start:f_start])
                end = f_end
        resume = end
        pattern_id, priority = "private-key", 20
        if _SA_KEY_NAME.search(data, max(0, header.start() - 32), header.start()):
            if service_accounts is None:
                service_accounts = [m.start() for m in _SA_TYPE.finditer(data)]
            j = bisect.bisect_left(service_accounts, header.start() - _SA_REGION)
            if j < len(service_accounts) and service_accounts[j] <= header.start() + _SA_REGION:
                pattern_id, priority = "gcp-service-account", 40
        # the finding covers the block from its BEGIN line: that line is what says "private key"
        yield _Cand(header.start(), end, pattern_id, _ascii(secret), priority)


_RULES.append(_Rule(_find_private_keys, (P_KEY,)))


# PuTTY key files (.ppk, versions 2 and 3): the secret is the "Private-Lines: N" section, whether
# or not it is encrypted (an encrypted PEM block is reported too: its passphrase is rarely far).
_PUTTY_HEADER = re.compile(rb"PuTTY-User-Key-File-[23]:[ \t]?[A-Za-z0-9@._-]{1,64}\r?\n")
_PUTTY_PRIVATE = re.compile(rb"Private-Lines:[ \t]?(?P<n>[0-9]{1,4})\r?\n")
_B64_LINE = re.compile(rb"[A-Za-z0-9+/=]{1,128}(?:\r?\n|\Z)")
_PUTTY_PUBLIC_MAX = 16 * 1024  # how far the private lines may be from the header (the public key is between)


def _find_putty_keys(text: _Text) -> Iterator[_Cand]:
    data = text.data
    privates: Optional[List[int]] = None
    resume = 0
    for header in _PUTTY_HEADER.finditer(data):
        if header.start() < resume:
            continue
        if privates is None:
            privates = [m.start() for m in _PUTTY_PRIVATE.finditer(data)]
        i = bisect.bisect_left(privates, header.end())
        if i >= len(privates) or privates[i] - header.end() > _PUTTY_PUBLIC_MAX:
            continue
        lines = _PUTTY_PRIVATE.match(data, privates[i])
        start = pos = lines.end()
        for _ in range(min(int(lines.group("n")), 1000)):
            line = _B64_LINE.match(data, pos)
            if not line:
                break
            pos = line.end()
        end = pos
        while end > start and data[end - 1] in b"\r\n":
            end -= 1
        first = _ascii(data[start:min(end, start + 64)])
        if end - start < 40 or _documented(first) or _not_random(first):
            continue
        resume = end
        yield _Cand(header.start(), end, "private-key", _ascii(_KEY_NOISE.sub(b"", data[start:end])), 20)


_RULES.append(_Rule(_find_putty_keys, (P_PUTTY,)))


# ---------------------------------------------------------------------------------------------
# Entry points


_ALL_PROBES: Tuple[_Probe, ...] = tuple(dict.fromkeys(p for rule in _RULES for p in rule.probes))
# The probes by kind, for `could_match`: most files hold no credential, so all of them run there,
# and a tight loop over each kind costs a fraction of one `_Text.probe` call per probe.
_IN_NEEDLES = tuple(needle for kind, needle in _ALL_PROBES if kind == "in")
_RX_PROBES = tuple(_PROBE_RX[needle].search for kind, needle in _ALL_PROBES if kind == "rx")
_CI_NEEDLES = tuple(needle for kind, needle in _ALL_PROBES if kind == "ci")
_CIRX_PROBES = tuple(_PROBE_RX[needle].search for kind, needle in _ALL_PROBES if kind == "cirx")


def _as_bytes(data) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode("utf-8", "surrogatepass")
    return bytes(data)


_BINARY_HEAD = 8192  # a NUL byte this close to the start: not text (as deployfiles.classify decides)


def _binary(data: bytes) -> bool:
    """A binary file (a DER or PKCS#12 key, an image): its formats are out of CL204's reach."""
    return b"\0" in data[:_BINARY_HEAD]


def could_match(data: bytes) -> bool:
    """True whenever `scan(data)` could report something: literal look-ups only, no rule runs."""
    try:
        data = _as_bytes(data)
        if _binary(data):
            return False
        if any(map(data.__contains__, _IN_NEEDLES)) or any(search(data) for search in _RX_PROBES):
            return True
        lower = data.lower()
        return any(map(lower.__contains__, _CI_NEEDLES)) or any(search(lower) for search in _CIRX_PROBES)
    except Exception:  # never fail a run over a pre-check
        return True


def _resolve(cands: Iterable[_Cand]) -> List[_Cand]:
    """Keep the most specific finding where two overlap (a GitHub token inside a URL password).

    Levels are taken from the highest priority down; within a level, candidates in start order.
    A candidate survives if it overlaps nothing kept so far. O(k log k) for k candidates.
    """
    by_level: dict = {}
    for c in set(cands):
        by_level.setdefault(c.priority, []).append(c)
    kept: List[_Cand] = []  # sorted by start, pairwise disjoint
    for level in sorted(by_level, reverse=True):
        starts = [c.start for c in kept]
        fresh: List[_Cand] = []
        reach = -1
        for c in sorted(by_level[level], key=lambda c: (c.start, -(c.end - c.start), c.pattern)):
            if c.start < reach:
                continue  # overlaps a longer or earlier one of the same level
            i = bisect.bisect_right(starts, c.start)
            if i > 0 and kept[i - 1].end > c.start:
                continue
            if i < len(kept) and kept[i].start < c.end:
                continue
            fresh.append(c)
            reach = c.end
        kept = sorted(kept + fresh, key=lambda c: (c.start, c.end, c.pattern))
    return kept


def _positions(data: bytes, offsets: List[int]) -> dict:
    """Map byte offsets (at ASCII boundaries) to (line, column), 1-based, columns in characters."""
    out = {}
    # col: characters from the line start to pos; a UTF-8 byte-order mark is not a column
    line, col, pos = 1, 0, 3 if data.startswith(b"\xef\xbb\xbf") else 0
    for off in sorted(set(offsets)):
        newlines = data.count(b"\n", pos, off)
        if newlines:
            line += newlines
            col, pos = 0, data.rfind(b"\n", pos, off) + 1
        segment = data[pos:off]
        col += len(segment) if segment.isascii() else len(segment.decode("utf-8", "replace"))
        pos = off
        out[off] = (line, col + 1)
    return out


def scan(data: bytes, path: Optional[str] = None) -> List[Match]:
    """Every high-confidence credential in a whole file, sorted by position. Never raises. With the
    file's project-relative `path`, a deployment file's URL passwords count however weak they are
    (`bolt://neo4j:admin@...` in a `.env` is what the service runs with; in documentation it is an
    example)."""
    try:
        data = _as_bytes(data)
    except Exception:
        return []
    if _binary(data):
        return []
    text = _Text(data, path)
    cands: List[_Cand] = []
    for rule in _RULES:
        try:
            if rule.may_match(text):
                cands.extend(rule.find(text))
        except Exception:  # a broken rule must not hide the others' findings
            continue
    if not cands:
        return []
    try:
        kept = _resolve(cands)
        where = _positions(data, [c.start for c in kept] + [c.end for c in kept])
        matches = []
        for c in kept:
            line, column = where[c.start]
            end_line, end_column = where[c.end]
            matches.append(Match(c.pattern, line, column, end_line, end_column))
        return matches
    except Exception:
        return []


# ---------------------------------------------------------------------------------------------
# The catalogue, with vectors. True vectors are invented values of the right shape; their
# literals are split ("AKI" "A...") so this file does not itself look like it holds credentials.

_PEM_LINES = (
    "MIIEowIBAAKCAQEA" "H1dVfRR/6wafw4JBjDDOeyxJ66CSvl33VC75R1jLIcRH7Q9O",
    "a168zTwOu8zlim+MTQ4lMIVz7pfeq8ZI3GzhvCzfzN99J1uKbZWOejXcxosFTAYR",
    "O4S2rTJ8ugkVSdNva/eY7MSLKEmlAIflzrtWVBfJKMO/iiYeiWR9IjFOO05ZzCQz",
    "9OPZX39pzCO2KSmFH0cYNHqUl2s3L0HiLf8O3dcoiisuUmUMHMVE2VWZ5mYFUUg4",
    "KzzVATVHCp3O/Yw5wvT9cZwXXf8QP9==",
)
_BEGIN, _END = "-----BEGIN ", "-----END "
_PGP_LINES = (
    "lQOYBGZo" "hCHD4//UjgjfXudzTQXGqi+x8PikL2t/yiRbiMdYN2fFq6oCoS1UFyVlYONgEUsY",
    "x1ihEeGY14iiMyD5FN+kvkdgK7FI0b4iiLl3Ezomr0odA/v4+ffDNH0qdN7VExMz",
    "j83pcgPIrWZHt7OSGqx7KXM1InwJNRHaFa87XwMt1fDRDJnRdzQQWk8Hd/KFbfUw",
)
_PUTTY_LINES = (
    "AAAAC3Nz" "BDJppkFFEZciCQP00U87juJUBEoAXHmGRZ2XsTS5MivpF9k9jz89iLWeajzV6xuR",
    "XLAsfmhVwlva/byCSEsWAGU0g47kCxhG4rS2A5e7sAuPFJiN7UZpjxV2KKrgnfHC",
    "zbt5G7+eSeiOJcT/HHqodEvUF0f+UzpWcP1mLMwT3zWLA825gFKEOU0Ekm5h+Kt9",
    "sbg9bAjtbDV3J7Y59r5zFa1lykVg5kpYYrDYo57oJP6hq6ItLy8k/QY0vPToTry/",
    "L31PNgqWbch2QUxxjY+oXqUj+22nRe40JZ/bYZ+w65no5VB180ACFa0qn6dQj/QK",
)

PATTERNS: Tuple[Pattern, ...] = (
    Pattern(
        "aws-access-key-id", "AWS access key id",
        ('AWS_ACCESS_KEY_ID = "AKI' 'A4OLYYN3T6VICJWWQ"',
         "aws_access_key_id=AS" "IA4VB2SITHALBA25HR",
         '{"ACCESS_KEY": "AKI' 'AONQYRRR2AHCQB4PQ", "SECRET_ACCESS_KEY": env}',
         "legacy_key_id = 'A3" "TMVQJXXVBOTHD2WTFL'"),
        ('AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"',  # AWS documentation
         "aws_access_key_id = AKIAXXXXXXXXXXXXXXXX",
         "key = 'AKIA1234567890ABCDEF'",  # 0, 1, 8, 9 are not in the base32 alphabet
         "role_id = 'AROA4OLYYN3T6VICJWWQ'",  # a role id is not a secret
         "blob = 'xAKIA4OLYYN3T6VICJWWQ'", "AKIA4OLYYN3T6VICJWWQZ  # 17 characters: not a key id")),
    Pattern(
        "aws-secret-access-key", "AWS secret access key",
        ("aws_secret_access_key = 30eWnUt1xfTCt38Q" "vE2aCj405jPvGcfLYflaTgrr",
         'S3Download(boto_kwargs={"aws_secret_access_key": "3p2Pa7GniOAInPxp' 'WScZd+2bkYbXYAOu5po2xVrn"})',
         "export AWS_SECRET_ACCESS_KEY='ERuReLan5nQtVeb9" "vFMzD9b/Uzh7YSeYsL6LQJ4K'",
         'os.environ["AWS_SECRET_ACCESS_KEY"] = "30eWnUt1xfTCt38Q' 'vE2aCj405jPvGcfLYflaTgrr"',
         'boto_kwargs = {"aws_key": "pdzPaEMM1ZA7V0FhHVJW' 'DBt2hWdQZUm14QhoxhLP"}'),
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",  # AWS documentation
         "AWS_SECRET_ACCESS_KEY: YOUR_KEY_HERE",
         'aws_secret_access_key = "${AWS_SECRET_ACCESS_KEY}"',
         "secret_access_key = '69dd2e12eab20562773c8d4285ad6b24cb6be058'",  # a sha1, not a key
         "token = '30eWnUt1xfTCt38QvE2aCj405jPvGcfLYflaTgrr'",  # no AWS context on the line
         "aws_secret_name = 'prod/data/warehouse/credentials/snowflak'")),
    Pattern(
        "private-key", "private key block",
        ("\n".join((_BEGIN + "RSA PRIVATE KEY-----",) + _PEM_LINES + (_END + "RSA PRIVATE KEY-----",)),
         'KEY = "' + _BEGIN + 'PRIVATE KEY-----\\n' + "\\n".join(_PEM_LINES[1:]) + '\\n' + _END
         + 'PRIVATE KEY-----\\n"',
         "ssh_key: |\n  " + _BEGIN + "OPENSSH PRIVATE KEY-----\n  b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ"
         "AAAAAAAAAABAAAAMwAAAAtzc2gtZW\n  " + _PEM_LINES[2] + "\n  " + _END + "OPENSSH PRIVATE KEY-----",
         "\n".join((_BEGIN + "EC PRIVATE KEY-----",) + _PEM_LINES[1:4] + (_END + "EC PRIVATE KEY-----",)),
         "\n".join((_BEGIN + "DSA PRIVATE KEY-----",) + _PEM_LINES[2:] + (_END + "DSA PRIVATE KEY-----",)),
         "\n".join((_BEGIN + "ENCRYPTED PRIVATE KEY-----",) + _PEM_LINES + (_END + "ENCRYPTED PRIVATE KEY-----",)),
         "\n".join((_BEGIN + "PGP PRIVATE KEY BLOCK-----", "Version: GnuPG v2", "")
                   + _PGP_LINES + ("=Xq3k", _END + "PGP PRIVATE KEY BLOCK-----")),
         "\n".join(("---- BEGIN SSH2 " "ENCRYPTED PRIVATE KEY ----", 'Comment: "rsa-key-20240611"')
                   + _PEM_LINES[1:] + ("---- END SSH2 ENCRYPTED PRIVATE KEY ----",)),
         "\n".join(("PuTTY-User-" "Key-File-3: ssh-ed25519", "Encryption: none", "Comment: eddsa-key-20240611",
                    "Public-Lines: 2") + _PUTTY_LINES[:2] + ("Private-Lines: 3",) + _PUTTY_LINES[2:]
                   + ("Private-MAC: 4a1d2f0c9b8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170f6e5d",)),
         "\r\n".join(("PuTTY-User-" "Key-File-2: ssh-rsa", "Encryption: aes256-cbc", "Comment: imported-openssh-key",
                      "Public-Lines: 1", _PUTTY_LINES[0], "Private-Lines: 2") + _PUTTY_LINES[3:]
                     + ("Private-MAC: 5b4a39281706f5e4d3c2b1a09f8e7d6c",))),
        (_BEGIN + "RSA PRIVATE KEY-----\n...\n" + _END + "RSA PRIVATE KEY-----",
         _BEGIN + "PRIVATE KEY-----\\n<your private key>\\n" + _END + "PRIVATE KEY-----",
         'if text.startswith("' + _BEGIN + 'PRIVATE KEY-----"):',
         _BEGIN + "PUBLIC KEY-----\n" + _PEM_LINES[1] + "\n" + _END + "PUBLIC KEY-----",
         _BEGIN + "PRIVATE KEY-----\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n" + _END + "PRIVATE KEY-----",
         "\n".join(("PuTTY-User-" "Key-File-3: ssh-ed25519", "Encryption: none", "Public-Lines: 1", _PUTTY_LINES[0],
                    "Private-Lines: 1", "<your private key>")),
         "PuTTY-User-" "Key-File-2: ssh-rsa  # the header alone, in documentation")),
    Pattern(
        "gcp-service-account", "GCP service-account key (JSON)",
        ('{"type": "service_account", "project_id": "etl-prod", "private_key_id": "2bd74cda31fa6e5c", '
         '"private_key": "' + _BEGIN + 'PRIVATE KEY-----\\n' + "\\n".join(_PEM_LINES[1:]) + "\\n" + _END
         + 'PRIVATE KEY-----\\n", "client_email": "etl@etl-prod.iam.gserviceaccount.com"}',
         "info = {'private_key': '" + _BEGIN + "PRIVATE KEY-----\\n" + _PEM_LINES[3] + "\\n" + _END
         + "PRIVATE KEY-----\\n', 'client_id': '1093', 'type': 'service_account'}"),
        ('{"type": "service_account", "private_key": "' + _BEGIN + 'PRIVATE KEY-----\\n<key>\\n' + _END
         + 'PRIVATE KEY-----\\n"}',
         '{"type": "service_account", "private_key": "${GCP_PRIVATE_KEY}"}',
         '{"type": "authorized_user", "client_id": "764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur"}')),
    Pattern(
        "github-token", "GitHub token",
        ("GITHUB_TOKEN=gh" "p_7xU5o2Yr8qEqaKOx9u7o3P5RAyNjavjgmkiV",
         "storage = GitHub(repo='acme/flows', path='flow.py', "
         "access_token_secret='gh" "s_BYbxkS3tbGi7aNCBqazxAVM8c9wIWa4tEQhV')",
         "token: github_pat" "_11EvCuzBs5t6NxukRHlLBLUX_s2VbtqkrLjQFC1hRQ5V3CTBNTEte08fnxV8FCNvRtv0K95qDcp11mq04uLG"),
        ("GITHUB_TOKEN=ghp_16C7e42F292c6912E7710c838347Ae178B4a",  # GitHub's published sample
         "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
         "GITHUB_TOKEN=ghp_<token>",
         "def ghp_to_html_converter_for_pull_requests_v2(): pass",
         "token = 'ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij'")),
    Pattern(
        "gitlab-token", "GitLab token",
        ("GITLAB_TOKEN=glp" "at-rivfzIwhybWOazCmIBSq",
         "git clone https://oauth2:gld" "t-Tkuy1TTBtve2-MkkNJXN@gitlab.com/acme/flows.git",
         "trigger_token = 'glp" "tt-69dd2e12eab20562773c8d4285ad6b24cb6be058'"),
        ("GITLAB_TOKEN=glpat-xxxxxxxxxxxxxxxxxxxx",
         "GITLAB_TOKEN=glpat-your-personal-access-token",
         "GITLAB_TOKEN=glpat-${CI_TOKEN}",
         "see glpat-personal-access-tokens-docs")),
    Pattern(
        "slack-token", "Slack token",
        ("SLACK_BOT_TOKEN=xox" "b-24865310793-39184672051-s2iiLbGIE4Wtl9hYeUPil4bH",
         'client = WebClient(token="xox' 'p-31874652093-40718264935-50971834628-a35b8eac054d9f90343303485694e20d")'),
        ("SLACK_BOT_TOKEN=xoxb-your-token",
         "SLACK_BOT_TOKEN=xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",  # Slack's docs
         "SLACK_BOT_TOKEN=xoxb-000000000000-0000000000000-xxxxxxxxxxxxxxxxxxxxxxxx",
         "SLACK_BOT_TOKEN=xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx")),
    Pattern(
        "slack-webhook", "Slack webhook URL",
        ("SLACK_WEBHOOK_URL=https://hooks.slack.com/services/" "T0A1B2C3D/B4E5F6G7H/8VGDwffrRV2f1N0MYFZ3jrBp",
         'slack_notifier(webhook_secret=None)  # "https://hooks.slack.com/services/'
         'T04QK7ZLM/B05R9XW2Y/w0bcfmW2HPPQ9J9mfxpXP2Yt"'),
        ("https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",  # Slack's docs
         "https://hooks.slack.com/services/${SLACK_WEBHOOK_PATH}",
         "https://hooks.slack.com/services/<team>/<channel>/<token>",
         "See https://api.slack.com/messaging/webhooks for hooks.slack.com/services/ URLs")),
    Pattern(
        "stripe-key", "Stripe secret key",
        ("STRIPE_API_KEY=sk" "_live_n3yRPkHxzNkHa1mcyQ3iZ008",
         "stripe.api_key = 'rk" "_live_51NuKOP35jZDBJJU14ue6oxTkT0mADD0qAlJIklvjJxLzFgcVoKQjSCYtwRB4Z8kysAMwtnaRWc8b8'",
         "STRIPE_WEBHOOK_SECRET=wh" "sec_g9TxBNPWRUTL4m2Lrb9vvvQe2PZDPcEf"),
        ("STRIPE_API_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
         "STRIPE_API_KEY=sk_live_4eC39HqLyjWDarjtT1zdp7dc",  # Stripe's docs
         "STRIPE_PUBLISHABLE_KEY=pk_live_n3yRPkHxzNkHa1mcyQ3iZ008",  # publishable keys are public
         "STRIPE_API_KEY=sk_test_n3yRPkHxzNkHa1mcyQ3iZ008",  # test mode: no live data
         "STRIPE_API_KEY=sk_live_YOUR_SECRET_KEY_HERE")),
    Pattern(
        "sendgrid-key", "SendGrid API key",
        ("SENDGRID_API_KEY=S" "G.F4Vtk4IMNTiC84bmgWbC0h.O_Lw_ypj4GkE2WU4HifJxq_XWZ632xvofIkTD0jbB9x",
         "sg = SendGridAPIClient('S" "G.vlUYW-ln9AoRtl50sQu6OG.01avrdRrzmx1F44Bd-KnfRd6UIWhC4vUy-boB8nsafi')"),
        ("SENDGRID_API_KEY=SG.xxxxxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
         "SENDGRID_API_KEY=SG.<your-key>",
         "msg = 'SG.F4Vtk4IMNTiC84bmgWbC0h'  # one part only")),
    Pattern(
        "twilio-key", "Twilio API key SID or auth token",
        ("TWILIO_API_KEY=S" "K2bd74cda31fa6e5c76ebbb8e7d6263b7",
         "TWILIO_AUTH_TOKEN=c0de3c0581f0792f" "db2c1d57571d00be",
         "client = Client(account_sid, twilio_auth_token='b8fe3c01dbbcb0df" "aba2384aebfac61c')"),
        ("TWILIO_API_KEY=SKXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
         "TWILIO_AUTH_TOKEN=your_auth_token",
         "TWILIO_ACCOUNT_SID=AC2bd74cda31fa6e5c76ebbb8e7d6263b7",  # an account id is public
         "TWILIO_AUTH_TOKEN=00000000000000000000000000000000",
         "md5 = 'de2e019af21f2a5544813b8aaa50ec15'")),
    Pattern(
        "databricks-token", "Databricks personal access token",
        ("DATABRICKS_TOKEN=da" "pi7d518c076b319ab7a52fd788f8dfb56b",
         "DatabricksSubmitRun(databricks_conn_secret={'host': 'https://adb-1.azuredatabricks.net', "
         "'token': 'da" "pide2e019af21f2a5544813b8aaa50ec15-2'})"),
        ("DATABRICKS_TOKEN=dapi00000000000000000000000000000000",
         "DATABRICKS_TOKEN=dapiXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
         "DATABRICKS_TOKEN=dapi<token>",
         "DATABRICKS_TOKEN=dapi0123456789abcdef0123456789abcdef")),
    Pattern(
        "snowflake-url-password", "Snowflake URL with a password",
        ("engine = create_engine('snowflake://loader:Zq8uPw77" "31xKmN@acme-eu1/raw/public?warehouse=etl')",
         "SNOWFLAKE_URL=jdbc:snowflake://acme.snowflakecomputing.com/?user=loader&password=hAEs" "XsFegHVkhx"),
        ("engine = create_engine('snowflake://loader:<password>@acme-eu1/raw')",
         "url = f'snowflake://{user}:{password}@{account}/{database}'",
         "SNOWFLAKE_URL=snowflake://loader:${SNOWFLAKE_PASSWORD}@acme-eu1/raw",
         "SNOWFLAKE_URL=snowflake://acme-eu1/raw?authenticator=externalbrowser")),
    Pattern(
        "generic-url-password", "password in a URL",
        ("DATABASE_URL=postgresql+psycopg2://etl:3fnZWQNi" "22zV@db.internal:5432/warehouse",
         "broker = 'amqp://flows:W7Gje7uV" "E@rabbit.acme.io//'",
         "git clone https://deploy:6s4ikqLC" "jd1@git.acme.io/data/flows.git"),
        ("DATABASE_URL=postgresql://postgres:postgres@localhost:5432/postgres",
         "DATABASE_URL=postgresql://user:password@host:5432/db",
         "DATABASE_URL=postgresql://etl:${DB_PASSWORD}@db:5432/warehouse",
         "url = 'mysql://%s:%s@%s/%s' % (user, password, host, db)",
         "broker = 'amqp://guest:guest@localhost:5672//'",
         "engine = create_engine('postgresql://scott:tiger@localhost/mydatabase')",  # SQLAlchemy docs
         "DATABASE_URL=mysql://app:p4ssw0rd123@db/app",
         "redis_url = 'redis://:<password>@cache:6379/0'",
         "https://admin:s3cr3tP4ss@example.com/api",
         "https://api.acme.io:8443/v1/items@latest")),
    Pattern(
        "google-api-key", "Google API key",
        ("GOOGLE_API_KEY=AI" "zaPppkmHNRjtX_pDCEdVonrtyHLuNUa3jGK7u",
         "gmaps = googlemaps.Client(key='AI" "zaW8tHNWKVO8RfH-Mfnqyrz1cRLetGDiffk6Q')"),
        ("GOOGLE_API_KEY=AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe",  # Google's docs
         "GOOGLE_API_KEY=AIzaXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
         "GOOGLE_API_KEY=AIza<your-key>")),
    Pattern(
        "google-oauth-client-secret", "Google OAuth client secret",
        ('"client_secret": "GOC' 'SPX-LwpPbyuujGMrIErAC19LLR-w0TEt"',
         "GOOGLE_CLIENT_SECRET=GOC" "SPX-LwpPbyuujGMrIErAC19LLR-w0TEt"),
        ('"client_secret": "GOCSPX-xxxxxxxxxxxxxxxxxxxxxxxxxxxx"',
         '"client_secret": "GOCSPX-<secret>"')),
    Pattern(
        "azure-connection-key", "Azure storage or shared access key",
        ("AZURE_STORAGE_CONNECTION_STRING='DefaultEndpointsProtocol=https;AccountName=acmeraw;AccountKey="
         "g174ZVoT96cjD/AX3hPxQHbr2hcLc9Gy/v2t0U6TNU+63nYPM5r7tbeMdyHdXuM6bldVAYkxBoM3vbvKzcA0nu==;"
         "EndpointSuffix=core.windows.net'",
         "conn = 'Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey="
         "Q+NfRsoFvk4T5UBjTl6i8Z8EwrAAal9MZqs3ub/Gv6/=;EntityPath=events'"),
        ("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1"
         "OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;",  # the storage emulator's published key
         "AccountName=acmeraw;AccountKey=<storage-account-key>;",
         "AccountName=acmeraw;AccountKey=${AZURE_STORAGE_KEY};")),
    Pattern(
        "pypi-token", "PyPI upload token",
        ("TWINE_PASSWORD=pypi-AgEIcHlwaS5vcmc" "knEa576YQp7lcp7ONgcrh7GnUlUeb-gOaVeG1zyG13kbFKPC5cAnoMnHcsiM",
         "password = pypi-AgENdGVzdC5weXBpLm9yZw" "Nbb8PPaB0Pc0g7XUmx3vsBycck8GwsoP30mq24J74j4JUnrSpIVNB6Dc2Pj7"),
        ("TWINE_PASSWORD=pypi-AgEIcHlwaS5vcmc<token>",
         "TWINE_PASSWORD=pypi-${PYPI_TOKEN}",
         "TWINE_USERNAME=__token__")),
    Pattern(
        "npm-token", "npm access token",
        ("//registry.npmjs.org/:_authToken=np" "m_qr9dNImEY6BZEyO8hea6QmlHYycwiOGUXQEQ",
         "NPM_TOKEN=np" "m_i3mpQ2lwhxqgboowi6MkRMHw3IRMvkpV2mrP"),
        ("NPM_TOKEN=npm_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
         "npm_config_registry_url_for_the_private_mirror_v2 = 1",
         "NPM_TOKEN=npm_${TOKEN}")),
    Pattern(
        "prefect-api-key", "Prefect Cloud API key",
        ("PREFECT_API_KEY=pn" "u_ZvzPWxImXFwjeNUv6m7l3h0UpqBfzCG7kS72",
         "prefect cloud login --key pn" "b_HP4iRPKUJWuhAKoffn6FcJWlAzQFtMhGEAD6",
         "# once: prefect auth login --key pc" "u_Tq7Lw2Xn9Rb4Kd8Vz3Hm6Pf1Js5Gc0Ya2Uev"),
        ("PREFECT_API_KEY=pnu_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
         "PREFECT_API_KEY=pnu_<your-api-key>",
         "PREFECT__CLOUD__API_KEY=${PREFECT_KEY}",
         "stopcu_Tq7Lw2Xn9Rb4Kd8Vz3Hm6Pf1Js5Gc0Ya2Uev")),
    Pattern(
        "openai-key", "OpenAI API key",
        ("OPENAI_API_KEY=sk-nZYjdd3QiUiSwhghwwbv" "T3BlbkFJDqnHyJv_ufBNrYVYbTUj",
         "client = OpenAI(api_key='sk-proj-2oJoeoRUaKgv2aA9STLBdQ8uKeCeQysaRBpoUftrYbnSEsTC-cSgICSOQnqp_KWC"
         "T3BlbkFJ" "knEa576YQp7lcp7ONgcrh7GnUlUeb-gOaVeG1zyG13kbFKPC5cAnoMnHcsiM')"),
        ("OPENAI_API_KEY=sk-xxxxxxxxxxxxxxxxxxxxT3BlbkFJxxxxxxxxxxxxxxxxxxxx",
         "OPENAI_API_KEY=sk-<your-key>",
         "b64 = 'T3BlbkFJ'  # base64 of a name, no key around it")),
    Pattern(
        "anthropic-key", "Anthropic API key",
        ("ANTHROPIC_API_KEY=sk-an" "t-api03-DdoKuYFWAac-xIZfjr2xSMwGd3q6gGq_dEee7B8TZbi0nsdir1an85LN9p"
         "dhGeVgbD_LrWJYWMViSv4Wr6sijDzilWDHc-AA",
         "client = Anthropic(api_key='sk-an" "t-admin01-Nbb8PPaB0Pc0g7XUmx3vsBycck8GwsoP30mq24J74j4JUnrSpIVNB6"
         "Dc2Pj7knEa576YQp7lcp7ONgcrh7GnUlUeb-gOaVeG1zyG13kbFKPC5cAnoMnHcsiM')"),
        ("ANTHROPIC_API_KEY=sk-ant-api03-" + "x" * 93 + "AA",
         "ANTHROPIC_API_KEY=sk-ant-<your-key>")),
    Pattern(
        "discord-webhook", "Discord webhook URL",
        ("DISCORD_WEBHOOK=https://discord.com/api/webhooks/1093245586431234671/"
         "Nbb8PPaB0Pc0g7XUmx3vsBycck8GwsoP30mq24J74j4JUnrSpIVNB6Dc2Pj7" "2oJoeoRU",
         "hook = 'https://discordapp.com/api/webhooks/884213576490218314/"
         "knEa576YQp7lcp7ONgcrh7GnUlUeb-gOaVeG1zyG13kbFKPC5cAnoMnHcsiM" "Kgv2aA9S'"),
        ("DISCORD_WEBHOOK=https://discord.com/api/webhooks/<id>/<token>",
         "DISCORD_WEBHOOK=https://discord.com/api/webhooks/000000000000000000/"
         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")),
    Pattern(
        "teams-webhook", "Microsoft Teams webhook URL",
        ("TEAMS_WEBHOOK=https://acme.webhook.office.com/webhookb2/3f2a8c1e-5b7d-4e9a-8c2f-1d6b0a9e7c43@"
         "9d4e6f1a-2c8b-4a7e-b5d3-0f1e2a3b4c5d/IncomingWebhook/" "5bbaadcb07487c34c86faa36ab726987/"
         "7a1c9e3f-4d2b-4f6a-9e8c-3b5d7f1a2c4e",
         "url = 'https://contoso.webhook.office.com/webhookb2/8e0c4a2f-1b3d-4f5e-a7c9-2d4f6b8a0c1e@"
         "9d4e6f1a-2c8b-4a7e-b5d3-0f1e2a3b4c5d/IncomingWebhook/" "a35b8eac054d9f90343303485694e20d/"
         "7a1c9e3f-4d2b-4f6a-9e8c-3b5d7f1a2c4e'"),
        ("TEAMS_WEBHOOK=https://xxxxx.webhook.office.com/webhookb2/xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx@"
         "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx/IncomingWebhook/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx/"
         "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
         "TEAMS_WEBHOOK=${TEAMS_WEBHOOK_URL}")),
    Pattern(
        "square-token", "Square OAuth secret or access token",
        ("SQUARE_APPLICATION_SECRET=sq0" "csp-AbQcEFUV2fsjGHb6HrlEOS47WgjKCu-0xxKhg5QjWV1",
         "client = Client(access_token='sq0" "atp-mKaUyvBPs0jSO2Jkf08MMF')"),
        ("SQUARE_APPLICATION_SECRET=sq0csp-<your-application-secret>",
         "SQUARE_APPLICATION_SECRET=sq0csp-" + "x" * 43,
         "SQUARE_ACCESS_TOKEN=${SQUARE_TOKEN}")),
    Pattern(
        "huggingface-token", "Hugging Face access token",
        ("HF_TOKEN=hf" "_dAPsmYaUSRCsllZqZycZOkNgaWvjsgJWuF",
         "login(token='hf" "_xTwXqxnizKwRkNraEuzeRTpPWzUBqsskDI')"),
        ("HF_TOKEN=hf_" + "x" * 34,
         "def hf_download_weights_from_the_model_hub(): pass",
         "tok = 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(name)",  # camelCase, 34 letters
         "HF_TOKEN=hf_<your-token>")),
    Pattern(
        "vault-token", "HashiCorp Vault token",
        ("VAULT_TOKEN=hv" "s.97TPNbpjava1bMZwIMlvdp5gjTrD8Osj-LnZ5R_j-8U-m7aSz7NRSOtv75y4SXvE9rwLbAtf6e9c"
         "pCGybY9lMR4pAwB",
         "client = hvac.Client(url=VAULT_ADDR, token='hv" "b.p3GVy1PixOqoRGrB5Vpg5C6QsyHZytfqY6K1Qjah4dXd3eOa1Zcc"
         "-a4CgOFfqRgz7IhYePP2lny2pg17_dUM2jNKogorTAuRVpQ09oiVeZWJ9QyucS19AvMp2gUAeSsUfFgUl8oPK_')"),
        ("VAULT_TOKEN=hvs.<token>",
         "VAULT_TOKEN=hvs." + "x" * 95,
         "VAULT_TOKEN=hvs.${VAULT_TOKEN}")),
    Pattern(
        "digitalocean-token", "DigitalOcean token",
        ("DIGITALOCEAN_TOKEN=do" "p_v1_889eeaf77ee09a4496e0ed7afceaa86dc3f3464849a845d1f7c3a0579f09222a",
         "refresh = 'do" "r_v1_2bed27a584d21b54fa8973381f412a0a4f9fa423350b233931da53f50a0be52d'"),
        ("DIGITALOCEAN_TOKEN=dop_v1_<token>",
         "DIGITALOCEAN_TOKEN=dop_v1_" + "0" * 64)),
    Pattern(
        "azure-ad-client-secret", "Azure AD client secret",
        ("AZURE_CLIENT_SECRET=KP4" "8Q~cwC6dT0ctPVnaawqrczLJWImKMG4hEbuUV",
         "ClientSecretCredential(tenant, client_id, 'o3G" "7Q~PDR-~m0k5i.qkwUONAIifEcLav_q5ZvQmL')"),
        ("AZURE_CLIENT_SECRET=<client-secret>",
         "AZURE_CLIENT_SECRET=abc8Q~" + "x" * 34,
         "path = '~/notes/8Q~draft-of-the-quarterly-report-v2.txt'")),
    Pattern(
        "telegram-bot-token", "Telegram bot token",
        ("TELEGRAM_BOT_TOKEN=778863582:A" "AL8ZrF8w50SR2Qugs4lIFVRdxtDyKUOtfZ",
         "bot = Bot(token='1783438452:A" "AUTqr8aFvnKbnHFbDfj3u_ypO09RnKw1zW')"),
        ("TELEGRAM_BOT_TOKEN=123456789:AA" + "x" * 33,
         "TELEGRAM_BOT_TOKEN=<bot-id>:<token>",
         "at = '2024-06-11 12:30:AAB'")),
    Pattern(
        "mailchimp-key", "Mailchimp API key",
        ("MAILCHIMP_API_KEY=ff31aeea03bdba261ad5" "90acbc5fbb5e-us6",
         "client.set_config({'api_key': 'cb983b410e6f58de9b9d" "56191e28c2f2-us21', 'server': 'us21'})"),
        ("MAILCHIMP_API_KEY=" + "x" * 32 + "-us6",
         "MAILCHIMP_API_KEY=<api-key>-us6",
         "MAILCHIMP_API_KEY=" + "0" * 32 + "-us6",
         "bucket = 'acme-raw-us1'")),
    Pattern(
        "discord-bot-token", "Discord bot token",
        ("DISCORD_BOT_TOKEN=MjI4NDUx" "NzI4NDM1ODMyNzUy.HI3Yhc.1OxT-8QY4-3BMDogiSTRIiP9LJm",
         "client.run('NzcyMjg4Mz" "A4MzE2NzM4MzI2NA.R04Zhb.GSdGWoZ6axl7KBGgMVGOYn7B3_5SApYXfE-1ds')"),
        ("DISCORD_BOT_TOKEN=<bot-token>",
         "DISCORD_BOT_TOKEN=NjQ5YWJjZGVmMTIzNDU2Nzg5.R04Zhb.GSdGWoZ6axl7KBGgMVGOYn7B3_5",  # not an id
         "DISCORD_BOT_TOKEN=MTIzNDU2Nzg5MDEyMzQ1Njc4.xxxxxx." + "x" * 27)),
    Pattern(
        "jwt", "signed JSON Web Token",
        ("PREFECT__CLOUD__AUTH_TOKEN=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzdmMtZXRsLWxvYWRlciIsImlhdCI6M"
         "TcxNDAwMzIwMCwic2NvcGUiOiJmbG93czp3cml0ZSJ9." "3vbgqMMvFuz4zf3ATNeY2Pseh093Fj9fOptqCWCsuZr",
         "SUPABASE_SERVICE_KEY='eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJyb2xlIjoic2VydmljZV9yb2xlIiwiaXNzIjoic3VwYWJh"
         "c2UiLCJpYXQiOjE3MDAwMDAwMDB9." "JZaVLaPeAU5moHH5F-grANC-aBcnwDDOOAZvw6d3eK3pxFkhJA5uFyeUhwksU8dSaNrFWv5S"
         "RclfFhhqCmzhp59yZk4d6-GlThw_ZqyC85Nn7Jf30xIOdZh_NRwhUTv3L_Smo927U2aT1yVPMm5nYtffRcvy0Dxo5pCJFz2B30M8KVM_w8"
         "MDaD3vSS1Mmn7qOiqh1yudML66YbgqaD7XBPgUbqr2RbwXOq43IedbtWe27WH77hBlyqz-9PNldsWhXK64VtGHZA2PQLUD-W1nW4kGeJ-"
         "ky88BV8-luteLKWMFmkkBTDijysfSa5Jhl7LiECB7lavfWXTKTiVQ47qsxG'"),
        ("token = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0I"
         "joxNTE2MjM5MDIyfQ." "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c'",  # jwt.io's sample
         ">>> print(encoded)\neyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzb21lIjoicGF5bG9hZCJ9."
         "4twFt5NiznN84AWoo1d7KO1T_yoc0Z6XOpOVswacPZg",  # PyJWT's README: signed with the key "secret"
         "SUPABASE_ANON_KEY=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoiYW5vbiIsImlzcyI6InN1cGFiYXNlIiwiaWF0Ijo"
         "xNzAwMDAwMDAwfQ." "72VnY6wGD4tylc-Y3oLOr0GlsP5S_KXv5Zzjhe3p1g1",  # the anon key is public
         "unsigned = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJzdmMtZXRsLWxvYWRlciIsImlhdCI6MTcxNDAwMzIwMCwic2NvcGUiOiJmbG93cz"
         "p3cml0ZSJ9.'",
         "cut = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzdmMtZXRsLWxvYWRlciIsImlhdCI6MTcxNDAwMzIwMCwic2NvcG"
         "UiOiJmbG93czp3cml0ZSJ9." "3vbgqMMvFuz4zf3ATNeY2Pseh093Fj9'",  # too short for HS256
         "header = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9'")),
    Pattern(
        "ibm-cloud-iam-key", "IBM Cloud IAM API key",
        ("IBM_CLOUD_API_KEY=aKfux6fX1L3dd4u2" "dDGqt1NvVeIWmQmcVFzbjcoP95wL",
         "authenticator = IAMAuthenticator(ibm_iam_apikey='aKfux6fX1L3dd4u2" "dDGqt1NvVeIWmQmcVFzbjcoP95wL')"),
        ("IBM_CLOUD_API_KEY=<api-key>",
         "IBM_CLOUD_API_KEY=" + "x" * 44,
         "api_key = 'aKfux6fX1L3dd4u2dDGqt1NvVeIWmQmcVFzbjcoP95wL'  # no vendor named")),
    Pattern(
        "ibm-cos-hmac-key", "IBM Cloud Object Storage HMAC secret",
        ("COS_HMAC_SECRET_ACCESS_KEY=d496ed631e445241" "5df60f290d94d7efecc22a4e5d4697ea",
         '{"cos_hmac_keys": {"access_key_id": "2bd74cda31fa6e5c", "secret_access_key": "d496ed631e445241'
         '5df60f290d94d7efecc22a4e5d4697ea"}}'),
        ("secret_access_key = <hmac-secret>",
         "secret_access_key = '" + "0" * 48 + "'",
         "sha = 'd496ed631e4452415df60f290d94d7efecc22a4e5d4697ea'")),
    Pattern(
        "cloudant-credential", "Cloudant password or API key",
        ("CLOUDANT_PASSWORD=93ff69b5257313aee99add6cd71b8890" "a6299c08927cae578485090fb254c2a9",
         "cloudant_api_key = 'zjcukrflld" "gefvhdxgjzcevs'"),
        ("CLOUDANT_PASSWORD=<password>",
         "cloudant_api_key = 'abcdefghijklmnopqrstuvwx'",
         "cloudant_password = os.environ['CLOUDANT_PASSWORD']")),
    Pattern(
        "softlayer-key", "SoftLayer API key",
        ("SOFTLAYER_API_KEY=gkgls12ho47cd2tlpo1o0lv8w76417z" "wmi5g5bim7q2bn77r7vf8tg9ad551xqbd",
         "endpoint = 'https://api.softlayer.com/soap/v3.1/gkgls12ho47cd2tlpo1o0lv8w76417z"
         "wmi5g5bim7q2bn77r7vf8tg9ad551xqbd'"),
        ("SOFTLAYER_API_KEY=<api-key>",
         "softlayer_api_key = '" + "0" * 64 + "'",
         "https://api.softlayer.com/soap/v3.1/SoftLayer_Account")),
)
