"""Registry logins: a credential typed into a command line (`docker login -p VALUE`).

Which commands log in and which of their options carry the credential is `LOGIN_COMMANDS`, kept
with the other knowledge of names that hold credentials (`credlint.facts.naming`), where rules read
it too. Each such option's value is recorded as an entry named after the command and the option
(`docker login -p`), scope "shell".
"""
from __future__ import annotations

from typing import List

from credlint.facts.deploy.core import Reader
from credlint.facts.deploy.lexer import Word
from credlint.facts.deploy.positions import token_pos
from credlint.facts.naming import LOGIN_COMMANDS


def read_login(reader: Reader, argv: List[Word], owner: str) -> bool:
    """`docker login -u x -p VALUE` (or `-p=VALUE`, `--password VALUE`) and the like: the
    option's value is a credential written into the file (scope "shell": it sets no
    environment). True when argv is such a command. The attached form `-pVALUE` is not read: a
    report could not tell it from an option when it masks the line."""
    head = [argv[0].text.rsplit("/", 1)[-1]] + [w.text for w in argv[1:3]]
    options = None
    for size in (2, 3):
        options = LOGIN_COMMANDS.get(tuple(head[:size]))
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
        var = reader.env(f"{command} {option}", line, col, value.text[vstart:], scope="shell", owner=owner,
                         host_ref=host, ref=ref, value_loc=lambda o, t, w=value, v=vstart: w.loc(v + o, t))
        var.pos = token_pos(line, col, len(option))
        k += 1
    return True
