"""CL303: secret values captured when the flow is built and stored with it."""
from credlint.prefect.blocks import builtin_block_catalogue
from credlint.prefect.deployments import stored_resolved
from credlint.prefect.names import prefect_secret_name
from credlint.engine import Hit, Invalid, Valid, rule
from credlint.facts.naming import ends_as_not_the_secret, is_credential_env_name, is_credential_name
from credlint.facts.values import describe
from credlint.model.types import dict_items

# Storage that re-executes the flow file at run time: __init__ runs again in the flow run.
SCRIPT_STORAGE = {
    "prefect.storage.github.GitHub", "prefect.storage.gitlab.GitLab", "prefect.storage.bitbucket.Bitbucket",
    "prefect.storage.git.Git", "prefect.storage.codecommit.CodeCommit", "prefect.storage.module.Module",
}


def _script_based(flow) -> bool:
    storage = flow.storage
    if storage is None:
        return False
    if storage.symbol in SCRIPT_STORAGE:
        return True
    arg = storage.call.init.get("stored_as_script")
    return arg is not None and arg.value.kind == "bool" and arg.value.text == "True"


@rule(
    "CL303", "secret-in-flow-metadata", "error",
    bad=[Invalid("""
        from prefect import Flow
        from prefect.storage import S3
        from prefect.tasks.dbt import DbtCloudRunJob

        with Flow("dbt", storage=S3(bucket="flows")) as flow:
            DbtCloudRunJob(cause="nightly")()
        """, title="DbtCloudRunJob reads DBT_CLOUD_TOKEN in __init__, at registration",
        line=6, column=5,
        message="DbtCloudRunJob reads DBT_CLOUD_TOKEN from the environment in __init__, so its value on the machine "
                "that builds flow 'dbt' is pickled into the stored flow"),
         Invalid("""
        from prefect import Flow
        from prefect.client import Secret
        from prefect.run_configs import KubernetesRun

        with Flow("etl") as flow:
            pass

        flow.run_config = KubernetesRun(env={"SNOWFLAKE_PASSWORD": Secret("SNOWFLAKE_PASSWORD").get()})
        """, title="a secret read at registration, stored in the run config",
        line=8, column=60,
        message="KubernetesRun(env['SNOWFLAKE_PASSWORD']=...) gets the value of secret 'SNOWFLAKE_PASSWORD' read "
                "with Secret.get: Prefect stores env with the flow in plain text when it is registered"),
         Invalid({"flows/etl.py": "from prefect import flow\n", "prefect.yaml": """
        deployments:
          - name: nightly
            entrypoint: flows/etl.py:etl
            work_pool:
              name: k8s
              job_variables:
                env:
                  DB_PASSWORD: "{{ prefect.blocks.secret.db-password }}"
        """}, title="Prefect 2.x/3.x: a Secret block in a deployment's job variables",
        path="prefect.yaml", line=8, column=25,
        message="job_variables.env.DB_PASSWORD of deployment 'nightly' is {{ prefect.blocks.secret.db-password }}, "
                "the value of Secret block 'secret/db-password': prefect deploy resolves it and stores the value in "
                "plain text with the deployment (PrefectHQ/prefect#14088)"),
         Invalid("""
        from prefect import flow
        from prefect.blocks.system import Secret

        @flow
        def etl():
            pass

        if __name__ == "__main__":
            etl.deploy(name="nightly", work_pool_name="k8s", image="acme/etl:1",
                       job_variables={"env": {"DB_PASSWORD": Secret.load("db-password").get()}})
        """, title="Prefect 2.x/3.x: a Secret's value computed for .deploy(job_variables=...)",
        line=10, column=54,
        message="etl.deploy(job_variables['env']['DB_PASSWORD']=...) gets the value of block 'secret/db-password' "
                "(Secret.load(\"db-password\").get()) when the deployment is made: Prefect stores job_variables in "
                "plain text with the deployment (PrefectHQ/prefect#17432)")],
    good=[Valid("""
        from prefect import Flow
        from prefect.storage import GitHub
        from prefect.tasks.dbt import DbtCloudRunJob

        with Flow("dbt", storage=GitHub(repo="acme/flows", path="flows/dbt.py")) as flow:
            DbtCloudRunJob(cause="nightly")()
        """),
          Valid({"flows/etl.py": "from prefect import flow\n", "prefect.yaml": """
        pull:
          - prefect.deployments.steps.git_clone:
              repository: https://github.com/acme/flows.git
              access_token: "{{ prefect.blocks.secret.github-token }}"
        deployments:
          - name: nightly
            entrypoint: flows/etl.py:etl
            work_pool:
              name: k8s
              job_variables:
                env:
                  DB_HOST: "{{ prefect.variables.db_host }}"
                  IMAGE_TAG: "{{ $IMAGE_TAG }}"
        """}, title="a pull step's reference is resolved on the worker; a Variable that is a setting"),
          Valid({"flows/etl.py": "from prefect import flow\n", "infra/pool.tf": """
        resource "prefect_work_pool" "k8s" {
          name = "k8s"
          type = "kubernetes"
          base_job_template = jsonencode({
            job_configuration = { env = { DB_PASSWORD = "{{ prefect.blocks.secret.db-password }}" } }
          })
        }
        """}, title="a work pool's base job template: the worker resolves it at each run"),
          Valid("""
        from prefect import flow
        from prefect.blocks.system import Secret

        @flow
        def etl():
            password = Secret.load("db-password").get()

        if __name__ == "__main__":
            etl.serve(name="nightly")
            etl.deploy(name="nightly", work_pool_name="k8s", image="acme/etl:1",
                       job_variables={"env": {"DB_PASSWORD": "{{ prefect.blocks.secret.db-password }}"}})
        """, title="loaded in the flow at run time; a template passed from Python stays a reference")],
)
def check_secret_in_flow_metadata(project):
    """A secret value is captured when the flow is built and stored with it.

    ## What it does
    Reports secret values computed while the flow is registered that land in what Prefect
    serializes with it: `Secret(...).get()`, `os.environ[...]` of a credential variable or
    `dotenv_values(...)` in a run config's `env`, `job_template` or `task_definition`, storage
    `client_options`, or Docker storage `env_vars`. Also classes that read a credential
    environment variable in `__init__` (dbt Cloud's `DBT_CLOUD_TOKEN`, Cube.js's
    `CUBEJS_API_SECRET`, `AzureResult`'s connection string) in flows whose storage pickles them.

    In Prefect 2.x/3.x, the secrets that land in what a deployment stores: in a `prefect.yaml`,
    a `{{ prefect.blocks.* }}` template of a Secret or credentials block (or of a credential
    field, or of a whole block that nests one), or a `{{ prefect.variables.* }}` / `{{ $VAR }}` of
    a credential, in a deployment's `job_variables` (its `env` included), `parameters` or other
    fields, or one that lands on a credential's name (`env.DB_PASSWORD`, `parameters.token`):
    `prefect deploy` resolves them all before it creates the deployment. In Python,
    `.deploy(...)`, `.to_deployment(...)`, `.serve(...)` and 2.x's `Deployment.build_from_flow`
    given `job_variables=` (2.x `infra_overrides=`) or `parameters=` computed from
    `Secret.load(...).get()`, a credential environment variable, a credential Variable, or a
    literal in a credential's format (or landing on a credential's name). A pull step, a work
    pool's base job template, Terraform's `prefect_deployment` (sent as written) and a template
    passed from Python stay references the worker resolves at each run, and are fine; so are
    settings (`{{ prefect.variables.db_host }}`, `{{ $IMAGE_TAG }}`). With `prefect = "2"` in the
    config, `job_variables` in a prefect.yaml are left alone: Prefect 2.20 resolves them on the
    worker (PrefectHQ/prefect#14156), its parameters and other fields still at deploy time.

    ## Why is this bad?
    The secret leaves your secret store: it is stored in plain text in Prefect's backend with
    the flow's run config, baked into an image, or pickled into storage — and it stops changing
    when you rotate it. A 2.x/3.x deployment shows its job variables and parameters in the UI
    (PrefectHQ/prefect#14088, #17432) to anyone who can read the workspace.

    ## How to fix
    Provide it at run time: `PREFECT__CONTEXT__SECRETS__NAME` on the agent, storage
    `secrets=[...]`, or `PrefectSecret` inside the flow. For `__init__` reads, use script-based
    storage (`GitHub`, `Git`, `stored_as_script=True`) or pass the credential at run time.
    In 2.x/3.x, load the block in the flow (`Secret.load("db-password").get()`), reference it
    where the worker resolves it (a pull step, the work pool's base job template), pass a
    template rather than its value from Python, and give parameters a block's name.
    """
    for module in project.modules.values():
        yield from _registration_values(module, project)
    for flow in project.flows:
        if not _script_based(flow):
            yield from _init_env_reads(flow)
    yield from _yaml_refs(project)
    yield from _python_deployments(project)


# Arguments Prefect serializes with the flow (to the backend, or into the image).
SERIALIZED = {
    "run_config": ("env", "job_template", "task_definition"),
    "storage": ("client_options", "env_vars", "build_request_kwargs", "get_flow_request_kwargs"),
}


def _leaks(value, path=()):
    """(where inside the argument, what) for values computed from a secret at registration."""
    if value.kind == "secret_value":
        yield path, f"the value of secret '{value.ref}' read with {('Secret.get' if value.ref else 'a secret read')}"
    elif value.kind == "dotenv_value":
        yield path, f"{value.ref or 'a variable'} from dotenv_values(...)"
    elif value.kind == "env_map":
        yield path, "every variable of a .env file (dotenv_values(...))"
    elif value.kind == "env" and value.ref and (is_credential_name(value.ref) or prefect_secret_name(value.ref)):
        yield path, f"the credential variable {value.ref} read from the registering machine's environment"
    elif value.kind == "dict":
        for key, item in value.items.items():
            yield from _leaks(item, path + (key,))
    elif value.kind == "list":
        for index, item in enumerate(value.elements):
            yield from _leaks(item, path + (index,))


def _registration_values(module, project):
    for call in module.calls:
        entry = project.catalogue.lookup(call.symbol)
        if entry is None or entry.kind not in SERIALIZED:
            continue
        for name in SERIALIZED[entry.kind]:
            arg = call.init.get(name)
            if arg is None:
                continue
            value_pos = {item.key: item.value_pos for item in dict_items(arg)}  # {} unless a dict literal
            for where, what in _leaks(arg.value):
                pos = value_pos.get(where[0], arg.pos) if len(where) == 1 else arg.pos
                inside = "".join(f"[{k!r}]" for k in where)
                yield Hit(
                    path=module.path, pos=pos, symbol=entry.symbol,
                    message=(f"{entry.short_name}({name}{inside}=...) gets {what}: Prefect stores {name} with the "
                             f"flow in plain text when it is registered"),
                    fix=("provide it at run time instead: PREFECT__CONTEXT__SECRETS__... on the agent, storage "
                         "secrets=[...], or PrefectSecret inside the flow"),
                )


def _init_env_reads(flow):
    seen = set()
    for consumer in flow.consumers + ([flow.storage] if flow.storage else []):
        entry = consumer.entry
        for env in entry.env_vars:
            if env.at != "init" or not env.credential or not env.name:
                continue
            given = [p.param for p in entry.credential_params if "init" in p.where and p.param in consumer.call.init
                     and consumer.call.init[p.param].value.kind not in ("none",)]
            if given:
                continue
            key = (consumer.path, consumer.call.pos.line, consumer.call.pos.column, env.name)
            if key in seen:
                continue
            seen.add(key)
            yield Hit(
                path=consumer.path, pos=consumer.call.pos, secret=None, flow=flow.name, symbol=entry.symbol,
                message=(f"{entry.short_name} reads {env.name} from the environment in __init__, so its value on the "
                         f"machine that builds flow '{flow.name}' is pickled into the stored flow"),
                fix="use script-based storage (GitHub, Git, stored_as_script=True) or pass the credential at run time",
            )


# ---- Prefect 2.x/3.x: what a deployment stores ------------------------------------------------
#
# Which prefect.yaml templates a deployment stores resolved: `prefect/deployments.py`
# (`stored_resolved`). `flow.deploy()` / `to_deployment()` send what Python computed; a template written there is a
# string the worker resolves. `flow.serve()` stores parameters only (job variables need a pool).
_ISSUE_YAML = "PrefectHQ/prefect#14088"
_ISSUE_CODE = "PrefectHQ/prefect#17432"


def _leaf(path) -> str:
    """The last key of a path (`env.DB_PASSWORD` -> `DB_PASSWORD`), list indexes left out."""
    parts = [p for p in path if not isinstance(p, int) and not str(p).startswith("[")]
    return str(parts[-1]) if parts else ""


def _credential_target(where: str, leaf: str) -> bool:
    """The value lands on a credential by its name: an env variable or job variable
    (`DB_PASSWORD`), a flow parameter as Prefect names them (`api_token`; `webhook_secret` names one)."""
    if not leaf:
        return False
    if where == "parameters":
        return is_credential_name(leaf)
    return is_credential_env_name(leaf) and not ends_as_not_the_secret(leaf)


def _field_path(text: str):
    return tuple(p for p in text.replace("[", ".[").split(".") if p)


def _block_ref_credential(ref, project):
    """What of block `ref` is a credential (a phrase), or None."""
    label = f"block '{ref.slug}/{ref.name}'"
    keys = [k for k in _field_path(ref.key) if not k.startswith("[")]
    head = keys[0] if keys else ""
    types = builtin_block_catalogue().by_slug(ref.slug)
    for block in types:
        if block.kind == "secret" and block.secret_fields:  # a Secret: any key is inside its value
            return f"the value of Secret {label}" if not keys else f"the {ref.key} of Secret {label}"
        if not keys:
            if block.credential_fields or block.carriers or block.credential_mappings:
                return f"the whole of {label}, its credentials included"
            continue
        if head in block.credential_fields:
            return f"the {ref.key} of {label}"
        carrier = block.carrier(head)
        if carrier is not None:
            inner = set(keys[1:2])
            nested = {f for slug in carrier.accepts for t in builtin_block_catalogue().by_slug(slug)
                      for f in t.credential_fields}
            if not inner or inner & nested:
                return f"the {ref.key} of {label} (its credentials block)"
        if head in block.credential_mappings and len(keys) > 1 and _credential_target("env", keys[-1]):
            return f"the {ref.key} of {label}"
    model = project.blocks
    if not types and model is not None:
        for qualname, cls in model.classes.items():
            if model.class_slug(qualname) == ref.slug and cls.secret_fields and (not keys or head in cls.secret_fields):
                return f"the {ref.key} of {label}" if keys else f"the whole of {label}, its secret fields included"
    if not types and (not model or not model.slug_known(ref.slug)):
        if keys and is_credential_name(keys[-1]):
            return f"the {ref.key} of {label}"
        if not keys and is_credential_env_name(ref.slug):
            return f"the whole of {label}"
    return None


def _template_of(kind: str, ref) -> str:
    if kind == "block":
        return f"{{{{ prefect.blocks.{ref.slug}.{ref.name}{'.' + ref.key if ref.key else ''} }}}}"
    if kind == "variable":
        return f"{{{{ prefect.variables.{ref.name} }}}}"
    return f"{{{{ ${ref.name} }}}}"


def _yaml_ref_hit(kind: str, ref, project, deployments):
    """CL303 for one template of a prefect.yaml (used by `deployments`), or None."""
    landing = _credential_target(ref.where, _leaf(_field_path(ref.field_path)))
    secret = None
    if kind == "block":
        what = _block_ref_credential(ref, project)
        secret = f"{ref.slug}/{ref.name}"
        if what is None and landing:
            what = f"the value of block '{secret}'"
        load = ('Secret.load("{}").get()'.format(ref.name) if ref.slug == "secret"
                else f'{_class_for(project, ref.slug)}.load("{ref.name}")')
    elif kind == "variable":
        what = f"Variable '{ref.name}'" if is_credential_name(ref.name) or landing else None
        load = 'Secret.load("<name>").get()'
    else:
        credential = is_credential_env_name(ref.name) and not ends_as_not_the_secret(ref.name)
        what = f"the deployer's environment variable {ref.name}" if credential or landing else None
        load = 'Secret.load("<name>").get()'
    if what is None:
        return None
    place = ref.where if not ref.field_path else \
        ref.field_path if ref.where == "deployment" else f"{ref.where}.{ref.field_path}"
    names = ", ".join(f"'{name}'" for name in deployments)
    if ref.where == "parameters":
        fix = f"pass the block's name as the parameter and load it in the flow ({load})"
    else:
        fix = (f"reference it where the worker resolves it at run time instead (a pull step, or the work pool's "
               f"base job template: a deployment's env is merged into it), or load it in the flow ({load})")
    return Hit(path=ref.path, pos=ref.pos, secret=secret,
               message=(f"{place} of deployment{'s' if len(deployments) > 1 else ''} {names} is "
                        f"{_template_of(kind, ref)}, {what}: prefect deploy resolves it and stores the value in "
                        f"plain text with the deployment ({_ISSUE_YAML})"),
               fix=fix)


def _class_for(project, slug: str) -> str:
    found = [t.short_name for t in builtin_block_catalogue().by_slug(slug)]
    if not found and project.blocks is not None:
        found = [q.rsplit(".", 1)[-1] for q in project.blocks.classes_for(slug)]
    return found[0] if found else "Block"


def _yaml_refs(project):
    """CL303 in prefect.yaml: templates of a credential that `prefect deploy` resolves and stores.
    A template in `definitions` reaches each deployment that uses its anchor: one finding names them."""
    major = "2" if project.config.prefect == "2" else "3"
    for facts in project.deploy:
        if facts.kind != "prefect-yaml":
            continue  # Terraform's provider sends templates as written: the worker resolves them
        users = {}
        refs = ([("block", r) for r in facts.block_refs] + [("variable", r) for r in facts.variable_refs]
                + [("env", r) for r in facts.env_refs])
        for kind, ref in refs:
            if ref.deployment is None or not stored_resolved(ref.where, major):
                continue  # a file-level section, a step, or 2.20's job variables: not stored resolved
            key = (ref.pos.line, ref.pos.column, kind, ref.where, ref.field_path)
            users.setdefault(key, (kind, ref, []))[2].append(ref.deployment)
        for key in sorted(users):
            kind, ref, deployments = users[key]
            hit = _yaml_ref_hit(kind, ref, project, deployments)
            if hit is not None:
                yield hit


def _function_of(project, module, qual: str):
    """(module, FunctionFact) of a project function by its qualified name, or None."""
    def lookup(found, attr):
        if found.blocks is None:
            return None
        fn = found.blocks.functions.get(f"{found.module}.{attr}")
        return (found, fn) if fn is not None else None
    return project.follow(qual, module, lookup)


def _secret_value(value, module, project, depth=0):
    """(what, secret, literal) when `value` carries a credential, else None: `what` says where it
    comes from, `secret` names the block loaded, `literal` is a hard-coded value (masked)."""
    if depth > 4:
        return None
    if value.kind == "block_value":
        loads = module.blocks.loads
        load = loads[int(value.ref)] if value.ref and value.ref.isdigit() and int(value.ref) < len(loads) else None
        if load is None or not load.name:
            return "a loaded block's secret value", None, False
        model = project.blocks
        slug = load.slug if load.slug else (model.class_slug(load.cls) if model is not None else None)
        call = f'{load.cls.rsplit(".", 1)[-1]}.{load.method}("{load.name}").get()'
        secret = f"{slug}/{load.name}" if slug else None
        return f"the value of block '{slug or '?'}/{load.name}' ({call})", secret, False
    if value.kind == "env" and value.ref and is_credential_env_name(value.ref) \
            and not ends_as_not_the_secret(value.ref):
        return f"the deployer's environment variable {value.ref}", None, False
    if value.kind == "variable" and value.ref and is_credential_name(value.ref):
        return f"Variable '{value.ref}'", None, False
    if value.kind in ("str", "bytes") and value.is_literal and value.shaped:
        return f"{describe(value)} in a credential's format", None, True
    if value.kind == "result" and value.ref:
        found = _function_of(project, module, value.ref)
        if found is not None:
            for returned in found[1].returns:
                inner = _secret_value(returned, found[0], project, depth + 1)
                if inner is not None:
                    return f"what {value.ref.rsplit('.', 1)[-1]}() returns, {inner[0]}", inner[1], inner[2]
    if value.kind == "import" and value.ref:
        constant = project.resolve_constant(value.ref, module)
        if constant is not None:
            inner = _secret_value(constant, module, project, depth + 1)
            return (f"{value.ref}, {inner[0]}", inner[1], inner[2]) if inner else None
        if is_credential_env_name(value.ref.rsplit(".", 1)[-1]):
            return f"{value.ref}, a credential by its name", None, False
    return None


def _landing_value(value, module, project):
    """What a value that lands on a credential's name is, when it is no reference and no placeholder
    (a constant imported from another module is judged by its value when it is known)."""
    if value.kind == "import" and value.ref:
        constant = project.resolve_constant(value.ref, module)
        if constant is not None:
            inner = _landing_value(constant, module, project) if constant.kind != "import" else None
            return (f"{value.ref}, {inner[0]}", inner[1]) if inner else None
    if value.kind in ("str", "bytes") and value.is_literal and not value.empty:
        return describe(value), True
    if value.kind in ("env", "variable", "parameter") and value.ref:
        what = {"env": "the deployer's environment variable {}", "variable": "Variable '{}'",
                "parameter": "parameter '{}'"}[value.kind]
        return what.format(value.ref), False
    if value.kind in ("import", "result") and value.ref:
        return value.ref + ("()" if value.kind == "result" else ""), False
    return None


def _leaves(value, path, pos, depth=0):
    if value.kind == "dict" and depth < 8:
        for key, item in value.items.items():
            yield from _leaves(item, path + (key,), pos, depth + 1)
    elif value.kind == "list" and depth < 8:
        for index, item in enumerate(value.elements):
            yield from _leaves(item, path + (index,), pos, depth + 1)
    else:
        yield path, value, pos


def _stored(fact, served):
    """(keyword, path, value, position) of what a deployment call stores: `parameters`, and
    `job_variables` unless the deployment is only served."""
    if fact.parameters is not None:
        for item in dict_items(fact.parameters) or ():
            yield from (("parameters",) + leaf for leaf in _leaves(item.value, (item.key,), item.value_pos))
    if fact.job_variables is None or fact.method == "serve" or fact.index in served:
        return
    items = dict_items(fact.job_variables)
    for item in items:
        if item.key == "env" and fact.env is not None and dict_items(fact.env):
            for env in dict_items(fact.env):
                yield from (("job_variables",) + leaf for leaf in _leaves(env.value, ("env", env.key), env.value_pos))
        else:
            yield from (("job_variables",) + leaf for leaf in _leaves(item.value, (item.key,), item.value_pos))


def _python_deployments(project):
    """CL303 in Python: deployment calls whose parameters or job variables carry a secret."""
    for path in sorted(project.modules):
        module = project.modules[path]
        if module.model != "2" or module.blocks is None or module.error is not None:
            continue
        facts = module.blocks.deployments
        served = {i for f in facts if f.method == "serve" for i in f.deployments} - \
            {i for f in facts if f.method == "deploy" for i in f.deployments}
        for fact in facts:
            call = f"{fact.flow.rsplit('.', 1)[-1]}.{fact.method}" if fact.flow else fact.method
            for keyword, where, value, pos in _stored(fact, served):
                found = _secret_value(value, module, project)
                if found is None and _credential_target(keyword, _leaf(where)):
                    landing = _landing_value(value, module, project)
                    found = (landing[0], None, landing[1]) if landing else None
                if found is None:
                    continue
                what, secret, literal = found
                inside = "".join(f"[{k!r}]" for k in where)
                if keyword == "parameters":
                    stores = "Prefect stores parameters in plain text with the deployment and every flow run"
                    fix = "pass the name of the block and load it in the flow (Secret.load(name).get())"
                else:
                    stores = f"Prefect stores job_variables in plain text with the deployment ({_ISSUE_CODE})"
                    fix = ('pass a reference the worker resolves at run time instead ("{{ prefect.blocks.secret.'
                           '<name> }}" stays a reference in the deployment), or load it in the flow '
                           '(Secret.load("<name>").get())')
                yield Hit(path=module.path, pos=pos, secret=secret, mask=literal, symbol=fact.flow,
                          message=f"{call}({keyword}{inside}=...) gets {what} when the deployment is made: {stores}",
                          fix=fix)
