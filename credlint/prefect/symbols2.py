"""Prefect 2.x and 3.x as the Python pass knows them, by qualified name: which imports belong to
which Prefect (a file's model), the flow and task decorators and their hooks, blocks (the base
class, the modules whose classes are blocks, `Secret`, the `SecretStr` wrappers), Variables, and
the calls that deploy or serve a flow; and how Prefect turns a block class into its type slug.

The import tables were read from the packages themselves (prefect 1.4.1, 2.20.27 and 3.9.1, their
module trees and the names their packages export); `tests/test_model_detection.py` checks them
against the real packages. Everything the 2.x/3.x pass and its rules know about Prefect's Python
API is here, once.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Optional

# ----- which Prefect a file is written for ----------------------------------------------------
# Packages (with all their submodules) that only Prefect 1.x has.
PREFECT1_PACKAGES = frozenset({
    "prefect.core", "prefect.storage", "prefect.run_configs", "prefect.executors", "prefect.backend",
    "prefect.configuration", "prefect.triggers", "prefect.serialization", "prefect.environments",
    "prefect.hello_world",
})
# Packages of both whose *submodules* only 1.x has: 2.x/3.x made them single modules
# (`prefect.tasks`, `prefect.engine`, `prefect.agent`, `prefect.schedules`).
PREFECT1_SUBMODULES_OF = frozenset({"prefect.tasks", "prefect.engine", "prefect.agent", "prefect.schedules"})
# Single submodules only 1.x has, under packages both have.
PREFECT1_MODULES = frozenset({
    "prefect.client.client", "prefect.client.secrets",
    *(f"prefect.utilities.{m}" for m in (
        "agent", "aws", "backend", "cli", "compatibility", "configuration", "datetimes", "debug",
        "diagnostics", "edges", "executors", "filesystems", "gcp", "git", "graphql", "kubernetes", "logging",
        "notifications", "plugins", "serialization", "storage", "tasks")),
})
# Packages (with all their submodules) that only Prefect 2.x/3.x has.
PREFECT2_PACKAGES = frozenset({
    "prefect.analytics", "prefect.assets", "prefect.automations", "prefect.blocks", "prefect.bundles",
    "prefect.cache_policies", "prefect.concurrency", "prefect.context", "prefect.deployments",
    "prefect.deprecated", "prefect.docker", "prefect.events", "prefect.filesystems", "prefect.flow_engine",
    "prefect.flow_runs", "prefect.flows", "prefect.futures", "prefect.infrastructure", "prefect.input",
    "prefect.locking", "prefect.logging", "prefect.main", "prefect.manifests", "prefect.new_flow_engine", "prefect.new_task_engine", "prefect.plugins",
    "prefect.pydantic",
    "prefect.results", "prefect.runner", "prefect.runtime", "prefect.serializers", "prefect.server",
    "prefect.settings", "prefect.software", "prefect.states", "prefect.task_engine", "prefect.task_runners",
    "prefect.task_runs", "prefect.task_server", "prefect.task_worker", "prefect.telemetry", "prefect.testing",
    "prefect.transactions", "prefect.types", "prefect.variables", "prefect.workers",
    *(f"prefect.client.{m}" for m in (
        "attribution", "base", "cloud", "collections", "constants", "orchestration", "schemas", "subscriptions",
        "types", "utilities")),
    *(f"prefect.utilities.{m}" for m in (
        "annotations", "asyncutils", "callables", "compat", "dispatch", "dockerutils", "engine", "filesystem",
        "generics", "hashing", "math", "names", "processutils", "pydantic", "render_swagger", "schema_tools",
        "services", "slugify", "templating", "text", "timeout", "urls", "visualization")),
})
# Names imported from a module both Prefects have (`from MODULE import NAME`) that only one has.
PREFECT1_NAMES = {
    "prefect": frozenset({"Parameter", "Client", "apply_map", "case", "resource_manager", "mapped",
                          "flatten", "config", "api", "models", "backend", "configuration", "core", "executors",
                          "run_configs", "serialization", "storage", "triggers"}),
    "prefect.client": frozenset({"Client", "Secret", "client", "secrets"}),
    "prefect.engine": frozenset({"FlowRunner", "TaskRunner", "signals", "state", "results", "result", "executors",
                                 "cloud", "flow_runner", "task_runner", "runner", "serializers", "cache_validators",
                                 "get_default_executor_class", "get_default_flow_runner_class",
                                 "get_default_task_runner_class"}),
    "prefect.exceptions": frozenset({"AuthorizationError", "ClientError", "FlowStorageError", "ObjectNotFoundError",
                                     "TaskTimeoutSignal", "VersionLockMismatchSignal"}),
    "prefect.artifacts": frozenset({"create_link", "create_markdown", "update_link", "update_markdown",
                                    "delete_artifact"}),
    "prefect.schedules": frozenset({"CronSchedule", "IntervalSchedule", "RRuleSchedule", "clocks", "filters",
                                    "adjustments", "schedules"}),
    "prefect.agent": frozenset({"Agent", "agent", "docker", "ecs", "kubernetes", "local", "vertex"}),
}
PREFECT2_NAMES = {
    "prefect": frozenset({"flow", "serve", "aserve", "deploy", "State", "allow_failure", "get_client",
                          "get_run_logger", "pause_flow_run", "resume_flow_run", "suspend_flow_run", "apause_flow_run",
                          "aresume_flow_run", "asuspend_flow_run", "Transaction", "Manifest", "BaseResult",
                          "PrefectClient", "CloudClient", "get_cloud_client"}),
    "prefect.tasks": frozenset({"task", "task_input_hash", "exponential_backoff", "MaterializingTask"}),
    "prefect.engine": frozenset({"pause_flow_run", "resume_flow_run", "suspend_flow_run"}),
    "prefect.exceptions": frozenset({"ObjectNotFound", "ObjectAlreadyExists", "MissingContextError", "CrashedRun",
                                     "FailedRun", "CancelledRun", "UnfinishedRun", "MissingResult", "Abort",
                                     "TerminationSignal", "PrefectHTTPStatusError", "ParameterTypeError"}),
    "prefect.artifacts": frozenset({"create_table_artifact", "create_progress_artifact", "create_image_artifact",
                                    "update_progress_artifact", "Artifact"}),
    "prefect.schedules": frozenset({"Cron", "Interval", "RRule"}),
    "prefect.agent": frozenset({"PrefectAgent"}),
}
# Names both Prefects export from `prefect` (a module in one, an attribute in the other): no evidence.
SHARED_NAMES = {"prefect": frozenset({"Task", "task", "tags", "unmapped", "context", "agent", "artifacts",
                                      "cli", "client", "engine", "exceptions", "plugins", "schedules", "tasks",
                                      "utilities"})}
# Weak evidence: a name both Prefects export that 1.x code imports far more often. It makes a file
# 1.x only when nothing says 2.x (`from prefect import Flow` beside `flow` is a 2.x type hint).
PREFECT1_WEAK_NAMES = {"prefect": frozenset({"Flow"})}
# Packages named prefect_* that belong to Prefect 1.x's ecosystem, not to the 2.x/3.x integrations.
PREFECT1_EXTRA_PACKAGES = frozenset({"prefect_saturn", "prefect_server"})


def _under(module: str, packages) -> bool:
    while True:
        if module in packages:
            return True
        if "." not in module:
            return False
        module = module.rsplit(".", 1)[0]


def module_model(module: str) -> str:
    """Which Prefect an imported module belongs to: "1", "2", or "" (both have it, or not Prefect)."""
    if module.startswith("prefect_") or module.split(".", 1)[0].startswith("prefect_"):
        return "" if module.split(".", 1)[0] in PREFECT1_EXTRA_PACKAGES else "2"
    if module != "prefect" and not module.startswith("prefect."):
        return ""
    if _under(module, PREFECT1_PACKAGES) or _under(module, PREFECT1_MODULES):
        return "1"
    parent = module.rsplit(".", 1)[0]
    if _under(parent, PREFECT1_SUBMODULES_OF) and module not in PREFECT1_SUBMODULES_OF:
        return "1"
    if _under(module, PREFECT2_PACKAGES):
        return "2"
    return ""


def import_model(module: str, name: Optional[str] = None) -> str:
    """Which Prefect `import MODULE` / `from MODULE import NAME` is written for: "1", "2", "1?"
    (weak 1.x evidence, see PREFECT1_WEAK_NAMES) or "" (no evidence either way)."""
    found = module_model(module)
    if found or name is None:
        return found
    if name in PREFECT1_NAMES.get(module, ()):
        return "1"
    if name in PREFECT2_NAMES.get(module, ()):
        return "2"
    if name in PREFECT1_WEAK_NAMES.get(module, ()):
        return "1?"
    if name in SHARED_NAMES.get(module, ()) or module in PREFECT1_SUBMODULES_OF:
        return ""  # under those, a name of 2.x's module is no 1.x submodule (`from prefect.tasks import Task`)
    return module_model(f"{module}.{name}")  # `from prefect import flows`, `from prefect.utilities import edges`


def decide_model(evidence: set) -> str:
    """A file's model from the evidence of its imports: "2" when only 2.x/3.x evidence is found
    (weak 1.x evidence does not count against it), "1" when any 1.x evidence is found (a file
    that imports both is read as 1.x, as it always was), "" when there is none."""
    if "1" in evidence:
        return "1"
    if "2" in evidence:
        return "2"
    if "1?" in evidence:
        return "1"
    return ""


# The config key `prefect` (config.py lists the values a user may write): the model each one forces.
FORCED_MODEL = {"1": "1", "2": "2", "3": "2"}

# ----- flows, tasks and their hooks ------------------------------------------------------------
FLOW_DECORATOR = frozenset({"prefect.flow", "prefect.flows.flow", "prefect.main.flow"})
TASK_DECORATOR = frozenset({"prefect.task", "prefect.tasks.task", "prefect.main.task"})
FLOW_CLASS = frozenset({"prefect.Flow", "prefect.flows.Flow", "prefect.main.Flow"})
TASK_CLASS = frozenset({"prefect.Task", "prefect.tasks.Task", "prefect.main.Task"})
# State hooks a flow or task takes (`@flow(on_failure=[notify])`, `@my_flow.on_failure`): they run
# in the flow run's process after the state change.
HOOK_KEYWORDS = frozenset({"on_completion", "on_failure", "on_cancellation", "on_crashed", "on_running",
                           "on_commit", "on_rollback"})
# Methods of a flow or task that run it (or a copy of it): a call of the flow or task itself.
RUN_METHODS = frozenset({"submit", "map", "fn", "delay", "apply_async", "__call__"})
# Methods that hand back a copy of the flow or task with other options.
COPY_METHODS = frozenset({"with_options"})

# ----- blocks -----------------------------------------------------------------------------------
BLOCK_BASE = frozenset({"prefect.blocks.core.Block"})
# Modules whose classes are blocks (2.x's filesystems and infrastructure included), besides the
# integrations (every `prefect_*` package).
BLOCK_MODULES = ("prefect.blocks.", "prefect.filesystems.", "prefect.infrastructure.")
SECRET_BLOCK = frozenset({"prefect.blocks.system.Secret"})
LOAD_METHODS = {"load": False, "aload": True}  # method -> the explicit async form
SAVE_METHODS = {"save": False, "asave": True}
# pydantic's secret wrappers: `SecretStr("...")` holds the literal it is given.
SECRET_WRAPPERS = frozenset({"pydantic.SecretStr", "pydantic.SecretBytes", "pydantic.types.SecretStr",
                             "pydantic.types.SecretBytes", "pydantic.v1.SecretStr", "pydantic.v1.SecretBytes",
                             "prefect.types.SecretDict", "prefect.blocks.fields.SecretDict"})
# Not blocks, but built in code with a block's credentials (`GitRepository(credentials={"access_token":
# Secret.load(...)})` becomes a pull step that references the block).
RUNNER_STORAGE = frozenset({"prefect.runner.storage.GitRepository"})
# Field annotations that make a block field secret (Prefect's `secret_fields`).
SECRET_FIELD_TYPES = frozenset({"SecretStr", "SecretBytes", "SecretDict", "Secret"})
# Class attributes that name a block type.
BLOCK_TYPE_SLUG = "_block_type_slug"
BLOCK_TYPE_NAME = "_block_type_name"

# ----- Variables --------------------------------------------------------------------------------
VARIABLE_CLASS = frozenset({"prefect.variables.Variable"})
VARIABLE_METHODS = {"get": "get", "aget": "get", "set": "set", "aset": "set", "unset": "unset", "aunset": "unset"}
# 2.x's module functions, `from prefect import variables; variables.get("x")`.
VARIABLE_FUNCTIONS = {"prefect.variables.get": "get"}

# ----- deployments --------------------------------------------------------------------------------
# Methods of a flow that deploy it (with job variables and parameters stored in the deployment)
# or serve it from this process.
FLOW_DEPLOY_METHODS = frozenset({"deploy", "serve", "to_deployment"})
FROM_SOURCE = "from_source"
# Functions that deploy or serve several `to_deployment()` results at once.
DEPLOY_FUNCTIONS = {"prefect.deploy": "deploy", "prefect.deployments.deploy": "deploy",
                    "prefect.deployments.runner.deploy": "deploy", "prefect.serve": "serve",
                    "prefect.flows.serve": "serve", "prefect.main.serve": "serve", "prefect.aserve": "serve",
                    "prefect.flows.aserve": "serve"}
# 2.x's Deployment class (removed in 3.x): `Deployment.build_from_flow(flow, name, ...)`.
DEPLOYMENT_CLASS = frozenset({"prefect.deployments.Deployment", "prefect.deployments.deployments.Deployment"})
# What a deployment call is given for its job variables (2.x's `infra_overrides` is the old name).
JOB_VARIABLES_KEYWORDS = ("job_variables", "infra_overrides")
DEPLOY_POSITIONAL = ("name",)


def is_block_module_class(qual: str) -> bool:
    """A class of Prefect's block modules or of an integration (`prefect_aws.AwsCredentials`): a
    block by where it comes from (the catalogue knows which it is)."""
    head, _, last = qual.rpartition(".")
    if not last[:1].isupper() or not head:
        return False
    if qual in BLOCK_BASE:
        return True
    top = head.split(".", 1)[0]
    if top.startswith("prefect_") and top not in PREFECT1_EXTRA_PACKAGES:
        return True
    return any((head + ".").startswith(prefix) for prefix in BLOCK_MODULES) or head in {p[:-1] for p in BLOCK_MODULES}


_QUOTES = re.compile(r"[']+")
_DISALLOWED = re.compile(r"[^-a-zA-Z0-9]+")
_DASHES = re.compile(r"-{2,}")
_NUMBER_COMMA = re.compile(r"(?<=\d),(?=\d)")


def block_slug(type_name: str) -> str:
    """The slug Prefect gives a block type: `slugify(_block_type_slug or _block_type_name or the
    class name)` with python-slugify's defaults (`"AWS Credentials"` -> `aws-credentials`,
    `"AwsCredentials"` -> `awscredentials`)."""
    text = _QUOTES.sub("-", type_name)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = _QUOTES.sub("", text.lower())
    text = _NUMBER_COMMA.sub("", text)
    text = _DISALLOWED.sub("-", text)
    return _DASHES.sub("-", text).strip("-")


def split_block_reference(text: str):
    """`Block.load("slug/name")`: (slug, name), split on the first "/" as Prefect does; (None,
    text) when there is no slash."""
    if "/" in text:
        slug, name = text.split("/", 1)
        return slug, name
    return None, text
