"""Folded values as per-file facts keep them: names in clear, possible secrets not at all.

A literal that might be a credential is never stored, nor anything computed from it that could
be checked against a guess (a hash, a length): only its kind, whether it is empty, whether it is
a placeholder and whether it has a known credential format. Facts are cached on disk and sent
between processes, so they must say nothing about a value a reader could not see in the report.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional

# Values that document a secret rather than being one.
_PLACEHOLDER_RE = re.compile(
    r"""^(
        <[^<>]*> |                       # <token>
        \{\{.*\}\} |                     # {{ jinja }}
        \$\{[^}]*\} | \$[A-Za-z_]\w* |   # ${VAR}, $VAR
        %\([^)]*\)s |                    # %(name)s
        (.)\2{2,} |                      # xxxx, ****, 0000
        \.\.\.+
    )$""",
    re.VERBOSE,
)
_PLACEHOLDER_WORDS = (
    "your_", "your-", "yourkey", "your key", "replace", "placeholder", "changeme", "change_me",
    "change-me", "example", "dummy", "fake", "sample", "redacted", "todo", "fixme", "secret_here",
    "token_here", "key_here", "password_here", "xxx", "insert", "<", ">",
)


_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
# Whole values that are words, not secrets: `password="password"`, `TOKEN = "token"`.
_PLACEHOLDER_VALUES = {"password", "passwd", "pass", "secret", "token", "key", "apikey", "api_key", "credentials",
                       "changeit", "admin", "root", "user", "test", "testing", "foo", "bar", "baz", "none", "null",
                       "nil", "undefined", "n/a", "na", "tbd", "redacted", "hidden", "masked", "x"}


def is_placeholder(text: str) -> bool:
    """True for values that stand in for a secret (documentation, templates, empty)."""
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
    return "${" in stripped or "{{" in stripped


_SHAPED = re.compile(
    r"^(AKIA|ASIA)[A-Z0-9]{16}$|^(ghp|gho|ghs|ghu|ghr)_[A-Za-z0-9]{30,}$|^github_pat_[A-Za-z0-9_]{40,}$"
    r"|^glpat-[A-Za-z0-9_-]{20,}$|^xox[abposr]-[A-Za-z0-9-]{10,}$|^(sk|rk)_live_[A-Za-z0-9]{16,}$"
    r"|^SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}$|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|^https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+$|^dapi[a-f0-9]{32}$"
)


def looks_like_credential(text: str) -> bool:
    """A high-confidence credential format (not a placeholder)."""
    return bool(_SHAPED.search(text.strip())) and not is_placeholder(text)


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
