"""Secret and environment reads (Prefect 1.x): `os.environ[...]`, `prefect.context.secrets[...]`,
`PrefectSecret(...).run()`, `Secret(...).get()`; and secrets written into the context."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from credlint.facts.naming import is_credential_name
from credlint.facts.types import CallFact, ContextWrite, EnvRead, SecretRead
from credlint.facts.python.folding import DYN, V
from credlint.prefect.symbols import CONTEXT, CONTEXT_SECRETS, ENVIRON


class Reads:
    """Secret reads, environment reads and context writes."""

    def subscript(self, node: cst.Subscript) -> V:
        """`x[...]`: an environment or context-secret read, or nothing known."""
        base = self.ev(node.value)
        key = self.subscript_key(node)
        for element in node.slice:
            if isinstance(element.slice, cst.Index):
                self.ev(element.slice.value)
        if base.qual == ENVIRON:
            self.env_read(key, node)
            return V("env", ref=key)
        if base.kind == "dotenv":
            return V("dotenv_value", ref=key)
        if base.qual in CONTEXT_SECRETS:
            self.read(key, "context", True, node, "prefect.context.secrets[...]")
            return V("secret_value", ref=key)
        if base.qual in CONTEXT and key == "secrets":
            return V("qual", qual="prefect.context.secrets")
        return DYN

    def read(self, name: Optional[str], mechanism: str, required: bool, node, api: str) -> None:
        """A secret read (`mechanism`: context or secret_get), required unless a `try` catches its error."""
        here = self.settled
        index = len(self.f.reads)
        required = required and not self.guarded("ValueError" if mechanism == "secret_get" else "KeyError")
        context = "function" if self.lambdas and here.kind in ("module", "flow", "class") else here.kind
        self.f.reads.append(SecretRead(name=name, mechanism=mechanism, required=required, context=context,
                                       owner=here.owner, pos=self.want(node), api=api))
        if here.kind in ("task", "function") and here.owner in self.f.routines:
            self.f.routines[here.owner].reads.append(index)

    def env_read(self, name: Optional[str], node) -> None:
        """A credential-named environment variable read inside a function (a task's body, a helper)."""
        here = self.here
        if not name or here.kind not in ("task", "function") or not is_credential_name(name):
            return
        index = len(self.f.env_reads)
        self.f.env_reads.append(EnvRead(name=name, context=here.kind, owner=here.owner, pos=self.want(node)))
        if here.owner in self.f.routines:
            self.f.routines[here.owner].env_reads.append(index)

    def secret_name(self, call: CallFact, keywords, positionals) -> Optional[str]:
        """The secret a PrefectSecret instance reads, from its `run()` keywords or its constructor."""
        if "name" in keywords and keywords["name"][0].kind == "str":
            return keywords["name"][0].s
        arg = call.init.get("name")
        return arg.value.text if arg is not None else None

    def context_write(self, name: Optional[str], value: V, via: str, node, value_node) -> None:
        """A secret written into the context (`via`: context_call, context_assign or environ)."""
        exported = self.export(value, safe=False, node=value_node)
        self.f.context_writes.append(
            ContextWrite(name=name, value=exported, via=via, pos=self.want(node), value_pos=self.want(value_node))
        )
