"""Probe the real prefect.yaml step functions for tests/test_block_catalogue_proof.py.

Runs INSIDE a venv holding the real packages, with blocks_probe.py beside it (its fake client
libraries, its boto3 recorder and its closed network are reused); never imports credlint. Reads
one JSON document on stdin:

    {"packages": ["prefect", "prefect_aws", ...],          # whose versions to report
     "modules": ["prefect_aws.deployments.steps", ...],    # list every public function they define
     "steps": {function: {"paths": [function, *aliases],
                          "drive": {input: value} or null}}} # run it with these inputs alone

and writes one JSON document to the original stdout:

    {"versions": {distribution: version},
     "modules": {module: {name: {"params": [...], "required": [...], "var_keyword": bool}} or {"error": ...}},
     "steps": {function: {"paths": {path: "ok" | error}, "params": [...], "required": [...],
                          "drive": {"calls": [[name, [keywords]], ...], "error": "..." or null}}}}

`drive` runs the step the way Prefect's `run_step` does (`fn(**inputs)`, awaited when it is a
coroutine) in an empty temporary folder, and records which credential-chain entry points it
reached before it failed (it always fails: there is no network and no credential).
"""
from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import blocks_probe  # noqa: E402  (fakes, the boto3 recorder, no network; stdout redirected)


def _resolve(path: str):
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _signature(fn) -> dict:
    params = inspect.signature(fn).parameters.values()
    return {"params": [p.name for p in params if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)],
            "required": [p.name for p in params if p.default is p.empty
                         and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)],
            "var_keyword": any(p.kind == p.VAR_KEYWORD for p in params)}


def _functions(module_name: str) -> dict:
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - reported, the test says what failed
        return {"error": blocks_probe._short(exc)}
    out = {}
    for name, obj in sorted(vars(module).items()):
        fn = inspect.unwrap(obj) if callable(obj) else None
        if name.startswith("_") or not inspect.isfunction(fn) or fn.__module__ != module_name:
            continue
        out[name] = _signature(fn)
    return out


def _clear_caches() -> None:
    """Forget the clients the integrations cache (prefect-aws keeps boto3 clients in an lru_cache):
    each drive must build its own, or a step run after another reaches no chain at all."""
    for name, module in list(sys.modules.items()):
        if name.startswith("prefect_") and module is not None:
            for value in list(vars(module).values()):
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()


def _drive(fn, inputs: dict) -> dict:
    _clear_caches()
    del blocks_probe.CALLS[:]
    error = None
    try:
        result = fn(**inputs)
        if inspect.iscoroutine(result):
            asyncio.run(result)
    except BaseException as exc:  # noqa: BLE001 - the chain was reached or not: the calls say which
        error = blocks_probe._short(exc)
    return {"calls": [list(c) for c in blocks_probe.CALLS], "error": error}


def probe_step(request: dict) -> dict:
    out = {"paths": {}}
    first = None
    for path in request["paths"]:
        try:
            found = inspect.unwrap(_resolve(path))
        except Exception as exc:  # noqa: BLE001
            out["paths"][path] = blocks_probe._short(exc)
            continue
        first = first or found
        out["paths"][path] = "ok" if found is first else f"another function: {found.__module__}.{found.__qualname__}"
    if first is None:
        return out
    out.update(_signature(first))
    if request.get("drive") is not None:
        out["drive"] = _drive(_resolve(request["paths"][0]), request["drive"])
    return out


def main() -> None:
    import os
    import tempfile
    import warnings

    warnings.simplefilter("ignore")
    request = json.load(sys.stdin)
    blocks_probe._record_boto3()
    answer = {"versions": blocks_probe._versions(request["packages"]), "modules": {}, "steps": {}}
    for name in request.get("modules", ()):
        answer["modules"][name] = _functions(name)
    with tempfile.TemporaryDirectory(prefix="credlint-steps-probe-") as tmp:
        os.chdir(tmp)  # a push step uploads the folder it runs in: an empty one
        for function, step in request.get("steps", {}).items():
            answer["steps"][function] = probe_step(step)
    json.dump(answer, blocks_probe._ANSWER)
    blocks_probe._ANSWER.flush()


if __name__ == "__main__":
    main()
