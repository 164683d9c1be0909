"""`credlint blocks`: the workspace's block documents, by type slug and name, as the config's
`blocks = [...]` list — printed, or written into the project's configuration.

Names only: the workspace is read through prefect_api (include_secrets false, values dropped as
they are parsed). `--write` replaces the `blocks` key of the configuration file, or adds it, and
keeps every other byte of the file; the result is parsed again and must differ from the old file
in that key alone, or nothing is written.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import List, Optional, TextIO, Tuple

from credlint.config import ConfigError, block_ref, find_config_file, find_root
from credlint.errors import UsageError
from credlint.tomlcompat import TOMLDecodeError, toml
from credlint.tools.prefect_api import PrefectAPI, require_connection

KEY = "blocks"
ONE_LINE = 100  # longer lists are written one entry a line
_HEADER = re.compile(r"\s*\[")
_TABLE = re.compile(r"\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")


def workspace_blocks() -> Tuple[str, List[str], int]:
    """(the API's shown URL, sorted "slug/name" of every named block document, how many were left
    out because the config could not hold their names: documents saved before Prefect checked them)."""
    connection = require_connection()
    refs = {d.ref for d in PrefectAPI(connection).block_documents()}
    kept = sorted(ref for ref in refs if block_ref(ref) is not None)
    return connection.shown, kept, len(refs) - len(kept)


def run_blocks(start: Path, write: bool, config_file: Optional[str], fmt: str, out: TextIO, err: TextIO) -> int:
    """`credlint blocks`: print the list (toml or json), or --write it into the configuration."""
    from credlint.reporters.text import safe

    url, refs, odd = workspace_blocks()
    if odd:
        print(f"credlint: left out {odd} block(s) whose type or name is not lowercase letters, digits and dashes "
              "(the shape Prefect gives them now, and the only one `blocks` takes)", file=err)
    if write:
        path, changed = write_blocks(start, refs, config_file)
        done = "set `blocks` in" if changed else "`blocks` is up to date in"
        shown = os.path.relpath(path) if path.resolve().is_relative_to(Path.cwd().resolve()) else str(path)
        print(f"credlint: {done} {safe(shown)}: {len(refs)} block(s) of {safe(url)}", file=err)
        return 0
    if fmt == "json":
        rows = [{"block": ref, "slug": ref.split("/", 1)[0], "name": ref.split("/", 1)[1]} for ref in refs]
        out.write(json.dumps(rows, indent=2) + "\n")
    else:
        out.write(toml_line(refs) + "\n")  # JSON-quoted names: nothing in them can act on a terminal
    print(f"credlint: {len(refs)} block(s) in the workspace at {safe(url)}", file=err)
    return 0


def toml_value(refs: List[str], newline: str = "\n") -> str:
    items = [json.dumps(ref) for ref in refs]  # names are [a-z0-9-]; json quoting is TOML quoting for them
    line = "[" + ", ".join(items) + "]"
    if len(line) + len(KEY) + 3 <= ONE_LINE or not items:
        return line
    return "[" + newline + "".join(f"    {item},{newline}" for item in items) + "]"


def toml_line(refs: List[str]) -> str:
    return f"{KEY} = {toml_value(refs)}"


# --------------------------------------------------------------------------------------------
# Writing into a configuration file
# --------------------------------------------------------------------------------------------


def _value_end(text: str, start: int) -> int:
    """Index just past the TOML value (a string, an array, or a bare word) that begins at `start`."""
    i, depth = start, 0
    while i < len(text):
        char = text[i]
        if char in "\"'":
            quote = text[i:i + 3] if text[i:i + 3] in ('"""', "'''") else char
            i += len(quote)
            while i < len(text) and not text.startswith(quote, i):
                i += 2 if (quote[0] == '"' and text[i] == "\\") else 1
            i += len(quote)
            if depth == 0:
                return i
            continue
        if char == "#" and depth:
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                return i + 1
        elif depth == 0 and char in "\r\n#":
            return len(text[:i].rstrip(" \t")) if char == "#" else i
        i += 1
    return i


def _section(lines: List[str], table: Optional[str]) -> Tuple[int, int]:
    """(first, end) line indexes of the keys of `table` (None: the top level) in a TOML file,
    comments and blank lines included; (-1, -1) when the table has no header."""
    start = 0 if table is None else -1
    for number, line in enumerate(lines):
        match = _TABLE.match(line)
        if not match and not _HEADER.match(line):
            continue
        if start >= 0:
            return start, number
        name = match.group(1).replace(" ", "") if match else None
        if table is not None and name == table:
            start = number + 1
    return (start, len(lines)) if start >= 0 else (-1, -1)


def rewrite(text: str, table: Optional[str], refs: List[str]) -> str:
    """`text` with `blocks` in `table` set to refs: the key's value replaced where it is, else a
    new line after the table's last key (a new `[table]` at the end when it has none)."""
    newline = "\r\n" if "\r\n" in text else "\n"
    value = toml_value(refs, newline)
    lines = text.splitlines(keepends=True)
    first, end = _section(lines, table)
    key_line = re.compile(r"\s*(" + KEY + r"|\"" + KEY + r"\"|'" + KEY + r"')\s*=\s*")
    if first >= 0:
        offset = sum(len(line) for line in lines[:first])
        for number in range(first, end):
            match = key_line.match(lines[number])
            if match:
                start = offset + match.end()
                return text[:start] + value + text[_value_end(text, start):]
            offset += len(lines[number])
        last = max((n for n in range(first, end) if lines[n].strip() and not lines[n].lstrip().startswith("#")),
                   default=first - 1)
        head = "".join(lines[:last + 1])
        if head and not head.endswith(("\n", "\r")):
            head += newline
        return head + f"{KEY} = {value}{newline}" + "".join(lines[last + 1:])
    tail = text if not text or text.endswith(("\n", "\r")) else text + newline
    return tail + (newline if tail.strip() else "") + f"[{table}]{newline}{KEY} = {value}{newline}"


def _section_of(data: dict, table: Optional[str]) -> dict:
    for part in (table.split(".") if table else ()):
        data = data.get(part, {}) if isinstance(data, dict) else {}
    return data if isinstance(data, dict) else {}


def _same_but_blocks(before: dict, after: dict, table: Optional[str], refs: List[str]) -> bool:
    new_section = _section_of(after, table)
    if new_section.get(KEY) != refs:
        return False
    old, new = json.loads(json.dumps(before, default=str)), json.loads(json.dumps(after, default=str))
    for data in (old, new):
        section = _section_of(data, table)
        section.pop(KEY, None)
    return old == new


def write_blocks(start: Path, refs: List[str], config_file: Optional[str] = None) -> Tuple[Path, bool]:
    """Set `blocks` in the project's configuration (credlint.toml created when it has none):
    (the file, whether it changed). UsageError when the file cannot be rewritten safely."""
    if config_file:
        path = Path(config_file)
        if not path.is_file():
            raise ConfigError(str(path), 1, "--config", "no such file")
        table = "tool.credlint" if path.name == "pyproject.toml" else None
    else:
        found = find_config_file(find_root(start))
        path, table = found if found is not None else (find_root(start) / "credlint.toml", None)
    try:
        text = path.read_bytes().decode("utf-8") if path.exists() else ""
        before = toml.loads(text)
    except (OSError, UnicodeDecodeError, TOMLDecodeError) as exc:
        raise UsageError(f"cannot update {path}: it is not readable TOML ({type(exc).__name__})") from None
    new_text = rewrite(text, table, refs)
    if new_text == text:
        return path, False
    try:
        after = toml.loads(new_text)
    except TOMLDecodeError:
        after = None
    if after is None or not _same_but_blocks(before, after, table, refs):
        raise UsageError(f"cannot update `{KEY}` in {path} safely (its layout is unusual): set it by hand to the "
                         "list `credlint blocks` prints")
    try:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(new_text)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or type(exc).__name__}") from None
    return path, True
