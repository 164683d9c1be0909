"""One deployment file being read: the facts built so far, and how each finding goes into them.

Every format's reader hands what it finds to a `Reader`: `env()` records a variable with its
redacted value, its scope and the context secret Prefect makes of it (and reads the agent settings
`PREFECT__CLOUD__AGENT__ENV_VARS` / `__LABELS`), `bind()` attaches an environment to the agent that
runs in it, `link()` a file or Secret it loads, `problem()` notes what could not be read (never a
value), and `finish()` hands the facts over.
"""
from __future__ import annotations

import posixpath
import re
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from credlint.facts.deploy.lexer import Word
from credlint.facts.deploy.positions import token_pos
from credlint.facts.deploy.shapes import (
    HOST_REF_ANY, IDENT_KEY, assess, clean, interpret, literal_default, literal_value, not_a_secret, safe_ref,
)
from credlint.facts.deploy.types import Agent, DeployFacts, EnvLink, EnvVar
from credlint.facts.values import Value, is_test_path, secretish
from credlint.prefect.names import ENV_VARS_VAR, LABELS_VAR, prefect_secret_name, secret_path, typo_secret_name


class Reader:
    """One deployment file being read: the facts so far, and what every format's reader records them with."""

    def __init__(self, path: str, kind: str):
        self.facts = DeployFacts(path=path, kind=kind)
        self.path = path
        self.derived: Dict[int, List[EnvVar]] = {}  # id(ENV_VARS var) -> forwarded entries
        self.labels: Dict[int, List[str]] = {}  # id(LABELS var) -> labels
        self.depth = 0
        self.test_file = is_test_path(path) or kind == "ci-yaml"

    def problem(self, line: int, message: str) -> None:
        """Note what could not be read as the tool would read it (words that may be values are masked)."""
        message = " ".join(clean(word, "text") if secretish(word) else word for word in message.split(" "))
        text = f"line {line}: {message}"
        if text not in self.facts.problems:
            self.facts.problems.append(text)

    # ---- env vars ------------------------------------------------------------------------

    def env(self, name: str, line: int, col: int, raw: Optional[str], *, scope: str, owner: str,
            host_ref: bool = False, ref: Optional[str] = None,
            value_loc: Optional[Callable[[int, str], Tuple[int, int]]] = None,
            value: Optional[Tuple[Value, str, List[str], bool]] = None) -> EnvVar:
        """Record a variable set to `raw` (None: no value written; `value`: already assessed), and the
        entries an agent setting in it forwards. `value_loc` locates an offset of `raw` in the file."""
        val, shape, keys, expands = value if value is not None else assess(raw, host_ref, ref)
        literal = raw
        if value is None and host_ref and raw:
            fallback = literal_default(raw)
            if fallback is not None:  # `${VAR:-default}`: the default runs wherever VAR is unset
                val = literal_value(fallback, None, "str")
                val.ref, literal = safe_ref(ref), fallback
        shown = clean(name)  # a value written where a name belongs is still a value
        if val.kind == "str" and raw is not None and raw == shown:
            val.placeholder = True  # `NAME: NAME`, a template's stand-in for the variable's own value
        self.judge(val, name, literal)
        var = EnvVar(name=shown, value=val, path=self.path, pos=token_pos(line, col, len(name)), scope=scope,
                     shape=shape, keys=keys, expands=expands, owner=clean(owner, "owner"))
        if scope == "config":
            var.secret = shown if shown == name else None
        else:
            path = secret_path(name)
            var.secret = clean(path[0]) if path else None
            var.typo_of = typo_secret_name(name)
            if var.typo_of:
                var.typo_of = clean(var.typo_of)
            if path and len(path) > 1:  # PREFECT__CONTEXT__SECRETS__A__B: the consumer gets a dict
                var.shape = "dict"
                var.keys = [path[1]] if IDENT_KEY.match(path[1]) and not secretish(path[1]) else []
        self.facts.env.append(var)
        agent_config = name in (ENV_VARS_VAR, LABELS_VAR) or name.startswith(ENV_VARS_VAR + "__")
        if agent_config and scope not in ("config", "forwarded"):
            loc = value_loc or (lambda offset, token: (line, col))
            self._agent_config(var, name, raw, host_ref, line, loc, owner)
        return var

    def judge(self, val: Value, name: str, raw: Optional[str]) -> None:
        """Verdicts on a literal that need its name or its file (`not_a_secret`)."""
        if val.kind == "str" and raw is not None and not val.placeholder and \
                not_a_secret(name, raw, self.path, self.test_file):
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
                fwd.typo_of = clean(meant)
            self.derived[id(var)] = [fwd]
            return
        if raw is None:
            return
        masked = HOST_REF_ANY.sub("__credlint_ref__", raw) if host_ref else raw
        shape, _keys, _exp, obj = interpret(masked)
        if name == LABELS_VAR:
            if shape == "list" and isinstance(obj, (list, tuple)):
                self.labels[id(var)] = [x for x in obj if isinstance(x, str) and "__credlint_ref__" not in x
                                        and not secretish(x)]
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
        """The facts, in file order, without duplicates or names a template computes."""
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

    def link(self, owner: str, target: str, kind: str, loc: Tuple[int, int], relative: bool = True) -> EnvLink:
        """Record environment `owner` loads from elsewhere (`env_file`: a path relative to this file)."""
        if kind == "env_file" and relative:
            base = posixpath.dirname(self.path)
            target = posixpath.normpath(posixpath.join(base, target)) if not target.startswith("/") else target
        link = EnvLink(owner=clean(owner, "owner"), target=clean(target, "target"), kind=kind,
                       pos=token_pos(loc[0], loc[1], len(target)))
        self.facts.links.append(link)
        return link

    def assignment(self, word: Word, scope: str, owner: str, allow_bare: bool = False,
                   start: int = 0) -> EnvVar:
        """Record a `NAME=value` word (from `start`); a bare `NAME` is a variable passed through."""
        text = word.text[start:]
        name, eq, raw = text.partition("=")
        line, col = word.loc(start, name)
        if not eq:
            return self.env(name, line, col, None, scope=scope, owner=owner)
        host, ref = word.host_ref(start + len(name) + 1)
        vstart = start + len(name) + 1
        return self.env(name, line, col, raw, scope=scope, owner=owner, host_ref=host, ref=ref,
                        value_loc=lambda o, t: word.loc(vstart + o, t))


def _templated_name(name: str) -> bool:
    return "__credlint_tpl__" in name or "{{" in name


def sanitize_message(message: str) -> str:
    """A parser's message without quoted source text (which could be a value)."""
    message = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", str(message))
    return message.splitlines()[0][:120] if message else "error"
