"""How Prefect 2.x/3.x names a flow and finds it from a deployment's entrypoint.

A flow's name is its `@flow(name=...)`, else its function's name with `_` made `-`
(prefect/flows.py, `Flow.__init__`). A deployment's entrypoint is `path/to/file.py:func`,
`package.module:func` or `package.module.func`; the object after the last `:` (or the last `.`)
may be `Class.method` (`load_flow_from_entrypoint`, `utilities/importtools.py` `import_object`).
A path is relative to the folder `prefect deploy` runs in: the prefect.yaml's.
"""
from __future__ import annotations

from typing import NamedTuple, Optional


def flow_name(function: str, given: Optional[str] = None) -> str:
    """The name Prefect gives the flow of `function` (a bare name), `given` its `name=`."""
    return given or function.replace("_", "-").replace("<lambda>", "unknown-lambda")


class Entrypoint(NamedTuple):
    """An entrypoint split as Prefect splits it: `path` (a script, ending in .py) or `module`
    (a dotted import path), and `obj` (the function, or `Class.method`)."""

    path: Optional[str]
    module: Optional[str]
    obj: str


def split_entrypoint(text: str) -> Optional[Entrypoint]:
    """The parts of an entrypoint, or None when it has neither `:` nor `.` (Prefect refuses it)."""
    text = text.strip()
    if ".py:" in text:
        path, obj = text.rsplit(":", 1)
        return Entrypoint(path, None, obj) if obj else None
    if ":" in text:
        module, obj = text.rsplit(":", 1)
    elif "." in text:
        module, obj = text.rsplit(".", 1)
    else:
        return None
    return Entrypoint(None, module, obj) if module and obj else None
