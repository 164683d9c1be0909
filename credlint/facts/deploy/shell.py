"""Shell text: what a script exports, and which Prefect agent each of its commands starts.

`read_script` follows a script's assignments (`export`, `declare -x`, `set -a`, `. file`);
`launch` looks through a command line's wrappers (`exec`, `env X=1`, `gosu`, `tini --`, `sh -c`,
`docker run -e`) for a `prefect agent ... start` or a registry login. Every format that runs
commands (Makefiles, Dockerfiles, compose, Kubernetes, CI, supervisord, batch files) reads them here.
"""
from __future__ import annotations

import posixpath
from typing import Dict, List, Optional, Sequence

from credlint.facts.deploy.agent_command import read_agent
from credlint.facts.deploy.core import Reader
from credlint.facts.deploy.lexer import RESERVED, SKIP_COMMANDS, Word, is_assignment, lex, simple_commands
from credlint.facts.deploy.login_command import read_login
from credlint.facts.deploy.settings_command import read_config_set
from credlint.facts.deploy.positions import LineSrc, Src, SubSrc
from credlint.facts.deploy.types import Agent, EnvLink, EnvVar


_WRAPPERS_NOARG = {"exec", "nohup", "setsid", "command", "builtin", "stdbuf", "chronic", "xargs"}
_WRAPPERS_ONEARG = {"gosu", "su-exec", "chpst"}
_INIT_WRAPPERS = {"tini", "dumb-init", "catatonit", "tini-static"}
_SHELLS = {"sh", "bash", "dash", "zsh", "ash", "ksh", "busybox"}
_DOCKER_RUN_FLAGS = {"-d", "-i", "-t", "-it", "-ti", "-P", "--rm", "--init", "--privileged", "--detach",
                     "--interactive", "--tty", "--read-only", "--no-healthcheck", "--oom-kill-disable",
                     "--sig-proxy", "--quiet", "-q", "--publish-all", "--help", "-dit", "-itd"}


def launch(reader: Reader, argv: List[Word], env: List[EnvVar], owner: str,
           links: Sequence[EnvLink] = ()) -> Optional[Agent]:
    """Find the Prefect agent a command line starts (through wrappers, `sh -c`, `docker run`)."""
    if not argv or reader.depth > 8:
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
            while i < n and is_assignment(argv[i]):
                env.append(reader.assignment(argv[i], "process", owner))
                i += 1
            continue
        break
    rest = argv[i:]
    if not rest:
        return None
    base = rest[0].text.rsplit("/", 1)[-1]
    if read_login(reader, rest, owner) or read_config_set(reader, rest, owner):
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
            reader.depth += 1
            try:
                agents = read_script(reader, script.text, SubSrc(script.src, script.offsets), env, owner,
                                             links=links)
            finally:
                reader.depth -= 1
            return agents[0] if agents else None
        return None
    if base in ("docker", "podman") and len(rest) > 2 and rest[1].text in ("run", "create", "container"):
        k = 2 if rest[1].text != "container" else 3
        return _docker_run(reader, rest[k:], owner)
    for j in range(len(rest) - 1):
        if rest[j].text.rsplit("/", 1)[-1] == "prefect" and rest[j + 1].text == "agent":
            return read_agent(reader, rest, j, env, owner, links)
    return None


def _docker_run(reader: Reader, args: List[Word], owner: str) -> Optional[Agent]:
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
            env.append(reader.assignment(args[k + 1], "process", owner, allow_bare=True))
            k += 2
            continue
        if text.startswith("--env="):
            env.append(reader.assignment(word, "process", owner, allow_bare=True, start=6))
        elif text in ("--env-file",) and k + 1 < len(args):
            links.append(reader.link(owner, args[k + 1].text, "env_file", args[k + 1].loc(0)))
            k += 2
            continue
        elif text.startswith("--env-file="):
            links.append(reader.link(owner, text[11:], "env_file", word.loc(11)))
        elif text in _DOCKER_RUN_FLAGS or "=" in text:
            pass
        elif text.startswith("--") or len(text) == 2:
            k += 2  # an option with a value
            continue
        k += 1
    cmd = args[k + 1:] if k < len(args) else []
    reader.depth += 1
    try:
        agent = launch(reader, cmd, env, owner, links)
    finally:
        reader.depth -= 1
    return agent


def read_script(reader: Reader, text: str, src: Src, inherited: Sequence[EnvVar], owner: str,
                dollar: bool = True, links: Sequence[EnvLink] = ()) -> List[Agent]:
    """A shell script: exported variables, command-prefix assignments, the agents it starts."""
    toks = lex(text, src, dollar)
    exported: List[EnvVar] = list(inherited)
    shell_vars: Dict[str, EnvVar] = {}
    allexport = False
    agents: List[Agent] = []
    sourced: List[EnvLink] = list(links)
    for words in simple_commands(toks):
        while words and words[0].text in RESERVED and not words[0].quoted:
            words = words[1:]
        if not words or words[0].text in SKIP_COMMANDS:
            continue
        k = 0
        while k < len(words) and is_assignment(words[k]):
            k += 1
        assigns, argv = words[:k], words[k:]
        if not argv:
            for word in assigns:
                var = reader.assignment(word, "process" if allexport else "shell", owner)
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
                if is_assignment(word) or (word.quoted is False and "=" in word.text):
                    var = reader.assignment(word, "process" if export else "shell", owner)
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
            sourced.append(reader.link(owner, argv[1].text, "env_file", argv[1].loc(0, argv[1].text)))
            continue
        cmd_env = [reader.assignment(word, "process", owner) for word in assigns]
        agent = launch(reader, argv, exported + cmd_env, owner, sourced)
        if agent is not None:
            agents.append(agent)
    return agents


def read_shell(reader: Reader, text: str) -> None:
    """A shell script (`*.sh`, `.envrc`, an executable with a shell's `#!`)."""
    read_script(reader, text, LineSrc(text), [], owner=posixpath.basename(reader.path))
