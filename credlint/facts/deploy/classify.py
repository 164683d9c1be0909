"""Which kind of deployment file a path is, from its name and at most its first 64 KiB."""
from __future__ import annotations

import re
from typing import List, Optional

from credlint.prefect.deployments import PREFECT_TOML, PREFECT_YAML_NAMES, PROFILES_TABLE, PROFILES_TOML

# The kinds `read_deployment_file` reads.
KINDS = ("shell", "makefile", "ci-yaml", "k8s", "compose", "dockerfile", "dotenv", "prefect-config",
         "supervisord", "yaml", "batch", "prefect-yaml", "terraform", "prefect-settings")
# How much of a file `classify` looks at: callers pass at most this.
HEAD_BYTES = 64 * 1024


_COMPOSE_NAME = re.compile(r"^(docker-)?compose([.\-_][^/]*)?\.ya?ml$")
_CI_NAMES = {".gitlab-ci.yml", ".gitlab-ci.yaml", "bitbucket-pipelines.yml", "azure-pipelines.yml",
             "azure-pipelines.yaml", ".drone.yml", ".travis.yml", "cloudbuild.yaml", "cloudbuild.yml",
             "buildspec.yml", "buildspec.yaml"}
PYPROJECT = "pyproject.toml"
_NOT_PREFECT_TOML = {"pyproject.toml", "credlint.toml", ".credlint.toml", "cargo.toml", "poetry.lock"}
_AGENT_BYTES = re.compile(rb"prefect[\"'\s,]+agent\b")
_PREFECT_BACKEND = re.compile(rb"(?m)^[ \t]*backend[ \t]*=[ \t]*[\"'](?:server|cloud)[\"']")
# Top-level keys of a prefect.yaml (Prefect 2.x/3.x), and what tells its steps and deployments apart
# from other YAML with such keys (a Helm chart's `deployments:`, a GitLab job called `build:`).
_TOP_KEYS = re.compile(rb"(?m)^(deployments|build|push|pull)[ \t]*:")
_STEP_PATH = re.compile(rb"\.(deployments|projects)\.steps\.")  # prefect.deployments.steps.git_clone, ...
_PREFECT_SECTIONS = ("[server]", "[server.", "[context]", "[context.", "[flows]", "[engine]", "[engine.", "[tasks]",
                     "[tasks.", "[logging]")


def _toml_headers(head: bytes) -> List[str]:
    out = []
    for raw in head.decode("latin-1").splitlines():
        stripped = raw.strip()
        if stripped.startswith("["):
            out.append(re.sub(r"[\s\"']", "", stripped.split("#", 1)[0]).lower())
    return out


def classify(relpath: str, head: bytes) -> Optional[str]:
    """The kind of deployment file, or None when it cannot matter. Name first, then at most the
    first 64 KiB (for *.yml, *.toml, *.conf/*.ini and scripts without an extension)."""
    rel = relpath.replace("\\", "/")
    name = rel.rsplit("/", 1)[-1]
    low = name.lower()
    rlow = "/" + rel.lower()
    head = head[:HEAD_BYTES]
    if b"\x00" in head[:8192]:
        return None
    if low in ("dockerfile", "containerfile") or low.startswith(("dockerfile.", "containerfile.")) \
            or low.endswith(".dockerfile"):
        return "dockerfile"
    if low.endswith((".yml", ".yaml")):
        if _COMPOSE_NAME.match(low):
            return "compose"
        if "/.github/workflows/" in rlow or low in _CI_NAMES or "/.circleci/" in rlow or "/.gitlab/ci/" in rlow:
            return "ci-yaml"
        if _prefect_yaml(low, head):
            return "prefect-yaml"
        if b"apiVersion" in head and b"kind" in head:
            return "k8s"
        if _AGENT_BYTES.search(head):
            return "yaml"
        return None
    if low == ".env" or low.startswith(".env.") or (low.endswith(".env") and len(low) > 4):
        return "dotenv"
    if low == ".envrc" or low.endswith((".sh", ".bash", ".zsh", ".ksh")):
        return "shell"
    if low in ("makefile", "gnumakefile") or low.endswith(".mk"):
        return "makefile"
    if low.endswith((".conf", ".ini")):
        if b"[program:" in head or b"[fcgi-program:" in head or \
                (low.startswith("supervisord") and b"[supervisord]" in head):
            return "supervisord"
        return None
    if low.endswith((".tf", ".tfvars")):
        return "terraform"
    if low.endswith(".toml"):
        if low == PYPROJECT and b"[tool.prefect" in head:
            return "prefect-settings"  # [tool.prefect.api] key = ... (Prefect 3.x settings)
        if low == PROFILES_TOML and b"[" + PROFILES_TABLE.encode() in head and b"PREFECT_" in head:
            return "prefect-settings"
        if low in _NOT_PREFECT_TOML:
            return None
        headers = _toml_headers(head)
        if any(h.startswith(("[context.secret", "[cloud.agent")) for h in headers):
            return "prefect-config"
        if "[context]" in headers and b"secrets" in head:
            return "prefect-config"
        if low == "config.toml" and any(h == "[secrets]" or h.startswith("[cloud") for h in headers):
            return "prefect-config"
        if low == "config.toml" and ("/.prefect/" in rlow or _PREFECT_BACKEND.search(head) or
                                     any(h.startswith(_PREFECT_SECTIONS) for h in headers)):
            return "prefect-config"  # a user config (~/.prefect/config.toml), mounted or copied there
        if low == PREFECT_TOML:
            return "prefect-settings"
        return None
    if low.endswith((".bat", ".cmd")):
        return "batch"
    if "." not in low and head.startswith(b"#!"):
        first = head.split(b"\n", 1)[0]
        if re.search(rb"\b(ba|da|z|k)?sh\b", first):
            return "shell"
    return None


def _prefect_yaml(low: str, head: bytes) -> bool:
    """prefect.yaml, or a file of its shape that `prefect deploy --prefect-file` reads."""
    if low in PREFECT_YAML_NAMES or low.endswith(tuple("." + name for name in PREFECT_YAML_NAMES)):
        return True
    keys = set(_TOP_KEYS.findall(head))
    if b"deployments" in keys and (b"entrypoint:" in head or b"work_pool:" in head):
        return True
    return bool(keys & {b"build", b"push", b"pull"}) and bool(_STEP_PATH.search(head))


def guess_kind(relpath: str, head: bytes) -> str:
    """A kind for a file named explicitly (config `sources`) that `classify` does not know."""
    low = relpath.lower()
    if low.endswith((".tf", ".tfvars")):
        return "terraform"
    if low.endswith((".yml", ".yaml")):
        return "k8s" if b"apiVersion" in head and b"kind" in head else "yaml"
    if low.endswith(".toml"):
        return "prefect-config"
    if b"[program:" in head:
        return "supervisord"
    if re.search(rb"(?m)^\s*FROM\s+\S", head) and re.search(rb"(?m)^\s*(CMD|ENTRYPOINT|ENV)\s", head):
        return "dockerfile"
    return "shell"
