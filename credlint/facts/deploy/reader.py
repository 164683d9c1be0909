"""Deployment files: what reaches a flow run, read from the files that start agents and set env.

credlint reads agent start commands, Kubernetes manifests, compose files, Dockerfiles, `.env`
files, Prefect `config.toml`, supervisord configs, CI workflows, shell scripts and Makefiles, and
turns each into `DeployFacts`: the Prefect agents it starts (type, labels, what each forwards to
flow runs, what stays in its own environment) and every environment variable it sets, with the
context secret Prefect 1.4.1 would make of it.

The parsers are the formats' own: PyYAML's composer (node marks give the lines), `json`,
`ast.literal_eval` and `tomllib`, `shlex` for supervisord's `environment=`, and a small POSIX word
lexer for shell text (quotes, escapes, `$...` substitutions, continuation lines, heredocs) that
keeps the source offset of every character, which `shlex` cannot. Line-oriented fallbacks are
used only where a file does not parse (Helm templates), and say so in `problems`.

Secret values are never kept: a value is exported only as `credlint.facts.values.Value` (kind and
empty/placeholder/shaped flags); names (variables, secret names, dict keys that are
identifiers, labels) are kept in clear.

Data model notes for the project model:
- `EnvVar.scope`: "forwarded" | "agent" | "process" | "config" as documented on the class, plus
  "shell" for a shell/Makefile variable that is set but not exported (it is in no environment;
  kept because a literal there is still a hard-coded value), and "config-key" for each string
  inside a dict-valued config.toml secret (named `SECRET.KEY`, `secret` the secret's name; no
  provider of anything: the secret's own "config" entry is), and "config-setting" for a credential
  in another table of a Prefect config (`[s3] secret = "..."`, named `s3.secret`; recorded only when
  it is one, and a provider of nothing).
- Entries of `PREFECT__CLOUD__AGENT__ENV_VARS` (and `[cloud.agent.env_vars]`) that are tied to no
  agent in the file (a `.env`, a config.toml) have scope "forwarded" and `agent=None`: they reach
  the runs of whatever agent loads them. When the agent also has `--env`, Prefect ignores them
  (`--env` replaces the config env); they then get scope "agent" and a problem says why.
- A Local agent forwards its own environment: its `own_env` entries are also listed in
  `Agent.forwards` (their scope stays "agent").
- `DeployFacts.links` connects a service/container to env it loads from elsewhere: compose
  `env_file` and `docker run --env-file` (target: project-relative path), Kubernetes `envFrom`
  (target: "secret/NAME" or "configmap/NAME").
- Agent credential options `--key/-k` and `--token/-t` of an agent command are recorded as
  EnvVars named as written ("--key"), scope "agent".
- Additions to the brief's fields: `EnvVar.owner` and `Agent.owner` name what sets the variable
  or runs the agent ("service agent", "container Deployment/x/agent", "job build", "program:x",
  "image", "target agent"); `shape` may also be "none" (the literal None) or "bytes"; a YAML value
  that is a mapping/list where a string belongs is Value kind "dynamic".
- Text kept in clear that looks like a value (a credential format, or a long run of mixed case
  and digits: a value written where a name belongs) is replaced by "<unreadable name>" etc.
"""
from __future__ import annotations

import ast
import base64
import binascii
import bisect
import functools
import json
import posixpath
import re
import shlex
import warnings
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple


class _LazyYaml:
    """PyYAML, imported on first use: a warm run that reads no YAML never pays for it."""

    def __getattr__(self, name):
        import yaml as real

        globals()["yaml"] = real
        return getattr(real, name)


yaml = _LazyYaml()

from credlint.facts.deploy.types import Agent, DeployFacts, EnvLink, EnvVar  # noqa: F401 - re-exported
from credlint.facts.types import Pos
from credlint.facts.suppressions import scan_text_suppressions
from credlint.tomlcompat import toml
from credlint.facts.naming import is_credential_env_name, words as _name_words
from credlint.facts.values import (
    Value, is_auth_method, is_example_path, is_placeholder, is_prose, is_public_dsn, is_test_fake, is_test_path,
    looks_like_credential,
)

from credlint.prefect.names import (
    AGENT_TYPES, ENV_VARS_VAR, LABELS_VAR, prefect_secret_name, secret_path, typo_secret_name,
)

KINDS = ("shell", "makefile", "ci-yaml", "k8s", "compose", "dockerfile", "dotenv", "prefect-config",
         "supervisord", "yaml", "batch")
MAX_BYTES = 8 * 1024 * 1024
HEAD_BYTES = 64 * 1024


_EXPANDVARS = re.compile(r"\$(\w+|\{[^}]*\})", re.ASCII)  # os.path.expandvars (posixpath)
_IDENT_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,99}\Z")
_NOTHING = object()


def _shape_of(obj) -> str:
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


def _name_keys(obj) -> List[str]:
    if not isinstance(obj, dict):
        return []
    return [str(k) for k in obj if isinstance(k, str) and _IDENT_KEY.match(k) and not _secretish(k)]


def _interpret(text: str):
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
        return _shape_of(obj), _name_keys(obj), expands, obj
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            data = json.loads(stripped)
        except (ValueError, RecursionError):
            data = _NOTHING
        if isinstance(data, (dict, list)):
            return "json-string", _name_keys(data), expands, data
    return "str", [], expands, text


def interpret_value(text: str) -> Tuple[str, List[str], bool]:
    """(shape, keys, expands) of a value as Prefect 1.4.1's `string_to_type` hands it over:
    "true"/"false" in any case -> bool, else `ast.literal_eval` (Python, not JSON), else str;
    "json-string" when it looks like JSON that literal_eval rejects (true/false/null)."""
    shape, keys, expands, _obj = _interpret(text)
    return shape, keys, expands


# --------------------------------------------------------------------------------------------
# Values (redacted)
# --------------------------------------------------------------------------------------------

_ARN = re.compile(r"^arn:aws[\w-]*:(ssm|secretsmanager|kms):[\w-]*:\d*:[\w/+=,.@:-]+$")
_HOST_REF_ANY = re.compile(
    r"\$\{\{.*?\}\}|\{\{.*?\}\}|__credlint_tpl__|\$\{[^}]*\}|\$\([A-Za-z_]\w*\)|\$[A-Za-z_]\w*|%\(ENV_\w+\)s",
    re.DOTALL,
)
_SAFE_REF = re.compile(r"[\w.\-/\[\]]{1,120}\Z")


_RUNS = re.compile(r"[A-Za-z0-9+/=]{8,}")


@functools.lru_cache(maxsize=8192)
def _secretish(text: str) -> bool:
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


def _clean(text: str, what: str = "name") -> str:
    return f"<unreadable {what}>" if _secretish(text) or len(text) > 256 else text


def _safe_ref(name: Optional[str]) -> Optional[str]:
    if not name:
        return None
    name = name.strip().strip("{}").strip()
    if name.startswith("$"):
        name = name[1:]
    return name if _SAFE_REF.match(name) and not _secretish(name) else None


def _leaf_value(obj) -> Value:
    if isinstance(obj, str):
        return Value("str", empty=not obj, placeholder=is_placeholder(obj), shaped=looks_like_credential(obj))
    if isinstance(obj, bool):
        return Value("bool")
    if isinstance(obj, (int, float, complex)):
        return Value("num")
    if isinstance(obj, dict):
        return Value("dict", items={k: _leaf_value(obj[k]) for k in _name_keys(obj)})
    if isinstance(obj, (list, tuple, set)):
        return Value("list", elements=[_leaf_value(v) for v in list(obj)[:50]])
    if obj is None:
        return Value("none")
    return Value("dynamic")


def _str_leaves(obj, out: List[str], depth: int = 0) -> List[str]:
    if depth > 20:
        return out
    if isinstance(obj, str):
        out.append(obj)
    elif isinstance(obj, dict):
        for v in obj.values():
            _str_leaves(v, out, depth + 1)
    elif isinstance(obj, (list, tuple, set)):
        for v in obj:
            _str_leaves(v, out, depth + 1)
    return out


def _literal_value(raw: str, obj, shape: str) -> Value:
    if len(raw) > 65536:  # no credential is this long; skip the pattern checks
        return Value("str")
    value = Value("str", empty=not raw, placeholder=is_placeholder(raw), shaped=looks_like_credential(raw))
    if shape in ("dict", "json-string", "list") and isinstance(obj, (dict, list, tuple)):
        leaves = _str_leaves(obj, [])
        if leaves:
            value.placeholder = all(is_placeholder(x) for x in leaves)
            value.shaped = any(looks_like_credential(x) for x in leaves)
        if isinstance(obj, dict):
            value.items = {k: _leaf_value(obj[k]) for k in _name_keys(obj)}
    return value


def _assess(raw: Optional[str], host_ref: bool = False, ref: Optional[str] = None):
    """(Value, shape, keys, expands) of a value as written, `host_ref` when the tool that reads
    the file (shell, compose, CI, Helm, k8s) substitutes a reference in it before Prefect sees it."""
    if raw is None:
        return Value("none"), "", [], False
    if host_ref:
        masked = _HOST_REF_ANY.sub("x", raw)
        shape, keys, _exp, _obj = _interpret(masked)
        if shape not in ("dict", "list", "json-string") or masked.strip() == "x":
            shape, keys = "reference", []
        return Value("reference", ref=_safe_ref(ref)), shape, keys, False
    stripped = raw.strip()
    if _ARN.match(stripped):
        return Value("reference", ref=_safe_ref(stripped.rsplit(":", 1)[-1])), "reference", [], False
    shape, keys, expands, obj = _interpret(raw)
    refs = _EXPANDVARS.findall(raw)
    if refs:
        whole = _EXPANDVARS.fullmatch(stripped) is not None
        return (Value("reference", ref=_safe_ref(refs[0])), "reference" if whole else shape, keys,
                True)
    return _literal_value(raw, obj, shape), shape, keys, expands


# `${VAR:-default}`, `${VAR-default}`, `${VAR:=default}`: compose and POSIX shells use the default
# when VAR is unset, so a literal default is the value that runs wherever nobody sets VAR.
_DEFAULTED = re.compile(r"\$\{[A-Za-z_]\w*:?[-=]([^}$]*)\}")


def _literal_default(raw: str) -> Optional[str]:
    """The text a value with `${VAR:-default}` references becomes when none of them is set, if
    that is all literal (None when other references remain)."""
    if "${" not in raw or not _DEFAULTED.search(raw):
        return None
    effective = _DEFAULTED.sub(lambda m: m.group(1), raw)
    return None if _HOST_REF_ANY.search(effective) else effective


# Variables compiled into a web page, public by design (Create React App, Next.js, Vite, Gatsby,
# Expo, Nuxt, Vue CLI, SvelteKit): not secrets, whatever their name.
_PUBLIC_PREFIXES = ("REACT_APP_", "NEXT_PUBLIC_", "VITE_", "GATSBY_", "EXPO_PUBLIC_", "NUXT_PUBLIC_", "NUXT_ENV_",
                    "VUE_APP_", "PUBLIC_")


def _not_a_secret(name: str, raw: str, path: str, tests: bool) -> bool:
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


# --------------------------------------------------------------------------------------------
# Source positions
# --------------------------------------------------------------------------------------------


class _Src:
    """Maps an offset in a text being read to a (line, column) of the file (1-based)."""

    def locate(self, offset: int, token: str = "") -> Tuple[int, int]:  # pragma: no cover
        raise NotImplementedError


class _LineSrc(_Src):
    def __init__(self, text: str, line0: int = 1, col0: int = 1):
        self.starts = [0]
        i = text.find("\n")
        while i >= 0:
            self.starts.append(i + 1)
            i = text.find("\n", i + 1)
        self.line0 = line0
        self.col0 = col0

    def locate(self, offset, token=""):
        idx = bisect.bisect_right(self.starts, max(offset, 0)) - 1
        col = offset - self.starts[idx]
        return self.line0 + idx, col + (self.col0 if idx == 0 else 1)


class _OriginSrc(_Src):
    def __init__(self, origins: List[Tuple[int, int]], fallback: Tuple[int, int]):
        self.origins = origins
        self.fallback = fallback

    def locate(self, offset, token=""):
        if 0 <= offset < len(self.origins):
            return self.origins[offset]
        if self.origins:
            line, col = self.origins[-1]
            return line, col + 1
        return self.fallback


class _BlockSrc(_Src):
    """A YAML literal block scalar: value line i is file line first+i, shifted by the indent."""

    def __init__(self, text: str, first_line: int, indent: int):
        self.text = text
        self.first = first_line
        self.indent = indent

    def locate(self, offset, token=""):
        offset = max(0, min(offset, len(self.text)))
        line = self.text.count("\n", 0, offset)
        col = offset - (self.text.rfind("\n", 0, offset) + 1)
        return self.first + line, self.indent + col + 1


class _SearchSrc(_Src):
    """Folded or multi-line scalars: find the token in the node's lines."""

    def __init__(self, lines: List[str], first: int, last: int, fallback: Tuple[int, int]):
        self.lines = lines
        self.first = first  # 0-based
        self.last = last
        self.fallback = fallback
        self.cursor = (first, 0)

    def locate(self, offset, token=""):
        if not token:
            return self.fallback
        for start in (self.cursor, (self.first, 0)):
            line, col = start
            while line <= self.last and line < len(self.lines):
                idx = self.lines[line].find(token, col)
                if idx >= 0:
                    self.cursor = (line, idx + 1)
                    return line + 1, idx + 1
                line, col = line + 1, 0
        return self.fallback


class _SubSrc(_Src):
    """Text built from a word of another source (the script of `sh -c SCRIPT`)."""

    def __init__(self, parent: _Src, offsets: List[int]):
        self.parent = parent
        self.offsets = offsets

    def locate(self, offset, token=""):
        if 0 <= offset < len(self.offsets):
            return self.parent.locate(self.offsets[offset], token)
        if self.offsets:
            return self.parent.locate(self.offsets[-1] + 1, token)
        return self.parent.locate(0, token)


def _pos(line: int, col: int, length: int) -> Pos:
    return Pos(line, col, line, col + max(length, 0))


# --------------------------------------------------------------------------------------------
# Shell words (POSIX quoting; offsets kept for every character)
# --------------------------------------------------------------------------------------------


@dataclass
class _Word:
    text: str
    offsets: List[int]
    src: _Src
    subst: List[Tuple[int, int, Optional[str]]] = field(default_factory=list)  # host substitutions
    quoted: bool = False

    def loc(self, index: int = 0, token: str = "") -> Tuple[int, int]:
        if 0 <= index < len(self.offsets):
            return self.src.locate(self.offsets[index], token or self.text[index:])
        if self.offsets:
            return self.src.locate(self.offsets[-1] + 1, token)
        return self.src.locate(0, token)

    def host_ref(self, start: int = 0) -> Tuple[bool, Optional[str]]:
        for s, e, name in self.subst:
            if e > start:
                return True, name
        return False, None


_OPCHARS = set(";&|()<>")
_OPS = ("<<<", "<<-", ";;&", "&&", "||", ";;", "<<", ">>", "<&", ">&", "|&", "<>", "&>", ";", "&", "|",
        "(", ")", "<", ">")
_REDIRECTS = {"<", ">", ">>", "<&", ">&", "<>", "&>", "<<<"}


def _subst_end(src: str, i: int) -> Tuple[int, Optional[str]]:
    """End of a `$...` or backtick substitution starting at i, and the variable it names."""
    n = len(src)
    if src[i] == "`":
        j = i + 1
        while j < n and src[j] != "`":
            j += 2 if src[j] == "\\" else 1
        return min(j + 1, n), None
    if i + 1 >= n:
        return i + 1, None
    c = src[i + 1]
    if c in "{(":
        close = "}" if c == "{" else ")"
        depth, j = 0, i + 1
        while j < n:
            ch = src[j]
            if ch == c:
                depth += 1
            elif ch == close:
                depth -= 1
                if depth == 0:
                    break
            elif ch == "\\":
                j += 1
            elif ch == "'" and c == "(":
                k = src.find("'", j + 1)
                j = n if k < 0 else k
            j += 1
        end = min(j + 1, n)
        inner = src[i + 2:end - 1].strip().strip("{}").strip()
        match = re.match(r"[A-Za-z_][\w.]*", inner)
        name = match.group(0) if match else None
        if c == "(" and (not match or match.group(0) != inner):
            name = None  # a command substitution, not a make/k8s variable
        return end, name
    if c.isalpha() or c == "_":
        j = i + 1
        while j < n and (src[j].isalnum() or src[j] == "_"):
            j += 1
        return j, src[i + 1:j]
    if c.isdigit() or c in "@*#?$!-":
        return i + 2, None
    return i + 1, None


def _lex_word(src: str, i: int, srcobj: _Src, dollar: bool) -> Tuple[_Word, int]:
    n = len(src)
    text: List[str] = []
    offs: List[int] = []
    subst: List[Tuple[int, int, Optional[str]]] = []
    quoted = src[i] in "'\""

    def take_subst(k: int) -> int:
        end, name = _subst_end(src, k)
        if end <= k + 1:
            text.append(src[k])
            offs.append(k)
            return k + 1
        begin = len(text)
        for m in range(k, end):
            text.append(src[m])
            offs.append(m)
        subst.append((begin, len(text), name))
        return end

    while i < n:
        c = src[i]
        if c in " \t\r\n" or c in _OPCHARS:
            break
        if c == "\\":
            if i + 1 < n:
                if src[i + 1] == "\n":
                    i += 2
                    continue
                text.append(src[i + 1])
                offs.append(i + 1)
                i += 2
                continue
            i += 1
            continue
        if c == "'" or (c == "$" and dollar and i + 1 < n and src[i + 1] == "'"):
            if c == "$":
                i += 1
            j = src.find("'", i + 1)
            if j < 0:
                j = n
            for k in range(i + 1, j):
                text.append(src[k])
                offs.append(k)
            i = j + 1
            continue
        if c == '"':
            i += 1
            while i < n and src[i] != '"':
                d = src[i]
                if d == "\\" and i + 1 < n and src[i + 1] in '$`"\\\n':
                    if src[i + 1] != "\n":
                        text.append(src[i + 1])
                        offs.append(i + 1)
                    i += 2
                    continue
                if dollar and d in "$`":
                    i = take_subst(i)
                    continue
                text.append(d)
                offs.append(i)
                i += 1
            i += 1
            continue
        if dollar and c in "$`":
            i = take_subst(i)
            continue
        text.append(c)
        offs.append(i)
        i += 1
    return _Word("".join(text), offs, srcobj, subst, quoted), i


def _skip_heredocs(src: str, i: int, pending: List[Tuple[str, bool]]) -> int:
    n = len(src)
    for delim, strip_tabs in pending:
        while i < n:
            j = src.find("\n", i)
            line = src[i:] if j < 0 else src[i:j]
            i = n if j < 0 else j + 1
            if (line.lstrip("\t") if strip_tabs else line) == delim:
                break
    return i


def _lex(text: str, srcobj: _Src, dollar: bool = True) -> List[object]:
    """Words and operators ("\\n", ";", "&&", ...) of shell text; heredoc bodies are skipped."""
    toks: List[object] = []
    pending: List[Tuple[str, bool]] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t\r":
            i += 1
            continue
        if c == "\\" and i + 1 < n and text[i + 1] == "\n":
            i += 2
            continue
        if c == "\n":
            toks.append("\n")
            i += 1
            if pending:
                i = _skip_heredocs(text, i, pending)
                pending = []
            continue
        if c == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if c.isdigit():
            j = i
            while j < n and text[j].isdigit():
                j += 1
            if j < n and text[j] in "<>":
                i = j
                continue
        if c in _OPCHARS:
            op = next(o for o in _OPS if text.startswith(o, i))
            i += len(op)
            if op in ("<<", "<<-"):
                while i < n and text[i] in " \t":
                    i += 1
                if i < n and text[i] not in "\n" and text[i] not in _OPCHARS:
                    word, i = _lex_word(text, i, srcobj, False)
                    pending.append((word.text, op == "<<-"))
                continue
            toks.append(op)
            continue
        word, i = _lex_word(text, i, srcobj, dollar)
        toks.append(word)
    return toks


_RESERVED = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "time",
             "esac"}
_SKIP_COMMANDS = {"for", "case", "select", "function", "echo", "printf", "#", ":", "true", "false",
                  "cat", "grep", "test", "[", "[["}


def _commands(toks: List[object]) -> List[List[_Word]]:
    cmds: List[List[_Word]] = []
    cur: List[_Word] = []
    skip_next = False
    for tok in toks:
        if isinstance(tok, str):
            if tok in _REDIRECTS:
                skip_next = True
                continue
            if cur:
                cmds.append(cur)
                cur = []
            skip_next = False
            continue
        if skip_next:
            skip_next = False
            continue
        cur.append(tok)
    if cur:
        cmds.append(cur)
    return cmds


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _assignment(word: _Word) -> bool:
    if word.quoted:
        return False
    eq = word.text.find("=")
    return eq > 0 and bool(_NAME.match(word.text[:eq]))


# --------------------------------------------------------------------------------------------
# YAML helpers
# --------------------------------------------------------------------------------------------

_TPL = re.compile(r"\{\{-?.*?-?\}\}")
def _loader():
    return getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader


_NULL_TAG = "tag:yaml.org,2002:null"
_MERGE_TAG = "tag:yaml.org,2002:merge"


def _pairs(node, depth: int = 0) -> List[Tuple[object, object]]:
    """Key/value node pairs of a mapping, with YAML merge keys (<<) applied."""
    if not isinstance(node, yaml.MappingNode) or depth > 20:
        return []
    if not any(isinstance(k, yaml.ScalarNode) and (k.value == "<<" or k.tag == _MERGE_TAG) for k, _v in node.value):
        return node.value
    own, merged = [], []
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and (key.tag == _MERGE_TAG or key.value == "<<"):
            sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
            for src in sources:
                merged.extend(_pairs(src, depth + 1))
        else:
            own.append((key, value))
    seen = {k.value for k, _ in own if isinstance(k, yaml.ScalarNode)}
    out = list(own)
    for key, value in merged:
        kv = key.value if isinstance(key, yaml.ScalarNode) else None
        if kv not in seen:
            seen.add(kv)
            out.append((key, value))
    return out


def _get(node, key: str):
    for k, v in _pairs(node):
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return v
    return None


def _scalar(node) -> Optional[str]:
    if isinstance(node, yaml.ScalarNode) and node.tag != _NULL_TAG:
        return node.value
    return None


def _items(node) -> list:
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


class _YDoc:
    def __init__(self, lines: List[str], line0: int):
        self.lines = lines
        self.line0 = line0  # 0-based line of the chunk in the file

    def loc(self, node) -> Tuple[int, int]:
        col = node.start_mark.column + 1
        if isinstance(node, yaml.ScalarNode) and node.style in ("'", '"'):
            col += 1
        return node.start_mark.line + self.line0 + 1, col

    def source(self, node) -> str:
        """The file text a node spans (for nodes that are not scalars)."""
        l0, l1 = node.start_mark.line + self.line0, node.end_mark.line + self.line0
        if l0 == l1 and l0 < len(self.lines):
            return self.lines[l0][node.start_mark.column:node.end_mark.column]
        return "\n".join(self.lines[l0:l1 + 1])

    def scalar_src(self, node) -> _Src:
        first = node.start_mark.line + self.line0
        if node.style == "|":
            indent = 0
            for k in range(first + 1, min(len(self.lines), first + 2000)):
                if self.lines[k].strip():
                    indent = len(self.lines[k]) - len(self.lines[k].lstrip(" "))
                    break
            return _BlockSrc(node.value, first + 2, indent)
        if node.start_mark.line == node.end_mark.line:
            return _LineSrc(node.value, first + 1,
                            node.start_mark.column + 1 + (1 if node.style in ("'", '"') else 0))
        return _SearchSrc(self.lines, first, node.end_mark.line + self.line0,
                          (first + 1, node.start_mark.column + 1))


def _host_spans(text: str, host: str) -> List[Tuple[int, int, Optional[str]]]:
    """Substitutions the tool reading `text` performs before the program sees it."""
    pats = [r"\$\{\{(.*?)\}\}", r"\{\{-?(.*?)-?\}\}", r"(__credlint_tpl__)"]  # CI expressions, templates
    if host in ("compose", "gitlab", "dollar", "dockerfile-env"):
        pats += [r"\$\{([^}]*)\}", r"(?<!\$)\$([A-Za-z_]\w*)"]
    if host in ("k8s", "make"):
        pats += [r"\$\(([A-Za-z_]\w*)\)"]
    if host == "make":
        pats += [r"\$\{([A-Za-z_]\w*)\}"]
    if host == "supervisord":
        pats += [r"%\(ENV_(\w+)\)s"]
    if host == "batch":
        pats += [r"%([A-Za-z_][\w.\-]*)%", r"!([A-Za-z_][\w.\-]*)!", r"(%~?[0-9*])"]
    spans = []
    for match in re.finditer("|".join(pats), text, re.DOTALL):
        name = next((g for g in match.groups() if g is not None), None)
        if name == "__credlint_tpl__":
            name = None
        spans.append((match.start(), match.end(), name.strip() if name else None))
    return spans


def _yaml_word(doc: _YDoc, node, host: str) -> Optional[_Word]:
    text = _scalar(node)
    if text is None:
        return None
    return _Word(text, list(range(len(text))), doc.scalar_src(node), _host_spans(text, host),
                 quoted=node.style in ("'", '"'))


def _sanitize(message: str) -> str:
    """A parser's message without quoted source text (which could be a value)."""
    message = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", str(message))
    return message.splitlines()[0][:120] if message else "error"


# --------------------------------------------------------------------------------------------
# The reader
# --------------------------------------------------------------------------------------------

_WRAPPERS_NOARG = {"exec", "nohup", "setsid", "command", "builtin", "stdbuf", "chronic", "xargs"}
_WRAPPERS_ONEARG = {"gosu", "su-exec", "chpst"}
_INIT_WRAPPERS = {"tini", "dumb-init", "catatonit", "tini-static"}
_SHELLS = {"sh", "bash", "dash", "zsh", "ash", "ksh", "busybox"}
# Commands that log in with a credential given as an option: (command words) -> its options.
_LOGINS = {
    ("docker", "login"): ("-p", "--password"), ("podman", "login"): ("-p", "--password"),
    ("nerdctl", "login"): ("-p", "--password"), ("buildah", "login"): ("-p", "--password"),
    ("skopeo", "login"): ("-p", "--password"), ("oras", "login"): ("-p", "--password"),
    ("helm", "registry", "login"): ("-p", "--password"), ("prefect", "auth", "login"): ("-k", "--key", "-t", "--token"),
}
_LOGIN_PREFIXES = tuple(" ".join(words) + " " for words in _LOGINS)


def is_login_option(name: str) -> bool:
    """The entry `login` records for a login command's credential option (`docker login -p`)."""
    return name.startswith(_LOGIN_PREFIXES)


_DOCKER_RUN_FLAGS = {"-d", "-i", "-t", "-it", "-ti", "-P", "--rm", "--init", "--privileged", "--detach",
                     "--interactive", "--tty", "--read-only", "--no-healthcheck", "--oom-kill-disable",
                     "--sig-proxy", "--quiet", "-q", "--publish-all", "--help", "-dit", "-itd"}


class _Reader:
    def __init__(self, path: str, kind: str):
        self.facts = DeployFacts(path=path, kind=kind)
        self.path = path
        self.derived: Dict[int, List[EnvVar]] = {}  # id(ENV_VARS var) -> forwarded entries
        self.labels: Dict[int, List[str]] = {}  # id(LABELS var) -> labels
        self.depth = 0
        self.test_file = is_test_path(path) or kind == "ci-yaml"

    def problem(self, line: int, message: str) -> None:
        message = " ".join(_clean(word, "text") if _secretish(word) else word for word in message.split(" "))
        text = f"line {line}: {message}"
        if text not in self.facts.problems:
            self.facts.problems.append(text)

    # ---- env vars ------------------------------------------------------------------------

    def env(self, name: str, line: int, col: int, raw: Optional[str], *, scope: str, owner: str,
            host_ref: bool = False, ref: Optional[str] = None,
            value_loc: Optional[Callable[[int, str], Tuple[int, int]]] = None,
            value: Optional[Tuple[Value, str, List[str], bool]] = None) -> EnvVar:
        val, shape, keys, expands = value if value is not None else _assess(raw, host_ref, ref)
        literal = raw
        if value is None and host_ref and raw:
            fallback = _literal_default(raw)
            if fallback is not None:  # `${VAR:-default}`: the default runs wherever VAR is unset
                val = _literal_value(fallback, None, "str")
                val.ref, literal = _safe_ref(ref), fallback
        shown = _clean(name)  # a value written where a name belongs is still a value
        if val.kind == "str" and raw is not None and raw == shown:
            val.placeholder = True  # `NAME: NAME`, a template's stand-in for the variable's own value
        self.judge(val, name, literal)
        var = EnvVar(name=shown, value=val, path=self.path, pos=_pos(line, col, len(name)), scope=scope,
                     shape=shape, keys=keys, expands=expands, owner=_clean(owner, "owner"))
        if scope == "config":
            var.secret = shown if shown == name else None
        else:
            path = secret_path(name)
            var.secret = _clean(path[0]) if path else None
            var.typo_of = typo_secret_name(name)
            if var.typo_of:
                var.typo_of = _clean(var.typo_of)
            if path and len(path) > 1:  # PREFECT__CONTEXT__SECRETS__A__B: the consumer gets a dict
                var.shape = "dict"
                var.keys = [path[1]] if _IDENT_KEY.match(path[1]) and not _secretish(path[1]) else []
        self.facts.env.append(var)
        agent_config = name in (ENV_VARS_VAR, LABELS_VAR) or name.startswith(ENV_VARS_VAR + "__")
        if agent_config and scope not in ("config", "forwarded"):
            loc = value_loc or (lambda offset, token: (line, col))
            self._agent_config(var, name, raw, host_ref, line, loc, owner)
        return var

    def judge(self, val: Value, name: str, raw: Optional[str]) -> None:
        """Verdicts on a literal that need its name or its file (`_not_a_secret`)."""
        if val.kind == "str" and raw is not None and not val.placeholder and \
                _not_a_secret(name, raw, self.path, self.test_file):
            val.placeholder = True

    def _agent_config(self, var: EnvVar, name: str, raw: Optional[str], host_ref: bool, line: int,
                      loc: Callable[[int, str], Tuple[int, int]], owner: str) -> None:
        """PREFECT__CLOUD__AGENT__ENV_VARS / __LABELS in an environment: what the agent forwards."""
        if name.startswith(ENV_VARS_VAR + "__"):
            rest = name[len(ENV_VARS_VAR) + 2:]
            if not rest:
                return
            # Prefect lower-cases every key of this nested form; a further "__" nests a dict.
            parts = rest.lower().split("__")
            fwd = self.env(parts[0], var.pos.line, var.pos.column + len(ENV_VARS_VAR) + 2, raw,
                           scope="forwarded", owner=owner, host_ref=host_ref, ref=var.value.ref)
            if len(parts) > 1:
                fwd.shape, fwd.keys = "dict", [parts[1]]
            meant = prefect_secret_name(rest) or typo_secret_name(rest)
            if meant and fwd.secret != meant:
                fwd.typo_of = _clean(meant)
            self.derived[id(var)] = [fwd]
            return
        if raw is None:
            return
        masked = _HOST_REF_ANY.sub("__credlint_ref__", raw) if host_ref else raw
        shape, _keys, _exp, obj = _interpret(masked)
        if name == LABELS_VAR:
            if shape == "list" and isinstance(obj, (list, tuple)):
                self.labels[id(var)] = [x for x in obj if isinstance(x, str) and "__credlint_ref__" not in x
                                        and not _secretish(x)]
            return
        if shape != "dict" or not isinstance(obj, dict):
            if masked.strip() and masked.strip() != "__credlint_ref__":
                what = "a string (JSON true/false/null is not a Python literal)" if shape == "json-string" \
                    else f"a {shape}"
                self.problem(line, f"{ENV_VARS_VAR} is not a Python dict literal: Prefect reads it as {what} "
                                   "and the agent cannot use it")
            return
        out = []
        for key, item in obj.items():
            if not isinstance(key, str) or "__credlint_ref__" in key:
                continue
            text = item if isinstance(item, str) else str(item)
            idx = -1
            for quote in ('"', "'"):
                idx = raw.find(quote + key + quote)
                if idx >= 0:
                    break
            kl, kc = loc(idx + 1, key) if idx >= 0 else loc(0, "")
            out.append(self.env(key, kl, kc, text, scope="forwarded", owner=owner,
                                host_ref="__credlint_ref__" in text))
        self.derived[id(var)] = out

    def finish(self) -> DeployFacts:
        seen = set()
        out = []
        for agent in self.facts.agents:
            agent.own_env = [v for v in agent.own_env if not _templated_name(v.name)]
            agent.forwards = [v for v in agent.forwards if not _templated_name(v.name)]
        for var in self.facts.env:
            if _templated_name(var.name):
                continue
            key = (var.pos.line, var.pos.column, var.name, var.scope, var.agent_ref, var.owner)
            if key not in seen:
                seen.add(key)
                out.append(var)
        out.sort(key=lambda v: (v.pos.line, v.pos.column))
        self.facts.env = out
        return self.facts

    # ---- agents ----------------------------------------------------------------------------

    def bind(self, agent: Agent, env: Sequence[EnvVar], links: Sequence[EnvLink] = ()) -> None:
        """Attach an environment to the agent that runs in it."""
        explicit_env = bool(agent.forwards)
        labels_given = bool(agent.labels)
        own = {id(v) for v in agent.own_env}
        fwd = {id(v) for v in agent.forwards}
        for var in env:
            if var.scope in ("process", "shell") and var.agent is None:
                var.scope, var.agent, var.agent_ref = "agent", agent.type, agent.ref
            if id(var) not in own:
                own.add(id(var))
                agent.own_env.append(var)
            if agent.type == "local" and id(var) not in fwd:
                fwd.add(id(var))
                agent.forwards.append(var)
            derived = self.derived.get(id(var), [])
            for item in derived:
                if explicit_env:
                    item.scope, item.agent, item.agent_ref = "agent", agent.type, agent.ref
                    self.problem(var.pos.line, f"{var.name} is ignored: the agent at line {agent.pos.line} "
                                               "passes --env, which replaces it")
                else:
                    if item.agent is None:
                        item.agent, item.agent_ref = agent.type, agent.ref
                    if id(item) not in fwd:
                        fwd.add(id(item))
                        agent.forwards.append(item)
            if id(var) in self.labels and not labels_given:
                agent.labels.extend(x for x in self.labels[id(var)] if x not in agent.labels)
        for link in links:
            if link.agent is None:
                link.scope, link.agent, link.agent_ref = "agent", agent.type, agent.ref

    def launch(self, argv: List[_Word], env: List[EnvVar], owner: str,
               links: Sequence[EnvLink] = ()) -> Optional[Agent]:
        """Find the Prefect agent a command line starts (through wrappers, `sh -c`, `docker run`)."""
        if not argv or self.depth > 8:
            return None
        env = list(env)
        i, n = 0, len(argv)
        while i < n:
            base = argv[i].text.rsplit("/", 1)[-1]
            if base in _WRAPPERS_NOARG or base in ("time", "sudo", "nice", "timeout", "ionice"):
                i += 1
                while i < n and argv[i].text.startswith("-"):
                    takes = argv[i].text in ("-u", "-g", "-n", "-a", "-c", "-s", "-k", "--user")
                    i += 2 if takes else 1
                if base == "timeout" and i < n:
                    i += 1
                continue
            if base in _WRAPPERS_ONEARG:
                i += 2
                continue
            if base in _INIT_WRAPPERS:
                i += 1
                while i < n and argv[i].text.startswith("-"):
                    i += 1
                    if argv[i - 1].text == "--":
                        break
                continue
            if base == "env":
                i += 1
                while i < n and argv[i].text.startswith("-"):
                    i += 2 if argv[i].text in ("-u", "--unset", "-C", "--chdir") else 1
                while i < n and _assignment(argv[i]):
                    env.append(self.assignment(argv[i], "process", owner))
                    i += 1
                continue
            break
        rest = argv[i:]
        if not rest:
            return None
        base = rest[0].text.rsplit("/", 1)[-1]
        if self.login(rest, owner):
            return None
        if base in _SHELLS:
            j = 1
            if base == "busybox" and len(rest) > 1:
                j = 2
            has_c = False
            while j < len(rest) and rest[j].text.startswith("-") and rest[j].text not in ("-", "--"):
                if "c" in rest[j].text.lstrip("-") and not rest[j].text.startswith("--"):
                    has_c = True
                j += 1
            if has_c and j < len(rest):
                script = rest[j]
                self.depth += 1
                try:
                    agents = self.script(script.text, _SubSrc(script.src, script.offsets), env, owner,
                                         links=links)
                finally:
                    self.depth -= 1
                return agents[0] if agents else None
            return None
        if base in ("docker", "podman") and len(rest) > 2 and rest[1].text in ("run", "create", "container"):
            k = 2 if rest[1].text != "container" else 3
            return self.docker_run(rest[k:], owner)
        for j in range(len(rest) - 1):
            if rest[j].text.rsplit("/", 1)[-1] == "prefect" and rest[j + 1].text == "agent":
                return self.agent(rest, j, env, owner, links)
        return None

    def login(self, argv: List[_Word], owner: str) -> bool:
        """`docker login -u x -p VALUE` (or `-p=VALUE`, `--password VALUE`) and the like: the
        option's value is a credential written into the file (scope "shell": it sets no
        environment). True when argv is such a command. The attached form `-pVALUE` is not read: a
        report could not tell it from an option when it masks the line."""
        head = [argv[0].text.rsplit("/", 1)[-1]] + [w.text for w in argv[1:3]]
        options = None
        for size in (2, 3):
            options = _LOGINS.get(tuple(head[:size]))
            if options is not None:
                break
        if options is None:
            return False
        command = " ".join(head[:size])
        k = size
        while k < len(argv):
            word, text = argv[k], argv[k].text
            if text in options and k + 1 < len(argv):
                value, vstart = argv[k + 1], 0
                k += 1
            else:
                opt = next((o for o in options if text.startswith(o + "=")), None)
                if opt is None:
                    k += 1
                    continue
                value, vstart = word, len(opt) + 1
            option = text.split("=", 1)[0]
            host, ref = value.host_ref(vstart)
            line, col = word.loc(0, option)
            var = self.env(f"{command} {option}", line, col, value.text[vstart:], scope="shell", owner=owner,
                           host_ref=host, ref=ref, value_loc=lambda o, t, w=value, v=vstart: w.loc(v + o, t))
            var.pos = _pos(line, col, len(option))
            k += 1
        return True

    def agent(self, argv: List[_Word], j: int, env: List[EnvVar], owner: str,
              links: Sequence[EnvLink] = ()) -> Optional[Agent]:
        t1 = argv[j + 2].text if j + 2 < len(argv) else ""
        t2 = argv[j + 3].text if j + 3 < len(argv) else ""
        if t1 in AGENT_TYPES and t2 in ("start", "install"):
            kind, action = t1, t2
        elif t1 in ("start", "install") and t2 in AGENT_TYPES:  # 0.x spelling: prefect agent start docker
            kind, action = t2, t1
        else:
            return None  # not a Prefect 1.x agent (`prefect agent start -q` is Prefect 2)
        line, col = argv[j].loc(0, argv[j].text)
        end_line, end_col = argv[j + 3].loc(len(argv[j + 3].text) - 1, argv[j + 3].text)
        pos = Pos(line, col, end_line, end_col + 1) if end_line == line else _pos(line, col, len(argv[j].text))
        agent = Agent(type=kind, action=action, path=self.path, pos=pos, owner=_clean(owner, "owner"))
        self.facts.agents.append(agent)
        k = j + 4
        while k < len(argv):
            word = argv[k]
            text = word.text
            if text in ("-e", "--env") and k + 1 < len(argv):
                self.agent_env(agent, argv[k + 1], 0, owner)
                k += 2
                continue
            if text.startswith("--env="):
                self.agent_env(agent, word, 6, owner)
            elif text.startswith("-e") and not text.startswith("--") and len(text) > 2:
                self.agent_env(agent, word, 2, owner)
            elif text in ("-l", "--label") and k + 1 < len(argv):
                self._label(agent, argv[k + 1], 0)
                k += 2
                continue
            elif text.startswith("--label="):
                self._label(agent, word, 8)
            elif text.startswith("-l") and not text.startswith("--") and len(text) > 2:
                self._label(agent, word, 2)
            elif text in ("-k", "--key", "-t", "--token") and k + 1 < len(argv):
                value = argv[k + 1]
                host, ref = value.host_ref(0)
                l, c = word.loc(0, text)
                var = self.env(text, l, c, value.text, scope="agent", owner=owner, host_ref=host, ref=ref)
                var.agent, var.agent_ref = agent.type, agent.ref
                k += 2
                continue
            elif text.startswith(("--key=", "--token=")):
                opt, _, raw = text.partition("=")
                host, ref = word.host_ref(len(opt) + 1)
                l, c = word.loc(0, opt)
                var = self.env(opt, l, c, raw, scope="agent", owner=owner, host_ref=host, ref=ref)
                var.agent, var.agent_ref = agent.type, agent.ref
            k += 1
        if action == "start":
            self.bind(agent, env, links)
        return agent

    @staticmethod
    def _label(agent: Agent, word: _Word, start: int) -> None:
        """A --label: kept when it is a literal (a label set by a variable or template is unknown)."""
        label = word.text[start:]
        if not word.host_ref(start)[0] and "__credlint_tpl__" not in label and label and not _secretish(label):
            agent.labels.append(label)

    def agent_env(self, agent: Agent, word: _Word, start: int, owner: str) -> None:
        """One `--env K=V` of an agent command: forwarded to every flow run."""
        text = word.text[start:]
        name, eq, raw = text.partition("=")
        line, col = word.loc(start, name)
        if not eq:
            shown = name if _NAME.match(name) and not looks_like_credential(name) else "option"
            self.problem(line, f"--env {shown} has no '=VALUE': the agent CLI fails on it "
                               "(Prefect splits each --env at '=')")
            var = self.env(name, line, col, None, scope="forwarded", owner=owner)
        else:
            host, ref = word.host_ref(start + len(name) + 1)
            var = self.env(name, line, col, raw, scope="forwarded", owner=owner, host_ref=host, ref=ref,
                           value_loc=lambda o, t: word.loc(start + len(name) + 1 + o, t))
        var.agent, var.agent_ref = agent.type, agent.ref
        agent.forwards.append(var)

    def docker_run(self, args: List[_Word], owner: str) -> Optional[Agent]:
        env: List[EnvVar] = []
        links: List[EnvLink] = []
        k = 0
        while k < len(args):
            word = args[k]
            text = word.text
            if text == "--":
                k += 1
                break
            if not text.startswith("-") or text == "-":
                break
            if text in ("-e", "--env") and k + 1 < len(args):
                env.append(self.assignment(args[k + 1], "process", owner, allow_bare=True))
                k += 2
                continue
            if text.startswith("--env="):
                env.append(self.assignment(word, "process", owner, allow_bare=True, start=6))
            elif text in ("--env-file",) and k + 1 < len(args):
                links.append(self.link(owner, args[k + 1].text, "env_file", args[k + 1].loc(0)))
                k += 2
                continue
            elif text.startswith("--env-file="):
                links.append(self.link(owner, text[11:], "env_file", word.loc(11)))
            elif text in _DOCKER_RUN_FLAGS or "=" in text:
                pass
            elif text.startswith("--") or len(text) == 2:
                k += 2  # an option with a value
                continue
            k += 1
        cmd = args[k + 1:] if k < len(args) else []
        self.depth += 1
        try:
            agent = self.launch(cmd, env, owner, links)
        finally:
            self.depth -= 1
        return agent

    def link(self, owner: str, target: str, kind: str, loc: Tuple[int, int], relative: bool = True) -> EnvLink:
        if kind == "env_file" and relative:
            base = posixpath.dirname(self.path)
            target = posixpath.normpath(posixpath.join(base, target)) if not target.startswith("/") else target
        link = EnvLink(owner=_clean(owner, "owner"), target=_clean(target, "target"), kind=kind,
                       pos=_pos(loc[0], loc[1], len(target)))
        self.facts.links.append(link)
        return link

    def assignment(self, word: _Word, scope: str, owner: str, allow_bare: bool = False,
                   start: int = 0) -> EnvVar:
        text = word.text[start:]
        name, eq, raw = text.partition("=")
        line, col = word.loc(start, name)
        if not eq:
            return self.env(name, line, col, None, scope=scope, owner=owner)
        host, ref = word.host_ref(start + len(name) + 1)
        vstart = start + len(name) + 1
        return self.env(name, line, col, raw, scope=scope, owner=owner, host_ref=host, ref=ref,
                        value_loc=lambda o, t: word.loc(vstart + o, t))

    # ---- shell ---------------------------------------------------------------------------

    def script(self, text: str, src: _Src, inherited: Sequence[EnvVar], owner: str,
               dollar: bool = True, links: Sequence[EnvLink] = ()) -> List[Agent]:
        """A shell script: exported variables, command-prefix assignments, the agents it starts."""
        toks = _lex(text, src, dollar)
        exported: List[EnvVar] = list(inherited)
        shell_vars: Dict[str, EnvVar] = {}
        allexport = False
        agents: List[Agent] = []
        sourced: List[EnvLink] = list(links)
        for words in _commands(toks):
            while words and words[0].text in _RESERVED and not words[0].quoted:
                words = words[1:]
            if not words or words[0].text in _SKIP_COMMANDS:
                continue
            k = 0
            while k < len(words) and _assignment(words[k]):
                k += 1
            assigns, argv = words[:k], words[k:]
            if not argv:
                for word in assigns:
                    var = self.assignment(word, "process" if allexport else "shell", owner)
                    if allexport:
                        exported.append(var)
                    else:
                        shell_vars[var.name] = var
                continue
            cmd = argv[0].text
            if cmd in ("export", "declare", "typeset", "readonly", "local"):
                flags = "".join(w.text for w in argv[1:] if w.text.startswith("-"))
                export = cmd == "export" or "x" in flags
                for word in argv[1:]:
                    if word.text.startswith("-"):
                        continue
                    if _assignment(word) or (word.quoted is False and "=" in word.text):
                        var = self.assignment(word, "process" if export else "shell", owner)
                        if export:
                            exported.append(var)
                        else:
                            shell_vars[var.name] = var
                    elif export and word.text in shell_vars:
                        var = shell_vars.pop(word.text)
                        var.scope = "process"
                        exported.append(var)
                continue
            if cmd == "set":
                for word in argv[1:]:
                    if word.text.startswith("-") and "a" in word.text[1:] and not word.text.startswith("--"):
                        allexport = True
                    elif word.text.startswith("+") and "a" in word.text[1:]:
                        allexport = False
                    elif word.text == "allexport":
                        allexport = not any(w.text == "+o" for w in argv[1:])
                continue
            if cmd in ("source", ".") and len(argv) > 1 and not argv[1].host_ref(0)[0]:
                # `set -a; . ./agent.env`: the file's variables reach later commands
                sourced.append(self.link(owner, argv[1].text, "env_file", argv[1].loc(0, argv[1].text)))
                continue
            cmd_env = [self.assignment(word, "process", owner) for word in assigns]
            agent = self.launch(argv, exported + cmd_env, owner, sourced)
            if agent is not None:
                agents.append(agent)
        return agents

    def read_shell(self, text: str) -> None:
        self.script(text, _LineSrc(text), [], owner=posixpath.basename(self.path))

    # ---- Windows batch files -------------------------------------------------------------

    def read_batch(self, text: str) -> None:
        """A `.bat` / `.cmd` launch script, read like a shell script where the two agree: `set
        NAME=value` (and `setx NAME value`) set variables, other lines are commands (`docker run
        --env X=...`, `docker login -p ...`, `prefect agent ...`); `%NAME%` and `!NAME!` are
        references, `^` at the end of a line continues it, `rem` and `::` lines are comments."""
        owner = posixpath.basename(self.path)
        env: List[EnvVar] = []
        lines = text.split("\n")
        i = 0
        while i < len(lines):
            chars: List[str] = []
            origins: List[Tuple[int, int]] = []
            j = i
            while j < len(lines):
                cur = lines[j].rstrip("\r")
                cont = cur.endswith("^") and not cur.endswith("^^")
                for c, ch in enumerate(cur[:-1] if cont else cur):
                    chars.append(ch)
                    origins.append((j + 1, c + 1))
                if not cont or j + 1 >= len(lines):
                    break
                j += 1
            first, i = i, j + 1
            body = "".join(chars)
            lead = len(body) - len(body.lstrip(" \t@"))
            stripped = body[lead:]
            low = stripped.lower()
            if not stripped or low.startswith(("rem ", "rem\t", "::", ":", "echo", "goto", "exit", "pause")) \
                    or low == "rem":
                continue
            src = _OriginSrc(origins[lead:], (first + 1, 1))
            m = re.match(r"(?i)set(x?)[ \t]+(?!/[ap])(\"?)([A-Za-z_][\w.\-]*)(=|[ \t]+(?=\S))", stripped)
            if m and (m.group(1) or m.group(4) == "="):
                name = m.group(3)
                rest = stripped[m.end():]
                if m.group(2) == '"':
                    rest = rest[:rest.rfind('"')] if '"' in rest else rest
                elif m.group(1):
                    rest = rest.strip()
                    rest = rest[1:-1] if len(rest) >= 2 and rest[0] == rest[-1] == '"' else rest
                raw = rest.rstrip() if m.group(1) else rest
                spans = _host_spans(raw, "batch")
                line, col = src.locate(m.start(3), name)
                var = self.env(name, line, col, raw, scope="process", owner=owner, host_ref=bool(spans),
                               ref=spans[0][2] if spans else None)
                env.append(var)
                continue
            words = [w for w in _lex(stripped, src, False) if isinstance(w, _Word)]
            for word in words:
                word.subst = _host_spans(word.text, "batch")
            while words and words[0].text.lower() in ("call", "start", "cmd", "/c", "/k", "/b") or \
                    (words and words[0].quoted and len(words) > 1 and words[0].text == ""):
                words = words[1:]
            self.launch(words, env, owner)

    # ---- Makefile ------------------------------------------------------------------------

    def read_makefile(self, text: str) -> None:
        lines = text.split("\n")
        exported: List[EnvVar] = []
        make_vars: Dict[str, EnvVar] = {}
        export_all = False
        target = ""
        i = 0
        while i < len(lines):
            line = lines[i]
            if line.startswith("\t") and target:
                chars: List[str] = []
                origins: List[Tuple[int, int]] = []
                j = i
                while j < len(lines):
                    cur = lines[j]
                    start = 1 if cur.startswith("\t") else 0
                    for c in range(start, len(cur)):
                        chars.append(cur[c])
                        origins.append((j + 1, c + 1))
                    if cur.endswith("\\") and j + 1 < len(lines):
                        chars.append("\n")
                        origins.append((j + 1, len(cur) + 1))
                        j += 1
                        continue
                    break
                body = "".join(chars)
                strip = len(body) - len(body.lstrip("@-+ \t"))
                src = _OriginSrc(origins[strip:], (i + 1, 1))
                # make expands $(VAR) / ${VAR} and turns $$ into $ before the shell runs the line
                self.script(body[strip:], src, exported, owner=f"target {target}")
                i = j + 1
                continue
            logical = line
            first = i
            while logical.endswith("\\") and i + 1 < len(lines):
                i += 1
                logical = logical[:-1] + " " + lines[i].lstrip()
            i += 1
            stripped = logical.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if stripped.startswith("define "):
                while i < len(lines) and not lines[i].strip().startswith("endef"):
                    i += 1
                i += 1
                continue
            match = re.match(r"^((?:export|override|private)\s+)*([A-Za-z_][A-Za-z0-9_.\-]*)\s*"
                             r"(:::=|::=|:=|\?=|\+=|!=|=)\s*(.*)$", logical)
            if match and ":" not in logical[:match.start(2)]:
                name = match.group(2)
                raw = re.split(r"(?<!\\)#", match.group(4), maxsplit=1)[0].rstrip()
                export = bool(match.group(1) and "export" in match.group(1)) or export_all
                col = match.start(2) + 1
                spans = _host_spans(raw, "make")
                var = self.env(name, first + 1, col, raw, scope="process" if export else "shell",
                               owner="Makefile", host_ref=bool(spans), ref=spans[0][2] if spans else None)
                (exported.append(var) if export else make_vars.__setitem__(name, var))
                continue
            if stripped.startswith("export ") and "=" not in stripped:
                for name in stripped.split()[1:]:
                    if name in make_vars:
                        var = make_vars.pop(name)
                        var.scope = "process"
                        exported.append(var)
                continue
            if stripped.startswith(".EXPORT_ALL_VARIABLES"):
                export_all = True
                for var in make_vars.values():
                    var.scope = "process"
                    exported.append(var)
                make_vars.clear()
                continue
            if ":" in stripped and not stripped.startswith(("include", "-include", "ifeq", "ifneq", "ifdef")):
                target = stripped.split(":", 1)[0].strip() or "?"
                recipe = stripped.split(";", 1)[1] if ";" in stripped.split(":", 1)[1] else ""
                if recipe.strip():
                    off = line.find(recipe)
                    self.script(recipe, _LineSrc(recipe, first + 1, max(off, 0) + 1), exported,
                                owner=f"target {target}")

    # ---- .env ----------------------------------------------------------------------------

    def read_dotenv(self, text: str) -> None:
        src = _LineSrc(text)
        i, n = 0, len(text)
        while i < n:
            j = text.find("\n", i)
            end = n if j < 0 else j
            line = text[i:end]
            stripped = line.lstrip()
            base = i + (len(line) - len(stripped))
            if not stripped or stripped.startswith("#"):
                i = end + 1
                continue
            if stripped.startswith("export ") or stripped.startswith("export\t"):
                rest = stripped[7:].lstrip()
                base += len(stripped) - len(rest)
                stripped = rest
            k = 0
            while k < len(stripped) and stripped[k] not in "=\n" and not stripped[k].isspace():
                k += 1
            name = stripped[:k]
            after = stripped[k:].lstrip(" \t")
            line_no, col = src.locate(base, name)
            if not name or not re.match(r"^[A-Za-z_][\w.\-]*$", name):
                i = end + 1
                continue
            if not after.startswith("="):
                self.env(name, line_no, col, None, scope="process", owner=".env")
                i = end + 1
                continue
            vstart = base + k + (len(stripped[k:]) - len(after)) + 1
            while vstart < n and text[vstart] in " \t":
                vstart += 1
            quote = text[vstart] if vstart < n else ""
            if quote in ("'", '"'):
                m = vstart + 1
                chars: List[str] = []
                while m < n and text[m] != quote:
                    if quote == '"' and text[m] == "\\" and m + 1 < n:
                        esc = text[m + 1]
                        chars.append({"n": "\n", "t": "\t", "r": "\r"}.get(esc, esc))
                        m += 2
                        continue
                    chars.append(text[m])
                    m += 1
                raw = "".join(chars)
                close = text.find("\n", m)
                i = n if close < 0 else close + 1
                spans = _host_spans(raw, "dollar") if quote == '"' else []
            else:
                raw = text[vstart:end]
                cut = re.search(r"\s#", raw)
                if cut:
                    raw = raw[:cut.start()]
                raw = raw.strip()
                i = end + 1
                spans = _host_spans(raw, "dollar")
            self.env(name, line_no, col, raw, scope="process", owner=".env", host_ref=bool(spans),
                     ref=spans[0][2] if spans else None)

    # ---- Dockerfile ----------------------------------------------------------------------

    def read_dockerfile(self, text: str) -> None:
        lines = text.split("\n")
        escape = "\\"
        for line in lines:
            m = re.match(r"^#\s*escape\s*=\s*(\S)", line.strip())
            if m:
                escape = m.group(1)
                continue
            if not line.strip().startswith("#"):
                break
        stages: List[dict] = []
        stage = {"name": "", "env": [], "cmd": None, "entrypoint": None, "line": 1}
        i = 0
        while i < len(lines):
            s = lines[i].strip()
            if not s or s.startswith("#"):
                i += 1
                continue
            chars: List[str] = []
            origins: List[Tuple[int, int]] = []
            j = i
            while j < len(lines):
                cur = lines[j]
                if j > i and cur.strip().startswith("#"):
                    j += 1
                    continue
                body = cur.rstrip()
                cont = body.endswith(escape)
                seg = body[:-1] if cont else cur
                for c, ch in enumerate(seg):
                    chars.append(ch)
                    origins.append((j + 1, c + 1))
                if not cont:
                    break
                j += 1
            logical = "".join(chars)
            first = i
            i = j + 1
            lead = len(logical) - len(logical.lstrip())
            parts = logical.lstrip().split(None, 1)
            instr = parts[0].upper() if parts else ""
            args = parts[1] if len(parts) > 1 else ""
            astart = logical.find(args, lead + len(parts[0])) if args else len(logical)
            asrc = _OriginSrc(origins[astart:], (first + 1, 1))
            if "<<" in args and instr in ("RUN", "COPY", "ADD"):
                for delim in re.findall(r"<<-?\s*[\"']?([A-Za-z_]\w*)[\"']?", args):
                    while i < len(lines) and lines[i].strip() != delim:
                        i += 1
                    i += 1
            if instr == "FROM":
                words = [w for w in _lex(args, asrc, False) if isinstance(w, _Word)]
                words = [w for w in words if not w.text.startswith("--")]
                stages.append(stage)
                image = words[0].text.lower() if words else ""
                name = words[2].text.lower() if len(words) >= 3 and words[1].text.lower() == "as" else ""
                parent = next((st for st in reversed(stages) if st["name"] and st["name"] == image), None)
                stage = {"name": name, "env": list(parent["env"]) if parent else [],
                         "cmd": parent["cmd"] if parent else None,
                         "entrypoint": parent["entrypoint"] if parent else None, "line": first + 1}
                continue
            owner = f"image {stage['name']}" if stage["name"] else "image"
            if instr in ("ENV", "ARG"):
                words = [w for w in _lex(args, asrc, True) if isinstance(w, _Word)]
                if instr == "ENV" and words and "=" not in words[0].text:
                    name = words[0].text
                    raw = args[len(name):].strip() if args.startswith(name) else " ".join(w.text for w in words[1:])
                    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
                        raw = raw[1:-1]
                    spans = _host_spans(raw, "dockerfile-env")
                    line, col = words[0].loc(0, name)
                    stage["env"].append(self.env(name, line, col, raw, scope="process", owner=owner,
                                                 host_ref=bool(spans), ref=spans[0][2] if spans else None))
                    continue
                for word in words:
                    if instr == "ARG" and "=" not in word.text:
                        line, col = word.loc(0, word.text)
                        self.env(word.text, line, col, None, scope="process", owner=f"{owner} (build arg)")
                        continue
                    var = self.assignment(word, "process", owner if instr == "ENV" else f"{owner} (build arg)",
                                          allow_bare=True)
                    if instr == "ENV":
                        stage["env"].append(var)
                continue
            if instr == "RUN" and "login" in args:  # `RUN docker login -p ...` bakes it into a layer
                for words in _commands(_lex(args, asrc, True)):
                    while words and words[0].text in {"sudo", "exec", "command"} | _RESERVED:
                        words = words[1:]
                    if words:
                        self.login(words, owner)
                continue
            if instr in ("CMD", "ENTRYPOINT"):
                form = self._docker_command(args, asrc)
                stage["cmd" if instr == "CMD" else "entrypoint"] = form
                continue
        stages.append(stage)
        final = stages[-1]
        owner = f"image {final['name']}" if final["name"] else "image"
        ep, cmd = final["entrypoint"], final["cmd"]
        self._docker_start(ep, cmd, final["env"], owner)

    def _docker_command(self, args: str, asrc: _Src):
        stripped = args.strip()
        if stripped.startswith("["):
            try:
                items = json.loads(stripped)
            except (ValueError, RecursionError):
                items = None
            if isinstance(items, list) and all(isinstance(x, str) for x in items):
                words = []
                cursor = 0
                for item in items:
                    raw = json.dumps(item)
                    idx = args.find(raw, cursor)
                    if idx < 0:
                        idx = args.find('"', cursor)
                    cursor = max(cursor, idx + len(raw)) if idx >= 0 else cursor
                    if idx >= 0 and raw[1:-1] == item:
                        offs = list(range(idx + 1, idx + 1 + len(item)))
                    else:
                        offs = [max(idx, 0) + 1] * len(item)
                    words.append(_Word(item, offs, asrc))
                return ("exec", words)
        return ("shell", (args, asrc))

    def _docker_start(self, ep, cmd, env: List[EnvVar], owner: str) -> None:
        def words_of(form):
            if form is None:
                return []
            if form[0] == "exec":
                return list(form[1])
            return None

        if ep is not None and ep[0] == "shell":
            self.script(ep[1][0], ep[1][1], env, owner)
            return
        argv = words_of(ep) or []
        if cmd is not None and cmd[0] == "shell":
            if argv:
                text, src = cmd[1]
                shell = [_Word("/bin/sh", [0] * 7, src), _Word("-c", [0, 0], src)]
                argv = argv + shell + [_Word(text, list(range(len(text))), src)]
            else:
                self.script(cmd[1][0], cmd[1][1], env, owner)
                return
        else:
            argv = argv + (words_of(cmd) or [])
        self.launch(argv, env, owner)

    # ---- supervisord ---------------------------------------------------------------------

    def read_supervisord(self, text: str) -> None:
        sections: List[Tuple[str, int, Dict[str, Tuple[str, List[Tuple[int, int]], int]]]] = []
        current: Optional[Dict[str, Tuple[str, List[Tuple[int, int]], int]]] = None
        key: Optional[str] = None
        for number, line in enumerate(text.split("\n"), 1):
            stripped = line.strip()
            if not stripped or stripped[0] in "#;":
                if not stripped:
                    key = None
                continue
            if line[0] in " \t" and key is not None and current is not None:
                value, origins, kline = current[key]
                cut = re.search(r"\s[;#]", line)
                seg = line[:cut.start()] if cut else line
                lead = len(seg) - len(seg.lstrip())
                seg = seg.strip()
                value += "\n" + seg
                origins = origins + [(number, lead)] + [(number, lead + c + 1) for c in range(len(seg))]
                current[key] = (value, origins, kline)
                continue
            if stripped.startswith("[") and "]" in stripped:
                current = {}
                sections.append((stripped[1:stripped.index("]")].strip(), number, current))
                key = None
                continue
            if current is None:
                continue
            m = re.match(r"^\s*([^=:\s][^=:]*?)\s*[=:]\s?", line)
            if not m:
                continue
            key = m.group(1).strip().lower()
            rest = line[m.end():]
            cut = re.search(r"(^|\s)[;#]", rest)
            value = rest[:cut.start()] if cut else rest
            lead = len(value) - len(value.lstrip())
            value = value.strip()
            col0 = m.end() + lead
            current[key] = (value, [(number, col0 + c + 1) for c in range(len(value))], number)
        global_env: List[EnvVar] = []
        for name, _line, entries in sections:
            if name.lower() == "supervisord" and "environment" in entries:
                global_env = self._supervisor_env(entries["environment"], "supervisord")
        for name, line, entries in sections:
            if not name.lower().startswith(("program:", "fcgi-program:", "eventlistener:")):
                continue
            owner = name
            env = list(global_env)
            if "environment" in entries:
                env += self._supervisor_env(entries["environment"], owner)
            if "command" in entries:
                value, origins, kline = entries["command"]
                src = _OriginSrc(origins, (kline, 1))
                words = [w for w in _lex(value, src, False) if isinstance(w, _Word)]
                for word in words:
                    word.subst = _host_spans(word.text, "supervisord")
                self.launch(words, env, owner)

    def _supervisor_env(self, entry, owner: str) -> List[EnvVar]:
        value, origins, kline = entry
        src = _OriginSrc(origins, (kline, 1))
        # supervisord expands %(ENV_X)s first, then splits with shlex (options.dict_of_key_value_pairs)
        refs: Dict[str, str] = {}

        def hide(match):
            token = f"CREDLINTENVREF{len(refs)}X"
            refs[token] = match.group(1)
            return token

        hidden = re.sub(r"%\(ENV_(\w+)\)s", hide, value)
        lexer = shlex.shlex(hidden)
        lexer.wordchars += "/.+-():"
        ok = True
        try:
            tokens = list(lexer)
        except ValueError:
            tokens, ok = [], False
        pairs: List[Tuple[str, str]] = []
        k = 0
        while k < len(tokens):
            trio = tokens[k:k + 3]
            if len(trio) != 3 or trio[1] != "=":
                ok = False
                break
            pairs.append((trio[0], trio[2].strip("'\"")))
            k += 4
        if not ok:
            self.problem(kline, "environment= does not parse the way supervisord reads it "
                                "(KEY=value pairs separated by commas; quote values with other characters)")
        out = []
        cursor = 0
        for name, raw in pairs:
            idx = value.find(name, cursor)
            if idx >= 0:
                cursor = idx + len(name)
            line, col = src.locate(max(idx, 0), name)
            ref = None
            host = False
            for token, ref_name in refs.items():
                if token in raw:
                    host, ref = True, ref_name
                    raw = raw.replace(token, "${" + ref_name + "}")
            out.append(self.env(name, line, col, raw, scope="process", owner=owner, host_ref=host, ref=ref))
        return out

    # ---- Prefect config.toml -------------------------------------------------------------

    def read_prefect_config(self, text: str) -> None:
        try:
            doc = toml.loads(text)
        except Exception as exc:  # noqa: BLE001 - tomllib's error, reported as a problem
            line = re.search(r"line (\d+)", str(exc))
            self.problem(int(line.group(1)) if line else 1, f"does not parse as TOML ({_sanitize(exc)})")
            return
        positions = _toml_positions(text)

        def where(path: Tuple[str, ...]) -> Tuple[int, int]:
            for cut in range(len(path), 0, -1):
                if path[:cut] in positions:
                    return positions[path[:cut]]
            return 1, 1

        context = doc.get("context")
        secrets = context.get("secrets") if isinstance(context, dict) else None
        if isinstance(secrets, dict):
            for key, raw in secrets.items():
                self._config_entry(("context", "secrets", str(key)), raw, where)
        elif secrets is not None:
            self.problem(where(("context", "secrets"))[0], "context.secrets is not a table: Prefect "
                                                           "replaces the whole secrets context with it")
        for top, table in doc.items():
            if not isinstance(table, dict):
                continue
            if top.lower() == "secrets":
                for key, raw in table.items():
                    self._config_entry((top, str(key)), raw, where, typo=True)
            if top.lower() == "context":
                for sub, inner in table.items():
                    if top != "context" and sub.lower() in ("secrets", "secret") and isinstance(inner, dict):
                        for key, raw in inner.items():
                            self._config_entry((top, sub, str(key)), raw, where, typo=True)
                        continue
                    if (top, sub) == ("context", "secrets") or not isinstance(inner, dict):
                        continue
                    if sub.lower() in ("secrets", "secret"):
                        for key, raw in inner.items():
                            self._config_entry((top, sub, str(key)), raw, where, typo=True)
        cloud = doc.get("cloud")
        agent_cfg = cloud.get("agent") if isinstance(cloud, dict) else None
        env_vars = agent_cfg.get("env_vars") if isinstance(agent_cfg, dict) else None
        if isinstance(env_vars, dict):
            for key, raw in env_vars.items():
                line, col = where(("cloud", "agent", "env_vars", str(key)))
                text_value = raw if isinstance(raw, str) else str(raw)
                self.env(str(key), line, col, text_value, scope="forwarded", owner="[cloud.agent.env_vars]")
        elif isinstance(env_vars, str):
            line, col = where(("cloud", "agent", "env_vars"))
            var = self.env(ENV_VARS_VAR, line, col, env_vars, scope="process", owner="[cloud.agent]")
            var.name = "env_vars"
        self._config_settings(doc, (), where)

    def _config_settings(self, table: dict, path: Tuple[str, ...],
                         where: Callable[[Tuple[str, ...]], Tuple[int, int]]) -> None:
        """Credentials in the rest of a Prefect config: `[cloud] api_key`, `[server.database]
        password`, a table of the project's own that flows read through `prefect.config`
        (`[s3] secret = "..."`). Each credential-named string (or one with a credential's format) is
        an entry of scope "config-setting" named `TABLE.KEY`: a hard-coded value for CL203, and no
        provider of anything. `[context.secrets]`, the `[secrets]` spellings and
        `[cloud.agent.env_vars]` are read above."""
        if len(path) > 8:
            return
        # `key` beside a `secret` or `password` is the access key of the pair (s3fs, MinIO, boto).
        paired = any(isinstance(k, str) and isinstance(v, str) and is_credential_env_name(k) for k, v in table.items())
        for key, item in table.items():
            if not isinstance(key, str):
                continue
            here = path + (key,)
            low = tuple(part.lower() for part in here)
            if low[0] == "secrets" or (low[0] == "context" and len(low) > 1 and low[1] in ("secrets", "secret")) \
                    or low[:3] == ("cloud", "agent", "env_vars"):
                continue
            if isinstance(item, dict):
                self._config_settings(item, here, where)
                continue
            if not isinstance(item, str):
                continue
            value, shape, keys, expands = _assess(item)
            self.judge(value, key, item)
            credential = is_credential_env_name(key) or (paired and key.lower() in ("key", "user_key"))
            if not (credential or value.shaped) or not value.is_literal:
                continue
            line, col = where(here)
            self.facts.env.append(EnvVar(
                name=".".join(_clean(part) for part in here), value=value, path=self.path,
                pos=_pos(line, col, len(key)), scope="config-setting", shape=shape, keys=keys, expands=expands,
                owner="config.toml"))

    def _config_entry(self, path: Tuple[str, ...], raw, where: Callable[[Tuple[str, ...]], Tuple[int, int]],
                      typo: bool = False) -> EnvVar:
        """A `[context.secrets]` entry (`path` is its TOML key path), and for a dict-valued one,
        each of its strings too (`_config_items`)."""
        key, loc = path[-1], where(path)
        if isinstance(raw, str):
            value = _assess(raw)
        elif isinstance(raw, dict):
            value = (_leaf_value(raw), "dict", _name_keys(raw), False)
            leaves = _str_leaves(raw, [])
            if leaves:
                value[0].placeholder = all(is_placeholder(x) for x in leaves)
                value[0].shaped = any(looks_like_credential(x) for x in leaves)
        else:
            value = (_leaf_value(raw), "str" if hasattr(raw, "isoformat") else _shape_of(raw), [], False)
        var = self.env(key, loc[0], loc[1], raw if isinstance(raw, str) else None, scope="config",
                       owner="config.toml", value=value)
        if typo:
            var.secret, var.typo_of = None, key
        if isinstance(raw, dict):
            self._config_items(var, raw, path, where)
        return var

    def _config_items(self, secret: EnvVar, table: dict, path: Tuple[str, ...],
                      where: Callable[[Tuple[str, ...]], Tuple[int, int]], depth: int = 0) -> None:
        """The strings of a dict-valued secret (`AWS_CREDENTIALS = { SECRET_ACCESS_KEY = "..." }`
        or a `[context.secrets.AWS_CREDENTIALS]` table), each as an entry of scope "config-key"
        named `SECRET.KEY` at its own line: CL203 judges a literal credential there as it judges a
        string-valued secret. The secret's own entry keeps the dict's shape (CL105, providers)."""
        if depth > 8:
            return
        for key, item in table.items():
            if not isinstance(key, str):
                continue
            if isinstance(item, dict):
                self._config_items(secret, item, path + (key,), where, depth + 1)
                continue
            if not isinstance(item, str):
                continue
            line, col = where(path + (key,))
            value, shape, keys, expands = _assess(item)
            self.judge(value, key, item)
            name = f"{secret.name}.{'.'.join(_clean(k) for k in path[len(path) - depth:] + (key,))}"
            self.facts.env.append(EnvVar(
                name=name, value=value, path=self.path, pos=_pos(line, col, len(key)), scope="config-key",
                shape=shape, keys=keys, expands=expands, owner=secret.owner, secret=secret.secret))

    # ---- YAML ----------------------------------------------------------------------------

    def read_yaml(self, text: str, kind: str) -> None:
        lines = text.split("\n")
        starts = [0]
        for idx, line in enumerate(lines):
            if idx and line.startswith("---") and (len(line) == 3 or line[3] in " \t\r"):
                starts.append(idx)
        starts.append(len(lines))
        for a, b in zip(starts, starts[1:]):
            chunk = "\n".join(lines[a:b])
            if not chunk.strip():
                continue
            root, doc = None, _YDoc(lines, a)
            try:
                root = yaml.compose(chunk, Loader=_loader())
            except (yaml.YAMLError, RecursionError, ValueError) as exc:
                mark = getattr(exc, "problem_mark", None)
                line = (mark.line + a + 1) if mark is not None else a + 1
                if "{{" in chunk:
                    try:
                        root = yaml.compose(_neutralize(chunk), Loader=_loader())
                        doc = _YDoc(lines, a)
                        self.problem(line, "template does not parse as YAML, read with its {{ }} "
                                           "expressions set aside")
                    except (yaml.YAMLError, RecursionError, ValueError):
                        root = None
                if root is None:
                    self.problem(line, f"does not parse as YAML ({_sanitize(getattr(exc, 'problem', '') or exc)}),"
                                       " read line by line")
                    self.read_yaml_lines(lines, a, b)
                    continue
            if root is None:
                continue
            try:
                self.yaml_doc(doc, root, kind)
            except RecursionError:
                self.problem(a + 1, "document nested too deeply, skipped")

    def yaml_doc(self, doc: _YDoc, root, kind: str) -> None:
        if kind == "compose":
            self.compose(doc, root)
        elif kind == "ci-yaml":
            low = self.path.lower()
            dialect = "github" if ".github/workflows/" in "/" + low else \
                "gitlab" if posixpath.basename(low).startswith(".gitlab-ci") else "generic"
            self.ci(doc, root, dialect)
        elif kind == "k8s":
            self.k8s(doc, root)
        else:
            if isinstance(root, yaml.MappingNode) and _get(root, "apiVersion") is not None \
                    and _get(root, "kind") is not None:
                self.k8s(doc, root)
            elif isinstance(root, yaml.MappingNode) and isinstance(_get(root, "services"), yaml.MappingNode):
                self.compose(doc, root)
            else:
                self.ci(doc, root, "generic", any_scalar=True)

    # compose ------------------------------------------------------------------------------

    def compose(self, doc: _YDoc, root) -> None:
        services = _get(root, "services")
        if not isinstance(services, yaml.MappingNode):
            if isinstance(root, yaml.MappingNode) and any(
                    isinstance(v, yaml.MappingNode) and (_get(v, "image") or _get(v, "build"))
                    for _k, v in _pairs(root)):
                services = root  # compose file format 1
            else:
                return
        for knode, svc in _pairs(services):
            name = _scalar(knode) or "?"
            if not isinstance(svc, yaml.MappingNode):
                continue
            owner = f"service {name}"
            env: List[EnvVar] = []
            envnode = _get(svc, "environment")
            if isinstance(envnode, yaml.MappingNode):
                for k, v in _pairs(envnode):
                    key = _scalar(k)
                    if key is None:
                        continue
                    line, col = doc.loc(k)
                    env.append(self._yaml_env(doc, key, line, col, v, "compose", owner))
            else:
                for item in _items(envnode):
                    text = _scalar(item)
                    if text is None:
                        continue
                    key, eq, raw = text.partition("=")
                    line, col = doc.loc(item)
                    if not eq:
                        env.append(self.env(key, line, col, None, scope="process", owner=owner))
                        continue
                    spans = [s for s in _host_spans(text, "compose") if s[1] > len(key) + 1]
                    src = doc.scalar_src(item)
                    vstart = len(key) + 1
                    env.append(self.env(key, line, col, raw, scope="process", owner=owner, host_ref=bool(spans),
                                        ref=spans[0][2] if spans else None,
                                        value_loc=lambda o, t, s=src, v=vstart: s.locate(v + o, t)))
            links = []
            ef = _get(svc, "env_file")
            for item in ([ef] if isinstance(ef, yaml.ScalarNode) else _items(ef)):
                if isinstance(item, yaml.MappingNode):
                    item = _get(item, "path")
                target = _scalar(item)
                if target:
                    links.append(self.link(owner, target, "env_file", doc.loc(item)))
            argv = self._yaml_argv(doc, _get(svc, "entrypoint"), "compose") + \
                self._yaml_argv(doc, _get(svc, "command"), "compose")
            self.launch(argv, env, owner, links)

    def _yaml_argv(self, doc: _YDoc, node, host: str) -> List[_Word]:
        if node is None:
            return []
        if isinstance(node, yaml.SequenceNode):
            return [w for w in (_yaml_word(doc, item, host) for item in node.value) if w is not None]
        text = _scalar(node)
        if text is None:
            return []
        words = [w for w in _lex(text, doc.scalar_src(node), host != "exec") if isinstance(w, _Word)]
        return words

    def _yaml_env(self, doc: _YDoc, key: str, line: int, col: int, vnode, host: str, owner: str) -> EnvVar:
        if vnode is None or (isinstance(vnode, yaml.ScalarNode) and vnode.tag == _NULL_TAG):
            return self.env(key, line, col, None, scope="process", owner=owner)
        if not isinstance(vnode, yaml.ScalarNode):
            source = doc.source(vnode)
            if "{{" in source:
                return self.env(key, line, col, source, scope="process", owner=owner, host_ref=True)
            return self.env(key, line, col, None, scope="process", owner=owner,
                            value=(Value("dynamic"), "", [], False))
        raw = vnode.value
        spans = _host_spans(raw, host)
        src = doc.scalar_src(vnode)
        return self.env(key, line, col, raw, scope="process", owner=owner, host_ref=bool(spans),
                        ref=spans[0][2] if spans else None, value_loc=lambda o, t: src.locate(o, t))

    # kubernetes ---------------------------------------------------------------------------

    def k8s(self, doc: _YDoc, root) -> None:
        kind = _scalar(_get(root, "kind")) or ""
        meta = (_scalar(_get(_get(root, "metadata"), "name")) or "?").replace("__credlint_tpl__", "{{}}")
        if kind in ("Secret", "ConfigMap"):
            owner = f"{kind.lower()}/{meta}"
            for section in ("stringData", "data"):
                node = _get(root, section)
                for k, v in _pairs(node):
                    key = _scalar(k)
                    raw = _scalar(v)
                    if key is None:
                        continue
                    line, col = doc.loc(k)
                    if kind == "Secret" and section == "data" and raw is not None and "{{" not in raw:
                        try:
                            raw = base64.b64decode(raw.strip(), validate=False).decode("utf-8")
                        except (binascii.Error, ValueError, UnicodeDecodeError):
                            pass
                    if raw is None:
                        self.env(key, line, col, None, scope="process", owner=owner)
                    else:
                        spans = _host_spans(raw, "k8s")
                        self.env(key, line, col, raw, scope="process", owner=owner, host_ref=bool(spans),
                                 ref=spans[0][2] if spans else None)
            return
        if kind == "List":
            for item in _items(_get(root, "items")):
                self.k8s(doc, item)
            return
        for spec, container_key in self._pod_specs(root):
            for container in _items(_get(spec, container_key)):
                if isinstance(container, yaml.MappingNode):
                    self.k8s_container(doc, container, f"{kind or 'object'}/{meta}")

    def _pod_specs(self, root):
        out = []
        seen = set()
        stack = [(root, 0)]
        while stack:
            node, depth = stack.pop()
            if id(node) in seen or depth > 30:
                continue
            seen.add(id(node))
            if isinstance(node, yaml.MappingNode):
                found = False
                for key in ("initContainers", "containers", "ephemeralContainers"):
                    if isinstance(_get(node, key), yaml.SequenceNode):
                        out.append((node, key))
                        found = True
                if found:
                    continue
                for _k, v in _pairs(node):
                    stack.append((v, depth + 1))
            elif isinstance(node, yaml.SequenceNode):
                for v in node.value:
                    stack.append((v, depth + 1))
        out.sort(key=lambda item: item[0].start_mark.line)
        return out

    def k8s_container(self, doc: _YDoc, container, prefix: str) -> None:
        name = (_scalar(_get(container, "name")) or "?").replace("__credlint_tpl__", "{{}}")
        owner = f"container {prefix}/{name}"
        env: List[EnvVar] = []
        for item in _items(_get(container, "env")):
            knode = _get(item, "name")
            key = _scalar(knode)
            if key is None:
                continue
            line, col = doc.loc(knode)
            value_from = _get(item, "valueFrom")
            if isinstance(value_from, yaml.MappingNode):
                ref = None
                for src_key, label in (("secretKeyRef", "secret"), ("configMapKeyRef", "configmap"),
                                       ("fieldRef", "field"), ("resourceFieldRef", "resource")):
                    target = _get(value_from, src_key)
                    if target is not None:
                        parts = [_scalar(_get(target, k)) for k in ("name", "key", "fieldPath", "resource")]
                        ref = "/".join([label] + [p for p in parts if p])
                        break
                env.append(self.env(key, line, col, None, scope="process", owner=owner,
                                    value=(Value("reference", ref=_safe_ref(ref)), "reference", [], False)))
                continue
            vnode = _get(item, "value")
            if vnode is None:
                env.append(self.env(key, line, col, "", scope="process", owner=owner))
            else:
                env.append(self._yaml_env(doc, key, line, col, vnode, "k8s", owner))
        links = []
        for item in _items(_get(container, "envFrom")):
            for ref_key, label in (("secretRef", "secret"), ("configMapRef", "configmap")):
                target = _get(item, ref_key)
                tname = _scalar(_get(target, "name")) if target is not None else None
                if tname:
                    links.append(self.link(owner, f"{label}/{tname}", label, doc.loc(_get(target, "name")),
                                           relative=False))
        argv = self._yaml_argv(doc, _get(container, "command"), "k8s") + \
            self._yaml_argv(doc, _get(container, "args"), "k8s")
        self.launch(argv, env, owner, links)

    # CI and generic YAML ------------------------------------------------------------------

    def ci(self, doc: _YDoc, root, dialect: str, any_scalar: bool = False) -> None:
        self.ci_dialect = dialect
        self.ci_env_keys = {"github": ("env",), "gitlab": ("variables",)}.get(
            dialect, ("env", "environment", "variables"))
        self.ci_script_keys = {"github": ("run",), "gitlab": ("script", "before_script", "after_script")}.get(
            dialect, ("run", "script", "before_script", "after_script", "command", "commands", "cmd"))
        self.ci_host = {"github": "github", "gitlab": "gitlab"}.get(dialect, "compose")
        self.ci_any = any_scalar
        self._ci_node(doc, root, [], [], set(), 0)

    def _ci_owner(self, path: List[str]) -> str:
        if self.ci_dialect == "github":
            if len(path) >= 2 and path[0] == "jobs":
                return f"job {path[1]}"
            return "workflow"
        if self.ci_dialect == "gitlab":
            return f"job {path[0]}" if path else "pipeline"
        return "/".join(path[:2]) or "document"

    def _ci_node(self, doc, node, stack: List[EnvVar], path: List[str], seen, depth: int) -> None:
        if depth > 60 or id(node) in seen:
            return
        owner = self._ci_owner(path)
        if isinstance(node, yaml.MappingNode):
            seen.add(id(node))
            local: List[EnvVar] = []
            for k, v in _pairs(node):
                if _scalar(k) in self.ci_env_keys:
                    local.extend(self._ci_env(doc, v, owner))
            env = stack + local
            for k, v in _pairs(node):
                key = _scalar(k) or "?"
                if key in self.ci_env_keys:
                    continue
                child = path + [key]
                if key in self.ci_script_keys:
                    scripts = [v] if isinstance(v, yaml.ScalarNode) else \
                        [x for x in _items(v) if isinstance(x, yaml.ScalarNode)]
                    for item in scripts:
                        if _scalar(item):
                            self.script(item.value, doc.scalar_src(item), env, self._ci_owner(child))
                    if isinstance(v, yaml.MappingNode):
                        self._ci_node(doc, v, env, child, seen, depth + 1)
                    continue
                self._ci_node(doc, v, env, child, seen, depth + 1)
        elif isinstance(node, yaml.SequenceNode):
            seen.add(id(node))
            for index, item in enumerate(node.value):
                self._ci_node(doc, item, stack, path + [str(index)] if len(path) < 2 else path, seen, depth + 1)
        elif self.ci_any and isinstance(node, yaml.ScalarNode) and re.search(r"prefect\s+agent", node.value):
            self.script(node.value, doc.scalar_src(node), stack, owner)

    def _ci_env(self, doc: _YDoc, v, owner: str) -> List[EnvVar]:
        out: List[EnvVar] = []
        host = self.ci_host
        if isinstance(v, yaml.MappingNode):
            for ek, ev in _pairs(v):
                name = _scalar(ek)
                if name is None:
                    continue
                if isinstance(ev, yaml.MappingNode) and _get(ev, "value") is not None:
                    ev = _get(ev, "value")  # GitLab {value:, description:}
                line, col = doc.loc(ek)
                out.append(self._yaml_env(doc, name, line, col, ev, host, owner))
        elif isinstance(v, yaml.SequenceNode):
            for item in v.value:
                text = _scalar(item)
                if text and "=" in text and _NAME.match(text.split("=", 1)[0]):
                    name, _, raw = text.partition("=")
                    line, col = doc.loc(item)
                    spans = [sp for sp in _host_spans(text, host) if sp[1] > len(name) + 1]
                    out.append(self.env(name, line, col, raw, scope="process", owner=owner,
                                        host_ref=bool(spans), ref=spans[0][2] if spans else None))
                elif isinstance(item, yaml.MappingNode) and _scalar(_get(item, "name")):
                    knode = _get(item, "name")
                    line, col = doc.loc(knode)
                    out.append(self._yaml_env(doc, knode.value, line, col, _get(item, "value"), host, owner))
        return out

    # line-oriented fallback ---------------------------------------------------------------

    def read_yaml_lines(self, lines: List[str], a: int, b: int) -> None:
        """A YAML document that does not parse: `prefect agent` commands, and under `env:` /
        `environment:` / `variables:` the `- name: X` + `value:` pairs, `- KEY=VALUE` items and
        `KEY: value` entries."""
        env: List[EnvVar] = []
        agents_at: List[Tuple[int, int]] = []
        owner = f"document at line {a + 1}"
        block: Optional[int] = None  # indentation of the env: key
        entry: Optional[int] = None  # indentation of the block's entries
        i = a
        while i < b:
            line = lines[i]
            stripped = line.strip()
            indent = len(line) - len(line.lstrip())
            i += 1
            if not stripped or stripped.startswith(("#", "{{")):
                continue
            at = re.search(r"prefect[\"',\s]+agent\b", line)
            if at:
                agents_at.append((i - 1, at.start()))
            if block is not None and indent <= block and not (indent == block and stripped.startswith("- ")):
                block = entry = None
            if re.match(r"^(-\s+)?(env|environment|variables):\s*$", stripped):
                block, entry = indent + (2 if stripped.startswith("-") else 0), None
                continue
            if block is None:
                continue
            if entry is None:
                entry = indent
            if indent != entry:
                continue
            m = re.match(r"^-\s+name:\s*(.+?)\s*$", stripped)
            if m:
                name = _unquote_yaml(m.group(1))
                col = line.index(m.group(1)) + 1 + (1 if m.group(1)[:1] in "'\"" else 0)
                raw: Optional[str] = ""
                host, ref = False, None
                for j in range(i, min(b, i + 8)):
                    nxt = lines[j]
                    if len(nxt) - len(nxt.lstrip()) <= indent:
                        break
                    vm = re.match(r"^\s*value:\s*(.*?)\s*$", nxt)
                    if vm:
                        raw = _unquote_yaml(vm.group(1))
                        spans = _host_spans(raw, "k8s")
                        host, ref = bool(spans), (spans[0][2] if spans else None)
                        break
                    if re.match(r"^\s*valueFrom:", nxt):
                        raw = None
                        break
                if raw is None:
                    env.append(self.env(name, i, col, None, scope="process", owner=owner,
                                        value=(Value("reference"), "reference", [], False)))
                else:
                    env.append(self.env(name, i, col, raw, scope="process", owner=owner, host_ref=host, ref=ref))
                continue
            m = re.match(r"^-\s+([A-Za-z_][A-Za-z0-9_]*)(=(.*))?$", stripped) or \
                re.match(r"^([A-Za-z_][A-Za-z0-9_]*):(\s+(.*?))?\s*$", stripped)
            if m:
                name = m.group(1)
                raw = _unquote_yaml(m.group(3)) if m.group(3) is not None else None
                spans = _host_spans(raw or "", "compose")
                env.append(self.env(name, i, line.index(name) + 1, raw, scope="process", owner=owner,
                                    host_ref=bool(spans), ref=spans[0][2] if spans else None))
        for line_idx, start in agents_at:
            line = lines[line_idx]
            text = line[start:].rstrip().rstrip("\"',]").rstrip()
            text = _TPL.sub(lambda m: "x" * len(m.group(0)), text)
            src = _LineSrc(text, line_idx + 1, start + 1)
            words = [w for w in _lex(text, src, True) if isinstance(w, _Word)]
            words = [_Word(w.text.strip("\"',"), w.offsets, w.src, w.subst) for w in words]
            self.launch(words, env, owner)


def _templated_name(name: str) -> bool:
    return "__credlint_tpl__" in name or "{{" in name


def _unquote_yaml(text: str) -> str:
    text = text.split(" #", 1)[0].strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _neutralize(chunk: str) -> str:
    """Helm/Jinja: blank lines that are only template actions, replace inline expressions."""
    out = []
    for line in chunk.split("\n"):
        stripped = line.strip()
        if stripped.startswith("{{") and not _TPL.sub("", stripped).strip():
            out.append("")
        else:
            out.append(_TPL.sub("__credlint_tpl__", line))
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# TOML key positions (tomllib gives values, not lines)
# --------------------------------------------------------------------------------------------


def _toml_key(s: str, i: int, stop: str):
    """Parse a dotted key starting at s[i]; returns (keys, columns, index after `stop`) or None."""
    keys, cols = [], []
    n = len(s)
    while True:
        while i < n and s[i] in " \t":
            i += 1
        if i >= n:
            return None
        c = s[i]
        if c in "\"'":
            j = i + 1
            buf = []
            while j < n and s[j] != c:
                if c == '"' and s[j] == "\\" and j + 1 < n:
                    buf.append(s[j + 1])
                    j += 2
                    continue
                buf.append(s[j])
                j += 1
            if j >= n:
                return None
            keys.append("".join(buf))
            cols.append(i)
            i = j + 1
        else:
            j = i
            while j < n and (s[j].isalnum() or s[j] in "_-"):
                j += 1
            if j == i:
                return None
            keys.append(s[i:j])
            cols.append(i)
            i = j
        while i < n and s[i] in " \t":
            i += 1
        if i < n and s[i] == ".":
            i += 1
            continue
        if s.startswith(stop, i):
            return keys, cols, i + len(stop)
        return None


def _toml_positions(text: str) -> Dict[Tuple[str, ...], Tuple[int, int]]:
    positions: Dict[Tuple[str, ...], Tuple[int, int]] = {}
    lines = text.split("\n")
    table: Tuple[str, ...] = ()
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        lead = len(line) - len(stripped)
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        if stripped.startswith("["):
            arr = stripped.startswith("[[")
            parsed = _toml_key(line, lead + (2 if arr else 1), "]]" if arr else "]")
            if parsed:
                keys, cols, _end = parsed
                table = tuple(keys)
                for d in range(len(keys)):
                    positions.setdefault(table[:d + 1], (i + 1, cols[d] + 1))
            i += 1
            continue
        parsed = _toml_key(line, lead, "=")
        if not parsed:
            i += 1
            continue
        keys, cols, end = parsed
        for d in range(len(keys)):
            positions.setdefault(table + tuple(keys[:d + 1]), (i + 1, cols[d] + 1))
        i = _toml_skim(lines, i, end, table + tuple(keys), positions)
    return positions


def _toml_skim(lines, li, ci, path, positions) -> int:
    """Skip a TOML value (multi-line strings, arrays, inline tables), recording inline-table keys."""
    stack: List[Optional[Tuple[str, ...]]] = []
    kinds: List[str] = []
    expect_key = False
    current: Optional[Tuple[str, ...]] = path
    while li < len(lines):
        line = lines[li]
        while ci < len(line):
            ch = line[ci]
            if expect_key and ch not in " \t,":
                if ch == "}":
                    expect_key = False
                    continue
                parsed = _toml_key(line, ci, "=")
                expect_key = False
                if parsed:
                    keys, cols, end = parsed
                    base = stack[-1] if stack else None
                    if base is not None:
                        for d in range(len(keys)):
                            positions.setdefault(base + tuple(keys[:d + 1]), (li + 1, cols[d] + 1))
                        current = base + tuple(keys)
                    else:
                        current = None
                    ci = end
                    continue
            if ch == "#":
                break
            if line.startswith('"""', ci) or line.startswith("'''", ci):
                quote = line[ci:ci + 3]
                ci += 3
                while li < len(lines):
                    idx = lines[li].find(quote, ci)
                    if idx >= 0:
                        ci = idx + 3
                        while ci < len(lines[li]) and lines[li][ci] == quote[0]:
                            ci += 1
                        break
                    li, ci = li + 1, 0
                if li >= len(lines):
                    return li
                line = lines[li]
                continue
            if ch in "\"'":
                j = ci + 1
                while j < len(line) and line[j] != ch:
                    j += 2 if (ch == '"' and line[j] == "\\") else 1
                ci = j + 1
                continue
            if ch == "{":
                stack.append(current)
                kinds.append("{")
                expect_key = True
                ci += 1
                continue
            if ch == "[":
                stack.append(None)
                kinds.append("[")
                current = None
                ci += 1
                continue
            if ch in "}]":
                if stack:
                    stack.pop()
                    kinds.pop()
                ci += 1
                if not stack:
                    return li + 1
                continue
            if ch == "," and kinds and kinds[-1] == "{":
                expect_key = True
            ci += 1
        if not stack:
            return li + 1
        li, ci = li + 1, 0
    return li


# --------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------

_COMPOSE_NAME = re.compile(r"^(docker-)?compose([.\-_][^/]*)?\.ya?ml$")
_CI_NAMES = {".gitlab-ci.yml", ".gitlab-ci.yaml", "bitbucket-pipelines.yml", "azure-pipelines.yml",
             "azure-pipelines.yaml", ".drone.yml", ".travis.yml", "cloudbuild.yaml", "cloudbuild.yml",
             "buildspec.yml", "buildspec.yaml"}
_NOT_PREFECT_TOML = {"pyproject.toml", "credlint.toml", ".credlint.toml", "cargo.toml", "poetry.lock"}
_AGENT_BYTES = re.compile(rb"prefect[\"'\s,]+agent\b")
_PREFECT_BACKEND = re.compile(rb"(?m)^[ \t]*backend[ \t]*=[ \t]*[\"'](?:server|cloud)[\"']")
_PREFECT_SECTIONS = ("[server]", "[server.", "[context]", "[context.", "[flows]", "[engine]", "[engine.", "[tasks]",
                     "[tasks.", "[logging]")


def _toml_headers(head: bytes) -> List[str]:
    out = []
    for raw in head.decode("latin-1").splitlines():
        stripped = raw.strip()
        if stripped.startswith("["):
            out.append(re.sub(r"[\s\"']", "", stripped.split("#", 1)[0]).lower())
    return out


def classify(relpath: str, head: bytes) -> Optional[str]:
    """The kind of deployment file, or None when it cannot matter. Name first, then at most the
    first 64 KiB (for *.yml, *.toml, *.conf/*.ini and scripts without an extension)."""
    rel = relpath.replace("\\", "/")
    name = rel.rsplit("/", 1)[-1]
    low = name.lower()
    rlow = "/" + rel.lower()
    head = head[:HEAD_BYTES]
    if b"\x00" in head[:8192]:
        return None
    if low in ("dockerfile", "containerfile") or low.startswith(("dockerfile.", "containerfile.")) \
            or low.endswith(".dockerfile"):
        return "dockerfile"
    if low.endswith((".yml", ".yaml")):
        if _COMPOSE_NAME.match(low):
            return "compose"
        if "/.github/workflows/" in rlow or low in _CI_NAMES or "/.circleci/" in rlow or "/.gitlab/ci/" in rlow:
            return "ci-yaml"
        if b"apiVersion" in head and b"kind" in head:
            return "k8s"
        if _AGENT_BYTES.search(head):
            return "yaml"
        return None
    if low == ".env" or low.startswith(".env.") or (low.endswith(".env") and len(low) > 4):
        return "dotenv"
    if low == ".envrc" or low.endswith((".sh", ".bash", ".zsh", ".ksh")):
        return "shell"
    if low in ("makefile", "gnumakefile") or low.endswith(".mk"):
        return "makefile"
    if low.endswith((".conf", ".ini")):
        if b"[program:" in head or b"[fcgi-program:" in head or \
                (low.startswith("supervisord") and b"[supervisord]" in head):
            return "supervisord"
        return None
    if low.endswith(".toml"):
        if low in _NOT_PREFECT_TOML:
            return None
        headers = _toml_headers(head)
        if any(h.startswith(("[context.secret", "[cloud.agent")) for h in headers):
            return "prefect-config"
        if "[context]" in headers and b"secrets" in head:
            return "prefect-config"
        if low == "config.toml" and any(h == "[secrets]" or h.startswith("[cloud") for h in headers):
            return "prefect-config"
        if low == "config.toml" and ("/.prefect/" in rlow or _PREFECT_BACKEND.search(head) or
                                     any(h.startswith(_PREFECT_SECTIONS) for h in headers)):
            return "prefect-config"  # a user config (~/.prefect/config.toml), mounted or copied there
        return None
    if low.endswith((".bat", ".cmd")):
        return "batch"
    if "." not in low and head.startswith(b"#!"):
        first = head.split(b"\n", 1)[0]
        if re.search(rb"\b(ba|da|z|k)?sh\b", first):
            return "shell"
    return None


def _guess(relpath: str, head: bytes) -> str:
    """A kind for a file named explicitly (config `sources`) that `classify` does not know."""
    low = relpath.lower()
    if low.endswith((".yml", ".yaml")):
        return "k8s" if b"apiVersion" in head and b"kind" in head else "yaml"
    if low.endswith(".toml"):
        return "prefect-config"
    if b"[program:" in head:
        return "supervisord"
    if re.search(rb"(?m)^\s*FROM\s+\S", head) and re.search(rb"(?m)^\s*(CMD|ENTRYPOINT|ENV)\s", head):
        return "dockerfile"
    return "shell"


def read_deployment_file(relpath: str, data: bytes, kind: Optional[str] = None) -> DeployFacts:
    """Facts of one deployment file. Never raises on bad input: problems are recorded instead."""
    relpath = relpath.replace("\\", "/")
    kind = kind or classify(relpath, data[:HEAD_BYTES]) or _guess(relpath, data[:HEAD_BYTES])
    reader = _Reader(relpath, kind)
    facts = reader.facts
    if kind not in KINDS:
        facts.problems.append(f"line 1: unknown deployment file kind {kind!r}")
        return facts
    if len(data) > MAX_BYTES:
        facts.problems.append(f"line 1: skipped, larger than {MAX_BYTES // (1024 * 1024)} MiB")
        return facts
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("utf-8", "replace")
        facts.problems.append("line 1: not valid UTF-8, read with replacement characters")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    facts.suppressions = scan_text_suppressions(text)
    try:
        if kind in ("compose", "ci-yaml", "k8s", "yaml"):
            reader.read_yaml(text, kind)
        elif kind == "shell":
            reader.read_shell(text)
        elif kind == "makefile":
            reader.read_makefile(text)
        elif kind == "dockerfile":
            reader.read_dockerfile(text)
        elif kind == "dotenv":
            reader.read_dotenv(text)
        elif kind == "supervisord":
            reader.read_supervisord(text)
        elif kind == "prefect-config":
            reader.read_prefect_config(text)
        elif kind == "batch":
            reader.read_batch(text)
    except RecursionError:
        facts.problems.append("line 1: nested too deeply, read partly")
    except Exception as exc:  # noqa: BLE001 - never let one file stop the run
        facts.problems.append(f"line 1: could not be read completely ({type(exc).__name__})")
    return reader.finish()


__all__ = [
    "Agent", "DeployFacts", "EnvLink", "EnvVar", "classify", "interpret_value", "is_login_option",
    "read_deployment_file",
]
