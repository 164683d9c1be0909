"""Prefect 2.x/3.x settings files: `prefect.toml`, `[tool.prefect]` in pyproject.toml, and a
profiles file (`[profiles.NAME] PREFECT_API_KEY = ...`).

A literal credential among the settings is an entry of scope "deploy-setting" named by its key
path (`api.key`, `tool.prefect.api.key`, or the variable's name in a profile): the settings Prefect
keeps as secrets (`prefect.deployments.SECRET_SETTINGS`) and any other credential by its name or
its format. A file that does not parse is CL000.
"""
from __future__ import annotations

import posixpath
import re
from typing import Dict, Tuple

from credlint.facts.deploy.core import Reader, sanitize_message
from credlint.facts.deploy.positions import token_pos
from credlint.facts.deploy.shapes import assess, clean
from credlint.facts.deploy.toml_positions import toml_positions
from credlint.facts.deploy.types import DeployError, EnvVar
from credlint.facts.naming import is_credential_env_name
from credlint.prefect.deployments import PROFILES_TABLE, PROFILES_TOML, PYPROJECT_TABLE, secret_setting
from credlint.tomlcompat import toml


def read_prefect_settings(reader: Reader, text: str) -> None:
    """One settings file; which of the three it is comes from its name."""
    try:
        doc = toml.loads(text)
    except Exception as exc:  # noqa: BLE001 - tomllib's error
        found = re.search(r"line (\d+)(?:, column (\d+))?", str(exc))
        line = int(found.group(1)) if found else 1
        col = int(found.group(2)) if found and found.group(2) else 1
        reader.facts.errors.append(DeployError(f"does not parse as TOML ({sanitize_message(exc)})",
                                               token_pos(line, col, 1)))
        return
    settings = _Settings(reader, toml_positions(text))
    name = posixpath.basename(reader.path).lower()
    if name == PROFILES_TOML:
        profiles = doc.get(PROFILES_TABLE)
        for profile, table in (profiles.items() if isinstance(profiles, dict) else ()):
            if isinstance(table, dict):
                for key, item in table.items():
                    settings.entry((PROFILES_TABLE, profile, key), item, key, f"profile {profile}",
                                   is_credential_env_name(key))
        return
    root, prefix = doc, ()
    if name == "pyproject.toml":
        root, prefix = doc, PYPROJECT_TABLE
        for part in PYPROJECT_TABLE:
            root = root.get(part) if isinstance(root, dict) else None
    if isinstance(root, dict):
        settings.table(root, prefix, ())


class _Settings:
    """The settings of one file, with the positions of their keys."""

    def __init__(self, reader: Reader, positions: Dict[Tuple[str, ...], Tuple[int, int]]):
        self.reader = reader
        self.positions = positions

    def table(self, table: dict, prefix: Tuple[str, ...], path: Tuple[str, ...]) -> None:
        if len(path) > 8:
            return
        for key, item in table.items():
            here = path + (str(key),)
            if isinstance(item, dict):
                self.table(item, prefix, here)
            else:
                credential = secret_setting(here) or (is_credential_env_name(str(key)) and key != "connection_url")
                owner = f"[{'.'.join(prefix + path)}]" if path or prefix else "settings"
                self.entry(prefix + here, item, ".".join(prefix + here), owner, credential)

    def entry(self, path: Tuple[str, ...], item, name: str, owner: str, credential: bool) -> None:
        """A literal credential (by `credential`, or its format) at key path `path`."""
        if not isinstance(item, str):
            return
        value, shape, keys, _expands = assess(item)
        leaf = path[-1]
        self.reader.judge(value, leaf, item)
        if not (value.is_literal and value.kind == "str" and (credential or value.shaped)):
            return
        line, col = self._where(path)
        self.reader.facts.env.append(EnvVar(
            name=".".join(clean(part) for part in name.split(".")), value=value, path=self.reader.path,
            pos=token_pos(line, col, len(leaf)), scope="deploy-setting", shape=shape, keys=keys,
            owner=clean(owner, "owner")))

    def _where(self, path: Tuple[str, ...]) -> Tuple[int, int]:
        for cut in range(len(path), 0, -1):
            if path[:cut] in self.positions:
                return self.positions[path[:cut]]
        return 1, 1
