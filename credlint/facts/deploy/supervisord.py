"""supervisord configs: each program's `command` and the `environment=` it (and `[supervisord]`) sets."""
from __future__ import annotations

import re
import shlex
from typing import Dict, List, Optional, Tuple

from credlint.facts.deploy.core import Reader
from credlint.facts.deploy.lexer import Word, host_spans, lex
from credlint.facts.deploy.positions import OriginSrc
from credlint.facts.deploy.shell import launch
from credlint.facts.deploy.types import EnvVar


def read_supervisord(reader: Reader, text: str) -> None:
    """A supervisord config: sections, continuation lines and comments as supervisord reads them."""
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
            global_env = _supervisor_env(reader, entries["environment"], "supervisord")
    for name, line, entries in sections:
        if not name.lower().startswith(("program:", "fcgi-program:", "eventlistener:")):
            continue
        owner = name
        env = list(global_env)
        if "environment" in entries:
            env += _supervisor_env(reader, entries["environment"], owner)
        if "command" in entries:
            value, origins, kline = entries["command"]
            src = OriginSrc(origins, (kline, 1))
            words = [w for w in lex(value, src, False) if isinstance(w, Word)]
            for word in words:
                word.subst = host_spans(word.text, "supervisord")
            launch(reader, words, env, owner)


def _supervisor_env(reader: Reader, entry, owner: str) -> List[EnvVar]:
    value, origins, kline = entry
    src = OriginSrc(origins, (kline, 1))
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
        reader.problem(kline, "environment= does not parse the way supervisord reads it "
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
        out.append(reader.env(name, line, col, raw, scope="process", owner=owner, host_ref=host, ref=ref))
    return out
