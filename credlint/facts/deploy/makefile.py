"""Makefiles: variables (exported or not, `.EXPORT_ALL_VARIABLES`) and the recipes that start agents."""
from __future__ import annotations

import re
from typing import Dict, List, Tuple

from credlint.facts.deploy.core import Reader
from credlint.facts.deploy.lexer import host_spans
from credlint.facts.deploy.positions import LineSrc, OriginSrc
from credlint.facts.deploy.shell import read_script
from credlint.facts.deploy.types import EnvVar


def read_makefile(reader: Reader, text: str) -> None:
    """A Makefile: its variables, and each recipe line read as the shell script make runs."""
    lines = text.split("\n")
    exported: List[EnvVar] = []
    make_vars: Dict[str, EnvVar] = {}
    export_all = False
    target = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("\t") and target:
            chars: List[str] = []
            origins: List[Tuple[int, int]] = []
            j = i
            while j < len(lines):
                cur = lines[j]
                start = 1 if cur.startswith("\t") else 0
                for c in range(start, len(cur)):
                    chars.append(cur[c])
                    origins.append((j + 1, c + 1))
                if cur.endswith("\\") and j + 1 < len(lines):
                    chars.append("\n")
                    origins.append((j + 1, len(cur) + 1))
                    j += 1
                    continue
                break
            body = "".join(chars)
            strip = len(body) - len(body.lstrip("@-+ \t"))
            src = OriginSrc(origins[strip:], (i + 1, 1))
            # make expands $(VAR) / ${VAR} and turns $$ into $ before the shell runs the line
            read_script(reader, body[strip:], src, exported, owner=f"target {target}")
            i = j + 1
            continue
        logical = line
        first = i
        while logical.endswith("\\") and i + 1 < len(lines):
            i += 1
            logical = logical[:-1] + " " + lines[i].lstrip()
        i += 1
        stripped = logical.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("define "):
            while i < len(lines) and not lines[i].strip().startswith("endef"):
                i += 1
            i += 1
            continue
        match = re.match(r"^((?:export|override|private)\s+)*([A-Za-z_][A-Za-z0-9_.\-]*)\s*"
                         r"(:::=|::=|:=|\?=|\+=|!=|=)\s*(.*)$", logical)
        if match and ":" not in logical[:match.start(2)]:
            name = match.group(2)
            raw = re.split(r"(?<!\\)#", match.group(4), maxsplit=1)[0].rstrip()
            export = bool(match.group(1) and "export" in match.group(1)) or export_all
            col = match.start(2) + 1
            spans = host_spans(raw, "make")
            var = reader.env(name, first + 1, col, raw, scope="process" if export else "shell",
                             owner="Makefile", host_ref=bool(spans), ref=spans[0][2] if spans else None)
            (exported.append(var) if export else make_vars.__setitem__(name, var))
            continue
        if stripped.startswith("export ") and "=" not in stripped:
            for name in stripped.split()[1:]:
                if name in make_vars:
                    var = make_vars.pop(name)
                    var.scope = "process"
                    exported.append(var)
            continue
        if stripped.startswith(".EXPORT_ALL_VARIABLES"):
            export_all = True
            for var in make_vars.values():
                var.scope = "process"
                exported.append(var)
            make_vars.clear()
            continue
        if ":" in stripped and not stripped.startswith(("include", "-include", "ifeq", "ifneq", "ifdef")):
            target = stripped.split(":", 1)[0].strip() or "?"
            recipe = stripped.split(";", 1)[1] if ";" in stripped.split(":", 1)[1] else ""
            if recipe.strip():
                off = line.find(recipe)
                read_script(reader, recipe, LineSrc(recipe, first + 1, max(off, 0) + 1), exported,
                            owner=f"target {target}")
