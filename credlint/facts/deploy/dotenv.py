""".env files: `NAME=value` lines as docker compose and python-dotenv read them (quotes, `export`, comments)."""
from __future__ import annotations

import re
from typing import List

from credlint.facts.deploy.core import Reader
from credlint.facts.deploy.lexer import host_spans
from credlint.facts.deploy.positions import LineSrc


def read_dotenv(reader: Reader, text: str) -> None:
    """A `.env` file: every `NAME=value` line, scope "process"."""
    src = LineSrc(text)
    i, n = 0, len(text)
    while i < n:
        j = text.find("\n", i)
        end = n if j < 0 else j
        line = text[i:end]
        stripped = line.lstrip()
        base = i + (len(line) - len(stripped))
        if not stripped or stripped.startswith("#"):
            i = end + 1
            continue
        if stripped.startswith("export ") or stripped.startswith("export\t"):
            rest = stripped[7:].lstrip()
            base += len(stripped) - len(rest)
            stripped = rest
        k = 0
        while k < len(stripped) and stripped[k] not in "=\n" and not stripped[k].isspace():
            k += 1
        name = stripped[:k]
        after = stripped[k:].lstrip(" \t")
        line_no, col = src.locate(base, name)
        if not name or not re.match(r"^[A-Za-z_][\w.\-]*$", name):
            i = end + 1
            continue
        if not after.startswith("="):
            reader.env(name, line_no, col, None, scope="process", owner=".env")
            i = end + 1
            continue
        vstart = base + k + (len(stripped[k:]) - len(after)) + 1
        while vstart < n and text[vstart] in " \t":
            vstart += 1
        quote = text[vstart] if vstart < n else ""
        if quote in ("'", '"'):
            m = vstart + 1
            chars: List[str] = []
            while m < n and text[m] != quote:
                if quote == '"' and text[m] == "\\" and m + 1 < n:
                    esc = text[m + 1]
                    chars.append({"n": "\n", "t": "\t", "r": "\r"}.get(esc, esc))
                    m += 2
                    continue
                chars.append(text[m])
                m += 1
            raw = "".join(chars)
            close = text.find("\n", m)
            i = n if close < 0 else close + 1
            spans = host_spans(raw, "dollar") if quote == '"' else []
        else:
            raw = text[vstart:end]
            cut = re.search(r"\s#", raw)
            if cut:
                raw = raw[:cut.start()]
            raw = raw.strip()
            i = end + 1
            spans = host_spans(raw, "dollar")
        reader.env(name, line_no, col, raw, scope="process", owner=".env", host_ref=bool(spans),
                   ref=spans[0][2] if spans else None)
