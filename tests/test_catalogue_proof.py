"""Prove rules/catalogue/*.toml against the real prefect==1.4.1 package.

A session fixture builds (once, cached) an isolated venv with prefect==1.4.1 and marshmallow<3.20 — never
the optional client libraries: tests/prefect_probe/probe.py fakes those modules. ONE probe subprocess then
answers for the whole catalogue:

* static: every import path (symbol and aliases) resolves to the same object; `kind` matches the object
  (Task / Storage / Result / RunConfig / state handler); every secret-name parameter, credential parameter
  and env-var-name parameter exists where the entry says (init = __init__, run = run(), init+run = both,
  call = the function / handler / @task function); a name parameter's default is the catalogue's default
  secret name; removed_params are no named parameter where the entry says, and the constructor refuses them;
* dynamic: each consumer is run with fakes for the network clients, with `Secret.get` replaced by a
  recorder and `prefect.context.secrets` a recording dict. For every entry with secrets the test derives
  scenarios from the entry itself (no argument; each name parameter overridden where it is accepted;
  None for `none_disables`; each `satisfied_by` argument given; each `skip_if` condition met) and checks
  the catalogue's claim in each: which names are read, by which mechanism (`context` = straight from
  prefect.context.secrets and NOT through Secret.get; `secret_get`, `storage_preload` and `template` =
  through Secret.get), and that nothing else is read. `required` is checked by making each such name
  missing (Secret.get raises as 1.4.1 does; the recording context is empty) and watching whether that
  error escapes the consumer. Entries without secrets (except run configs) run once to prove they read none;
  `unmet = "anonymous"` (git storage tokens) is checked by one more run with the secret in context: the
  faked client the token reaches must be one that is anonymous without it (ANONYMOUS_CLIENTS), and the
  default run (secret absent, no environment variable) must build it with that argument empty;
* coverage: every public class/function/@task object of prefect.tasks.*, prefect.storage,
  prefect.run_configs and prefect.engine.results is a catalogue entry or on NOT_APPLICABLE below.

A wrong catalogue entry fails here; test_checker_bites proves it with deliberately corrupted copies.

Venv location: $CREDLINT_PREFECT_VENV, else ~/.cache/credlint-tests/prefect-1.4.1-py<major><minor>.
Building it needs PyPI; without it the tests fail (they are never skipped).
"""
from __future__ import annotations

import copy
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

import pytest

from credlint.prefect.catalogue import default_catalogue_dir, load_catalogue
from credlint.tomlcompat import toml

PREFECT_VERSION = "1.4.1"
REQUIREMENTS = [f"prefect=={PREFECT_VERSION}", "marshmallow<3.20"]
PROBE = Path(__file__).parent / "prefect_probe" / "probe.py"
MARKER = ".credlint-install-complete"
PROBE_TIMEOUT = 600

# Entries with secrets whose consumer the probe cannot drive to the secret read, each with the reason.
# Their static checks still run. Keep this short: every symbol here is a gap in the proof.
NOT_DRIVEN: Dict[str, str] = {}

# Public objects of the inventoried packages that are deliberately not catalogue entries.
# Real exception classes are counted separately (they cannot consume credentials).
NOT_APPLICABLE: Dict[str, str] = {
    "prefect.storage.get_default_storage_class": "helper returning a class; no credentials",
    "prefect.storage._healthcheck.system_check": "registration health-check helper",
    "prefect.storage._healthcheck.cloudpickle_deserialization_check": "registration health-check helper",
    "prefect.storage._healthcheck.import_flow_from_script_check": "registration health-check helper",
    "prefect.storage._healthcheck.result_check": "registration health-check helper",
    "prefect.storage.docker.multiline_indent": "Dockerfile text helper",
    "prefect.tasks.airbyte.airbyte.AirbyteClient": "internal HTTP helper of the Airbyte tasks; takes no credentials",
    "prefect.tasks.control_flow.case.case": "control-flow context manager",
    "prefect.tasks.control_flow.conditional.ifelse": "control-flow task-building function",
    "prefect.tasks.control_flow.conditional.merge": "control-flow task-building function",
    "prefect.tasks.control_flow.conditional.switch": "control-flow task-building function",
    "prefect.tasks.core.resource_manager.ResourceContext": "resource-manager machinery",
    "prefect.tasks.core.resource_manager.ResourceManager": "resource-manager machinery",
    "prefect.tasks.core.resource_manager.resource_cleanup_trigger": "resource-manager trigger",
    "prefect.tasks.core.resource_manager.resource_manager": "resource-manager decorator",
    "prefect.tasks.databricks.databricks_hook.RunState": "data class for a run's state",
    "prefect.tasks.databricks.models.*": "pydantic models / enums for Databricks job payloads",
    "prefect.tasks.dremio.dremio.DremioClientAuthMiddleware": "pyarrow flight middleware; no credential inputs",
    "prefect.tasks.dremio.dremio.DremioClientAuthMiddlewareFactory": "pyarrow flight middleware; no credential inputs",
    "prefect.tasks.gcp.storage.GCSBaseTask": "base of the GCS tasks (no run); each subclass is an entry",
    "prefect.tasks.monte_carlo.monte_carlo_lineage.get_prefect_context_tags": "helper reading flow context tags",
    "prefect.tasks.toloka.utils.extract_id": "Toloka payload helper",
    "prefect.tasks.toloka.utils.structure_from_conf": "Toloka payload helper",
    "prefect.tasks.toloka.utils.with_logger": "decorator passing the context logger",
    "prefect.tasks.toloka.utils.with_updated_signature": "signature-rewriting helper",
}

# ----------------------------------------------------------------------------------------- catalogue


def _raw_entries() -> Dict[str, dict]:
    raw: Dict[str, dict] = {}
    for path in sorted(default_catalogue_dir().glob("*.toml")):
        for entry in toml.loads(path.read_text(encoding="utf-8")).get("entry", ()):
            raw[entry["symbol"]] = entry
    return raw


def catalogue_as_json() -> List[dict]:
    """The catalogue as credlint loads it, plus raw TOML for what the loader may not (yet) expose."""
    raw = _raw_entries()
    out = []
    for entry in load_catalogue():
        data = json.loads(json.dumps(dataclasses.asdict(entry),
                                     default=lambda o: list(o) if isinstance(o, (set, frozenset)) else str(o)))
        r = raw.get(entry.symbol, {})
        data["removed_params"] = [dict(p) for p in r.get("removed_params", ())]
        for spec, raw_spec in zip(data["secrets"], r.get("secrets", ())):
            spec["skip_if"] = dict(raw_spec.get("skip_if", {}))  # typed values (True, not "True")
        out.append(data)
    return out


CATALOGUE: List[dict] = catalogue_as_json()
BY_SYMBOL: Dict[str, dict] = {e["symbol"]: e for e in CATALOGUE}


def _wheres(where: str) -> List[str]:
    return {"init+run": ["init", "run"]}.get(where, [where] if where else [])


# ----------------------------------------------------------------------------------------- the venv


def _venv_dir() -> Path:
    configured = os.environ.get("CREDLINT_PREFECT_VENV")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "credlint-tests" / f"prefect-{PREFECT_VERSION}-py{sys.version_info[0]}{sys.version_info[1]}"


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _run(cmd: List[str], what: str, timeout: int) -> subprocess.CompletedProcess:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{what} timed out after {timeout}s: {' '.join(cmd)}", pytrace=False)
    if proc.returncode != 0:
        pytest.fail(
            f"{what} failed (exit {proc.returncode}); building the prefect {PREFECT_VERSION} venv needs PyPI.\n"
            f"command: {' '.join(cmd)}\n--- stderr (tail) ---\n{proc.stderr[-3000:]}\n--- stdout (tail) ---\n{proc.stdout[-2000:]}",
            pytrace=False,
        )
    return proc


@pytest.fixture(scope="session")
def prefect_python() -> Path:
    """The python of a venv holding prefect==1.4.1, built once and reused while its marker matches."""
    venv = _venv_dir()
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f".{venv.name}.lock", "w") as lock:
        try:
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX)  # two sessions never build the same venv at once
        except ImportError:  # pragma: no cover - not POSIX
            pass
        return _build_venv(venv)


def _build_venv(venv: Path) -> Path:
    python = _venv_python(venv)
    marker = venv / MARKER
    stamp = json.dumps({"requirements": REQUIREMENTS, "python": sys.version.split()[0]})
    if python.exists() and marker.exists() and marker.read_text() == stamp:
        return python
    started = time.monotonic()
    _run([sys.executable, "-m", "venv", str(venv)], "creating the venv", 300)
    _run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q", *REQUIREMENTS],
        f"pip install {' '.join(REQUIREMENTS)}",
        900,
    )
    version = _run([str(python), "-c", "import prefect; print(prefect.__version__)"], "importing prefect", 120)
    assert version.stdout.strip() == PREFECT_VERSION, version.stdout
    marker.write_text(stamp)  # last: a marker means the install completed
    print(f"\n[catalogue-proof] built {venv} in {time.monotonic() - started:.1f}s")
    return python


def _clean_env(home: str) -> Dict[str, str]:
    """The probe's environment: no Prefect config/secrets and no credential variables from this machine."""
    keep = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR", "TEMP", "TMP")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(HOME=home, USERPROFILE=home, PYTHONDONTWRITEBYTECODE="1", PREFECT__BACKEND="cloud",
               PREFECT__CLOUD__USE_LOCAL_SECRETS="true", PYTHONWARNINGS="ignore")
    return env


def run_probe(python: Path, request: dict) -> dict:
    with tempfile.TemporaryDirectory(prefix="credlint-probe-") as tmp:
        home = Path(tmp) / "home"
        work = Path(tmp) / "work"
        home.mkdir()
        work.mkdir()
        try:
            proc = subprocess.run(
                [str(python), str(PROBE)], input=json.dumps(request), capture_output=True, text=True,
                timeout=PROBE_TIMEOUT, cwd=str(work), env=_clean_env(str(home)),
            )
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"the prefect probe timed out after {PROBE_TIMEOUT}s; stderr tail:\n{(exc.stderr or '')[-3000:]}", pytrace=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        pytest.fail(f"the prefect probe failed (exit {proc.returncode}); stderr tail:\n{proc.stderr[-4000:]}", pytrace=False)
    return json.loads(proc.stdout)


# ----------------------------------------------------------------------------------------- scenarios


def _sentinel(param: str, where: str) -> str:
    return f"PROBE_{param.upper()}_{where.upper()}"


def _name_value(spec: dict, name: str):
    """The argument value that makes the consumer read secret `name` through `spec`'s name parameter."""
    if spec["mechanism"] == "template":
        return {"headers": {"X-Probe": "${" + name + "}"}, "url": "https://probe.invalid/"}
    if spec["mechanism"] == "storage_preload":
        return [name]
    return name


def _satisfier_value(entry: dict, param: str):
    """A truthy value for a satisfied_by argument (a secret name when it is itself a name parameter)."""
    for spec in entry["secrets"]:
        if spec["name_param"] == param:
            return _name_value(spec, _sentinel(param, "sat"))
    if "credentials" in param:
        return {"ACCESS_KEY": "probe", "SECRET_ACCESS_KEY": "probe", "type": "service_account"}
    return f"probe-{param}"


def _given_names(entry: dict, given: Dict[str, Tuple[str, object]]) -> Dict[str, str]:
    """param -> the secret name a given name-parameter value stands for."""
    out = {}
    for spec in entry["secrets"]:
        p = spec["name_param"]
        if p and p in given and given[p][1] is not None:
            value = given[p][1]
            if isinstance(value, list):
                out[p] = value[0]
            elif isinstance(value, dict):
                out[p] = value["headers"]["X-Probe"][2:-1]
            else:
                out[p] = value
    return out


def scenario(entry: dict, label: str, given: Dict[str, Tuple[str, object]]) -> dict:
    """given: param -> (where, value); where is init/run/call, or 'place' (the probe picks call>run>init)."""
    sc = {"id": f"{entry['symbol']}::{label}", "symbol": entry["symbol"], "kind": entry["kind"],
          "init": {}, "run": {}, "call": {}, "place": {}, "given": {k: list(v) for k, v in given.items()}}
    for param, (where, value) in given.items():
        sc[where][param] = value
    sc["protect"] = sorted(_protected(entry) - set(given))
    return sc


def _protected(entry: dict) -> set:
    """Parameters the probe must leave at their defaults unless a scenario gives them."""
    out = {cp["param"] for cp in entry["credential_params"]}
    out |= {ev["name_param"] for ev in entry["env_vars"] if ev["name_param"]}
    for spec in entry["secrets"]:
        out |= set(spec["satisfied_by"]) | set(spec["skip_if"])
        if spec["name_param"]:
            out.add(spec["name_param"])
    return out


def scenarios_for(entry: dict) -> List[dict]:
    """Scenarios that exercise every claim of the entry's [[entry.secrets]]."""
    out = {"default": {}}
    for spec in entry["secrets"]:
        p = spec["name_param"]
        if p:
            for where in _wheres(spec["name_where"]):
                out[f"name:{p}@{where}"] = {p: (where, _name_value(spec, _sentinel(p, where)))}
            if spec["name"]:
                # none_disables: None at any accepted place turns the read off; otherwise None does not
                # (the default or a secret literally named "None" is still read).
                for where in _wheres(spec["name_where"]):
                    out[f"none:{p}@{where}"] = {p: (where, None)}
        naming = {}
        if spec["only_if_name_param"] and p:
            first = _wheres(spec["name_where"])[0]
            naming = {p: (first, _name_value(spec, _sentinel(p, first)))}
        for sat in spec["satisfied_by"]:
            out[f"satisfied:{sat}" + (f"+{p}" if naming else "")] = {**naming, sat: ("place", _satisfier_value(entry, sat))}
        if spec["skip_if"]:
            label = "skip:" + ",".join(f"{k}={v}" for k, v in sorted(spec["skip_if"].items()))
            out[label + (f"+{p}" if naming else "")] = {**naming, **{k: ("place", v) for k, v in spec["skip_if"].items()}}
    scenarios = [scenario(entry, label, given) for label, given in out.items()]
    # `unmet = "anonymous"`: one more run with the secret in context, to find which client argument
    # carries it; the default run (secret absent) must leave that argument empty.
    for spec in entry["secrets"]:
        if spec["mechanism"] == "context" and spec.get("unmet") == "anonymous" and spec["name"]:
            present = scenario(entry, f"present:{spec['name']}", {})
            present["context_values"] = {spec["name"]: _token(spec["name"])}
            scenarios.append(present)
    # `required`: for each name read through Secret.get, one more run in which that name is unset
    # (Secret.get raises as 1.4.1 does); the error must escape the consumer exactly when required.
    for i, spec in enumerate(entry["secrets"]):
        if spec["mechanism"] == "context":
            continue  # the recording context is always empty: every scenario checks `required` for these
        for sc in list(scenarios):
            hits = [name for j, name, expect in expectations(entry, sc["given"]) if j == i and expect == "read"]
            if hits:
                label = sc["id"].split("::", 1)[1]
                missing = dict(sc, id=f"{sc['id'].split('::')[0]}::missing:{hits[0]}({label})", missing=[hits[0]],
                               missing_index=i)
                scenarios.append(missing)
                break
    return scenarios


def _token(name: str) -> str:
    return f"PROBE-TOKEN-{name}"


# Client classes whose constructor, given no credential, talks to the service unauthenticated
# (PyGithub `Github(None)`, python-gitlab `Gitlab(url, private_token=None)`, atlassian-python-api
# `Bitbucket(url, session=...)` with an empty bearer token). boto3, google-auth and azure clients
# fall back to their own credential chains instead: that is `unmet = "chain"`.
ANONYMOUS_CLIENTS = {"github.Github", "gitlab.Gitlab", "atlassian.Bitbucket"}


def check_unmet(entry: dict, scenarios: List[dict], results: Dict[str, dict]) -> List[str]:
    """`unmet = "anonymous"` claims that without the secret the consumer builds its client with an
    empty credential, and that such a client is anonymous: the run with the secret in context shows
    which argument of which client carries it, the default run must leave exactly that empty."""
    s = entry["symbol"]
    problems = []
    by_label = {sc["id"].split("::", 1)[1]: results.get(sc["id"]) for sc in scenarios}
    for spec in entry["secrets"]:
        if spec.get("unmet") != "anonymous":
            continue
        name = spec["name"]
        field = f"secrets[name={name!r}].unmet = 'anonymous'"
        present, absent = by_label.get(f"present:{name}"), by_label.get("default")
        if present is None or absent is None:
            problems.append(f"{s}: {field}: the probe returned no run to prove it with")
            continue
        carried = [(c["cls"], path, text) for c in present.get("clients", ()) for path, text in c["slots"]
                   if text and _token(name) in text]
        if not carried:
            problems.append(f"{s}: {field}: with {name!r} in context no client is given it, so nothing shows "
                            f"that the token is what authenticates (clients built: "
                            f"{sorted({c['cls'] for c in present.get('clients', ())}) or 'none'})")
            continue
        for cls, path, text in carried:
            if cls not in ANONYMOUS_CLIENTS:
                problems.append(f"{s}: {field}: the token goes to {cls}, which without it uses its own credential "
                                f"chain, not anonymous access")
                continue
            emptied = text.replace(_token(name), "")
            left = [t for c in absent.get("clients", ()) if c["cls"] == cls for p, t in c["slots"] if p == path]
            if not left:
                problems.append(f"{s}: {field}: without {name!r} no {cls} is built: the consumer does not carry on")
            elif any(t not in (None, "", emptied) for t in left):
                problems.append(f"{s}: {field}: without {name!r}, {cls} {path} still gets a credential from elsewhere")
    return problems


def expectations(entry: dict, given: Dict[str, list]) -> List[Tuple[int, str, str]]:
    """What the catalogue claims for one scenario: (secret index, name, 'read' | 'not_read')."""
    names = _given_names(entry, {k: tuple(v) for k, v in given.items()})
    out = []
    for i, spec in enumerate(entry["secrets"]):
        p = spec["name_param"]
        if p and p in given:
            value = given[p][1]
            if value is None:
                if spec["name"]:
                    out.append((i, spec["name"], "not_read" if spec["none_disables"] else "read_default_or_none"))
                continue
            name = names[p]
        elif spec["only_if_name_param"] or not spec["name"]:
            continue
        else:
            name = spec["name"]
        satisfied = any(s in given and given[s][1] for s in spec["satisfied_by"])
        skipped = bool(spec["skip_if"]) and all(k in given and given[k][1] == v for k, v in spec["skip_if"].items())
        out.append((i, name, "not_read" if satisfied or skipped else "read"))
        if p and p in given and spec["name"] and spec["name"] != name:
            out.append((i, spec["name"], "replaced"))
    return out


# ----------------------------------------------------------------------------------------- checks


def _sig_params(sym: dict, where: str) -> Optional[dict]:
    return sym.get("signatures", {}).get(where)


def check_static(entry: dict, sym: Optional[dict]) -> List[str]:
    """Problems with one entry's import paths and parameters (empty list: the package agrees)."""
    s = entry["symbol"]
    if sym is None:
        return [f"{s}: the probe returned nothing for this symbol"]
    problems = []
    for path in [s, *entry["aliases"]]:
        info = sym["paths"].get(path)
        if not info or not info["ok"]:
            problems.append(f"{s}: import path {path} does not resolve in prefect {PREFECT_VERSION}: {info and info.get('error')}")
        elif not info["same"]:
            problems.append(f"{s}: import path {path} names a different object than {s}")
    if not sym.get("signatures"):
        return problems
    is_a = sym.get("is_a", [])
    if entry["kind"] in ("task", "storage", "result", "run_config"):
        if entry["kind"] not in is_a:
            problems.append(f"{s}: kind: the catalogue says {entry['kind']!r}, but the object is a {sym['form']} "
                            f"that is {'a ' + '/'.join(is_a) if is_a else 'no Task, Storage, Result or RunConfig'}")
    elif is_a:
        problems.append(f"{s}: kind: the catalogue says {entry['kind']!r}, but the object is a Prefect {'/'.join(is_a)}")
    elif entry["kind"] == "notifier" and sym["form"] != "function":
        problems.append(f"{s}: kind: a notifier must be a callable state handler, this is a {sym['form']}")

    def has(param: str, where: str, field: str) -> Optional[dict]:
        sig = _sig_params(sym, where)
        if sig is None:
            problems.append(f"{s}: {field}: '{param}' is said to be accepted at '{where}', but the object has no {where} signature (it is a {sym.get('form')})")
            return None
        if "error" in sig:
            problems.append(f"{s}: {field}: cannot read the {where} signature: {sig['error']}")
            return None
        if param not in sig["params"]:
            if where == "call" and sig.get("var_keyword"):
                return {"via_var_keyword": True}  # e.g. boto client keywords passed through **kwargs
            problems.append(f"{s}: {field}: '{param}' is not a parameter of {where} (parameters: {', '.join(sig['params']) or 'none'})")
            return None
        return sig["params"][param]

    for spec in entry["secrets"]:
        p = spec["name_param"]
        if not p:
            continue
        field = f"secrets[name={spec['name']!r}].name_param"
        for where in _wheres(spec["name_where"]) or ["?"]:
            if where == "?":
                problems.append(f"{s}: {field}: name_param '{p}' has no name_where")
                continue
            default = has(p, where, field)
            if default is None or "via_var_keyword" in default:
                continue
            if "required" in default and spec["name"]:
                problems.append(f"{s}: {field}: '{p}' is required at {where}, so no default name is ever read")
            elif "repr" in default and spec["mechanism"] not in ("template", "storage_preload"):
                problems.append(f"{s}: {field}: default of '{p}' at {where} is {default['repr']}, not a secret name")
            elif "value" in default:
                value = default["value"]
                # None is accepted: code such as `webhook_secret or "SLACK_WEBHOOK_URL"` or an init attribute
                # fills it in; the dynamic scenarios prove which name is read then.
                if value and value != spec["name"]:
                    problems.append(f"{s}: {field}: default of '{p}' at {where} is {value!r}, the catalogue says {spec['name']!r}")
    for cp in entry["credential_params"]:
        for where in _wheres(cp["where"]):
            has(cp["param"], where, f"credential_params[{cp['param']}]")
    for ev in entry["env_vars"]:
        if not ev["name_param"]:
            continue
        field = f"env_vars[name={ev['name']!r}].name_param"
        where = ev["at"] if ev["at"] in ("init", "run", "call") else "call"
        if where != "call" and _sig_params(sym, where) is None and "call" in sym["signatures"]:
            where = "call"
        default = has(ev["name_param"], where, field)
        if default and "via_var_keyword" not in default and ev["name"] and default.get("value") != ev["name"]:
            problems.append(f"{s}: {field}: default of '{ev['name_param']}' at {where} is {default.get('value', default.get('repr'))!r}, the catalogue says {ev['name']!r}")
    return problems


def check_removed(entry: dict, sym: Optional[dict], removed: Dict[str, dict]) -> List[str]:
    """removed_params must really be gone: not a named parameter where the entry says, and the
    constructor must refuse the keyword (the probe builds the object with it: TypeError naming it).
    A run() that takes **kwargs forwards unknown keywords to the client library, not to Prefect,
    so only named run() parameters count there."""
    s = entry["symbol"]
    problems = []
    sigs = (sym or {}).get("signatures", {})
    for rp in entry.get("removed_params", ()):
        field = f"removed_params[{rp['param']}]"
        for where in _wheres(rp.get("where", "init")):
            sig = sigs.get(where)
            if sig is None:
                problems.append(f"{s}: {field}: the object has no {where} signature")
                continue
            if rp["param"] in sig.get("params", {}):
                problems.append(f"{s}: {field}: '{rp['param']}' is still a parameter of {where} in prefect {PREFECT_VERSION}")
            elif where == "init":
                outcome = removed.get(f"{s}:{rp['param']}", {"outcome": "missing", "detail": "the probe did not try it"})
                if outcome["outcome"] != "rejected":
                    problems.append(f"{s}: {field}: constructing it with {rp['param']}=... is not refused by prefect {PREFECT_VERSION} "
                                    f"({outcome['outcome']}: {outcome['detail']})")
    return problems


def _reads(result: dict) -> Tuple[List[str], List[str]]:
    return result["secret_get"], [key for _op, key in result["context"]]


def check_dynamic(entry: dict, scenarios: List[dict], results: Dict[str, dict]) -> List[str]:
    """Problems with what the entry claims about its secret reads, scenario by scenario."""
    s = entry["symbol"]
    problems = []
    declared = {spec["name"] for spec in entry["secrets"] if spec["name"]}
    for i, spec in enumerate(entry["secrets"]):
        if not any(j == i and expect == "read" for sc in scenarios if not sc.get("missing")
                   for j, _name, expect in expectations(entry, sc["given"])):
            problems.append(f"{s}: secrets[{i}] (name={spec['name']!r}): no scenario can trigger this read "
                            f"(no default name and no name_param), so nothing proves it")
    for sc in scenarios:
        result = results.get(sc["id"])
        if result is None:
            problems.append(f"{sc['id']}: the probe returned nothing for this scenario")
            continue
        got, ctx = _reads(result)
        label = sc["id"].split("::", 1)[1]
        why = f"\n    given {sc['given'] or 'no name/credential arguments'}; Secret.get read {got}; context read {ctx}" + (
            f"\n    the consumer ended with: {result['error'].strip().splitlines()[-1][:300]}" if result.get("error") else "")
        given_names = set(_given_names(entry, {k: tuple(v) for k, v in sc["given"].items()}).values())
        raised = set(result.get("missing_raised", ()))
        if sc.get("missing"):
            name, spec = sc["missing"][0], entry["secrets"][sc["missing_index"]]
            field = f"secrets[{sc['missing_index']}] (name={spec['name']!r}, mechanism={spec['mechanism']}).required"
            if name not in got:
                problems.append(f"{s} [{label}]: {field}: {name!r} is not read in this run" + why)
            elif spec["required"] and name not in raised:
                problems.append(f"{s} [{label}]: {field}: the catalogue says a missing {name!r} is an error, but the consumer handles it" + why)
            elif not spec["required"] and name in raised:
                problems.append(f"{s} [{label}]: {field}: the catalogue says {name!r} is optional, but a missing value escapes as an error" + why)
            continue
        for i, name, expect in expectations(entry, sc["given"]):
            spec = entry["secrets"][i]
            mech = spec["mechanism"]
            field = f"secrets[{i}] (name={spec['name']!r}, mechanism={mech})"
            if expect == "read":
                if mech == "context":
                    if name not in ctx:
                        problems.append(f"{s} [{label}]: {field}: {name!r} is not read from prefect.context.secrets" + why)
                    if name in got:
                        problems.append(f"{s} [{label}]: {field}: {name!r} is read through Secret.get, not straight from context" + why)
                    if name in ctx and spec["required"] != (name in raised):
                        problems.append(f"{s} [{label}]: {field}.required: the catalogue says required={spec['required']}, but with "
                                        f"{name!r} absent from context the consumer {'fails on it' if name in raised else 'carries on'}" + why)
                elif name not in got:
                    how = "straight from prefect.context.secrets instead" if name in ctx else "at all"
                    problems.append(f"{s} [{label}]: {field}: {name!r} is not read through Secret.get ({how})" + why)
            elif expect == "not_read":
                gave_none_here = bool(spec["name_param"]) and spec["name_param"] in sc["given"] and sc["given"][spec["name_param"]][1] is None
                if gave_none_here and ("None" in got or "None" in ctx):
                    problems.append(f"{s} [{label}]: {field}.none_disables: passing None does not turn the read off, "
                                    f"a secret named 'None' is read" + why)
                elif name in got or name in ctx:
                    problems.append(f"{s} [{label}]: {field}: {name!r} is still read although the catalogue says this scenario avoids it" + why)
            elif expect == "read_default_or_none":
                pool = ctx if mech == "context" else got
                # PrefectSecret(None).run() refuses a missing name: None did not turn the need off either.
                refused = "A secret name must be provided" in (result.get("error") or "")
                if name not in pool and "None" not in pool and not refused:
                    problems.append(f"{s} [{label}]: {field}.none_disables: passing None reads nothing, but the catalogue says "
                                    f"None does not turn the read off (none_disables = false)" + why)
            elif expect == "replaced":
                if (mech == "context" and name in ctx) or (mech != "context" and name in got):
                    problems.append(f"{s} [{label}]: {field}: the default {name!r} is still read although the name parameter was given" + why)
        for name in sorted(set(got) | set(ctx)):
            gave_none = any(v[1] is None for v in sc["given"].values())
            if name not in declared and name not in given_names and not (name == "None" and gave_none):
                problems.append(f"{s} [{label}]: reads secret {name!r}, which the entry does not declare" + why)
    return problems


# ----------------------------------------------------------------------------------------- the probe run


def dynamic_entries(catalogue: Iterable[dict]) -> List[dict]:
    """Entries whose consumer the probe runs. Entries without secrets run once, with no name or
    credential argument, to prove they read no secret at all; run configs are not consumers
    (agents read them), so they get the static checks only."""
    return [e for e in catalogue if e["symbol"] not in NOT_DRIVEN and e["kind"] != "run_config"]


def probe_request(catalogue: List[dict], inventory: bool) -> Tuple[dict, Dict[str, List[dict]]]:
    scenarios = {e["symbol"]: scenarios_for(e) for e in dynamic_entries(catalogue)}
    request = {
        "symbols": {e["symbol"]: {"kind": e["kind"], "paths": [e["symbol"], *e["aliases"]]} for e in catalogue},
        "scenarios": [sc for scs in scenarios.values() for sc in scs],
        "removed": [{"symbol": e["symbol"], "param": rp["param"]} for e in catalogue
                    for rp in e.get("removed_params", ()) if "init" in _wheres(rp.get("where", "init"))],
        "inventory": inventory,
    }
    return request, scenarios


@pytest.fixture(scope="session")
def probe(prefect_python) -> dict:
    request, scenarios = probe_request(CATALOGUE, inventory=True)
    started = time.monotonic()
    answer = run_probe(prefect_python, request)
    answer["_scenarios"] = scenarios
    answer["_seconds"] = time.monotonic() - started
    return answer


# ----------------------------------------------------------------------------------------- tests


def test_probe_runs_prefect_141(probe):
    assert probe["prefect_version"] == PREFECT_VERSION
    driven = dynamic_entries(CATALOGUE)
    claims = {"read": 0, "not_read": 0, "replaced": 0, "read_default_or_none": 0}
    for e in driven:
        for sc in probe["_scenarios"][e["symbol"]]:
            if sc.get("missing"):
                claims["required"] = claims.get("required", 0) + 1
                continue
            for _i, _name, expect in expectations(e, sc["given"]):
                claims[expect] += 1
    print(f"\n[catalogue-proof] probe: prefect {probe['prefect_version']} on Python {probe['python']} in {probe['_seconds']:.1f}s; "
          f"{len(CATALOGUE)} entries checked statically; {len(driven)} run dynamically "
          f"({sum(1 for e in driven if e['secrets'])} with secrets, {sum(1 for e in driven if not e['secrets'])} proving no reads) "
          f"in {len(probe['scenarios'])} scenarios checking {claims['read']} reads, {claims['not_read']} avoided reads, "
          f"{claims['replaced']} replaced defaults, {claims['read_default_or_none']} None-still-reads, {claims.get('required', 0)} missing-secret runs; {len(probe['removed'])} removed keywords tried; "
          f"not driven: {NOT_DRIVEN or 'none'}; {len(probe['faked_modules'])} modules faked")


@pytest.mark.parametrize("symbol", sorted(BY_SYMBOL))
def test_entry_static(probe, symbol):
    sym = probe["symbols"].get(symbol)
    problems = check_static(BY_SYMBOL[symbol], sym) + check_removed(BY_SYMBOL[symbol], sym, probe["removed"])
    assert not problems, "catalogue entry contradicted by prefect 1.4.1:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("symbol", sorted(e["symbol"] for e in dynamic_entries(CATALOGUE)))
def test_entry_dynamic(probe, symbol):
    problems = check_dynamic(BY_SYMBOL[symbol], probe["_scenarios"][symbol], probe["scenarios"])
    problems += check_unmet(BY_SYMBOL[symbol], probe["_scenarios"][symbol], probe["scenarios"])
    assert not problems, "catalogue entry contradicted by running prefect 1.4.1:\n  " + "\n  ".join(problems)


def test_not_driven_list_is_honest():
    for symbol, reason in NOT_DRIVEN.items():
        assert symbol in BY_SYMBOL, f"NOT_DRIVEN names {symbol}, which is not in the catalogue"
        assert BY_SYMBOL[symbol]["secrets"], f"NOT_DRIVEN names {symbol}, which declares no secrets"
        assert reason.strip(), symbol
    with_secrets = [e for e in CATALOGUE if e["secrets"]]
    driven = dynamic_entries(CATALOGUE)
    assert len(driven) >= 0.9 * len(with_secrets), (len(driven), len(with_secrets))


def test_inventory_is_covered(probe):
    inv = probe["inventory"]
    assert not inv["errors"], "modules that did not import in the probe:\n  " + "\n  ".join(inv["errors"])
    known = {p for e in CATALOGUE for p in [e["symbol"], *e["aliases"]]}
    objects = inv["objects"]
    entries, exceptions, allowed, missing = [], [], [], []
    for qualname, info in sorted(objects.items()):
        if known & set(info["paths"]) or qualname in known:
            entries.append(qualname)
        elif info["type"] == "exception":
            exceptions.append(qualname)
        elif qualname in NOT_APPLICABLE or any(qualname.startswith(k[:-1]) for k in NOT_APPLICABLE if k.endswith("*")):
            allowed.append(qualname)
        else:
            missing.append(f"{qualname} ({info['type']})")
    in_scope = [e["symbol"] for e in CATALOGUE if e["symbol"].startswith(("prefect.tasks", "prefect.storage", "prefect.run_configs", "prefect.engine.results"))]
    counts = (f"{len(objects)} public objects in prefect.tasks.*, prefect.storage, prefect.run_configs, prefect.engine.results: "
              f"{len(entries)} catalogue entries, {len(exceptions)} exception classes, {len(allowed)} NOT_APPLICABLE, "
              f"{len(missing)} unaccounted; catalogue has {len(CATALOGUE)} entries ({len(in_scope)} in these packages)")
    print(f"\n[catalogue-proof] coverage: {counts}")
    assert not missing, counts + "\nnot in the catalogue and not NOT_APPLICABLE:\n  " + "\n  ".join(missing)
    stale = [k for k in NOT_APPLICABLE if (k not in objects if not k.endswith("*") else not any(o.startswith(k[:-1]) for o in objects))]
    assert not stale, f"NOT_APPLICABLE names objects the package does not have: {stale}"


# ----------------------------------------------------------------------------------------- the checker bites


def _corrupt(symbol: str, change) -> dict:
    entry = copy.deepcopy(BY_SYMBOL[symbol])
    change(entry)
    return entry


def _set_secret(index: int, **fields):
    def change(entry: dict) -> None:
        entry["secrets"][index].update(fields)
    return change


# (what is wrong, corrupted entry, a fragment the checker's report must contain)
CORRUPTIONS = [
    ("wrong default secret name", _corrupt("prefect.tasks.notifications.pushbullet_task.PushbulletTask",
                                           _set_secret(0, name="PUSHBULLET_API_TOKEN")),
     "'PUSHBULLET_API_TOKEN' is not read through Secret.get"),
    ("context mechanism claimed for a Secret.get read", _corrupt("prefect.tasks.redis.redis_tasks.RedisGet",
                                                                  _set_secret(0, mechanism="context")),
     "'REDIS_PASSWORD' is not read from prefect.context.secrets"),
    ("secret_get mechanism claimed for a context read", _corrupt("prefect.storage.github.GitHub",
                                                                  _set_secret(1, mechanism="secret_get")),
     "'GITHUB_ACCESS_TOKEN' is not read through Secret.get (straight from prefect.context.secrets instead)"),
    ("wrong default in the name parameter", _corrupt("prefect.tasks.kubernetes.job.CreateNamespacedJob",
                                                      _set_secret(0, name="KUBE_API_KEY")),
     "default of 'kubernetes_api_key_secret' at init is 'KUBERNETES_API_KEY', the catalogue says 'KUBE_API_KEY'"),
    ("name parameter that does not exist", _corrupt("prefect.tasks.azure.blobstorage.BlobStorageUpload",
                                                     _set_secret(0, name_param="azure_secret")),
     "'azure_secret' is not a parameter of init"),
    ("name parameter at the wrong place", _corrupt("prefect.tasks.toloka.operations.create_project",
                                                    _set_secret(0, name_where="init")),
     "'secret_name' is said to be accepted at 'init'"),
    ("skip_if that does not skip", _corrupt("prefect.tasks.notifications.email_task.EmailTask",
                                            _set_secret(0, skip_if={"smtp_type": "SSL"})),
     "'EMAIL_USERNAME' is still read although the catalogue says this scenario avoids it"),
    ("satisfied_by that does not satisfy", _corrupt("prefect.tasks.jira.jira_task.JiraTask",
                                                    _set_secret(0, satisfied_by=["username"])),
     "'JIRASECRETS' is still read although"),
    ("a secret the entry does not declare", _corrupt("prefect.tasks.secrets.vault_secret.VaultSecret",
                                                     lambda e: e.update(secrets=[])),
     "reads secret 'VAULT_CREDENTIALS', which the entry does not declare"),
    ("required claimed for a handled missing secret", _corrupt("prefect.tasks.redis.redis_tasks.RedisSet",
                                                               _set_secret(0, required=False)),
     "the catalogue says 'REDIS_PASSWORD' is optional, but a missing value escapes as an error"),
    ("required claimed for a context secret", _corrupt("prefect.engine.results.s3_result.S3Result",
                                                       _set_secret(0, required=True)),
     "the catalogue says required=True, but with 'AWS_CREDENTIALS' absent from context the consumer carries on"),
    ("wrong kind", _corrupt("prefect.storage.gcs.GCS", lambda e: e.update(kind="result")),
     "kind: the catalogue says 'result', but the object is a class that is a storage"),
    ("none_disables claimed where None still reads", _corrupt("prefect.tasks.notifications.slack_task.SlackTask",
                                                              _set_secret(0, none_disables=True)),
     "passing None does not turn the read off, a secret named 'None' is read"),
    ("an alias that does not import", _corrupt("prefect.tasks.aws.s3.S3Download",
                                               lambda e: e["aliases"].append("prefect.tasks.aws.S3Downloader")),
     "import path prefect.tasks.aws.S3Downloader does not resolve"),
    ("a removed parameter that still exists", _corrupt("prefect.tasks.aws.s3.S3List",
                                                       lambda e: e["removed_params"].append(
                                                           {"param": "prefix", "where": "run", "last_version": "0.15.13"})),
     "removed_params[prefix]: 'prefix' is still a parameter of run"),
    ("a removed constructor keyword that is still accepted", _corrupt("prefect.tasks.aws.s3.S3Upload",
                                                                      lambda e: e["removed_params"].append(
                                                                          {"param": "bucket", "where": "init", "last_version": "0.15.13"})),
     "removed_params[bucket]: 'bucket' is still a parameter of init"),
    ("anonymous access claimed for a library credential chain", _corrupt("prefect.storage.s3.S3",
                                                                         _set_secret(0, unmet="anonymous")),
     "unmet = 'anonymous'"),
    ("a removed keyword swallowed by **kwargs is not proof", _corrupt("prefect.tasks.aws.s3.S3List",
                                                                      lambda e: e["removed_params"].append(
                                                                          {"param": "name", "where": "init", "last_version": "0.15.13"})),
     "removed_params[name]: constructing it with name=... is not refused"),
]


def test_checker_bites(prefect_python):
    """Deliberately corrupted copies of real entries must each be reported; the originals must not."""
    entries = {f"corrupt{i}": entry for i, (_, entry, _) in enumerate(CORRUPTIONS)}
    originals = {f"original{i}": BY_SYMBOL[entry["symbol"]] for i, (_, entry, _) in enumerate(CORRUPTIONS)}
    request = {"symbols": {}, "scenarios": [], "inventory": False,
               "removed": [{"symbol": e["symbol"], "param": rp["param"]} for e in entries.values()
                           for rp in e["removed_params"] if "init" in _wheres(rp["where"])]}
    scenarios: Dict[str, List[dict]] = {}
    for tag, entry in {**entries, **originals}.items():
        request["symbols"][entry["symbol"]] = {"kind": entry["kind"], "paths": sorted({entry["symbol"], *entry["aliases"]}
                                                                                       | set(request["symbols"].get(entry["symbol"], {}).get("paths", ())))}
        scenarios[tag] = [dict(sc, id=f"{tag}/{sc['id']}") for sc in scenarios_for(entry)]
        request["scenarios"].extend(scenarios[tag])
    answer = run_probe(prefect_python, request)

    def report(tag: str, entry: dict) -> List[str]:
        sym = answer["symbols"][entry["symbol"]]
        return (check_static(entry, sym) + check_removed(entry, sym, answer["removed"])
                + check_dynamic(entry, scenarios[tag], answer["scenarios"])
                + check_unmet(entry, scenarios[tag], answer["scenarios"]))

    missed = []
    for i, (what, entry, fragment) in enumerate(CORRUPTIONS):
        problems = report(f"corrupt{i}", entry)
        if not any(fragment in p for p in problems):
            missed.append(f"{what} ({entry['symbol']}): expected a report containing {fragment!r}, got:\n    " + "\n    ".join(problems or ["nothing"]))
        clean = report(f"original{i}", BY_SYMBOL[entry["symbol"]])
        if clean:
            missed.append(f"the uncorrupted {entry['symbol']} is reported too:\n    " + "\n    ".join(clean))
    assert not missed, "the checker did not bite:\n" + "\n".join(missed)
