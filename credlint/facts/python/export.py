"""What leaves the pass: a folded value turned into the facts' `Value` (its kind and flags; its text
only where it is a name), and the spans of literals to mask in snippets."""
from __future__ import annotations

from typing import Dict, Optional

from credlint.prefect.catalogue import Entry
from credlint.facts.naming import is_credential_name
from credlint.facts.types import Arg, Pos
from credlint.facts.python.folding import V
from credlint.prefect.symbols import ENV_SECRET_TASKS, SECRET_TASKS
from credlint.facts.values import Value, is_placeholder, is_test_fake, is_test_path, looks_like_credential

# Arguments whose string value is a name (kept in clear), besides the catalogue's name params.
NAME_ARGS = {"name", "secrets", "labels", "smtp_type", "task_role_arn", "service_account_name",
             "service_account", "execution_role_arn", "image", "bucket", "repo", "path"}
# Paths of files a run config reads (kept in clear to find the file in the project), unless the
# text could hold a credential (a URL with user info).
TEMPLATE_PATH_ARGS = {"job_template_path", "task_definition_path"}


class Export:
    """Values for the facts, redacted."""

    def export_args(self, entry: Optional[Entry], keywords: Dict[str, tuple], positions: bool = True) -> Dict[str, Arg]:
        """A call's keywords as `Arg`s (with positions, unless `positions` is False)."""
        safe_names = set(NAME_ARGS)
        if entry is not None:
            safe_names.update(entry.name_params)
            for spec in entry.secrets:
                safe_names.update(k for k, _ in spec.skip_if)
        out: Dict[str, Arg] = {}
        for key, (value, node) in keywords.items():
            safe = key in safe_names or (key in TEMPLATE_PATH_ARGS and _plain_path(value))
            mask = not safe and (is_credential_name(key) or (entry is not None and entry.credential_param(key) is not None))
            arg = Arg(value=self.export(value, safe=safe, node=node, mask=mask),
                      pos=self.want(node) if positions else Pos())
            if not positions:
                out[key] = arg
                continue
            if value.kind == "dict":
                for _, _, key_node, item_node in value.items:
                    arg.keys.append(self.want(key_node))
                    arg.parts.append(self.want(item_node))
            elif value.kind == "list":
                for _, item_node in value.elements:
                    arg.parts.append(self.want(item_node))
            out[key] = arg
        return out

    def export(self, value: V, safe: bool, node=None, mask: bool = True) -> Value:
        """A Value for the facts; `mask` marks the literal's span for masking in snippets."""
        kind = value.kind
        if kind in ("str", "bytes"):
            text = value.s or ""
            placeholder = is_placeholder(text) or (self.in_tests() and is_test_fake(text))
            shaped = looks_like_credential(text)
            if not safe and not placeholder and (mask or shaped) and value.node is not None:
                self.f.sensitive.append(self.want(value.node))
            return Value(kind, text=text if safe else None, empty=not text, placeholder=placeholder, shaped=shaped)
        if kind == "dict":
            out = Value("dict", dynamic_keys=value.dyn)
            for key, item, _, _ in value.items:
                # `name` entries of templates ({"name": "VAR", "value": ...}) are variable names.
                out.items[key] = self.export(item, safe=safe or key in ("name", "Name"), node=None,
                                             mask=mask or is_credential_name(key))
            return out
        if kind == "list":
            return Value("list", elements=[self.export(item, safe=safe, mask=mask) for item, _ in value.elements])
        if kind == "bool":
            return Value(kind, text=value.s)
        if kind == "num":
            # A number in a credential slot (a PIN) is a value too: masked, so the snippet (and
            # the fingerprint made from it) shows no digit of it.
            if not safe and mask and value.node is not None:
                self.f.sensitive.append(self.want(value.node))
            return Value(kind)
        if kind == "none":
            return Value(kind)
        if kind == "instance":
            call = self.f.calls[value.call]
            if call.symbol in SECRET_TASKS:
                name = call.init.get("name")
                return Value("secret_ref", ref=name.value.text if name else None)
            if call.symbol in ENV_SECRET_TASKS:
                name = call.init.get("name")
                return Value("env", ref=name.value.text if name else None)
            return Value("instance", ref=call.symbol)
        if kind in ("env", "secret_value", "parameter", "dotenv_value"):
            return Value(kind, ref=value.ref)
        if kind == "dotenv":
            return Value("env_map")
        if kind == "result":
            return Value("result")
        if kind == "qual" and value.qual:
            return Value("import", ref=value.qual)  # a name from another module: resolved by the project
        return Value("dynamic")

    def in_tests(self) -> bool:
        """Test code (a test file, a `test_*` function, a `Test*` class), where a weak password or a
        `test-token` is a fake given to the code under test."""
        if is_test_path(self.f.path):
            return True
        owner = self.here.owner or ""
        if self.f.module and owner.startswith(self.f.module + "."):
            owner = owner[len(self.f.module) + 1:]
        return any(part.startswith(("test_", "Test")) for part in owner.split(".") if part)


def _plain_path(value: V) -> bool:
    """A literal file path or URL with nothing in it that could be a credential."""
    text = value.s if value.kind == "str" else None
    return bool(text) and "@" not in text and "?" not in text and not looks_like_credential(text)
