"""The project's baseline in the editor: what `credlint check --baseline FILE` hides, the editor
hides too, so adopting credlint on a repository with old findings does not flood every file.

The command line is told the file; an editor starts the server once for every project, so the
file is named by the client's `initializationOptions` (`{"baseline": "credlint-baseline.json"}`,
relative to each project's root, or absolute; `false` for none), and without that setting it is
`credlint-baseline.json` at the project's root when there is one (the name the README uses).
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Tuple

from credlint.findings.report import Finding

DEFAULT_NAME = "credlint-baseline.json"
UNSET = object()  # no setting from the client: the default file, if it exists


def baseline_file(root: Path, setting=UNSET) -> Optional[Path]:
    """The baseline of the project at `root`, or None."""
    if setting is UNSET or setting is None:
        default = root / DEFAULT_NAME
        return default if default.is_file() else None
    if not isinstance(setting, str) or not setting.strip():
        return None  # false, "": the client asked for none
    path = Path(setting).expanduser()
    return path if path.is_absolute() else root / path


def setting_of(options) -> object:
    """The `baseline` setting of the client's initializationOptions (UNSET when it gives none)."""
    if isinstance(options, dict) and "baseline" in options:
        return options["baseline"]
    return UNSET


def without_known(findings: List[Finding], baseline: Optional[Path]) -> Tuple[List[Finding], Optional[str]]:
    """(the findings the baseline does not record, a one-line problem or None). A baseline that
    cannot be read hides nothing, and says why."""
    if baseline is None:
        return findings, None
    from credlint.errors import UsageError
    from credlint.findings.baseline import apply_baseline
    from credlint.reporters.text import safe

    try:
        return apply_baseline(baseline, findings).kept, None
    except UsageError as exc:
        return findings, f"credlint: baseline not applied: {safe(str(exc))}"
