"""Credential formats with no vendor prefix at their start. Most are found from a marker inside
or after them and read around it (Azure AD's "Q~", Telegram's ":A", Mailchimp's "-us6", a Discord
bot token's timestamp, a JWT's "eyJ", OpenAI's "T3BlbkFJ"); IBM, Cloudant and SoftLayer keys,
which have only an alphabet and a length, right after a key named for the vendor.
"""
from __future__ import annotations

import re
from typing import Iterator, List, Optional, Tuple

from credlint.facts.patterns.checks import documented, not_random, token_ok
from credlint.facts.patterns.rule import FormatRule, context_rule, decoded, regex_rule
from credlint.facts.patterns.text import (
    P_AWS_SECRET, P_AZURE_AD, P_CLOUDANT, P_DISCORD_BOT, P_IBM, P_JWT, P_MAILCHIMP, P_OPENAI, P_SOFTLAYER,
    P_TELEGRAM, Candidate, ScannedText,
)

# The characters of URL-safe tokens, to read a token's extent around a literal found inside it.
_TOKEN_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

_RULES: List[FormatRule] = []


# Azure AD (Entra ID) client secrets: three characters, a digit, "Q~", 31 to 34 more. Found from
# "Q~" (the four characters before it are read backwards).
_AZURE_AD = re.compile(rb"Q~(?P<b>[A-Za-z0-9_~.-]{31,34})(?![A-Za-z0-9_~.-])")
_AZURE_AD_HEAD = re.compile(rb"[A-Za-z0-9_~.]{3}[0-9]")
_AZURE_AD_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_~.-"


def _find_azure_ad(text: ScannedText) -> Iterator[Candidate]:
    data = text.data
    for m in _AZURE_AD.finditer(data):
        start = m.start() - 4
        if start < 0 or not _AZURE_AD_HEAD.fullmatch(data, start, m.start()):
            continue
        if start > 0 and data[start - 1] in _AZURE_AD_CHARS:
            continue
        secret = decoded(data[start:m.end()])
        if token_ok(secret, decoded(m.group("b"))):
            yield Candidate(start, m.end(), "azure-ad-client-secret", secret, 30)


_RULES.append(FormatRule(_find_azure_ad, (P_AZURE_AD,)))


# Telegram bot tokens: the bot's numeric id, a colon, then "A" and 34 token characters. Found
# from ":A" (the id is read backwards from it).
_TELEGRAM = re.compile(rb":A(?P<b>[A-Za-z0-9_-]{34})(?![A-Za-z0-9_-])")
_DIGITS_BEFORE = re.compile(rb"[0-9]{8,10}\Z")


def _find_telegram(text: ScannedText) -> Iterator[Candidate]:
    data = text.data
    for m in _TELEGRAM.finditer(data):
        at = m.start()
        bot = _DIGITS_BEFORE.search(data, max(0, at - 10), at)
        if not bot or (bot.start() > 0 and data[bot.start() - 1] in _TOKEN_CHARS):
            continue
        secret = decoded(data[bot.start():m.end()])
        if token_ok(secret, decoded(m.group("b"))):
            yield Candidate(bot.start(), m.end(), "telegram-bot-token", secret, 30)


_RULES.append(FormatRule(_find_telegram, (P_TELEGRAM,)))


# Mailchimp API keys: 32 hex characters and the data centre ("-us6"). Found from "-us<digit>".
_MAILCHIMP = re.compile(rb"-us[0-9]{1,2}(?![A-Za-z0-9_])")
_HEX32_BEFORE = re.compile(rb"[0-9a-f]{32}\Z")


def _find_mailchimp(text: ScannedText) -> Iterator[Candidate]:
    data = text.data
    for m in _MAILCHIMP.finditer(data):
        at = m.start()
        body = _HEX32_BEFORE.search(data, max(0, at - 32), at)
        if not body or (at > 32 and data[at - 33] in _TOKEN_CHARS):
            continue
        secret = decoded(data[at - 32:m.end()])
        if token_ok(secret, secret[:32]):
            yield Candidate(at - 32, m.end(), "mailchimp-key", secret, 30)


_RULES.append(FormatRule(_find_mailchimp, (P_MAILCHIMP,)))


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


def _find_discord_bots(text: ScannedText) -> Iterator[Candidate]:
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
        secret = decoded(data[start:m.end()])
        if token_ok(secret, decoded(m.group("b"))):
            yield Candidate(start, m.end(), "discord-bot-token", secret, 30)


_RULES.append(FormatRule(_find_discord_bots, (P_DISCORD_BOT,)))


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


def _find_jwts(text: ScannedText) -> Iterator[Candidate]:
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
        secret = decoded(data[at:end])
        if documented(secret) or documented(repr(claims)) or not_random(decoded(parts[2])):
            continue
        yield Candidate(at, end, "jwt", secret, 30)


_RULES.append(FormatRule(_find_jwts, (P_JWT,)))


# Vendor keys that have no prefix of their own, right after a key named for the vendor (as
# detect-secrets' IBM, Cloudant and SoftLayer plugins find them), with the vendor's exact alphabet
# and length. IBM COS HMAC secrets sit under the same names as AWS secrets but are 48 hex.
_RULES.append(context_rule(
    "ibm-cloud-iam-key",
    (rb"ibm[_.-]?(?:cloud[_.-]?)?(?:iam[_.-]?)?(?:api[_.-]?)?(?:key|pwd|password|pass|token)",
     rb"cloud[_.-]?iam[_.-]?(?:api[_.-]?)?(?:key|pwd|password|pass|token)"),
    rb"[A-Za-z0-9_-]{44}(?![A-Za-z0-9_-])", P_IBM, lambda s: token_ok(s, s)))
_RULES.append(context_rule(
    "ibm-cos-hmac-key",
    (rb"secret[_.-]?access[_.-]?key", rb"cos[_.-]?(?:hmac[_.-]?)?secret[_.-]?(?:access[_.-]?)?key"),
    rb"[a-f0-9]{48}(?![A-Za-z0-9])", P_AWS_SECRET, lambda s: token_ok(s, s)))
_RULES.append(context_rule(
    "cloudant-credential",
    (rb"cloudant[_.-]?(?:api[_.-]?)?(?:key|pwd|pw|password|pass|token)",),
    rb"(?:[a-f0-9]{64}|[a-z]{24})(?![A-Za-z0-9])", (P_CLOUDANT,),
    lambda s: not documented(s) and not not_random(s, mixed=len(s) == 64)))
_RULES.append(context_rule(
    "softlayer-key",
    (rb"softlayer[_.-]?(?:api[_.-]?)?(?:key|pwd|password|pass|token)",),
    rb"[a-z0-9]{64}(?![A-Za-z0-9])", (P_SOFTLAYER,), lambda s: token_ok(s, s)))
_RULES.append(regex_rule(
    "softlayer-key", rb"api\.softlayer\.com/soap/v3(?:\.1)?/(?P<s>[a-z0-9]{64})(?![A-Za-z0-9])",
    (P_SOFTLAYER,)))


# OpenAI keys carry "T3BlbkFJ" (base64 of "OpenAI") once, in the middle: found from that literal,
# then grown to the run of token characters around it.
_OPENAI_MARK = re.compile(rb"T3BlbkFJ")
_TOKEN_RUN = re.compile(rb"[A-Za-z0-9_-]*")
_OPENAI_HEAD = re.compile(rb"sk-(?:(?:proj|svcacct|admin)-)?[A-Za-z0-9_-]{20,200}\Z")


def _find_openai(text: ScannedText) -> Iterator[Candidate]:
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
        secret = decoded(data[start:run_end])
        if token_ok(secret, secret.split("T3BlbkFJ", 1)[1]):
            yield Candidate(start, run_end, "openai-key", secret, 30)


_RULES.append(FormatRule(_find_openai, (P_OPENAI,)))


# This module's rules, in the order the scan runs them.
UNPREFIXED_RULES: Tuple[FormatRule, ...] = tuple(_RULES)
