"""Private key blocks (PEM, OpenSSH, PGP, SSH2, PuTTY), and GCP service-account JSON: a private
key next to "type": "service_account". A block is read whole when its footer closes it.
"""
from __future__ import annotations

import bisect
import re
from typing import Iterator, List, Optional, Tuple

from credlint.facts.patterns.checks import documented, not_random
from credlint.facts.patterns.rule import FormatRule, decoded
from credlint.facts.patterns.text import P_KEY, P_PUTTY, Candidate, ScannedText

_RULES: List[FormatRule] = []


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


def _find_private_keys(text: ScannedText) -> Iterator[Candidate]:
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
        first = decoded(data[start:start + 64])
        if documented(first) or not_random(first) or data.startswith((b"...", b"\xe2\x80\xa6"), end):
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
        yield Candidate(header.start(), end, pattern_id, decoded(secret), priority)


_RULES.append(FormatRule(_find_private_keys, (P_KEY,)))


# PuTTY key files (.ppk, versions 2 and 3): the secret is the "Private-Lines: N" section, whether
# or not it is encrypted (an encrypted PEM block is reported too: its passphrase is rarely far).
_PUTTY_HEADER = re.compile(rb"PuTTY-User-Key-File-[23]:[ \t]?[A-Za-z0-9@._-]{1,64}\r?\n")
_PUTTY_PRIVATE = re.compile(rb"Private-Lines:[ \t]?(?P<n>[0-9]{1,4})\r?\n")
_B64_LINE = re.compile(rb"[A-Za-z0-9+/=]{1,128}(?:\r?\n|\Z)")
_PUTTY_PUBLIC_MAX = 16 * 1024  # how far the private lines may be from the header (the public key is between)


def _find_putty_keys(text: ScannedText) -> Iterator[Candidate]:
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
        first = decoded(data[start:min(end, start + 64)])
        if end - start < 40 or documented(first) or not_random(first):
            continue
        resume = end
        yield Candidate(header.start(), end, "private-key", decoded(_KEY_NOISE.sub(b"", data[start:end])), 20)


_RULES.append(FormatRule(_find_putty_keys, (P_PUTTY,)))


# This module's rules, in the order the scan runs them.
KEY_BLOCK_RULES: Tuple[FormatRule, ...] = tuple(_RULES)
