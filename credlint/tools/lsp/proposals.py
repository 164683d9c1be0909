"""What a code action is made of: the diagnostic it answers (`Target`) and the edits a provider
proposes for it (`Proposal`). Providers are plain functions from one to a list of the other."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, List, Optional

from lsprotocol import types

from credlint.findings.report import Finding


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
