"""Reading libcst nodes, with no state: the children worth walking, dotted names, the value of a
plain string literal, and what a block or an `except` clause does. Any pass over Python code can
use them."""
from __future__ import annotations

import dataclasses
from typing import Dict, Iterable, Optional, Tuple

import libcst as cst

_SKIP_FIELD_WORDS = ("whitespace", "lpar", "rpar", "comma", "semicolon", "colon", "equal", "dot",
                     "newline", "lbracket", "rbracket", "lbrace", "rbrace", "operator", "indent",
                     "header", "footer", "leading_lines", "lines_after_decorators", "trailing")
_FIELDS: Dict[type, Tuple[str, ...]] = {}


def _child_fields(tp: type) -> Tuple[str, ...]:
    names = _FIELDS.get(tp)
    if names is None:
        names = tuple(
            f.name for f in dataclasses.fields(tp) if not any(w in f.name for w in _SKIP_FIELD_WORDS)
        )
        _FIELDS[tp] = names
    return names


class SubclassOf(dict):
    """`SubclassOf(base)[type(x)]` is `isinstance(x, base)`, looked up by type. libcst's base
    classes are ABCs: `isinstance` against them runs Python code in `abc` on every call, and the
    walk asks a few hundred thousand times per thousand flows."""

    def __init__(self, base):
        super().__init__()
        self.base = base

    def __missing__(self, tp: type) -> bool:
        found = self[tp] = issubclass(tp, self.base)
        return found


IS_NODE = SubclassOf(cst.CSTNode)
IS_EXPRESSION = SubclassOf(cst.BaseExpression)
IS_SUITE = SubclassOf(cst.BaseSuite)
IS_SMALL = SubclassOf(cst.BaseSmallStatement)
IS_STATEMENT = SubclassOf((cst.BaseCompoundStatement, cst.SimpleStatementLine))


def children(node: cst.CSTNode) -> Iterable[cst.CSTNode]:
    """The child nodes worth reading (whitespace, brackets and punctuation skipped), in order."""
    for name in _child_fields(type(node)):
        value = getattr(node, name)
        tp = type(value)
        if tp is list or tp is tuple:
            for item in value:
                if IS_NODE[type(item)]:
                    yield item
        elif IS_NODE[tp]:
            yield value


def dotted_name(node) -> Optional[str]:
    """`a.b.c` for a name or a chain of attributes of one, else None."""
    tp = type(node)  # exact types: libcst's are ABCs, whose `isinstance` misses run Python code
    if tp is cst.Name:
        return node.value
    if tp is cst.Attribute:
        base = dotted_name(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


def plain_string(literal: str) -> Optional[str]:
    """The value of a string literal without prefix or backslash, without `ast.literal_eval`
    (which compiles: the most common literal cost a compile each); None for any other literal."""
    quote = literal[:1]
    if quote not in ("'", '"') or "\\" in literal or "\r" in literal:
        return None  # escapes, and the newlines Python normalises, go through the slow path
    if literal[:3] == quote * 3:
        return literal[3:-3] if len(literal) >= 6 and literal[-3:] == quote * 3 else None
    return literal[1:-1] if len(literal) >= 2 and literal[-1] == quote else None


def always_returns(body) -> bool:
    """Whether a block always ends in `return` or `raise` (a cautious reading: loops and `try`
    count as blocks that may fall through)."""
    statements = body.body if isinstance(body, (cst.IndentedBlock, cst.SimpleStatementSuite)) else body
    if not statements:
        return False
    last = statements[-1]
    if isinstance(last, cst.SimpleStatementLine):
        return any(isinstance(s, (cst.Return, cst.Raise)) for s in last.body)
    if isinstance(last, (cst.Return, cst.Raise)):
        return True
    if isinstance(last, cst.If):
        if last.orelse is None or not always_returns(last.body):
            return False
        other = last.orelse
        return always_returns(other.body) if isinstance(other, cst.Else) else always_returns([other])
    if isinstance(last, cst.With):
        return always_returns(last.body)
    return False


def raises(node: cst.CSTNode) -> bool:
    """Whether a block raises (not counting the functions, classes and lambdas it defines)."""
    if isinstance(node, cst.Raise):
        return True
    if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
        return False
    return any(raises(child) for child in children(node))


def caught_names(node) -> set:
    """Exception names an `except` clause catches ("*": anything a missing secret raises)."""
    if node is None:
        return {"*"}
    if isinstance(node, cst.Tuple):
        return set().union(*(caught_names(e.value) for e in node.elements)) if node.elements else set()
    name = dotted_name(node)
    name = name.rsplit(".", 1)[-1] if name else ""
    if name in ("Exception", "BaseException"):
        return {"*"}
    if name == "LookupError":
        return {"KeyError"}
    return {name} if name else set()


class ChildWalk:
    """The walk into a statement no handler of the pass knows: its suites, statements, small
    statements and expressions, in source order, handed to the pass's own `suite`, `stmt`, `small`
    and `ev` (shared by the 1.x and the 2.x/3.x statement walkers)."""

    def generic_stmt(self, node: cst.CSTNode) -> None:
        for child in children(node):
            tp = type(child)
            if IS_SUITE[tp]:
                self.suite(child)
            elif IS_STATEMENT[tp]:
                self.stmt(child)
            elif IS_SMALL[tp]:
                self.small(child)
            elif IS_EXPRESSION[tp]:
                self.ev(child)
            else:
                self.generic_stmt(child)
