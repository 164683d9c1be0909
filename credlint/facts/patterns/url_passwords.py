"""Passwords inside URLs (scheme://user:password@host, Snowflake's ?password=), judged real,
weak or documentation: a weak one counts only in a file services run with (`.env`, compose).
"""
from __future__ import annotations

import re
from typing import Iterator, List, Tuple

from credlint.facts.patterns.checks import straight_run
from credlint.facts.patterns.rule import FormatRule, decoded
from credlint.facts.patterns.text import P_SNOW, P_URL, Candidate, ScannedText
from credlint.facts.values import is_placeholder

_RULES: List[FormatRule] = []


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
    if lowered == low_user or len(set(password)) < 4 or straight_run(password):
        return "weak"
    return "real"


def _scheme_before(data: bytes, at: int) -> bytes:
    found = _URL_SCHEME.match(data[max(0, at - 40):at][::-1])
    if not found:
        return b""
    scheme = found.group()[::-1]
    letter = _LETTER.search(scheme)
    return scheme[letter.start():].lower() if letter else b""


def _find_url_passwords(text: ScannedText) -> Iterator[Candidate]:
    data = text.data
    verdicts: dict = {}
    if text.probe(P_URL):
        for m in _URL.finditer(data):
            scheme = _scheme_before(data, m.start())
            if not scheme:
                continue
            start, end = m.span("s")
            password = decoded(data[start:end])
            parts = (m.group("user"), password, m.group("host"))
            verdict = verdicts.get(parts)
            if verdict is None:
                verdict = verdicts[parts] = _url_password_verdict(decoded(parts[0]), password, decoded(parts[2]))
            if verdict == "real" or (verdict == "weak" and text.runs_as_config):
                if scheme == b"snowflake" or scheme.endswith(b"+snowflake"):
                    yield Candidate(start, end, "snowflake-url-password", password, 15)
                else:
                    yield Candidate(start, end, "generic-url-password", password, 5)
    if text.probe(P_SNOW):
        for m in _SNOWFLAKE_QUERY.finditer(data):
            start, end = m.span("s")
            password = decoded(data[start:end])
            verdict = _url_password_verdict("", password, "snowflake")
            if verdict == "real" or (verdict == "weak" and text.runs_as_config):
                yield Candidate(start, end, "snowflake-url-password", password, 15)


_RULES.append(FormatRule(_find_url_passwords, (P_URL, P_SNOW)))


# This module's rules, in the order the scan runs them.
URL_PASSWORD_RULES: Tuple[FormatRule, ...] = tuple(_RULES)
