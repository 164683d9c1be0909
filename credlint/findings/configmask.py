"""Masking a line of a deployment file (shell, Makefile, .env, Dockerfile, YAML, TOML) for a snippet.

A report shows the line a finding is on so that the reader sees *which* variable it is about,
never what it is set to. The line is cut into shell-like words (quotes kept inside their word)
and each word is shown or masked by its role alone, never by its content, so the masked line,
and the fingerprint made from it, is the same whatever the values are:

- an assignment `NAME=value` (also `NAME:=`, `NAME?=`, `NAME+=`, `--opt=value`) shows `NAME=`
  and masks the value, so `export A=x B=y` shows both names;
- a YAML `key: value` or TOML `key = value` at the start of the line masks the rest of the line,
  unless the finding lies beyond the key (`command: prefect agent start --env A=x`), which is
  then read as a command;
- option flags (`-e`, `--env`) are shown; the word after an option is masked (`-p value`,
  `--key value`), except the names and labels after `-e`, `--env`, `--label`, `-l`; a short
  option with more after its letter (`-pVALUE`, as mysql takes a password) shows its letter only;
- before a command's first assignment, words of a small command vocabulary (`export`, `ENV`,
  `docker run`, `prefect agent ... start`) are shown (a command starts the line or follows
  `&&`, `||`, `;` or `|`); every other word is masked;
- the reported word itself is shown when it is a plain name (deployment findings point at the
  variable's name; a credential format found in the line was masked before this runs);
- masks side by side merge into one, so the number of words in a value does not show.
"""
from __future__ import annotations

import re
from typing import List, Optional, Tuple

MASK = "********"

_WORD = re.compile(r"""(?:"(?:[^"\\]|\\.)*"?|'[^']*'?|\\.|[^\s"'\\])+""")
_ASSIGNMENT = re.compile(r"""^(?P<keep>["']?(?:--?)?[A-Za-z_][\w.\-]*(?:::|[:?+!])?=)""")
_OPTION = re.compile(r"^--?[A-Za-z][\w\-]*$")
_OPERATOR = {"=", ":=", "::=", "?=", "+=", "!="}
_PLAIN_NAME = re.compile(r"""^["']?[A-Za-z_][\w.\-]*["']?[,:]?$""")
_YAML_KEY = re.compile(r"""^(?P<keep>\s*(?:-\s+)*(?:"[^"]*"|'[^']*'|[^\s#:="'][^:=#]*?):)(?=\s|$)""")
_TOML_KEY = re.compile(r"""^(?P<keep>\s*(?:"[^"]*"|'[^']*'|[\w.\-]+)(?:\s+=|\s*=(?=\s)))""")
_NAMES_AFTER = {"-e", "--env", "--label", "-l"}
_SEPARATORS = {"&&", "||", ";", "|"}
_RUN_OF_MASKS = re.compile(re.escape(MASK) + r"(?:[ \t]+" + re.escape(MASK) + ")+")
_PUNCTUATION = re.compile(r"^[\[\]{}(),;|&\\]+$")
_LIST_ITEM = re.compile(r"""(?:"(?:[^"\\]|\\.)*"?|'[^']*'?|[^,"'])+""")
_COMMAND_WORDS = {
    "export", "env", "set", "setenv", "declare", "readonly", "local", "unset", "ENV", "ARG", "RUN", "CMD",
    "ENTRYPOINT", "LABEL", "prefect", "agent", "docker", "kubernetes", "ecs", "vertex", "start", "install",
    "run", "exec", "compose", "docker-compose", "up", "sudo", "nohup", "sh", "bash", "python", "python3",
    "-", "&&", "||", "|", ";", "\\", "[", "]", "{", "}", "(", ")",
}


def mask_config_line(line: str, anchor: Optional[int] = None) -> str:
    """`line` with every value masked; `anchor` is the finding's 0-based column on it, if any."""
    if not line.strip():
        return line
    for pattern in (_YAML_KEY, _TOML_KEY):
        match = pattern.match(line)
        if match is None:
            continue
        keep = match.group("keep")
        rest = line[len(keep):]
        if anchor is not None and anchor >= len(keep) and rest.strip():
            return keep + _mask_words(rest, anchor - len(keep))
        return keep + (" " + MASK if rest.strip() else rest)
    return _mask_words(line, anchor)


def _mask_words(text: str, anchor: Optional[int]) -> str:
    words: List[Tuple[int, int]] = [m.span() for m in _WORD.finditer(text)]
    out: List[str] = []
    cursor = 0
    assigned = False  # seen the first assignment: bare words from here on are values
    previous = ""
    for index, (start, end) in enumerate(words):
        word = text[start:end]
        following = text[words[index + 1][0]:words[index + 1][1]] if index + 1 < len(words) else ""
        out.append(text[cursor:start])
        cursor = end
        shown, assigned = _word(word, previous, following, assigned,
                                anchor is not None and start <= anchor < end)
        out.append(shown)
        previous = word
    out.append(text[cursor:])
    # Masks side by side are one: how many words a value has is not shown either.
    return _RUN_OF_MASKS.sub(MASK, "".join(out))


def _word(word: str, previous: str, following: str, assigned: bool, is_anchor: bool) -> Tuple[str, bool]:
    """How one word is shown, and whether the line's first assignment has been seen."""
    if previous in _OPERATOR:
        return MASK, True  # `NAME = value`: the value
    if word in _SEPARATORS:
        return word, False  # a new command starts
    if _PUNCTUATION.match(word):
        return word, assigned
    match = _ASSIGNMENT.match(word)
    if match is not None:
        keep = match.group("keep")
        value = word[len(keep):]
        if keep.startswith("-") and _ASSIGNMENT.match(value):
            return keep + _word(value, "", "", True, False)[0], True  # `--env=NAME=value`
        if keep.lower() == "environment=" and value:
            return keep + ",".join(_word(item, "", "", True, False)[0]
                                   for item in _LIST_ITEM.findall(value)), True  # supervisord
        return keep + (MASK if value else ""), True
    if word in _OPERATOR:
        return word, True
    if _OPTION.match(word):
        if not word.startswith("--") and len(word) > 2:
            return word[:2] + MASK, assigned  # `-pVALUE`: a short option's value may be attached
        return word, assigned
    plain = bool(_PLAIN_NAME.match(word))
    if plain and (following in _OPERATOR or previous in _NAMES_AFTER):
        return word, assigned  # a name: `NAME = ...`, `-e NAME`, `--label NAME`
    if _OPTION.match(previous):
        return MASK, assigned  # an option's value (`-p value`, `--key value`)
    if plain and is_anchor:
        return word, assigned  # the reported variable (`- name: NAME`, `ENV NAME value`)
    if not assigned and word in _COMMAND_WORDS:
        return word, assigned
    if not assigned and plain and previous in ("ENV", "ARG"):
        return word, True  # Dockerfile `ENV NAME value`: the rest is the value
    return MASK, assigned
