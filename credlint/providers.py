"""Secret providers read from non-Python files: a checked-in Prefect config.toml.

Prefect reads `[context.secrets]` of its user config into `prefect.context.secrets`; a project
that commits such a file provides those secrets to every run that uses it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List

from .facts import Pos
from .tomlcompat import toml
from .values import Value, digest, is_placeholder

NOT_PREFECT_CONFIG = {"pyproject.toml", "credlint.toml", ".credlint.toml", "poetry.lock", "Cargo.toml"}


@dataclass
class ConfigSecret:
    name: str
    path: str
    pos: Pos
    value: Value


_HEADER = re.compile(r"^\s*\[\s*context\s*\.\s*secrets\s*\]\s*(#.*)?$")
_TABLE = re.compile(r"^\s*\[")


def _value(raw) -> Value:
    if isinstance(raw, str):
        return Value("str", length=len(raw), digest=digest(raw), placeholder=is_placeholder(raw))
    if isinstance(raw, dict):
        return Value("dict", items={str(k): _value(v) for k, v in raw.items()})
    if isinstance(raw, bool):
        return Value("bool")
    if isinstance(raw, (int, float)):
        return Value("num")
    return Value("dynamic")


def read_config_toml(relpath: str, data: bytes) -> List[ConfigSecret]:
    """Secrets a Prefect config.toml puts into context, with the line of each key."""
    name = relpath.rsplit("/", 1)[-1]
    if name in NOT_PREFECT_CONFIG or b"secrets" not in data:
        return []
    try:
        text = data.decode("utf-8")
        doc = toml.loads(text)
    except Exception:  # noqa: BLE001 - a broken TOML file is not a Prefect config we can use
        return []
    secrets = doc.get("context", {}).get("secrets") if isinstance(doc.get("context"), dict) else None
    if not isinstance(secrets, dict):
        return []
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if _HEADER.match(line)), None)
    out: List[ConfigSecret] = []
    for key, raw in secrets.items():
        line = 1
        column = 1
        if start is not None:
            pattern = re.compile(r"^(\s*)[\"']?" + re.escape(key) + r"[\"']?\s*=")
            for number in range(start + 1, len(lines)):
                if _TABLE.match(lines[number]) and not lines[number].strip().startswith(f"[context.secrets.{key}"):
                    if number > start + 1 and not _HEADER.match(lines[number]):
                        break
                match = pattern.match(lines[number])
                if match:
                    line, column = number + 1, len(match.group(1)) + 1
                    break
        if line == 1:
            header = re.compile(r"^\s*\[\s*context\s*\.\s*secrets\s*\.\s*[\"']?" + re.escape(key))
            for number, text_line in enumerate(lines):
                if header.match(text_line):
                    line = number + 1
                    break
        out.append(ConfigSecret(name=str(key), path=relpath, pos=Pos(line, column, line, column + len(key)),
                                value=_value(raw)))
    return out
