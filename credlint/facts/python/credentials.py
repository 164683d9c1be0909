"""Credentials given to any call, as bandit's B106 reads calls: a literal (or a constant) passed
under a credential name to code outside the catalogue, and a credential-named constant passed
on."""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple

import libcst as cst

from credlint.facts.naming import is_credential_env_name, is_credential_name
from credlint.facts.types import Arg, CredentialArg
from credlint.facts.python.folding import V
from credlint.prefect.symbols import CONTEXT_SECRETS, PARTIAL, READ_BY_THE_PASS
from credlint.facts.python.syntax import dotted_name
from credlint.facts.values import is_auth_method, is_public_dsn


class CredentialArgs:
    """`CredentialArg` facts for the calls the pass reads."""

    def credential_args(self, node: cst.Call, keywords: Dict[str, tuple], positionals: List[tuple]) -> None:
        """Record what a call outside the catalogue is given under a credential name, as bandit's
        B106 reads calls: a literal (or a folded constant, or a constant of another module) passed
        to a credential-named keyword (`Client(client_secret="...")`, `auth=("u", "p")`, a dict with
        credential keys), and a credential-named constant passed to it (`connect(DB_PASSWORD)`).
        Catalogued classes, their instances and the Prefect constructs this pass reads itself are
        left to the catalogue (CL201 knows their parameters, and which of them are names)."""
        seen = self.__dict__.setdefault("_credential_calls", set())
        if id(node) in seen:
            return
        seen.add(id(node))
        shown, qual, handled = self._callee(node.func)
        if handled or (qual in PARTIAL and positionals and positionals[0][0].kind == "qual"
                       and self.cat.lookup(positionals[0][0].qual or "") is not None):
            return
        # Prefect's own parameters follow its convention (`webhook_secret=` names a secret); other
        # code's `*_secret=` holds the secret.
        prefect = bool(qual) and (qual == "prefect" or qual.startswith("prefect."))
        credential = is_credential_name if prefect else is_credential_env_name
        given = [(name, value, value_node, True) for name, (value, value_node) in keywords.items()]
        given += [(None, value, value_node, False) for value, value_node in positionals]
        written = {id(arg.value) for arg in node.args}
        spread = next((arg.value for arg in node.args if arg.star == "**"), node)
        for name, value, value_node, by_keyword in given:
            if by_keyword and credential(name):
                if value.kind == "str" and name.rsplit("_", 1)[-1].lower() == "auth" and is_auth_method(value.s or ""):
                    continue  # auth="basic": a method, not a credential
                if value.kind == "str" and name.lower().endswith("secret") and _SECRET_NAME.fullmatch(value.s or ""):
                    continue  # credentials_secret="SENDGRID": a helper written the Prefect way, given a name
                if value.kind == "str" and "dsn" in name.lower() and is_public_dsn(value.s or ""):
                    continue  # sentry_sdk.init(dsn=...): a public key
                if value.kind not in ("str", "bytes", "dict", "list", "qual"):
                    continue
            elif isinstance(value_node, (cst.Name, cst.Attribute)) and value.kind in ("str", "bytes", "qual"):
                # A module constant named for a credential, passed on (`Client(key=API_KEY)`,
                # `connect(settings.DB_PW)`); a function's local variable is not one.
                const = value_node.value if isinstance(value_node, cst.Name) else value_node.attr.value
                if not is_credential_env_name(const) or _names_a_field(value):
                    continue
                if isinstance(value_node, cst.Name) and self.scopes[0].get(const) is not self.lookup(const):
                    continue
                name, by_keyword = const, False
            elif by_keyword and value.kind == "dict":
                # `connect_args={"password": ...}`: the rule reads the credential keys; a mapping
                # of names (`rename(columns={"pwd": "password"})`) holds no value
                items = [item for item in value.items if not _names_a_field(item[1])]
                if not items:
                    continue
                value = V("dict", items=items, dyn=value.dyn, node=value.node)
            else:
                continue
            exported = self.export(value, safe=False, node=value_node, mask=True)
            # An entry of `**CONFIG` is written elsewhere: the finding goes on the `**` argument.
            arg = Arg(value=exported, pos=self.want(value_node if id(value_node) in written else spread))
            if value.node is not value_node or id(value_node) not in written:
                pass  # a dict or list written elsewhere (`connect_args=SETTINGS`): the argument's place
            elif value.kind == "dict":
                for _, _, key_node, item_node in value.items:
                    arg.keys.append(self.want(key_node))
                    arg.parts.append(self.want(item_node))
            elif value.kind == "list":
                arg.parts.extend(self.want(item_node) for _, item_node in value.elements)
            self.f.credential_args.append(CredentialArg(callee=shown, name=name or "", arg=arg, keyword=by_keyword))

    def _callee(self, func) -> Tuple[str, Optional[str], bool]:
        """(what a call calls as written, its qualified name when known, whether the catalogue or
        this pass already reads it), found without evaluating anything."""
        shown = dotted_name(func) or (func.attr.value if isinstance(func, cst.Attribute) else "a call")
        qual: Optional[str] = None
        handled = False
        tp = type(func)
        if tp is cst.Name:
            binding = self.lookup(func.value)
            if binding is not None and binding[0] in ("import", "def"):
                qual = binding[1]
            elif binding is not None and binding[0] == "value":
                value = binding[1]
                handled = value.kind in ("instance", "flow", "flowset")
                qual = value.qual if value.kind in ("qual", "class") else None
        elif tp is cst.Attribute:
            _, base, handled = self._callee(func.value)
            qual = f"{base}.{func.attr.value}" if base else None
        elif tp is cst.Call:
            _, inner, handled = self._callee(func.func)
            handled = handled or (inner is not None and self.cat.lookup(inner) is not None)
        if qual is not None and not handled:
            handled = self.cat.lookup(qual) is not None or qual in READ_BY_THE_PASS or \
                qual.rsplit(".", 1)[0] in CONTEXT_SECRETS
        return shown, qual, handled


_SECRET_NAME = re.compile(r"[A-Z][A-Z0-9_]{2,63}")  # how Prefect secrets are named


def _names_a_field(value: V) -> bool:
    """A constant whose text is a credential's *name* (`PASSWORD_KEY = "password"`,
    `TOKEN_FIELD = "api_token"`): a key to look a value up by, not the value."""
    text = value.s if value.kind == "str" else None
    return bool(text) and re.fullmatch(r"[A-Za-z][\w\-]{0,63}", text) is not None and \
        (is_credential_name(text) or is_credential_env_name(text))
