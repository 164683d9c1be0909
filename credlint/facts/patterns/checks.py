"""Is a candidate a credential, or a value that documents one?

What counts as a finding is deliberately narrow (DESIGN.md section 3; the anchors' users complain
most about noise: reference/anchors.md 4.2). A format is here only when its shape alone says
"credential": a vendor prefix with a fixed alphabet and length, a private-key block, a password
inside a URL, or a 40-character AWS secret sitting right after a key named for it. Values that
document a secret rather than being one are never findings: vendor documentation samples
(AKIAIOSFODNN7EXAMPLE, GitHub's and Slack's published tokens, the Azure storage emulator key),
template markers (<token>, ${VAR}, {{ x }}, %(x)s, YOUR_KEY_HERE), and bodies that are not
plausibly random (one repeated character, fewer than five distinct characters, a straight run
such as 123456 or abcdef, a single character class where the real alphabet mixes them).
"""
from __future__ import annotations

import re

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


def documented(text: str) -> bool:
    """A documentation sample or a template marker inside `text`: it documents a secret, it is not one."""
    lowered = text.lower()
    return any(map(lowered.__contains__, _DOC_MARKERS)) or any(map(text.__contains__, _DOC_SECRETS))


_SUCC = bytes((b + 1) & 0xFF for b in range(256))
_PRED = bytes((b - 1) & 0xFF for b in range(256))


def straight_run(text: str, size: int = 6) -> bool:
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


def not_random(body: str, mixed: bool = True) -> bool:
    """A body that a generator of random tokens would (almost) never produce.

    mixed: the real alphabet mixes letters and digits or cases, so a body with one class only
    (all lowercase, all digits) is a word or an id, not a token.
    """
    if len(set(body)) < 5 or straight_run(body):
        return True
    return mixed and _classes(body) < 2


def token_ok(text: str, body: str, mixed: bool = True) -> bool:
    """The verdict most formats need: `text` documents nothing and its `body` looks random."""
    return not documented(text) and not not_random(body, mixed)
