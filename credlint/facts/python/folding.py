"""The folded-value algebra: what an expression is worth while the pass reads it (`V`, and `DYN`
for anything unknown), `Folding.ev`, which folds literals, f-strings, `+`, `%`, `.format`'s
operands, dicts, lists and names, and the questions the pass asks of a value (which flow it may
be, which parameter, which reference)."""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import libcst as cst

from credlint.facts.python.syntax import IS_EXPRESSION, IS_SUITE, children, plain_string


class V:
    """An expression's value during the pass (may hold real text: never leaves the pass)."""

    __slots__ = ("kind", "s", "items", "elements", "ref", "call", "flow", "qual", "dyn", "node", "attached",
                 "made", "var")

    def __init__(self, kind, s=None, items=None, elements=None, ref=None, call=None, flow=None,
                 qual=None, dyn=False, node=None, attached=None, made=None):
        self.kind = kind
        self.s = s
        self.items = items  # list of (key text, V, key node, value node)
        self.elements = elements  # list of (V, node)
        self.ref = ref
        self.call = call
        self.flow = flow
        self.qual = qual
        self.dyn = dyn
        self.node = node
        self.attached = attached  # (handler ids, refs) given to a project class's constructor
        # How an instance or result was made, (call node, keywords, positionals, statement), while
        # it may still turn out to be a flow (see `Flows.candidate` and `promote`).
        self.made = made
        # A module-level instance of a project class is known by its own name ("pkg.mod.publish"),
        # so that what is attached to it (`publish.state_handlers = [...]`) follows that object.
        self.var: Optional[str] = None


# Any value the pass cannot fold (shared, never changed).
DYN = V("dynamic")


class Folding:
    """Expressions folded into `V`s. The pass this is part of provides `lookup` (scopes), `call`
    and `subscript` (what a call or a subscript means), `assign` and `suite`."""

    def ev(self, node: cst.CSTNode) -> V:
        """An expression's value; the calls inside it are read on the way (every expression goes through here).

        Node types are compared exactly (they are libcst's concrete classes, never subclassed):
        `isinstance` against libcst's abstract classes is several times slower, on the hottest path."""
        tp = type(node)
        if tp is cst.Name:
            return self.name(node)
        if tp is cst.Call:
            return self.call(node)
        if tp is cst.Attribute:
            base = self.ev(node.value)
            attr = node.attr.value
            if base.kind == "qual" and base.qual:
                return V("qual", qual=f"{base.qual}.{attr}")
            if base.kind == "class" and isinstance(base.ref, dict):
                found = base.ref.get(attr)
                if found and found[0] == "value":
                    return found[1]
            return DYN
        if tp is cst.SimpleString or tp is cst.ConcatenatedString:
            if tp is cst.ConcatenatedString:
                left, right = self.ev(node.left), self.ev(node.right)
                if left.kind == right.kind and left.kind in ("str", "bytes"):
                    return V(left.kind, s=left.s + right.s, node=node)
                return DYN
            value = plain_string(node.value)
            if value is None:
                try:
                    value = node.evaluated_value
                except Exception:  # noqa: BLE001 - malformed escapes are not our concern
                    return DYN
            if isinstance(value, bytes):
                return V("bytes", s=value.decode("latin-1"), node=node)
            return V("str", s=value, node=node)
        if tp is cst.FormattedString:
            parts: List[str] = []
            known = True
            for part in node.parts:
                if isinstance(part, cst.FormattedStringText):
                    parts.append(part.value)
                else:
                    inner = self.ev(part.expression)
                    if inner.kind == "str" and part.format_spec is None and part.conversion is None:
                        parts.append(inner.s)
                    elif inner.kind == "num" and part.format_spec is None:
                        parts.append(inner.s)
                    else:
                        known = False
            return V("str", s="".join(parts), node=node) if known else DYN
        if tp is cst.Integer or tp is cst.Float or tp is cst.Imaginary:
            return V("num", s=node.value, node=node)
        if tp is cst.BinaryOperation:
            left, right = self.ev(node.left), self.ev(node.right)
            if isinstance(node.operator, cst.Add) and left.kind == right.kind == "str":
                return V("str", s=left.s + right.s, node=node)
            if isinstance(node.operator, cst.Modulo) and left.kind == "str":
                args = [v for v, _ in right.elements] if right.kind == "list" else [right]
                if all(a.kind in ("str", "num") for a in args):
                    try:
                        return V("str", s=left.s % tuple(a.s for a in args), node=node)
                    except (TypeError, ValueError):
                        return DYN
            return DYN
        if tp is cst.Dict:
            items = []
            dyn = False
            for element in node.elements:
                if isinstance(element, cst.DictElement):
                    key = self.ev(element.key)
                    value = self.ev(element.value)
                    if key.kind == "str":
                        items.append((key.s, value, element.key, element.value))
                    else:
                        dyn = True
                else:
                    spread = self.ev(element.value)
                    if spread.kind == "dict":
                        items.extend(spread.items)
                        dyn = dyn or spread.dyn
                    else:
                        dyn = True
            return V("dict", items=items, dyn=dyn, node=node)
        if tp is cst.List or tp is cst.Tuple or tp is cst.Set:
            elements = []
            for element in node.elements:
                value = self.ev(element.value)
                if isinstance(element, cst.StarredElement):
                    if value.kind == "list":
                        elements.extend(value.elements)
                    continue
                elements.append((value, element.value))
            return V("list", elements=elements, node=node)
        if tp is cst.Subscript:
            return self.subscript(node)
        if tp is cst.NamedExpr:
            value = self.ev(node.value)
            self.assign(node.target, value, node.value)
            return value
        # Anything else: look inside for calls, but the value itself is not known.
        if tp is cst.Lambda:
            self.lambdas += 1  # its body runs later (a lambda state handler): no build-time read
            try:
                self._walk_expr(node)
            finally:
                self.lambdas -= 1
            return DYN
        self._walk_expr(node)
        return DYN

    def _walk_expr(self, node: cst.CSTNode) -> None:
        for child in children(node):
            if IS_EXPRESSION[type(child)]:
                self.ev(child)
            elif IS_SUITE[type(child)]:
                self.suite(child)
            else:
                self._walk_expr(child)

    def name(self, node: cst.Name) -> V:
        ident = node.value
        binding = self.lookup(ident)
        if binding is None:
            if ident == "None":
                return V("none", node=node)
            if ident in ("True", "False"):
                return V("bool", s=ident, node=node)
            return DYN
        kind = binding[0]
        if kind == "import":
            return V("qual", qual=binding[1])
        if kind == "def":
            if binding[2] in ("class", "taskclass"):
                return V("class", qual=binding[1], ref=binding[3])
            return V("qual", qual=binding[1], ref=binding[2])
        return binding[1]

    def subscript_key(self, node: cst.Subscript) -> Optional[str]:
        """The key of `x[...]` when it folds to one string (`os.environ['X']`)."""
        if len(node.slice) != 1:
            return None
        index = node.slice[0].slice
        if isinstance(index, cst.Index):
            value = self.ev(index.value)
            if value.kind == "str":
                return value.s
        return None


def flow_index_of(value: V) -> Optional[int]:
    """The flow fact a value is or may be: a Flow, an instance of a class that may be a Flow
    subclass, a call's result given a storage, a copy, or `self` in a class's methods."""
    if value.kind in ("flow", "qual", "result", "self"):
        return value.flow
    return None


def param_of(value: V) -> Optional[Tuple[Optional[int], str]]:
    """(position, name) when the value is a parameter of the function being read."""
    ref = value.ref if value.kind == "dynamic" else None
    return (ref[1], ref[2]) if isinstance(ref, tuple) and ref[0] == "param" else None


def argument_for(positionals: List[tuple], keywords: Dict[str, tuple], index: Optional[int], name: str) -> Optional[tuple]:
    """The (V, node) a call passes for a parameter, by keyword or by position."""
    if name in keywords:
        return keywords[name]
    if index is not None and index < len(positionals):
        return positionals[index]
    return None


def ref_of(value: V) -> Optional[str]:
    """A reference to a storage/run config defined elsewhere: a name, or a function's result."""
    if value.kind == "qual" and value.qual:
        return value.qual
    if value.kind == "result" and value.qual:
        return value.qual + "()"
    return None
