"""`credlint catalog`: what credlint knows each Prefect class needs, as a terminal shows it — the
1.4.1 catalogue, and the 2.x/3.x block types."""
from __future__ import annotations

from typing import Iterable


def did_you_mean(catalogue, symbol: str) -> str:
    """For a symbol in neither catalogue: the 1.x ones of the same short name, else the closest
    block types, as a hint."""
    short = symbol.strip().rsplit(".", 1)[-1]
    close = sorted(e.symbol for e in catalogue if e.short_name == short) or block_suggestions(symbol)
    return f"; did you mean {', '.join(close)}?" if close else ""


def render_entry(entry) -> None:
    """One catalogue entry: its secrets, credential arguments, environment variables and notes."""
    from rich.console import Console

    console = Console(highlight=False)
    console.print(f"[bold]{entry.symbol}[/] ({entry.kind}, {entry.integration})")
    for alias in entry.aliases:
        console.print(f"  also importable as {alias}")
    for spec in entry.secrets:
        name = spec.name or f"<the name given in {spec.name_param}>"
        bits = [spec.mechanism, "required" if spec.required else "optional"]
        if spec.name_param:
            bits.append(f"name from {spec.name_param} ({spec.name_where})")
        if spec.satisfied_by:
            bits.append("not read when " + ", ".join(spec.satisfied_by) + " is given")
        console.print(f"  secret [bold]{name}[/]: {'; '.join(bits)}")
        if spec.shape_doc:
            console.print(f"    shape: {spec.shape_doc}")
        if spec.when:
            console.print(f"    read: {spec.when}")
    for param in entry.credential_params:
        ignored = f" (ignored at {param.ignored})" if param.ignored else ""
        console.print(f"  credential argument [bold]{param.param}[/] ({param.where}){ignored}: {param.expected}")
    for env in entry.env_vars:
        console.print(f"  environment variable {env.name or '<from ' + env.name_param + '>'} read at {env.at}")
    for removed in entry.removed_params:
        console.print(f"  no longer accepted: {removed.param} (until {removed.last_version}): {removed.replacement}")
    for note in entry.notes:
        console.print(f"  note: {note}")


def render_table(entries: Iterable) -> None:
    """The entries as one table: symbol, kind, secrets, credential arguments."""
    from rich.console import Console
    from rich.table import Table

    entries = list(entries)
    console = Console(highlight=False)
    table = Table(title=f"credlint catalogue: {len(entries)} Prefect 1.4.1 objects")
    table.add_column("symbol", overflow="fold", ratio=3)
    table.add_column("kind", ratio=1)
    table.add_column("secrets", overflow="fold", ratio=3)
    table.add_column("credential arguments", overflow="fold", ratio=2)
    for entry in entries:
        secrets = ", ".join(
            f"{s.name or '<' + s.name_param + '>'} ({s.mechanism})" for s in entry.secrets) or "-"
        params = ", ".join(p.param for p in entry.credential_params) or "-"
        table.add_row(entry.symbol, entry.kind, secrets, params)
    console.print(table)


# ------------------------------------------------------------------- Prefect 2.x/3.x blocks


def find_blocks(text: str) -> list:
    """The block types a user named, by import path or by slug (a slug may name several)."""
    from credlint.prefect.blocks import builtin_block_catalogue

    return list(builtin_block_catalogue().find(text))


def block_suggestions(text: str) -> list:
    """For a name that is neither a 1.x symbol nor a block: block classes of the same short name,
    else the closest slugs and import paths."""
    import difflib

    from credlint.prefect.blocks import builtin_block_catalogue

    blocks = builtin_block_catalogue()
    short = text.strip().rsplit(".", 1)[-1]
    same = sorted(b.symbol for b in blocks.by_short_name(short))
    if same:
        return same
    names = sorted(set(blocks.slugs) | set(blocks.by_path))
    return difflib.get_close_matches(text.strip(), names, n=3, cutoff=0.8)


def _versions(block) -> str:
    proven = dict(block.proven)
    return ", ".join(f"Prefect {v} (proven with {block.package} {proven[v]})" for v in block.versions)


def _empty_text(block) -> str:
    from credlint.prefect.blocks import CHAINS, EMPTY

    without = "with none of its auth fields" + (" and no credentials keyword" if block.carriers else "")
    if block.empty == "ambient":
        return f"ambient: {without}, {CHAINS[block.chain]} is used, silently"
    if block.empty == "invalid":
        return f"invalid: {without}, {EMPTY['invalid']}"
    return f"none: {EMPTY['none']}"


def render_block(block) -> None:
    """One block type: slug, versions, which fields are credentials, its credentials keywords and
    what leaving the credentials out does."""
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False)
    console.print(f"[bold]{block.symbol}[/] ({block.kind} block, {block.package})")
    for alias in block.aliases:
        console.print(f"  also importable as {alias}")
    console.print(f"  slug: [bold]{block.slug}[/]  ({block.short_name}.load(\"NAME\") reads "
                  f"{escape(block.slug)}/NAME; in prefect.yaml {escape('{{ prefect.blocks.' + block.slug + '.NAME }}')})")
    console.print(f"  versions: {_versions(block)}")
    lines = (("secret fields (masked by Prefect)", block.secret_fields),
             ("credential fields (no literal may reach them)", block.credential_fields),
             ("credential mappings (credential-named keys are stored unmasked)", block.credential_mappings),
             ("auth fields (choose where the credentials come from)", block.auth_fields))
    for label, names in lines:
        console.print(f"  {label}: {', '.join(names) or '-'}")
    for carrier in block.carriers:
        omitted = ("required" if carrier.required else
                   f"omitted: an empty {carrier.default} block" if carrier.default else "omitted: no credentials block")
        console.print(f"  credentials keyword [bold]{carrier.keyword}=[/] takes {' | '.join(carrier.accepts)} ({omitted})")
    console.print(f"  empty: {_empty_text(block)}")
    console.print(f"  fields (any other keyword is dropped silently): {', '.join(block.all_fields())}")
    for version, names in block.version_fields:
        console.print(f"    only in Prefect {version}: {', '.join(names)}")
    for note in block.notes:
        console.print(f"  note: {escape(note)}")


def render_block_table(blocks) -> None:
    """The block types as one table: class, slug, versions, secret fields, credentials keywords, empty."""
    from rich.console import Console
    from rich.table import Table

    blocks = list(blocks)
    console = Console(highlight=False)
    table = Table(title=f"Prefect 2.x/3.x blocks: {len(blocks)} classes")
    table.add_column("class", overflow="fold", ratio=5)
    table.add_column("slug", overflow="fold", ratio=3)
    table.add_column("versions", ratio=1)
    table.add_column("secret fields", overflow="fold", ratio=3)
    table.add_column("credentials keyword", overflow="fold", ratio=2)
    table.add_column("empty", ratio=2)
    for block in blocks:
        carriers = ", ".join(f"{c.keyword}=" for c in block.carriers) or "-"
        empty = f"{block.empty} ({block.chain})" if block.chain else block.empty
        table.add_row(block.symbol, block.slug, ", ".join(block.versions), ", ".join(block.secret_fields) or "-",
                      carriers, empty)
    console.print(table)


def listed_blocks(version: str = "", everything: bool = False) -> list:
    """The block types `credlint catalog` lists: of one Prefect major (or all), and unless
    `everything`, only those that can hold credentials."""
    from credlint.prefect.blocks import builtin_block_catalogue

    return [b for b in builtin_block_catalogue()
            if (not version or version in b.versions)
            and (everything or b.empty != "none" or b.credential_fields or b.credential_mappings)]
