"""A Prefect 2.x/3.x workspace read through its REST API: block documents and Variables by name.

Plain `urllib`, no Prefect import. Every block-document read sends `include_secrets: false`, and
each answer is reduced, as it is parsed, to names and to *which* fields hold something: the
server returns non-secret fields in clear (an AWS access key id, a Variable's value), and none
of that leaves this module. Errors name the API's URL (without user info or query), never the
key or the auth string, and never quote what the server answered.

Where the connection comes from, as Prefect resolves it: the environment (PREFECT_API_URL,
PREFECT_API_KEY, PREFECT_API_AUTH_STRING), else the active profile in
$PREFECT_PROFILES_PATH or $PREFECT_HOME/profiles.toml (PREFECT_HOME defaults to ~/.prefect;
the active profile is $PREFECT_PROFILE, else the file's `active`). Prefect sends the key as
`Authorization: Bearer KEY` and an auth string as `Authorization: Basic base64(STRING)`
(prefect/client/orchestration/__init__.py:353-362); a server with CSRF protection wants a
token from GET /csrf-token?client=ID in the Prefect-Csrf-Token and -Client headers of each
POST (prefect/client/base.py:456-492).
"""
from __future__ import annotations

import base64
import json
import os
import socket
import ssl
import uuid
from dataclasses import dataclass, field
from http.client import HTTPException
from pathlib import Path
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Tuple
from urllib import error, request
from urllib.parse import urlsplit, urlunsplit

from credlint import __version__
from credlint.errors import UsageError

URL_VAR, KEY_VAR, AUTH_VAR = "PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_API_AUTH_STRING"
TIMEOUT = 15.0
MAX_ANSWER = 64 * 1024 * 1024  # a page of block documents is far smaller; more is not a Prefect API
MAX_PAGES = 1000  # of the server's page size (200 by default): a workspace beyond that is not read whole
_CSRF_CLIENT = str(uuid.uuid4())


class PrefectAPIError(UsageError):
    """The workspace could not be read: no URL, unreachable, refused, or not a Prefect API."""


@dataclass(frozen=True)
class Connection:
    """Where the API is and how to authenticate (the key and auth string are never shown)."""

    url: str
    source: str  # "env PREFECT_API_URL", or the profile it came from
    key: Optional[str] = field(default=None, repr=False)
    auth_string: Optional[str] = field(default=None, repr=False)

    @property
    def shown(self) -> str:
        """The URL as messages may show it: no user info, query or fragment."""
        return shown_url(self.url)

    def authorization(self) -> Optional[str]:
        if self.auth_string:  # Prefect prefers the auth string when both are set
            return "Basic " + base64.b64encode(self.auth_string.encode("utf-8")).decode("ascii")
        if self.key:
            return f"Bearer {self.key}"
        return None

    @property
    def credential_name(self) -> Optional[str]:
        return AUTH_VAR if self.auth_string else (KEY_VAR if self.key else None)


def shown_url(url: str) -> str:
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = host + (f":{parts.port}" if parts.port else "")
    except ValueError:
        return "(an unparsable URL)"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _profiles_file(env: Mapping[str, str]) -> Path:
    if env.get("PREFECT_PROFILES_PATH"):
        return Path(env["PREFECT_PROFILES_PATH"]).expanduser()
    home = Path(env["PREFECT_HOME"]).expanduser() if env.get("PREFECT_HOME") else \
        Path(env.get("HOME") or os.path.expanduser("~")) / ".prefect"
    return home / "profiles.toml"


def _active_profile(env: Mapping[str, str]) -> Tuple[Optional[str], Dict[str, Any], Optional[Path]]:
    """(name, settings, file) of the active Prefect profile; ({}) when there is none."""
    from credlint.tomlcompat import TOMLDecodeError, toml

    path = _profiles_file(env)
    try:
        data = toml.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, TOMLDecodeError, ValueError):
        return None, {}, None
    name = env.get("PREFECT_PROFILE") or data.get("active")
    profiles = data.get("profiles")
    if not isinstance(name, str) or not isinstance(profiles, dict) or not isinstance(profiles.get(name), dict):
        return None, {}, None
    return name, profiles[name], path


def connection_from_environment(environ: Optional[Mapping[str, str]] = None) -> Optional[Connection]:
    """The connection Prefect itself would use here, or None when no API URL is configured."""
    env = os.environ if environ is None else environ
    name, settings, path = _active_profile(env)

    def setting(var: str) -> Optional[str]:
        if env.get(var):
            return env[var]
        value = settings.get(var)
        return value if isinstance(value, str) and value else None

    url = setting(URL_VAR)
    if url is None:
        return None
    source = f"env {URL_VAR}" if env.get(URL_VAR) else f"profile {name!r} in {path}"
    return Connection(url.rstrip("/"), source, setting(KEY_VAR), setting(AUTH_VAR))


def require_connection(environ: Optional[Mapping[str, str]] = None) -> Connection:
    connection = connection_from_environment(environ)
    if connection is None:
        raise PrefectAPIError(f"{URL_VAR} is not set (in the environment or the active Prefect profile): set it to "
                              "the workspace's API URL, e.g. http://127.0.0.1:4200/api, or the Prefect Cloud "
                              "workspace URL with PREFECT_API_KEY")
    try:
        parts = urlsplit(connection.url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port or 0) >= 0
    except ValueError:  # a bad port or bracket
        valid = False
    if not valid:
        raise PrefectAPIError(f"{URL_VAR} ({connection.source}) is not an http(s) URL with a host: "
                              f"{connection.shown}")
    return connection


# --------------------------------------------------------------------------------------------
# What a block document holds, without its values
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockNode:
    """A block's fields by state: which hold something (not null, not empty), which are empty,
    which the schema marks secret (SecretStr, SecretDict, SecretBytes), and the blocks nested in
    it (field, node, the nested document's name when it is a saved, named block)."""

    slug: str
    set_fields: FrozenSet[str]
    empty_fields: FrozenSet[str]
    secret_fields: FrozenSet[str]
    nested: Tuple[Tuple[str, "BlockNode", Optional[str]], ...] = ()


@dataclass(frozen=True)
class BlockDocument:
    slug: str
    name: str
    node: BlockNode

    @property
    def ref(self) -> str:
        return f"{self.slug}/{self.name}"


def _holds_something(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_holds_something(v) for v in value.values())
    if isinstance(value, (list, str)):
        return bool(value)
    return value is not None


def _node(slug: str, data: Any, secret_paths: List[str], nested_slugs: Mapping[str, str],
          nested_names: Mapping[str, Optional[str]]) -> BlockNode:
    data = data if isinstance(data, dict) else {}
    heads = {path.split(".", 1)[0] for path in secret_paths}
    set_fields, empty_fields, nested = set(), set(), []
    for key, value in data.items():
        if not isinstance(key, str) or key == "block_type_slug":
            continue
        inner_slug = value.get("block_type_slug") if isinstance(value, dict) else None
        if isinstance(value, dict) and (key in nested_slugs or isinstance(inner_slug, str)):
            inner = [p.split(".", 1)[1] for p in secret_paths if p.startswith(key + ".") and "." in p]
            child = _node(str(inner_slug or nested_slugs.get(key) or "?"), value, inner, {}, {})
            nested.append((key, child, nested_names.get(key)))
            continue
        (set_fields if _holds_something(value) else empty_fields).add(key)
    secret = frozenset(heads & (set_fields | empty_fields))
    return BlockNode(slug, frozenset(set_fields), frozenset(empty_fields), secret,
                     tuple(sorted(nested, key=lambda item: item[0])))


def summarize(raw: Any) -> Optional[BlockDocument]:
    """One block document of the API's answer, reduced to names and field states (None for an
    anonymous document or one without a type). Nothing else of `raw` is kept."""
    if not isinstance(raw, dict) or raw.get("is_anonymous") or not isinstance(raw.get("name"), str):
        return None
    block_type = raw.get("block_type") if isinstance(raw.get("block_type"), dict) else {}
    schema = raw.get("block_schema") if isinstance(raw.get("block_schema"), dict) else {}
    fields = schema.get("fields") if isinstance(schema.get("fields"), dict) else {}
    slug = block_type.get("slug") or fields.get("block_type_slug")
    if not isinstance(slug, str):
        return None
    secret_paths = [p for p in fields.get("secret_fields") or () if isinstance(p, str)]
    nested_slugs: Dict[str, str] = {}
    for key, refs in (fields.get("block_schema_references") or {}).items():
        refs = refs if isinstance(refs, list) else [refs]
        slugs = [r.get("block_type_slug") for r in refs if isinstance(r, dict)]
        if slugs and isinstance(slugs[0], str):
            nested_slugs[key] = slugs[0] if len(slugs) == 1 else "?"
    nested_names: Dict[str, Optional[str]] = {}
    for key, ref in (raw.get("block_document_references") or {}).items():
        document = ref.get("block_document") if isinstance(ref, dict) else None
        if isinstance(document, dict):
            inner_type = document.get("block_type") if isinstance(document.get("block_type"), dict) else {}
            if isinstance(inner_type.get("slug"), str):
                nested_slugs[key] = inner_type["slug"]
            if not document.get("is_anonymous") and isinstance(document.get("name"), str):
                nested_names[key] = document["name"]
    return BlockDocument(slug, raw["name"], _node(slug, raw.get("data"), secret_paths, nested_slugs, nested_names))


# --------------------------------------------------------------------------------------------
# The client
# --------------------------------------------------------------------------------------------


def _reason(exc: BaseException) -> str:
    """Why a request failed, in our words (exception texts may quote the URL with its user info)."""
    if isinstance(exc, error.URLError) and isinstance(exc.reason, BaseException):
        exc = exc.reason
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return f"no answer within {TIMEOUT:.0f} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "host name not found"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "its TLS certificate was not accepted"
    if isinstance(exc, ssl.SSLError):
        return "TLS failed"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return type(exc).__name__


class PrefectAPI:
    """Reads block documents and Variable names; never writes, never asks for secrets."""

    def __init__(self, connection: Connection, timeout: float = TIMEOUT):
        self.connection = connection
        self.timeout = timeout
        self._csrf: Optional[str] = None

    def _send(self, method: str, path: str, body: Optional[dict]) -> Tuple[int, bytes]:
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = request.Request(self.connection.shown + path, data=data, method=method)  # user info is not auth here
        req.add_header("Accept", "application/json")
        req.add_header("User-Agent", f"credlint/{__version__}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        authorization = self.connection.authorization()
        if authorization:  # not sent on to wherever a redirect points
            req.add_unredirected_header("Authorization", authorization)
        if self._csrf and method != "GET":
            req.add_header("Prefect-Csrf-Token", self._csrf)
            req.add_header("Prefect-Csrf-Client", _CSRF_CLIENT)
        try:
            with request.urlopen(req, timeout=self.timeout) as answer:
                return answer.status, answer.read(MAX_ANSWER + 1)
        except error.HTTPError as exc:
            try:
                text = exc.read(4096)
            except OSError:
                text = b""
            return exc.code, text
        except (error.URLError, OSError, ValueError, HTTPException) as exc:
            raise PrefectAPIError(f"cannot reach the Prefect API at {self.connection.shown}: {_reason(exc)}") \
                from None

    def _json(self, method: str, path: str, body: Optional[dict] = None) -> Any:
        status, payload = self._send(method, path, body)
        if status == 403 and b"CSRF" in payload and self._csrf is None:
            self._csrf = self._csrf_token()
            status, payload = self._send(method, path, body)
        where = f"the Prefect API at {self.connection.shown}"
        if status in (401, 403):
            used = self.connection.credential_name
            if used is None:
                raise PrefectAPIError(f"{where} requires authentication (HTTP {status}): set {KEY_VAR} (Prefect "
                                      f"Cloud) or {AUTH_VAR} (a server with basic auth)")
            raise PrefectAPIError(f"{where} refused {used} (HTTP {status}): check that it is valid for this "
                                  "workspace and may read blocks")
        if status == 404:
            raise PrefectAPIError(f"{where} has no {method} {path} (HTTP 404): is {URL_VAR} the API's URL? "
                                  "A server's usually ends in /api")
        if not 200 <= status < 300:
            raise PrefectAPIError(f"{where} answered HTTP {status} to {method} {path}")
        if len(payload) > MAX_ANSWER:
            raise PrefectAPIError(f"{where} answered more than {MAX_ANSWER // (1024 * 1024)} MB to {method} {path}")
        try:
            return json.loads(payload)
        except ValueError:
            raise PrefectAPIError(f"{where} did not answer JSON to {method} {path}: is {URL_VAR} a Prefect API?") \
                from None

    def _csrf_token(self) -> Optional[str]:
        answer = self._json("GET", f"/csrf-token?client={_CSRF_CLIENT}")
        token = answer.get("token") if isinstance(answer, dict) else None
        return token if isinstance(token, str) else None

    def _pages(self, path: str, body: dict) -> List[Any]:
        """Every item of a filter endpoint, a page (the server's default limit) at a time."""
        items: List[Any] = []
        for _ in range(MAX_PAGES):
            page = self._json("POST", path, {**body, "offset": len(items)})
            if not isinstance(page, list):
                raise PrefectAPIError(f"the Prefect API at {self.connection.shown} answered POST {path} "
                                      "with something other than a list")
            if not page:
                return items
            items.extend(page)
        raise PrefectAPIError(f"the Prefect API at {self.connection.shown} answered more than {MAX_PAGES} pages to "
                              f"POST {path}: does it ignore `offset`?")

    def block_documents(self) -> List[BlockDocument]:
        """The workspace's named block documents, sorted by slug and name."""
        found = []
        body = {"include_secrets": False, "block_documents": {"is_anonymous": {"eq_": False}}}
        for raw in self._pages("/block_documents/filter", body):
            document = summarize(raw)
            if document is not None:
                found.append(document)
        return sorted(found, key=lambda d: (d.slug, d.name))

    def variable_names(self) -> List[str]:
        """The workspace's Variable names (their values are dropped unread)."""
        names = {raw.get("name") for raw in self._pages("/variables/filter", {}) if isinstance(raw, dict)}
        return sorted(n for n in names if isinstance(n, str))
