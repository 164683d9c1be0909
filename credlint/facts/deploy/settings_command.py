"""`prefect config set NAME=VALUE ...`: Prefect 2.x/3.x settings written into the active profile
from a script or a CI job (`PREFECT_API_KEY=...`), each recorded as an assignment of scope
"shell" (it sets no environment, but a literal there is still a hard-coded value)."""
from __future__ import annotations

from typing import List

from credlint.facts.deploy.core import Reader
from credlint.facts.deploy.lexer import NAME, Word
from credlint.prefect.deployments import CONFIG_SET_COMMAND


def read_config_set(reader: Reader, argv: List[Word], owner: str) -> bool:
    """True when argv is `prefect config set ...` (its assignments are then recorded)."""
    size = len(CONFIG_SET_COMMAND)
    head = tuple([argv[0].text.rsplit("/", 1)[-1]] + [w.text for w in argv[1:size]]) if argv else ()
    if head != CONFIG_SET_COMMAND:
        return False
    for word in argv[size:]:
        name, eq, _value = word.text.partition("=")
        if eq and NAME.match(name):  # quoted or not: the command splits it on "=" itself
            reader.assignment(word, "shell", owner)
    return True
