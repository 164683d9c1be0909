"""`credlint preflight` for Prefect 2.x/3.x: do the blocks the flows need exist in the workspace,
is a credentials block empty (ambient), does a Variable hold a credential?

Decided from names and field *states* only (prefect_api.BlockDocument): a field is set or not,
its value is never seen. A block's credential fields are the block catalogue's (its credential
and auth fields, prefect/blocks.py) for the types it knows; for any other type, those its schema
marks secret, those whose name says they hold a credential (facts.naming), and those that choose
which credentials are used (an access key id, a client or tenant id, a profile, a role ARN, a key
file). A credentials block (slug `*-credentials`) with none of them set, or a block whose nested
credentials block is so, is *ambient*: the client library falls back to whatever the machine
running the flow has.
"""
from __future__ import annotations

import difflib
from typing import Callable, Collection, Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from credlint.config import block_ref
from credlint.errors import UsageError
from credlint.facts.naming import is_credential_env_name, is_credential_name, words
from credlint.tools.prefect_api import (URL_VAR, BlockDocument, BlockNode, PrefectAPI, connection_from_environment,
                                        require_connection)

BLOCK_STATUSES = ("present", "ambient", "unverifiable", "missing")
VARIABLE_STATUSES = ("present", "unverifiable", "missing", "credential")
FAILING = ("missing", "credential")
STYLE = {"present": "green", "ambient": "cyan", "unverifiable": "yellow", "missing": "bold red",
         "credential": "bold red"}
CREDENTIALS_SUFFIX = "-credentials"
# Field names that pick which credentials are used, though they hold no secret themselves.
_SELECTORS: Tuple[Tuple[str, ...], ...] = (
    ("access", "key", "id"), ("client", "id"), ("tenant", "id"), ("profile", "name"), ("role", "arn"),
    ("service", "account", "file"), ("private", "key", "path"), ("key", "file"))
_SETTINGS_ENDINGS = ("kwargs", "parameters", "params", "options")  # passed along to a client, not credentials

CredentialFields = Callable[[str], Optional[Collection[str]]]


class Workspace:
    """What `check_blocks` and `check_variables` look at: the workspace's named block documents
    and Variable names, read once."""

    def __init__(self, url: str, blocks: Sequence[BlockDocument], variables: Sequence[str]):
        self.url, self.blocks, self.variables = url, list(blocks), list(variables)
        self.by_ref: Dict[Tuple[str, str], BlockDocument] = {(b.slug, b.name): b for b in self.blocks}


def read_workspace(environ: Optional[Mapping[str, str]] = None) -> Workspace:
    """The workspace at PREFECT_API_URL; PrefectAPIError (exit 2) when it cannot be read."""
    connection = require_connection(environ)
    api = PrefectAPI(connection)
    return Workspace(connection.shown, api.block_documents(), api.variable_names())


def block_refs(texts: Iterable[str], where: str = "") -> List[Tuple[str, str]]:
    """"slug/name" texts as (slug, name); UsageError naming `where` for any other shape."""
    refs = []
    for text in texts:
        ref = block_ref(text)
        if ref is None:
            raise UsageError(f"{where}{text}: expected SLUG/NAME of lowercase letters, digits and dashes "
                             "(e.g. aws-credentials/prod)")
        refs.append(ref)
    return refs


def _contains(parts: List[str], run: Tuple[str, ...]) -> bool:
    return any(tuple(parts[i:i + len(run)]) == run for i in range(len(parts) - len(run) + 1))


def is_credential_field(name: str, node: BlockNode) -> bool:
    if name in node.secret_fields:
        return True
    parts = words(name)
    if not parts or parts[-1] in _SETTINGS_ENDINGS:
        return False
    return is_credential_name(name) or any(_contains(parts, run) for run in _SELECTORS)


def _walk(node: BlockNode, path: str, known: Optional[CredentialFields]) -> Tuple[List[str], List[str]]:
    """(credential fields set, dotted; the credential-bearing blocks with none set, by place)."""
    named = known(node.slug) if known is not None else None
    fields = node.set_fields | node.empty_fields
    own = set(named) & fields if named is not None else {f for f in fields if is_credential_field(f, node)}
    set_paths = [path + f for f in sorted(own & node.set_fields)]
    empty: List[str] = []
    credentials_block = node.slug.endswith(CREDENTIALS_SUFFIX)
    for name, child, saved in node.nested:
        inner_set, inner_empty = _walk(child, f"{path}{name}.", known)
        if credentials_block:  # configuration inside a credentials block (a cluster config) counts whole
            if inner_set or child.set_fields:
                set_paths.append(path + name)
            continue
        set_paths += inner_set
        label = f"{child.slug}/{saved}" if saved else child.slug
        empty += [f"{place} ({label})" if place == path + name else place for place in inner_empty]
    if (own or credentials_block) and not set_paths:
        empty.insert(0, path.rstrip(".") or "the block")
    return set_paths, empty


def assess_document(document: BlockDocument, known: Optional[CredentialFields] = None) -> Tuple[str, str]:
    """(status, detail) of an existing block document: present, or ambient when a credentials
    block in it has no credential field set."""
    set_paths, empty = _walk(document.node, "", known)
    if empty:
        where = "; ".join(f"{place} has no credential field set" for place in empty)
        return "ambient", (f"{where}: the client library falls back to the credentials of the machine the flow "
                           "runs on")
    if set_paths:
        return "present", "credential fields set: " + ", ".join(set_paths)
    return "present", "holds no credentials"


def _missing_detail(slug: str, name: str, workspace: Workspace) -> str:
    other = sorted(b.slug for b in workspace.blocks if b.name == name and b.slug != slug)
    if other:
        return (f"not in the workspace; a block named {name!r} exists as {', '.join(other)} "
                "(a block is found by type and name: load it through that type)")
    names = [b.name for b in workspace.blocks if b.slug == slug]
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.75)
    if close:
        return f"not in the workspace; did you mean {slug}/{close[0]}?"
    if not names:
        return f"not in the workspace, which has no {slug} block"
    return "not in the workspace"


def catalogue_fields(slug: str) -> Optional[FrozenSet[str]]:
    """The block catalogue's credential and auth fields of the types saved under `slug`; None for
    a slug it does not know (a custom block: the schema decides)."""
    from credlint.prefect.blocks import builtin_block_catalogue

    types = builtin_block_catalogue().by_slug(slug)
    return frozenset(f for t in types for f in t.auth_fields + t.credential_fields) if types else None


def check_blocks(needed: Iterable[Tuple[str, str]], workspace: Optional[Workspace] = None,
                 credential_fields: Optional[CredentialFields] = catalogue_fields) -> List[dict]:
    """One row per (slug, name), sorted: does the document exist, and is it ambient? Reads the
    workspace at PREFECT_API_URL unless one is given; `credential_fields(slug)` names a block
    type's credential fields (the catalogue's by default; None, or a None answer: the schema's)."""
    workspace = workspace if workspace is not None else read_workspace()
    rows = []
    for slug, name in sorted(set(needed)):
        document = workspace.by_ref.get((slug, name))
        if document is None:
            status, detail = "missing", _missing_detail(slug, name, workspace)
        else:
            status, detail = assess_document(document, credential_fields)
        rows.append({"block": f"{slug}/{name}", "slug": slug, "name": name, "status": status, "detail": detail})
    return rows


def check_variables(needed: Iterable[str], workspace: Optional[Workspace] = None) -> List[dict]:
    """One row per needed Variable (present or missing) and per workspace Variable whose name
    says it holds a credential (Variables are plain text); `needed` tells them apart: a
    credential fails the preflight only where a flow reads it."""
    workspace = workspace if workspace is not None else read_workspace()
    present, wanted = set(workspace.variables), set(needed)
    rows = []
    for name in sorted(wanted | {v for v in present if is_credential_env_name(v)}):
        if name not in present:
            status, detail = "missing", "not in the workspace: Prefect gives None, or an empty string in a template"
        elif is_credential_env_name(name):
            status = "credential"
            detail = ("the name says it holds a credential, and a Variable is stored and shown in plain text: "
                      "keep it in a Secret block")
        else:
            status, detail = "present", "in the workspace"
        rows.append({"variable": name, "needed": name in wanted, "status": status, "detail": detail})
    return rows


class Needed:
    """What the Prefect 2.x/3.x flows and prefect.yaml deployments of the files asked about need
    from the workspace, with who needs each ("flow etl (flows/etl.py:10)", "deployment prod
    (prefect.yaml:6)"): named blocks by (slug, name), Variables by name, and the loads whose name
    is computed at run time (`computed`: listed, never checked). A name only ever read where the
    code does without it (a load in a `try` that catches a missing block, `Variable.get` with a
    default) is optional: its absence is reported, and fails nothing."""

    def __init__(self):
        self.blocks: Dict[Tuple[str, str], List[str]] = {}
        self.variables: Dict[str, List[str]] = {}
        self.computed: List[dict] = []
        self.required: Set[object] = set()  # (slug, name) of blocks and names of Variables some reader requires

    def _add(self, table: dict, key, who: str, required: bool = True) -> None:
        users = table.setdefault(key, [])
        if who not in users:
            users.append(who)
        if required:
            self.required.add(key)

    def optional(self, key) -> bool:
        return key not in self.required

    def flow(self, flow, who: str) -> None:
        for use in flow.blocks:
            need = use.need
            if need is not None and need.slug:
                self._add(self.blocks, (need.slug, need.name), who, required=not use.load.guarded)
            elif need is None and not use.load.name:
                row = next((r for r in self.computed if r["block"] == use.label and r["slug"] == use.slug), None)
                if row is None:
                    row = {"block": use.label, "slug": use.slug, "name": None, "status": "unverifiable",
                           "detail": "the name is computed at run time"
                                     + (f" (parameter {use.load.name_param})" if use.load.name_param else "")
                                     + ": not checked", "needed_by": []}
                    self.computed.append(row)
                if who not in row["needed_by"]:
                    row["needed_by"].append(who)
        for read in flow.variables:
            if read.use.name:
                self._add(self.variables, read.use.name, who, required=read.use.default is None)

    def templates(self, templates, who: str) -> None:
        for template in templates:
            if template.is_block:
                self._add(self.blocks, (template.ref.slug, template.ref.name), who)
            else:
                self._add(self.variables, template.ref.name, who)


def flow_needs(loaded, flow_name: Optional[str] = None) -> Needed:
    """The blocks and Variables the 2.x/3.x flows (only those named `flow_name`, when given) and the
    prefect.yaml deployments (those running them) of the files asked about need. Nothing, and no
    model built, when those files hold no 2.x/3.x code and no prefect.yaml deployment."""
    from credlint.tools.inventory2 import present

    needed = Needed()
    model = loaded.project.flows2 if present(loaded) else None
    if model is None:
        return needed
    for flow in model.flows:
        if flow.path in loaded.wanted and named(flow, flow_name):
            needed.flow(flow, f"flow {flow.name} ({loaded.display(flow.path)}:{flow.pos.line})")
    for item in model.deployments:
        deployment = item.deployment
        if deployment.path not in loaded.wanted:
            continue
        if flow_name is not None and (item.flow is None or not named(item.flow, flow_name)):
            continue
        who = f"deployment {deployment.name} ({loaded.display(deployment.path)}:{deployment.pos.line})"
        needed.templates(item.templates, who)
        if item.flow is not None:
            needed.flow(item.flow, who)
    if flow_name is None:
        for template in model.loose:  # a prefect.yaml of steps only: its templates still run
            if template.ref.path in loaded.wanted:
                needed.templates([template], f"{loaded.display(template.ref.path)}:{template.ref.pos.line}")
    return needed


def named(flow, name: Optional[str]) -> bool:
    """`--flow NAME` picks a 2.x/3.x flow by its Prefect name or its function's name."""
    return name is None or name in (flow.name, flow.qualname.rsplit(".", 1)[-1])


def _count(rows: List[dict], statuses: Sequence[str]) -> Dict[str, int]:
    return {status: sum(1 for r in rows if r["status"] == status) for status in statuses}


def workspace_section(blocks: Iterable[Tuple[str, str]], variables: Iterable[str], explicit: bool,
                      environ: Optional[Mapping[str, str]] = None,
                      credential_fields: Optional[CredentialFields] = catalogue_fields,
                      needed: Optional[Needed] = None) -> Optional[dict]:
    """The preflight document's `workspace` part, or None when there is nothing to check. Without
    an API URL the names are unverifiable, unless they were asked for on the command line
    (`explicit`): then, as for an unreachable server, PrefectAPIError. `needed`: what the 2.x/3.x
    flows need, checked too; its rows say who needs them (`needed_by`)."""
    needed = needed if needed is not None else Needed()
    blocks_asked, variables_asked = set(blocks), set(variables)  # the config's list, --block, --variable
    blocks = sorted(blocks_asked | set(needed.blocks))
    variables = sorted(variables_asked | set(needed.variables))
    if not blocks and not variables and not needed.computed:
        return None
    connection = connection_from_environment(environ)
    if connection is None and not explicit:
        note = f"{URL_VAR} is not set: the workspace was not asked"
        block_rows = [{"block": f"{s}/{n}", "slug": s, "name": n, "status": "unverifiable", "detail": note}
                      for s, n in blocks]
        variable_rows = [{"variable": v, "needed": True, "status": "unverifiable", "detail": note} for v in variables]
        url = None
    else:
        workspace = read_workspace(environ)
        block_rows = check_blocks(blocks, workspace, credential_fields)
        variable_rows = check_variables(variables, workspace)
        url = workspace.url
    for rows, table, key in ((block_rows, needed.blocks, lambda r: (r["slug"], r["name"])),
                             (variable_rows, needed.variables, lambda r: r["variable"])):
        for row in rows:
            if table.get(key(row)):
                row["needed_by"] = table[key(row)]
                if needed.optional(key(row)) and not explicit_names(row, blocks_asked, variables_asked):
                    row["optional"] = True
                    if row["status"] == "missing":
                        row["detail"] += ("; optional: the code does without it (it catches a missing block, "
                                          "or gives the Variable a default)")
    block_rows += [dict(row) for row in needed.computed]
    return {"api_url": url, "blocks": block_rows, "variables": variable_rows,
            "summary": {"blocks": _count(block_rows, BLOCK_STATUSES),
                        "variables": _count(variable_rows, VARIABLE_STATUSES)}}


def explicit_names(row: dict, blocks: Set[Tuple[str, str]], variables: Set[str]) -> bool:
    """The row's name was asked for by the config's `blocks` list, --block or --variable."""
    return (row.get("slug"), row.get("name")) in blocks if "block" in row else row["variable"] in variables


def section_failed(section: Optional[dict]) -> bool:
    """A needed block or Variable missing (unless the code does without it), or a credential in a
    Variable a flow reads."""
    if not section:
        return False
    return any(row["status"] == "missing" and not row.get("optional") for row in section["blocks"]) or \
        any(row["status"] in FAILING and row["needed"] and not (row.get("optional") and row["status"] == "missing")
            for row in section["variables"])


def render_section(section: dict, console) -> None:
    """The blocks and Variables tables of `credlint preflight` (rich console)."""
    from rich.table import Table

    from credlint.reporters.full import literal

    where = literal(section["api_url"] or f"no {URL_VAR}")
    for kind, rows, key in (("blocks", section["blocks"], "block"), ("Variables", section["variables"], "variable")):
        if not rows:
            continue
        table = Table(title=f"Prefect {kind} ({where})", title_justify="left")
        users = any(row.get("needed_by") for row in rows)
        for column in (key, "status", "detail") + (("needed by",) if users else ()):
            table.add_column(column)
        for row in rows:
            cells = [literal(row[key]), f"[{STYLE[row['status']]}]{row['status']}[/]", literal(row["detail"])]
            if users:
                cells.append(literal("; ".join(row.get("needed_by") or ()) or "-"))
            table.add_row(*cells)
        console.print(table)
    parts = []
    for kind in ("blocks", "variables"):
        counts = ", ".join(f"{n} {status}" for status, n in section["summary"][kind].items() if n)
        if counts:
            parts.append(f"{kind}: {counts}")
    console.print("; ".join(parts))
