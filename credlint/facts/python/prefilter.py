"""Which Python files are worth a libcst parse, decided on their bytes alone.

A parse costs about a hundred times a byte search, and in a monorepo most files have nothing
to do with Prefect. A file is parsed when its bytes can matter:

- it mentions Prefect (imports, `PREFECT__...` variables, `prefect.context`): every consumer,
  provider, flow and context secret is reached through a Prefect import;
- it sets a flow's `storage`, `run_config`, `result`, `environment` or `executor` (a
  registration script that imports its flows and never names Prefect itself), or attaches
  state handlers to a task or flow (`publish.state_handlers = [alert]`);
- it holds a credlint suppression comment (which CL001 reports when unused);
- it names something `...Flow`, the name ending there (Prefect's Flow reached through a project alias or subclass:
  `from acme.flows import Flow`, `class Nightly(OwnedFlow)`), or copies something named like a
  flow (`deepcopy(template_flow)`, `base_flow.copy()`), since such files hold flows without
  naming Prefect.

Files outside this set are still parsed when a parsed module imports them (imports are
followed until nothing new is reached), so a `settings.py` that only holds `DB = "..."` is read
as soon as a flow imports it. Credential words (`password`, `token`) are deliberately not a
reason to parse: in a monorepo they are in one file of ten, and a constant nobody passes to a
Prefect class cannot be a finding. Credential formats (CL204) never need a parse: `patterns.scan`
matches them on the same bytes. A test runs every project of the test suite with and without
this filter and compares the findings.

Plain substring tests on the lowered bytes run at memory speed; a case-insensitive regex
alternation over the same words is about fifteen times slower, so regexes only confirm.
"""
from __future__ import annotations

import re

_WORDS = (b"prefect", b"credlint")
_ATTRIBUTES = (b".storage", b".run_config", b".result", b".environment", b".executor", b".state_handlers",
               b".terminal_state_handler")
_ASSIGNED = re.compile(rb"(?<!\bself)\.(?:storage|run_config|result|environment|executor)\s*=(?!=)"
                       rb"|\.(?:state_handlers|terminal_state_handler)\s*(?:=(?!=)|\+=|\.(?:append|extend|insert)\b)")
_NOQA = re.compile(rb"noqa\s*:[^\n]*\bcl\d")
_FLOW_NAME = b"Flow"  # case-sensitive: class names (Flow, CustomFlow), not "workflow" or "flow_run"
_FLOW_NAME_END = re.compile(rb"Flow(?![A-Za-z0-9_])")  # ...that end there: not FlowControl, OverFlowError
_COPIED_FLOW = re.compile(rb"copy\(\s*[\w.]*flow|flow\w*\.copy\(")  # on the lowered bytes


def relevant(data: bytes) -> bool:
    """Can this Python source hold anything credlint reads? (False means: skip the parse.)"""
    lowered = data.lower()
    for word in _WORDS:
        if word in lowered:
            return True
    if b"noqa" in lowered and _NOQA.search(lowered):
        return True
    if (_FLOW_NAME in data and _FLOW_NAME_END.search(data)) or (b"copy(" in lowered and _COPIED_FLOW.search(lowered)):
        return True
    for attribute in _ATTRIBUTES:
        if attribute in data:
            return _ASSIGNED.search(data) is not None
    return False
