"""The facts credlint extracts from a file, for fixers that must know more than the syntax at a
finding: whether an argument is given at run time in a flow, which call is a flow's storage."""
from __future__ import annotations

from credlint.facts.python.extract import extract
from credlint.facts.types import ModuleFacts
from credlint.fixes import Source
from credlint.prefect.catalogue import builtin_catalogue


def facts_of(source: Source) -> ModuleFacts:
    """The file's facts: the check's own when the caller gave them (`Source.facts`), else
    extracted as a check does (built-in catalogue, the configuration's `prefect`). Extracted
    facts are not kept between calls: they are cheap beside the parse, which is kept."""
    if source.facts is not None:
        return source.facts
    tree = source.python().wrapper.module if source.is_python else None  # parsed once, for the fixer too
    return extract(source.text.encode("utf-8"), source.path, builtin_catalogue(), source.prefect, tree=tree)
