"""The facts credlint extracts from a file, for fixers that must know more than the syntax at a
finding: whether an argument is given at run time in a flow, which call is a flow's storage."""
from __future__ import annotations

from credlint.facts.python.extract import extract
from credlint.facts.types import ModuleFacts
from credlint.fixes import Source
from credlint.prefect.catalogue import builtin_catalogue


def facts_of(source: Source) -> ModuleFacts:
    """The file's facts as a check extracts them (built-in catalogue, Prefect model detected).
    Not kept between calls: the text holds the very values the fixes take out."""
    tree = source.python().wrapper.module if source.is_python else None  # parsed once, for the fixer too
    return extract(source.text.encode("utf-8"), source.path, builtin_catalogue(), tree=tree)
