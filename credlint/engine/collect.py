"""Finding the rules: the built-in `rules/` package and a user's `rules = [dirs]`, each `check_*`
function with its `@rule` metadata, its fixtures known and its code and name unique."""
from __future__ import annotations

import importlib.util
import inspect
import sys
from pathlib import Path
from typing import Dict, Iterable, List

from credlint.engine.fixtures import FIXTURES
from credlint.engine.rule import Rule
from credlint.errors import RuleError


def _load_module(path: Path, package: str):
    name = f"{package}.{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise RuleError(f"{path}: cannot load")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - a user's rule file may fail in any way
        raise RuleError(f"{path}: {type(exc).__name__}: {exc}") from exc
    return module


def collect_rules(extra_dirs: Iterable[Path] = ()) -> List[Rule]:
    """Built-in rules plus the user's folders, collected by the `check_*` naming convention."""
    import credlint.rules as builtin

    modules = []
    builtin_dir = Path(list(builtin.__path__)[0])
    for path in sorted(builtin_dir.glob("*.py")):
        if path.name.startswith("_"):
            continue
        modules.append(importlib.import_module(f"credlint.rules.{path.stem}"))
    for index, folder in enumerate(extra_dirs):
        folder = Path(folder)
        if not folder.is_dir():
            raise RuleError(f"{folder}: rules folder does not exist")
        for path in sorted(folder.glob("*.py")):
            if not path.name.startswith("_"):
                modules.append(_load_module(path, f"credlint_user_rules_{index}"))
    rules: List[Rule] = []
    seen: Dict[str, str] = {}
    for module in modules:
        for attr, func in sorted(vars(module).items()):
            if not attr.startswith("check_") or not callable(func):
                continue
            meta = getattr(func, "__credlint_rule__", None)
            origin = f"{module.__name__}.{attr}"
            if meta is None:
                raise RuleError(f"{origin}: a check_ function needs @rule(code, name) metadata")
            params = tuple(inspect.signature(func).parameters)
            unknown = [p for p in params if p not in FIXTURES]
            if unknown:
                raise RuleError(f"{origin}: unknown fixture(s) {', '.join(unknown)}; known: {', '.join(FIXTURES)}")
            for key in (meta["code"], meta["name"]):
                if key in seen:
                    raise RuleError(f"{origin}: {key} is already used by {seen[key]}")
                seen[key] = origin
            rules.append(Rule(fixtures=params, func=func, origin=origin, **meta))
    return sorted(rules, key=lambda r: r.code)
