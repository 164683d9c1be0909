"""CL303: secret values captured when the flow is built and stored with it."""
from credlint.engine import Example, Hit, rule

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
    bad=[Example("""
        from prefect import Flow
        from prefect.storage import S3
        from prefect.tasks.dbt import DbtCloudRunJob

        with Flow("dbt", storage=S3(bucket="flows")) as flow:
            DbtCloudRunJob(cause="nightly")()
        """, title="DbtCloudRunJob reads DBT_CLOUD_TOKEN in __init__, at registration")],
    good=[Example("""
        from prefect import Flow
        from prefect.storage import GitHub
        from prefect.tasks.dbt import DbtCloudRunJob

        with Flow("dbt", storage=GitHub(repo="acme/flows", path="flows/dbt.py")) as flow:
            DbtCloudRunJob(cause="nightly")()
        """)],
)
def check_secret_in_flow_metadata(flow):
    """A secret value is captured when the flow is built and stored with it.

    ## What it does
    Reports classes that read a credential environment variable in `__init__` (dbt Cloud's
    `DBT_CLOUD_TOKEN`, Cube.js's `CUBEJS_API_SECRET`, `AzureResult`'s connection string) in
    flows whose storage pickles the flow: the value from the registering machine is stored
    inside the serialized flow.

    ## Why is this bad?
    The secret leaves your secret store: it sits in the pickled flow in storage, and it stops
    changing when you rotate it.

    ## How to fix
    Use script-based storage (`GitHub`, `Git`, `stored_as_script=True`) so that the flow is
    built again in the flow run, or pass the credential as a run-time argument from
    `PrefectSecret`.
    """
    if _script_based(flow):
        return
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
