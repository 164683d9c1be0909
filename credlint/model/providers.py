"""Where a flow's secrets come from: what its storage and run config declare (storage `secrets=`,
run-config `env=` and job templates), deployment files (an agent's `--env` and own environment,
a run config's template file), a Prefect config's `[context.secrets]`, Python context writes and
the cloud-secrets inventory; and the cloud identity a run config grants."""
from __future__ import annotations

from typing import Dict, List, Optional, Set, Tuple

from credlint.config import Config
from credlint.prefect.names import prefect_secret_name
from credlint.facts.types import Arg, CallFact, ModuleFacts, Pos
from credlint.facts.values import Value
from credlint.model.types import Declaration, FlowModel, Provider, dict_items


# Variables the client libraries read themselves: set in a run config, they make a fallback explicit.
LIBRARY_ENV = {
    "aws": ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
            "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"),
    "gcp": ("GOOGLE_APPLICATION_CREDENTIALS",),
    "azure": ("AZURE_STORAGE_CONNECTION_STRING",),
    "github": ("GITHUB_ACCESS_TOKEN",),
    "gitlab": ("GITLAB_ACCESS_TOKEN",),
    "bitbucket": ("BITBUCKET_ACCESS_TOKEN", "BITBUCKET_CLOUD_USERNAME"),
}


class Providers:
    """Providers of a flow's secrets, a part of `Project`: it reads the project's `modules`,
    `deploy`, `deploy_by_path`, `config` and `flows`."""

    modules: Dict[str, ModuleFacts]
    deploy: list
    deploy_by_path: dict
    config: Config
    flows: List[FlowModel]

    def link_deployment(self) -> None:
        """Join the deployment files' facts: their variables, the agents, and the files run
        configs name as their templates. Done first: flows are linked to them."""
        self.deploy_env = self._linked_env()
        self.agents = [agent for facts in self.deploy for agent in facts.agents]
        self._agent_by_ref = {f"{a.path}:{a.pos.line}": a for a in self.agents}
        self._template_files = self._referenced_templates()

    def _linked_env(self) -> list:
        """Every deployment variable; those of a file an agent loads (compose env_file) count as
        that agent's own environment."""
        import dataclasses

        links = {}
        for facts in self.deploy:
            for link in getattr(facts, "links", ()):
                if link.kind == "env_file" and link.scope == "agent":
                    links.setdefault(link.target, link)
        out = []
        for facts in self.deploy:
            link = links.get(facts.path)
            for env in facts.env:
                if link is not None and env.scope == "process":
                    env = dataclasses.replace(env, scope="agent", agent=link.agent, agent_ref=link.agent_ref)
                out.append(env)
        return out

    # ----- run-config templates ---------------------------------------------------------------
    def _referenced_templates(self) -> Set[str]:
        """Deployment files that some run config names as its job template / task definition
        (`job_template_path=`, `task_definition_path=`)."""
        return {path for module in self.modules.values() for call in module.calls
                for path in self._template_paths(call)}

    def _template_paths(self, call: CallFact) -> List[str]:
        """The project's deployment files a run-config call names by path (matched on the trailing
        folders of the path or URL, at least the file name)."""
        found: List[str] = []
        for param in ("job_template_path", "task_definition_path"):
            arg = call.init.get(param)
            text = arg.value.text if arg is not None and arg.value.kind == "str" else None
            if not text:
                continue
            wanted = [p for p in text.split("?", 1)[0].split("/") if p]
            best: List[str] = []
            best_depth = 0
            for path in self.deploy_by_path:
                parts = path.split("/")
                depth = 0
                while depth < min(len(parts), len(wanted)) and parts[-1 - depth] == wanted[-1 - depth]:
                    depth += 1
                if depth and depth > best_depth:
                    best, best_depth = [path], depth
                elif depth and depth == best_depth:
                    best.append(path)
            found.extend(best)
        return found

    def template_provides(self, flow: "FlowModel", path: str) -> Optional[bool]:
        """None when `path` is no run-config template; else whether `flow`'s run config names it."""
        if path not in self._template_files:
            return None
        run_config = flow.run_config
        return run_config is not None and path in self._template_paths(run_config.call)

    # ----- agents -----------------------------------------------------------------------------
    def flow_labels(self, flow: "FlowModel") -> List[str]:
        if flow.run_config is None:
            return []
        arg = flow.run_config.call.init.get("labels")
        if arg is None or arg.value.kind != "list":
            return []
        return [v.text for v in arg.value.elements if v.kind == "str" and v.text]

    def serves(self, agent, flow: "FlowModel") -> bool:
        """Whether an agent can pick up this flow's runs: its labels must include the flow's."""
        if agent is None or not agent.labels:
            return True
        labels = self.flow_labels(flow)
        return not labels or set(labels) <= set(agent.labels)

    def flows_served(self, agent) -> List["FlowModel"]:
        return [f for f in self.flows if self.serves(agent, f)]

    def declarations_from_outside(self) -> List[Declaration]:
        """Declarations that reach flows from outside them: an agent's --env (the flows it serves)
        and a Prefect config's [context.secrets] (every flow run where it is loaded)."""
        return [
            Declaration(None, "agent_env", env.secret, env.path, env.pos, key=env.name, value=env.value,
                        agent=self._agent_by_ref.get(env.agent_ref or ""))
            for env in self.deploy_env if env.scope == "forwarded" and env.secret
        ] + [
            Declaration(None, "config_toml", env.secret, env.path, env.pos, key=env.name, value=env.value)
            for env in self.deploy_env if env.scope == "config" and env.secret and config_reaches_flows(env.path)
        ]

    def collect_declarations(self, flow: FlowModel) -> None:
        """What the flow's storage and run config declare: secrets (storage `secrets=[...]`, run-config
        env and templates' env) and the cloud identity a run config grants."""
        storage = flow.storage
        if storage is not None:
            arg = storage.call.init.get("secrets")
            if arg is not None and arg.value.kind == "list":
                for index, element in enumerate(arg.value.elements):
                    if element.kind == "str" and element.text:
                        pos = arg.parts[index] if index < len(arg.parts) else arg.pos
                        flow.declarations.append(Declaration(flow, "storage", element.text, storage.path, pos))
        run_config = flow.run_config
        if run_config is not None:
            for item in dict_items(run_config.call.init.get("env")):
                key, value, pos = item.key, item.value, item.key_pos
                flow.env_keys[key] = (Arg(value=value, pos=item.value_pos), pos)
                name = prefect_secret_name(key)
                if name:
                    flow.declarations.append(
                        Declaration(flow, "run_config_env", name, run_config.path, pos, key=key, value=value))
                for family, names in LIBRARY_ENV.items():
                    if key in names and value.kind != "none":
                        flow.identity.setdefault(family, f"run config env sets {key}")
            # Run-config fields that give a flow run a cloud identity (the fallback is then intentional):
            # the catalogue's `identity` on a run config's parameter. ECSRun's task_definition_arn/_path
            # name a definition credlint cannot see, so they prove none; an inline one is read below.
            for param in run_config.entry.credential_params:
                given = run_config.call.init.get(param.param)
                if param.identity and given is not None and given.value.kind != "none":
                    for family in param.identity:
                        flow.identity.setdefault(family, f"{run_config.label}({param.param}=...) grants an identity")
            for field_name in ("job_template", "task_definition"):
                template_arg = run_config.call.init.get(field_name)
                if template_arg is None:
                    continue
                for entry_name in _template_env_names(template_arg.value):
                    name = prefect_secret_name(entry_name)
                    if name:
                        flow.declarations.append(Declaration(flow, "run_config_env", name, run_config.path,
                                                             template_arg.pos, key=f"{field_name} {entry_name}"))
            template = run_config.call.init.get("job_template") or run_config.call.init.get("task_definition")
            if template is not None and _has_key(template.value, ("serviceAccountName", "taskRoleArn")):
                for family in ("aws", "gcp", "azure"):
                    flow.identity.setdefault(family, f"{run_config.label} template sets an identity")

    def providers_for(self, flow: FlowModel, name: str, mechanism: str) -> List[Provider]:
        out: List[Provider] = []
        for declaration in flow.declarations:
            if declaration.name != name:
                continue
            if declaration.kind == "storage":
                if mechanism == "storage_preload":
                    continue
                out.append(Provider("storage", name, declaration.path, declaration.pos,
                                    f"{flow.storage.label}(secrets=[...])" if flow.storage else "storage secrets"))
            else:
                out.append(Provider("run_config_env", name, declaration.path, declaration.pos,
                                    f"{flow.run_config.label if flow.run_config else 'run config'} env "
                                    f"{declaration.key}"))
        for env in self.deploy_env:
            if env.secret != name or env.value.kind == "none":
                continue
            agent_provider = self._agent_provider(flow, env, name)
            if agent_provider is not None:
                out.append(agent_provider)
            elif env.scope == "config":
                if config_reaches_flows(env.path):
                    out.append(Provider("config_toml", name, env.path, env.pos,
                                        "[context.secrets] in a Prefect config"))
            elif env.scope == "process":
                template = self.template_provides(flow, env.path)
                if template:
                    out.append(Provider("run_config_env", name, env.path, env.pos,
                                        f"{flow.run_config.label} template env {env.name}"))
                elif template is None:
                    out.append(Provider("environment", name, env.path, env.pos, f"environment variable {env.name}"))
        for write in flow.module.context_writes:
            if write.name == name:
                out.append(Provider("python_context", name, flow.module.path, write.pos, "set in Python context"))
        if mechanism in ("secret_get", "storage_preload") and self.config.cloud_secrets is not None:
            if name in self.config.cloud_secrets:
                source = self.config.path or "configuration"
                out.append(Provider("cloud_inventory", name, source, Pos(), "cloud-secrets inventory"))
        return out

    def _agent_provider(self, flow: FlowModel, env, name: str) -> Optional[Provider]:
        """An agent that passes `env` to this flow's runs: by `--env` (any agent type), or from its
        own environment (a Local agent only)."""
        agent = self._agent_by_ref.get(env.agent_ref or "")
        if env.scope == "forwarded" and self.serves(agent, flow):
            label = f"{agent.type} agent --env {env.name}" if agent else f"agent env {env.name}"
            return Provider("agent_env", name, env.path, env.pos, label)
        if env.scope == "agent" and env.agent == "local" and self.serves(agent, flow):
            return Provider("agent_env", name, env.path, env.pos, f"local agent environment {env.name}")
        return None

    def environment_providers(self, flow: FlowModel, name: str) -> List[Provider]:
        """What sets environment variable `name` for this flow's runs: its run config's env or job
        template, an agent that serves it (--env, or a Local agent's own environment)."""
        out: List[Provider] = []
        run_config = flow.run_config
        if name in flow.env_keys:
            out.append(Provider("run_config_env", name, run_config.path, flow.env_keys[name][1],
                                f"{run_config.label} env {name}"))
        if run_config is not None:
            for field_name in ("job_template", "task_definition"):
                template = run_config.call.init.get(field_name)
                if template is not None and name in _template_env_names(template.value):
                    out.append(Provider("run_config_env", name, run_config.path, template.pos,
                                        f"{run_config.label}({field_name}=...) env {name}"))
        for env in self.deploy_env:
            if env.name != name or env.value.kind == "none":
                continue
            agent_provider = self._agent_provider(flow, env, name)
            if agent_provider is not None:
                out.append(agent_provider)
            elif env.scope == "process" and self.template_provides(flow, env.path):
                out.append(Provider("run_config_env", name, env.path, env.pos,
                                    f"{run_config.label} template env {env.name}"))
        return out


_NOT_LOADED = ("example", "sample", "template", ".dist")


def config_reaches_flows(path: str) -> bool:
    """Whether a checked-in Prefect config.toml is loaded where flows run.

    Prefect reads one user config (`~/.prefect/config.toml`, or PREFECT__USER_CONFIG_PATH), so a
    config in the repository is one someone installs or mounts there for the runs (an agent's
    image, a compose volume): credlint cannot tell which runs, so it reaches every flow of the
    project. An example, sample or template (`config_example.toml`, `config.toml.sample`) is
    loaded nowhere: it reaches nothing."""
    name = path.rsplit("/", 1)[-1].lower()
    return not any(word in name for word in _NOT_LOADED)


def _template_env_names(value: Value) -> List[str]:
    """Variable names in a job template / task definition: every {"name": ..., "value"...} entry."""
    out: List[str] = []
    if value.kind == "dict":
        name = value.items.get("name") or value.items.get("Name")
        if name is not None and name.kind == "str" and name.text and (
                {"value", "valueFrom", "Value"} & set(value.items)):
            out.append(name.text)
        for item in value.items.values():
            out.extend(_template_env_names(item))
    elif value.kind == "list":
        for item in value.elements:
            out.extend(_template_env_names(item))
    return out


def _has_key(value: Value, keys: Tuple[str, ...]) -> bool:
    if value.kind != "dict":
        return False
    for key, item in value.items.items():
        if key in keys or _has_key(item, keys):
            return True
    for item in value.elements:
        if _has_key(item, keys):
            return True
    return False
