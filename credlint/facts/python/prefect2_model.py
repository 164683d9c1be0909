"""Which Prefect a Python file is written for, decided before the pass that reads it: from its
imports (`from prefect import flow`, `prefect.blocks`, `prefect_aws` against `from prefect import
Flow`, `prefect.tasks.*`, `prefect.storage`, `prefect.client.Secret`), and `@prefect.flow` on a
function after `import prefect`. The configuration's `prefect = "1" | "2" | "3"` overrides it.

Only statements are visited (imports inside functions, `if`, `try` and `with` blocks count),
never expressions: a file's statements are few next to its expressions, so this costs little
beside the pass itself. Which import means which Prefect is `prefect.symbols2`'s to say.
"""
from __future__ import annotations

from typing import Set

import libcst as cst

from credlint.facts.python.syntax import IS_SUITE, dotted_name
from credlint.prefect.symbols2 import FLOW_DECORATOR, FORCED_MODEL, decide_model, import_model


def model_of(tree: cst.Module, setting: str = "auto") -> str:
    """"1", "2" (2.x and 3.x) or "" (no Prefect import) for a parsed file."""
    forced = FORCED_MODEL.get(setting)
    if forced:
        return forced
    scan = _Scan()
    scan.block(tree.body)
    return decide_model(scan.evidence)


class _Scan:
    def __init__(self) -> None:
        self.evidence: Set[str] = set()
        self.prefect_aliases: Set[str] = set()  # local names of `import prefect [as p]`

    @property
    def settled(self) -> bool:
        return "1" in self.evidence  # any 1.x evidence decides (see decide_model)

    def block(self, statements) -> None:
        for statement in statements:
            if self.settled:
                return
            self.statement(statement)

    def statement(self, node: cst.CSTNode) -> None:
        if isinstance(node, cst.SimpleStatementLine):
            self.smalls(node.body)
            return
        if isinstance(node, cst.FunctionDef):
            for decorator in node.decorators:
                expr = decorator.decorator
                name = dotted_name(expr.func if isinstance(expr, cst.Call) else expr) or ""
                head, _, rest = name.partition(".")
                if head in self.prefect_aliases and f"prefect.{rest}" in FLOW_DECORATOR:
                    self.evidence.add("2")
        for name in ("body", "orelse", "finalbody"):
            part = getattr(node, name, None)
            if IS_SUITE[type(part)]:
                self.suite(part)
            elif isinstance(part, (cst.Else, cst.Finally, cst.If)):
                self.statement(part)
        for handler in getattr(node, "handlers", ()) or ():
            self.suite(handler.body)

    def suite(self, suite: cst.BaseSuite) -> None:
        if isinstance(suite, cst.IndentedBlock):
            self.block(suite.body)
        elif isinstance(suite, cst.SimpleStatementSuite):
            self.smalls(suite.body)

    def smalls(self, statements) -> None:
        for small in statements:
            if isinstance(small, cst.Import):
                self.import_(small)
            elif isinstance(small, cst.ImportFrom):
                self.import_from(small)

    def import_(self, node: cst.Import) -> None:
        for alias in node.names:
            module = dotted_name(alias.name) or ""
            found = import_model(module)
            if found:
                self.evidence.add(found)
            if module == "prefect":
                local = alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) \
                    else "prefect"
                self.prefect_aliases.add(local)

    def import_from(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None:
            return  # the project's own modules
        module = dotted_name(node.module) or ""
        if isinstance(node.names, cst.ImportStar):
            found = import_model(module)
            if found:
                self.evidence.add(found)
            return
        for alias in node.names:
            found = import_model(module, dotted_name(alias.name))
            if found:
                self.evidence.add(found)
