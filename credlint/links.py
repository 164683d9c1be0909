"""Where each rule's page is: the `url` of JSON findings and SARIF's `helpUri`.

credlint documents its rules in docs/rules.md (`python -m credlint.tools.docs`), one `## CODE name`
section per rule, which GitHub anchors as `#<code in lower case>-<name>`. `docs-url` in the
configuration points the links elsewhere: a page to which the anchor is added, or a template with
`{code}` and `{name}` for a site with a page per rule. Rules from a project's own rules folders
are not in credlint's documentation, so they get no link.
"""
from __future__ import annotations

import re
from typing import Optional

DEFAULT_DOCS_URL = "https://github.com/credlint/credlint/blob/main/docs/rules.md"
PLACEHOLDERS = ("{code}", "{name}")

_CREDLINT_CODE = re.compile(r"CL\d{3}")
_URL = re.compile(r"https?://[^\s/?#]+[^\s]*")


def anchor(code: str, name: str) -> str:
    """The fragment GitHub gives the heading `## CODE name` (a code and a kebab-case name)."""
    return f"{code.lower()}-{name}"


def rule_url(code: str, name: str, docs_url: Optional[str] = None) -> Optional[str]:
    """The page of a credlint rule, or None for a rule credlint does not document."""
    if not _CREDLINT_CODE.fullmatch(code):
        return None
    base = docs_url or DEFAULT_DOCS_URL
    if any(p in base for p in PLACEHOLDERS):
        return base.replace("{code}", code).replace("{name}", name)
    return f"{base}#{anchor(code, name)}"


def valid_docs_url(value: object) -> bool:
    """An http(s) URL without spaces; a fragment (`#`) only where a placeholder makes one."""
    if not isinstance(value, str) or not _URL.fullmatch(value):
        return False
    templated = any(p in value for p in PLACEHOLDERS)
    leftover = value.replace("{code}", "").replace("{name}", "")
    if "{" in leftover or "}" in leftover:
        return False
    return templated or "#" not in value
