"""Prefect's `config.toml`: `[context.secrets]`, `[cloud.agent.env_vars]` and credentials in its other tables."""
from __future__ import annotations

import re
from typing import Callable, Tuple

from credlint.facts.deploy.core import Reader, sanitize_message
from credlint.facts.deploy.positions import token_pos
from credlint.facts.deploy.shapes import assess, clean, leaf_value, name_keys, shape_of, str_leaves
from credlint.facts.deploy.toml_positions import toml_positions
from credlint.facts.deploy.types import EnvVar
from credlint.facts.naming import is_credential_env_name
from credlint.facts.values import is_placeholder, looks_like_credential
from credlint.prefect.names import ENV_VARS_VAR
from credlint.tomlcompat import toml


def read_prefect_config(reader: Reader, text: str) -> None:
    """A Prefect config: its secrets (scope "config"), what agents forward, other credentials."""
    try:
        doc = toml.loads(text)
    except Exception as exc:  # noqa: BLE001 - tomllib's error, reported as a problem
        line = re.search(r"line (\d+)", str(exc))
        reader.problem(int(line.group(1)) if line else 1, f"does not parse as TOML ({sanitize_message(exc)})")
        return
    positions = toml_positions(text)

    def where(path: Tuple[str, ...]) -> Tuple[int, int]:
        for cut in range(len(path), 0, -1):
            if path[:cut] in positions:
                return positions[path[:cut]]
        return 1, 1

    context = doc.get("context")
    secrets = context.get("secrets") if isinstance(context, dict) else None
    if isinstance(secrets, dict):
        for key, raw in secrets.items():
            _config_entry(reader, ("context", "secrets", str(key)), raw, where)
    elif secrets is not None:
        reader.problem(where(("context", "secrets"))[0], "context.secrets is not a table: Prefect "
                                                         "replaces the whole secrets context with it")
    for top, table in doc.items():
        if not isinstance(table, dict):
            continue
        if top.lower() == "secrets":
            for key, raw in table.items():
                _config_entry(reader, (top, str(key)), raw, where, typo=True)
        if top.lower() == "context":
            for sub, inner in table.items():
                if top != "context" and sub.lower() in ("secrets", "secret") and isinstance(inner, dict):
                    for key, raw in inner.items():
                        _config_entry(reader, (top, sub, str(key)), raw, where, typo=True)
                    continue
                if (top, sub) == ("context", "secrets") or not isinstance(inner, dict):
                    continue
                if sub.lower() in ("secrets", "secret"):
                    for key, raw in inner.items():
                        _config_entry(reader, (top, sub, str(key)), raw, where, typo=True)
    cloud = doc.get("cloud")
    agent_cfg = cloud.get("agent") if isinstance(cloud, dict) else None
    env_vars = agent_cfg.get("env_vars") if isinstance(agent_cfg, dict) else None
    if isinstance(env_vars, dict):
        for key, raw in env_vars.items():
            line, col = where(("cloud", "agent", "env_vars", str(key)))
            text_value = raw if isinstance(raw, str) else str(raw)
            reader.env(str(key), line, col, text_value, scope="forwarded", owner="[cloud.agent.env_vars]")
    elif isinstance(env_vars, str):
        line, col = where(("cloud", "agent", "env_vars"))
        var = reader.env(ENV_VARS_VAR, line, col, env_vars, scope="process", owner="[cloud.agent]")
        var.name = "env_vars"
    _config_settings(reader, doc, (), where)


def _config_settings(reader: Reader, table: dict, path: Tuple[str, ...],
                     where: Callable[[Tuple[str, ...]], Tuple[int, int]]) -> None:
    """Credentials in the rest of a Prefect config: `[cloud] api_key`, `[server.database]
    password`, a table of the project's own that flows read through `prefect.config`
    (`[s3] secret = "..."`). Each credential-named string (or one with a credential's format) is
    an entry of scope "config-setting" named `TABLE.KEY`: a hard-coded value for CL203, and no
    provider of anything. `[context.secrets]`, the `[secrets]` spellings and
    `[cloud.agent.env_vars]` are read above."""
    if len(path) > 8:
        return
    # `key` beside a `secret` or `password` is the access key of the pair (s3fs, MinIO, boto).
    paired = any(isinstance(k, str) and isinstance(v, str) and is_credential_env_name(k) for k, v in table.items())
    for key, item in table.items():
        if not isinstance(key, str):
            continue
        here = path + (key,)
        low = tuple(part.lower() for part in here)
        if low[0] == "secrets" or (low[0] == "context" and len(low) > 1 and low[1] in ("secrets", "secret")) \
                or low[:3] == ("cloud", "agent", "env_vars"):
            continue
        if isinstance(item, dict):
            _config_settings(reader, item, here, where)
            continue
        if not isinstance(item, str):
            continue
        value, shape, keys, expands = assess(item)
        reader.judge(value, key, item)
        credential = is_credential_env_name(key) or (paired and key.lower() in ("key", "user_key"))
        if not (credential or value.shaped) or not value.is_literal:
            continue
        line, col = where(here)
        reader.facts.env.append(EnvVar(
              name=".".join(clean(part) for part in here), value=value, path=reader.path,
              pos=token_pos(line, col, len(key)), scope="config-setting", shape=shape, keys=keys, expands=expands,
              owner="config.toml"))


def _config_entry(reader: Reader, path: Tuple[str, ...], raw, where: Callable[[Tuple[str, ...]], Tuple[int, int]],
                  typo: bool = False) -> EnvVar:
    """A `[context.secrets]` entry (`path` is its TOML key path), and for a dict-valued one,
    each of its strings too (`_config_items`)."""
    key, loc = path[-1], where(path)
    if isinstance(raw, str):
        value = assess(raw)
    elif isinstance(raw, dict):
        value = (leaf_value(raw), "dict", name_keys(raw), False)
        leaves = str_leaves(raw, [])
        if leaves:
            value[0].placeholder = all(is_placeholder(x) for x in leaves)
            value[0].shaped = any(looks_like_credential(x) for x in leaves)
    else:
        value = (leaf_value(raw), "str" if hasattr(raw, "isoformat") else shape_of(raw), [], False)
    var = reader.env(key, loc[0], loc[1], raw if isinstance(raw, str) else None, scope="config",
                     owner="config.toml", value=value)
    if typo:
        var.secret, var.typo_of = None, key
    if isinstance(raw, dict):
        _config_items(reader, var, raw, path, where)
    return var


def _config_items(reader: Reader, secret: EnvVar, table: dict, path: Tuple[str, ...],
                  where: Callable[[Tuple[str, ...]], Tuple[int, int]], depth: int = 0) -> None:
    """The strings of a dict-valued secret (`AWS_CREDENTIALS = { SECRET_ACCESS_KEY = "..." }`
    or a `[context.secrets.AWS_CREDENTIALS]` table), each as an entry of scope "config-key"
    named `SECRET.KEY` at its own line: CL203 judges a literal credential there as it judges a
    string-valued secret. The secret's own entry keeps the dict's shape (CL105, providers)."""
    if depth > 8:
        return
    for key, item in table.items():
        if not isinstance(key, str):
            continue
        if isinstance(item, dict):
            _config_items(reader, secret, item, path + (key,), where, depth + 1)
            continue
        if not isinstance(item, str):
            continue
        line, col = where(path + (key,))
        value, shape, keys, expands = assess(item)
        reader.judge(value, key, item)
        name = f"{secret.name}.{'.'.join(clean(k) for k in path[len(path) - depth:] + (key,))}"
        reader.facts.env.append(EnvVar(
              name=name, value=value, path=reader.path, pos=token_pos(line, col, len(key)), scope="config-key",
              shape=shape, keys=keys, expands=expands, owner=secret.owner, secret=secret.secret))
