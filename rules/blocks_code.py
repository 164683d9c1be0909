"""CL403 and CL404: Prefect 2.x/3.x code that mishandles a block load or a Variable."""
from credlint.engine import Hit, Invalid, Valid, rule
from credlint.facts.naming import is_credential_env_name, is_credential_name
from credlint.facts.values import describe


def _blocks(module):
    """The 2.x/3.x facts of a module read under that model, else None."""
    return module.blocks if module.model == "2" and module.blocks is not None else None


def _short(cls: str) -> str:
    return cls.rsplit(".", 1)[-1]


@rule(
    "CL403", "unawaited-block-load", "error",
    bad=[
        Invalid("""
            from prefect import flow
            from prefect_aws import AwsCredentials

            @flow
            async def sync_bucket():
                credentials = AwsCredentials.load("prod")
                return credentials.get_boto3_session()
            """,
            line=6, column=19,
            message="AwsCredentials.load('prod') is called without await inside async def sync_bucket: it returns a "
                    "coroutine there, not the block"),
        Invalid("""
            from prefect import task
            from prefect.blocks.system import Secret

            @task
            async def notify():
                token = Secret.load("slack-token").get()
            """, title="Secret.load(...).get() in an async task",
            line=6, column=13,
            message="Secret.load('slack-token') is called without await inside async def notify: it returns a "
                    "coroutine there, not the block, and .get() on it fails"),
    ],
    good=[
        Valid("""
            from prefect import flow, task
            from prefect_aws import AwsCredentials

            @task
            def upload():
                return AwsCredentials.load("prod").get_boto3_session()

            @flow
            async def sync_bucket():
                credentials = await AwsCredentials.aload("prod")
                same = await AwsCredentials.load("prod")
                upload()
            """, title="aload, an awaited load and a load in a sync task"),
    ],
)
def check_unawaited_block_load(module):
    """A block is loaded with `Cls.load(...)` inside an `async def` and not awaited.

    ## What it does
    Reports `Cls.load("name")` (and `Secret.load("name").get()`) called without `await` in the
    body of an `async def`: an async flow, task, hook or helper. `await Cls.aload(...)`,
    `await Cls.load(...)` and a `load` in a synchronous function are fine.

    ## Why is this bad?
    In Prefect 3.x `Block.load` dispatches on the context: inside an async function it runs the
    async implementation and hands back a coroutine (2.x's `sync_compatible` does the same). The
    variable holds a coroutine instead of the block: the first attribute read fails
    (`AttributeError: 'coroutine' object has no attribute 'get'`), and the block is never loaded.

    ## How to fix
    Await it (`await Cls.load("name")`), or better say what you mean: `await Cls.aload("name")`.
    """
    facts = _blocks(module)
    if facts is None:
        return
    functions = facts.functions
    for load in facts.loads:
        if load.method != "load" or load.awaited or not load.in_async:
            continue
        cls = _short(load.cls)
        named = f"{cls}.load({load.name!r})" if load.name else f"{cls}.load(...)"
        owner = (load.owner or "").rsplit(".", 1)[-1]
        inside = f"async def {owner}" if owner and load.owner in functions else "an async function"
        tail = ", and .get() on it fails" if load.get else ""
        yield Hit(
            path=module.path, pos=load.pos, symbol=load.cls,
            secret=f"{load.slug}/{load.name}" if load.slug and load.name else None,
            message=f"{named} is called without await inside {inside}: it returns a coroutine there, not the block"
                    f"{tail}",
            fix=f"write `await {cls}.aload(...)` (or `await {cls}.load(...)`)",
        )


def _credential_value(value):
    """Why a value given to a Variable is a credential, or None."""
    if value.kind in ("str", "bytes") and value.is_literal and value.shaped:
        return f"{describe(value)} in a credential's format"
    if value.kind == "block_value":
        return "a loaded block's secret value"
    if value.kind == "env" and value.ref and is_credential_env_name(value.ref):
        return f"the credential environment variable {value.ref}"
    if value.kind == "dict":
        for key, item in value.items.items():
            if is_credential_name(key) and item.is_literal and item.kind in ("str", "bytes"):
                return f"a dict with {describe(item)} under {key!r}"
            inner = _credential_value(item)
            if inner:
                return inner
    return None


@rule(
    "CL404", "credential-in-variable", "error",
    bad=[
        Invalid("""
            from prefect import flow
            from prefect.variables import Variable

            @flow
            def load_warehouse():
                password = Variable.get("db_password")
            """,
            line=6, column=29,
            message="Variable 'db_password' is read as a credential: Prefect Variables are plain text, shown in the "
                    "UI and returned by the API to anyone who can read the workspace"),
        Invalid("""
            from prefect.blocks.system import Secret
            from prefect.variables import Variable

            def publish():
                Variable.set("settings_copy", Secret.load("warehouse").get(), overwrite=True)
            """, title="a Secret's value stored in a Variable",
            line=5, column=35,
            message="Variable 'settings_copy' is set to a loaded block's secret value: Prefect Variables are plain "
                    "text, shown in the UI and returned by the API to anyone who can read the workspace"),
        Invalid({"flow.py": "from prefect import flow\n", "prefect.yaml": """
            deployments:
              - name: nightly
                entrypoint: flow.py:etl
                parameters:
                  token: "{{ prefect.variables.github_token }}"
            """}, title="a credential's Variable in prefect.yaml",
            path="prefect.yaml", line=5, column=15,
            message="Variable 'github_token' is read as a credential in prefect.yaml (parameters.token): Prefect "
                    "Variables are plain text, shown in the UI and returned by the API to anyone who can read the "
                    "workspace"),
    ],
    good=[
        Valid("""
            from prefect import flow
            from prefect.blocks.system import Secret
            from prefect.variables import Variable

            @flow
            def load_warehouse():
                host = Variable.get("db_host", default="localhost")
                Variable.set("last_run", "2024-01-01", overwrite=True)
                password = Secret.load("db-password").get()
            """),
    ],
)
def check_credential_in_variable(project):
    """A credential is stored in, or read from, a Prefect Variable.

    ## What it does
    Reports `Variable.set(...)` / `aset` and `Variable.get(...)` / `aget` (and 2.x's
    `variables.get`) of a Variable whose name is a credential's (`api_token`, `db_password`),
    `Variable.set` of a value that is a credential whatever the name (a literal in a token's
    format, a `Secret.load(...).get()`, a credential environment variable), and
    `{{ prefect.variables.NAME }}` of a credential's name in `prefect.yaml`.
    `Variable.get("db_host")` and other settings are what Variables are for.

    ## Why is this bad?
    Variables are plain JSON on the server: no `SecretStr`, no obfuscation. Their values are
    shown in the UI, returned by the API and the CLI (`prefect variable ls`), and a template
    in a deployment is resolved into what the deployment stores.

    ## How to fix
    Save the credential in a `Secret` block (or the integration's credentials block) and load
    it at run time: `Secret.load("db-password").get()`. Keep Variables for settings.
    """
    tail = ("Prefect Variables are plain text, shown in the UI and returned by the API to anyone who can read "
            "the workspace")
    fix = "save it in a Secret block and read it with Secret.load(\"<name>\").get() at run time"
    for path in sorted(project.modules):
        module = project.modules[path]
        facts = _blocks(module)
        if facts is None:
            continue
        for use in facts.variables:
            if use.op not in ("get", "set") or not use.name:
                continue
            value = use.value.value if use.op == "set" and use.value is not None else None
            why = _credential_value(value) if value is not None else None
            if why:
                yield Hit(path=module.path, pos=use.value.pos, symbol="prefect.variables.Variable",
                          mask=value.kind in ("str", "bytes", "dict"),
                          message=f"Variable {use.name!r} is set to {why}: {tail}", fix=fix)
            elif is_credential_name(use.name):
                verb = "stored" if use.op == "set" else "read"
                literal = value is not None and value.kind in ("str", "bytes") and value.is_literal
                yield Hit(path=module.path, pos=use.name_pos if use.name_pos.line else use.pos,
                          symbol="prefect.variables.Variable", mask=False,
                          message=f"Variable {use.name!r} is {verb} as a credential"
                                  f"{', given ' + describe(value) if literal else ''}: {tail}", fix=fix)
    for facts in project.deploy:
        for ref in getattr(facts, "variable_refs", ()):
            if not is_credential_name(ref.name):
                continue
            place = f"{ref.where}.{ref.field_path}" if ref.field_path else ref.where
            yield Hit(path=ref.path, pos=ref.pos, symbol="prefect.variables",
                      message=f"Variable {ref.name!r} is read as a credential in {facts.path.rsplit('/', 1)[-1]} "
                              f"({place}): {tail}", fix=fix)
