"""Prefect 2.x/3.x on the deployment side: the templates of `prefect.yaml`, its sections and
steps, the settings that hold credentials, and the Terraform provider's names for them.

Read from prefect 3.9.1 and 2.20.27 (`utilities/templating/__init__.py`, `cli/deploy/_core.py`,
`deployments/steps/`, `settings/models/`) and terraform-provider-prefect's documented schema.
Nothing here reads a file: the readers in `credlint.facts.deploy` do, with these names.
"""
from __future__ import annotations

import re
from typing import NamedTuple, Tuple

# `PLACEHOLDER_CAPTURE_REGEX` of `prefect.utilities.templating`: what Prefect itself takes for a
# template. `{{ x }}` with characters outside this set is left alone, so it is not one here either.
PLACEHOLDER = re.compile(r"({{\s*([\w\.\-\[\]$]+)\s*}})")
BLOCK_PREFIX = "prefect.blocks."
VARIABLE_PREFIX = "prefect.variables."
ENV_PREFIX = "$"

# `prefect.yaml`'s action sections. A deployment that has one of these keys (even set to null)
# runs its own steps instead of the file's (`deploy_config.get("pull", actions.get("pull"))`).
STEP_SECTIONS = ("build", "push", "pull")
# When a prefect.yaml template is resolved, and so whether the deployment stores its value:
# - pull steps: on the worker at each flow run (3.x `deployments/steps/core.py:169-172`); a
#   `{{ prefect.blocks.* }}` there stays a reference in the API;
# - build and push steps: by `prefect deploy`, on the deployer's machine, where they run; not stored;
# - every other part of a deployment (job variables with their env, parameters, ...): by `prefect
#   deploy` before it creates the deployment (3.x `cli/deploy/_core.py:101-105`, checked against a
#   real server), stored resolved; but 2.20 leaves job variables to the worker
#   (PrefectHQ/prefect#14156, 2.20 `cli/deploy.py:462-471`).
RUN_TIME_SECTIONS = ("pull",)


def stored_resolved(where: str, major: str = "3") -> bool:
    """A template in this part of a deployment (`job_variables`, `parameters`, a section name) is
    resolved by `prefect deploy` and stored with its value, under Prefect `major` ("2" or "3")."""
    if where in STEP_SECTIONS:
        return False
    return not (where == "job_variables" and major == "2")

# The file `prefect deploy` reads when none is named; `--prefect-file` can name any other.
PREFECT_YAML_NAMES = ("prefect.yaml", "prefect.yml")
# Keys of a step's inputs that Prefect consumes itself, never a credential.
STEP_RESERVED = ("id", "requires")


class Template(NamedTuple):
    """One `{{ ... }}` of a value, as Prefect reads it. kind: block | variable | env | other
    (a step's output, `{{ build-image.image }}`) | invalid (a block or variable template that
    names nothing, which Prefect refuses or resolves to "")."""

    kind: str
    text: str  # the whole `{{ ... }}`
    start: int  # offset of its `{{` in the value
    slug: str = ""
    name: str = ""
    key: str = ""  # a block template's key path after the name ("" for the whole block)


def templates(value: str):
    """Every template of a string value, in order."""
    for match in PLACEHOLDER.finditer(value):
        yield _template(match.group(1), match.group(2), match.start(1))


def _template(text: str, name: str, start: int) -> Template:
    if name.startswith(BLOCK_PREFIX):
        # `_resolve_single_placeholder`: slug, name and an optional key path, split on the first two dots
        parts = name[len(BLOCK_PREFIX):].split(".", 2)
        if len(parts) < 2 or not parts[0] or not parts[1]:
            return Template("invalid", text, start, slug=parts[0])
        return Template("block", text, start, slug=parts[0], name=parts[1], key=parts[2] if len(parts) > 2 else "")
    if name.startswith(VARIABLE_PREFIX):
        rest = name[len(VARIABLE_PREFIX):]
        return Template("variable", text, start, name=rest) if rest else Template("invalid", text, start)
    if name.startswith(ENV_PREFIX):
        return Template("env", text, start, name=name[len(ENV_PREFIX):])
    return Template("other", text, start, name=name)


def invalid_template_message(template: Template) -> str:
    """Why Prefect cannot resolve a template that names nothing (never a value: templates hold names)."""
    if template.text.replace(" ", "").startswith("{{" + VARIABLE_PREFIX):
        return (f"{template.text} names no variable: Prefect expects {{{{ prefect.variables.<name> }}}} and "
                "replaces this one with an empty string")
    return (f"{template.text} names no block document: Prefect expects "
            "{{ prefect.blocks.<block-type-slug>.<block-document-name> }} and refuses this one at deploy time "
            "(\"Invalid block placeholder format\")")


def step_function(key: str) -> str:
    """The short name of a step from its import path (`prefect.deployments.steps.git_clone` -> `git_clone`)."""
    return key.rsplit(".", 1)[-1]


# Settings whose values are `SecretStr` (prefect 3.9.1 `settings/models/api.py:23-30`,
# `server/api.py:19`, `server/database.py:233`), as key paths of `prefect.toml` and of
# `[tool.prefect]` in pyproject.toml (`build_settings_config`: toml_file="prefect.toml",
# pyproject_toml_table_header=("tool", "prefect", ...)). The database `connection_url` is one too,
# but what is secret in it is a URL's password, which the credential formats report.
SECRET_SETTINGS = {("api", "key"), ("api", "auth_string"), ("server", "api", "auth_string"),
                   ("server", "database", "password")}
PREFECT_TOML = "prefect.toml"
PYPROJECT_TABLE = ("tool", "prefect")
# A Prefect profiles file (`~/.prefect/profiles.toml`): `[profiles.NAME]` tables of settings
# given by their environment names (PREFECT_API_KEY = "...").
PROFILES_TOML = "profiles.toml"
PROFILES_TABLE = "profiles"


def secret_setting(path: Tuple[str, ...]) -> bool:
    """A settings key path (from the settings root) whose value Prefect keeps as a secret."""
    return tuple(part.lower() for part in path) in SECRET_SETTINGS


# terraform-provider-prefect: `resource "prefect_block"` declares a block document
# (`name`, `type_slug`, `data` as JSON); every resource type of the provider starts with
# `prefect_`; the provider block's credentials are `api_key` and `basic_auth_key`.
TF_PROVIDER = "prefect"
TF_RESOURCE_PREFIX = "prefect_"
TF_BLOCK_RESOURCE = "prefect_block"
TF_BLOCK_NAME, TF_BLOCK_SLUG = "name", "type_slug"
TF_BLOCK_DATA = ("data", "data_wo")  # `data_wo`: the write-only form, kept out of the state
# Where templates in the provider's resources are resolved, as `prefect.yaml` sections name it:
# a `prefect_deployment`'s pull steps, job variables and parameters, a work pool's base job template.
TF_DEPLOYMENT_RESOURCE = "prefect_deployment"
TF_TEMPLATE_PLACES = {"pull_steps": "pull", "job_variables": "job_variables", "parameters": "parameters",
                      "base_job_template": "work_pool"}

# `prefect config set NAME=VALUE ...` writes settings into the active profile (2.x/3.x).
CONFIG_SET_COMMAND = ("prefect", "config", "set")
