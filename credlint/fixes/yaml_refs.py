"""CL203 in YAML files whose tool has its own way to name a secret: the literal becomes that
reference, and only the literal's bytes change.

- GitHub Actions: `env: {X: literal}` -> `${{ secrets.X }}` (the repository's or organisation's
  secret of that name; GitHub refuses names starting with GITHUB_, so those get no fix).
- Kubernetes: a container's `env: [{name: X, value: literal}]` -> `valueFrom: {secretKeyRef: ...}`
  naming a Secret derived from X (`api-token`, key `API_TOKEN`), which the cluster must hold.
- prefect.yaml: a literal input of a pull step -> `{{ prefect.blocks.secret.<name> }}`, a Secret
  block named after the step and the key (`git_clone`'s `access_token`: `git-access-token`), which
  the worker resolves at each run. A literal anywhere else in a deployment (job variables,
  parameters) gets none: every template there is resolved by `prefect deploy` and stored with
  the deployment (CL303), so no reference written in the file keeps the value out of it.

Each edit is read back: the fixed file must hold the reference where the literal was.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Optional

import yaml

from credlint.findings.report import Finding
from credlint.fixes import Edit, Source
from credlint.fixes.yaml_place import Place, locate, quoted_like, single_line_scalar, value_at, value_of
from credlint.prefect.deployments import BLOCK_PREFIX, RUN_TIME_SECTIONS, step_function
from credlint.prefect.symbols2 import SECRET_BLOCK

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_K8S_KEY = re.compile(r"[-._a-zA-Z0-9]+\Z")
# Words of a step function's name that say what it does, not what it reaches.
_STEP_VERBS = {"pull", "push", "from", "to", "clone", "run"}


def yaml_reference(kind: str, finding: Finding, source: Source) -> Optional[Edit]:
    if finding.line != finding.end_line:
        return None
    place = locate(source.text, finding.line, finding.column)
    if place is None:
        return None
    if kind == "ci-yaml":
        return _github_secret(place, source)
    if kind == "k8s":
        return _kubernetes_secret(place, source)
    if kind == "prefect-yaml":
        return _secret_block(place, source)
    return None


def _replace_scalar(source: Source, place: Place, node: yaml.Node, text: str, expected) -> Optional[Edit]:
    """An edit writing `text` over the scalar `node`, if the fixed file then holds `expected` at
    the place's path."""
    start, end = node.start_mark.index, node.end_mark.index
    fixed = source.text[:start] + text + source.text[end:]
    if value_at(fixed, place.document, place.path) != expected:
        return None
    return Edit(start, end, text, shown=True)


# ----- GitHub Actions -------------------------------------------------------------------------------
def _github_secret(place: Place, source: Source) -> Optional[Edit]:
    if "/.github/workflows/" not in "/" + source.path.lower():
        return None  # GitLab, CircleCI, ...: their variables are set in the project, under the same name
    name = place.node.value
    if place.role != "key" or len(place.path) < 2 or place.path[-2] != "env" or not _ENV_NAME.match(name) \
            or name.upper().startswith("GITHUB_"):
        return None
    found = value_of(place.parents[-1], name)
    if found is None or not single_line_scalar(found[1]):
        return None
    reference = "${{ secrets.%s }}" % name
    return _replace_scalar(source, place, found[1], quoted_like(found[1], reference, place.parents[-1].flow_style),
                           reference)


# ----- Kubernetes ----------------------------------------------------------------------------------
def _kubernetes_secret(place: Place, source: Source) -> Optional[Edit]:
    """`- name: X` / `value: literal` of a container's env -> `valueFrom: {secretKeyRef: ...}`."""
    name = place.node.value
    path = place.path
    if place.role != "value" or len(path) < 3 or path[-1] != "name" or path[-3] != "env" \
            or not isinstance(path[-2], int) or not _K8S_KEY.match(name):
        return None
    entry = place.parents[-1]
    found = value_of(entry, "value")
    secret = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if entry.flow_style or found is None or value_of(entry, "valueFrom") is not None or not secret \
            or not single_line_scalar(found[1]) or found[0].start_mark.line != found[1].start_mark.line:
        return None
    key, value = found
    text = f"valueFrom: {{secretKeyRef: {{name: {secret}, key: {name}}}}}"
    start, end = key.start_mark.index, value.end_mark.index
    fixed = source.text[:start] + text + source.text[end:]
    if not _holds_reference(fixed, place, name, secret):
        return None
    return Edit(start, end, text, names=(name,), shown=True)


def _holds_reference(fixed: str, place: Place, name: str, secret: str) -> bool:
    """The fixed env entry names the Secret and has no `value` left."""
    entry = value_at(fixed, place.document, place.path[:-1])
    return isinstance(entry, dict) and "value" not in entry and entry.get("name") == name and \
        entry.get("valueFrom") == {"secretKeyRef": {"name": secret, "key": name}}


# ----- prefect.yaml --------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _secret_slug() -> Optional[str]:
    from credlint.prefect.blocks import load_block_catalogue

    catalogue = load_block_catalogue()
    return next((catalogue.slug_of(path) for path in sorted(SECRET_BLOCK) if catalogue.slug_of(path)), None)


def _step_inputs(path) -> Optional[tuple]:
    """(step function, key path inside its inputs) of a pull step's input, or None."""
    if len(path) >= 4 and path[0] in RUN_TIME_SECTIONS and isinstance(path[1], int):
        return step_function(str(path[2])), path[3:]
    if len(path) >= 6 and path[0] == "deployments" and isinstance(path[1], int) and path[2] in RUN_TIME_SECTIONS \
            and isinstance(path[3], int):
        return step_function(str(path[4])), path[5:]
    return None


def block_name(function: str, key: str) -> str:
    """A Secret block's name for a step's input: what the step reaches, then the key, as Prefect
    names block documents (lowercase letters, digits and dashes): `git_clone` + `access_token` ->
    `git-access-token`, `pull_from_s3` + `aws_secret_access_key` -> `s3-aws-secret-access-key`."""
    words = [("git" if w == "agit" else w) for w in function.lower().split("_") if w and w not in _STEP_VERBS]
    service = "-".join(words)
    leaf = re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")
    if not service or leaf.startswith(service):
        return leaf
    return f"{service}-{leaf}" if leaf else service


def _secret_block(place: Place, source: Source) -> Optional[Edit]:
    step = _step_inputs(place.path)
    if place.role != "key" or step is None or not isinstance(step[1][-1], str):
        return None
    found = value_of(place.parents[-1], place.node.value)
    slug = _secret_slug()
    if found is None or not single_line_scalar(found[1]) or "{{" in found[1].value or slug is None:
        return None
    name = block_name(step[0], step[1][-1])
    if not name:
        return None
    reference = "{{ %s%s.%s }}" % (BLOCK_PREFIX, slug, name)
    return _replace_scalar(source, place, found[1], quoted_like(found[1], reference, True), reference)
