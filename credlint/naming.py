"""Does a name (parameter, variable, key) say that its value is a credential?"""
from __future__ import annotations

import re
from typing import List

_SECRET_WORDS = {"password", "passwd", "pwd", "pass", "secret", "token", "credentials", "credential", "creds",
                 "apikey", "dsn", "passphrase", "webhook", "sas", "privatekey", "auth"}
_SECRET_PAIRS = {("api", "key"), ("access", "key"), ("private", "key"), ("secret", "key"), ("account", "key"),
                 ("client", "secret"), ("connection", "string"), ("conn", "str"), ("conn", "string"),
                 ("app", "password"), ("signing", "key"), ("master", "key"), ("service", "key")}
# A trailing word that makes the whole name a label *of* a secret, not the secret itself.
_NOT_VALUE_SUFFIX = {"name", "names", "id", "ids", "arn", "path", "file", "filename", "env", "var", "type",
                     "count", "len", "length", "ttl", "expiry", "expires", "url_secret", "field", "header",
                     "prefix", "suffix", "key_id", "location", "param", "kind", "mode", "dir", "uri"}


def words(name: str) -> List[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def is_credential_name(name: str) -> bool:
    parts = words(name)
    if not parts:
        return False
    if parts[-1] in _NOT_VALUE_SUFFIX or (len(parts) > 1 and "_".join(parts[-2:]) in _NOT_VALUE_SUFFIX):
        return False
    if parts[-1] == "secret" and len(parts) > 1:
        # Prefect's convention: `*_secret` names the secret to look up (webhook_secret,
        # password_secret); a few are values (client_secret, databricks_conn_secret).
        return parts[-2] in ("client", "app", "shared", "conn", "connection", "api", "aws")
    if any(p in _SECRET_WORDS for p in parts):
        return True
    return any(pair in _SECRET_PAIRS for pair in zip(parts, parts[1:]))
