"""Prefect 1.x's own conventions for naming secrets and agents, each written once.

Everything here is a fact about Prefect (checked against 1.4.1's source), not about a user's
files: how an environment variable becomes a context secret, the agent types, what a secret of a
known shape must hold. Readers, the model, rules and tools all ask here.
"""
from __future__ import annotations

import re
from typing import List, Optional

# How a context secret is set from the environment (`PREFECT__CONTEXT__SECRETS__NAME=...`).
SECRETS_ENV_PREFIX = "PREFECT__CONTEXT__SECRETS__"

AGENT_TYPES = ("local", "docker", "kubernetes", "ecs", "vertex")

ENV_VARS_VAR = "PREFECT__CLOUD__AGENT__ENV_VARS"
LABELS_VAR = "PREFECT__CLOUD__AGENT__LABELS"


def secret_path(env_name: str) -> Optional[List[str]]:
    """The key path under context.secrets Prefect 1.4.1 builds from an env var (configuration.py)."""
    if not env_name.startswith("PREFECT__"):
        return None
    option = env_name[len("PREFECT__"):]
    if not option.upper().startswith("CONTEXT__SECRETS"):
        return None
    parts = option.replace("CONTEXT__SECRETS", "context__secrets").split("__")
    if len(parts) < 3 or parts[0] != "context" or parts[1] != "secrets" or parts[2] == "":
        return None
    return parts[2:]


def prefect_secret_name(env_name: str) -> Optional[str]:
    """The top-level context secret an env var provides, exactly as Prefect 1.4.1 reads it."""
    path = secret_path(env_name)
    return path[0] if path else None


_TYPO = re.compile(
    r"^[\W_]*prefect[\W_]*(?:context[\W_]*)?secrets?[\W_]+(?P<name>[A-Za-z0-9].*?)[\W_]*$",
    re.IGNORECASE | re.DOTALL,
)


def typo_secret_name(env_name: str) -> Optional[str]:
    """For a variable meant to provide a context secret that Prefect will not read as that
    secret: the secret name it was meant to provide. None for a correct name or an unrelated one."""
    stripped = env_name.strip()
    path = secret_path(env_name)
    if path is not None:
        # Prefect's str.replace lower-cases every "CONTEXT__SECRETS" in the name, not only the prefix.
        intended = env_name[len(SECRETS_ENV_PREFIX):].split("__")[0] if \
            env_name.upper().startswith(SECRETS_ENV_PREFIX) else path[0]
        if intended != path[0]:
            return intended.strip() or None
        if path[0] != path[0].strip():
            return path[0].strip() or None
        return None
    if stripped != env_name:
        inner = prefect_secret_name(stripped)
        if inner:
            return inner.strip() or None
    match = _TYPO.match(stripped)
    if not match:
        return None
    name = match.group("name").split("__")[0].strip()
    return name or None


# What a context consumer reads from a secret of a known shape (no decoding happens on that path).
REQUIRED_KEYS = {
    "aws_credentials": ("ACCESS_KEY", "SECRET_ACCESS_KEY"),
    "gcp_service_account": ("private_key", "client_email", "token_uri"),
}
