"""The Prefect 2.x/3.x block model: which block documents the repository declares, which ones its
code and its prefect.yaml files need, and the state of each need (DESIGN.md section 9).

A block document is a type slug and a name (`aws-credentials/prod`). Declarations come from
`.save("name")` / `asave` anywhere in the repository (the slug from the class saved), Terraform
`prefect_block` resources and the config's `blocks` list; needs from every `Cls.load("name")` /
`aload` / `Block.load("slug/name")` and every `{{ prefect.blocks.SLUG.NAME }}` in a prefect.yaml.
A need is *provided* when a declaration has its slug and name, *missing* when a `blocks` list is
configured and nothing declares it, else *unverifiable*. A declaration whose slug or name is
computed (`.save(name)`, Terraform `"${var.env}-aws"`) could be any block: needs it may match stay
unverifiable, never missing.

Built once per project (`Project.blocks`), from facts only; 1.x projects never build it.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple

from credlint.config import block_ref
from credlint.facts.blocks import BlockClass, BlockLoad, BlockSave
from credlint.facts.places import Pos
from credlint.prefect.symbols2 import block_slug, split_block_reference

BASE_BLOCK = "prefect.blocks.core.Block"


@dataclass
class BlockDeclaration:
    """A block document the repository (or its config) says exists. `slug` / `name` are None when
    computed: such a declaration might be any document of its slug (or of any slug)."""

    slug: Optional[str]
    name: Optional[str]
    source: str  # save | terraform | config
    path: str = ""  # "" for the config's `blocks`
    pos: Pos = field(default_factory=Pos)
    cls: Optional[str] = None  # save: the class saved, when known

    @property
    def ref(self) -> str:
        return f"{self.slug or '?'}/{self.name or '?'}"

    def where(self) -> str:
        return f"{self.path}:{self.pos.line}" if self.path else "the config's blocks list"


@dataclass
class BlockNeed:
    """A block document the code or a prefect.yaml needs, with its state.

    `slug` is None when the class loading it is unknown (then only the name is judged). `others`
    holds the slugs this name is declared under when none is this need's (a type mismatch, CL402).
    `known_slug` says whether some block class (catalogued or the project's own) has `slug`."""

    slug: Optional[str]
    name: str
    path: str
    pos: Pos
    source: str  # load | reference
    cls: Optional[str] = None  # load: the class as imported
    load: Optional[BlockLoad] = None
    where: str = ""  # load: module/flow/task/...; reference: build/push/pull/job_variables/...
    deployment: Optional[str] = None  # reference: the prefect.yaml deployment it is in
    state: str = "unverifiable"  # provided | unverifiable | missing
    others: List[str] = field(default_factory=list)
    known_slug: bool = True
    guarded: bool = False  # the code catches the error of a missing block itself
    maybe: bool = False  # a declaration with a computed name (of this slug, or of any) may make it
    via: Optional[str] = None  # load: the constant holding the name ("pkg.settings.AWS_BLOCK")

    @property
    def ref(self) -> str:
        return f"{self.slug or '?'}/{self.name}"


class BlockModel:
    """Declarations, needs and states of one project's blocks (see the module docstring)."""

    def __init__(self, project):
        from credlint.prefect.blocks import builtin_block_catalogue

        self.types = builtin_block_catalogue()
        self.configured = project.config.blocks is not None
        modules = [m for _, m in sorted(project.modules.items()) if m.blocks is not None and m.error is None]
        self.project = project
        self.classes: Dict[str, BlockClass] = {c.qualname: c for m in modules for c in m.blocks.classes}
        self.declarations: List[BlockDeclaration] = []
        for module in modules:
            for save in module.blocks.saves:
                self.declarations.append(self._saved(module, save))
        for facts in project.deploy:
            for decl in facts.block_decls:
                self.declarations.append(BlockDeclaration(decl.slug, decl.name, decl.source, decl.path, decl.pos))
        for text in project.config.blocks or ():
            parsed = block_ref(text)
            if parsed is not None:
                self.declarations.append(BlockDeclaration(parsed[0], parsed[1], "config"))
        self.project_slugs: Set[str] = {s for s in (self.class_slug(q) for q in self.classes) if s}
        self.needs: List[BlockNeed] = []
        for module in modules:
            for load in module.blocks.loads:
                need = self._loaded(module, load)
                if need is not None:
                    self.needs.append(need)
        for facts in project.deploy:
            for ref in facts.block_refs:
                self.needs.append(BlockNeed(ref.slug, ref.name, ref.path, ref.pos, "reference", where=ref.where,
                                            deployment=ref.deployment))
        self.by_name: Dict[Optional[str], List[BlockDeclaration]] = {}
        for declaration in self.declarations:
            self.by_name.setdefault(declaration.name, []).append(declaration)
        for need in self.needs:
            self._judge(need)

    # ----- slugs ------------------------------------------------------------------------------
    def class_slug(self, cls: Optional[str], seen: Tuple[str, ...] = ()) -> Optional[str]:
        """The slug Prefect saves a class's documents under: the catalogue's, or for a project's
        own class its `_block_type_slug` / `_block_type_name`, else (class attributes are
        inherited) a block base's, else the class name slugified. None: not a known block class."""
        if not cls or cls == BASE_BLOCK or cls in seen:
            return None
        slug = self.types.slug_of(cls)
        if slug is not None:
            return slug
        own = self.classes.get(cls)
        if own is None:
            return None
        if own.slug:
            return own.slug
        for base in own.bases:
            found = self.class_slug(base, seen + (cls,))
            if found:
                return found
        return block_slug(cls.rsplit(".", 1)[-1])

    def slug_known(self, slug: str) -> bool:
        return bool(self.types.by_slug(slug)) or slug in self.project_slugs

    def classes_for(self, slug: str) -> List[str]:
        """The classes whose documents have `slug` (their shortest import paths), catalogued first."""
        out = [min(t.paths or (t.symbol,), key=len) for t in self.types.by_slug(slug)]
        return out + sorted(q for q in self.classes if self.class_slug(q) == slug and q not in out)

    def close_slug(self, slug: str) -> Optional[str]:
        known = {t.slug for t in self.types} | self.project_slugs
        found = difflib.get_close_matches(slug, sorted(known), n=1, cutoff=0.75)
        return found[0] if found else None

    # ----- building ---------------------------------------------------------------------------
    def _named(self, module, name: Optional[str], ref: Optional[str]) -> Optional[str]:
        """The document name written out, or held by another module's constant (`AWS_BLOCK`)."""
        if name or not ref:
            return name
        value = self.project.resolve_constant(ref, module)
        return value.text if value is not None and value.kind == "str" and value.text else None

    def _saved(self, module, save: BlockSave) -> BlockDeclaration:
        slug = self.class_slug(save.cls)
        name = self._named(module, save.name, save.name_ref)
        if save.load is not None and save.load < len(module.blocks.loads):
            copied = module.blocks.loads[save.load]  # a loaded block saved again under a new name
            slug = copied.slug if copied.cls == BASE_BLOCK else self.class_slug(copied.cls)
        return BlockDeclaration(slug, name, "save", module.path, save.name_pos if name else save.pos, cls=save.cls)

    def _loaded(self, module, load: BlockLoad) -> Optional[BlockNeed]:
        """The need of a load whose document name is written out or held by a constant (a
        computed name or a parameter is judged nowhere); None for a load of no block class."""
        name, given_slug = load.name, load.slug
        if not name and load.name_ref:
            name = self._named(module, None, load.name_ref)
            if name and load.cls == BASE_BLOCK:
                given_slug, name = split_block_reference(name)
        if not name:
            return None
        if load.cls == BASE_BLOCK:
            if not given_slug:
                return None  # `Block.load("name")`: Prefect itself rejects it (no slug)
            slug, known = given_slug, self.slug_known(given_slug)
        else:
            slug = self.class_slug(load.cls)
            if slug is None and not load.known:
                return None  # not a block class we can tell
            known = True
        return BlockNeed(slug, name, module.path, load.pos, "load", cls=load.cls, load=load, where=load.where,
                         known_slug=known, guarded=load.guarded, via=None if load.name else load.name_ref)

    def _judge(self, need: BlockNeed) -> None:
        same_name = self.by_name.get(need.name, [])
        if any(d.slug == need.slug or d.slug is None or need.slug is None for d in same_name):
            need.state = "provided"
            return
        need.others = sorted({d.slug for d in same_name if d.slug})
        need.maybe = any(d.slug is None or d.slug == need.slug for d in self.by_name.get(None, ()))
        need.state = "missing" if self.configured and not need.maybe else "unverifiable"

    # ----- queries ----------------------------------------------------------------------------
    def makes(self, slug: Optional[str]) -> bool:
        """The repository itself declares blocks of `slug` (a `.save` or a Terraform resource): it
        is where this project's blocks of that type are made, so one it never makes is suspect."""
        return any(d.source != "config" and d.slug == slug for d in self.declarations)

    def declared_under(self, slug: Optional[str]) -> List[BlockDeclaration]:
        return [d for d in self.declarations if d.slug == slug and d.name]

    def closest(self, need: BlockNeed) -> Optional[BlockDeclaration]:
        """The declaration `need` most likely misspells: same slug, a close name."""
        candidates = {d.name: d for d in self.declared_under(need.slug)}
        found = difflib.get_close_matches(need.name, sorted(candidates), n=1, cutoff=0.75)
        return candidates[found[0]] if found else None

    def declaration_of(self, name: str, slug: str) -> Optional[BlockDeclaration]:
        return next((d for d in self.by_name.get(name, ()) if d.slug == slug), None)

