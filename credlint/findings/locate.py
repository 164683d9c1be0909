"""Rules' hits made into findings: placed, shown with their masked source lines, fingerprinted
from what the report shows."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

from credlint.config import Config
from credlint.files.paths import display_path, rel_to
from credlint.findings.configmask import mask_config_line
from credlint.findings.masking import marker_columns, mask_line, mask_spans, mask_string_bodies, merge_spans
from credlint.findings.report import Finding, fingerprint
from credlint.findings.report import anchor as fingerprint_anchor
from credlint.findings.sources import Sources

if TYPE_CHECKING:
    from credlint.model.project import Project


def to_findings(hits, project: Project, config: Config, root: Path, cwd: Path, wanted: set,
                sources: Sources, suppressions: Optional[List[Tuple[str, str]]] = None) -> List[Finding]:
    """The hits in the files asked about, as findings sorted for the report: each placed (a hit
    without a line goes on line 1), shown with up to three masked source lines and the marker's
    columns in them, and fingerprinted. `suppressions`, for silenced hits: each one's (kind, why)."""
    from credlint.facts.types import Pos

    findings: List[Finding] = []
    seen = set()
    lines_cache: Dict[str, List[str]] = {}

    def lines_of(rel: str) -> List[str]:
        if rel not in lines_cache:
            data = sources.get(rel) or b""
            # Lines as Python and libcst count them: only \n (and \r\n) end a line, not \f or \v.
            lines_cache[rel] = [line.rstrip("\r") for line in data.decode("utf-8", "replace").split("\n")]
        return lines_cache[rel]

    for number, (rule_, hit) in enumerate(hits):
        if hit.path not in wanted:
            continue
        module = project.modules.get(hit.path)
        pos = hit.pos if hit.pos.line else Pos(1, 1, 1, 1)
        key = (rule_.code, hit.path, pos.line, pos.column, hit.message)
        if key in seen:
            continue
        seen.add(key)
        text_lines = lines_of(hit.path)
        masks: Dict[int, List[Tuple[int, int]]] = {}
        forced_masks: Dict[int, List[Tuple[int, int]]] = {}
        for match in project.pattern_hits.get(hit.path, ()):
            # A known credential format is masked wherever it shows, string or comment.
            for line_no in range(match.line, match.end_line + 1):
                start = match.column if line_no == match.line else 1
                end = match.end_column if line_no == match.end_line else 10 ** 6
                forced_masks.setdefault(line_no, []).append((start, end))
        if module is not None:
            for span in module.sensitive:
                if span.line == span.end_line:
                    masks.setdefault(span.line, []).append((span.column, span.end_column))
                else:
                    for line_no in range(span.line, span.end_line + 1):
                        masks.setdefault(line_no, []).append((1, 10 ** 6))
        literal_only: List[Tuple[int, int]] = []
        if hit.mask and pos.line == pos.end_line:
            literal_only.append((pos.column, pos.end_column))
        snippet = []
        last = min(pos.end_line or pos.line, pos.line + 2)
        unanalysed = module is None or module.error is not None
        for line_no in range(pos.line, last + 1):
            if 1 <= line_no <= len(text_lines):
                text = text_lines[line_no - 1]
                forced = merge_spans(forced_masks.get(line_no, []))
                if not hit.path.endswith(".py"):
                    # A deployment file: show where the variable is, never what it is set to, option
                    # values (an agent's `--key`) and each assignment's alike.
                    anchor = pos.column - 1 if line_no == pos.line and not forced and pos.column else None
                    snippet.append(mask_config_line(mask_spans(text, forced), anchor))
                    continue
                if unanalysed:
                    # Nothing is known about this file's values: show no string's content.
                    snippet.append(mask_string_bodies(mask_spans(text, forced)))
                    continue
                snippet.append(mask_line(text, merge_spans(masks.get(line_no, []) + forced),
                                          literal_only if line_no == pos.line else ()))
        caret = None
        if snippet and 1 <= pos.line <= len(text_lines):
            start = max(pos.column - 1, 0)
            end = pos.end_column - 1 if (pos.end_line or pos.line) == pos.line and pos.end_column > pos.column \
                else len(text_lines[pos.line - 1].rstrip())
            caret = marker_columns(text_lines[pos.line - 1], snippet[0], start, end)
        display = display_path(root / hit.path, cwd)
        findings.append(Finding(
            code=rule_.code, name=rule_.name, severity=hit.severity or rule_.severity, path=display,
            line=pos.line, column=pos.column, end_line=pos.end_line or pos.line,
            end_column=pos.end_column or pos.column, message=hit.message, secret=hit.secret, flow=hit.flow,
            symbol=hit.symbol, fix=hit.fix, snippet=snippet, project_path=hit.path,
            suppression=suppressions[number] if suppressions is not None else None, caret=caret,
        ))
    findings.sort(key=Finding.sort_key)
    occurrences: Dict[Tuple, int] = {}
    for finding in findings:
        # Made from what the report shows (the masked line), never from the source's raw text.
        rel = rel_to(cwd / finding.path, root) or finding.path
        base = (finding.code, rel, finding.secret, finding.flow, finding.symbol, fingerprint_anchor(finding))
        occurrence = occurrences.get(base, 0)
        occurrences[base] = occurrence + 1
        finding.fingerprint = fingerprint(finding, rel, occurrence)
    return findings
