"""Value shapes: what Prefect 1.4.1 makes of a value written in a deployment file, kept redacted.

A value is read as Prefect's config loader reads it (`string_to_type`: a bool, a Python literal,
else a string); references (`$VAR`, `${{ secrets.X }}`, `${VAR:-default}`, ARNs) are told from
literals; a literal is also judged by what its name or file says (a web page's public variable, a
template's prose, a test's fake). Only `Value` flags leave this room, and names kept in clear go
through `clean` first.
"""
from __future__ import annotations

import ast
import json
import re
import warnings
from typing import List, Optional, Tuple

from credlint.facts.naming import words as _name_words
from credlint.facts.values import (
    Value, is_auth_method, is_example_path, is_placeholder, is_prose, is_public_dsn, is_test_fake,
    looks_like_credential, secretish,
)


_EXPANDVARS = re.compile(r"\$(\w+|\{[^}]*\})", re.ASCII)  # os.path.expandvars (posixpath)
# A dict key kept in clear: an identifier-like name, not a value.
IDENT_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,99}\Z")
_NOTHING = object()


def shape_of(obj) -> str:
    """The shape name of a parsed value ("dict", "list", "str", ...), as `EnvVar.shape` records it."""
    if isinstance(obj, bool):
        return "bool"
    if isinstance(obj, int):
        return "int"
    if isinstance(obj, (float, complex)):
        return "float"
    if isinstance(obj, str):
        return "str"
    if isinstance(obj, bytes):
        return "bytes"
    if isinstance(obj, dict):
        return "dict"
    if isinstance(obj, (list, tuple, set, frozenset)):
        return "list"
    if obj is None:
        return "none"
    return "str"


def name_keys(obj) -> List[str]:
    """The keys of a dict value that may be kept in clear (identifier-like, not value-like)."""
    if not isinstance(obj, dict):
        return []
    return [str(k) for k in obj if isinstance(k, str) and IDENT_KEY.match(k) and not secretish(k)]


def interpret(text: str):
    """(shape, keys, expands, object) of a string as Prefect's config loader reads it."""
    expands = bool(_EXPANDVARS.search(text)) or text.startswith("~")
    if text == "":
        return "empty", [], False, ""
    if text.upper() in ("TRUE", "FALSE"):
        return "bool", [], expands, text.upper() == "TRUE"
    obj = _NOTHING
    lead = text.lstrip(" \t")[:3]
    # a bare word is never a Python literal (literal_eval rejects names): skip the compile
    maybe_literal = not lead[:1].isalpha() or text.strip() in ("None", "True", "False") or \
        bool(re.match(r"[rRbBuU]{1,2}['\"]", lead))
    if maybe_literal and len(text) <= 1_000_000:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # invalid escapes in file text are not our warnings
                obj = ast.literal_eval(text)
        except Exception:  # noqa: BLE001 - Prefect catches everything here too
            obj = _NOTHING
    if obj is not _NOTHING:
        return shape_of(obj), name_keys(obj), expands, obj
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            data = json.loads(stripped)
        except (ValueError, RecursionError):
            data = _NOTHING
        if isinstance(data, (dict, list)):
            return "json-string", name_keys(data), expands, data
    return "str", [], expands, text


def interpret_value(text: str) -> Tuple[str, List[str], bool]:
    """(shape, keys, expands) of a value as Prefect 1.4.1's `string_to_type` hands it over:
    "true"/"false" in any case -> bool, else `ast.literal_eval` (Python, not JSON), else str;
    "json-string" when it looks like JSON that literal_eval rejects (true/false/null)."""
    shape, keys, expands, _obj = interpret(text)
    return shape, keys, expands


# --------------------------------------------------------------------------------------------
# Values (redacted)
# --------------------------------------------------------------------------------------------

_ARN = re.compile(r"^arn:aws[\w-]*:(ssm|secretsmanager|kms):[\w-]*:\d*:[\w/+=,.@:-]+$")
# Any reference a host tool substitutes (CI expressions, templates, `${VAR}`, `$(VAR)`, `%(ENV_X)s`).
HOST_REF_ANY = re.compile(
   r"\$\{\{.*?\}\}|\{\{.*?\}\}|__credlint_tpl__|\$\{[^}]*\}|\$\([A-Za-z_]\w*\)|\$[A-Za-z_]\w*|%\(ENV_\w+\)s",
   re.DOTALL,
)
_SAFE_REF = re.compile(r"[\w.\-/\[\]]{1,120}\Z")


def clean(text: str, what: str = "name") -> str:
    """Text kept in clear (a name, an owner, a target), or "<unreadable ...>" when it may be a value."""
    return f"<unreadable {what}>" if secretish(text) or len(text) > 256 else text


def safe_ref(name: Optional[str]) -> Optional[str]:
    """The name a reference points at, when it can be kept in clear (else None)."""
    if not name:
        return None
    name = name.strip().strip("{}").strip()
    if name.startswith("$"):
        name = name[1:]
    return name if _SAFE_REF.match(name) and not secretish(name) else None


def leaf_value(obj) -> Value:
    """The redacted `Value` of a parsed value (dict entries and list elements too)."""
    if isinstance(obj, str):
        return Value("str", empty=not obj, placeholder=is_placeholder(obj), shaped=looks_like_credential(obj))
    if isinstance(obj, bool):
        return Value("bool")
    if isinstance(obj, (int, float, complex)):
        return Value("num")
    if isinstance(obj, dict):
        return Value("dict", items={k: leaf_value(obj[k]) for k in name_keys(obj)})
    if isinstance(obj, (list, tuple, set)):
        return Value("list", elements=[leaf_value(v) for v in list(obj)[:50]])
    if obj is None:
        return Value("none")
    return Value("dynamic")


def str_leaves(obj, out: List[str], depth: int = 0) -> List[str]:
    """Every string inside a parsed value, appended to `out`: what a dict or list secret holds."""
    if depth > 20:
        return out
    if isinstance(obj, str):
        out.append(obj)
    elif isinstance(obj, dict):
        for v in obj.values():
            str_leaves(v, out, depth + 1)
    elif isinstance(obj, (list, tuple, set)):
        for v in obj:
            str_leaves(v, out, depth + 1)
    return out


def literal_value(raw: str, obj, shape: str) -> Value:
    """The redacted `Value` of a literal as written (`obj`, `shape`: what `interpret` made of it)."""
    if len(raw) > 65536:  # no credential is this long; skip the pattern checks
        return Value("str")
    value = Value("str", empty=not raw, placeholder=is_placeholder(raw), shaped=looks_like_credential(raw))
    if shape in ("dict", "json-string", "list") and isinstance(obj, (dict, list, tuple)):
        leaves = str_leaves(obj, [])
        if leaves:
            value.placeholder = all(is_placeholder(x) for x in leaves)
            value.shaped = any(looks_like_credential(x) for x in leaves)
        if isinstance(obj, dict):
            value.items = {k: leaf_value(obj[k]) for k in name_keys(obj)}
    return value


def assess(raw: Optional[str], host_ref: bool = False, ref: Optional[str] = None):
    """(Value, shape, keys, expands) of a value as written, `host_ref` when the tool that reads
    the file (shell, compose, CI, Helm, k8s) substitutes a reference in it before Prefect sees it."""
    if raw is None:
        return Value("none"), "", [], False
    if host_ref:
        masked = HOST_REF_ANY.sub("x", raw)
        shape, keys, _exp, _obj = interpret(masked)
        if shape not in ("dict", "list", "json-string") or masked.strip() == "x":
            shape, keys = "reference", []
        return Value("reference", ref=safe_ref(ref)), shape, keys, False
    stripped = raw.strip()
    if _ARN.match(stripped):
        return Value("reference", ref=safe_ref(stripped.rsplit(":", 1)[-1])), "reference", [], False
    shape, keys, expands, obj = interpret(raw)
    refs = _EXPANDVARS.findall(raw)
    if refs:
        whole = _EXPANDVARS.fullmatch(stripped) is not None
        return (Value("reference", ref=safe_ref(refs[0])), "reference" if whole else shape, keys,
                True)
    return literal_value(raw, obj, shape), shape, keys, expands


# `${VAR:-default}`, `${VAR-default}`, `${VAR:=default}`: compose and POSIX shells use the default
# when VAR is unset, so a literal default is the value that runs wherever nobody sets VAR.
_DEFAULTED = re.compile(r"\$\{[A-Za-z_]\w*:?[-=]([^}$]*)\}")


def literal_default(raw: str) -> Optional[str]:
    """The text a value with `${VAR:-default}` references becomes when none of them is set, if
    that is all literal (None when other references remain)."""
    if "${" not in raw or not _DEFAULTED.search(raw):
        return None
    effective = _DEFAULTED.sub(lambda m: m.group(1), raw)
    return None if HOST_REF_ANY.search(effective) else effective


# Variables compiled into a web page, public by design (Create React App, Next.js, Vite, Gatsby,
# Expo, Nuxt, Vue CLI, SvelteKit): not secrets, whatever their name.
_PUBLIC_PREFIXES = ("REACT_APP_", "NEXT_PUBLIC_", "VITE_", "GATSBY_", "EXPO_PUBLIC_", "NUXT_PUBLIC_", "NUXT_ENV_",
                    "VUE_APP_", "PUBLIC_")


def not_a_secret(name: str, raw: str, path: str, tests: bool) -> bool:
    """What the name or the file says about a literal that the value alone cannot: a web page's
    public variable, an auth method (`REGISTRY_AUTH: htpasswd`), a DSN without a password (a
    browser Sentry DSN), prose in a template (`.env.example`), a weak value in a test suite or a
    CI job (`tests`: the database a test run starts and throws away)."""
    leaf = name.rsplit(".", 1)[-1]
    if leaf.upper().startswith(_PUBLIC_PREFIXES):
        return True
    parts = _name_words(leaf)
    if parts and parts[-1] == "auth" and is_auth_method(raw):
        return True
    if "dsn" in parts and is_public_dsn(raw):
        return True
    if is_example_path(path) and is_prose(raw):
        return True
    return tests and is_test_fake(raw)
