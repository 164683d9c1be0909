"""Folded values as per-file facts keep them: names in clear, possible secrets not at all.

A literal that might be a credential is never stored, nor anything computed from it that could
be checked against a guess (a hash, a length): only its kind, whether it is empty, whether it is
a placeholder and whether it has a known credential format. Facts are cached on disk and sent
between processes, so they must say nothing about a value a reader could not see in the report.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional

# Values that document a secret rather than being one: templates, references and masks. A run of
# one mask character (xxxx, ****, ----) stands in for a value; a run of digits or letters ("111",
# "0000") is a value, a weak one.
_PLACEHOLDER_RE = re.compile(
    r"""^(
        <[^<>]*> |                       # <token>
        \{\{.*\}\} |                     # {{ jinja }}
        \$\{[^}]*\} | \$[A-Za-z_]\w* |   # ${VAR}, $VAR
        %\([^)]*\)s |                    # %(name)s
        ([xX*#.?_\-\u2022])\2{2,} |      # xxxx, ****, ----
        \.\.\.+
    )$""",
    re.VERBOSE,
)
# Markers of documentation inside a value. "changeme" is not one: a default nobody changed is the
# password the service runs with.
_PLACEHOLDER_WORDS = (
    "your_", "your-", "yourkey", "your key", "your ", "replace", "placeholder", "example", "dummy", "fake",
    "sample", "redacted", "todo", "fixme", "_here", "-here", " here", "xxx", "insert", "<", ">",
)


_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
# Whole values that name the slot or say "nothing", not a secret anyone chose: `TOKEN = "token"`,
# `api_key="none"`. Tokens and keys are issued, never words. Words people do choose as passwords
# ("password", "secret", "admin", "root", "test", "postgres") are weak values, not placeholders:
# they authenticate (ruff S105 and bandit B105 report them too).
_PLACEHOLDER_VALUES = {"token", "key", "apikey", "api_key", "credentials", "credential", "user", "username",
                       "foo", "bar", "baz", "none", "null", "nil", "undefined", "n/a", "na", "tbd", "redacted",
                       "hidden", "masked", "x"}

# Passwords from the top of every leaked-password list and the stock defaults of common services.
# Outside tests they are findings like any other value; in test code they are test fakes.
WEAK_PASSWORDS = frozenset("""
    password passwd pass pwd secret admin administrator root toor changeme changeit letmein welcome
    qwerty test testing tester guest default demo master postgres postgresql mysql mariadb redis rabbitmq
    airflow prefect neo4j docker oracle minioadmin minio sysadmin superuser hunter iloveyou monkey
    dragon trustno login abc abcd secretpassword mypassword mysecret supersecret topsecret dbpassword dbpass
""".split())
_LEET = str.maketrans("013457@$", "oieastas")
_TEST_WORDS = ("test", "mock", "fake", "dummy", "stub", "sample", "fixture")
# A value that is a file's path: where a credential is, not the credential.
_PATH_START = re.compile(r"^(?:/|~/|\.{1,2}/|[A-Za-z]:[\\/])")
_PATH_SEGMENT = re.compile(r"[\w.\-@+]{1,64}")
_KEY_FILE = re.compile(r"[\w\-]\.(json|pem|key|p8|p12|pfx|jks|crt|cer|der|keytab|txt|ya?ml|toml|ini|cfg|conf|env|"
                       r"properties|pub|asc|gpg|kdbx|ppk)$", re.IGNORECASE)


def looks_like_path(text: str) -> bool:
    """A file path (`/run/secrets/db`, `./keys/sa.json`, `C:\\keys\\sa.json`, `keys/sa.json`): a
    value that says where a credential is. Not a URL, nothing with spaces, and no segment that
    looks random (a base64 secret can start with "/" too)."""
    stripped = text.strip()
    if not stripped or "://" in stripped or any(c.isspace() for c in stripped):
        return False
    if not (_PATH_START.match(stripped) or ("/" in stripped and _KEY_FILE.search(stripped))):
        return False
    segments = [s for s in re.split(r"[\\/]", stripped) if s and s not in (".", "..", "~")]
    for segment in segments:
        if segment.endswith(":") and len(segment) == 2:
            continue  # a Windows drive
        if not _PATH_SEGMENT.fullmatch(segment):
            return False
        if len(segment) >= 10 and any(c.isdigit() for c in segment) and any(c.isupper() for c in segment) \
                and any(c.islower() for c in segment):
            return False  # mixed case and digits: a random body, not a folder or file name
    return bool(segments)


def is_placeholder(text: str) -> bool:
    """True for values that stand in for a secret (documentation, templates, empty, a file path)."""
    stripped = text.strip()
    if not stripped:
        return True
    if stripped.lower() in _PLACEHOLDER_VALUES:
        return True
    if _ENV_NAME.match(stripped):
        return True  # a variable's name (to be substituted), not a value
    if _PLACEHOLDER_RE.match(stripped):
        return True
    lowered = stripped.lower()
    if any(word in lowered for word in _PLACEHOLDER_WORDS):
        return True
    if "${" in stripped or "{{" in stripped:
        return True
    return looks_like_path(stripped)


def is_weak_password(text: str) -> bool:
    """A common password or stock default (`admin`, `postgres`, `Passw0rd!`, `changeme123`,
    `123456`): a real value, but one a test suite would use as a fake."""
    lowered = text.strip().lower()
    if not lowered:
        return False
    if lowered.isdigit() and len(lowered) <= 10:
        return True
    core = re.sub(r"[\d\W_]+", "", lowered)
    unleet = re.sub(r"[\d\W_]+", "", lowered.rstrip("0123456789!?.#_-").translate(_LEET))
    joined = re.sub(r"[\W_]+", "", lowered)
    return joined in WEAK_PASSWORDS or core in WEAK_PASSWORDS or unleet in WEAK_PASSWORDS or \
        (core.startswith("change") and core.endswith("me"))


def is_test_fake(text: str) -> bool:
    """In test code: a weak password or a value that says it is a test value (`test-token-1`)."""
    lowered = text.lower()
    return is_weak_password(text) or any(word in lowered for word in _TEST_WORDS)


_TEST_DIRS = {"tests", "test", "__tests__"}


def is_test_path(path: str) -> bool:
    """A file of a test suite (`tests/...`, `test_x.py`, `x_test.py`, `conftest.py`): its weak values
    are fakes for the code under test."""
    parts = path.replace("\\", "/").lower().split("/")
    name = parts[-1]
    if any(part in _TEST_DIRS for part in parts[:-1]):
        return True
    return name == "conftest.py" or (name.endswith(".py") and (name.startswith("test_") or name[:-3].endswith("_test")))


_EXAMPLE_NAME = re.compile(r"(^|[._\-])(example|examples|sample|samples|template|tmpl|tpl|dist)"
                           r"([._\-]|$)", re.IGNORECASE)


def is_example_path(path: str) -> bool:
    """A template a user copies and fills in (`.env.example`, `config_sample.toml`,
    `settings.toml.dist`): nothing reads it as it stands."""
    return bool(_EXAMPLE_NAME.search(path.replace("\\", "/").rsplit("/", 1)[-1]))


_AUTH_METHODS = frozenset("""
    htpasswd htdigest basic digest bearer token oauth oauth2 oidc openid saml ldap kerberos ntlm negotiate
    none noauth no false true off on disabled enabled anonymous iam sigv4 jwt apikey api_key api-key md5
    scram-sha-256 trust password cert certificate tls mtls native github google azure keycloak session cookie
    header form local database htpasswd-file plain cram-md5 sasl x509 aws gcp kubernetes userpass approle hmac
    peer ident reject radius pam external internal default builtin simple sso
""".split())


def is_auth_method(text: str) -> bool:
    """The name of an authentication method (`htpasswd`, `basic`, `oauth2`), as `*_AUTH` settings
    of registries and proxies take it: how credentials are checked, not a credential."""
    return text.strip().lower() in _AUTH_METHODS


_URL_WITH_PASSWORD = re.compile(r"://[^/@\s]*:[^/@\s]*@")


def is_public_dsn(text: str) -> bool:
    """A DSN with no password in it (`https://<key>@o1.ingest.sentry.io/2`, `postgresql://db/app`):
    Sentry's public key is made to be shipped to browsers, and a DSN without user info holds nothing
    secret. One with `user:password@` is a credential (CL204 and CL203 see to it)."""
    return "://" in text and not _URL_WITH_PASSWORD.search(text)


def is_prose(text: str) -> bool:
    """Words meant for a reader ("Decrypted value as described in the README"), as template files
    hold where the value goes."""
    words_ = text.split()
    return len(words_) >= 3 and sum(w.strip(".,:;!()'\"").isalpha() for w in words_) >= len(words_) - 1


_SHAPED = re.compile(
    r"^(AKIA|ASIA)[A-Z0-9]{16}$|^(ghp|gho|ghs|ghu|ghr)_[A-Za-z0-9]{30,}$|^github_pat_[A-Za-z0-9_]{40,}$"
    r"|^glpat-[A-Za-z0-9_-]{20,}$|^xox[abposr]-[A-Za-z0-9-]{10,}$|^(sk|rk)_live_[A-Za-z0-9]{16,}$"
    r"|^SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}$|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|^https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+$|^dapi[a-f0-9]{32}$"
)


def looks_like_credential(text: str) -> bool:
    """A high-confidence credential format (not a placeholder)."""
    return bool(_SHAPED.search(text.strip())) and not is_placeholder(text)


_RUNS = re.compile(r"[A-Za-z0-9+/=]{8,}")


@functools.lru_cache(maxsize=8192)
def secretish(text: str) -> bool:
    """Text that may be a value written where a name belongs (so it is not kept in clear):
    a known credential format, or a long run mixing cases and digits, or a long letters-and-digits run."""
    if not text:
        return False
    if looks_like_credential(text):
        return True
    for run in _RUNS.findall(text):
        has_digit = any(c.isdigit() for c in run)
        mixed = any(c.islower() for c in run) and any(c.isupper() for c in run)
        if (len(run) >= 10 and mixed and has_digit) or (len(run) >= 20 and has_digit and
                                                        any(c.isalpha() for c in run)):
            return True
    return False


# A block document's or a Variable's name as Prefect spells them (lowercase words joined by "-" or
# "_", optionally "slug/name"): what a module constant may hold for another module to load by.
_DOCUMENT_NAME = re.compile(r"[a-z0-9][a-z0-9_\-]{0,99}(?:/[a-z0-9][a-z0-9_\-]{0,99})?")


def is_document_name(text: str) -> bool:
    """Text shaped as a block document's or Variable's name, and nothing like a secret."""
    return bool(_DOCUMENT_NAME.fullmatch(text)) and not secretish(text) and not is_weak_password(text)


@dataclass
class Value:
    """What the analysis knows about an expression, safe to cache and to show.

    kind: str | bytes | num | bool | none | dict | list | secret_ref | env | parameter |
          instance | dynamic
    text: the string itself, kept only where it is a name (secret names, env keys, flow names).
    empty: a str or bytes with nothing in it (its length is not kept: it would narrow a guess).
    """

    kind: str
    text: Optional[str] = None
    empty: bool = False
    placeholder: bool = False
    ref: Optional[str] = None  # secret name (secret_ref), variable name (env), parameter name
    items: Dict[str, "Value"] = field(default_factory=dict)  # dict entries, keys are names
    elements: List["Value"] = field(default_factory=list)  # list/tuple entries
    dynamic_keys: bool = False  # a dict built with **spread or non-constant keys
    shaped: bool = False  # the string has the format of a known credential (token prefix, key block)

    @property
    def is_literal(self) -> bool:
        """A hard-coded value that is not a placeholder (a credential if it sits in a credential slot)."""
        if self.kind in ("str", "bytes"):
            return not self.placeholder
        if self.kind == "num":
            return True
        return False

    @property
    def is_none(self) -> bool:
        return self.kind == "none" or (self.kind == "str" and self.empty and self.text == "")

    @property
    def known(self) -> bool:
        return self.kind not in ("dynamic",)

    def to_dict(self) -> dict:
        out = {"kind": self.kind}
        if self.text is not None:
            out["text"] = self.text
        if self.kind in ("str", "bytes"):
            if self.empty:
                out["empty"] = True
            out["placeholder"] = self.placeholder
        if self.ref is not None:
            out["ref"] = self.ref
        if self.items:
            out["items"] = {k: v.to_dict() for k, v in self.items.items()}
        if self.elements:
            out["elements"] = [v.to_dict() for v in self.elements]
        if self.dynamic_keys:
            out["dynamic_keys"] = True
        if self.shaped:
            out["shaped"] = True
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "Value":
        return cls(
            kind=data["kind"],
            text=data.get("text"),
            empty=data.get("empty", False),
            placeholder=data.get("placeholder", False),
            ref=data.get("ref"),
            items={k: cls.from_dict(v) for k, v in data.get("items", {}).items()},
            elements=[cls.from_dict(v) for v in data.get("elements", [])],
            dynamic_keys=data.get("dynamic_keys", False),
            shaped=data.get("shaped", False),
        )


def describe(value: Value) -> str:
    """A human description that never contains the value, nor its length (a length shown next to
    the masked line narrows a dictionary attack on a weak password to a handful of guesses)."""
    if value.kind == "str":
        return "an empty string" if value.empty else "a string literal"
    if value.kind == "bytes":
        return "an empty bytes literal" if value.empty else "a bytes literal"
    if value.kind == "dict":
        keys = ", ".join(sorted(value.items)) or "no constant keys"
        return f"a dict literal (keys: {keys})"
    if value.kind == "num":
        return "a number literal"
    return f"a {value.kind} value"
