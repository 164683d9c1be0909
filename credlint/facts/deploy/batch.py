"""Windows batch files (`.bat`, `.cmd`): `set`/`setx` variables and the commands that start agents."""
from __future__ import annotations

import posixpath
import re
from typing import List, Tuple

from credlint.facts.deploy.core import Reader
from credlint.facts.deploy.lexer import Word, host_spans, lex
from credlint.facts.deploy.positions import OriginSrc
from credlint.facts.deploy.shell import launch
from credlint.facts.deploy.types import EnvVar


def read_batch(reader: Reader, text: str) -> None:
    """A `.bat` / `.cmd` launch script, read like a shell script where the two agree: `set
    NAME=value` (and `setx NAME value`) set variables, other lines are commands (`docker run
    --env X=...`, `docker login -p ...`, `prefect agent ...`); `%NAME%` and `!NAME!` are
    references, `^` at the end of a line continues it, `rem` and `::` lines are comments."""
    owner = posixpath.basename(reader.path)
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
        src = OriginSrc(origins[lead:], (first + 1, 1))
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
            spans = host_spans(raw, "batch")
            line, col = src.locate(m.start(3), name)
            var = reader.env(name, line, col, raw, scope="process", owner=owner, host_ref=bool(spans),
                             ref=spans[0][2] if spans else None)
            env.append(var)
            continue
        words = [w for w in lex(stripped, src, False) if isinstance(w, Word)]
        for word in words:
            word.subst = host_spans(word.text, "batch")
        while words and words[0].text.lower() in ("call", "start", "cmd", "/c", "/k", "/b") or \
                (words and words[0].quoted and len(words) > 1 and words[0].text == ""):
            words = words[1:]
        launch(reader, words, env, owner)
