"""The terminal report: findings grouped by file with their source lines (cropped, never
wrapped, around the finding) and a fix, and one closing summary line that counts every file read
by kind. Clean files are not listed; `progress` shows a run at work on a terminal instead.

On a terminal (or with colour) rich draws it. Written to a pipe or a file, the same lines are
written as plain text by `_Plain`, which lays rules out as rich does at 100 columns: rich costs
about half a millisecond a finding, most of a large report's run (a test keeps the two equal)."""
from collections import Counter, defaultdict
from typing import Callable, Dict, List, TextIO, Union


from credlint.findings.report import Finding, Report
from credlint.reporters.text import safe, safe_source, source_column

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_KINDS = ("Python", "deployment", "other")
PLAIN_WIDTH = 100  # the width of a report written to a pipe or a file


# A line's markup for rich, or a function that makes it: plain text never needs it, and never
# imports rich's markup module (12 ms, a tenth of a warm run) to make it.
Markup = Union[str, Callable[[], str]]


def literal(text: str) -> str:
    """A string from users' files, for rich markup: controls escaped, markup shown as written."""
    return _escaped(safe(text))


def _escaped(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' if number != 1 else ''}"


def _console(out: TextIO, color: bool):
    from rich.console import Console

    # emoji=False: `:key:` in a message from a user's file is shown as written, not as an emoji
    return Console(file=out, force_terminal=color, no_color=not color, highlight=False, emoji=False,
                   width=None if _on_terminal(out, color) else PLAIN_WIDTH, soft_wrap=not color)


def _on_terminal(out: TextIO, color: bool) -> bool:
    """Whether lines can wrap where they are read (a terminal, or colour forced as for one): then
    long source lines are cropped. Pipes and files keep them whole."""
    return color or (hasattr(out, "isatty") and out.isatty())


class _Rich:
    """The report's lines drawn by rich: `text` takes (markup, plain) and uses the markup."""

    def __init__(self, out: TextIO, color: bool):
        self.console = _console(out, color)
        self.width = self.console.width
        self.cropped = _on_terminal(out, color)

    def rule(self, title: str = "", style: str = "") -> None:
        from rich.rule import Rule as RichRule

        self.console.print(RichRule(literal(title) if title else "", style=style))

    def text(self, markup: Markup, plain: str, whole: bool = False) -> None:
        markup = markup() if callable(markup) else markup
        if whole:  # a source line: cropped to the width, never wrapped
            self.console.print(markup, no_wrap=True, crop=True, soft_wrap=False, overflow="crop")
        else:
            self.console.print(markup)

    def blank(self) -> None:
        self.console.print()


class _Plain:
    """The report's lines as plain text, the bytes rich writes without colour at `PLAIN_WIDTH`."""

    def __init__(self, out: TextIO):
        self.out = out
        self.width = PLAIN_WIDTH
        self.cropped = False
        self.lines: List[str] = []

    def rule(self, title: str = "", style: str = "") -> None:
        from rich.cells import cell_len, set_cell_size

        width = self.width
        if not title:
            self.lines.append("\u2500" * width)
            return
        title = safe(title).replace("\n", " ").expandtabs(8)
        limit = width - 4
        if cell_len(title) > limit:  # rich's ellipsis truncation
            title = set_cell_size(title, limit - 1).rstrip() + "\u2026"
            title = set_cell_size(title, limit) if cell_len(title) > limit else title
        side = (width - cell_len(title)) // 2
        left = "\u2500" * max(side - 1, 0)
        right = "\u2500" * max(min(width - cell_len(left) - cell_len(title), side + 1), 0)
        self.lines.append(set_cell_size(f"{left} {title} {right}", width))

    def text(self, markup: Markup, plain: str, whole: bool = False) -> None:
        self.lines.append(plain)

    def blank(self) -> None:
        self.lines.append("")

    def close(self) -> None:
        if self.lines:
            self.out.write("\n".join(self.lines) + "\n")
        self.lines = []


def render(report: Report, out: TextIO, color: bool = False, quiet: bool = False, statistics: bool = False,
           elapsed: float = 0.0, header: str = "", drawn_by: str = "", **_options) -> None:
    """`drawn_by` ("rich" or "plain") overrides the choice made from `out` (tests compare the two)."""
    rich = drawn_by == "rich" or (drawn_by != "plain" and _on_terminal(out, color))
    draw = _Rich(out, color) if rich else _Plain(out)
    by_file: Dict[str, List[Finding]] = defaultdict(list)
    for finding in report.findings:
        by_file[finding.path].append(finding)
    if not quiet and header:
        draw.rule(header, style="bold")
    # Only files with findings: a clean file is counted in the closing summary, not listed.
    for path in sorted(by_file):
        draw.blank()
        draw.rule(path, style="dim")
        for f in by_file[path]:
            style = _STYLE.get(f.severity, "")
            where, code, name, severity = safe(f"{f.path}:{f.line}:{f.column}"), safe(f.code), safe(f.name), \
                safe(f.severity)
            draw.text(lambda: f"[bold]{literal(f.path)}:{f.line}:{f.column}[/]: [{style}]{literal(f.code)}[/] "
                      f"[{style}]{literal(f.name)}[/] [dim]({literal(f.severity)})[/]",
                      f"{where}: {code} {name} ({severity})")
            draw.text(lambda: f"  {literal(f.message)}", f"  {safe(f.message)}")
            if f.snippet:
                _snippet(draw, f, style)
            if f.fix:
                draw.text(lambda: f"  [green]fix[/]: {literal(f.fix)}", f"  fix: {safe(f.fix)}")
    not_followed = report.not_followed
    if not_followed:
        # Flows credlint knows exist but whose tasks it cannot see: said, never skipped in silence.
        draw.blank()
        draw.rule(f"{_count(len(not_followed), 'flow')} not followed: tasks unknown, storage and run config still "
                  f"checked", style="yellow")
        for item in not_followed:
            draw.text(lambda: f"[bold]{literal(item['path'])}:{item['line']}[/]: {literal(item['reason'])}",
                      f"{safe(item['path'])}:{item['line']}: {safe(item['reason'])}")
    if statistics and (report.findings or report.flows.get("found")):
        draw.blank()
        draw.rule("statistics", style="dim")
        counts = Counter((f.code, f.name) for f in report.findings)
        for (code, name), count in sorted(counts.items()):
            draw.text(lambda: f"{count:>5}  {literal(code)}  {literal(name)}", f"{count:>5}  {safe(code)}  {safe(name)}")
        draw.text(f"{report.flows.get('found', 0):>5}  flows found", f"{report.flows.get('found', 0):>5}  flows found")
        draw.text(f"{len(not_followed):>5}  flows not followed", f"{len(not_followed):>5}  flows not followed")
    draw.blank()
    sev = report.by_severity()
    parts = []
    if sev["error"]:
        parts.append(("bold red", f"{sev['error']} error{'s' if sev['error'] != 1 else ''}"))
    if sev["warning"]:
        parts.append(("yellow", f"{sev['warning']} warning{'s' if sev['warning'] != 1 else ''}"))
    if sev["info"]:
        parts.append(("cyan", f"{sev['info']} info"))
    if not parts:
        parts.append(("bold green", "no findings"))
    tail = f" ({report.suppressed} suppressed)" if report.suppressed else ""
    flows = _count(report.flows.get('found', 0), 'flow')
    if not_followed:
        flows += f" ({len(not_followed)} not followed)"
    # A rule, then the summary as a line of its own: too long for a rule's title at 80 columns.
    draw.rule(style="red" if sev["error"] else "yellow" if sev["warning"] else "green")
    rest = f"{_where(report, by_file)}{tail}; checked {_read(report)}, {flows} ({elapsed:.2f}s)"
    draw.text(", ".join(f"[{style}]{text}[/]" for style, text in parts) + rest,
              ", ".join(text for _, text in parts) + rest)
    if isinstance(draw, _Plain):
        draw.close()


def _by_kind(counts: Dict[str, int]) -> str:
    return ", ".join(f"{counts[kind]} {kind}" for kind in _KINDS if counts.get(kind))


def _where(report: Report, by_file: Dict[str, List[Finding]]) -> str:
    """" in 2 files (1 Python, 1 deployment)": the files with findings, by kind."""
    if not by_file:
        return ""
    kinds = Counter(report.kinds.get(path) or ("Python" if path.endswith(".py") else "other") for path in by_file)
    return f" in {_count(len(by_file), 'file')} ({_by_kind(kinds)})"


def _read(report: Report) -> str:
    """"120 files: 100 Python, 20 deployment": every file read. A report made without the
    counts by kind (another build's) has only the Python files."""
    counts = report.files_by_kind or {"Python": report.files}
    detail = _by_kind(counts)
    return _count(sum(counts.values()), "file") + (f": {detail}" if detail else "")


# Where a long source line is cut, so that the caret line below it is never wrapped away.
ELLIPSIS = "\u2026"
_GUTTER_EXTRA = 5  # "  " before the line number, " | " after it


def window(start: int, end: int, length: int, width: int) -> int:
    """The first column to show of a line `length` columns long in `width` columns, so that its
    columns `start`..`end` stay in view (centred when the line must be cut), clear of a `…`."""
    if length <= width:
        return 0
    span = min(max(end - start, 1), width - 2)
    first = max(0, min(start - (width - span) // 2, length - width))
    return min(first, max(start - 1, 0))


def cut(line: str, first: int, width: int) -> str:
    """Columns `first`.. of a display line, at most `width` of them; a cut side shows `…`."""
    shown = line[first:first + width]
    if first and shown:
        shown = ELLIPSIS + shown[1:]
    if first + width < len(line):
        shown = shown[:-1] + ELLIPSIS
    return shown


def _snippet(draw, f: Finding, style: str) -> None:
    """The finding's masked source lines with a `^^^` under its span; cropped on a terminal,
    around the span to the width (shifted the same way on every line, so the caret stays under
    the code)."""
    number_width = len(str(f.line + len(f.snippet)))
    room = max(draw.width - number_width - _GUTTER_EXTRA, 20) if draw.cropped else 1 << 30
    lines = [safe_source(text.rstrip()) for text in f.snippet]
    raw = f.snippet[0].rstrip()
    start, end = f.caret if f.caret else (max(f.column - 1, 0), len(raw))
    start, end = source_column(raw, start), source_column(raw, end)
    first = window(start, end, len(lines[0]), room)
    for offset, shown in enumerate(lines):
        shown = cut(shown, first, room)
        number = f"{f.line + offset:>{number_width}} |"
        draw.text(lambda: f"  [dim]{number}[/] {_escaped(shown)}", f"  {number} {shown}", whole=draw.cropped)
        if offset == 0:
            caret = "^" * max(min(end, first + room) - max(start, first), 1)
            gutter = f"{'':>{number_width}} |"
            draw.text(f"  [dim]{gutter}[/] {' ' * (start - first)}[{style}]{caret}[/]",
                      f"  {gutter} {' ' * (start - first)}{caret}", whole=draw.cropped)


class RunProgress:
    """A transient progress bar on stderr for a long run on a terminal: it appears only once the
    run has taken `delay` seconds (a warm run finishes first) and is gone when the run ends.
    `check` calls it per file read; a report from the server or the run memo calls it never."""

    def __init__(self, delay: float = 0.5):
        import time

        self._clock = time.perf_counter
        self._started = self._clock()
        self._delay = delay
        self._count = 0
        self._bar = None
        self._task = None

    def __call__(self, rel: str, _findings: int = 0) -> None:
        self._count += 1
        if self._bar is None:
            if self._clock() - self._started < self._delay:
                return
            from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._bar = Progress(SpinnerColumn(), TextColumn("credlint: checking"), BarColumn(),
                                 TextColumn("{task.completed} files read"), TimeElapsedColumn(),
                                 console=_stderr_console(), transient=True)
            self._bar.start()
            self._task = self._bar.add_task("check", total=None)
        self._bar.update(self._task, completed=self._count)

    def __enter__(self) -> "RunProgress":
        return self

    def __exit__(self, *_exc) -> None:
        if self._bar is not None:
            self._bar.stop()


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)
