"""CL303: secret values captured when the flow is built and stored with it."""
from credlint.prefect.names import prefect_secret_name
from credlint.engine import Hit, Invalid, Valid, rule
from credlint.facts.naming import is_credential_name
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
                "with Secret.get: Prefect stores env with the flow in plain text when it is registered")],
    good=[Valid("""
        from prefect import Flow
        from prefect.storage import GitHub
        from prefect.tasks.dbt import DbtCloudRunJob

        with Flow("dbt", storage=GitHub(repo="acme/flows", path="flows/dbt.py")) as flow:
            DbtCloudRunJob(cause="nightly")()
        """)],
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

    ## Why is this bad?
    The secret leaves your secret store: it is stored in plain text in Prefect's backend with
    the flow's run config, baked into an image, or pickled into storage — and it stops changing
    when you rotate it.

    ## How to fix
    Provide it at run time: `PREFECT__CONTEXT__SECRETS__NAME` on the agent, storage
    `secrets=[...]`, or `PrefectSecret` inside the flow. For `__init__` reads, use script-based
    storage (`GitHub`, `Git`, `stored_as_script=True`) or pass the credential at run time.
    """
    for module in project.modules.values():
        yield from _registration_values(module, project)
    for flow in project.flows:
        if not _script_based(flow):
            yield from _init_env_reads(flow)


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
