"""Reporters turn findings into text; they never analyse anything."""
from typing import Callable, Dict, TextIO

from ..findings import Report


def get_reporter(name: str) -> Callable[..., None]:
    from . import concise, full, github, json_, jsonlines, sarif

    table: Dict[str, Callable[..., None]] = {
        "full": full.render,
        "concise": concise.render,
        "json": json_.render,
        "json-lines": jsonlines.render,
        "sarif": sarif.render,
        "github": github.render,
    }
    return table[name]


FORMATS = ("full", "concise", "json", "json-lines", "sarif", "github")

__all__ = ["get_reporter", "FORMATS", "Report", "TextIO"]
