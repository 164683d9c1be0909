"""Fixes of deployment files (shell, `.env`, compose, TOML, YAML) that change only the bytes
concerned: the finding's exact span, or the value right after it on the same line."""
from __future__ import annotations

import re
from typing import Optional, Tuple

from credlint.facts.deploy.classify import classify
from credlint.prefect.names import SECRETS_ENV_PREFIX, typo_secret_name
from credlint.findings.report import Finding
from credlint.fixes import UNSAFE, Edit, Source, fixer

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _kind(source: Source) -> Optional[str]:
    return classify(source.path, source.text[:65536].encode("utf-8", "replace"))


def _line(source: Source, number: int) -> Optional[Tuple[int, str]]:
    """(offset of the line, the line without its ending)."""
    start = source.offset(number, 1)
    if start is None:
        return None
    end = source.text.find("\n", start)
    end = len(source.text) if end < 0 else end
    return start, source.text[start:end].rstrip("\r")


def rename_secret_variable_text(finding: Finding, source: Source) -> Optional[Edit]:
    """CL106 in a deployment file: the span is the variable's name; spell its prefix right."""
    span = source.span(finding)
    if span is None or not finding.secret:
        return None
    old = source.text[span[0]:span[1]]
    if not _NAME.match(old) or typo_secret_name(old) != finding.secret:
        return None
    new = SECRETS_ENV_PREFIX + finding.secret
    return Edit(span[0], span[1], new, names=(old, new))


def _value_after(line: str, column: int) -> Optional[Tuple[int, int, str, str]]:
    """For `NAME = value`, `NAME: value` or `NAME=value` with NAME ending at `column` (0-based):
    (start, end, value text, separator) of a single-line value, or None."""
    match = re.compile(r"""[ \t]*(?P<sep>[=:])[ \t]*(?P<value>"(?:[^"\\]|\\.)*"|'[^']*'|[^\s#'"]+)"""
                       r"""(?P<rest>[ \t]*(?:#.*)?)\Z""").match(line, column)
    if not match or match.group("value").endswith("\\"):
        return None
    return match.start("value"), match.end("value"), match.group("value"), match.group("sep")


@fixer("CL203", UNSAFE, "a literal in a `.env` file, a shell script, a compose file or a Prefect config.toml, "
                        "replaced by a reference to an environment variable of the same name ($NAME, ${NAME})")
def reference_instead_of_value(finding: Finding, source: Source) -> Optional[Edit]:
    kind = _kind(source)
    if kind not in ("dotenv", "shell", "compose", "prefect-config") or finding.line != finding.end_line:
        return None
    found = _line(source, finding.line)
    span = source.span(finding)
    if found is None or span is None:
        return None
    line_start, line = found
    name = source.text[span[0]:span[1]]
    if not _NAME.match(name):
        return None  # an option (`--key`), a quoted key, ...: no plain variable to name
    value = _value_after(line, span[1] - line_start)
    if value is None:
        return None
    start, end, text, sep = value
    if kind == "prefect-config":
        if sep != "=":
            return None
        variable = name if finding.secret in (None, name) else f"{finding.secret}_{name}"
        reference = f'"${variable.upper()}"'  # Prefect expands $VAR in config.toml strings
    elif kind == "shell":
        if sep != "=" or start != span[1] - line_start + 1:
            return None  # NAME=value, without spaces: an assignment
        reference = f'"${{{name}}}"'
    else:
        # A compose `KEY: value` takes a quoted string; in `- KEY=value` and `.env` quotes are bytes of
        # the value, except where the value was quoted already.
        quoted = text.startswith('"') or (kind == "compose" and sep == ":")
        reference = f'"${{{name}}}"' if quoted else f"${{{name}}}"
    return Edit(line_start + start, line_start + end, reference, names=(name,), shown=True)


def remove_unused_secret_text(finding: Finding, source: Source) -> Optional[Edit]:
    """CL104 in a Prefect config.toml: delete the `NAME = value` line of `[context.secrets]`."""
    if _kind(source) != "prefect-config" or not finding.secret:
        return None
    found = _line(source, finding.line)
    span = source.span(finding)
    if found is None or span is None or source.text[span[0]:span[1]] != finding.secret:
        return None
    line_start, line = found
    if line[:span[0] - line_start].strip() or _value_after(line, span[1] - line_start) is None:
        return None
    end = source.text.find("\n", line_start)
    end = len(source.text) if end < 0 else end + 1
    return Edit(line_start, end, "", names=(finding.secret,))
