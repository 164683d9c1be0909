"""Terraform (`.tf`, `.tfvars`): Prefect blocks it declares, and credentials written into it.

Parsed with a real HCL2 parser (python-hcl2's Lark grammar, imported only when a Terraform file is
read); its parse tree keeps every token's line and column. Read:
- `resource "prefect_block"`: a `BlockDecl` (type_slug, name, the keys `data` sets), and the
  literal credentials in its `data` (`jsonencode({...})` or a JSON heredoc);
- the other `prefect_*` resources (deployments' pull steps and job variables, work pools' base job
  templates, ...), `provider "prefect"` and `variable` defaults: literal credentials, by their
  key's name or their format (a variable by its own name too); and in those resources, the
  `{{ prefect.blocks... }}` templates Prefect resolves (refs, as in a prefect.yaml);
- in `.tfvars`, top-level assignments the same way.
Each literal credential is an entry of scope "deploy-setting" for CL203. A file that does not
parse is CL000 (its credential formats are still scanned, as for every file).
"""
from __future__ import annotations

import json
import re
from typing import FrozenSet, Iterator, List, Optional, Tuple

from credlint.facts.deploy.core import Reader
from credlint.facts.deploy.positions import token_pos
from credlint.facts.deploy.shapes import assess, clean
from credlint.facts.deploy.types import BlockDecl, BlockRef, DeployError, EnvRef, EnvVar, VariableRef
from credlint.facts.naming import is_credential_env_name
from credlint.prefect.deployments import (
    TF_BLOCK_DATA, TF_BLOCK_NAME, TF_BLOCK_RESOURCE, TF_BLOCK_SLUG, TF_DEPLOYMENT_RESOURCE, TF_PROVIDER,
    TF_RESOURCE_PREFIX, TF_TEMPLATE_PLACES, invalid_template_message, templates,
)

Loc = Tuple[int, int]
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_HEREDOC = re.compile(r"<<-?([A-Za-z][\w.\-]*)\r?\n(.*?)\n?[ \t]*\1\s*\Z", re.S)


class HclValue:
    """An HCL expression as far as a literal goes. kind: str | num | bool | null | object | tuple |
    call | ref (anything Terraform computes: a reference, an interpolation, an operator)."""

    __slots__ = ("kind", "text", "items", "elements", "name", "loc", "quoted")

    def __init__(self, kind: str, loc: Loc, text: Optional[str] = None, name: str = "", quoted: bool = False):
        self.kind = kind
        self.loc = loc  # where it starts (a quoted string: its opening quote)
        self.quoted = quoted
        self.text = text  # a str literal, read to judge it and never kept
        self.items: List[Tuple[str, Loc, "HclValue"]] = []  # object: (key, where the key is, value)
        self.elements: List["HclValue"] = []  # tuple elements, call arguments
        self.name = name  # call: the function


def read_terraform(reader: Reader, text: str) -> None:
    """A Terraform configuration (`.tf`) or variable file (`.tfvars`)."""
    try:
        import hcl2
    except ImportError:  # a dependency of credlint; a broken install still checks everything else
        reader.problem(1, "python-hcl2 is not installed: read for credential formats only")
        return
    try:
        tree = hcl2.parses_to_tree(text)
    except Exception as exc:  # noqa: BLE001 - Lark's errors, and whatever the post-lexer raises
        reader.facts.errors.append(DeployError(f"does not parse as HCL ({_why(exc)})", _where(exc)))
        return
    walk = _Walk(reader)
    tfvars = reader.path.lower().endswith(".tfvars")
    for node in _children(_body(tree), "attribute", "block"):
        if node.data == "attribute" and tfvars:
            name, loc, value = _attribute(node)
            walk.value(value, (name,), loc, name, owner="tfvars", whole_name=name)
        elif node.data == "block":
            walk.block(node)


class _Walk:
    """What one Terraform file declares and hard-codes, recorded into the reader."""

    def __init__(self, reader: Reader):
        self.reader = reader
        self.seen = set()

    def block(self, node) -> None:
        kind, labels, body = _block(node)
        loc = _loc(node)
        if kind == "resource" and len(labels) >= 2 and labels[0].startswith(TF_RESOURCE_PREFIX):
            self.resource(labels[0], labels[1], body, loc)
        elif kind == "variable" and labels:
            attributes = {name: (at, value) for name, at, value in _attributes(body)}
            if "default" in attributes:
                at, value = attributes["default"]
                self.value(value, ("var", labels[0]), at, "default", owner=f"variable {labels[0]}",
                           whole_name=labels[0])
        elif kind == "provider" and labels and labels[0] == TF_PROVIDER:
            self.body(body, ("provider", labels[0]), owner=f"provider {labels[0]}")

    def resource(self, rtype: str, rname: str, body, loc: Loc) -> None:
        address = f"{rtype}.{rname}"
        if rtype != TF_BLOCK_RESOURCE:
            self.body(body, (address,), owner=f"resource {address}")
            deployment = None
            if rtype == TF_DEPLOYMENT_RESOURCE:
                deployment = _literal(dict((n, (a, v)) for n, a, v in _attributes(body)).get("name")) or address
            for key, _at, value in _attributes(body):
                self.refs(value, TF_TEMPLATE_PLACES.get(key, "deployment"), clean(deployment) if deployment else None,
                          (key,))
            return
        attributes = {name: (at, value) for name, at, value in _attributes(body)}
        name = _literal(attributes.get(TF_BLOCK_NAME))
        slug = _literal(attributes.get(TF_BLOCK_SLUG))
        data: Optional[HclValue] = None
        given = next((key for key in TF_BLOCK_DATA if key in attributes), None)
        if given is not None:
            data = _data_object(attributes[given][1])
        fields = [clean(key) for key, _at, value in data.items if value.kind != "null"] if data is not None else None
        self.reader.facts.block_decls.append(BlockDecl(
            slug=clean(slug) if slug else None, name=clean(name) if name else None, path=self.reader.path,
            pos=token_pos(loc[0], loc[1], len("resource")), address=clean(address), fields=fields))
        label = f"{slug or rtype}/{name or rname}"
        owner = f"resource {address}"
        for key, at, value in _attributes(body):
            if key == given and data is not None:
                for dkey, dat, dvalue in data.items:
                    self.value(dvalue, (label, dkey), dat, dkey, owner=owner, slug=slug)
            else:
                self.value(value, (address, key), at, key, owner=owner)
        for inner in _children(body, "block"):
            self.block_body(inner, (address,), owner)

    def body(self, body, label: Tuple[str, ...], owner: str) -> None:
        for key, at, value in _attributes(body):
            self.value(value, label + (key,), at, key, owner=owner)
        for inner in _children(body, "block"):
            self.block_body(inner, label, owner)

    def block_body(self, node, label: Tuple[str, ...], owner: str) -> None:
        kind, _labels, body = _block(node)
        self.body(body, label + (kind,), owner)

    def value(self, value: HclValue, label: Tuple[str, ...], at: Optional[Loc], leaf: str, *, owner: str,
              slug: Optional[str] = None, whole_name: Optional[str] = None, depth: int = 0) -> None:
        """Literal credentials in `value`, the value of key `leaf` written at `at` (`whole_name`: a
        variable whose own name says what its value is)."""
        if depth > 40:
            return
        if value.kind == "object":
            for key, kat, item in value.items:
                self.value(item, label + (key,), kat, key, owner=owner, depth=depth + 1)
        elif value.kind in ("tuple", "call"):
            for index, item in enumerate(value.elements):
                self.value(item, label + (f"[{index}]",) if value.kind == "tuple" else label, None, leaf,
                           owner=owner, depth=depth + 1)
        elif value.kind == "str" and at is not None:
            self.record(value.text or "", label, at, leaf, owner, slug, whole_name)

    def refs(self, value: HclValue, where: str, deployment: Optional[str], path: Tuple[str, ...],
             depth: int = 0) -> None:
        """The templates of the strings in `value` (a resource's attribute), as refs."""
        if depth > 40:
            return
        if value.kind == "object":
            for key, _at, item in value.items:
                self.refs(item, where, deployment, path + (key,), depth + 1)
        elif value.kind in ("tuple", "call"):
            for index, item in enumerate(value.elements):
                self.refs(item, where, deployment, path + ((f"[{index}]",) if value.kind == "tuple" else ()),
                          depth + 1)
        elif value.kind == "str" and value.text and "{{" in value.text:
            facts = self.reader.facts
            for template in templates(value.text):
                pos = token_pos(*_offset(value, template.start), len(template.text))
                common = dict(path=self.reader.path, pos=pos, where=where, deployment=deployment,
                              field_path=_dotted(path), whole=template.text == value.text.strip())
                if template.kind == "block":
                    facts.block_refs.append(BlockRef(slug=clean(template.slug), name=clean(template.name),
                                                     key=clean(template.key), **common))
                elif template.kind == "variable":
                    facts.variable_refs.append(VariableRef(name=clean(template.name), **common))
                elif template.kind == "env":
                    facts.env_refs.append(EnvRef(name=clean(template.name), **common))
                elif template.kind == "invalid":
                    message = invalid_template_message(template._replace(text=clean(template.text, "text")))
                    facts.errors.append(DeployError(message, pos, kind="template"))

    def record(self, raw: str, label: Tuple[str, ...], at: Loc, leaf: str, owner: str, slug: Optional[str],
               whole_name: Optional[str]) -> None:
        if at in self.seen:
            return
        judged, shape, keys, _expands = assess(raw)
        self.reader.judge(judged, whole_name or leaf, raw)
        named = is_credential_env_name(leaf) or leaf in _block_credentials(slug) or \
            (whole_name is not None and is_credential_env_name(whole_name))
        if not (judged.is_literal and judged.kind == "str" and (named or judged.shaped)):
            return
        self.seen.add(at)
        name = _dotted(label)
        self.reader.facts.env.append(EnvVar(
            name=name, value=judged, path=self.reader.path, pos=token_pos(at[0], at[1], len(leaf)),
            scope="deploy-setting", shape=shape, keys=keys, owner=clean(owner, "owner")))


def _block_credentials(slug: Optional[str]) -> FrozenSet[str]:
    """The credential fields of the block types saved under `slug` (a Secret's `value`, ...), from
    the block catalogue; none when the slug is computed or unknown."""
    if not slug:
        return frozenset()
    from credlint.prefect.blocks import BlockCatalogueError, builtin_block_catalogue

    try:
        types = builtin_block_catalogue().by_slug(slug)
    except (BlockCatalogueError, OSError):  # a broken catalogue is reported where it is used whole
        return frozenset()
    return frozenset(name for block in types for name in block.credential_fields)


def _dotted(parts) -> str:
    """A key path as written in messages: `a.b[0].c`."""
    return "".join(clean(p) if p.startswith("[") else "." + clean(p) for p in parts).lstrip(".")


def _offset(value: HclValue, offset: int) -> Loc:
    """The file position of a character of a string literal (escapes aside)."""
    before = (value.text or "")[:offset]
    lines = before.count("\n")
    if lines:
        return value.loc[0] + lines, offset - before.rfind("\n")
    return value.loc[0], value.loc[1] + offset + (1 if value.quoted else 0)


# ---- the parse tree ------------------------------------------------------------------------

def _body(tree):
    """`start` -> its `body`."""
    for child in getattr(tree, "children", ()):
        if getattr(child, "data", None) == "body":
            return child
    return tree


def _children(tree, *names: str) -> Iterator:
    for child in getattr(tree, "children", ()):
        if getattr(child, "data", None) in names:
            yield child


def _loc(node) -> Loc:
    if hasattr(node, "line") and node.line is not None:  # a token
        return node.line, node.column
    meta = getattr(node, "meta", None)
    if meta is not None and not getattr(meta, "empty", True):
        return meta.line, meta.column
    return 1, 1


def _name(node) -> str:
    """An identifier, keyword or literal word (an attribute's or block's name)."""
    token = node
    while hasattr(token, "children"):
        if not token.children:
            return ""
        token = token.children[0]
    return str(token)


def _block(node):
    """(type, labels, body) of a block."""
    kind, labels, body = "", [], None
    for child in node.children:
        data = getattr(child, "data", None)
        if data == "body":
            body = child
        elif data == "string":
            text = _string(child)
            labels.append(text.text if text.kind == "str" and text.text is not None else "?")
        elif data in ("identifier", "keyword", "literal_value"):
            if kind:
                labels.append(_name(child))
            else:
                kind = _name(child)
    return kind, labels, body


def _attributes(body) -> Iterator[Tuple[str, Loc, HclValue]]:
    for node in _children(body, "attribute"):
        yield _attribute(node)


def _attribute(node) -> Tuple[str, Loc, HclValue]:
    name_node = node.children[0]
    expression = node.children[-1]
    return _name(name_node), _loc(name_node), _expr(expression)


def _literal(entry) -> Optional[str]:
    """The text of an attribute that is a plain string literal."""
    if entry is None:
        return None
    value = entry[1]
    return value.text if value.kind == "str" else None


def _expr(node, depth: int = 0) -> HclValue:
    loc = _loc(node)
    data = getattr(node, "data", None)
    if depth > 200:
        return HclValue("ref", loc)
    if data == "expr_term":
        inner = [c for c in node.children if hasattr(c, "data") and c.data != "new_line_or_comment"]
        return _expr(inner[0], depth + 1) if len(inner) == 1 else HclValue("ref", loc)
    if data == "string":
        return _string(node)
    if data in ("int_lit", "float_lit"):
        return HclValue("num", loc)
    if data == "literal_value":
        word = _name(node)
        return HclValue("null" if word == "null" else "bool", loc)
    if data == "object":
        value = HclValue("object", loc)
        for element in _children(node, "object_elem"):
            key_node, item = element.children[0], element.children[-1]
            key = _key(key_node)
            if key is not None:
                value.items.append((key, _loc(key_node), _expr(item, depth + 1)))
        return value
    if data == "tuple":
        value = HclValue("tuple", loc)
        value.elements = [_expr(c, depth + 1) for c in node.children
                          if hasattr(c, "data") and c.data != "new_line_or_comment"]
        return value
    if data == "function_call":
        value = HclValue("call", loc, name=_name(node.children[0]))
        for arguments in _children(node, "arguments"):
            value.elements = [_expr(c, depth + 1) for c in arguments.children
                              if hasattr(c, "data") and c.data != "new_line_or_comment"]
        return value
    if data in ("heredoc_template", "heredoc_template_trim"):
        return _heredoc(node)
    return HclValue("ref", loc)


def _key(node) -> Optional[str]:
    """An object key written as a name or a plain string (None when computed)."""
    inner = node.children[0] if node.children else None
    while getattr(inner, "data", None) == "expr_term" and len(inner.children) == 1:
        inner = inner.children[0]
    data = getattr(inner, "data", None)
    if data in ("identifier", "keyword"):
        return _name(inner)
    if data == "string":
        value = _string(inner)
        return value.text if value.kind == "str" else None
    return None


def _string(node) -> HclValue:
    """A quoted string: a literal, or "ref" when it interpolates or has directives."""
    loc = _loc(node)
    out = []
    for part in _children(node, "string_part"):
        for piece in part.children:
            kind = getattr(piece, "type", None)
            if kind == "STRING_CHARS":
                out.append(_unescape(str(piece)))
            elif kind in ("ESCAPED_INTERPOLATION", "ESCAPED_DIRECTIVE"):
                out.append(str(piece)[1:])  # `$${` is a literal `${`
            else:
                return HclValue("ref", loc)
    return HclValue("str", loc, text="".join(out), quoted=True)


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    out, i = [], 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            width = {"u": 4, "U": 8}.get(nxt)
            digits = text[i + 2:i + 2 + width] if width else ""
            if width and len(digits) == width and all(c in "0123456789abcdefABCDEF" for c in digits):
                code = int(digits, 16)
                if code <= 0x10FFFF and not 0xD800 <= code < 0xE000:
                    out.append(chr(code))
                    i += 2 + width
                    continue
        out.append(char)
        i += 1
    return "".join(out)


def _heredoc(node) -> HclValue:
    token = node.children[0]
    loc = _loc(token)
    match = _HEREDOC.match(str(token))
    if not match or "${" in match.group(2) or "%{" in match.group(2):
        return HclValue("ref", loc)
    return HclValue("str", (loc[0] + 1, 1), text=match.group(2))


def _data_object(value: HclValue) -> Optional[HclValue]:
    """A block's `data` as an object: `jsonencode({...})`, or JSON text (a heredoc, a string)."""
    if value.kind == "call" and value.name == "jsonencode" and len(value.elements) == 1 \
            and value.elements[0].kind == "object":
        return value.elements[0]
    if value.kind == "str" and value.text:
        try:
            parsed = json.loads(value.text)
        except ValueError:
            return None
        if isinstance(parsed, dict):
            return _from_json(parsed, value.text, value.loc)
    return None


def _from_json(obj, text: str, loc: Loc) -> HclValue:
    """JSON text as an object whose keys are found in the text (line by line, in order)."""
    lines = text.split("\n")
    cursor = [0]

    def find(key: str) -> Loc:
        needle = json.dumps(key)
        for index in range(cursor[0], len(lines)):
            col = lines[index].find(needle)
            if col >= 0:
                cursor[0] = index
                return loc[0] + index, col + 1 + (loc[1] - 1 if index == 0 else 0)
        return loc

    def convert(item, depth: int = 0) -> HclValue:
        if isinstance(item, dict) and depth < 40:
            out = HclValue("object", loc)
            for key, inner in item.items():
                at = find(str(key))
                out.items.append((str(key), at, convert(inner, depth + 1)))
            return out
        if isinstance(item, list) and depth < 40:
            out = HclValue("tuple", loc)
            out.elements = [convert(inner, depth + 1) for inner in item]
            return out
        if isinstance(item, str):
            return HclValue("str", loc, text=item)
        if item is None:
            return HclValue("null", loc)
        return HclValue("bool" if isinstance(item, bool) else "num", loc)

    return convert(obj)


def _why(exc: Exception) -> str:
    """A parser error without the source text (Lark's message quotes the line, which may hold a value)."""
    name = type(exc).__name__
    if name == "UnexpectedEOF":
        return "unexpected end of file"
    if name == "UnexpectedToken":
        token = getattr(exc, "token", None)
        kind = getattr(token, "type", "")
        if kind == "$END":
            return "unexpected end of file"
        return f"unexpected {kind.lower().replace('_', ' ')}" if re.fullmatch(r"[A-Z][A-Z_]*", kind) else \
            "unexpected token"
    if name == "UnexpectedCharacters":
        return "unexpected character"
    return name


def _where(exc: Exception):
    line = getattr(exc, "line", None)
    column = getattr(exc, "column", None)
    if isinstance(line, int) and line > 0:
        return token_pos(line, column if isinstance(column, int) and column > 0 else 1, 1)
    return token_pos(1, 1, 1)
