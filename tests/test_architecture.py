"""The house rules of the code, checked: the pipeline's stages as folders, imports that only
point down the pipeline, no cycles, no private names borrowed across modules, rooms small enough
to live in. A newcomer who breaks one learns it here, with the import that did it."""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Stages, earliest first. A module may import its own stage and earlier ones, never a later one.
STAGES: List[Tuple[str, Tuple[str, ...]]] = [
    ("base", ("credlint", "credlint.errors", "credlint.tomlcompat", "credlint.links", "credlint.cachedir",
              "credlint.config", "credlint.options")),
    ("files", ("credlint.files",)),
    ("prefect", ("credlint.prefect",)),
    ("facts", ("credlint.facts",)),
    ("store", ("credlint.store",)),
    ("model", ("credlint.model",)),
    ("rules", ("credlint.engine", "credlint.rules")),
    ("findings", ("credlint.findings",)),
    ("fixes", ("credlint.fixes",)),
    ("reporters", ("credlint.reporters",)),
    ("pipeline", ("credlint.pipeline",)),
    ("speed", ("credlint.speed",)),
    ("api", ("credlint.api",)),
    ("tools", ("credlint.tools",)),
    ("cli", ("credlint.cli", "credlint.__main__")),
]
# What a rule may know: the engine, the model, Prefect's conventions and the facts' plain types.
# Never a reader, a store, a finding or a reporter.
RULES_MAY_IMPORT = ("credlint.engine", "credlint.model", "credlint.prefect", "credlint.facts.types",
                    "credlint.facts.naming", "credlint.facts.values", "credlint.facts.deploy.types",
                    "credlint.facts.patterns.table", "credlint.facts.blocks", "credlint.facts.places")
MAX_MODULE_LINES = 600
MAX_CLASS_LINES = 300
# One idea that reads better whole, and why (the issue 17 note lists the same).
BIGGER_ON_PURPOSE: Dict[str, str] = {}


def _modules() -> Dict[str, Path]:
    found = {}
    for path in sorted((ROOT / "credlint").rglob("*.py")) + sorted((ROOT / "rules").glob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[0] == "rules":
            parts = ["credlint"] + parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _stage(module: str) -> int:
    best, length = -1, -1
    for index, (_, prefixes) in enumerate(STAGES):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > length:
                best, length = index, len(prefix)
    return best


def _imports(module: str) -> Iterator[Tuple[str, str, int]]:
    """(imported module, imported name or "", line) for every import, lazy ones included."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "credlint":
                    yield alias.name, "", node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
                target = ".".join(base) + (f".{node.module}" if node.module else "")
            else:
                target = node.module or ""
            if target.split(".")[0] != "credlint":
                continue
            for alias in node.names:
                if f"{target}.{alias.name}" in MODULES:
                    yield f"{target}.{alias.name}", "", node.lineno
                else:
                    yield target, alias.name, node.lineno


def _where(module: str, line: int) -> str:
    return f"{MODULES[module].relative_to(ROOT)}:{line}"


def test_every_module_belongs_to_a_stage():
    assert [m for m in MODULES if _stage(m) < 0] == []


def test_imports_only_point_down_the_pipeline():
    wrong = []
    for module in MODULES:
        for target, _, line in _imports(module):
            if target in MODULES and _stage(target) > _stage(module):
                wrong.append(f"{_where(module, line)}: {module} ({STAGES[_stage(module)][0]}) imports "
                             f"{target} ({STAGES[_stage(target)][0]}), a later stage")
    assert wrong == []


def test_no_private_name_is_borrowed_from_another_module():
    wrong = [f"{_where(module, line)}: {module} imports {target}.{name}"
             for module in MODULES for target, name, line in _imports(module)
             if name.startswith("_") and not name.startswith("__") and target != module]
    assert wrong == []


def test_rules_import_only_what_a_rule_may_know():
    wrong = [f"{_where(module, line)}: {module} imports {target}"
             for module in MODULES if module.startswith("credlint.rules")
             for target, _, line in _imports(module)
             if not any(target == allowed or target.startswith(allowed + ".") for allowed in RULES_MAY_IMPORT)]
    assert wrong == []


def test_reporters_never_import_the_cli_or_analysis():
    wrong = [f"{_where(module, line)}: {module} imports {target}"
             for module in MODULES if module.startswith("credlint.reporters")
             for target, _, line in _imports(module)
             if target.startswith(("credlint.cli", "credlint.facts", "credlint.model", "credlint.store",
                                   "credlint.pipeline", "credlint.api"))]
    assert wrong == []


def test_no_import_cycles():
    graph: Dict[str, Set[str]] = {m: {t for t, _, _ in _imports(m) if t in MODULES and t != m} for m in MODULES}
    # A package's __init__ importing its own modules is how a package shows its API, not a cycle.
    for module in graph:
        graph[module] = {t for t in graph[module] if not (MODULES[t].name == "__init__.py"
                                                          and module.startswith(t + "."))}
    cycles, state, stack = [], {}, []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append(" -> ".join(stack[stack.index(target):] + [target]))
            elif target not in state:
                visit(target)
        stack.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert cycles == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_rooms_are_small_enough_to_live_in(module):
    path = MODULES[module]
    if module in BIGGER_ON_PURPOSE:
        return
    text = path.read_text(encoding="utf-8")
    lines = len(text.splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.relative_to(ROOT)} has {lines} lines (at most {MAX_MODULE_LINES})"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ClassDef):
            size = node.end_lineno - node.lineno + 1
            assert size <= MAX_CLASS_LINES, \
                f"{path.relative_to(ROOT)}:{node.lineno}: class {node.name} has {size} lines (at most {MAX_CLASS_LINES})"
