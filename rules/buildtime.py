"""CL301 and CL302: secrets read or passed at the wrong time."""
from credlint.engine import Hit, Invalid, Valid, rule
from credlint.facts.naming import is_credential_name, names_only_a_secret, words
from credlint.prefect.blocks import builtin_block_catalogue
from credlint.facts.values import describe


@rule(
    "CL301", "secret-at-build-time", "error",
    bad=[
        Invalid("""
            from prefect import Flow
            from prefect.client import Secret
            from prefect.tasks.postgres import PostgresFetch

            PASSWORD = Secret("PG_PASSWORD").get()

            with Flow("report") as flow:
                PostgresFetch(db_name="sales", user="report", host="db")(password=PASSWORD, query="select 1")
            """,
            line=5, column=12,
            message="Secret(...).get() reads 'PG_PASSWORD' at import/registration time, outside any task: the value "
                    "is fixed when the flow is built"),
        Invalid("""
            from prefect import flow
            from prefect.blocks.system import Secret

            API_KEY = Secret.load("vendor-api-key").get()

            @flow
            def sync():
                print(len(API_KEY))
            """, title="Prefect 2.x/3.x: a Secret read at import",
            line=4, column=11,
            message="Secret.load('vendor-api-key').get() runs at module level: at import, on every deploy and on every "
                    "worker, outside any flow run"),
    ],
    good=[
        Valid("""
            from prefect import Flow
            from prefect.tasks.postgres import PostgresFetch
            from prefect.tasks.secrets import PrefectSecret

            with Flow("report") as flow:
                password = PrefectSecret("PG_PASSWORD")
                PostgresFetch(db_name="sales", user="report", host="db")(password=password, query="select 1")
            """),
        Valid("""
            from prefect import flow
            from prefect.blocks.system import Secret
            from prefect_aws import AwsCredentials

            @flow
            def sync():
                key = Secret.load("vendor-api-key").get()
                session = AwsCredentials.load("prod").get_boto3_session()

            if __name__ == "__main__":
                AwsCredentials.load("prod")
                sync()
            """, title="Prefect 2.x/3.x: loads in the flow, and under __main__"),
    ],
)
def check_secret_at_build_time(module):
    """A secret is read while the flow is built or registered, not while it runs.

    ## What it does
    Reports `Secret(NAME).get()`, `PrefectSecret(NAME).run()` and `prefect.context.secrets[...]`
    reads at module level or inside a `with Flow(...)` block, outside any task, in flow files and
    in every module they import (a `settings.py` that fetches a password on import).

    This is the finding for such a read, and the only one: the read happens where the flow is
    built or registered, not in the flow run that storage `secrets=[...]` or agent env serve, so
    CL101 (whose providers are the run's) is not reported on the same call.

    ## Why is this bad?
    At module level the value is fetched on the machine that registers the flow and baked into
    the serialized flow (pickle storage) or into task arguments; inside `with Flow(...)`
    Prefect raises `ValueError: Secrets should only be retrieved during a Flow run`.

    In Prefect 2.x/3.x code it reports a block loaded (`Cls.load(...)`, `Secret.load(...).get()`)
    at module level, in a class body or in a default argument: `prefect deploy` imports the flow's
    module, so the load is an API call on the deploying machine, and on every worker at every
    import; a missing block is an import error, outside any retry.

    ## How to fix
    Use `PrefectSecret("NAME")` as a task inside the flow and pass its result on, or read the
    secret inside a `@task` function. In 2.x/3.x, load the block in the body of the flow or
    task that uses it.
    """
    if module.model == "2" and module.blocks is not None:
        yield from _loads_at_import(module)
        return
    for fact in module.reads:
        if fact.context not in ("module", "flow", "class"):
            continue
        when = "while the flow is built (Prefect raises here)" if fact.context == "flow" else "at import/registration time"
        name = f"'{fact.name}'" if fact.name else "a secret"
        yield Hit(
            path=module.path, pos=fact.pos, secret=fact.name,
            message=f"{fact.api} reads {name} {when}, outside any task: the value is fixed when the flow is built",
            fix=(f"use PrefectSecret(\"{fact.name or 'NAME'}\") as a task in the flow, or read it inside a @task"),
        )


_AT_IMPORT = {"module": "at module level", "class": "in a class body", "default": "in a default argument"}


def _loads_at_import(module):
    """CL301 in Prefect 2.x/3.x code: block loads that run when the module is imported."""
    for load in module.blocks.loads:
        where = _AT_IMPORT.get(load.where)
        if where is None:
            continue
        cls = load.cls.rsplit(".", 1)[-1]
        call = f"{cls}.{load.method}({load.name!r})" if load.name else f"{cls}.{load.method}(...)"
        if load.get:
            call += ".get()"
        yield Hit(
            path=module.path, pos=load.pos, symbol=load.cls,
            secret=f"{load.slug}/{load.name}" if load.slug and load.name else None,
            message=f"{call} runs {where}: at import, on every deploy and on every worker, outside any flow run",
            fix=f"load the block inside the flow or task that uses it ({cls}.load(...) in its body)",
        )


def _carries_names(default) -> bool:
    """A default that holds secret names or paths, or nothing: not a credential itself."""
    if default is None:
        return False  # no default: the name alone decides
    if default.kind in ("dict", "list"):
        leaves = list(default.items.values()) + list(default.elements)
        return not any(v.shaped for v in leaves)
    return default.kind == "none" or (default.kind == "str" and default.placeholder and not default.shaped)


@rule(
    "CL302", "secret-parameter", "warning",
    bad=[
        Invalid("""
            from prefect import Flow, Parameter

            with Flow("sync") as flow:
                api_token = Parameter("api_token")
            """,
            line=4, column=17,
            message="Parameter 'api_token' carries a credential: parameter values are stored with every flow run and "
                    "shown in the UI"),
        Invalid("""
            from prefect import flow

            @flow
            def sync_crm(account: str, api_token: str):
                pass
            """, title="Prefect 2.x/3.x: a flow parameter",
            line=4, column=28,
            message="parameter 'api_token' of flow sync_crm carries a credential: Prefect stores parameter values with "
                    "the deployment and every flow run, and shows them in the UI"),
    ],
    good=[
        Valid("""
            from prefect import Flow, Parameter
            from prefect.tasks.secrets import PrefectSecret

            with Flow("sync") as flow:
                token_name = Parameter("token_secret_name", default="API_TOKEN")
                api_token = PrefectSecret("API_TOKEN")
            """),
        Valid("""
            from prefect import Flow, Parameter

            with Flow("dbt run") as flow:
                secret_map = Parameter("secret_map", default={})
            """, title="a parameter that maps to secret names or paths"),
        Valid("""
            from prefect import flow
            from prefect.blocks.system import Secret

            @flow
            def sync_crm(account: str, token_block: str = "crm-token", secret_map: dict = {}):
                token = Secret.load(token_block).get()
            """, title="Prefect 2.x/3.x: the name of a block as the parameter"),
    ],
)
def check_secret_parameter(module):
    """A flow Parameter carries a credential.

    ## What it does
    Reports `Parameter(...)` whose name says it holds a credential (`password`, `api_token`,
    `client_secret`, ...) or whose default looks like one (an AWS key id, a GitHub or Slack
    token, a private key). A name that says only `secret` (`secret_map`, `model_secret`) with a
    default of `None`, `{}`, a list, a path or a variable's name carries the *names* of secrets,
    as Prefect's own `*_secret` arguments do, and is fine.

    ## Why is this bad?
    Parameter values are stored with every flow run in Prefect's backend and shown in the UI;
    defaults are also serialized with the flow at registration. In Prefect 2.x/3.x the same holds
    for the parameters of a `@flow` function: they are stored with the deployment (its
    `parameters`) and with every flow run.

    ## How to fix
    Fetch the credential with `PrefectSecret("NAME")` inside the flow; if callers must choose
    which credential, pass the secret's *name* as the parameter. In 2.x/3.x, pass the name of
    a block and load it in the flow (`Secret.load(token_block).get()`).
    """
    if module.model == "2" and module.blocks is not None:
        yield from _flow_parameters(module)
        return
    for fact in module.parameters:
        if not _carries_credential(fact.name, fact.default):
            continue
        extra = _default_said(fact.default)
        yield Hit(
            path=module.path, pos=fact.pos, mask=bool(extra),
            message=(f"Parameter '{fact.name}' carries a credential{extra}: parameter values are stored with every "
                     f"flow run and shown in the UI"),
            fix=f"use PrefectSecret(\"{(fact.name or 'NAME').upper()}\") instead, or pass the secret's name as the "
                f"parameter",
        )


def _carries_credential(name, default) -> bool:
    """By its name (unless it only names secrets) or by a default in a credential's format."""
    by_name = bool(name) and is_credential_name(name)
    shaped = default is not None and default.kind == "str" and default.shaped
    if by_name and names_only_a_secret(name) and _carries_names(default):
        by_name = False
    return by_name or shaped


def _default_said(default) -> str:
    return f", and its default is {describe(default)}" if default is not None and default.is_literal else ""


def _names_a_block(param) -> bool:
    """`token_block: str` holds a block's name, `creds: AwsCredentials` a block (sent as a `$ref`):
    neither is the credential."""
    if words(param.name)[-1:] in (["block"], ["blocks"]):
        return True
    return bool(param.annotation) and builtin_block_catalogue().lookup(param.annotation) is not None


def _flow_parameters(module):
    """CL302 in Prefect 2.x/3.x code: parameters of flow functions that carry a credential."""
    for flow in module.blocks.flows():
        for param in flow.parameters:
            default = param.default.value if param.default is not None else None
            if not (param.credential or _carries_credential(param.name, default)):
                continue
            if param.credential and names_only_a_secret(param.name) and _carries_names(default):
                continue
            if _names_a_block(param):
                continue
            extra = _default_said(default)
            flow_name = flow.qualname.rsplit(".", 1)[-1]
            yield Hit(
                path=module.path, pos=param.pos, mask=bool(extra), symbol=flow.qualname,
                message=(f"parameter '{param.name}' of flow {flow_name} carries a credential{extra}: Prefect stores "
                         f"parameter values with the deployment and every flow run, and shows them in the UI"),
                fix="pass the name of a block instead and load it in the flow (Secret.load(name).get()), or load "
                    "a fixed block inside the flow",
            )
