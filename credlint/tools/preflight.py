"""`credlint preflight`: are the secrets the flows need really present here, and well shaped?

Reads the environment exactly as Prefect 1.4.1 would (PREFECT__CONTEXT__SECRETS__* variables,
the user config's [context.secrets], backend and use_local_secrets), then the client libraries'
own chains (AWS, Google, Azure storage) for context needs. Values are inspected in memory only:
the report describes them ("dict with keys ...", "string of 32-63 characters"), never shows them.
No network access for 1.x: what only Prefect Cloud could provide is reported as unverifiable.
Prefect 2.x/3.x block and Variable names — those the 2.x/3.x flows and prefect.yaml deployments
need, the config's `blocks`, --block, --variable — are asked of the workspace at PREFECT_API_URL,
names only (tools/block_preflight.py), and shown after the flows with who needs each.
"""
from __future__ import annotations

import ast
import configparser
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, TextIO, Tuple
from urllib.parse import urlparse

from credlint import __version__
from credlint.facts.values import secretish
from credlint.prefect.names import REQUIRED_KEYS, secret_path
from credlint.errors import UsageError
from credlint.pipeline import Loaded

STATUSES = ("present", "ambient", "unverifiable", "missing", "malformed")
STATUS_STYLE = {"present": "green", "ambient": "cyan", "unverifiable": "yellow", "missing": "bold red",
                "malformed": "bold red"}
_KEY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,48}\Z")


# --------------------------------------------------------------------------------------------
# Prefect 1.4.1 value interpretation (configuration.py)
# --------------------------------------------------------------------------------------------


_VAR = re.compile(r"\$(\w+|\{[^}]*\})", re.ASCII)


def _interpolate(value: str, env: Mapping[str, str]) -> str:
    """`interpolate_env_vars`: os.path.expandvars then expanduser, against the given environment
    (posixpath's rules: unknown variables are left as written)."""
    def sub(match: "re.Match[str]") -> str:
        name = match.group(1)
        if name.startswith("{"):
            name = name[1:-1]
        return env.get(name, match.group(0))

    if "$" in value:
        value = _VAR.sub(sub, value)
    if value.startswith("~") and (len(value) == 1 or value[1] == "/"):
        value = str(_home(env)) + value[1:]
    return value


def string_to_type(value: str) -> Any:
    """`string_to_type`: "true"/"false" (any case) -> bool, else ast.literal_eval, else the string."""
    if value.upper() == "TRUE":
        return True
    if value.upper() == "FALSE":
        return False
    try:
        return ast.literal_eval(value)
    except Exception:  # noqa: BLE001 - literal_eval raises many kinds
        return value


def _typed(value: Any, env: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return string_to_type(_interpolate(value, env))
    if isinstance(value, dict):
        return {k: _typed(v, env) for k, v in value.items()}
    return value


def _set_path(target: dict, path: List[str], value: Any) -> None:
    for key in path[:-1]:
        nxt = target.get(key)
        if not isinstance(nxt, dict):
            nxt = {}
            target[key] = nxt
        target = nxt
    target[path[-1]] = value


def _home(env: Mapping[str, str]) -> Path:
    return Path(env.get("HOME") or os.path.expanduser("~"))


def _show_path(path: Path, env: Mapping[str, str]) -> str:
    try:
        return "~/" + path.relative_to(_home(env)).as_posix()
    except ValueError:
        return str(path)


def _read_toml(path: Path) -> Tuple[Optional[dict], Optional[str]]:
    from credlint.tomlcompat import TOMLDecodeError, toml

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"cannot read ({exc.strerror or type(exc).__name__})"
    try:
        return toml.loads(data.decode("utf-8", "replace")), None
    except (TOMLDecodeError, ValueError):
        return None, "not valid TOML (Prefect would fail to start)"


# --------------------------------------------------------------------------------------------
# The environment
# --------------------------------------------------------------------------------------------


@dataclass
class Environment:
    """What a flow run started from here would see (values kept in memory only)."""

    agent: Optional[str]
    backend: str
    backend_source: str
    use_local_secrets: bool
    use_local_secrets_source: str
    secrets: Dict[str, Tuple[Any, str]] = field(default_factory=dict)  # name -> (value, source)
    env: Dict[str, str] = field(default_factory=dict)  # what reaches the flow run (library chains)
    process_env: Dict[str, str] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)

    @property
    def forwards_process(self) -> bool:
        return self.agent in (None, "local")


def read_environment(agent: Optional[str] = None, environ: Optional[Mapping[str, str]] = None) -> Environment:
    process = dict(os.environ if environ is None else environ)
    home = _home(process)
    forwards = agent in (None, "local")
    user_path_raw = process.get("PREFECT__USER_CONFIG_PATH")
    if user_path_raw:
        user_path = Path(_interpolate(user_path_raw, process))
    else:
        user_path = home / ".prefect" / "config.toml"
    user_cfg, problem = _read_toml(user_path)
    shown_user = _show_path(user_path, process)
    notes: List[str] = []
    if problem:
        notes.append(f"user config {shown_user}: {problem}")
    backend_cfg, problem = _read_toml(home / ".prefect" / "backend.toml")
    if problem:
        notes.append(f"~/.prefect/backend.toml: {problem}")

    # backend: environment > backend.toml > user config > default (configuration.py:326-344)
    backend, backend_source = "cloud", "default"
    if user_cfg and isinstance(user_cfg.get("backend"), str):
        backend, backend_source = str(_typed(user_cfg["backend"], process)), f"user config {shown_user}"
    if backend_cfg and isinstance(backend_cfg.get("backend"), str):
        backend, backend_source = str(_typed(backend_cfg["backend"], process)), "~/.prefect/backend.toml"
    env_backend = next((v for k, v in process.items() if k.upper() == "PREFECT__BACKEND"), None)
    if env_backend:
        backend, backend_source = str(_typed(env_backend, process)), "env PREFECT__BACKEND"

    use_local, use_local_source = True, "default"
    cloud_cfg = (user_cfg or {}).get("cloud")
    if isinstance(cloud_cfg, dict) and "use_local_secrets" in cloud_cfg:
        use_local, use_local_source = bool(_typed(cloud_cfg["use_local_secrets"], process)), f"user config {shown_user}"
    env_flag = next((v for k, v in process.items() if k.upper() == "PREFECT__CLOUD__USE_LOCAL_SECRETS"), None)
    if env_flag is not None:
        use_local, use_local_source = bool(_typed(env_flag, process)), "env PREFECT__CLOUD__USE_LOCAL_SECRETS"
    if agent is not None:
        use_local, use_local_source = False, f"forced false by the {agent} agent"

    environment = Environment(agent, backend, backend_source, use_local, use_local_source,
                              env=process if forwards else {}, process_env=process, notes=notes)
    if not forwards:
        environment.notes.append(
            f"a {agent} agent does not forward this process's environment or user config to flow runs: "
            "only the deployment files' agent --env and run-config env count")
        return environment
    context = (user_cfg or {}).get("context")
    secrets_cfg = context.get("secrets") if isinstance(context, dict) else None
    if isinstance(secrets_cfg, dict):
        for name, value in secrets_cfg.items():
            environment.secrets[name] = (_typed(value, process), f"user config {shown_user}")
    nested: Dict[str, Any] = {}
    for key in sorted(process):
        path = secret_path(key)
        if not path:
            continue
        value = _typed(process[key], process)
        if len(path) == 1:
            environment.secrets[path[0]] = (value, f"env {key}")
        else:
            _set_path(nested, path, value)
            environment.secrets[path[0]] = (nested[path[0]], f"env PREFECT__CONTEXT__SECRETS__{path[0]}__*")
    return environment


# --------------------------------------------------------------------------------------------
# Shapes (descriptions never include a value)
# --------------------------------------------------------------------------------------------


def length_range(length: int) -> str:
    """A string's length as a range (powers of two), never exact: enough to tell a token from a
    truncated paste, and no help to whoever tries to guess the value."""
    if length < 8:
        return "fewer than 8 characters"
    low = 1 << (length.bit_length() - 1)
    return f"{low}-{2 * low - 1} characters"


def describe(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, dict):
        keys = [str(k) for k in value]
        shown = [k for k in keys if _KEY_NAME.match(k) and not secretish(k)]
        text = "dict with keys " + ", ".join(sorted(shown)) if shown else "dict"
        if len(shown) < len(keys):
            text += f" (+{len(keys) - len(shown)} other keys)"
        return text if keys else "empty dict"
    if isinstance(value, str):
        return f"string of {length_range(len(value))}" if value else "empty string"
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__} of {len(value)} items"
    if value is None:
        return "None"
    return type(value).__name__


def _looks_like_json(value: str) -> bool:
    text = value.strip()
    return text[:1] in ("{", "[")


def check_shape(value: Any, shape: str, mechanism: str, name: Optional[str]) -> Optional[str]:
    """A one-line problem (without the value), or None when the consumer can read it."""
    if mechanism != "context" and isinstance(value, str):
        try:  # Secret.get decodes JSON (client/secrets.py:173-176); context readers do not
            value = json.loads(value)
        except (ValueError, TypeError, RecursionError):
            pass
    if shape in REQUIRED_KEYS:
        if isinstance(value, str):
            why = ("a JSON string: context readers do not decode it, and Prefect's literal_eval rejects "
                   "true/false/null" if _looks_like_json(value) else "not a dict")
            return f"{describe(value)}, {why}"
        if not isinstance(value, dict):
            return f"{describe(value)}, not a dict"
        missing = [k for k in REQUIRED_KEYS[shape] if k not in value]
        if missing:
            return f"dict without {', '.join(missing)}"
        return None
    if shape in ("string", "url") or (name or "").upper().endswith("WEBHOOK_URL"):
        if not isinstance(value, str):
            return f"{describe(value)}, not a string (Prefect converted it)"
        if not value:
            return "empty string"
        if shape == "url" or (name or "").upper().endswith("_URL"):
            parsed = urlparse(value)
            if parsed.scheme not in ("http", "https") or not parsed.netloc:
                return f"{describe(value)}, not an http(s) URL"
            if "SLACK" in (name or "").upper() and parsed.netloc != "hooks.slack.com":
                return f"{describe(value)}, URL not on hooks.slack.com"
    return None


# --------------------------------------------------------------------------------------------
# Client-library chains
# --------------------------------------------------------------------------------------------


def _ini(path: Path) -> Optional[configparser.RawConfigParser]:
    parser = configparser.RawConfigParser()
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
    except (OSError, configparser.Error, UnicodeDecodeError):
        return None
    return parser


def aws_chain(env: Mapping[str, str]) -> Tuple[str, str]:
    """(status, source) of boto3's default chain, without network (no instance metadata)."""
    if env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        return "ambient", "AWS env credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)"
    if env.get("AWS_ACCESS_KEY_ID") or env.get("AWS_SECRET_ACCESS_KEY"):
        half = "AWS_ACCESS_KEY_ID" if env.get("AWS_ACCESS_KEY_ID") else "AWS_SECRET_ACCESS_KEY"
        return "malformed", f"AWS env credentials incomplete: only {half} is set"
    home = _home(env)
    profile = env.get("AWS_PROFILE") or env.get("AWS_DEFAULT_PROFILE") or "default"
    cred_path = Path(os.path.expanduser(env["AWS_SHARED_CREDENTIALS_FILE"])) \
        if env.get("AWS_SHARED_CREDENTIALS_FILE") else home / ".aws" / "credentials"
    conf_path = Path(os.path.expanduser(env["AWS_CONFIG_FILE"])) \
        if env.get("AWS_CONFIG_FILE") else home / ".aws" / "config"
    creds = _ini(cred_path)
    if creds is not None and creds.has_section(profile):
        section = creds[profile]
        if section.get("aws_access_key_id") and section.get("aws_secret_access_key"):
            return "ambient", f"AWS profile {profile} in {_show_path(cred_path, env)}"
        return "malformed", (f"AWS profile {profile} in {_show_path(cred_path, env)} lacks "
                             "aws_access_key_id or aws_secret_access_key")
    conf = _ini(conf_path)
    section_name = profile if profile == "default" else f"profile {profile}"
    if conf is not None and conf.has_section(section_name):
        section = conf[section_name]
        if section.get("aws_access_key_id") and section.get("aws_secret_access_key"):
            return "ambient", f"AWS profile {profile} in {_show_path(conf_path, env)}"
        for key in ("role_arn", "credential_process", "sso_start_url", "sso_session", "web_identity_token_file"):
            if section.get(key):
                return "ambient", f"AWS profile {profile} in {_show_path(conf_path, env)} ({key})"
    if profile != "default" and env.get("AWS_PROFILE"):
        return "missing", f"AWS_PROFILE={profile} is in neither {_show_path(cred_path, env)} nor {_show_path(conf_path, env)}"
    token_file = env.get("AWS_WEB_IDENTITY_TOKEN_FILE")
    if token_file and env.get("AWS_ROLE_ARN"):
        if os.access(token_file, os.R_OK):
            return "ambient", "AWS web identity (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN)"
        return "malformed", "AWS_WEB_IDENTITY_TOKEN_FILE is not a readable file"
    for key in ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        if env.get(key):
            return "ambient", f"AWS container credentials ({key})"
    return "missing", "no AWS credentials in env, profiles or identity variables (instance roles cannot be checked offline)"


def _gcp_file(path: Path, env: Mapping[str, str], label: str) -> Tuple[str, str]:
    shown = f"{label} {_show_path(path, env)}"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError:
        return "malformed", f"{shown}: not a readable file"
    except (ValueError, UnicodeDecodeError):
        return "malformed", f"{shown}: not JSON"
    if not isinstance(data, dict):
        return "malformed", f"{shown}: not a JSON object"
    kind = data.get("type")
    if kind == "service_account" or kind is None:
        missing = [k for k in REQUIRED_KEYS["gcp_service_account"] if k not in data]
        if missing:
            return "malformed", f"{shown}: service account without {', '.join(missing)}"
        return "ambient", f"{shown} (service account)"
    if kind == "authorized_user":
        missing = [k for k in ("client_id", "client_secret", "refresh_token") if k not in data]
        if missing:
            return "malformed", f"{shown}: authorized_user without {', '.join(missing)}"
    return "ambient", f"{shown} ({kind})"


def gcp_chain(env: Mapping[str, str]) -> Tuple[str, str]:
    if env.get("GOOGLE_APPLICATION_CREDENTIALS"):
        return _gcp_file(Path(os.path.expanduser(env["GOOGLE_APPLICATION_CREDENTIALS"])), env,
                         "GOOGLE_APPLICATION_CREDENTIALS")
    base = Path(env["CLOUDSDK_CONFIG"]) if env.get("CLOUDSDK_CONFIG") else _home(env) / ".config" / "gcloud"
    adc = base / "application_default_credentials.json"
    if adc.exists():
        return _gcp_file(adc, env, "gcloud ADC")
    return "missing", "no GOOGLE_APPLICATION_CREDENTIALS nor gcloud ADC file (metadata server cannot be checked offline)"


def azure_chain(env: Mapping[str, str]) -> Tuple[str, str]:
    value = env.get("AZURE_STORAGE_CONNECTION_STRING")
    if not value:
        return "missing", "no AZURE_STORAGE_CONNECTION_STRING"
    keys = [part.split("=", 1)[0].strip() for part in value.split(";") if "=" in part]
    if not any(k in ("AccountName", "BlobEndpoint", "SharedAccessSignature") for k in keys):
        return "malformed", "AZURE_STORAGE_CONNECTION_STRING has no AccountName/BlobEndpoint"
    return "ambient", "env AZURE_STORAGE_CONNECTION_STRING"


CHAINS = {"aws": aws_chain, "gcp": gcp_chain, "azure": azure_chain}


# --------------------------------------------------------------------------------------------
# Needs -> statuses
# --------------------------------------------------------------------------------------------

_STATIC_KINDS = ("storage", "run_config_env", "python_context")


def _static_source(need, environment: Environment) -> Optional[str]:
    for provider in need.providers:
        if provider.kind in _STATIC_KINDS:
            return f"{provider.detail} (static, {provider.path}:{provider.pos.line})"
        if provider.kind == "agent_env" and environment.agent is not None:
            # an agent declaration counts when the deployment files' agent is of this type
            if provider.detail.startswith(f"{environment.agent} agent") or provider.detail.startswith("agent env") \
                    or (environment.agent == "local" and provider.detail.startswith("local agent")):
                return f"{provider.detail} (static, {provider.path}:{provider.pos.line})"
    return None


def assess(need, environment: Environment) -> dict:
    shape = need.spec.shape if need.spec is not None else "any"
    row = {"secret": need.name, "consumer": need.consumer_label, "mechanism": need.mechanism,
           "required": need.required, "status": "missing", "source": None, "shape": None}
    if need.state == "argument":
        row.update(status="present", source=f"argument {need.argument}")
        return row
    if need.name is None:
        row.update(status="unverifiable", source="secret name not known statically")
        return row
    found = environment.secrets.get(need.name)
    if found is not None:
        value, source = found
        problem = check_shape(value, shape, need.mechanism, need.name)
        row.update(source=source, shape=problem or describe(value), status="malformed" if problem else "present")
        return row
    static = _static_source(need, environment)
    if static is not None:
        row.update(status="present", source=static)
        return row
    if need.mechanism == "context":
        chain = CHAINS.get(need.family)
        missing_source = None
        if chain is not None and environment.forwards_process:
            status, source = chain(environment.env)
            if status != "missing":
                row.update(status=status, source=source, shape=source if status == "malformed" else None)
                return row
            missing_source = source
        if need.state == "ambient" and need.ambient_reason:
            row.update(status="ambient", source=need.ambient_reason)
        elif chain is None and not need.required:
            row.update(status="ambient", source="optional: the consumer works without it")
        elif not environment.forwards_process:
            row.update(source=f"not declared for the flow run; a {environment.agent} agent does not forward "
                              "this environment")
        else:
            row.update(source=missing_source or "not in context secrets")
        return row
    # secret_get / storage_preload
    if environment.backend == "cloud" and not environment.use_local_secrets:
        row.update(status="unverifiable", source="must exist in Prefect Cloud")
    elif environment.backend == "cloud":
        row.update(source="not in context secrets, and use_local_secrets is true (Cloud is not asked)")
    else:
        row.update(source=f"not in context secrets (backend {environment.backend}: no remote secret store)")
    return row


def preflight(loaded: Loaded, environment: Environment, flow_name: Optional[str] = None) -> dict:
    flows = []
    for flow in loaded.project.flows:
        if flow.path not in loaded.wanted:
            continue
        if flow_name is not None and flow.name != flow_name:
            continue
        needs = [assess(need, environment) for need in flow.needs]
        needs.sort(key=lambda n: (n["secret"] or "", n["consumer"]))
        flows.append({"flow": flow.name, "path": loaded.display(flow.path), "line": flow.fact.pos.line,
                      "needs": needs})
    if flow_name is not None and not flows and not _flow2_named(loaded, flow_name):
        raise UsageError(f"no flow named {flow_name!r} in the given paths (see `credlint inventory`)")
    flows.sort(key=lambda f: (f["path"], f["line"]))
    summary = {status: 0 for status in STATUSES}
    for flow in flows:
        for need in flow["needs"]:
            summary[need["status"]] += 1
    return {
        "version": 1,
        "tool": {"name": "credlint", "version": __version__},
        "environment": {"backend": environment.backend, "backend_source": environment.backend_source,
                        "use_local_secrets": environment.use_local_secrets,
                        "use_local_secrets_source": environment.use_local_secrets_source,
                        "agent": environment.agent, "context_secrets": sorted(environment.secrets),
                        "notes": environment.notes},
        "flows": flows,
        "summary": summary,
    }


def _flow2_named(loaded: Loaded, name: str) -> bool:
    """A Prefect 2.x/3.x flow of the files asked about is named `name` (`--flow`)."""
    from credlint.tools.block_preflight import named
    from credlint.tools.inventory2 import present

    model = loaded.project.flows2 if present(loaded) else None
    return model is not None and any(f.path in loaded.wanted and named(f, name) for f in model.flows)


def failed(document: dict) -> bool:
    from credlint.tools.block_preflight import section_failed

    return bool(document["summary"]["missing"] or document["summary"]["malformed"]) \
        or section_failed(document.get("workspace"))


def render_table(document: dict, out: TextIO, color: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    from credlint.reporters.full import literal

    console = Console(file=out, force_terminal=color, no_color=not color, highlight=False, emoji=False,
                      width=None if color else 140)
    env = document["environment"]
    console.print(f"backend {literal(env['backend'])} ({literal(env['backend_source'])}), use_local_secrets "
                  f"{str(env['use_local_secrets']).lower()} ({literal(env['use_local_secrets_source'])}), "
                  f"agent {literal(env['agent'] or 'none: this process is the flow run')}")
    for note in env["notes"]:
        console.print(f"note: {literal(note)}")
    if not document["flows"]:
        workspace = document.get("workspace") or {}
        if any(row.get("needed_by") for kind in ("blocks", "variables") for row in workspace.get(kind, ())):
            console.print("no Prefect 1.x flows found; what the Prefect 2.x/3.x flows need is checked below")
        else:
            console.print("no Prefect 1.x flows found")
    for flow in document["flows"]:
        table = Table(title=f"flow '{literal(flow['flow'])}' ({literal(flow['path'])}:{flow['line']})",
                      title_justify="left")
        for column in ("secret", "read by", "how", "status", "source", "shape"):
            table.add_column(column)
        if not flow["needs"]:
            table.add_row("-", "-", "-", "[green]needs no secrets[/]", "-", "-")
        for need in flow["needs"]:
            style = STATUS_STYLE[need["status"]]
            table.add_row(literal(need["secret"] or "?"), literal(need["consumer"]), literal(need["mechanism"]),
                          f"[{style}]{need['status']}[/]", literal(need["source"] or "-"),
                          literal(need["shape"] or "-"))
        console.print(table)
    summary = document["summary"]
    console.print(", ".join(f"{n} {status}" for status, n in summary.items()))
    if document.get("workspace"):  # Prefect 2.x/3.x: blocks and Variables in the workspace
        from credlint.tools.block_preflight import render_section

        render_section(document["workspace"], console)
