"""`prefect agent TYPE start`: the agent a command line starts, and what its options say.

The agent's type and action, its labels (`--label`), the variables it forwards to every flow run
(`--env K=V`) and its API key (`--key`/`--token`, recorded as entries named as written), bound to
the environment the command runs in.
"""
from __future__ import annotations

from typing import List, Optional, Sequence

from credlint.facts.deploy.core import Reader
from credlint.facts.deploy.lexer import NAME, Word
from credlint.facts.deploy.positions import token_pos
from credlint.facts.deploy.shapes import clean
from credlint.facts.deploy.types import Agent, EnvLink, EnvVar
from credlint.facts.types import Pos
from credlint.facts.values import looks_like_credential, secretish
from credlint.prefect.names import AGENT_TYPES


def read_agent(reader: Reader, argv: List[Word], j: int, env: List[EnvVar], owner: str,
               links: Sequence[EnvLink] = ()) -> Optional[Agent]:
    """The agent `prefect agent TYPE start|install ...` starts (`argv[j]` is `prefect`), or None when
    the command is not a Prefect 1.x agent's."""
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
    pos = Pos(line, col, end_line, end_col + 1) if end_line == line else token_pos(line, col, len(argv[j].text))
    agent = Agent(type=kind, action=action, path=reader.path, pos=pos, owner=clean(owner, "owner"))
    reader.facts.agents.append(agent)
    k = j + 4
    while k < len(argv):
        word = argv[k]
        text = word.text
        if text in ("-e", "--env") and k + 1 < len(argv):
            _agent_env(reader, agent, argv[k + 1], 0, owner)
            k += 2
            continue
        if text.startswith("--env="):
            _agent_env(reader, agent, word, 6, owner)
        elif text.startswith("-e") and not text.startswith("--") and len(text) > 2:
            _agent_env(reader, agent, word, 2, owner)
        elif text in ("-l", "--label") and k + 1 < len(argv):
            _label(agent, argv[k + 1], 0)
            k += 2
            continue
        elif text.startswith("--label="):
            _label(agent, word, 8)
        elif text.startswith("-l") and not text.startswith("--") and len(text) > 2:
            _label(agent, word, 2)
        elif text in ("-k", "--key", "-t", "--token") and k + 1 < len(argv):
            value = argv[k + 1]
            host, ref = value.host_ref(0)
            l, c = word.loc(0, text)
            var = reader.env(text, l, c, value.text, scope="agent", owner=owner, host_ref=host, ref=ref)
            var.agent, var.agent_ref = agent.type, agent.ref
            k += 2
            continue
        elif text.startswith(("--key=", "--token=")):
            opt, _, raw = text.partition("=")
            host, ref = word.host_ref(len(opt) + 1)
            l, c = word.loc(0, opt)
            var = reader.env(opt, l, c, raw, scope="agent", owner=owner, host_ref=host, ref=ref)
            var.agent, var.agent_ref = agent.type, agent.ref
        k += 1
    if action == "start":
        reader.bind(agent, env, links)
    return agent


def _label(agent: Agent, word: Word, start: int) -> None:
    """A --label: kept when it is a literal (a label set by a variable or template is unknown)."""
    label = word.text[start:]
    if not word.host_ref(start)[0] and "__credlint_tpl__" not in label and label and not secretish(label):
        agent.labels.append(label)


def _agent_env(reader: Reader, agent: Agent, word: Word, start: int, owner: str) -> None:
    """One `--env K=V` of an agent command: forwarded to every flow run."""
    text = word.text[start:]
    name, eq, raw = text.partition("=")
    line, col = word.loc(start, name)
    if not eq:
        shown = name if NAME.match(name) and not looks_like_credential(name) else "option"
        reader.problem(line, f"--env {shown} has no '=VALUE': the agent CLI fails on it "
                             "(Prefect splits each --env at '=')")
        var = reader.env(name, line, col, None, scope="forwarded", owner=owner)
    else:
        host, ref = word.host_ref(start + len(name) + 1)
        var = reader.env(name, line, col, raw, scope="forwarded", owner=owner, host_ref=host, ref=ref,
                         value_loc=lambda o, t: word.loc(start + len(name) + 1 + o, t))
    var.agent, var.agent_ref = agent.type, agent.ref
    agent.forwards.append(var)
