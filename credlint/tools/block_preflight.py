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
from typing import Callable, Collection, Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Tuple

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


def _count(rows: List[dict], statuses: Sequence[str]) -> Dict[str, int]:
    return {status: sum(1 for r in rows if r["status"] == status) for status in statuses}


def workspace_section(blocks: Iterable[Tuple[str, str]], variables: Iterable[str], explicit: bool,
                      environ: Optional[Mapping[str, str]] = None,
                      credential_fields: Optional[CredentialFields] = catalogue_fields) -> Optional[dict]:
    """The preflight document's `workspace` part, or None when there is nothing to check. Without
    an API URL the names are unverifiable, unless they were asked for on the command line
    (`explicit`): then, as for an unreachable server, PrefectAPIError."""
    blocks, variables = sorted(set(blocks)), sorted(set(variables))
    if not blocks and not variables:
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
    return {"api_url": url, "blocks": block_rows, "variables": variable_rows,
            "summary": {"blocks": _count(block_rows, BLOCK_STATUSES),
                        "variables": _count(variable_rows, VARIABLE_STATUSES)}}


def section_failed(section: Optional[dict]) -> bool:
    """A needed block or Variable missing, or a credential in a Variable a flow reads."""
    if not section:
        return False
    return any(row["status"] == "missing" for row in section["blocks"]) or \
        any(row["status"] in FAILING and row["needed"] for row in section["variables"])


def render_section(section: dict, console) -> None:
    """The blocks and Variables tables of `credlint preflight` (rich console)."""
    from rich.table import Table

    from credlint.reporters.full import literal

    where = literal(section["api_url"] or f"no {URL_VAR}")
    for kind, rows, key in (("blocks", section["blocks"], "block"), ("Variables", section["variables"], "variable")):
        if not rows:
            continue
        table = Table(title=f"Prefect {kind} ({where})", title_justify="left")
        for column in (key, "status", "detail"):
            table.add_column(column)
        for row in rows:
            table.add_row(literal(row[key]), f"[{STYLE[row['status']]}]{row['status']}[/]", literal(row["detail"]))
        console.print(table)
    parts = []
    for kind in ("blocks", "variables"):
        counts = ", ".join(f"{n} {status}" for status, n in section["summary"][kind].items() if n)
        if counts:
            parts.append(f"{kind}: {counts}")
    console.print("; ".join(parts))
