"""Names, and where the pass is: scopes' bindings and their lookup, the context being read
(module, flow, task, function, class), imports resolved to qualified names (and which Prefect
they are), what lies outside the project, and the module-level names recorded for other modules
(imports, definitions, constants, instances, flows)."""
from __future__ import annotations

import sys
from typing import Optional

import libcst as cst

from credlint.facts.naming import is_credential_name, names_a_document
from credlint.facts.python.folding import flow_index_of
from credlint.facts.python.syntax import dotted_name
from credlint.facts.values import is_document_name

# Modules that only exist in Prefect 2.x and later: code importing them is not Prefect 1.x.
PREFECT2_MODULES = (
    "prefect.flows", "prefect.deployments", "prefect.filesystems", "prefect.blocks",
    "prefect.infrastructure", "prefect.server", "prefect.states", "prefect.task_runners",
    "prefect.runtime", "prefect.variables", "prefect.artifacts", "prefect.futures",
)
PREFECT1_MODULES = (
    "prefect.tasks", "prefect.storage", "prefect.run_configs", "prefect.engine",
    "prefect.utilities", "prefect.client", "prefect.core", "prefect.environments", "prefect.agent",
)

_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | {
    "os", "sys", "re", "json", "time", "datetime", "logging", "typing", "pathlib", "functools", "itertools",
    "collections", "subprocess", "shutil", "tempfile", "io", "math", "random", "uuid", "hashlib", "base64",
    "urllib", "http", "csv", "glob", "copy", "enum", "dataclasses", "contextlib", "textwrap", "string"}


def outside_project(qual: str) -> bool:
    """Calls that cannot reach a project task: the standard library and Prefect itself."""
    head = qual.split(".", 1)[0]
    return head in _STDLIB or head == "prefect"


class Context:
    """Where the pass is: the kind of block, its owner's qualified name and the flow being built."""

    __slots__ = ("kind", "owner", "flow", "tentative")

    def __init__(self, kind: str, owner: Optional[str], flow: Optional[int], tentative: bool = False):
        self.kind = kind  # module | flow | task | function | class
        self.owner = owner
        self.flow = flow
        # A `with` block of what may not be a flow (an instance of an imported class): its tasks
        # go to the candidate flow and to the enclosing function, its secret reads stay the
        # enclosing context's.
        self.tentative = tentative


class Scopes:
    """Bindings, contexts and imports; the state (`scopes`, `scope_kinds`, `ctx`) is the pass's."""

    def bind(self, name: str, binding: tuple) -> None:
        """Bind a name in the current scope; at module level, also record it for other modules."""
        self.scopes[-1][name] = binding
        if len(self.scopes) == 1:
            self.module_binds[name] = self.module_binds.get(name, 0) + 1
            kind = binding[0]
            if kind == "import":
                self.f.imports[name] = binding[1]
            elif kind == "value" and binding[1].kind in ("qual", "class") and binding[1].qual:
                self.f.imports[name] = binding[1].qual  # an alias of something importable
            else:
                self.f.imports.pop(name, None)
            if kind == "def":
                self.f.definitions[name] = binding[2]
            else:
                self.f.definitions.pop(name, None)
            value = binding[1] if kind == "value" else None
            if value is not None and value.kind in ("str", "bytes"):
                # Kept for other modules that import it (redacted: kind and flags only).
                constant = self.export(value, safe=False, node=value.node, mask=is_credential_name(name))
                if value.kind == "str" and names_a_document(name) and is_document_name(value.s or ""):
                    constant.text = value.s  # a block's or Variable's name: other modules load by it
                self.f.constants[name] = constant
            else:
                self.f.constants.pop(name, None)
            if value is not None and value.kind == "instance":
                self.f.instances[name] = value.call
                self.f.calls[value.call].var = self.f.calls[value.call].var or name
            else:
                self.f.instances.pop(name, None)
            if value is not None and value.kind == "qual" and value.ref == "instance" and value.var is None \
                    and self.f.module:
                value.var = f"{self.f.module}.{name}"
            if value is not None and value.kind == "result" and value.qual and not outside_project(value.qual):
                self.f.helper_results[name] = value.qual  # `STORAGE = make_storage()`, for other modules
            else:
                self.f.helper_results.pop(name, None)
            if value is not None and value.kind == "qual" and value.attached and value.var:
                # `publish = Publish(state_handlers=[...])`: the handlers go with the name.
                ids, refs = value.attached
                value.attached = None
                self.attach_handlers(value, ids, refs)
            if value is not None and flow_index_of(value) is not None and value.kind != "self":
                self.f.flow_vars[name] = value.flow  # a flow, or what the project may find is one
                self.f.flows[value.flow].var = self.f.flows[value.flow].var or name
            else:
                self.f.flow_vars.pop(name, None)

    def lookup(self, name: str) -> Optional[tuple]:
        """What a name is bound to where it is read (class scopes are not seen from their methods)."""
        last = len(self.scopes) - 1
        for index in range(last, -1, -1):
            if index != last and self.scope_kinds[index] == "class":
                continue
            found = self.scopes[index].get(name)
            if found is not None:
                return found
        if last > 0 and self.scope_kinds[last] == "function":  # a body runs once the module is done
            return self.hoisted.get(name)
        return None

    @property
    def here(self) -> Context:
        """The context being read."""
        return self.ctx[-1]

    @property
    def settled(self) -> Context:
        """The context, skipping `with` blocks of what may not be a flow (see `Context.tentative`)."""
        for ctx in reversed(self.ctx):
            if not ctx.tentative:
                return ctx
        return self.ctx[0]

    def qualify(self, name: str) -> str:
        """The qualified name of a definition made here."""
        owner = self.here.owner
        base = owner if owner else self.f.module
        return f"{base}.{name}" if base else name

    # imports --------------------------------------------------------------------------------
    def _mark_module(self, module: str) -> None:
        if module == "prefect" or module.startswith("prefect."):
            self.f.uses_prefect = True
            if any(module == m or module.startswith(m + ".") for m in PREFECT2_MODULES):
                self.f.prefect2 = True
            elif any(module == m or module.startswith(m + ".") for m in PREFECT1_MODULES):
                self.f.prefect1 = True
        elif module.startswith("prefect_"):
            self.f.prefect2 = True

    def import_(self, node: cst.Import) -> None:
        """`import a.b` / `import a.b as c`."""
        for alias in node.names:
            dotted = dotted_name(alias.name)
            if not dotted:
                continue
            self._mark_module(dotted)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.bind(alias.asname.name.value, ("import", dotted))
            else:
                head = dotted.split(".", 1)[0]
                self.bind(head, ("import", head))

    def import_from(self, node: cst.ImportFrom) -> None:
        """`from m import x`, relative and `*` imports included."""
        module = dotted_name(node.module) if node.module is not None else ""
        level = len(node.relative)
        if level:
            parts = self.f.module.split(".") if self.f.module else []
            if not self.f.is_package and parts:
                parts = parts[:-1]
            if level > 1:
                parts = parts[: len(parts) - (level - 1)] if level - 1 <= len(parts) else []
            base = ".".join(parts)
            module = f"{base}.{module}" if base and module else (base or module)
        if not module:
            return
        self._mark_module(module)
        if isinstance(node.names, cst.ImportStar):
            for name, qual in self.cat.module_members(module).items():
                self.bind(name, ("import", qual))
            return
        for alias in node.names:
            name = dotted_name(alias.name)
            if not name:
                continue
            if module == "prefect" and name == "flow":
                self.f.prefect2 = True
            if module == "prefect" and name in ("Flow", "Parameter"):
                self.f.prefect1 = True
            local = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self.bind(local, ("import", f"{module}.{name}"))
