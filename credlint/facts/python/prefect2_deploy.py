"""Deployments made from Python (Prefect 2.x/3.x): `flow.deploy(...)`, `flow.serve(...)`,
`flow.to_deployment(...)`, the same on `flow.from_source(source, entrypoint)`, `deploy(*deployments)`
/ `serve(*deployments)`, and 2.x's `Deployment.build_from_flow(flow, name, ...)`. What they store
with the deployment, `job_variables=` and `parameters=`, is kept redacted: a value computed from
`Secret.load(...).get()`, an environment read or a literal is what the rules look for."""
from __future__ import annotations

from typing import Dict, Optional

import libcst as cst

from credlint.facts.blocks import DeploymentFact
from credlint.facts.naming import is_credential_name
from credlint.facts.places import Arg
from credlint.facts.python.folding import V
from credlint.facts.values import secretish
from credlint.prefect.symbols2 import DEPLOY_POSITIONAL, JOB_VARIABLES_KEYWORDS

# Keywords kept apart from `args` (a deployment's name, its flow, its pool, what it stores).
_OWN = {"name", "flow", "work_pool_name", "parameters", *JOB_VARIABLES_KEYWORDS}


class Deployments2:
    """Deployment calls and the `from_source(...)` they may be made on."""

    def from_source(self, node: cst.Call) -> V:
        """`flow.from_source(source, entrypoint)`: a flow loaded from elsewhere, to deploy."""
        keywords, _, _ = self.args(node, ("source", "entrypoint"))
        source = keywords.get("source")
        entrypoint = self._text(keywords.get("entrypoint"))
        self.sources.append((self.arg(*source) if source else None, entrypoint))
        return V("flow_source", call=len(self.sources) - 1)

    def deployment(self, node: cst.Call, method: str, base: Optional[V]) -> V:
        """A flow deployed, served or turned into a deployment (`base`: the flow, or the
        `from_source` result; None for `Deployment.build_from_flow(flow=...)`)."""
        keywords, _, star = self.args(node, ("flow", "name") if method == "build_from_flow" else DEPLOY_POSITIONAL)
        fact = self._fact(node, method, keywords)
        if base is None:
            given = keywords.get("flow")
            fact.flow = given[0].qual if given and given[0].kind == "qual" else None
        elif base.kind == "flow_source":
            fact.source, fact.entrypoint = self.sources[base.call]
        else:
            fact.flow = base.qual
        return V("deployment", call=fact.index)

    def deploy_all(self, node: cst.Call, method: str) -> V:
        """`deploy(d1, d2, work_pool_name=...)` / `serve(d1, d2)` of `to_deployment()` results."""
        keywords, positionals, _ = self.args(node)
        fact = self._fact(node, method, keywords)
        fact.deployments = [value.call for value, _ in positionals if value.kind == "deployment"]
        return V("deployment", call=fact.index)

    def _fact(self, node: cst.Call, method: str, keywords: Dict[str, tuple]) -> DeploymentFact:
        job_variables = next((keywords[k] for k in JOB_VARIABLES_KEYWORDS if k in keywords), None)
        parameters = keywords.get("parameters")
        fact = DeploymentFact(
            index=len(self.blocks.deployments), method=method, pos=self.want(node),
            name=self._text(keywords.get("name")), work_pool=self._text(keywords.get("work_pool_name")),
            job_variables=self.arg(*job_variables) if job_variables else None, env=self._env(job_variables),
            parameters=self.arg(*parameters) if parameters else None,
            args=self._other_args(keywords), awaited=id(node) in self.awaited, in_async=self.in_async(),
            where=self.where(), owner=self.here.owner)
        self.blocks.deployments.append(fact)
        return fact

    def _env(self, job_variables: Optional[tuple]) -> Optional[Arg]:
        if job_variables is None or job_variables[0].kind != "dict":
            return None
        env = next(((value, node) for key, value, _, node in job_variables[0].items if key == "env"), None)
        return self.arg(*env) if env is not None else None

    def _other_args(self, keywords: Dict[str, tuple]) -> Dict[str, Arg]:
        return {key: self.arg(value, value_node, mask=is_credential_name(key))
                for key, (value, value_node) in keywords.items() if key not in _OWN}

    def _text(self, given: Optional[tuple]) -> Optional[str]:
        """A name given as a literal (a deployment's, a pool's, an entrypoint), unless it looks
        like a secret."""
        if given is None or given[0].kind != "str" or secretish(given[0].s or ""):
            return None
        return given[0].s
