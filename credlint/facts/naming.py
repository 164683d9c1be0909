"""Does a name (parameter, variable, key) say that its value is a credential?"""
from __future__ import annotations

import re
from typing import List

_SECRET_WORDS = {"password", "passwd", "pwd", "pass", "secret", "token", "credentials", "credential", "creds",
                 "apikey", "dsn", "passphrase", "webhook", "sas", "privatekey", "auth"}
_SECRET_PAIRS = {("api", "key"), ("access", "key"), ("private", "key"), ("secret", "key"), ("account", "key"),
                 ("client", "secret"), ("connection", "string"), ("conn", "str"), ("conn", "string"),
                 ("app", "password"), ("signing", "key"), ("master", "key"), ("service", "key"),
                 ("keyfile", "dict"), ("keyfile", "json")}
# A service account's key as a mapping or JSON text (`service_account_info=`), not its e-mail name.
_SECRET_TRIPLES = {("service", "account", "info"), ("service", "account", "json")}
# A trailing word that makes the whole name a label *of* a secret, not the secret itself: its name,
# where it is, how it is used (`secret_name`, `password_file`, `token_uri`, `auth_method`).
_NOT_VALUE_SUFFIX = {"name", "names", "id", "ids", "arn", "path", "paths", "file", "files", "filename", "env", "var",
                     "type", "count", "len", "length", "ttl", "expiry", "expires", "url_secret", "field", "header",
                     "prefix", "suffix", "key_id", "location", "param", "params", "parameters", "kind", "mode",
                     "dir", "uri", "method", "methods", "backend", "provider", "strategy", "scheme", "mechanism",
                     "realm", "enabled", "required", "algorithm", "version", "host", "port", "endpoint", "issuer",
                     "audience", "scope", "scopes", "policy", "header_key", "field_key", "dict_key", "config_key",
                     "env_key", "param_key"}
# `*_secret` words that still hold the value in Prefect's own parameters.
_VALUE_SECRETS = ("client", "app", "shared", "conn", "connection", "api", "aws")


# Endings of a variable or key name whose value is not the credential itself even where a secret
# is set: what names, locates or identifies it, and an account's user name (`DB_USER`).
_NOT_THE_SECRET_ENDINGS = ("_ID", "_NAME", "_FILE", "_PATH", "_ARN", "_URL_NAME", "_USER", "_USERNAME")


def ends_as_not_the_secret(name: str) -> bool:
    """`AWS_ACCESS_KEY_ID`, `DB_PASSWORD_FILE`, `DB_USER`: the value is not the secret, whatever the
    rest of the name says (compared as written, on the upper-cased name)."""
    return name.upper().endswith(_NOT_THE_SECRET_ENDINGS)


# Last words of a constant's name that say its value names a block document or a Variable.
_NAMES_A_DOCUMENT = ("name", "block", "slug", "ref", "document", "variable", "var")


def names_a_document(name: str) -> bool:
    """`AWS_BLOCK`, `SECRET_BLOCK_NAME`, `warehouse_variable`: a constant kept to load a block or a
    Variable by, so its value is a name (the only constants whose text the facts keep)."""
    parts = words(name)
    return bool(parts) and (parts[-1] in _NAMES_A_DOCUMENT or "block" in parts)


def words(name: str) -> List[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def _labels_a_secret(parts: List[str]) -> bool:
    if parts[-1] == "url" and "webhook" not in parts:
        return True  # where to authenticate (`TOKEN_URL`, `AUTH_URL`), unless the URL is the secret
    return parts[-1] in _NOT_VALUE_SUFFIX or (len(parts) > 1 and "_".join(parts[-2:]) in _NOT_VALUE_SUFFIX)


def _says_credential(parts: List[str]) -> bool:
    if any(p in _SECRET_WORDS for p in parts):
        return True
    return any(pair in _SECRET_PAIRS for pair in zip(parts, parts[1:])) or \
        any(triple in _SECRET_TRIPLES for triple in zip(parts, parts[1:], parts[2:]))


def is_credential_name(name: str) -> bool:
    """A Prefect parameter, keyword or Python name that holds a credential's value."""
    parts = words(name)
    if not parts or _labels_a_secret(parts):
        return False
    if parts[-1] == "secret" and len(parts) > 1:
        # Prefect's convention: `*_secret` names the secret to look up (webhook_secret,
        # password_secret); a few are values (client_secret, databricks_conn_secret).
        return parts[-2] in _VALUE_SECRETS
    return _says_credential(parts)


def is_credential_env_name(name: str) -> bool:
    """An environment variable or configuration key that holds a credential's value. Prefect's
    "`*_secret` names a secret" convention is for its parameters only: `ACME_ADMIN_SECRET=...` in a
    .env or compose file is the admin secret itself."""
    parts = words(name)
    return bool(parts) and not _labels_a_secret(parts) and _says_credential(parts)


def names_only_a_secret(name: str) -> bool:
    """The name is credential-like only by the word "secret" (`model_secret`, `secret_map`), which
    in Prefect code usually names secrets rather than holding one; `client_secret` and
    `db_password_secret` hold values."""
    parts = words(name)
    if not parts or "secret" not in parts and "secrets" not in parts:
        return False
    for index, part in enumerate(parts):
        if part in ("secret", "secrets") and index > 0 and parts[index - 1] in _VALUE_SECRETS:
            return False
    rest = [p for p in parts if p not in ("secret", "secrets")]
    return not _says_credential(rest)


# Commands that log in with a credential given as an option: (command words) -> its options.
LOGIN_COMMANDS = {
    ("docker", "login"): ("-p", "--password"), ("podman", "login"): ("-p", "--password"),
    ("nerdctl", "login"): ("-p", "--password"), ("buildah", "login"): ("-p", "--password"),
    ("skopeo", "login"): ("-p", "--password"), ("oras", "login"): ("-p", "--password"),
    ("helm", "registry", "login"): ("-p", "--password"), ("prefect", "auth", "login"): ("-k", "--key", "-t", "--token"),
    ("prefect", "cloud", "login"): ("-k", "--key"),  # Prefect 2.x/3.x
}
_LOGIN_PREFIXES = tuple(" ".join(command) + " " for command in LOGIN_COMMANDS)


def is_login_option(name: str) -> bool:
    """The entry the deployment reader records for a login command's credential option, named
    after the command and the option (`docker login -p`): its value is a credential."""
    return name.startswith(_LOGIN_PREFIXES)
