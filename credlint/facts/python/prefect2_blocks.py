"""Blocks and Variables as the 2.x/3.x pass records them: a load (`Cls.load("n")`, `aload`,
`Block.load("slug/n")`), a save, a construction with its keywords, a block class of the file, a
Variable read or written; the document name each one names; the values they are given, redacted
(a nested block or a secret's value by its index, never its text)."""
from __future__ import annotations

from typing import Dict, List, Optional

import libcst as cst

from credlint.facts.blocks import BlockBuild, BlockClass, BlockLoad, BlockSave, VariableUse
from credlint.facts.places import Arg
from credlint.facts.python.folding import DYN, V, param_of
from credlint.facts.python.scopes import outside_project
from credlint.facts.python.syntax import dotted_name
from credlint.facts.values import Value, looks_like_credential, secretish
from credlint.prefect.symbols2 import (
    BLOCK_TYPE_NAME, BLOCK_TYPE_SLUG, SECRET_FIELD_TYPES, block_slug, is_block_module_class, split_block_reference,
)

# The 2.x/3.x pass's own kinds of folded values, as the facts name them (see facts.blocks).
_INDEXED_KINDS = {"block": "block_load", "build": "block_build", "block_value": "block_value",
                  "deployment": "deployment"}


class BlockRecords:
    """Loads, saves, builds, block classes and Variables; where the code runs; redacted values."""

    # ----- where the code runs -----------------------------------------------------------------
    def where(self) -> str:
        if self.lambdas:
            return "function"  # a lambda's body runs later, when it is called
        if self.defaults:
            return "default"
        return self.here.kind

    def in_async(self) -> bool:
        return self.async_stack[-1] and not self.lambdas

    def guarded(self, error: str) -> bool:
        return any(error in caught or "*" in caught for caught in self.caught)

    # ----- values ----------------------------------------------------------------------------------
    def export(self, value: V, safe: bool, node=None, mask: bool = True) -> Value:
        kind = _INDEXED_KINDS.get(value.kind)
        if kind is not None:
            return Value(kind, ref=str(value.call))
        if value.kind == "variable":
            return Value("variable", ref=value.ref)
        if value.kind == "result":
            return Value("result", ref=value.qual)
        if value.kind == "dynamic" and param_of(value) is not None:
            return Value("parameter", ref=param_of(value)[1])
        return super().export(value, safe, node, mask)  # type: ignore[misc]

    def arg(self, value: V, node, safe: bool = False, mask: bool = True) -> Arg:
        """An argument as the facts keep it: redacted, placed, with its dict's or list's parts."""
        out = Arg(value=self.export(value, safe=safe, node=node, mask=mask), pos=self.want(node))
        if value.kind == "dict":
            for _, _, key_node, item_node in value.items:
                out.keys.append(self.want(key_node))
                out.parts.append(self.want(item_node))
        elif value.kind == "list":
            out.parts.extend(self.want(item_node) for _, item_node in value.elements)
        return out

    def name_of(self, given: Optional[tuple], split: bool = True) -> Dict[str, object]:
        """What names a block document or a Variable: the folded text (without the slug of
        "slug/name"), another module's constant, or a parameter of the function; never text that
        looks like a secret written where a name belongs (its place is masked instead)."""
        out: Dict[str, object] = {}
        if given is None:
            return out
        value, node = given
        out["name_pos"] = self.want(node)
        if value.kind == "str":
            text = value.s or ""
            if secretish(text) or looks_like_credential(text):
                self.f.sensitive.append(self.want(value.node if value.node is not None else node))
                return out
            slug, name = split_block_reference(text) if split else (None, text)
            out["name"] = name
            if slug is not None:
                out["slug"] = slug
        elif value.kind == "qual" and value.qual:
            out["name_ref"] = value.qual
        elif param_of(value) is not None:
            out["name_param"] = param_of(value)[1]
        return out

    # ----- blocks ----------------------------------------------------------------------------------
    def block_load(self, node: cst.Call, cls: V, method: str, known: bool) -> V:
        keywords, _, _ = self.args(node, ("name",))
        index = len(self.blocks.loads)
        self.blocks.loads.append(BlockLoad(
            index=index, cls=cls.qual, pos=self.want(node), method=method, awaited=id(node) in self.awaited,
            in_async=self.in_async(), where=self.where(), owner=self.here.owner, known=known,
            guarded=self.guarded("ValueError"), **self.name_of(keywords.get("name"))))
        return V("block", call=index, qual=cls.qual)

    def block_save(self, node: cst.Call, block: V, method: str) -> V:
        keywords, _, _ = self.args(node, ("name", "overwrite"))
        overwrite = keywords.get("overwrite")
        names = self.name_of(keywords.get("name"), split=False)
        self.blocks.saves.append(BlockSave(
            index=len(self.blocks.saves), pos=self.want(node), cls=block.qual, method=method,
            overwrite=bool(overwrite and overwrite[0].kind == "bool" and overwrite[0].s == "True"),
            build=block.call if block.kind == "build" else None, load=block.call if block.kind == "block" else None,
            awaited=id(node) in self.awaited, in_async=self.in_async(), where=self.where(), owner=self.here.owner,
            **names))
        return DYN

    def block_build(self, node: cst.Call, cls: V, known: bool, given: tuple) -> V:
        """A block built in code, from its call's evaluated arguments (`given`): every literal it
        is given is masked in snippets (which of its fields are secret is the catalogue's to say,
        and a DSN or URL may hold a password)."""
        keywords, positionals, star = given
        index = len(self.blocks.builds)
        self.blocks.builds.append(BlockBuild(
            index=index, cls=cls.qual, pos=self.want(node),
            args={key: self.arg(value, value_node) for key, (value, value_node) in keywords.items()},
            positional=[self.arg(value, value_node) for value, value_node in positionals], star_kwargs=star,
            where=self.where(), owner=self.here.owner, known=known, in_async=self.in_async()))
        return V("build", call=index, qual=cls.qual)

    def set_field(self, build: V, field_name: str, value: V, value_node) -> None:
        """`creds.aws_secret_access_key = ...` on a block built in this file."""
        self.blocks.builds[build.call].args[field_name] = self.arg(value, value_node)

    def block_class(self, node: cst.ClassDef, qual: str, bases: List[V]) -> None:
        """A block class of this file: its bases lead to Block (known), or to a class of another
        project module (the model follows `bases`)."""
        known = maybe = False
        for base in bases:
            if base.kind == "class" and base.qual in self.local_blocks:
                known = known or self.local_blocks[base.qual]
                maybe = True
            elif base.kind == "qual" and base.qual:
                if is_block_module_class(base.qual):
                    known = True
                elif base.qual.rsplit(".", 1)[-1][:1].isupper() and not outside_project(base.qual):
                    maybe = True
        if not (known or maybe):
            return
        self.local_blocks[qual] = known
        fact = BlockClass(qualname=qual, pos=self.want(node.name), known=known,
                          bases=[b.qual for b in bases if b.kind in ("qual", "class") and b.qual])
        statements = node.body.body if isinstance(node.body, cst.IndentedBlock) else []
        for statement in statements:
            for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else ():
                self._class_member(fact, small)
        written = fact.type_slug or fact.type_name
        fact.slug = block_slug(written) if written else None
        self.blocks.classes.append(fact)

    def _class_member(self, fact: BlockClass, small: cst.CSTNode) -> None:
        if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
            name = small.target.value
            annotation = small.annotation.annotation
            if name in (BLOCK_TYPE_SLUG, BLOCK_TYPE_NAME) or name.startswith("_") or _mentions(annotation, {"ClassVar"}):
                self._type_attribute(fact, name, small.value)
                return
            fact.fields.append(name)
            if _mentions(annotation, SECRET_FIELD_TYPES):
                fact.secret_fields.append(name)
        elif isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
            self._type_attribute(fact, small.targets[0].target.value, small.value)

    def _type_attribute(self, fact: BlockClass, name: str, value_node) -> None:
        if value_node is None or name not in (BLOCK_TYPE_SLUG, BLOCK_TYPE_NAME):
            return
        value = self.ev(value_node)
        if value.kind == "str":
            setattr(fact, "type_slug" if name == BLOCK_TYPE_SLUG else "type_name", value.s)

    # ----- Variables ----------------------------------------------------------------------------
    def variable_use(self, node: cst.Call, op: str, method: str) -> V:
        """`Variable.get("n", default=...)`, `Variable.set("n", value, overwrite=True)`, `unset`."""
        keywords, _, _ = self.args(node, ("name", "value") if op == "set" else ("name", "default"))
        overwrite = keywords.get("overwrite")
        value = keywords.get("value") if op == "set" else None
        default = keywords.get("default") if op == "get" else None
        index = len(self.blocks.variables)
        self.blocks.variables.append(VariableUse(
            op=op, pos=self.want(node), method=method,
            value=self.arg(*value) if value else None, default=self.arg(*default) if default else None,
            overwrite=bool(overwrite and overwrite[0].kind == "bool" and overwrite[0].s == "True"),
            awaited=id(node) in self.awaited, in_async=self.in_async(), where=self.where(), owner=self.here.owner,
            **self.name_of(keywords.get("name"), split=False)))
        if op != "get":
            return DYN
        return V("variable", call=index, ref=self.blocks.variables[index].name)

    def named_at_module_level(self, name: str, value: V) -> None:
        """A module-level name bound to a block (or its `.get()`), a build, a deployment or a
        Variable's value."""
        facts = {"block": self.blocks.loads, "block_value": self.blocks.loads, "build": self.blocks.builds,
                 "deployment": self.blocks.deployments, "variable": self.blocks.variables}.get(value.kind)
        if facts is not None and value.call is not None and facts[value.call].var is None:
            facts[value.call].var = name


def _mentions(annotation: cst.CSTNode, names) -> bool:
    """Whether an annotation names one of `names` anywhere (`Optional[SecretStr]`, `SecretStr | None`)."""
    if isinstance(annotation, (cst.Name, cst.Attribute)):
        return (dotted_name(annotation) or "").rsplit(".", 1)[-1] in names
    if isinstance(annotation, cst.Subscript):
        return _mentions(annotation.value, names) or any(
            isinstance(e.slice, cst.Index) and _mentions(e.slice.value, names) for e in annotation.slice)
    if isinstance(annotation, cst.BinaryOperation):
        return _mentions(annotation.left, names) or _mentions(annotation.right, names)
    if isinstance(annotation, (cst.SimpleString, cst.ConcatenatedString)):
        return any(n in getattr(annotation, "value", "") for n in names)
    return False
