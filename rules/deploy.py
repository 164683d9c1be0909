"""CL105, CL106, CL107, CL203: secrets as deployment files set them."""
from credlint.prefect.deployments import SECRET_SETTINGS, STEP_SECTIONS
from credlint.prefect.names import REQUIRED_KEYS, typo_secret_name
from credlint.engine import Hit, Invalid, Valid, rule
from credlint.facts.naming import ends_as_not_the_secret, is_credential_env_name, is_login_option
from credlint.facts.values import describe

_REFERENCE_SHAPES = ("reference", "empty", "")


def _shape_of(project, name):
    """The shape context consumers of `name` read, from the catalogue."""
    for entry in project.catalogue:
        for spec in entry.secrets:
            if spec.name == name and spec.mechanism == "context" and spec.shape in REQUIRED_KEYS:
                return spec.shape, spec.shape_doc
    return None, ""


@rule(
    "CL105", "malformed-secret", "error",
    bad=[Invalid({"flow.py": "", "deploy/config.toml": """
        [context.secrets]
        AWS_CREDENTIALS = '{"ACCESS_KEY": "$AWS_KEY_ID"}'
        """}, title="AWS_CREDENTIALS without SECRET_ACCESS_KEY",
        path="deploy/config.toml", line=2, column=1,
        message="secret 'AWS_CREDENTIALS' (AWS_CREDENTIALS) has no SECRET_ACCESS_KEY; its consumers expect mapping "
                "with ACCESS_KEY and SECRET_ACCESS_KEY, optional SESSION_TOKEN; must be a real mapping, a JSON "
                "string is not decoded here"),
         Invalid({"flow.py": "", ".env": """
        PREFECT__CONTEXT__SECRETS__GCP_CREDENTIALS={"type": "service_account", "private_key": "${GCP_KEY}", "client_email": "etl@acme.iam.gserviceaccount.com", "token_uri": "https://oauth2.googleapis.com/token", "active": true}
        """}, title="JSON that Prefect leaves as a string",
        path=".env", line=1, column=1,
        message="secret 'GCP_CREDENTIALS' (PREFECT__CONTEXT__SECRETS__GCP_CREDENTIALS) is JSON that Prefect cannot "
                "read as a Python literal (true/false/null), so it stays a string; its consumers expect "
                "service-account key file contents as a mapping (project_id, private_key, client_email, ...); a JSON "
                "string is not decoded here")],
    good=[Valid({"flow.py": "", "deploy/config.toml": """
        [context.secrets.AWS_CREDENTIALS]
        ACCESS_KEY = "$AWS_KEY_ID"
        SECRET_ACCESS_KEY = "$AWS_SECRET"
        """})],
)
def check_malformed_secret(deploy_env, project):
    """A visible secret value does not have the shape its consumer reads.

    ## What it does
    Reads context secrets as Prefect 1.4.1 would turn them into values (`ast.literal_eval` of
    env and TOML strings, not JSON) and checks them against what their consumers read:
    `AWS_CREDENTIALS` must be a mapping with `ACCESS_KEY` and `SECRET_ACCESS_KEY`,
    `GCP_CREDENTIALS` a service-account mapping with `private_key`, `client_email` and
    `token_uri`.

    ## Why is this bad?
    AWS and GCP consumers read these secrets straight from context without decoding: a JSON
    string (JSON with `true`, `false` or `null` is not a Python literal, so it stays a string)
    fails with `AttributeError: 'str' object has no attribute 'get'`, and a mapping without a
    key sends `None` to the client library.

    ## How to fix
    Give the value as a Python-literal dict (or a TOML table) with every key the consumer
    reads; write `True`/`False`/`None` instead of JSON's `true`/`false`/`null`.
    """
    env = deploy_env
    if not env.secret or env.shape in _REFERENCE_SHAPES or env.value.kind == "none":
        return
    if env.scope == "config-key":
        return  # one string inside a dict-valued secret: the secret's own entry is judged whole
    shape, doc = _shape_of(project, env.secret)
    if shape is None:
        return
    if env.shape == "json-string":
        problem = "is JSON that Prefect cannot read as a Python literal (true/false/null), so it stays a string"
    elif env.shape != "dict":
        problem = f"is read by Prefect as a {env.shape}, not a mapping"
    else:
        missing = [k for k in REQUIRED_KEYS[shape] if k not in env.keys]
        if not missing:
            return
        problem = f"has no {', '.join(missing)}"
    yield Hit(
        path=env.path, pos=env.pos, secret=env.secret,
        message=f"secret '{env.secret}' ({env.name}) {problem}; its consumers expect {doc or shape}",
        fix=f"set it to a Python-literal dict with {', '.join(REQUIRED_KEYS[shape])}",
    )


@rule(
    "CL106", "secret-variable-typo", "error",
    bad=[Invalid({"flow.py": "", "agent.sh": """
        prefect agent docker start \\
          -e PREFECT__CONTEXT__SECRET__AWS_CREDENTIALS="$AWS_CREDS"
        """},
        path="agent.sh", line=2, column=6,
        message="PREFECT__CONTEXT__SECRET__AWS_CREDENTIALS will not be read as the context secret 'AWS_CREDENTIALS': "
                "the prefix must be exactly PREFECT__CONTEXT__SECRETS__"),
         Invalid("""
        from prefect import Flow
        from prefect.run_configs import DockerRun

        with Flow("etl", run_config=DockerRun(env={"PREFECT_CONTEXT_SECRETS_SLACK_WEBHOOK_URL": "$HOOK"})) as flow:
            pass
        """,
        line=4, column=44,
        message="PREFECT_CONTEXT_SECRETS_SLACK_WEBHOOK_URL will not be read as the context secret "
                "'SLACK_WEBHOOK_URL': the prefix must be exactly PREFECT__CONTEXT__SECRETS__")],
    good=[Valid({"flow.py": "", "agent.sh": """
        prefect agent docker start \\
          -e PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS="$AWS_CREDS"
        """})],
)
def check_secret_variable_typo(project):
    """An environment variable meant to provide a context secret that Prefect will not read as one.

    ## What it does
    Finds variables that look like `PREFECT__CONTEXT__SECRETS__NAME` but are not:
    `PREFECT__CONTEXT__SECRET__X`, `PREFECT_CONTEXT_SECRETS_X`, a mixed-case prefix such as
    `PREFECT__Context__Secrets__X` (Prefect only accepts the prefix all upper or all lower case),
    one underscore too few, ...

    ## Why is this bad?
    Prefect turns the variable into some other configuration key, silently; the secret never
    reaches `prefect.context.secrets` and the flow fails or falls back to ambient credentials.

    ## How to fix
    Spell the prefix exactly `PREFECT__CONTEXT__SECRETS__` (two underscores between parts).
    """
    found = [(env.path, env.pos, env.name, env.typo_of) for env in project.deploy_env if env.typo_of]
    for module in project.modules.values():  # run-config env={...} in flow code
        for _, item in project.run_config_env(module):
            meant = typo_secret_name(item.key)
            if meant:
                found.append((module.path, item.key_pos, item.key, meant))
    for path, pos, name, meant in found:
        yield Hit(
            path=path, pos=pos, secret=meant,
            message=(f"{name} will not be read as the context secret '{meant}': the prefix must be "
                     f"exactly PREFECT__CONTEXT__SECRETS__"),
            fix=f"rename it to PREFECT__CONTEXT__SECRETS__{meant}",
        )


@rule(
    "CL107", "secret-not-forwarded", "error",
    bad=[Invalid({"flow.py": "", "docker-compose.yml": """
        services:
          agent:
            image: prefecthq/prefect:1.4.1-python3.9
            command: prefect agent docker start --label etl
            environment:
              PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS: ${AWS_CREDENTIALS}
        """},
        path="docker-compose.yml", line=6, column=7,
        message="PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS is set on the docker agent itself, which does not pass "
                "its environment to flow runs: 'AWS_CREDENTIALS' never reaches them")],
    good=[Valid({"flow.py": "", "docker-compose.yml": """
        services:
          agent:
            image: prefecthq/prefect:1.4.1-python3.9
            command: prefect agent docker start --label etl -e PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS=${AWS_CREDENTIALS}
        """})],
)
def check_secret_not_forwarded(deploy_env):
    """A context secret set in the own environment of an agent that does not pass it on.

    ## What it does
    Reports `PREFECT__CONTEXT__SECRETS__X` set on the container, service or process of a
    Docker, Kubernetes, ECS or Vertex agent. Those agents start each flow run with a fresh
    environment; only the Local agent passes its own environment on.

    ## Why is this bad?
    The secret is on the agent, not in the flow run: the run fails or silently uses ambient
    credentials, although the deployment looks configured.

    ## How to fix
    Forward it explicitly: `prefect agent docker start -e PREFECT__CONTEXT__SECRETS__X=$X`,
    or `PREFECT__CLOUD__AGENT__ENV_VARS='{"PREFECT__CONTEXT__SECRETS__X": "..."}'`, or the
    run config's `env`.
    """
    env = deploy_env
    if env.scope != "agent" or not env.secret or env.agent in (None, "local"):
        return
    yield Hit(
        path=env.path, pos=env.pos, secret=env.secret,
        message=(f"{env.name} is set on the {env.agent} agent itself, which does not pass its environment to "
                 f"flow runs: '{env.secret}' never reaches them"),
        fix=f"pass it with --env {env.name}=... on the agent command, or PREFECT__CLOUD__AGENT__ENV_VARS",
    )


def _config_hit(env, value) -> Hit:
    return Hit(
        path=env.path, pos=env.pos, mask=True,
        message=(f"{env.name} is set to {describe(value)} in {env.path}: a credential committed in a Prefect "
                 f"config file"),
        fix="reference it instead (\"$VAR\" or \"${VAR}\", which Prefect expands) and keep the value in a secret store",
    )


@rule(
    "CL203", "hardcoded-secret-in-config", "error",
    bad=[Invalid({"flow.py": "", "deploy/config.toml": """
        [context.secrets]
        SLACK_WEBHOOK_URL = "https://hooks.slack.com/services/T07QX3MZ1/B09RK2LP4/Hn4vWq8Ys2Ld6Kp0"
        """},
        path="deploy/config.toml", line=2, column=1,
        message="secret 'SLACK_WEBHOOK_URL' is set to a string literal in deploy/config.toml: a credential committed "
                "in a deployment file"),
         Invalid({"flow.py": "", "deploy/config.toml": """
        [context.secrets.AWS_CREDENTIALS]
        ACCESS_KEY = "$AWS_ACCESS_KEY_ID"
        SECRET_ACCESS_KEY = "Hn4vWq8Ys2Ld6Kp0T07QX3MZ1"
        REGION = "eu-west-1"
        """}, title="a literal key of a dict-valued secret",
        path="deploy/config.toml", line=3, column=1,
        message="SECRET_ACCESS_KEY of secret 'AWS_CREDENTIALS' is set to a string literal in deploy/config.toml: a "
                "credential committed in a deployment file"),
         Invalid({"flow.py": "", "docker-compose.yml": """
        services:
          graphql:
            image: prefecthq/server:core-1.2.2
            environment:
              PREFECT_SERVER__HASURA__ADMIN_SECRET: ${PREFECT_SERVER__HASURA__ADMIN_SECRET:-Hn4vWq8Ys2Ld6Kp0}
        """}, title="a literal default of a reference: the value wherever nobody sets the variable",
        path="docker-compose.yml", line=5, column=7,
        message="PREFECT_SERVER__HASURA__ADMIN_SECRET is set to a string literal in docker-compose.yml: a credential "
                "committed in a deployment file"),
         Invalid({"flows/etl.py": "from prefect import flow\n", "prefect.yaml": """
        pull:
          - prefect.deployments.steps.git_clone:
              repository: https://github.com/acme/flows.git
              access_token: Hn4vWq8Ys2Ld6Kp0T07QX3MZ1
        """}, title="Prefect 2.x/3.x: a literal token in a pull step",
        path="prefect.yaml", line=4, column=7,
        message="git_clone.access_token is set to a string literal in prefect.yaml: a credential committed in a pull "
                "step, which Prefect stores with the deployment")],
    good=[Valid({"flow.py": "", "deploy/config.toml": """
        [context.secrets]
        SLACK_WEBHOOK_URL = "$SLACK_WEBHOOK_URL"
        AWS_CREDENTIALS = { ACCESS_KEY = "$AWS_ACCESS_KEY_ID", SECRET_ACCESS_KEY = "$AWS_SECRET_ACCESS_KEY" }
        """})],
)
def check_hardcoded_secret_in_config(deploy_env, project):
    """A literal secret value in a deployment file.

    ## What it does
    Reports secret values written into config.toml `[context.secrets]`, agent commands,
    Kubernetes manifests, compose files, Dockerfiles, CI workflows and committed `.env` files:
    context secrets, credential-named variables and values with a known credential format. A
    dict-valued config.toml secret (`AWS_CREDENTIALS = { SECRET_ACCESS_KEY = "..." }`, or a
    `[context.secrets.AWS_CREDENTIALS]` table) is checked key by key: its credential keys
    (`SECRET_ACCESS_KEY`, `private_key`, `token`, ...) and any value with a credential format.
    So are credentials in the config's other tables (`[cloud] api_key`, a `[s3]` table of `key` and
    `secret` the flows read through `prefect.config`), the password of `docker login -p` and
    literal defaults of references (`${ADMIN_SECRET:-changeme}` is what runs where nobody sets it).
    Weak values are values (`POSTGRES_PASSWORD=admin`). Variable names are not Prefect parameters:
    `ADMIN_SECRET=...` holds the secret, where `webhook_secret=` would name one. (A URL with a
    password is CL204, in a deployment file however weak the password.)
    References (`$X`, `${X}`, `${{ secrets.X }}`, `valueFrom.secretKeyRef`, `envFrom`, SSM and
    Secrets Manager ARNs), placeholders (`<token>`, `YOUR_KEY_HERE`, prose in a `.env.example`),
    file paths (`GOOGLE_APPLICATION_CREDENTIALS=/secrets/key.json`), auth method names
    (`REGISTRY_AUTH: htpasswd`), a DSN without a password, web-page variables that are public by
    design (`REACT_APP_*`, `NEXT_PUBLIC_*`, `VITE_*`, ...) and weak values in test suites are fine.

    ## Why is this bad?
    The secret is in version control and in every image or manifest built from it.

    ## How to fix
    Reference it from a secret store or the environment instead (`$X`, a Kubernetes Secret,
    your CI's secrets).

    In Prefect 2.x/3.x files the message says what the place is and the fix fits it: a pull or
    push step takes `"{{ prefect.blocks.secret.<name> }}"` (resolved when the step runs); a job
    variable or a parameter of a `prefect.yaml` deployment is stored with it, so save the value in
    a Secret block and load it in the flow (or reference it from a pull step or the work pool's
    base job template); Terraform's `prefect_*` resources take a sensitive variable rather than a
    literal (the state still holds it, but for a `prefect_block`'s write-only `data_wo`); and
    `PREFECT_API_KEY` (or `[api] key` in `prefect.toml`) belongs in the environment of whatever
    runs Prefect, your CI's secrets.
    """
    env = deploy_env
    value = env.value
    if not value.is_literal or value.kind != "str":
        return
    # `prefect agent ... start --key ...`, `docker login -p ...`
    agent_key = env.name in ("--key", "-k", "--token", "-t") or is_login_option(env.name)
    if env.scope == "config-setting":  # recorded only when it holds a credential (`[s3] secret = ...`)
        yield _config_hit(env, value)
        return
    key = env.name.rsplit(".", 1)[-1] if env.scope == "config-key" else None
    # Variable and key names are not Prefect parameters: `ADMIN_SECRET=...` holds the secret itself.
    if key is not None:
        # A string inside a dict-valued secret: its credential keys (SECRET_ACCESS_KEY,
        # private_key, token, ...) or a credential format; not region, client_email, token_uri.
        if not (is_credential_env_name(key) or value.shaped):
            return
    elif not (env.secret or agent_key or is_credential_env_name(env.name) or value.shaped):
        return
    if ends_as_not_the_secret(env.name):
        if not value.shaped:
            return
    what = f"secret '{env.secret}'" if env.secret else env.name
    if key is not None and env.secret:
        what = f"{env.name[len(env.secret) + 1:]} of secret '{env.secret}'"
    verb = "is given" if agent_key else "is set to"
    kind = describe(value)
    if value.shaped and not (env.secret or agent_key or is_credential_env_name(key or env.name)):
        kind += " in a credential's format (a token, a key, a URL with a password)"
    facts = project.deploy_by_path.get(env.path)
    wording = _prefect2_wording(env, facts.kind if facts is not None else "")
    said, fix = wording or ("a credential committed in a deployment file",
                            "reference it instead ($VAR, a Kubernetes Secret, CI secrets) and keep the value in a "
                            "secret store")
    yield Hit(
        path=env.path, pos=env.pos, secret=env.secret, mask=True,
        message=f"{what} {verb} {kind} in {env.path}: {said}",
        fix=fix,
    )


# Prefect 2.x/3.x settings kept as secrets, by the environment variable that sets each
# (`api.key` -> PREFECT_API_KEY) and by their key path in a settings file.
_SECRET_SETTING_VARS = {"PREFECT_" + "_".join(path).upper() for path in SECRET_SETTINGS}
_SECRET_SETTING_KEYS = {".".join(path): "PREFECT_" + "_".join(path).upper() for path in SECRET_SETTINGS}
_SECRET_REF = '"{{ prefect.blocks.secret.<name> }}"'


def _prefect2_wording(env, file_kind: str):
    """(what the message says it is, the fix) for an entry of a Prefect 2.x/3.x file or a Prefect
    2.x/3.x secret setting; None keeps the wording every other deployment file gets."""
    if file_kind == "terraform":
        return _terraform_wording(env)  # `var.prefect_api_key` is Terraform's, whatever its name
    setting = env.name.upper() if env.name.upper() in _SECRET_SETTING_VARS else None
    if setting is None and file_kind == "prefect-settings":
        dotted = env.name.lower()
        setting = next((var for key, var in _SECRET_SETTING_KEYS.items()
                        if dotted == key or dotted.endswith("." + key)), None)
    if setting is not None:
        return ("a Prefect secret setting committed with the code (anyone who can read the repository can use it)",
                f"set {setting} in the environment of the machine or CI job that runs Prefect (your CI's secrets, "
                f"a secret store), not in a committed file")
    if file_kind == "prefect-settings":
        return ("a credential committed in a Prefect settings file",
                "set it in the environment of the machine or CI job that runs Prefect (your CI's secrets), not in "
                "a committed file")
    if file_kind == "prefect-yaml":
        return _prefect_yaml_wording(env)
    return None


def _terraform_wording(env):
    owner = env.owner or ""
    state = "Terraform's state still holds it"
    if owner.startswith("variable "):
        var = owner.split(" ", 1)[1]
        return ("a credential committed as a Terraform variable's default",
                f"remove the default and feed the variable from your CI's secrets (TF_VAR_{var}; sensitive = true); "
                f"{state}")
    if owner == "tfvars":
        return ("a credential committed in a Terraform variable file",
                f"keep it out of committed .tfvars: set TF_VAR_{env.name} from your CI's secrets; {state}")
    if owner.startswith("provider "):
        return ("a credential committed in Terraform's provider configuration",
                "feed it from a sensitive variable (var.prefect_api_key) or leave it out and set PREFECT_API_KEY in "
                "the environment Terraform runs in")
    if ".pull_steps" in env.name:
        return ("a credential committed in Terraform, in a deployment's pull steps and Terraform's state",
                f"save it in a Secret block and write {_SECRET_REF} instead: the worker resolves it at each run")
    if owner.startswith("resource prefect_block."):  # `data`, or the write-only `data_wo` kept out of the state
        return ("a credential committed in Terraform's block data",
                "feed it from a sensitive variable (var.x, set from your CI's secrets) rather than a literal; "
                "Terraform's state still holds `data` (`data_wo` keeps it out)")
    return ("a credential committed in Terraform, and kept in its state",
            f"feed it from a sensitive variable (var.x, set from your CI's secrets) rather than a literal; {state}")


def _prefect_yaml_wording(env):
    owner = env.owner or ""
    words = owner.split(" ")
    deployment = owner[len("deployment "):] if owner.startswith("deployment ") else None
    load = "load it in the flow (Secret.load(\"<name>\").get())"
    if words[0] in STEP_SECTIONS and words[1:2] == ["step"]:
        stored = ", which Prefect stores with the deployment" if words[0] == "pull" else ""
        when = "on the worker at each run" if words[0] == "pull" else "when the step runs"
        block = (' (for `credentials:`, a credentials block\'s "{{ prefect.blocks.<slug>.<name> }}")'
                 if ".credentials" in env.name else "")
        return (f"a credential committed in a {words[0]} step{stored}",
                f"save it in a Secret block and write {_SECRET_REF} instead{block}: Prefect resolves it {when}")
    of = f" of deployment '{deployment}'" if deployment else ""
    if env.scope == "job-env" or env.name.startswith("job_variables."):
        return (f"a credential committed in the job variables{of}, which Prefect stores and shows with the "
                f"deployment",
                f"save it in a Secret block and {load}, or reference it ({_SECRET_REF}) from a pull step or the "
                f"work pool's base job template (a job variable's template is resolved and stored by prefect deploy)")
    if env.name.startswith("parameters."):
        return (f"a credential committed in the parameters{of}, which Prefect stores with the deployment and every "
                f"flow run",
                "pass the name of a block and load it in the flow (Secret.load(name).get())")
    return ("a credential committed in prefect.yaml",
            f"save it in a Secret block and {load}, or reference it ({_SECRET_REF}) from a pull step")
