"""Fixes of deployment files (shell, `.env`, compose, TOML, YAML) that change only the bytes
concerned: the finding's exact span, or the value right after it on the same line."""
from __future__ import annotations

import re
from typing import Optional, Tuple

from credlint.facts.deploy.classify import classify
from credlint.prefect.names import SECRETS_ENV_PREFIX, typo_secret_name
from credlint.findings.report import Finding
from credlint.fixes import Edit, Source, fixer
from credlint.fixes.words import raw_words

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# Files where an agent command's `--env NAME=value` is written (CL104 removes the pair).
AGENT_ENV_KINDS = ("shell", "makefile", "supervisord", "dockerfile", "compose", "k8s", "ci-yaml", "yaml")


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


@fixer("CL203")
def reference_instead_of_value(finding: Finding, source: Source) -> Optional[Edit]:
    kind = _kind(source)
    if kind in ("ci-yaml", "k8s", "prefect-yaml"):
        from credlint.fixes.yaml_refs import yaml_reference

        return yaml_reference(kind, finding, source)
    if kind == "dockerfile":
        return build_argument(finding, source)
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
    """CL104 in a deployment file: an agent's `--env NAME=value` goes (`agent_env.py`); in a Prefect
    config.toml, the `NAME = value` line of `[context.secrets]`."""
    kind = _kind(source)
    if kind in AGENT_ENV_KINDS:
        from credlint.fixes.agent_env import remove_agent_env

        return remove_agent_env(kind, finding, source)
    if kind != "prefect-config" or not finding.secret:
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


# ----- Dockerfiles ---------------------------------------------------------------------------------
_INSTRUCTION = re.compile(r"(?P<indent>[ \t]*)(?P<instr>ENV|ARG)(?P<gap>[ \t]+)", re.IGNORECASE)


def build_argument(finding: Finding, source: Source) -> Optional[Edit]:
    """CL203 in a Dockerfile: `ARG NAME=value` loses its value; `ENV NAME=value` (or the old
    `ENV NAME value`) becomes `ARG NAME`, the other pairs of the ENV staying as they were."""
    found = _line(source, finding.line)
    span = source.span(finding)
    if found is None or span is None or finding.line != finding.end_line:
        return None
    line_start, line = found
    before = source.text[:line_start].rstrip("\r\n").rsplit("\n", 1)[-1]
    match = _INSTRUCTION.match(line)
    name = source.text[span[0]:span[1]]
    if match is None or not _NAME.match(name) or line.rstrip().endswith("\\") or before.rstrip().endswith("\\"):
        return None  # continuation lines: left to the user
    words = raw_words(line, match.end(), len(line))
    at = span[0] - line_start
    index = next((k for k, (b, _) in enumerate(words) if b == at), None)
    if index is None:
        return None
    begin, end = words[index]
    instr = match.group("instr").upper()
    if line[begin:end] != name:  # NAME=value
        if not line.startswith(name + "=", begin):
            return None
        if instr == "ARG":
            return Edit(line_start + begin + len(name), line_start + end, "", names=(name,))
        rest = words[:index] + words[index + 1:]
    elif index == 0 and instr == "ENV" and len(words) > 1 and "=" not in line[words[0][0]:words[0][1]]:
        rest = []  # `ENV NAME value with spaces`: the whole rest of the line is the value
    else:
        return None
    head = f"{match.group('indent')}ARG {name}"
    if rest:
        pairs = " ".join(line[b:e] for b, e in rest)
        head += f"\n{match.group('indent')}{match.group('instr')}{match.group('gap')}{pairs}"
    # The diff shows the replacement unmasked only when it holds nothing but the name.
    return Edit(line_start, line_start + len(line), head, names=(name,), shown=not rest)
