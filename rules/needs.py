"""CL101 and CL102: secrets a flow's consumers read that nothing provides, and (2.x/3.x) blocks
and prefect.yaml steps that run on the machine's ambient credentials."""
from credlint.engine import Hit, Invalid, Valid, rule
from credlint.prefect.blocks import CHAINS
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
        Invalid("""
            from prefect import Flow
            from prefect.storage import Docker
            from prefect.tasks.notifications import SlackTask

            with Flow("nightly", storage=Docker(image_name="flows")) as flow:
                SlackTask(message="loaded")()
            """, title="Prefect Cloud without a cloud-secrets inventory: a warning",
            line=6, column=5,
            message="SlackTask in flow 'nightly' fetches secret 'SLACK_WEBHOOK_URL', which is declared nowhere in the "
                    "project: the run fails unless it exists in Prefect Cloud"),
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
    bad=[
        Invalid("""
            from prefect import Flow
            from prefect.tasks.aws.s3 import S3Download

            download = S3Download(bucket="raw-data")

            with Flow("ingest") as flow:
                data = download(key="2024/01/orders.csv")
            """, title="AWS_CREDENTIALS is read from context only; nothing puts it there",
            line=7, column=12,
            message="S3Download in flow 'ingest' reads 'AWS_CREDENTIALS' from prefect.context.secrets only, and "
                    "nothing provides it: boto3 will silently use its default credential chain (env vars, profiles, "
                    "instance role)"),
        Invalid("""
            from prefect_aws import AwsCredentials

            AwsCredentials(region_name="eu-west-1").save("etl", overwrite=True)
            """, title="Prefect 2.x/3.x: a credentials block saved with no credential field",
            line=3, column=1,
            message="AwsCredentials (saved as 'aws-credentials/etl') is built with none of its credential fields "
                    "set (aws_access_key_id, aws_secret_access_key, aws_session_token, profile_name, "
                    "assume_role_arn): the credentials come from the AWS default chain (environment variables, "
                    "~/.aws profiles, an instance or task role), silently"),
        Invalid("""
            from prefect import flow
            from prefect_aws import S3Bucket

            @flow
            def ingest():
                S3Bucket(bucket_name="raw-data").download_folder_to_path("orders", "data")
            """, title="Prefect 2.x/3.x: an integration block built without credentials",
            line=6, column=5,
            message="S3Bucket is built without credentials=: it makes an empty AwsCredentials(), so the "
                    "credentials come from the AWS default chain (environment variables, ~/.aws profiles, an "
                    "instance or task role), silently"),
        Invalid(files={"prefect.yaml": """
            pull:
              - prefect_aws.deployments.steps.pull_from_s3:
                  bucket: flow-code
                  folder: etl
            deployments:
              - name: nightly
                entrypoint: flows/etl.py:etl
            """}, title="Prefect 2.x/3.x: a pull step without credentials",
            path="prefect.yaml", line=2, column=5,
            message="pull_from_s3 in the file's pull step is given no credentials: the credentials come from the AWS "
                    "default chain (environment variables, ~/.aws profiles, an instance or task role) on the machine "
                    "that runs it, silently"),
    ],
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
        Valid("""
            import os
            from prefect import flow
            from prefect_aws import AwsCredentials, S3Bucket
            from prefect_github import GitHubRepository

            AwsCredentials(aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                           aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"]).save("prod", overwrite=True)
            AwsCredentials(profile_name="etl").save("etl", overwrite=True)
            GitHubRepository(repository_url="https://github.com/acme/flows.git").save("flows", overwrite=True)

            @flow
            def ingest():
                S3Bucket(bucket_name="raw-data", credentials=AwsCredentials.load("prod"))
            """, title="Prefect 2.x/3.x: keys from the environment, a profile, a loaded block, a public repository"),
        Valid("""
            from prefect_aws import S3Bucket

            S3Bucket(bucket_name="raw-data").save("raw", overwrite=True)
            """, config='allow-fallback = ["aws"]\n', title="Prefect 2.x/3.x: the ambient identity is intended"),
    ],
)
def check_credentials_fallback(project):
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

    In Prefect 2.x/3.x the same fallback hides in blocks and steps: a credentials block built
    (and usually saved) with none of its credential fields set (`AwsCredentials()`,
    `AwsCredentials(region_name=...)`, `GcpCredentials(service_account_info={})`,
    `KubernetesCredentials()`, `AzureContainerInstanceCredentials()`), an integration block built
    without its credentials keyword (`S3Bucket(bucket_name=...)`, `GcsBucket(bucket=...)`,
    `LambdaFunction(...)`: it makes an empty credentials block), and a `prefect.yaml` step given
    no credentials (`pull_from_s3`, `pull_from_gcs`, their push twins), or an inline mapping with
    none (`credentials: {account_url: ...}` for Azure). Reported where the block is built or the
    step is written; the JSON `secret` holds `slug/name` when the build is saved. A credentials
    block built inside another (`S3Bucket(credentials=AwsCredentials())`) is reported once, where
    it is built; a loaded block (`credentials=AwsCredentials.load("prod")`) is not judged here
    (`credlint preflight` reads whether the saved document is empty). Only the chains that reach
    an identity of the machine are reported: boto3 (AWS), google-auth (GCP), azure-identity
    (Azure) and kubeconfig (Kubernetes). Not reported: `git_clone` and the repository blocks
    without a token (anonymous, as 1.x git storages), Docker registries (the daemon's logins),
    and fsspec file systems (the backend's own default). Keywords given through `**kwargs` or
    positionally leave the construction unknown and are not judged; credentials given to a
    keyword the block does not have (`S3Bucket(aws_credentials=...)`) leave it ambient too, and
    CL103 reports the keyword itself. Test code is checked like any other, as in 1.x:
    a suite that builds ambient blocks on purpose (moto, emulators) can use `per-file-ignores`.

    ## Why is this bad?
    The flow runs with whatever identity the machine happens to have: it works on a laptop and
    fails on the agent, or worse, runs with broader permissions than intended.

    ## How to fix
    Declare the secret on the flow's storage (`secrets=["AWS_CREDENTIALS"]`) or the agent
    (`-e PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS=...`). If the ambient identity is what you
    want, say so: grant it in the run config (`ECSRun(task_role_arn=...)`,
    `KubernetesRun(service_account_name=...)`, `VertexRun(service_account=...)`) or add the
    family to `allow-fallback`.

    In 2.x/3.x, set the credential fields (from `os.environ` or a `Secret`, never a literal),
    pass a saved block (`S3Bucket(..., credentials=AwsCredentials.load("prod"))`), or give the
    step `credentials: "{{ prefect.blocks.aws-credentials.prod }}"`. If the worker's identity is
    what you want, add the family to `allow-fallback` (`allow-fallback = ["aws"]`).
    """
    for need in [n for f in project.flows for n in f.needs]:
        yield from _context_fallback(need)
    model = project.fallback
    if model is not None:
        for found in model.ambient:
            if not found.allowed:
                yield _ambient_hit(found)


def _context_fallback(need):
    """1.x: a consumer reads a context secret that nothing provides."""
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


def _ambient_hit(found) -> Hit:
    """2.x/3.x: a block built, or a step written, without credentials."""
    chain = f"the credentials come from {CHAINS[found.chain]}"
    allow = (f'if that identity is intended, add "{found.family}" to allow-fallback '
             f'(allow-fallback = ["{found.family}"])')
    saved = ""
    if found.saved:
        saved = f" (saved as '{found.saved}')" if found.saved.startswith(found.slug + "/") else \
            f" (saved inside '{found.saved}')"
    keywords = " or ".join(f"{k}=" for k in found.missing)
    if found.what == "block":
        message = (f"{found.name}{saved} is built with none of its credential fields set ({', '.join(found.missing)}): "
                   f"{chain}, silently")
        fix = (f"set {keywords} (from os.environ or a Secret block, never a literal), or load a saved block with "
               f'{found.name}.load("<name>"); {allow}')
    elif found.what == "holder":
        made = f"it makes an empty {found.default.short_name}(), so " if found.default is not None and \
            found.default.empty == "ambient" else ""
        message = f"{found.name}{saved} is built without {keywords}: {made}{chain}, silently"
        given = f'{found.default.short_name}.load("<name>")' if found.default is not None else "a saved block"
        renames = [d for d in found.dropped if d.meant in found.missing]
        fix = (f"rename {renames[0].keyword}= to {renames[0].meant}= (CL103); {allow}" if renames
               else f"pass {found.missing[0]}={given}; {allow}")
    else:
        where = (f"the {found.section} step of deployment '{found.deployment}'" if found.deployment
                 else f"the file's {found.section} step")
        inputs = " or ".join(found.missing)
        if found.mapping:
            auth = found.default.auth_fields if found.default is not None else ()
            message = (f"{found.name} in {where} is given a {found.mapping} mapping with none of {', '.join(auth)}: "
                       f"{chain} on the machine that runs it, silently")
        else:
            message = f"{found.name} in {where} is given no {inputs}: {chain} on the machine that runs it, silently"
        slug = found.default.slug if found.default is not None else "<slug>"
        fix = f'give it {found.missing[0]}: "{{{{ prefect.blocks.{slug}.<name> }}}}"; {allow}'
    return Hit(path=found.path, pos=found.pos, secret=found.saved, symbol=found.symbol, message=message, fix=fix)
