"""CL301 and CL302: secrets read or passed at the wrong time."""
from credlint.engine import Hit, Invalid, Valid, rule
from credlint.facts.naming import is_credential_name, names_only_a_secret
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
    ],
)
def check_secret_at_build_time(read):
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

    ## How to fix
    Use `PrefectSecret("NAME")` as a task inside the flow and pass its result on, or read the
    secret inside a `@task` function.
    """
    module, fact = read
    if fact.context not in ("module", "flow", "class"):
        return
    when = "while the flow is built (Prefect raises here)" if fact.context == "flow" else "at import/registration time"
    name = f"'{fact.name}'" if fact.name else "a secret"
    yield Hit(
        path=module.path, pos=fact.pos, secret=fact.name,
        message=f"{fact.api} reads {name} {when}, outside any task: the value is fixed when the flow is built",
        fix=(f"use PrefectSecret(\"{fact.name or 'NAME'}\") as a task in the flow, or read it inside a @task"),
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
    ],
)
def check_secret_parameter(parameter):
    """A flow Parameter carries a credential.

    ## What it does
    Reports `Parameter(...)` whose name says it holds a credential (`password`, `api_token`,
    `client_secret`, ...) or whose default looks like one (an AWS key id, a GitHub or Slack
    token, a private key). A name that says only `secret` (`secret_map`, `model_secret`) with a
    default of `None`, `{}`, a list, a path or a variable's name carries the *names* of secrets,
    as Prefect's own `*_secret` arguments do, and is fine.

    ## Why is this bad?
    Parameter values are stored with every flow run in Prefect's backend and shown in the UI;
    defaults are also serialized with the flow at registration.

    ## How to fix
    Fetch the credential with `PrefectSecret("NAME")` inside the flow; if callers must choose
    which credential, pass the secret's *name* as the parameter.
    """
    module, fact = parameter
    by_name = bool(fact.name) and is_credential_name(fact.name)
    default = fact.default
    shaped = default is not None and default.kind == "str" and default.shaped
    if by_name and names_only_a_secret(fact.name) and _carries_names(default):
        by_name = False
    if not by_name and not shaped:
        return
    extra = ""
    if default is not None and default.is_literal:
        extra = f", and its default is {describe(default)}"
    yield Hit(
        path=module.path, pos=fact.pos, mask=bool(extra),
        message=(f"Parameter '{fact.name}' carries a credential{extra}: parameter values are stored with every "
                 f"flow run and shown in the UI"),
        fix=f"use PrefectSecret(\"{(fact.name or 'NAME').upper()}\") instead, or pass the secret's name as the parameter",
    )
