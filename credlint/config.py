"""Configuration: `[tool.credlint]` in pyproject.toml, or credlint.toml / .credlint.toml.

Every key is validated; a mistake is a ConfigError that names the file, the line and the key,
which the command line turns into exit code 2.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from credlint.links import valid_docs_url
from credlint.tomlcompat import TOMLDecodeError, toml

CONFIG_FILES = ("credlint.toml", ".credlint.toml", "pyproject.toml")
ROOT_MARKERS = ("pyproject.toml", "credlint.toml", ".credlint.toml", ".git")
FAMILIES = ("aws", "gcp", "azure", "github", "gitlab", "bitbucket", "kubernetes")


class ConfigError(Exception):
    """A configuration problem, always with a place: file, line and key."""

    def __init__(self, path: str, line: int, key: str, message: str):
        super().__init__(f"{path}:{line}: {key}: {message}")
        self.path, self.line, self.key, self.message = path, line, key, message


@dataclass
class Config:
    path: Optional[str] = None  # the file it came from, if any
    backend: str = "cloud"
    prefect: str = "auto"  # which Prefect Python files are read under: auto (per file, from its imports), 1, 2, 3
    cloud_secrets: Optional[List[str]] = None  # None: no inventory configured
    blocks: Optional[List[str]] = None  # Prefect 2.x/3.x: the workspace's blocks, "slug/name"; None: no list
    allow_fallback: List[str] = field(default_factory=list)
    select: List[str] = field(default_factory=list)
    ignore: List[str] = field(default_factory=list)
    per_file_ignores: Dict[str, List[str]] = field(default_factory=dict)
    exclude: List[str] = field(default_factory=list)
    extend_exclude: List[str] = field(default_factory=list)
    sources: List[str] = field(default_factory=list)
    rules: List[str] = field(default_factory=list)
    fail_on: str = "error"
    docs_url: Optional[str] = None  # where rule pages are linked from JSON `url` and SARIF `helpUri`
    lines: Dict[str, int] = field(default_factory=dict)  # key -> line in the file, for errors

    def error(self, key: str, message: str) -> "ConfigError":
        return ConfigError(self.path or "configuration", self.lines.get(key, 1), key, message)


# key -> (attribute, type description, validator)
def _str_list(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


# A block document's type slug and name, as Prefect 2.x/3.x accept them (prefect/types/names.py:
# BlockDocumentName and BlockTypeSlug, lowercase letters, numbers and dashes).
_BLOCK_REF = re.compile(r"([a-z0-9-]+)/([a-z0-9-]+)\Z")


def block_ref(text: str) -> Optional[Tuple[str, str]]:
    """("aws-credentials", "prod") for "aws-credentials/prod"; None for any other shape."""
    match = _BLOCK_REF.match(text) if isinstance(text, str) else None
    return (match.group(1), match.group(2)) if match else None


_KEYS = {
    "backend": ("backend", 'one of "cloud", "server"', lambda v: v in ("cloud", "server")),
    "prefect": ("prefect", 'one of "auto", "1", "2", "3" (a string)', lambda v: v in ("auto", "1", "2", "3")),
    "cloud-secrets": ("cloud_secrets", "a list of secret names", _str_list),
    "blocks": ("blocks", 'a list of "slug/name" strings of lowercase letters, digits and dashes (e.g. '
                         '"aws-credentials/prod"; `credlint blocks` prints it)',
               lambda v: _str_list(v) and all(block_ref(x) is not None for x in v)),
    "allow-fallback": (
        "allow_fallback",
        "a list of families (" + ", ".join(FAMILIES) + ")",
        lambda v: _str_list(v) and all(x in FAMILIES for x in v),
    ),
    "select": ("select", "a list of rule codes, prefixes or names", _str_list),
    "ignore": ("ignore", "a list of rule codes, prefixes or names", _str_list),
    "per-file-ignores": (
        "per_file_ignores",
        "a table of glob = [codes]",
        lambda v: isinstance(v, dict) and all(isinstance(k, str) and _str_list(x) for k, x in v.items()),
    ),
    "exclude": ("exclude", "a list of globs", _str_list),
    "extend-exclude": ("extend_exclude", "a list of globs", _str_list),
    "sources": ("sources", "a list of globs", _str_list),
    "rules": ("rules", "a list of directories", _str_list),
    "fail-on": ("fail_on", 'one of "warning", "error"', lambda v: v in ("warning", "error")),
    "docs-url": (
        "docs_url",
        "an http(s) URL of the rules page (the rule's anchor is added), or a template with {code} and {name}",
        valid_docs_url,
    ),
}


def _key_line(text: str, key: str, table: Optional[str]) -> int:
    """Best line for a key: inside `table` when given (TOML has no positions in the stdlib)."""
    lines = text.splitlines()
    start = 0
    if table:
        header = re.compile(r"^\s*\[\s*" + re.escape(table).replace(r"\.", r"\s*\.\s*") + r"\s*\]\s*(#.*)?$")
        for number, line in enumerate(lines):
            if header.match(line):
                start = number
                break
    pattern = re.compile(r"^\s*[\"']?" + re.escape(key) + r"[\"']?\s*=")
    prefix = (re.escape(table) + r"\s*\.\s*") if table else ""
    as_table = re.compile(r"^\s*\[\s*" + prefix + r"[\"']?" + re.escape(key) + r"[\"']?\s*\]")
    for number in range(start, len(lines)):
        if pattern.match(lines[number]) or as_table.match(lines[number]):
            return number + 1
    return start + 1


def glob_matcher(globs: Sequence[str]) -> Callable[[str], bool]:
    """rel -> whether one of the globs (fnmatch syntax, as `sources` takes them) matches it,
    compiled once: it is asked for every file of the project."""
    if not globs:
        return lambda rel: False
    import fnmatch

    match = re.compile("|".join(fnmatch.translate(g) for g in globs)).match
    return lambda rel: match(rel) is not None


def find_root(start: Path) -> Path:
    """The project root: the nearest folder with pyproject.toml, credlint.toml or .git."""
    start = start.resolve()
    current = start if start.is_dir() else start.parent
    for folder in [current, *current.parents]:
        if any((folder / marker).exists() for marker in ROOT_MARKERS):
            return folder
    return current


def find_config_file(root: Path) -> Optional[Tuple[Path, Optional[str]]]:
    for name in CONFIG_FILES:
        candidate = root / name
        if not candidate.is_file():
            continue
        if name == "pyproject.toml":
            try:
                data = toml.loads(candidate.read_text(encoding="utf-8"))
            except (TOMLDecodeError, UnicodeDecodeError, OSError):
                # A broken pyproject.toml is only our business if it configures credlint.
                if "[tool.credlint" in candidate.read_text(encoding="utf-8", errors="replace"):
                    return candidate, "tool.credlint"
                continue
            if "credlint" not in data.get("tool", {}):
                continue
            return candidate, "tool.credlint"
        return candidate, None
    return None


def load_config(path: Path, table: Optional[str] = None, display: Optional[str] = None) -> Config:
    shown = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(shown, 1, "-", f"cannot read the file ({exc})") from exc
    try:
        data = toml.loads(text)
    except TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_from_message(str(exc))
        raise ConfigError(shown, line, "-", f"invalid TOML: {exc}") from exc
    if table is None and path.name == "pyproject.toml":
        table = "tool.credlint"
    section = data
    if table:
        for part in table.split("."):
            section = section.get(part, {}) if isinstance(section, dict) else {}
        if not isinstance(section, dict):
            raise ConfigError(shown, _key_line(text, "credlint", None), table, "must be a table")
    return config_from_mapping(section, shown, text, table)


def _line_from_message(message: str) -> int:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else 1


def config_from_mapping(section: dict, shown: str, text: str = "", table: Optional[str] = None) -> Config:
    config = Config(path=shown)
    for key, value in section.items():
        spec = _KEYS.get(key)
        line = _key_line(text, key, table) if text else 1
        if spec is None:
            hint = ""
            close = [k for k in _KEYS if k.replace("-", "_") == key or k.replace("-", "") == key.replace("_", "")]
            if close:
                hint = f" (did you mean {close[0]!r}?)"
            raise ConfigError(shown, line, key, f"unknown key{hint}; known keys: {', '.join(sorted(_KEYS))}")
        attribute, described, valid = spec
        config.lines[key] = line
        if not valid(value):
            raise ConfigError(shown, line, key, f"must be {described}, not {value!r}")
        setattr(config, attribute, list(value) if isinstance(value, list) else value)
    return config


def discover_config(root: Path, explicit: Optional[Path] = None) -> Config:
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(str(explicit), 1, "--config", "no such file")
        return load_config(explicit, "tool.credlint" if explicit.name == "pyproject.toml" else None)
    found = find_config_file(root)
    if found is None:
        return Config()
    path, table = found
    try:
        display = path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        display = str(path)
    return load_config(path, table, display)


def settings_with_sources(config: Config, flags: Dict[str, str]) -> List[Tuple[str, object, str]]:
    """(key, resolved value, where it came from) for every setting, for `--show-settings`.

    `flags` maps a key to the command-line flag that set it; otherwise a key written in the
    configuration file is shown with its path and line, and any other as the default."""
    out: List[Tuple[str, object, str]] = []
    for key, (attribute, _described, _valid) in sorted(_KEYS.items()):
        if key in flags and flags[key].startswith("--extend") and key in config.lines:
            source = f"{config.path}:{config.lines[key]} + command line ({flags[key]})"
        elif key in flags:
            source = f"command line ({flags[key]})"
        elif key in config.lines:
            source = f"{config.path}:{config.lines[key]}"
        else:
            source = "default"
        out.append((key, getattr(config, attribute), source))
    return out
