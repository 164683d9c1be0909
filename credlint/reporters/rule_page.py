"""A rule's documentation page, as `credlint explain` prints it, SARIF gives it as each rule's
help and docs/rules.md collects them: made from the rule's docstring and examples, with the fix
safety the fixers know (a later stage than the rules, so the page is written here)."""
from __future__ import annotations


def explain_text(r) -> str:
    """The rule's page in Markdown: summary, what it does and why, up to two bad and two good
    examples, how to fix, and whether credlint fixes it."""
    sections = r.sections()
    lines = [f"{r.code} {r.name} ({r.severity})", "", sections.get("summary", r.summary), ""]
    for title in ("What it does", "Why is this bad?"):
        if title in sections:
            lines += [f"## {title}", sections[title], ""]
    for label, examples in (("Example (bad)", r.bad), ("Example (good)", r.good)):
        for example in examples[:2]:
            lines.append(f"## {label}" + (f": {example.title}" if example.title else ""))
            if example.config:
                lines += ["credlint.toml:", "```toml", example.config.rstrip(), "```"]
            for path, text in example.file_map.items():
                lines += [f"{path}:", "```python", text.rstrip(), "```"]
            lines.append("")
    for title in ("How to fix",):
        if title in sections:
            lines += [f"## {title}", sections[title], ""]
    from credlint.fixes import fix_safety_line

    lines += [fix_safety_line(r.code), ""]
    return "\n".join(lines).rstrip() + "\n"
