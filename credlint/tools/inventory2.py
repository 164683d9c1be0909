"""`credlint inventory` for Prefect 2.x/3.x: per flow, and per prefect.yaml deployment, every block
it loads and every Variable it reads, with its state (`model.flows2`, `model.blocks`).

Rows have the 1.x rows' keys (`secret` holds `slug/name` for a block, the name for a Variable; None
when the name is computed at run time) plus `where` (flow, subflow, task, hook, function, or
module / default / class for code run at import; a prefect.yaml section for a template) and `via`
(the functions from the flow to the one holding the load). A 2.x/3.x flow's entry adds `model`
"2", `function` (its qualified name) and `deployed_by` (the deployments made in Python:
`.deploy(...)`, `.serve(...)`, ...); a deployment's entry its entrypoint, work pool, flow and, when
the entrypoint names no flow of the project, `problem`. Names, states and places only.
"""
from __future__ import annotations

from typing import List, Optional

from credlint.pipeline import Loaded

_DECLARED_BY = {"save": ".save", "terraform": "Terraform prefect_block", "config": "the config's blocks list"}
_REASONS = {
    "unverifiable": "declared nowhere in the repository, and no blocks list is configured",
    "missing": "declared nowhere: not in the blocks list, no .save or Terraform resource makes it",
    "unknown": "not a block class credlint can tell: its slug is unknown",
}
_VARIABLE = "a Variable: nothing in a repository declares one; `credlint preflight` asks the workspace"


def present(loaded: Loaded) -> bool:
    """The files asked about hold Prefect 2.x/3.x code or a prefect.yaml with deployments (cheap:
    the model is built only then)."""
    project = loaded.project
    return any(m.blocks is not None and m.error is None for p, m in project.modules.items() if p in loaded.wanted) \
        or any(f.deployments for f in project.deploy if f.path in loaded.wanted)


def _providers(loaded: Loaded, model, need) -> List[dict]:
    if need is None or need.state != "provided":
        return []
    out = []
    for decl in model.by_name.get(need.name, ()):
        if decl.slug == need.slug or decl.slug is None or need.slug is None:
            out.append({"kind": decl.source, "detail": _DECLARED_BY.get(decl.source, decl.source),
                        "path": loaded.display(decl.path) if decl.path else "", "line": decl.pos.line or None})
    return out


def _reason(need, state: str, computed: Optional[str]) -> Optional[str]:
    if state == "computed":
        return "the name is computed at run time" + (f" (parameter {computed})" if computed else "")
    if need is not None and need.others:
        return f"declared as {', '.join(need.others)}: Prefect finds a block by type and name"
    if need is not None and need.maybe and state == "unverifiable":
        return "a declaration with a computed name may make it"
    if need is not None and need.guarded and state != "provided":
        return "the code catches a missing block itself"
    return _REASONS.get(state)


def _block_row(loaded: Loaded, model, use) -> dict:
    state = use.state
    return {"secret": use.ref, "mechanism": "block", "consumer": use.label, "symbol": use.load.cls,
            "path": loaded.display(use.path), "line": use.load.pos.line, "state": state,
            "providers": _providers(loaded, model, use.need), "argument": None,
            "reason": _reason(use.need, state, use.load.name_param), "optional": bool(use.load.guarded),
            "where": use.role, "via": use.chain}


def _variable_row(loaded: Loaded, read) -> dict:
    name = read.use.name
    state = "unverifiable" if name else "computed"
    return {"secret": name, "mechanism": "variable", "consumer": read.label, "symbol": "prefect.variables.Variable",
            "path": loaded.display(read.path), "line": read.use.pos.line, "state": state, "providers": [],
            "argument": None, "reason": _reason(None, state, read.use.name_param) if not name else _VARIABLE,
            "optional": read.use.default is not None, "where": read.role, "via": read.chain}


def _template_row(loaded: Loaded, model, template) -> dict:
    ref, need = template.ref, template.need
    state = need.state if need is not None else "unverifiable"
    return {"secret": f"{ref.slug}/{ref.name}" if template.is_block else ref.name,
            "mechanism": "block_template" if template.is_block else "variable_template",
            "consumer": template.label, "symbol": None, "path": loaded.display(ref.path), "line": ref.pos.line,
            "state": state, "providers": _providers(loaded, model, need), "argument": None,
            "reason": _reason(need, state, None) if template.is_block else _VARIABLE, "optional": False,
            "where": ref.where, "field": ref.field_path or None, "via": []}


def _sorted(rows: List[dict]) -> List[dict]:
    return sorted(rows, key=lambda n: (n["secret"] or "", n["path"], n["line"], n["consumer"]))


def flow_needs(loaded: Loaded, flow) -> List[dict]:
    model = loaded.project.blocks
    rows = [_block_row(loaded, model, use) for use in flow.blocks]
    return _sorted(rows + [_variable_row(loaded, read) for read in flow.variables])


def flows(loaded: Loaded) -> List[dict]:
    """The 2.x/3.x flows of the files asked about, as inventory entries (`model` "2")."""
    model = loaded.project.flows2
    out = []
    for flow in (model.flows if model is not None else ()):
        if flow.path not in loaded.wanted:
            continue
        not_followed = None
        if flow.not_followed:
            not_followed = "calls what credlint could not find in the project: " + ", ".join(flow.not_followed)
        deployed = [{"method": fact.method, "name": fact.name, "work_pool": fact.work_pool,
                     "path": loaded.display(path), "line": fact.pos.line} for path, fact in flow.deployed]
        out.append({"flow": flow.name, "model": "2", "path": loaded.display(flow.path), "line": flow.pos.line,
                    "function": flow.qualname, "needs": flow_needs(loaded, flow), "not_followed": not_followed,
                    "deployed_by": deployed})
    return out


def deployments(loaded: Loaded) -> List[dict]:
    """Each prefect.yaml deployment of the files asked about: its templates and its flow's needs."""
    model = loaded.project.flows2
    out = []
    for item in (model.deployments if model is not None else ()):
        deployment = item.deployment
        if deployment.path not in loaded.wanted:
            continue
        rows = [_template_row(loaded, loaded.project.blocks, t) for t in item.templates]
        flow = item.flow
        if flow is not None:
            rows += flow_needs(loaded, flow)
        out.append({"deployment": deployment.name, "path": loaded.display(deployment.path),
                    "line": deployment.pos.line, "entrypoint": deployment.entrypoint,
                    "work_pool": deployment.work_pool, "flow": flow.name if flow is not None else None,
                    "flow_path": loaded.display(flow.path) if flow is not None else None,
                    "flow_line": flow.pos.line if flow is not None else None, "problem": item.problem,
                    "needs": _sorted(rows)})
    out.sort(key=lambda d: (d["path"], d["line"]))
    return out


def read_by(need: dict) -> str:
    """The table's "read by" cell: the consumer, where it runs, and its place."""
    place = f"({need['path']}:{need['line']})"
    where = need.get("where")
    if need.get("field"):
        return f"{need['consumer']} in {where} {need['field']} {place}"
    if need.get("via"):
        return f"{need['consumer']} in {where} {need['via'][-1].rsplit('.', 1)[-1]} {place}"
    if where in ("module", "default", "class"):
        return f"{need['consumer']} at import {place}"
    return f"{need['consumer']} in {where} {place}" if where else f"{need['consumer']} {place}"
