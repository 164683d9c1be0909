"""CL101/CL102 fire for every catalogued integration: one representative consumer per
(integration, default secret name), used in a flow the way that kind of object is used."""
from __future__ import annotations

import pytest

from conftest import check_json
from credlint.catalogue import builtin_catalogue
from credlint.runner import Options, check


def _representatives():
    chosen = {}
    for entry in builtin_catalogue():
        for spec in entry.secrets:
            if not spec.name or spec.mechanism not in ("context", "secret_get"):
                continue
            key = (entry.integration, spec.name)
            if key not in chosen:
                chosen[key] = (entry, spec)
    return [chosen[k] for k in sorted(chosen)]


REPRESENTATIVES = _representatives()


def _usage(entry) -> str:
    module, name = entry.symbol.rsplit(".", 1)
    head = f"from prefect import Flow, task\nfrom {module} import {name}\n\n"
    if entry.kind == "storage":
        return head + f'with Flow("f", storage={name}()) as flow:\n    pass\n'
    if entry.kind == "result":
        return head + f'with Flow("f", result={name}()) as flow:\n    pass\n'
    if entry.kind == "notifier":
        return head + f'with Flow("f", state_handlers=[{name}]) as flow:\n    pass\n'
    if name[:1].islower() and entry.kind == "utility":
        return head + f"@task\ndef work():\n    return {name}()\n\nwith Flow(\"f\") as flow:\n    work()\n"
    if name[:1].islower():
        return head + f'with Flow("f") as flow:\n    {name}()\n'
    return head + f'with Flow("f") as flow:\n    {name}()()\n'


def test_every_integration_with_a_default_secret_is_represented():
    integrations = {e.integration for e in builtin_catalogue() if any(s.name for s in e.secrets)}
    assert integrations == {entry.integration for entry, _ in REPRESENTATIVES}
    assert len(REPRESENTATIVES) >= 15


@pytest.mark.parametrize("entry, spec", REPRESENTATIVES,
                         ids=[f"{e.integration}-{s.name}" for e, s in REPRESENTATIVES])
def test_representative_consumer_is_reported(project, monkeypatch, entry, spec):
    project({"flow.py": _usage(entry)}, config='backend = "server"\n')
    monkeypatch.chdir(project.root)
    report = check(Options(paths=["."])).report
    expected_code = "CL102" if spec.mechanism == "context" else "CL101"
    found = {(f.code, f.secret, f.symbol) for f in report.findings}
    assert (expected_code, spec.name, entry.symbol) in found, (
        f"{entry.symbol} used as a {entry.kind} should report {expected_code} for {spec.name}; got {sorted(found)}")


def test_catalog_command_json_lists_every_entry(project):
    from conftest import run_cli
    import json

    code, out, _ = run_cli("catalog", "--format", "json", cwd=project.root)
    assert code == 0
    data = json.loads(out)
    assert len(data) == len(builtin_catalogue())
    keys = {"symbol", "aliases", "kind", "integration", "secrets", "credential_params", "env_vars", "notes"}
    assert all(set(item) == keys for item in data)
    s3 = next(item for item in data if item["symbol"] == "prefect.tasks.aws.s3.S3Download")
    assert s3["secrets"][0]["name"] == "AWS_CREDENTIALS" and s3["secrets"][0]["mechanism"] == "context"
    assert set(s3["secrets"][0]) == {"name", "mechanism", "name_param", "required", "shape"}
    assert {p["param"] for p in s3["credential_params"]} >= {"credentials", "boto_kwargs"}


@pytest.mark.parametrize("symbol", ["prefect.tasks.aws.S3Download", "prefect.tasks.aws.s3.S3Download"])
def test_catalog_command_shows_one_entry_by_any_import_path(project, symbol):
    import json

    from conftest import run_cli

    code, out, _ = run_cli("catalog", symbol, "--format", "json", cwd=project.root)
    assert code == 0
    assert json.loads(out)["symbol"] == "prefect.tasks.aws.s3.S3Download"
    code, out, _ = run_cli("catalog", symbol, cwd=project.root)
    assert code == 0 and "AWS_CREDENTIALS" in out and "boto_kwargs" in out


def test_catalog_command_unknown_symbol(project):
    from conftest import run_cli

    code, _, err = run_cli("catalog", "prefect.tasks.aws.S3Downlaod", cwd=project.root)
    assert code == 2 and "not in the catalogue" in err
