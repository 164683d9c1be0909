"""CL101 and CL102: secrets a flow's consumers read that nothing provides."""
from credlint.engine import Hit, Invalid, Valid, rule
from credlint.prefect.names import SECRETS_ENV_PREFIX

_CONTEXT_HINT = SECRETS_ENV_PREFIX + "{name}"


def _where(need):
    consumer = need.consumer_label
    return f"{consumer} in flow '{need.flow.name}'"


def _provide_fix(need) -> str:
    flow = need.flow
    options = []
    if flow.storage is not None:
        options.append(f'add "{need.name}" to {flow.storage.label}(secrets=[...]) '
                       f"({flow.storage.path}:{flow.storage.pos.line})")
    else:
        options.append(f'give the flow a storage with secrets=["{need.name}"]')
    options.append(f"start the agent with -e {_CONTEXT_HINT.format(name=need.name)}=...")
    spec = need.spec
    if spec is not None and spec.name_param and not _names_it(need):
        options.append(f"or pass {spec.name_param}='<the secret name you use>'")
    return "; ".join(options)


def _names_it(need) -> bool:
    """The consumer already chooses the secret's name (`webhook_secret="TEAM_HOOK"`): suggesting
    that argument again would be no fix."""
    spec, consumer = need.spec, need.consumer
    return consumer is not None and consumer.argument(spec.name_param, spec.name_where or "init+run") is not None


@rule(
    "CL101", "missing-secret", "error",
    bad=[
        Invalid("""
            from prefect import Flow
            from prefect.tasks.notifications import SlackTask

            notify = SlackTask(message="loaded")

            with Flow("nightly") as flow:
                notify()
            """, config='backend = "server"\n', title="SlackTask reads SLACK_WEBHOOK_URL; server has no secret store",
            line=7, column=5,
            message="SlackTask in flow 'nightly' fetches secret 'SLACK_WEBHOOK_URL', but nothing provides it and "
                    "backend is 'server', which has no secret store"),
        Invalid("""
            from prefect import Flow
            from prefect.storage import GitHub
            from prefect.tasks.azure import BlobStorageUpload

            upload = BlobStorageUpload(container="reports")

            with Flow("reports", storage=GitHub(repo="acme/flows", path="flows/reports.py")) as flow:
                upload(data="x")
            """, config='cloud-secrets = ["GITHUB_ACCESS_TOKEN"]\n',
            title="AZ_CONNECTION_STRING is not in the Cloud inventory",
            line=8, column=5,
            message="BlobStorageUpload in flow 'reports' fetches secret 'AZ_CONNECTION_STRING', but nothing provides "
                    "it and it is not in the cloud-secrets inventory"),
    ],
    good=[
        Valid("""
            from prefect import Flow
            from prefect.run_configs import DockerRun
            from prefect.tasks.notifications import SlackTask

            notify = SlackTask(message="loaded")

            with Flow("nightly", run_config=DockerRun(env={"PREFECT__CONTEXT__SECRETS__SLACK_WEBHOOK_URL": "$HOOK"})) as flow:
                notify()
            """, config='backend = "server"\n'),
        Valid("""
            from prefect import Flow
            from prefect.tasks.notifications import SlackTask

            with Flow("nightly") as flow:
                SlackTask(message="loaded", webhook_secret="TEAM_HOOK")()
            """, config='cloud-secrets = ["TEAM_HOOK"]\n'),
    ],
)
def check_missing_secret(need, project):
    """A task, storage or state handler fetches a secret that no provider supplies.

    ## What it does
    Finds secrets read with `Secret(NAME).get()` (directly, through `PrefectSecret`, or inside a
    task-library class such as `SlackTask`, `BlobStorageUpload` or the Kubernetes tasks) that no
    storage `secrets=[...]`, run-config `env`, checked-in `config.toml` or per-task argument
    provides. Also storage `secrets=[...]` entries that cannot be loaded at flow-run start.

    With `backend = "server"` there is no remote secret store, so the finding is an error. With
    `backend = "cloud"` and a `cloud-secrets` inventory, a name missing from the inventory is an
    error; without an inventory credlint cannot see Prefect Cloud and reports a warning.

    ## Why is this bad?
    `Secret.get` raises `ValueError: Local Secret "NAME" was not found` (or a Cloud `KeyError`)
    in the middle of the run, after upstream tasks have already done their work.

    ## How to fix
    Provide the secret where the flow runs: list it in the storage `secrets=[...]` (backed by
    Prefect Cloud), pass `-e PREFECT__CONTEXT__SECRETS__NAME=...` to the agent, add it to the run
    config `env`, or pass the value with the task's own argument (`PrefectSecret("NAME")`).
    """
    if need.state not in ("missing", "unverifiable"):
        return
    if need.mechanism == "context" and need.read is None:
        return  # silent fallback, not a failure: CL102
    config = project.config
    name = need.name
    if need.mechanism == "storage_preload":
        if need.state == "unverifiable":
            return  # the documented Cloud pattern: nothing local to check
        where = ("it is not in the cloud-secrets inventory" if config.cloud_secrets is not None
                 else "backend is 'server', so it must already be in the run's context")
        yield Hit(
            path=need.path, pos=need.pos, secret=name, flow=need.flow.name, symbol=need.symbol,
            message=(f"storage of flow '{need.flow.name}' loads secret '{name}' at flow-run start, but {where}; "
                     f"the run fails before it starts"),
            fix=(f"create '{name}' in Prefect Cloud and add it to cloud-secrets" if config.cloud_secrets is not None
                 else f"set {_CONTEXT_HINT.format(name=name)} on the agent or in the run config env"),
        )
        return
    if need.mechanism == "context":  # a custom prefect.context.secrets[...] read
        yield Hit(
            path=need.path, pos=need.pos, secret=name, flow=need.flow.name,
            message=(f"{need.read.api} in flow '{need.flow.name}' needs '{name}' in prefect.context.secrets, "
                     f"which nothing provides: the task raises KeyError"),
            fix=_provide_fix(need),
        )
        return
    if need.state == "unverifiable":
        yield Hit(
            path=need.path, pos=need.pos, secret=name, flow=need.flow.name, symbol=need.symbol, severity="warning",
            message=(f"{_where(need)} fetches secret '{name}', which is declared nowhere in the project: "
                     f"the run fails unless it exists in Prefect Cloud"),
            fix=f"list '{name}' in cloud-secrets once it exists in Prefect Cloud, or " + _provide_fix(need),
        )
        return
    why = ("it is not in the cloud-secrets inventory" if config.cloud_secrets is not None and config.backend == "cloud"
           else "backend is 'server', which has no secret store")
    yield Hit(
        path=need.path, pos=need.pos, secret=name, flow=need.flow.name, symbol=need.symbol,
        message=f"{_where(need)} fetches secret '{name}', but nothing provides it and {why}",
        fix=_provide_fix(need),
    )


_FALLBACK = {
    "aws": "boto3 will silently use its default credential chain (env vars, profiles, instance role)",
    "gcp": "google-auth will silently use application default credentials",
    "azure": "the storage silently falls back to the AZURE_STORAGE_CONNECTION_STRING variable",
}


@rule(
    "CL102", "credentials-fallback", "warning",
    bad=[Invalid("""
        from prefect import Flow
        from prefect.tasks.aws.s3 import S3Download

        download = S3Download(bucket="raw-data")

        with Flow("ingest") as flow:
            data = download(key="2024/01/orders.csv")
        """, title="AWS_CREDENTIALS is read from context only; nothing puts it there",
        line=7, column=12,
        message="S3Download in flow 'ingest' reads 'AWS_CREDENTIALS' from prefect.context.secrets only, and nothing "
                "provides it: boto3 will silently use its default credential chain (env vars, profiles, instance "
                "role)")],
    good=[
        Valid("""
            from prefect import Flow
            from prefect.storage import S3
            from prefect.tasks.aws.s3 import S3Download

            download = S3Download(bucket="raw-data")

            with Flow("ingest", storage=S3(bucket="flows", secrets=["AWS_CREDENTIALS"])) as flow:
                data = download(key="2024/01/orders.csv")
            """),
        Valid("""
            from prefect import Flow
            from prefect.run_configs import ECSRun
            from prefect.tasks.aws.s3 import S3Download

            with Flow("ingest", run_config=ECSRun(task_role_arn="arn:aws:iam::123456789012:role/etl")) as flow:
                data = S3Download(bucket="raw-data")(key="orders.csv")
            """),
    ],
)
def check_credentials_fallback(need):
    """A consumer looks for a context secret that nothing provides, so the library's default chain is used.

    ## What it does
    AWS tasks and S3 storage read `AWS_CREDENTIALS`, GCP tasks and GCS storage read
    `GCP_CREDENTIALS`, Azure storage reads `AZURE_STORAGE_CONNECTION_STRING`, straight from
    `prefect.context.secrets` — never from Prefect Cloud. When no storage `secrets=[...]`, agent
    or run-config env, or `config.toml` puts the secret in context and no credentials argument is
    passed, the client library silently falls back to its own chain (env vars, profiles,
    instance roles).

    Not reported: GitHub, GitLab and Bitbucket storage without a token. They read their
    `*_ACCESS_TOKEN` the same way, but without one they clone anonymously, which a public
    repository intends and a private one refuses loudly at flow-run start; `credlint inventory`
    lists the token as optional. Nor where the flow's run config grants an identity
    (`ECSRun(task_role_arn=...)`, `KubernetesRun(service_account_name=...)`,
    `VertexRun(service_account=...)`, or a task definition / job template given inline that
    sets one): `task_definition_arn=` or `task_definition_path=` alone name a definition
    credlint cannot see, so they prove no identity.

    ## Why is this bad?
    The flow runs with whatever identity the machine happens to have: it works on a laptop and
    fails on the agent, or worse, runs with broader permissions than intended.

    ## How to fix
    Declare the secret on the flow's storage (`secrets=["AWS_CREDENTIALS"]`) or the agent
    (`-e PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS=...`). If the ambient identity is what you
    want, say so: grant it in the run config (`ECSRun(task_role_arn=...)`,
    `KubernetesRun(service_account_name=...)`, `VertexRun(service_account=...)`) or add the
    family to `allow-fallback`.
    """
    if need.mechanism != "context" or need.read is not None or need.state != "missing":
        return
    fallback = _FALLBACK.get(need.family, "the client library silently uses its own default credentials")
    yield Hit(
        path=need.path, pos=need.pos, secret=need.name, flow=need.flow.name, symbol=need.symbol,
        message=(f"{_where(need)} reads '{need.name}' from prefect.context.secrets only, and nothing provides it: "
                 f"{fallback}"),
        fix=(_provide_fix(need) + f"; if the ambient identity is intended, grant it in the run config or add "
             f"'{need.family}' to allow-fallback"),
    )
