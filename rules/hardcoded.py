"""CL201 and CL202: secret values written into flow code."""
from credlint.engine import Hit, Invalid, Valid, rule
from credlint.facts.naming import ends_as_not_the_secret, is_credential_env_name, is_credential_name
from credlint.prefect.names import prefect_secret_name
from credlint.facts.values import describe
from credlint.prefect.blocks import builtin_block_catalogue


def _literal_parts(name, arg, resolve=None, credential=is_credential_name):
    """Positions (and a description) of hard-coded values inside an argument. `credential` says
    which names hold values (Prefect's parameters: `*_secret` names a secret)."""
    value = arg.value
    if value.kind == "import" and resolve is not None:
        value = resolve(value.ref) or value  # a constant imported from another module
    if value.is_literal and value.kind in ("str", "bytes"):
        if credential(name) or value.shaped:
            yield arg.pos, describe(value), None
    elif name == "auth" and value.kind == "list" and len(value.elements) == 2:
        secret = value.elements[1]  # requests-style auth=(user, password)
        if secret.is_literal and secret.kind == "str":
            pos = arg.parts[1] if len(arg.parts) > 1 else arg.pos
            yield pos, describe(secret), None
    elif value.kind == "dict":
        for index, (key, item) in enumerate(value.items.items()):
            if item.is_literal and item.kind in ("str", "bytes") and credential(key):
                pos = arg.parts[index] if index < len(arg.parts) else arg.pos
                yield pos, describe(item), key


def _hard_coded(value, resolve):
    """A value that is a hard-coded string (an imported constant followed), or None."""
    if value.kind == "import":
        value = resolve(value.ref) or value
    return value if value.kind in ("str", "bytes") and value.is_literal and not value.empty else None


def _block_secret_slots(module, build):
    """(keyword, sub-keys) of a block build's keywords that carry a secret: sub-keys None for the
    whole value, a tuple of dict keys ("*": any) for a field whose secret is inside it."""
    block = builtin_block_catalogue().lookup(build.cls)
    if block is not None:
        for keyword in build.args:
            field_name = block.field_of_keyword(keyword) or keyword
            inner = tuple(s.split(".", 1)[1] for s in block.secret_fields if s.startswith(field_name + "."))
            if field_name in block.secret_fields or (field_name in block.credential_fields and not inner):
                yield keyword, None
            elif inner:
                yield keyword, inner
        return
    local = next((c for c in module.blocks.classes if c.qualname == build.cls), None)
    for keyword in build.args:
        if local is not None and keyword in local.secret_fields:
            yield keyword, None


def _block_literals(module, project):
    """CL201 in Prefect 2.x/3.x code: literals given to a block's secret or credential fields."""
    resolve = lambda q: project.resolve_constant(q, module)  # noqa: E731
    for build in module.blocks.builds:
        short = build.cls.rsplit(".", 1)[-1]
        for keyword, inner in _block_secret_slots(module, build):
            arg = build.args[keyword]
            found = []
            if inner is None and _hard_coded(arg.value, resolve):
                found.append((arg.pos, f"{keyword}=", arg.value))
            if arg.value.kind == "dict" and (inner is None or inner):
                for index, (key, item) in enumerate(arg.value.items.items()):
                    wanted = inner is None or key in inner or ("*" in inner and (is_credential_name(key) or item.shaped))
                    if wanted and _hard_coded(item, resolve):
                        pos = arg.parts[index] if index < len(arg.parts) else arg.pos
                        found.append((pos, f"{keyword}[{key!r}]", item))
            elif inner and arg.value.kind == "str" and arg.value.shaped and _hard_coded(arg.value, resolve):
                found.append((arg.pos, f"{keyword}=", arg.value))  # a URL or DSN with its password
            for pos, target, value in found:
                yield Hit(
                    path=module.path, pos=pos, symbol=build.cls, mask=True,
                    message=f"{short}({target}) is given {describe(value)}: a credential hard-coded in the code "
                            f"that builds the block",
                    fix=f"build {short} from the environment (os.environ[...]) where it is saved, or load the saved "
                        f"block with {short}.load(\"<name>\") instead of building it with the value",
                )


@rule(
    "CL201", "hardcoded-credential-argument", "error",
    bad=[
        Invalid("""
            from prefect import Flow
            from prefect.tasks.snowflake import SnowflakeQuery

            query = SnowflakeQuery(account="acme", user="loader", password="Tr0ub4dor-and-3")

            with Flow("load") as flow:
                query(query="select 1")
            """,
            line=4, column=64,
            message="SnowflakeQuery(password=) is given a string literal: a credential hard-coded in the flow"),
        Invalid("""
            from prefect.tasks.aws.s3 import S3Download

            SECRET = "wJalrXUtnFEMI" + "/K7MDENG/bPxRfiCYz9xq8"
            download = S3Download(bucket="raw", boto_kwargs={"aws_secret_access_key": SECRET})
            """, title="a folded module constant inside boto_kwargs",
            line=4, column=75,
            message="S3Download(boto_kwargs['aws_secret_access_key']) is given a string literal: a credential "
                    "hard-coded in the flow"),
        Invalid("""
            import hvac
            from prefect import task

            @task
            def read_settings():
                vault = hvac.Client(url="https://vault.acme.io:8200", token="Hn4vWq8Ys2Ld6Kp0T07QX3MZ1")
                return vault.secrets.kv.read_secret_version(path="etl")
            """, title="a credential keyword of any call in flow code",
            line=6, column=65,
            message="hvac.Client(token=) is given a string literal: a credential hard-coded in the flow code"),
        Invalid("""
            from prefect_aws import AwsCredentials

            AwsCredentials(aws_access_key_id="AKIA4QWERTYUIOPASDFG", aws_secret_access_key="wJalrXUtnFEMI" "K7MDENGbPxRfiCYz9xq8").save("prod")
            """, title="Prefect 2.x/3.x: a block built with its secret",
            line=3, column=80,
            message="AwsCredentials(aws_secret_access_key=) is given a string literal: a credential hard-coded in the code "
                    "that builds the block"),
    ],
    good=[
        Valid("""
            import os
            from prefect import Flow
            from prefect.tasks.secrets import PrefectSecret
            from prefect.tasks.snowflake import SnowflakeQuery

            query = SnowflakeQuery(account="acme", user="loader", password=os.environ["SNOWFLAKE_PASSWORD"])

            with Flow("load") as flow:
                query(query="select 1", password=PrefectSecret("SNOWFLAKE_PASSWORD"))
            """),
        Valid("""
            import os
            from prefect.blocks.system import Secret
            from prefect_aws import AwsCredentials

            AwsCredentials(aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                           aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"]).save("prod", overwrite=True)
            Secret(value="<paste the token in the UI>").save("slack-token", overwrite=True)
            """, title="Prefect 2.x/3.x: a block saved from the environment, a placeholder"),
    ],
)
def check_hardcoded_credential_argument(module, project):
    """A credential parameter is given a literal value.

    ## What it does
    Knows which parameters of which Prefect 1.x classes carry credentials (from the catalogue:
    `password=`, `credentials=`, `access_token=`, `boto_kwargs={"aws_secret_access_key": ...}`,
    ...) and reports a literal passed to one, also when it reaches the argument through a
    module constant, concatenation or an f-string. In Prefect 1.x flow code, any other call is
    read as bandit's B106 reads it: a literal given to a credential-named keyword
    (`Client(client_secret="...")`, `auth=("user", "...")`, a dict with credential keys), or a
    credential-named constant passed to a call (`connect(DB_PASSWORD)`). Weak passwords
    (`"admin"`, `"changeme"`) are values: they authenticate. Placeholders such as `"<token>"` or
    `"${TOKEN}"`, values from `os.environ`, `PrefectSecret` or `Parameter`, the secret *names*
    Prefect's own `*_secret` parameters take, and weak values in test code are fine.

    In Prefect 2.x/3.x code it reports a literal given to a block's secret or credential field
    as the block is built (from the block catalogue: `AwsCredentials(aws_secret_access_key=...)`,
    `Secret(value=...)`, `SlackWebhook(url=...)`, the password inside
    `SqlAlchemyConnector(connection_info={...})`, the `SecretStr` fields of the project's own
    block classes), also when it is set later (`block.token = "..."`).

    ## Why is this bad?
    The secret is in version control, in every clone, and — for pickle-based storage — inside
    the serialized flow uploaded to storage.

    ## How to fix
    Pass `PrefectSecret("NAME")` as the argument (resolved at run time), read it from the
    environment, or drop the argument and let the task use its default secret. In 2.x/3.x,
    save the block once from values read from the environment (or create it in the UI or with
    Terraform) and load it by name where it is used: `AwsCredentials.load("prod")`.
    """
    if module.model == "2" and module.blocks is not None:
        yield from _block_literals(module, project)
        return
    for entry, where, args in project.arguments_in(module):
        for name, arg in sorted(args.items()):
            param = entry.credential_param(name)
            if param is None or name in entry.name_params:
                continue
            if entry.kind == "run_config" and name == "env":
                continue  # CL202 owns run-config env
            if entry.kind == "client" and not (module.uses_prefect and (module.prefect1 or not module.prefect2)):
                continue  # client constructors: only in Prefect 1.x flow code
            for pos, what, key in _literal_parts(name, arg, lambda q: project.resolve_constant(q, module)):
                target = f"{name}[{key!r}]" if key else f"{name}="
                yield Hit(
                    path=module.path, pos=pos, symbol=entry.symbol, mask=True,
                    message=f"{entry.short_name}({target}) is given {what}: a credential hard-coded in the flow",
                    fix=f"pass PrefectSecret(\"<NAME>\") to {name} at run time, or read it from the environment",
                )
    if not (module.uses_prefect and (module.prefect1 or not module.prefect2)):
        return  # other calls: in Prefect 1.x flow code only
    resolve = lambda q: project.resolve_constant(q, module)  # noqa: E731
    for given in module.credential_args:
        if not given.keyword:  # a credential-named constant passed to the call
            value = given.arg.value
            if value.kind == "import":
                value = resolve(value.ref) or value
            if value.is_literal and value.kind in ("str", "bytes"):
                yield Hit(
                    path=module.path, pos=given.arg.pos, mask=True,
                    message=(f"{given.callee}(...) is given {given.name}, {describe(value)}: a credential "
                             f"hard-coded in the flow code"),
                    fix=f"read {given.name} from the environment or a PrefectSecret instead of writing it in the code",
                )
            continue
        for pos, what, key in _literal_parts(given.name, given.arg, resolve, is_credential_env_name):
            target = f"{given.name}[{key!r}]" if key else f"{given.name}="
            yield Hit(
                path=module.path, pos=pos, mask=True,
                message=f"{given.callee}({target}) is given {what}: a credential hard-coded in the flow code",
                fix="pass it from the environment or a PrefectSecret instead of writing it in the code",
            )


_SECRET_ENV_WORDS = ("SECRET", "PASSWORD", "TOKEN", "PRIVATE_KEY", "API_KEY", "SECRET_ACCESS_KEY")


def _env_key_is_secret(key: str) -> bool:
    return prefect_secret_name(key) is not None or (
        is_credential_name(key) and not ends_as_not_the_secret(key))


@rule(
    "CL202", "hardcoded-context-secret", "error",
    bad=[
        Invalid("""
            import prefect

            prefect.context.secrets["SLACK_WEBHOOK_URL"] = "https://hooks.slack.com/services/T0001/B0001/QWERTYUIOPASDFGH"
            """,
            line=3, column=48,
            message="secret 'SLACK_WEBHOOK_URL' is set to a string literal in code (context assign)"),
        Invalid("""
            from prefect import Flow
            from prefect.run_configs import DockerRun

            with Flow("etl", run_config=DockerRun(env={"PREFECT__CONTEXT__SECRETS__REDIS_PASSWORD": "n0t-a-real-pw-91"})) as flow:
                pass
            """,
            line=4, column=89,
            message="DockerRun(env={'PREFECT__CONTEXT__SECRETS__REDIS_PASSWORD': ...}) is a string literal: "
                    "run-config env is stored in Prefect's backend in plain text"),
    ],
    good=[Valid("""
        import os
        import prefect

        prefect.context.secrets["SLACK_WEBHOOK_URL"] = os.environ["SLACK_WEBHOOK_URL"]
        """)],
)
def check_hardcoded_context_secret(module, project):
    """Python code puts a literal value into Prefect's secret context or a run config's env.

    ## What it does
    Reports literals assigned to `prefect.context.secrets[...]`, passed to
    `prefect.context(secrets={...})`, set as `os.environ["PREFECT__CONTEXT__SECRETS__X"]`, or given
    in a run config's `env={...}` for a context secret or a credential variable.

    ## Why is this bad?
    The value is in the source. A run config's `env` is also serialized and stored in Prefect's
    backend in plain text with every registration.

    ## How to fix
    Keep the value out of code: read it from the environment, or declare the secret on storage
    or the agent and let Prefect load it at run time.
    """
    for write in module.context_writes:
        value = write.value
        literal = value.is_literal or (value.kind == "dict" and any(v.is_literal for v in value.items.values()))
        if not literal:
            continue
        pos = write.value_pos if write.value_pos.line else write.pos
        yield Hit(
            path=module.path, pos=pos, secret=write.name, mask=True,
            message=f"secret '{write.name}' is set to {describe(value)} in code ({write.via.replace('_', ' ')})",
            fix="read the value from the environment, or provide the secret through storage secrets or the agent",
        )
    for entry, item in project.run_config_env(module):
        key = item.key
        if not item.value.is_literal or not _env_key_is_secret(key):
            continue
        name = prefect_secret_name(key)
        yield Hit(
            path=module.path, pos=item.value_pos, secret=name, symbol=entry.symbol, mask=True,
            message=(f"{entry.short_name}(env={{'{key}': ...}}) is {describe(item.value)}: run-config env is stored "
                     f"in Prefect's backend in plain text"),
            fix=f"set {key} on the agent (-e {key}=...) from a secret store instead",
        )
