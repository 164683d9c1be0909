"""Code actions for credlint's diagnostics.

Each provider looks at one diagnostic (with the finding it was made from and the buffer as the
editor has it) and proposes edits; this module turns proposals into LSP code actions. Every
finding but CL000/CL001 can be suppressed on its line; findings with an automatic fix also get
that fix (`credlint.tools.lsp.fixes`).
"""
from __future__ import annotations

from typing import List, Optional

from lsprotocol import types

from credlint.tools.lsp.fixes import automatic_fix
from credlint.tools.lsp.positions import text_lines, to_position
from credlint.tools.lsp.proposals import Proposal, Provider, Target
from credlint.tools.lsp.suppress import suppression_edit

# Findings a comment cannot silence: CL000 is about a file credlint could not read or parse, and
# CL001 is about the suppression comments themselves (`per-file-ignores` silences both).
UNSUPPRESSIBLE = frozenset({"CL000", "CL001"})


def code_actions(targets: List[Target], versioned: bool = True,
                 only: Optional[List[str]] = None) -> List[types.CodeAction]:
    """The code actions of every provider for these diagnostics. `versioned`: the client takes
    `documentChanges`, so an edit is refused if the buffer changed since it was made."""
    actions: List[types.CodeAction] = []
    for target in targets:
        for make in PROVIDERS:
            for proposal in make(target):
                if only and not any(proposal.kind == kind or proposal.kind.startswith(kind + ".") for kind in only):
                    continue
                actions.append(types.CodeAction(
                    title=proposal.title, kind=proposal.kind, diagnostics=[target.diagnostic],
                    edit=_workspace_edit(target, proposal.edits, versioned), is_preferred=proposal.preferred or None))
    return actions


def _workspace_edit(target: Target, edits: List[types.TextEdit], versioned: bool) -> types.WorkspaceEdit:
    if versioned:
        document = types.OptionalVersionedTextDocumentIdentifier(uri=target.uri, version=target.version)
        return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(text_document=document, edits=edits)])
    return types.WorkspaceEdit(changes={target.uri: edits})


def suppress_on_this_line(target: Target) -> List[Proposal]:
    """`# credlint: ignore[CODE]` on the finding's line (or the line before, where the file's
    language allows only whole-line comments)."""
    code = target.code
    if not code.startswith("CL") or code in UNSUPPRESSIBLE:
        return []
    line = target.diagnostic.range.start.line + 1
    edit = suppression_edit(target.path, target.text, line, code)
    if edit is None:
        return []
    lines = text_lines(target.text)
    start = to_position(lines, target.codec, edit.line, edit.start + 1)
    end = to_position(lines, target.codec, edit.line, edit.end + 1)
    return [Proposal(f"credlint: suppress {code} on this line",
                     [types.TextEdit(range=types.Range(start=start, end=end), new_text=edit.text)])]


# Asked in this order for every credlint diagnostic: their actions are listed in it.
PROVIDERS: List[Provider] = [suppress_on_this_line, automatic_fix]
