"""Reporters turn findings into text; they never analyse anything."""
from typing import Callable, Dict, TextIO

from ..findings import Report


def get_reporter(name: str) -> Callable[..., None]:
    from . import concise, full, json_

    table: Dict[str, Callable[..., None]] = {
        "full": full.render,
        "concise": concise.render,
        "json": json_.render,
    }
    return table[name]


FORMATS = ("full", "concise", "json")

__all__ = ["get_reporter", "FORMATS", "Report", "TextIO"]
