"""Quick fixes in the editor: each finding's automatic fix (`credlint.fixes`) as a code action,
made against the buffer as the editor has it, with its safety in the title."""
from __future__ import annotations

from typing import List

from lsprotocol import types

from credlint.fixes import SAFE, Source, edit_for
from credlint.tools.lsp.positions import text_lines, to_position
from credlint.tools.lsp.proposals import Proposal, Target


def _line_column(text: str, offset: int):
    """1-based line and column (characters) of an offset, lines ending at \\n."""
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def automatic_fix(target: Target) -> List[Proposal]:
    """The finding's automatic fix, made against the buffer (none when it has no fix or the
    buffer no longer holds what the fix expects)."""
    finding = target.finding
    if finding is None:
        return []
    edit = edit_for(finding, Source(target.path.replace("\\", "/"), target.text))
    if edit is None:
        return []
    lines = text_lines(target.text)
    start = to_position(lines, target.codec, *_line_column(target.text, edit.start))
    end = to_position(lines, target.codec, *_line_column(target.text, edit.end))
    what = finding.fix or "apply the fix"
    return [Proposal(f"credlint: fix {finding.code} ({edit.safety}): {what}",
                     [types.TextEdit(range=types.Range(start=start, end=end), new_text=edit.text)],
                     preferred=edit.safety == SAFE)]
