"""One libcst pass over a Python file that turns it into ModuleFacts.

The walk resolves imports, aliases and module constants itself (libcst's scope and
qualified-name providers cost several times the parse) and only descends into what can hold a
Prefect construct. Positions are computed afterwards for the recorded nodes only.

`Extractor` is that pass, put together from one class per concern: the generic machinery
(`statements`, `scopes`, `folding`, `export`, `credentials`) and Prefect 1.x's recognition (the
`prefect1_*` modules).
"""
from __future__ import annotations

import io
import re
import tokenize
from typing import Dict, List, Optional

import libcst as cst

from credlint.prefect.catalogue import Catalogue
from credlint.facts.types import ModuleFacts, ParseError, Pos, module_name_for
from credlint.facts.python.credentials import CredentialArgs
from credlint.facts.python.export import Export
from credlint.facts.python.folding import Folding
from credlint.facts.python.parse import parse_module
from credlint.facts.python.positions import fill_positions
from credlint.facts.python.prefect1_attachments import Attachments
from credlint.facts.python.prefect1_calls import Calls
from credlint.facts.python.prefect1_flows import Flows
from credlint.facts.python.prefect1_reads import Reads
from credlint.facts.python.prefect1_tasks import TaskWiring
from credlint.facts.python.prefect2_extract import Extractor2
from credlint.facts.python.prefect2_model import model_of
from credlint.facts.python.scopes import Context, Scopes
from credlint.facts.python.statements import Statements
from credlint.facts.suppressions import scan_suppressions


class Extractor(Statements, Scopes, Folding, Calls, Flows, TaskWiring, Attachments, Reads, CredentialArgs, Export):
    """The pass over one file: the state its parts share, the positions they ask for, and the order
    of the work (statements in order, then what needs the whole file, then positions)."""

    def __init__(self, source: str, module: cst.Module, facts: ModuleFacts, catalogue: Catalogue):
        self.source = source
        self.tree = module
        self.f = facts
        self.cat = catalogue
        self.scopes: List[Dict[str, tuple]] = [{}]
        self.scope_kinds: List[str] = ["module"]
        self.ctx: List[Context] = [Context("module", None, None)]
        self.wanted: Dict[int, List[Pos]] = {}
        self.statements: set = set()  # top-level statements holding wanted nodes
        self.statement = 0
        # Helpers that set storage/run config on a flow parameter, and calls that may pass flows.
        self.param_patches: Dict[str, list] = {}
        # Names bound at module level, how often; what was named by a module-level instance's name.
        self.module_binds: Dict[str, int] = {}
        self.hoisted: Dict[str, tuple] = {}  # see Scopes.lookup (the 2.x/3.x pass fills it)
        self.by_var: List[tuple] = []
        self.helper_calls: List[tuple] = []
        self.lambdas = 0  # depth of lambda bodies being read
        self.caught: List[set] = []  # exceptions caught around the statement read (see `try_stmt`)

    # ----- positions -------------------------------------------------------------------------
    def want(self, node: Optional[cst.CSTNode]) -> Pos:
        """A position to fill for `node` once the walk is done (`fill_positions`)."""
        pos = Pos()
        if node is not None:
            self.wanted.setdefault(id(node), []).append(pos)
            self.statements.add(self.statement)
        return pos

    def want_at(self, node: cst.CSTNode, statement: int) -> Pos:
        """`want` for a node of an earlier top-level statement (a call recorded once its value is used)."""
        pos = Pos()
        self.wanted.setdefault(id(node), []).append(pos)
        self.statements.add(statement)
        return pos

    def run(self) -> None:
        for index, stmt in enumerate(self.tree.body):
            self.statement = index
            self.stmt(stmt)
        if self.param_patches:
            self.apply_param_patches()
        self.settle_var_names()
        fill_positions(self.tree, self.source, self.wanted, self.statements)


def extract(source_bytes: bytes, relpath: str, catalogue: Catalogue, prefect: str = "auto",
            tree: Optional[cst.Module] = None) -> ModuleFacts:
    """Facts for one file. Never raises for bad input: a file that cannot be used gets `error`.
    `prefect` is the configuration's setting: which Prefect the file is read under (`model_of`);
    `tree` is `source_bytes` decoded and parsed already, if the caller has it (the fixers)."""
    module, is_package = module_name_for(relpath)
    facts = ModuleFacts(path=relpath, module=module, is_package=is_package)
    encoding = "utf-8"
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source_bytes).readline)  # PEP 263 cookies
        source = source_bytes.decode(encoding)
    except (SyntaxError, LookupError) as exc:
        facts.error = ParseError(f"cannot decode: {exc}")
        return facts
    except UnicodeDecodeError as exc:
        facts.error = ParseError(f"cannot decode as {encoding}: {exc.reason} at byte {exc.start}")
        return facts
    if encoding.replace("_", "-").lower() not in ("utf-8", "utf-8-sig"):
        source = re.sub(r"^(#[^\n]*)coding[:=]\s*[-\w.]+", r"\1coding: utf-8", source, count=1, flags=re.M)
        tree = None  # the caller's tree is of the text before this change
    if source.startswith("\ufeff"):
        source = source[1:]
        tree = None
    try:
        if tree is None:
            tree = parse_module(source)
    except cst.ParserSyntaxError as exc:
        message = str(exc.message)
        where = re.search(r"error at (\d+):(\d+)", message)
        line, column = (int(where.group(1)), int(where.group(2))) if where else (exc.raw_line, exc.raw_column + 1)
        message = re.sub(r"^parser error: error at \d+:\d+: ", "", message)
        try:  # Python's own message is the one users know ("expected ':'")
            compile(source, relpath, "exec", flags=0x400, dont_inherit=True)  # ast.PyCF_ONLY_AST
        except SyntaxError as syntax:
            message = syntax.msg
            line, column = syntax.lineno or line, syntax.offset or column
        except (ValueError, RecursionError, MemoryError):
            pass
        facts.error = ParseError(f"syntax error: {message}", line, column)
        return facts
    except (RecursionError, MemoryError) as exc:
        facts.error = ParseError(f"file too deeply nested or too large to parse ({type(exc).__name__})")
        return facts
    except Exception as exc:  # noqa: BLE001 - the parser can raise its own internal errors
        facts.error = ParseError(f"cannot parse: {type(exc).__name__}")
        return facts
    facts.suppressions = scan_suppressions(source)
    facts.model = model_of(tree, prefect)
    try:
        (Extractor2 if facts.model == "2" else Extractor)(source, tree, facts, catalogue).run()
    except RecursionError:
        bad = ModuleFacts(path=relpath, module=module, is_package=is_package)
        bad.error = ParseError("expression nested too deeply to analyse")
        return bad
    return facts
