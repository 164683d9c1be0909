"""Reporters turn findings into text; they never analyse anything."""
from typing import Callable, Dict, TextIO

from credlint.findings.report import Report


def get_reporter(name: str) -> Callable[..., None]:
    import importlib

    # Only the reporter asked for is imported: `full` pulls in rich, the others need nothing.
    modules: Dict[str, str] = {"full": "full", "concise": "concise", "json": "json_", "json-lines": "jsonlines",
                               "sarif": "sarif", "github": "github"}
    return importlib.import_module(f"{__name__}.{modules[name]}").render


FORMATS = ("full", "concise", "json", "json-lines", "sarif", "github")
FIX_FORMATS = ("json", "json-lines")  # the formats that show each finding's fix and its safety

__all__ = ["get_reporter", "FORMATS", "FIX_FORMATS", "Report", "TextIO"]
