"""Code actions for credlint's diagnostics.

Each provider looks at one diagnostic (with the finding it was made from and the buffer as the
editor has it) and proposes edits; this module turns proposals into LSP code actions. Automatic
fixes (issue 19, point 2) join as providers with `@provider`; the one every finding has today is
"suppress on this line".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, List, Optional

from lsprotocol import types

from credlint.findings.report import Finding
from credlint.tools.lsp.positions import text_lines, to_position
from credlint.tools.lsp.suppress import suppression_edit

# Findings a comment cannot silence: CL000 is about a file credlint could not read or parse, and
# CL001 is about the suppression comments themselves (`per-file-ignores` silences both).
UNSUPPRESSIBLE = frozenset({"CL000", "CL001"})


@dataclass
class Target:
    """One diagnostic of one document, with what a provider needs to propose an edit."""

    uri: str
    path: str  # the document's file path
    version: Optional[int]
    text: str  # the buffer, as the editor has it now
    diagnostic: types.Diagnostic
    finding: Optional[Finding]  # the finding published as this diagnostic, if it is still known
    codec: object  # pygls PositionCodec: the position encoding agreed with the client

    @property
    def code(self) -> str:
        return str(self.diagnostic.code or "")


@dataclass
class Proposal:
    """Edits of the target's document, in characters of its lines (0-based), with a title."""

    title: str
    edits: List[types.TextEdit] = field(default_factory=list)
    kind: str = types.CodeActionKind.QuickFix
    preferred: bool = False


Provider = Callable[[Target], List[Proposal]]
_PROVIDERS: List[Provider] = []


def provider(function: Provider) -> Provider:
    """Register a provider of code actions (called for every credlint diagnostic asked about)."""
    _PROVIDERS.append(function)
    return function


def code_actions(targets: List[Target], versioned: bool = True,
                 only: Optional[List[str]] = None) -> List[types.CodeAction]:
    """The code actions of every provider for these diagnostics. `versioned`: the client takes
    `documentChanges`, so an edit is refused if the buffer changed since it was made."""
    actions: List[types.CodeAction] = []
    for target in targets:
        for make in _PROVIDERS:
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


@provider
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


from credlint.tools.lsp import fixes as lsp_fixes  # noqa: E402,F401 - registers the automatic fixes (issue 19, point 2)
