"""Shell words: a small POSIX lexer for the shell text of deployment files.

Quotes, escapes, `$...` substitutions, continuation lines and heredocs are read as a shell reads
them, and every character of a word keeps its source offset (which `shlex` cannot), so a name is
reported where it is written. `host_spans` marks what the tool that reads a text (compose, a CI
runner, make, Kubernetes, supervisord, cmd.exe) substitutes in it before the program sees it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from credlint.facts.deploy.positions import Src


@dataclass
class Word:
    """A shell word: its text with quotes removed, the source offset of each character, and the
    substitutions in it (`$VAR`, `${{ secrets.X }}`), which make a value a reference."""

    text: str
    offsets: List[int]
    src: Src
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


def _lex_word(src: str, i: int, srcobj: Src, dollar: bool) -> Tuple[Word, int]:
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
    return Word("".join(text), offs, srcobj, subst, quoted), i


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


def lex(text: str, srcobj: Src, dollar: bool = True) -> List[object]:
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


# Words that open or close a compound command, skipped before a command's name.
RESERVED = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "time",
            "esac"}
# Commands that start nothing and set nothing (output, tests, loop headers).
SKIP_COMMANDS = {"for", "case", "select", "function", "echo", "printf", "#", ":", "true", "false",
                 "cat", "grep", "test", "[", "[["}


def simple_commands(toks: List[object]) -> List[List[Word]]:
    """The words of each simple command of a token list (split at operators; redirection targets left out)."""
    cmds: List[List[Word]] = []
    cur: List[Word] = []
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


# A shell variable name.
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def is_assignment(word: Word) -> bool:
    """An unquoted `NAME=value` word: an assignment, not a command's argument."""
    if word.quoted:
        return False
    eq = word.text.find("=")
    return eq > 0 and bool(NAME.match(word.text[:eq]))


def host_spans(text: str, host: str) -> List[Tuple[int, int, Optional[str]]]:
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
