"""Deployment files: what reaches a flow run, read from the files that start agents and set env.

`read_deployment_file` is the one entry point: it decodes a file, hands it to the reader of its
kind (`classify`) and returns its `DeployFacts` (see `types` for what they hold), recording
problems instead of raising on bad input. The parsers are the formats' own: PyYAML's composer (node
marks give the lines), `json`, `ast.literal_eval` and `tomllib`, `shlex` for supervisord's
`environment=`, python-hcl2's Lark grammar for Terraform, and a small POSIX word lexer for shell
text (`lexer`) that keeps the source offset of every character, which `shlex` cannot. Line-oriented
fallbacks are used only where a file does not parse (Helm templates), and say so in `problems`; a
file Prefect itself could not read (a prefect.yaml, a `.tf`) is in `errors`, which CL000 reports.
"""
from __future__ import annotations

from typing import Optional

from credlint.facts.deploy.batch import read_batch
from credlint.facts.deploy.classify import HEAD_BYTES, KINDS, classify, guess_kind
from credlint.facts.deploy.core import Reader
from credlint.facts.deploy.dockerfile import read_dockerfile
from credlint.facts.deploy.dotenv import read_dotenv
from credlint.facts.deploy.makefile import read_makefile
from credlint.facts.deploy.prefect_config import read_prefect_config
from credlint.facts.deploy.prefect_settings import read_prefect_settings
from credlint.facts.deploy.shell import read_shell
from credlint.facts.deploy.supervisord import read_supervisord
from credlint.facts.deploy.terraform import read_terraform
from credlint.facts.deploy.types import DeployFacts
from credlint.facts.suppressions import scan_text_suppressions

MAX_BYTES = 8 * 1024 * 1024


def read_deployment_file(relpath: str, data: bytes, kind: Optional[str] = None) -> DeployFacts:
    """Facts of one deployment file. Never raises on bad input: problems are recorded instead."""
    relpath = relpath.replace("\\", "/")
    kind = kind or classify(relpath, data[:HEAD_BYTES]) or guess_kind(relpath, data[:HEAD_BYTES])
    reader = Reader(relpath, kind)
    facts = reader.facts
    if kind not in KINDS:
        facts.problems.append(f"line 1: unknown deployment file kind {kind!r}")
        return facts
    if len(data) > MAX_BYTES:
        facts.problems.append(f"line 1: skipped, larger than {MAX_BYTES // (1024 * 1024)} MiB")
        return facts
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("utf-8", "replace")
        facts.problems.append("line 1: not valid UTF-8, read with replacement characters")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    facts.suppressions = scan_text_suppressions(text)
    try:
        if kind in ("compose", "ci-yaml", "k8s", "yaml"):
            # PyYAML comes with the YAML readers: a run that reads no YAML never imports it
            from credlint.facts.deploy.yaml_file import read_yaml

            read_yaml(reader, text, kind)
        elif kind == "shell":
            read_shell(reader, text)
        elif kind == "makefile":
            read_makefile(reader, text)
        elif kind == "dockerfile":
            read_dockerfile(reader, text)
        elif kind == "dotenv":
            read_dotenv(reader, text)
        elif kind == "supervisord":
            read_supervisord(reader, text)
        elif kind == "prefect-config":
            read_prefect_config(reader, text)
        elif kind == "batch":
            read_batch(reader, text)
        elif kind == "prefect-yaml":
            from credlint.facts.deploy.prefect_yaml import read_prefect_yaml  # imports PyYAML

            read_prefect_yaml(reader, text)
        elif kind == "terraform":
            read_terraform(reader, text)  # imports python-hcl2 itself, when a Terraform file is read
        elif kind == "prefect-settings":
            read_prefect_settings(reader, text)
    except RecursionError:
        facts.problems.append("line 1: nested too deeply, read partly")
    except Exception as exc:  # noqa: BLE001 - never let one file stop the run
        facts.problems.append(f"line 1: could not be read completely ({type(exc).__name__})")
    return reader.finish()
