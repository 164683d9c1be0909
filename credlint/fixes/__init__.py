"""Automatic fixes, as ruff splits them: safe ones keep behaviour, unsafe ones change it.

A fix is computed from a finding and the text of its file, never by the rule that found it: the
rule says what is wrong, a fixer here knows how to change the bytes. A fixer returns one `Edit`
(a span of the original text and its replacement) or None when it cannot be sure; every edit is
checked before it is offered: the file must still parse with the edit applied. Edits of one
file are applied in one pass, bottom to top; an edit overlapping another is left for the next
pass (`credlint check --fix` re-checks and tries again).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Tuple

from credlint.findings.report import Finding

SAFE, UNSAFE = "safe", "unsafe"
# Each fixable code: its safety, and which of its findings get a fix (the rule page's line). Kept
# here rather than beside the fixers so that a report or a rule page can say it without importing
# them and the parser they need; `fixer` registers a function against this table (a test keeps
# the two equal).
FIX_KINDS: Dict[str, Tuple[str, str]] = {
    "CL101": (UNSAFE,
        "a secret declared nowhere (the Prefect Cloud case without a `cloud-secrets` inventory), "
        "added to the `secrets=[...]` of the flow's storage when it is built in the same file"),
    "CL103": (SAFE,
        "a removed Prefect 0.x argument that 1.x only renamed (EnvVarSecret(env_var=) is name=)"),
    "CL104": (UNSAFE,
        "a name in a storage `secrets=[...]` list or a key of a run config's `env={...}` in Python "
        "code, a line of a config.toml `[context.secrets]` table, and an agent command's `--env "
        "NAME=value` (`-e`, `--env=`) in a script, a Makefile, supervisord, a Dockerfile, compose or "
        "Kubernetes"),
    "CL106": (SAFE,
        "every misspelt variable name in Python code and in deployment files"),
    "CL201": (UNSAFE,
        "a literal given to a 1.x task's credential parameter at run time (in a flow: "
        "`PrefectSecret(\"NAME\")`; in a task: `Secret(\"NAME\").get()`) or to a 2.x/3.x block's secret "
        "field where the block is built (`os.environ[\"NAME\"]`)"),
    "CL202": (UNSAFE,
        "a literal put into `prefect.context.secrets` in code, replaced by `os.environ[\"NAME\"]`; a "
        "literal context secret in a run config's `env={...}`, removed (the agent sets it: `-e "
        "PREFECT__CONTEXT__SECRETS__NAME=...`)"),
    "CL203": (UNSAFE,
        "a literal replaced by a reference: to an environment variable of the same name (`$NAME`, "
        "`${NAME}`) in a `.env` file, a shell script, a compose file or a Prefect config.toml; to "
        "`${{ secrets.NAME }}` in a GitHub Actions `env:`; to a Secret (`valueFrom: {secretKeyRef: "
        "...}`, named after the variable) in a Kubernetes container's `env:`; to a Secret block (`{{ "
        "prefect.blocks.secret.git-access-token }}`, named after the step and the key) in a "
        "prefect.yaml pull step; and a Dockerfile's `ENV NAME=...` or `ARG NAME=...` becomes `ARG "
        "NAME`, a build argument without a value (`--build-arg NAME`, or `docker run -e NAME` at run "
        "time). None for a literal in a prefect.yaml deployment's job variables or parameters: "
        "`prefect deploy` resolves every template there and stores the result (CL303), so the value "
        "belongs in the work pool's base job template or in the flow"),
    "CL403": (SAFE,
        "a `Cls.load(...)` inside an `async def`, which gets its `await` (`(await "
        "Secret.load(\"x\")).get()` when a method is called on it)"),
}
FIXABLE = frozenset(FIX_KINDS)


@dataclass
class Edit:
    """Replace text[start:end] (offsets in the decoded file) by `text`."""

    start: int
    end: int
    text: str
    code: str = ""
    safety: str = SAFE
    # Names the masked diff may show in Python string literals (variable and secret names the
    # fix renames or removes; never values).
    names: Tuple[str, ...] = ()
    shown: bool = False  # the replacement holds only names (a `${NAME}` reference): the diff shows it


class ParseDeferred(Exception):
    """A fixer asked for the parse of a file whose `Source` may not parse it (`annotate`'s first
    pass, which leaves those findings for a second)."""


class WholeModuleNeeded(Exception):
    """A fixer given an outline of its file (`python.PythonFile.outlined`) asked about code the
    outline left out: `edit_for` runs it again on the whole file."""


@dataclass
class Source:
    """One file as fixers see it: its path (relative, with /), its text and, lazily, its parse.

    `facts` are the facts the check extracted from this very text, when the caller has them
    (`python_facts.facts_of` extracts them again otherwise, under the configuration's `prefect`).
    With `may_parse` False, asking for the parse raises `ParseDeferred` instead."""

    path: str
    text: str
    _python: object = None
    _offsets: Optional[List[int]] = None
    facts: object = None
    prefect: str = "auto"
    may_parse: bool = True
    _near: object = None  # an outline's parse (`python_near`); False: the whole file's instead

    @property
    def is_python(self) -> bool:
        return self.path.endswith((".py", ".pyi"))

    def offset(self, line: int, column: int) -> Optional[int]:
        """The offset of a 1-based line and column (lines end at \\n only, as findings count them)."""
        if self._offsets is None:
            starts, at = [0], 0
            for part in self.text.split("\n"):
                at += len(part) + 1
                starts.append(at)
            self._offsets = starts
        if not 1 <= line < len(self._offsets) or column < 1:
            return None
        value = self._offsets[line - 1] + column - 1
        return value if value <= self._offsets[line] - 1 else None

    def span(self, finding: Finding) -> Optional[Tuple[int, int]]:
        start = self.offset(finding.line, finding.column)
        end = self.offset(finding.end_line, finding.end_column)
        if start is None or end is None or end < start:
            return None
        return start, end

    def python(self):
        """The libcst view of the file (`python.PythonFile`), parsed once."""
        if self._python is None:
            if not self.may_parse:
                raise ParseDeferred(self.path)
            from credlint.fixes.python import PythonFile

            self._python = PythonFile(self.text)
        return self._python

    def python_near(self, finding: Finding):
        """The libcst view for a fix that changes only the top-level statement holding `finding`
        (and perhaps the imports): an outline's parse (`PythonFile.outlined`), or the whole
        file's when it is parsed already, when the facts must be extracted from it, or when an
        outline was parsed for another statement already."""
        first, last = finding.line, finding.end_line
        if self._python is not None or self.facts is None:
            return self.python()
        near = self._near
        if near is not None:
            return near if near is not False and near.keeps(first, last) else self.python()
        if not self.may_parse:
            raise ParseDeferred(self.path)
        from credlint.fixes.python import PythonFile

        near = PythonFile.outlined(self.text, first, last)
        self._near = near if near is not None else False
        return near if near is not None else self.python()

    def whole_module_needed(self) -> None:
        """An outline did not do (`python.WholeModuleNeeded`): fixers use the whole file from now."""
        self._near = False


Fixer = Callable[[Finding, Source], Optional[Edit]]


@dataclass
class FixKind:
    code: str
    safety: str
    what: str  # which findings of the code get the fix, for `credlint explain`
    fixer: Fixer = field(repr=False, default=None)


REGISTRY: Dict[str, FixKind] = {}


def fixer(code: str):
    """Register the fixer of one rule code (its safety and page sentence are in `FIX_KINDS`)."""
    safety, what = FIX_KINDS[code]

    def register(function: Fixer) -> Fixer:
        REGISTRY[code] = FixKind(code, safety, what, function)
        return function

    return register


def _load() -> None:
    from credlint.fixes import python, python_refs, text  # noqa: F401 - registers the fixers


def fix_safety_line(code: str) -> str:
    """The rule page's line on automatic fixes (`credlint explain`, SARIF's rule help): from the
    table, so that writing it never loads the fixers."""
    if code not in FIX_KINDS:
        return "Fix safety: no automatic fix"
    safety, what = FIX_KINDS[code]
    how = "credlint check --fix" if safety == SAFE else "credlint check --fix --unsafe-fixes"
    return f"Fix safety: {safety} (`{how}`), for {what}"


def edit_for(finding: Finding, source: Source) -> Optional[Edit]:
    """The checked edit that fixes this finding, or None."""
    _load()
    kind = REGISTRY.get(finding.code)
    if kind is None or finding.suppression is not None:
        return None
    try:
        try:
            edit = kind.fixer(finding, source)
        except WholeModuleNeeded:  # the outline was not enough: again, on the whole file
            source.whole_module_needed()
            edit = kind.fixer(finding, source)
    except ParseDeferred:
        raise
    except Exception:  # noqa: BLE001 - a file the fixer cannot read gets no fix, never a crash
        return None
    if edit is None:
        return None
    edit.code, edit.safety = finding.code, kind.safety
    fixed = source.text[:edit.start] + edit.text + source.text[edit.end:]
    return edit if fixed != source.text and parses(source.path, fixed) else None


def parses(path: str, text: str) -> bool:
    """Whether a fixed file still parses in its own language (others have no parser to ask)."""
    low = path.lower()
    try:
        if low.endswith((".py", ".pyi")):
            compile(text, path, "exec", dont_inherit=True)
        elif low.endswith(".toml"):
            from credlint.tomlcompat import toml

            toml.loads(text)
        elif low.endswith((".yml", ".yaml")):
            import yaml

            for _ in yaml.safe_load_all(text):
                pass
    except Exception:  # noqa: BLE001 - any parse failure means: do not offer this edit
        return False
    return True


def apply_edits(text: str, edits: Iterable[Edit]) -> Tuple[str, List[Edit]]:
    """The text with every edit that does not overlap an earlier-chosen one applied, bottom to
    top; and the edits applied."""
    chosen: List[Edit] = []
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        if chosen and (edit.start < chosen[-1].end or (edit.start == chosen[-1].end == chosen[-1].start)):
            continue  # conflicts with the previous one: next pass
        chosen.append(edit)
    for edit in reversed(chosen):
        text = text[:edit.start] + edit.text + text[edit.end:]
    return text, chosen


# The facts a check extracted from a finding's file (`pipeline.run_rules`: the project model's).
FactsOf = Callable[[Finding], object]


def read_source(path: str, cwd: Path, buffers: Optional[Dict[str, str]] = None) -> Optional[Source]:
    if buffers and path in buffers:
        return Source(path, buffers[path])
    try:
        data = (cwd / path).read_bytes()
        return Source(path, data.decode("utf-8"))
    except (OSError, UnicodeDecodeError):
        return None


@dataclass
class Plan:
    """The edits for a set of findings, by file."""

    sources: Dict[str, Source] = field(default_factory=dict)
    edits: Dict[str, List[Edit]] = field(default_factory=dict)

    def fixed_files(self) -> Dict[str, Tuple[str, str, List[Edit]]]:
        """path -> (old text, new text, edits applied)."""
        out = {}
        for path, edits in sorted(self.edits.items()):
            old = self.sources[path].text
            new, applied = apply_edits(old, edits)
            if applied:
                out[path] = (old, new, applied)
        return out


def plan(findings: Iterable[Finding], cwd: Path, unsafe: bool = False,
         buffers: Optional[Dict[str, str]] = None, facts: Optional[FactsOf] = None, prefect: str = "auto",
         deferred: Optional[List[Finding]] = None) -> Plan:
    """Every finding's edit (safe ones; unsafe too when asked), and set each finding's
    `fix_safety` to the safety of the fix it has, whether or not it is used this time. `facts`
    gives the check's facts of a finding's file, which the fixers that need facts then use
    instead of extracting them again; `prefect` is the configuration's setting, for those that
    must. With a `deferred` list, no file is parsed: the findings whose fixer would parse theirs
    are appended to it instead, and get no edit."""
    _load()
    result = Plan()
    missing = set()
    for finding in findings:
        if finding.code not in REGISTRY or finding.path in missing:
            continue
        source = result.sources.get(finding.path)
        if source is None:
            source = read_source(finding.path, cwd, buffers)
            if source is None:
                missing.add(finding.path)
                continue
            source.prefect = prefect
            source.facts = facts(finding) if facts is not None else None
            source.may_parse = deferred is None
            result.sources[finding.path] = source
        try:
            edit = edit_for(finding, source)
        except ParseDeferred:
            deferred.append(finding)
            continue
        if edit is None:
            continue
        finding.fix_safety = edit.safety
        if edit.safety == SAFE or unsafe:
            result.edits.setdefault(finding.path, []).append(edit)
    return result


# Runs `function(*args)` in another process; the callable it returns waits for the result (None
# when there is none): the run's second process (`store.early.EarlyWorker.call`).
Elsewhere = Callable[[Callable, tuple], Callable[[], object]]


def annotate(findings: Iterable[Finding], cwd: Path, stdin: Optional[Tuple[str, bytes]] = None,
             facts: Optional[FactsOf] = None, prefect: str = "auto", elsewhere: Optional[Elsewhere] = None) -> None:
    """Set `fix_safety` on the findings credlint can fix; `stdin` is (the path it stands for, its
    bytes), which the findings of that path were made from; `facts` and `prefect` as for `plan`.

    A fixer that must parse its file again costs far more than one that can tell from the
    finding and the facts (most say no that way): on a cold run, those parses are most of the
    time spent after the files' own analysis. With `elsewhere`, the findings that need no parse
    are done first, then the files to parse are split in two halves of about the same size, and
    one half is done there meanwhile, with the check's facts of those files: only they are
    pickled, which costs less than the other process's extracting them again."""
    findings = list(findings)
    buffers = None
    if stdin is not None:
        name = os.path.relpath(os.path.abspath(stdin[0]), str(cwd)).replace(os.sep, "/")
        try:
            buffers = {name: stdin[1].decode("utf-8")}
        except UnicodeDecodeError:
            return
    _load()
    if elsewhere is None or buffers is not None:
        plan(findings, cwd, unsafe=True, buffers=buffers, facts=facts, prefect=prefect)
        return
    to_parse: List[Finding] = []
    plan(findings, cwd, unsafe=True, facts=facts, prefect=prefect, deferred=to_parse)
    theirs = _their_half(to_parse, cwd)
    if not theirs:
        plan(to_parse, cwd, unsafe=True, facts=facts, prefect=prefect)
        return
    sent_facts = {f.path: facts(f) for f in theirs} if facts is not None else {}
    answer = elsewhere(fix_safety, (theirs, cwd, prefect, sent_facts))
    sent = {id(f) for f in theirs}
    plan([f for f in to_parse if id(f) not in sent], cwd, unsafe=True, facts=facts, prefect=prefect)
    safeties = answer()
    if not isinstance(safeties, list) or len(safeties) != len(theirs):  # not done there: here after all
        plan(theirs, cwd, unsafe=True, facts=facts, prefect=prefect)
        return
    for finding, safety in zip(theirs, safeties):
        finding.fix_safety = safety


def _their_half(findings: List[Finding], cwd: Path) -> List[Finding]:
    """The fixable findings of the smaller half (in bytes) of the files that have some, when
    there are two files or more: the largest file first to the emptier half."""
    by_path: Dict[str, List[Finding]] = {}
    for finding in findings:
        if finding.code in REGISTRY and finding.suppression is None:
            by_path.setdefault(finding.path, []).append(finding)
    if len(by_path) < 2:
        return []
    sizes = {}
    for path in by_path:
        try:
            sizes[path] = os.stat(cwd / path).st_size
        except OSError:
            sizes[path] = 0
    halves: Tuple[List[str], List[str]] = ([], [])
    loads = [0, 0]
    for path in sorted(by_path, key=lambda p: (-sizes[p], p)):
        emptier = 0 if loads[0] <= loads[1] else 1
        halves[emptier].append(path)
        loads[emptier] += sizes[path]
    return [f for path in halves[1] for f in by_path[path]]


def fix_safety(findings: List[Finding], cwd: Path, prefect: str,
               facts: Optional[Dict[str, object]] = None) -> List[Optional[str]]:
    """Each finding's `fix_safety`, as `annotate` sets it (run in another process): `facts` are
    the check's facts by finding path; a file without them has its facts extracted under the
    configuration's `prefect`."""
    plan(findings, cwd, unsafe=True, prefect=prefect, facts=(lambda f: facts.get(f.path)) if facts else None)
    return [finding.fix_safety for finding in findings]


def write_fixes(fixed: Dict[str, Tuple[str, str, List[Edit]]], cwd: Path) -> int:
    """Write each fixed file in place (same bytes but the edits); the number of edits written."""
    count = 0
    for path, (_, new, applied) in fixed.items():
        target = cwd / path
        target.write_bytes(new.encode("utf-8"))
        count += len(applied)
    return count
