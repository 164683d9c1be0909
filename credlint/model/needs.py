"""A flow's needs: the secrets its consumers and its code read during a flow run, and how each is
met. Each ends in one state (DESIGN.md section 2): provided, ambient, unverifiable, missing —
plus `argument` (a per-task argument replaces the secret) and `unknown` (the name is computed at
run time)."""
from __future__ import annotations

from typing import Optional, Set, Tuple

from credlint.prefect.catalogue import Entry, SecretSpec
from credlint.config import Config
from credlint.facts.naming import is_credential_name
from credlint.facts.values import Value
from credlint.model.providers import Providers
from credlint.model.types import Consumer, FlowModel, Need


class Needs(Providers):
    """Settling a flow's needs, a part of `Project`: `Providers` says what provides each secret,
    the project's `config` what is allowed to fall back."""

    config: Config

    def collect_needs(self, flow: FlowModel) -> None:
        """The secrets the flow's consumers, its code and its storage read in a run, each settled."""
        for consumer in flow.consumers:
            for spec in consumer.entry.secrets:
                if spec.mechanism == "storage_preload":
                    continue  # the declarations themselves, below
                need = self._need(flow, consumer, spec)
                if need is not None:
                    flow.needs.append(need)
        for module, read in flow.reads:
            need = Need(flow=flow, name=read.name, mechanism=read.mechanism, required=read.required,
                        family="", path=module.path, pos=read.pos, read=read)
            self._settle(need)
            flow.needs.append(need)
        for declaration in flow.declarations:
            if declaration.kind != "storage":
                continue
            need = Need(flow=flow, name=declaration.name, mechanism="storage_preload", required=True,
                        family="storage", path=declaration.path, pos=declaration.pos)
            self._settle(need)
            flow.needs.append(need)

    def collect_environment_needs(self, flow: FlowModel) -> None:
        """Credential-named variables the flow's tasks read from `os.environ` (DESIGN section 2:
        credentials that arrive outside Prefect). Inventory only: never a finding."""
        seen: Set[Tuple[str, str, int]] = set()
        for module, read in flow.env_reads:
            if (read.name, module.path, read.pos.line) in seen:
                continue
            seen.add((read.name, module.path, read.pos.line))
            owner = (read.owner or "").rsplit(".", 1)[-1]
            need = Need(flow=flow, name=read.name, mechanism="environment", required=False, family="environment",
                        path=module.path, pos=read.pos, reader=f"os.environ in {owner}()" if owner else "os.environ")
            need.providers = self.environment_providers(flow, read.name)
            if need.providers:
                need.state = "provided"
            else:
                need.state = "ambient"
                need.ambient_reason = "the run's own environment (nothing in the project sets it)"
            flow.environment.append(need)

    def _need(self, flow: FlowModel, consumer: Consumer, spec: SecretSpec) -> Optional[Need]:
        if consumer.call.star_kwargs:
            return None  # arguments we cannot see may change everything
        name = spec.name
        need = Need(flow=flow, name=name, mechanism=spec.mechanism, family=spec.family, path=consumer.path,
                    pos=consumer.pos, consumer=consumer, spec=spec,
                    required=spec.required and not (consumer.call.guarded and spec.mechanism == "secret_get"))
        if spec.name_param:
            given = consumer.argument(spec.name_param, spec.name_where or "init+run")
            if given is None:
                if spec.only_if_name_param:
                    return None
            else:
                value = given[1].value
                if value.kind == "none" or (value.kind == "str" and value.text == ""):
                    if spec.none_disables or spec.only_if_name_param:
                        return None
                    need.name = "None"
                elif value.kind == "str" and value.text is not None:
                    need.name = value.text
                else:
                    need.name = None
                    need.state = "unknown"
                    return need
        for key, expected in spec.skip_if:
            given = consumer.argument(key)
            if given is not None and _matches(given[1].value, expected):
                return None
        for param_name in spec.satisfied_by:
            cred = consumer.entry.credential_param(param_name)
            where = cred.where if cred is not None else "init+run"
            given = consumer.argument(param_name, where)
            if given is None:
                continue
            place, arg = given
            if cred is not None and cred.ignored and cred.ignored == place:
                continue
            if arg.value.kind in ("none",) or (arg.value.kind == "str" and arg.value.empty):
                continue
            if _switches_read_away(consumer.entry, param_name):
                return None  # another read (listed on its own) or another mode replaces this one
            need.state = "argument"
            need.argument = f"{param_name}= ({place})"
            return need
        self._settle(need)
        return need

    def _settle(self, need: Need) -> None:
        if need.name is None:
            need.state = "unknown"
            return
        need.providers = self.providers_for(need.flow, need.name, need.mechanism)
        if need.providers:
            need.state = "provided"
            return
        if need.mechanism == "context":
            if need.read is not None:
                need.state = "missing" if need.required else "ambient"
                return
            reason = need.flow.identity.get(need.family)
            if reason is None and need.family in self.config.allow_fallback:
                reason = f"allow-fallback includes {need.family}"
            if reason is None and need.optional:
                reason = _anonymous_reason(need)
            if reason is not None:
                need.state = "ambient"
                need.ambient_reason = reason
            else:
                need.state = "missing"
            return
        if not need.required:  # `Secret.get` in a `try` that catches its ValueError
            need.state = "ambient"  # the code goes on without it: no run fails for want of it
            need.ambient_reason = "optional: the code catches the error of a missing secret"
            return
        if self.config.backend == "cloud" and self.config.cloud_secrets is None:
            need.state = "unverifiable"
        else:
            need.state = "missing"


def _switches_read_away(entry: Entry, param: str) -> bool:
    """A `satisfied_by` argument that is no credential: a secret-name parameter (GitHub's
    `access_token_secret` replaces the GITHUB_ACCESS_TOKEN read with a read of the named secret,
    a need of its own) or a mode switch (Bitbucket's `workspace`: Cloud mode reads no context)."""
    if param in entry.name_params:
        return True
    return entry.credential_param(param) is None and not is_credential_name(param)


def _anonymous_reason(need: Need) -> str:
    """Why an optional need that nothing provides is no fallback to someone else's credentials."""
    variables = [v.name for v in need.consumer.entry.env_vars if v.name == need.name] if need.consumer else []
    then = f"the {variables[0]} variable if set, else " if variables else ""
    return f"optional: without it, {then}anonymous access (public repositories)"


def _matches(value: Value, expected: str) -> bool:
    if value.kind == "bool":
        return (value.text or "") == expected
    if value.kind == "str" and value.text is not None:
        return value.text == expected
    return False

