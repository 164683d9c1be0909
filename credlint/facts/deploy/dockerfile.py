"""Dockerfiles: each stage's `ENV`/`ARG`, logins in `RUN`, and the agent the final image's `ENTRYPOINT`/`CMD` starts."""
from __future__ import annotations

import json
import re
from typing import List, Tuple

from credlint.facts.deploy.core import Reader
from credlint.facts.deploy.lexer import RESERVED, Word, host_spans, lex, simple_commands
from credlint.facts.deploy.login_command import read_login
from credlint.facts.deploy.positions import OriginSrc, Src
from credlint.facts.deploy.shell import launch, read_script
from credlint.facts.deploy.types import EnvVar


def read_dockerfile(reader: Reader, text: str) -> None:
    """A Dockerfile: stages (a stage `FROM` another inherits its env and command), the environment
    of the final image, and what its entrypoint and command start."""
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
        asrc = OriginSrc(origins[astart:], (first + 1, 1))
        if "<<" in args and instr in ("RUN", "COPY", "ADD"):
            for delim in re.findall(r"<<-?\s*[\"']?([A-Za-z_]\w*)[\"']?", args):
                while i < len(lines) and lines[i].strip() != delim:
                    i += 1
                i += 1
        if instr == "FROM":
            words = [w for w in lex(args, asrc, False) if isinstance(w, Word)]
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
            words = [w for w in lex(args, asrc, True) if isinstance(w, Word)]
            if instr == "ENV" and words and "=" not in words[0].text:
                name = words[0].text
                raw = args[len(name):].strip() if args.startswith(name) else " ".join(w.text for w in words[1:])
                if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
                    raw = raw[1:-1]
                spans = host_spans(raw, "dockerfile-env")
                line, col = words[0].loc(0, name)
                stage["env"].append(reader.env(name, line, col, raw, scope="process", owner=owner,
                                               host_ref=bool(spans), ref=spans[0][2] if spans else None))
                continue
            for word in words:
                if instr == "ARG" and "=" not in word.text:
                    line, col = word.loc(0, word.text)
                    reader.env(word.text, line, col, None, scope="process", owner=f"{owner} (build arg)")
                    continue
                var = reader.assignment(word, "process", owner if instr == "ENV" else f"{owner} (build arg)",
                                        allow_bare=True)
                if instr == "ENV":
                    stage["env"].append(var)
            continue
        if instr == "RUN" and "login" in args:  # `RUN docker login -p ...` bakes it into a layer
            for words in simple_commands(lex(args, asrc, True)):
                while words and words[0].text in {"sudo", "exec", "command"} | RESERVED:
                    words = words[1:]
                if words:
                    read_login(reader, words, owner)
            continue
        if instr in ("CMD", "ENTRYPOINT"):
            form = _docker_command(args, asrc)
            stage["cmd" if instr == "CMD" else "entrypoint"] = form
            continue
    stages.append(stage)
    final = stages[-1]
    owner = f"image {final['name']}" if final["name"] else "image"
    ep, cmd = final["entrypoint"], final["cmd"]
    _docker_start(reader, ep, cmd, final["env"], owner)


def _docker_command(args: str, asrc: Src):
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
                words.append(Word(item, offs, asrc))
            return ("exec", words)
    return ("shell", (args, asrc))


def _docker_start(reader: Reader, ep, cmd, env: List[EnvVar], owner: str) -> None:
    def words_of(form):
        if form is None:
            return []
        if form[0] == "exec":
            return list(form[1])
        return None

    if ep is not None and ep[0] == "shell":
        read_script(reader, ep[1][0], ep[1][1], env, owner)
        return
    argv = words_of(ep) or []
    if cmd is not None and cmd[0] == "shell":
        if argv:
            text, src = cmd[1]
            shell = [Word("/bin/sh", [0] * 7, src), Word("-c", [0, 0], src)]
            argv = argv + shell + [Word(text, list(range(len(text))), src)]
        else:
            read_script(reader, cmd[1][0], cmd[1][1], env, owner)
            return
    else:
        argv = argv + (words_of(cmd) or [])
    launch(reader, argv, env, owner)
