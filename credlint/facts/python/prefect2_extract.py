"""The pass over a Prefect 2.x/3.x file: the same walk as the 1.x pass (`extract`), with the
shared machinery (`scopes`, `folding`, `export`, `syntax`, `positions`) and its own recognisers
(`prefect2_*`). It records `BlockFacts` (`ModuleFacts.blocks`) and the names other modules import
(imports, definitions, constants), and none of the 1.x facts: a 2.x/3.x file gets no 1.x finding
because there is nothing 1.x in its facts for a 1.x rule to read.
"""
from __future__ import annotations

from typing import Dict, List, Optional

import libcst as cst

from credlint.facts.blocks import BlockFacts
from credlint.facts.places import Pos
from credlint.facts.python.export import Export
from credlint.facts.python.folding import Folding
from credlint.facts.python.positions import fill_positions
from credlint.facts.python.prefect2_blocks import BlockRecords
from credlint.facts.python.prefect2_calls import Calls2
from credlint.facts.python.prefect2_deploy import Deployments2
from credlint.facts.python.prefect2_statements import Statements2
from credlint.facts.python.scopes import Context, Scopes
from credlint.facts.types import ModuleFacts
from credlint.prefect.catalogue import Catalogue


class Extractor2(Statements2, Scopes, Calls2, Folding, Deployments2, BlockRecords, Export):
    """The 2.x/3.x pass over one file: the state its parts share, and the order of the work."""

    def __init__(self, source: str, module: cst.Module, facts: ModuleFacts, catalogue: Catalogue):
        self.source = source
        self.tree = module
        self.f = facts
        self.cat = catalogue
        self.blocks = facts.blocks = BlockFacts()
        self.scopes: List[Dict[str, tuple]] = [{}]
        self.scope_kinds: List[str] = ["module"]
        self.ctx: List[Context] = [Context("module", None, None)]
        self.wanted: Dict[int, List[Pos]] = {}
        self.module_binds: Dict[str, int] = {}
        # Module-level functions by name, for function bodies that call one defined further down
        # (a flow above its tasks): a body runs after the whole module has been executed.
        self.hoisted: Dict[str, tuple] = {
            node.name.value: ("def", self.qualify(node.name.value), "function")
            for node in module.body if isinstance(node, cst.FunctionDef)}
        self.lambdas = 0  # depth of lambda bodies being read (Folding counts them)
        self.defaults = 0  # reading default arguments evaluated at import
        self.caught: List[set] = []  # exceptions caught around the statement read
        self.async_stack: List[bool] = [False]  # whether each enclosing function is `async def`
        self.awaited: set = set()  # ids of the call nodes under `await` (or `asyncio.run`)
        self.local_blocks: Dict[str, bool] = {}  # block classes of this file -> a block for sure
        self.hooks: set = set()  # functions given to flows and tasks as state hooks
        self.sources: List[tuple] = []  # `from_source(...)`: (source Arg, entrypoint)
        self.pending_sites: List[tuple] = []  # calls of project code, with their folded arguments

    def want(self, node: Optional[cst.CSTNode]) -> Pos:
        """A position to fill for `node` once the walk is done."""
        pos = Pos()
        if node is not None:
            self.wanted.setdefault(id(node), []).append(pos)
        return pos

    def run(self) -> None:
        for statement in self.tree.body:
            self.stmt(statement)
        self.finish()
        # Values are often written in an earlier statement than the call that uses them (a dict of
        # job variables, a name constant): the whole module is replayed once for their places.
        fill_positions(self.tree, self.source, self.wanted)
