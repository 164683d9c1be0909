"""Prefect 1.x as the Python pass knows it, by qualified name: flows, tasks and their decorator,
parameters, the secret APIs and the context, with the standard calls that carry their values
(os.getenv, os.environ, dotenv, copy, functools.partial), and the methods and keywords that put a
task into a flow or attach state handlers. The Python pass recognises Prefect by these names; the
project model and the rules ask here too."""
from credlint.prefect.names import SECRETS_ENV_PREFIX

FLOW = frozenset({"prefect.Flow", "prefect.core.Flow", "prefect.core.flow.Flow"})
COPY = {"copy.copy", "copy.deepcopy"}
# Methods only a Flow has: called on what may be a flow (an instance of a project class), they
# make it one. (Task has set_dependencies too, with a `flow=` keyword.)
FLOW_METHODS = {"add_task", "add_edge", "set_dependencies", "chain", "set_reference_tasks"}
TASK_BASE = {"prefect.Task", "prefect.core.Task", "prefect.core.task.Task"}
TASK_DECORATOR = {"prefect.task", "prefect.utilities.tasks.task", "prefect.core.task"}
PARAMETER = {"prefect.Parameter", "prefect.core.Parameter", "prefect.core.parameter.Parameter"}
SECRET_API = {"prefect.client.Secret", "prefect.client.secrets.Secret"}
CONTEXT = {"prefect.context", "prefect.utilities.context.context"}
CONTEXT_SECRETS = {c + ".secrets" for c in CONTEXT}
GETENV = {"os.getenv", "os.environ.get"}
DOTENV = {"dotenv.dotenv_values", "dotenv.main.dotenv_values"}
ENVIRON = "os.environ"
PARTIAL = {"functools.partial"}
SECRET_TASKS = {"prefect.tasks.secrets.base.PrefectSecret"}
ENV_SECRET_TASKS = {"prefect.tasks.secrets.env_var.EnvVarSecret"}
CONTEXT_PREFIX = SECRETS_ENV_PREFIX
# Prefect constructs this pass reads itself (a Parameter's default is CL302's, a context write
# CL202's): not calls whose credential keywords `credential_args` records.
READ_BY_THE_PASS = FLOW | PARAMETER | SECRET_API | CONTEXT | GETENV | DOTENV | TASK_DECORATOR | SECRET_TASKS | \
    ENV_SECRET_TASKS
# Task methods that put a task into a flow (the `flow=` keyword names which one).
TASK_WIRING = {"map", "bind", "set_upstream", "set_downstream"}
# Keywords of Task.__call__/bind/map that wire the task and never reach its run().
WIRING_KEYWORDS = {"flow", "upstream_tasks", "task_args", "mapped"}
APPLY_MAP = {"prefect.apply_map", "prefect.utilities.tasks.apply_map"}
# unmapped(x), mapped(x), flatten(x): x itself is passed to the task.
EDGE_ANNOTATIONS = {f"{m}.{n}" for m in ("prefect", "prefect.utilities.edges") for n in ("unmapped", "mapped", "flatten")}
# What Task and Flow take as state handlers (a list, or one callable); a result reads credentials too.
HANDLER_KEYWORDS = ("state_handlers", "on_failure", "terminal_state_handler", "result")
HANDLER_ATTRIBUTES = ("state_handlers", "terminal_state_handler", "result")

# Names of the first positional parameters, where code passes them positionally.
POSITIONAL = {
    "prefect.tasks.secrets.base.PrefectSecret": ("name",),
    "prefect.tasks.secrets.env_var.EnvVarSecret": ("name",),
}
