"""Where a suppression comment can go in a file, and the edit that puts it there.

`# credlint: ignore[CODE]` silences a finding on its own line; `# credlint: ignore-next-line[CODE]`
on the line before does the same (`credlint.facts.suppressions`). Which of the two an edit may use
depends on the file's language, because a `#` that is not a comment changes what the file means:

- Python, YAML, TOML, shell and Terraform take a comment at the end of a line, unless the line
  ends inside a multi-line string or continues on the next one (a trailing `\\`): then the
  comment goes on a line of its own before it;
- Dockerfiles, `.env` files, Makefiles and INI-style files (`.ini`, `.cfg`, `.conf`,
  `.properties`, `.pypirc`, AWS `credentials`) only take whole-line comments: Docker and most
  `.env` readers keep an inline `#` in the value, Make keeps the spaces before it, and
  configparser reads it as part of the value. The comment goes on the line before;
- JSON, notebooks, Markdown, plain text and key files take no comment at all: nothing is offered.

A comment already there is extended rather than doubled: `ignore[CL201]` becomes
`ignore[CL201, CL203]`.
"""
from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Dict, List, Optional, Set, Tuple

from credlint.tools.lsp.positions import text_lines

PYTHON = "python"
END_OF_LINE = "end-of-line"
LINE_BEFORE = "line-before"

_END_OF_LINE_SUFFIXES = (".yml", ".yaml", ".toml", ".sh", ".bash", ".zsh", ".tf", ".tfvars")
_LINE_BEFORE_SUFFIXES = (".dockerfile", ".env", ".mk", ".ini", ".cfg", ".conf", ".properties", ".pypirc", ".s3cfg",
                         ".boto", ".npmrc")
_LINE_BEFORE_NAMES = ("Makefile", "makefile", "GNUmakefile", "credentials")

# A line-scope credlint comment (not -next-line or -file), with or without its codes.
_LINE_IGNORE = re.compile(r"credlint\s*:\s*ignore(?![-\w])(?P<codes>\[(?P<inside>[^\]]*)\])?", re.IGNORECASE)
_NEXT_LINE_IGNORE = re.compile(r"credlint\s*:\s*ignore-next-line\b(?P<codes>\[(?P<inside>[^\]]*)\])?",
                               re.IGNORECASE)


@dataclass
class LineEdit:
    """Replace characters [start, end) of line `line` (1-based; 0-based characters) by `text`."""

    line: int
    start: int
    end: int
    text: str


def comment_style(path: str, text: str = "") -> Optional[str]:
    """How a file of this name takes a suppression comment; None: it takes none."""
    name = PurePosixPath(path.replace("\\", "/")).name
    lower = name.lower()
    if lower.endswith((".py", ".pyi")):
        return PYTHON
    if lower.startswith(("dockerfile", "containerfile")) or lower.startswith(".env") \
            or name in _LINE_BEFORE_NAMES or lower.endswith(_LINE_BEFORE_SUFFIXES):
        return LINE_BEFORE
    if lower.endswith(_END_OF_LINE_SUFFIXES):
        return END_OF_LINE
    if "." not in name and text.startswith("#!"):  # a script without a suffix
        return END_OF_LINE
    return None


def suppression_edit(path: str, text: str, line: int, code: str) -> Optional[LineEdit]:
    """The edit that silences `code` on `line` (1-based) of this buffer, or None when the file
    takes no comment there."""
    style = comment_style(path, text)
    if style is None:
        return None
    lines = text_lines(text)
    if not 1 <= line <= len(lines):
        return None
    code = code.upper()
    newline = "\r\n" if "\r\n" in text else "\n"
    if style == PYTHON:
        layout = _python_layout(text)
    else:
        layout = _text_layout(lines)
    comments, open_ends = layout
    if style != LINE_BEFORE:
        existing = comments.get(line)
        if existing is not None:
            merged = _merge(_LINE_IGNORE, lines[line - 1], existing, code, line)
            if merged is not None:
                return merged
        if line not in open_ends:
            body = lines[line - 1]
            end = len(body.rstrip())
            return LineEdit(line, end, len(body), f"  # credlint: ignore[{code}]")
    # On a line of its own, before the finding's line.
    if line > 1:
        before = comments.get(line - 1)
        if before is not None and not lines[line - 2][:before].strip():
            merged = _merge(_NEXT_LINE_IGNORE, lines[line - 2], before, code, line - 1)
            if merged is not None:
                return merged
        if line - 1 in open_ends:
            return None  # the finding's line starts inside a string or a continued line
    indent = ""
    if style != LINE_BEFORE:  # Python and YAML care about indentation; INI files would read it as a continuation
        body = lines[line - 1]
        indent = body[:len(body) - len(body.lstrip())]
    return LineEdit(line, 0, 0, f"{indent}# credlint: ignore-next-line[{code}]{newline}")


def _merge(pattern, body: str, comment_start: int, code: str, line: int) -> Optional[LineEdit]:
    """Add `code` to the credlint comment of this pattern in the comment that starts at
    `comment_start` of `body` (line `line`); None if there is none."""
    match = pattern.search(body, comment_start)
    if match is None:
        return None
    if match.group("codes") is None:  # a bare ignore (itself a CL001): give it its code
        return LineEdit(line, match.end(), match.end(), f"[{code}]")
    inside = match.group("inside")
    codes = [c.strip().upper() for c in re.split(r"[\s,]+", inside) if c.strip()]
    if code in codes:
        return None
    end = match.end("inside")
    return LineEdit(line, end, end, f", {code}" if codes else code)


def _python_layout(text: str) -> Tuple[Dict[int, int], Set[int]]:
    """Where each line's comment starts (line -> character), and the lines whose end is not a
    place for a comment: inside a multi-line string, or continued by a backslash. A buffer that
    stops tokenizing (half-typed code) is read up to where it stops."""
    comments: Dict[int, int] = {}
    open_ends: Set[int] = set()
    inside: Set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                comments[token.start[0]] = token.start[1]
            elif token.start[0] < token.end[0] and token.type not in (tokenize.NL, tokenize.NEWLINE):
                inside.update(range(token.start[0], token.end[0]))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    open_ends |= inside
    for number, body in enumerate(text_lines(text), 1):
        if number not in comments and number not in inside and body.rstrip().endswith("\\"):
            open_ends.add(number)
    return comments, open_ends


def _text_layout(lines: List[str]) -> Tuple[Dict[int, int], Set[int]]:
    """The same for files that are not Python: a comment is a `#` at the start of a line or after
    a blank, outside quotes; a line ends open inside a TOML multi-line string or before a
    backslash continuation."""
    comments: Dict[int, int] = {}
    open_ends: Set[int] = set()
    in_multiline: Optional[str] = None
    for number, body in enumerate(lines, 1):
        index, quote = 0, None
        while index < len(body):
            if in_multiline is not None:
                found = body.find(in_multiline, index)
                if found < 0:
                    index = len(body)
                    break
                index, in_multiline = found + 3, None
                continue
            char = body[index]
            if quote is not None:
                if char == "\\" and quote == '"':
                    index += 2
                    continue
                if char == quote:
                    quote = None
            elif body.startswith(('"""', "'''"), index):
                in_multiline = body[index:index + 3]
                index += 3
                continue
            elif char in "\"'":
                quote = char
            elif char == "#" and (index == 0 or body[index - 1] in " \t"):
                comments[number] = index
                break
            index += 1
        if in_multiline is not None or (number not in comments and body.rstrip().endswith("\\")):
            open_ends.add(number)
    return comments, open_ends

