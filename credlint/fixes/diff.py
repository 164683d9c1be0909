"""What `--fix` would change, as a unified diff with values masked as reports mask them.

A diff shows lines around each change, and the lines a fix removes are the very ones that held
a hard-coded value. Every line shown is masked by role, never by content: in Python every string
literal's body, comment and number is masked except the variable and secret names the fixes
rename or remove; in deployment files each line goes through `configmask`, as report snippets do.
"""
from __future__ import annotations

import difflib
import io
import re
import tokenize
from typing import Dict, Iterable, List, Tuple

from credlint.findings.configmask import MASK, mask_config_line
from credlint.fixes import Edit

_PREFIX = re.compile("[rRbBuUfF]{0,2}(?:'''|\"\"\"|'|\")")


def mask_python_text(text: str, names: Iterable[str] = ()) -> str:
    """The whole file with every string body, comment and number masked (line by line, so lines
    keep their numbers), except string literals that are exactly one of `names`. A file that
    does not tokenize is masked entirely."""
    shown = set(names)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return "\n".join(MASK if line.strip() else line for line in text.split("\n"))
    starts, at = [0], 0
    for part in text.split("\n"):
        at += len(part) + 1
        starts.append(at)
    edits = []
    for token in tokens:
        begin = starts[token.start[0] - 1] + token.start[1]
        stop = starts[token.end[0] - 1] + token.end[1]
        if token.type == tokenize.COMMENT:
            edits.append((begin, stop, "# " + MASK))
        elif token.type == tokenize.NUMBER:
            edits.append((begin, stop, MASK))
        elif token.type == tokenize.STRING or token.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
            literal = token.string
            opening = _PREFIX.match(literal) if token.type == tokenize.STRING else None
            head = opening.group(0) if opening else ""
            tail = head.lstrip("rRbBuUfF") if opening else ""
            body = literal[len(head):len(literal) - len(tail)] if opening else literal
            if body in shown or not body:
                continue
            masked = "\n".join(MASK for _ in body.split("\n"))
            edits.append((begin + len(head), stop - len(tail), masked))
    for begin, stop, replacement in sorted(edits, reverse=True):
        text = text[:begin] + replacement + text[stop:]
    return text


def _mask_config(line: str, references: List[str]) -> str:
    """A deployment-file line masked; a reference a fix wrote into it (names only) stays visible."""
    for reference in references:
        before, found, after = line.partition(reference)
        if found:
            return mask_config_line(before) + reference + (mask_config_line(after) if after.strip() else after)
    return mask_config_line(line)


def _lines(text: str) -> List[str]:
    """Lines as findings count them (ending at \\n only), without the empty one after the last \\n."""
    lines = text.split("\n")
    return lines[:-1] if text.endswith("\n") else lines


def masked_diff(fixed: Dict[str, Tuple[str, str, List[Edit]]]) -> str:
    """The unified diff of every fixed file (path -> old text, new text, edits), masked."""
    out: List[str] = []
    for path, (old, new, edits) in sorted(fixed.items()):
        names = {name for edit in edits for name in edit.names}
        references = [edit.text for edit in edits if edit.shown and edit.text]
        python = path.endswith((".py", ".pyi"))
        if python:
            old, new = mask_python_text(old, names), mask_python_text(new, names)
        for line in difflib.unified_diff(_lines(old), _lines(new), f"a/{path}", f"b/{path}", lineterm=""):
            if line.startswith(("---", "+++", "@@")):
                out.append(line)
                continue
            mark, text = line[:1], line[1:].rstrip("\r")
            out.append(mark + (text if python else _mask_config(text, references if mark == "+" else ())))
    return "\n".join(out) + ("\n" if out else "")
