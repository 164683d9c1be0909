"""What runs on ambient credentials in Prefect 2.x/3.x code and prefect.yaml steps (CL102), and
which keywords a block drops where a credential was meant (CL103).

A block is *ambient* when the catalogue says so (`empty = "ambient"` with a `chain`) and the
construction the code makes is the one that sentence is about: none of its `auth_fields` and none
of its carrier keywords is set (a keyword given None, "", {} or [] is not set), and the arguments
the catalogue needs for it to construct at all (`empty_args`) are there. `**kwargs` or a
positional argument leave the construction unknown: nothing is judged. A carrier given a block
built in the code is judged through that build (the build is reported, once, not its holder); a
carrier given a loaded block is not judged here (the saved document is preflight's business).
Credentials given to a keyword the block does not have are dropped by Prefect: the block is as
ambient as without them, and the keyword is recorded (`Dropped`) with the one that was meant.

A prefect.yaml step is ambient when its catalogued function (`[[step]]`) is given none of its
credential inputs (or only null ones) and they are optional, or is given them as an inline
mapping that sets no auth field of the blocks it accepts. A step of the file's own section that
every deployment replaces with its own never runs, and is not judged.

Only chains that reach an identity of the machine are kept (`CHAIN_FAMILIES`: boto3,
google-auth, azure-identity, kubeconfig); `allow-fallback` lists the families a project accepts.
Built once per project (`Project.fallback`), from facts and the block catalogue only.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from credlint.facts.blocks import BlockBuild, BlockFacts
from credlint.facts.places import Arg, Pos
from credlint.facts.naming import is_credential_name
from credlint.prefect.blocks import CHAIN_FAMILIES, BlockCatalogue, BlockType, StepType

BLOCK_VALUES = ("block_load", "block_build")


@dataclass
class Ambient:
    """A block build or a prefect.yaml step whose credentials come from a default chain."""

    path: str
    pos: Pos
    what: str  # "block" (a credentials block), "holder" (a block with a credentials carrier) or "step"
    name: str  # the class or function, short: "AwsCredentials", "pull_from_s3"
    symbol: str  # as imported / as written
    slug: str  # the block's slug ("" for a step)
    chain: str
    family: str
    missing: Tuple[str, ...]  # the keywords or inputs none of which is set
    default: Optional[BlockType] = None  # holder / step: the credentials block it takes (the carrier's default)
    saved: Optional[str] = None  # "slug/name" of the document this build is saved as (or saved inside)
    section: str = ""  # step: build | push | pull
    deployment: Optional[str] = None  # step: its deployment (None: the file's section)
    mapping: Optional[str] = None  # step: the input given an inline mapping without an auth field
    allowed: bool = False  # `allow-fallback` includes the family
    dropped: Tuple["Dropped", ...] = ()  # credentials given to keywords the block drops (CL103's)


@dataclass
class Dropped:
    """A keyword a catalogued block does not have, given where a credential was meant (CL103)."""

    path: str
    pos: Pos  # of the value
    keyword: str
    block: BlockType
    build: BlockBuild
    why: str  # what makes it a credential: "its name", "a block", "a credential's format"
    meant: Optional[str] = None  # the keyword that would have taken it (a carrier, or the closest field)
    saved: Optional[str] = None
    chain: str = ""  # the block is left with no credentials of its own: the chain that runs instead


def is_set(arg: Optional[Arg]) -> bool:
    """A keyword given something other than None, "", {} or [] (an unknown value counts as set)."""
    if arg is None:
        return False
    value = arg.value
    if value.kind == "none" or (value.kind in ("str", "bytes") and value.empty):
        return False
    if value.kind == "dict":
        return bool(value.items) or value.dynamic_keys
    if value.kind == "list":
        return bool(value.elements)
    return True


class FallbackModel:
    """The ambient builds and steps of one project, and the dropped credential keywords."""

    def __init__(self, project, catalogue: Optional[BlockCatalogue] = None):
        from credlint.prefect.blocks import builtin_block_catalogue

        self.types = catalogue if catalogue is not None else builtin_block_catalogue()
        allowed = set(project.config.allow_fallback)
        self.ambient: List[Ambient] = []
        self.dropped: List[Dropped] = []
        for path in sorted(project.modules):
            module = project.modules[path]
            if module.model != "2" or module.blocks is None or module.error is not None:
                continue
            saved = self._saved_names(module.blocks)
            for build in module.blocks.builds:
                dropped = self._dropped(path, build, saved, module.blocks)
                found = self._build(path, build, saved)
                for item in dropped:
                    item.chain = found.chain if found is not None else ""
                self.dropped.extend(dropped)
                if found is not None:
                    found.dropped = tuple(dropped)
                    self.ambient.append(found)
        for facts in sorted(project.deploy, key=lambda f: f.path):
            self.ambient.extend(self._steps(facts))
        for item in self.ambient:
            item.allowed = item.family in allowed
        self.ambient.sort(key=lambda a: (a.path, a.pos.line, a.pos.column))

    # ----- code ---------------------------------------------------------------------------------
    def _saved_names(self, facts: BlockFacts) -> Dict[int, str]:
        """Build index -> "slug/name" of the document it is saved as; a build saved only inside
        another (`S3Bucket(credentials=AwsCredentials(...)).save("lake")`) gets its holder's."""
        own: Dict[int, str] = {}
        for save in sorted(facts.saves, key=lambda s: (s.pos.line, s.pos.column)):
            if save.build is None or not save.name or save.build in own:
                continue
            block = self.types.lookup(save.cls) or self._type_of(facts, save.build)
            if block is not None:
                own[save.build] = f"{block.slug}/{save.name}"
        out = dict(own)
        for build in facts.builds:
            if build.index not in own:
                continue
            for arg in build.args.values():
                if arg.value.kind == "block_build" and arg.value.ref is not None and arg.value.ref.isdigit():
                    out.setdefault(int(arg.value.ref), own[build.index])
        return out

    def _type_of(self, facts: BlockFacts, index: int) -> Optional[BlockType]:
        return self.types.lookup(facts.builds[index].cls) if 0 <= index < len(facts.builds) else None

    def _build(self, path: str, build: BlockBuild, saved: Dict[int, str]) -> Optional[Ambient]:
        block = self.types.lookup(build.cls)
        if block is None or block.empty != "ambient" or block.chain not in CHAIN_FAMILIES:
            return None
        if build.star_kwargs or build.positional:
            return None  # keywords not known: the construction is not the one judged
        given = {self._field(block, k) for k, arg in build.args.items() if is_set(arg)}
        if any(self._field(block, k) not in given for k in block.empty_kwargs):
            return None  # it would not construct: Prefect says so itself
        if given & set(block.auth_fields):
            return None
        if any(c.keyword in given for c in block.carriers):
            return None  # a block built here is judged itself, a loaded one by preflight
        slugs = [c.default or c.accepts[0] for c in block.carriers if c.default or c.accepts]
        default = next((self.types.by_slug(s)[0] for s in slugs if self.types.by_slug(s)), None)
        what = "holder" if block.carriers and not block.auth_fields else "block"
        missing = tuple(block.auth_fields) if what == "block" else tuple(c.keyword for c in block.carriers)
        return Ambient(path=path, pos=build.pos, what=what, name=block.short_name, symbol=build.cls, slug=block.slug,
                       chain=block.chain, family=CHAIN_FAMILIES[block.chain], missing=missing, default=default,
                       saved=saved.get(build.index))

    @staticmethod
    def _field(block: BlockType, keyword: str) -> str:
        return block.field_of_keyword(keyword) or keyword

    def _dropped(self, path: str, build: BlockBuild, saved: Dict[int, str], facts: BlockFacts) -> List[Dropped]:
        block = self.types.lookup(build.cls)
        if block is None:
            return []
        accepted = block.accepted_keywords()
        out = []
        for keyword, arg in build.args.items():
            if keyword in accepted:
                continue
            value = arg.value
            if value.kind in BLOCK_VALUES:
                why = "a block"
            elif value.kind in ("str", "bytes") and value.shaped and value.is_literal:
                why = "a credential's format"
            elif is_credential_name(keyword):
                why = "its name"
            else:
                continue
            out.append(Dropped(path=path, pos=arg.pos, keyword=keyword, block=block, build=build, why=why,
                               meant=self._meant(block, keyword, value, facts), saved=saved.get(build.index)))
        return out

    def _meant(self, block: BlockType, keyword: str, value, facts: BlockFacts) -> Optional[str]:
        """The keyword that takes what was given: the carrier accepting the block's slug (or the
        only carrier), else the field whose name is closest."""
        if block.carriers and (value.kind in BLOCK_VALUES or is_credential_name(keyword)):
            slug = self._slug_of(value, facts)
            fitting = [c for c in block.carriers if slug in c.accepts] if slug else []
            chosen = fitting[0] if fitting else (block.carriers[0] if len(block.carriers) == 1 else None)
            if chosen is not None:
                return chosen.keyword
        close = difflib.get_close_matches(keyword, sorted(block.accepted_keywords()), n=1, cutoff=0.6)
        return close[0] if close else None

    def _slug_of(self, value, facts: BlockFacts) -> Optional[str]:
        if value.ref is None or not value.ref.isdigit():
            return None
        index = int(value.ref)
        if value.kind == "block_build":
            found = self._type_of(facts, index)
            return found.slug if found is not None else None
        if 0 <= index < len(facts.loads):
            load = facts.loads[index]
            found = self.types.lookup(load.cls)
            return found.slug if found is not None else load.slug
        return None

    # ----- prefect.yaml -------------------------------------------------------------------------
    def _steps(self, facts) -> List[Ambient]:
        out = []
        deployments = facts.deployments
        for step in facts.steps:
            kind = self.types.step(step.function)
            if kind is None or kind.chain not in CHAIN_FAMILIES:
                continue
            if step.deployment is None and deployments and all(step.section in d.steps for d in deployments):
                continue  # every deployment runs its own section instead
            found = self._judge_step(kind, step)
            if found is None:
                continue
            mapping, default = found
            out.append(Ambient(path=facts.path, pos=step.pos, what="step", name=kind.short_name, symbol=step.function,
                               slug="", chain=kind.chain, family=CHAIN_FAMILIES[kind.chain], missing=kind.credentials,
                               default=default, section=step.section, deployment=step.deployment, mapping=mapping))
        return out

    def _judge_step(self, kind: StepType, step) -> Optional[Tuple[Optional[str], Optional[BlockType]]]:
        """(the input given a mapping without an auth field, or None; the block it takes) for an
        ambient step, else None."""
        default = next((self.types.by_slug(s)[0] for s in kind.accepts if self.types.by_slug(s)), None)
        given = [name for name in kind.credentials if name in step.inputs and name not in step.nulls]
        if not given:
            return None if kind.required else (None, default)
        auth = {f for s in kind.accepts for t in self.types.by_slug(s) for f in t.auth_fields}
        for name in given:
            keys = step.mappings.get(name)
            if keys is None or not auth or set(keys) & auth:
                return None  # a template, a reference or a mapping that chooses credentials
        return given[0], default
