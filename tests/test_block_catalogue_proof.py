"""Prove rules/blocks/*.toml against the real Prefect 3.9.1 with its integrations, and Prefect 2.20.27.

Session fixtures build (once, cached, under a file lock: tests/prefect3_venv.py) the venvs and run
tests/prefect_probe/blocks_probe.py once in each. The probe imports every module of prefect's
block packages and of the twelve integrations (client libraries that are not installed are faked),
lists every Block class with its real slug, secret fields, fields and bases, and constructs each
catalogued block from its `empty_args` alone. The checks here compare, entry by entry:

* every import path (symbol and aliases) resolves to the class, and every re-export from a public
  package's __init__ is listed; the class exists in each version the entry claims, and the file's
  [package] release is the one installed;
* the slug is the class's `get_block_type_slug()`; `secret_fields` are Prefect's own (minus those of
  nested blocks); `fields` (+ `version_fields`) are exactly the model's fields, and `keywords` the
  aliases pydantic accepts for them; `kind` agrees with Prefect's abstract bases;
* each carrier keyword accepts exactly the listed slugs, is required or not as listed, and builds
  the listed default block when omitted; every field that accepts a credentials-holding block is a
  carrier;
* `empty = "invalid"`: construction raises, and pydantic blames nothing but auth fields, carriers or
  the model's own validator; `empty = "ambient"`: it constructs, no auth field holds a value, every
  carrier's default is an empty block of the listed slug, and, where the test can drive it (USES and
  construction-time chains), the named credential chain is what runs (boto3.Session with no keys,
  google.auth.default, DefaultAzureCredential, the in-cluster/kubeconfig loaders);
* coverage: every concrete Block class of these packages is catalogued or on NOT_APPLICABLE, and
  every one that holds a secret field is catalogued.

The `[[step]]` entries (prefect.yaml step functions) are proven the same way by
tests/prefect_probe/steps_probe.py: every import path resolves to the function, `inputs` are its
parameters, `credentials` are among them and `required` says whether they have no default; a step
whose chain can be driven is run with `empty_inputs` alone and must reach its chain (and, given
the first two auth fields of the block it accepts in a mapping, must not); and every public
function of the steps modules that takes `credentials` or `access_token` is catalogued.

test_checker_bites proves the checks catch deliberately corrupted copies of real entries.
Building the venvs needs PyPI (or the mirror); without it the tests fail, they are never skipped.
"""
from __future__ import annotations

import copy
import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from credlint.prefect.blocks import default_blocks_dir, load_block_catalogue
from credlint.tomlcompat import toml
from prefect3_venv import prefect2_python, prefect3_integrations, prefect3_python

PROBE = Path(__file__).parent / "prefect_probe" / "blocks_probe.py"
PROBE_TIMEOUT = 300
PACKAGES3 = ["prefect", "prefect_aws", "prefect_gcp", "prefect_azure", "prefect_slack", "prefect_snowflake",
             "prefect_sqlalchemy", "prefect_github", "prefect_dbt", "prefect_kubernetes", "prefect_docker",
             "prefect_email", "prefect_databricks"]

# How to make an ambient block reach its credential chain: (attribute holding the credentials
# block, "" for the block itself; method; arguments). Chains that run at construction
# (google-auth) need none; the ambient entries neither here nor constructing their chain are
# proven by construction only (NOT_DRIVEN says why).
USES: Dict[str, list] = {
    "prefect_aws.credentials.AwsCredentials": ["", "get_boto3_session", []],
    "prefect_aws.s3.S3Bucket": ["credentials", "get_boto3_session", []],
    "prefect_aws.lambda_function.LambdaFunction": ["aws_credentials", "get_boto3_session", []],
    "prefect_aws.glue_job.GlueJobBlock": ["aws_credentials", "get_boto3_session", []],
    "prefect_azure.credentials.AzureBlobStorageCredentials": ["", "get_client", []],
    "prefect_azure.credentials.AzureContainerInstanceCredentials": ["", "get_container_client", ["probe-subscription"]],
    "prefect_azure.repository.AzureDevopsRepository": ["", "_create_repo_url", []],
    "prefect_github.credentials.GitHubCredentials": ["", "get_client", []],
    "prefect_github.repository.GitHubRepository": ["", "_create_repo_url", []],
    "prefect_kubernetes.credentials.KubernetesCredentials": ["", "get_client", ["core"]],
    "prefect_kubernetes.jobs.KubernetesJob": ["credentials", "get_client", ["batch"]],
}
NOT_DRIVEN: Dict[str, str] = {
    "prefect_azure.credentials.AzureDevopsCredentials": "holds a token for AzureDevopsRepository; nothing of its own to call",
    "prefect_email.credentials.EmailServerCredentials": "get_server() opens an SMTP connection",
    "prefect.blocks.notifications.CustomWebhookNotificationBlock": "notify() sends an HTTP request",
    "prefect.blocks.redis.RedisStorageContainer": "every method opens a Redis connection",
    "prefect.filesystems.SMB": "every method opens an SMB connection",
    "prefect.filesystems.RemoteFileSystem": "the chain is the fsspec backend's (s3fs, gcsfs: not installed)",
}
# Concrete Block classes of these packages that are deliberately not catalogued.
NOT_APPLICABLE: Dict[str, str] = {
    "prefect.blocks.notifications.AbstractAppriseNotificationBlock": "base class without fields of its own",
    "prefect_dbt.cli.configs.base.BaseTargetConfigs": "base class of the dbt target configs",
    "prefect_dbt.cli.configs.base.DbtConfigs": "base class of the dbt configs",
    "prefect.infrastructure.container.BaseDockerLogin": "2.x base class of DockerRegistry",
    "prefect.infrastructure.base.Infrastructure": "2.x base class of the infrastructure blocks",
}
# Modules that fail to import in the probe for reasons of their own, and define no block.
IMPORT_ERRORS: Dict[str, str] = {
    "prefect_aws._cli.": "the ECS worker CLI needs another typer than prefect's",
}
# Prefect's abstract bases -> the catalogue's kind.
KIND_OF_BASE = {
    "prefect.blocks.abstract.CredentialsBlock": "credentials", "prefect.blocks.abstract.NotificationBlock": "notification",
    "prefect.blocks.abstract.ObjectStorageBlock": "storage", "prefect.filesystems.WritableFileSystem": "storage",
    "prefect.filesystems.ReadableDeploymentStorage": "repository", "prefect.blocks.abstract.DatabaseBlock": "database",
    "prefect.blocks.abstract.JobBlock": "job", "prefect.blocks.abstract.SecretBlock": "secret",
    "prefect.infrastructure.base.Infrastructure": "infrastructure",
}
AWS_KEYS = {"aws_access_key_id", "aws_secret_access_key", "aws_session_token", "profile_name"}

# ----------------------------------------------------------------------------------------- the data


def catalogue_as_json() -> List[dict]:
    """Every entry as credlint loads it, with the file's raw keys the loader folds away."""
    cat = load_block_catalogue()
    raw = {}
    for path in sorted(default_blocks_dir().glob("*.toml")):
        doc = toml.loads(path.read_text(encoding="utf-8"))
        for block in doc.get("block", ()):
            raw[block["symbol"]] = dict(block, package=doc["package"])
    out = []
    for entry in cat:
        data = entry.to_json()
        r = raw[entry.symbol]
        data.update(fields=list(r["fields"]), version_fields=r.get("version_fields", {}), keywords=r.get("keywords", {}),
                    empty_args=r.get("empty_args", {}), package_table=r["package"],
                    carriers=[dict(c, required=c.get("required", False), default=c.get("default", ""))
                              for c in r.get("carriers", ())])
        out.append(data)
    return out


CATALOGUE: List[dict] = catalogue_as_json()
BY_SYMBOL: Dict[str, dict] = {e["symbol"]: e for e in CATALOGUE}
SLUG_HOLDS_CREDENTIALS = {e["slug"] for e in CATALOGUE
                          if e["credential_fields"] or e["auth_fields"] or e["credential_mappings"] or e["carriers"]}


def entries_for(version: str) -> List[dict]:
    return [e for e in CATALOGUE if version in e["versions"]]


def probe_request(entries: List[dict], packages: List[str]) -> dict:
    return {"packages": packages,
            "entries": {e["symbol"]: {"paths": [e["symbol"], *e["aliases"]], "empty_args": e["empty_args"],
                                      "use": USES.get(e["symbol"])} for e in entries}}


def run_probe(python: Path, request: dict, pythonpath: Optional[Path] = None, probe: Path = PROBE) -> dict:
    with tempfile.TemporaryDirectory(prefix="credlint-blocks-probe-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        keep = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR", "TEMP", "TMP")
        env = {k: v for k, v in os.environ.items() if k in keep}
        # No credentials and no Prefect profile of this machine: a chain that finds none is what we watch.
        env.update(HOME=home.as_posix(), USERPROFILE=home.as_posix(), PREFECT_HOME=(home / ".prefect").as_posix(),
                   PYTHONDONTWRITEBYTECODE="1", PYTHONWARNINGS="ignore", AWS_EC2_METADATA_DISABLED="true")
        if pythonpath is not None:
            env["PYTHONPATH"] = str(pythonpath)
        try:
            proc = subprocess.run([str(python), str(probe)], input=json.dumps(request), capture_output=True, text=True,
                                  timeout=PROBE_TIMEOUT, cwd=tmp, env=env)
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"the blocks probe timed out after {PROBE_TIMEOUT}s; stderr tail:\n{(exc.stderr or '')[-3000:]}",
                        pytrace=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        pytest.fail(f"the blocks probe failed (exit {proc.returncode}); stderr tail:\n{proc.stderr[-4000:]}", pytrace=False)
    return json.loads(proc.stdout)


@pytest.fixture(scope="session")
def probe3() -> dict:
    return run_probe(prefect3_python(), probe_request(entries_for("3"), PACKAGES3), prefect3_integrations())


@pytest.fixture(scope="session")
def probe2() -> dict:
    return run_probe(prefect2_python(), probe_request(entries_for("2"), ["prefect"]))


# ----------------------------------------------------------------------------------------- the checks


def _slug(answer: dict, qualname: Optional[str]) -> str:
    if not qualname:
        return ""
    info = answer["blocks"].get(qualname)
    return info["slug"] if info and "slug" in info else f"<{qualname}>"


def _block_fields(info: dict) -> set:
    return {name for name, f in info["fields"].items() if f["blocks"]}


def check_entry(entry: dict, version: str, answer: dict) -> List[str]:
    """What the real classes of `version` contradict in `entry` (empty: nothing)."""
    info = answer["blocks"].get(entry["symbol"])
    if info is None:
        return [f"{entry['symbol']} is not a Block class of prefect {version} and its integrations"]
    if "error" in info:
        return [f"the probe could not read the class: {info['error']}"]
    problems = check_paths(entry, info, answer["entries"].get(entry["symbol"], {}))
    problems += check_schema(entry, version, info, answer)
    problems += check_carriers(entry, info, answer)
    problems += check_empty(entry, answer["entries"].get(entry["symbol"], {}), version)
    return problems


def check_paths(entry: dict, info: dict, probed: dict) -> List[str]:
    problems = [f"import path {path} does not resolve to the class: {outcome}"
                for path, outcome in probed.get("paths", {}).items() if outcome != "ok"]
    listed = {entry["symbol"], *entry["aliases"]}
    problems += [f"aliases: {path} (a public re-export) is not listed" for path in info["exported"] if path not in listed]
    if info["abstract"]:
        problems.append("the class is abstract")
    return problems


def check_schema(entry: dict, version: str, info: dict, answer: dict) -> List[str]:
    problems = []
    if entry["slug"] != info["slug"]:
        problems.append(f"slug: the catalogue says {entry['slug']!r}, get_block_type_slug() is {info['slug']!r}")
    nested = _block_fields(info)
    own = [s for s in info["secret_fields"] if s.split(".", 1)[0] not in nested]
    if sorted(entry["secret_fields"]) != sorted(own):
        problems.append(f"secret_fields: the catalogue says {sorted(entry['secret_fields'])}, Prefect's are {sorted(own)}")
    expected = set(entry["fields"]) | set(entry["version_fields"].get(version, ()))
    real = set(info["fields"])
    if expected != real:
        problems.append(f"fields in {version}: missing {sorted(real - expected)}, not fields {sorted(expected - real)}")
    for name, field in info["fields"].items():
        listed = sorted(entry["keywords"].get(name, [name]))
        if listed != sorted(field["keywords"]):
            problems.append(f"keywords of {name}: the catalogue says {listed}, pydantic takes {sorted(field['keywords'])}")
    kinds = {KIND_OF_BASE[b] for b in info["bases"] if b in KIND_OF_BASE}
    if kinds and entry["kind"] not in kinds:
        problems.append(f"kind: the catalogue says {entry['kind']!r}, the class's bases make it {' or '.join(sorted(kinds))}")
    return problems


def check_carriers(entry: dict, info: dict, answer: dict) -> List[str]:
    problems = []
    listed = {c["keyword"]: c for c in entry["carriers"]}
    for keyword, carrier in listed.items():
        field = info["fields"].get(keyword)
        if field is None:
            problems.append(f"carrier {keyword}: not a field")
            continue
        accepts = sorted(_slug(answer, q) for q in field["blocks"])
        if sorted(carrier["accepts"]) != accepts:
            problems.append(f"carrier {keyword}: the catalogue says it accepts {sorted(carrier['accepts'])}, the field takes {accepts}")
        if carrier["required"] != field["required"]:
            problems.append(f"carrier {keyword}: required is {field['required']}, the catalogue says {carrier['required']}")
        default = _slug(answer, field["default_block"])
        if carrier["default"] != default:
            problems.append(f"carrier {keyword}: omitted, it builds {default or 'nothing'!r}, the catalogue says {carrier['default'] or 'nothing'!r}")
    for name, field in info["fields"].items():
        if name in listed:
            continue
        holding = sorted({_slug(answer, q) for q in field["blocks"]} & SLUG_HOLDS_CREDENTIALS)
        if holding:
            problems.append(f"carriers: field {name} takes {', '.join(holding)} (credentials) and is not listed")
    return problems


def check_empty(entry: dict, probed: dict, version: str) -> List[str]:
    empty = probed.get("empty")
    if empty is None or entry["empty"] == "none":
        return []
    if entry["empty"] == "invalid":
        if empty["ok"]:
            return [f"empty = 'invalid', but {entry['symbol'].rsplit('.', 1)[1]}(**{entry['empty_args']}) constructs"]
        allowed = set(entry["auth_fields"]) | {c["keyword"] for c in entry["carriers"]} | {""}
        blamed = [loc for loc in empty.get("locs", []) if loc.split(".", 1)[0] not in allowed]
        return [f"empty = 'invalid', but the construction fails over {blamed} (not auth fields): {empty['error']}"] if blamed else []
    if not empty["ok"]:
        return [f"empty = 'ambient', but {entry['symbol'].rsplit('.', 1)[1]}(**{entry['empty_args']}) raises {empty['error']}"]
    problems = [f"empty = 'ambient', but {name} holds a value" for name in entry["auth_fields"] if empty["set"].get(name)]
    for carrier in entry["carriers"]:
        value = empty["set"].get(carrier["keyword"])
        if isinstance(value, dict):
            nested = BY_SYMBOL.get(value["__class__"])
            if nested is None or nested["slug"] != carrier["default"]:
                problems.append(f"carrier {carrier['keyword']}: the default is {value['__class__']}, not the {carrier['default']!r} block")
            elif nested["empty"] != "ambient" or any(value.get(n) for n in nested["auth_fields"]):
                problems.append(f"carrier {carrier['keyword']}: the default {nested['slug']} block is not an empty ambient one")
        elif value:
            problems.append(f"carrier {carrier['keyword']}: holds a value when omitted")
    return problems + (check_chain(entry, empty) if version == "3" else [])


def chain_ran(chain: str, calls: List[list], use: Optional[str]) -> bool:
    names = [name for name, _ in calls]
    if chain == "boto3":
        return any(name == "boto3.Session" and not (set(keys) & AWS_KEYS) for name, keys in calls)
    if chain == "google-auth":
        return "google.auth.default" in names
    if chain == "azure-identity":
        return any(name.endswith(".DefaultAzureCredential") for name in names)
    if chain == "kubeconfig":
        return any(name.endswith(("config.load_incluster_config", "config.load_kube_config")) for name in names)
    if chain == "anonymous":
        return use == "ok"
    return False


def check_chain(entry: dict, empty: dict) -> List[str]:
    if entry["symbol"] not in USES and entry["chain"] != "google-auth":
        return []  # construction only (NOT_DRIVEN)
    if "use" in empty and empty["use"] != "ok" and entry["chain"] != "anonymous":
        return [f"chain {entry['chain']}: driving it failed: {empty['use']}"]
    if not chain_ran(entry["chain"], empty["calls"], empty.get("use")):
        seen = sorted({name for name, _ in empty["calls"]}) or ["nothing"]
        return [f"chain {entry['chain']!r}: not what runs; the empty block called {', '.join(seen)}"
                + (f" (use: {empty['use']})" if empty.get("use") not in (None, "ok") else "")]
    return []


# ----------------------------------------------------------------------------------------- the tests


def test_probe3_ran_cleanly(probe3):
    unexpected = [e for e in probe3["errors"] if not e.startswith(tuple(IMPORT_ERRORS))]
    assert not unexpected, "modules that did not import in the probe:\n  " + "\n  ".join(unexpected)
    print(f"\n[block-proof] prefect 3: {len(probe3['blocks'])} Block classes; faked: {', '.join(probe3['faked_modules'])}")


@pytest.mark.parametrize("version", ["2", "3"])
def test_package_releases_are_the_proven_ones(version, request):
    answer = request.getfixturevalue(f"probe{version}")
    for entry in entries_for(version):
        package = entry["package_table"]
        installed = answer["versions"].get(package["name"])
        assert installed == package["proven"][version], (
            f"[package] of {package['name']} says {package['proven'][version]} for prefect {version}, the probe has {installed}")


@pytest.mark.parametrize("symbol", sorted(e["symbol"] for e in entries_for("3")))
def test_entry_against_prefect3(probe3, symbol):
    problems = check_entry(BY_SYMBOL[symbol], "3", probe3)
    assert not problems, f"{symbol}: contradicted by prefect 3.9.1 and its integrations:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("symbol", sorted(e["symbol"] for e in entries_for("2")))
def test_entry_against_prefect2(probe2, symbol):
    problems = check_entry(BY_SYMBOL[symbol], "2", probe2)
    assert not problems, f"{symbol}: contradicted by prefect 2.20.27:\n  " + "\n  ".join(problems)


def coverage_problems(version: str, answer: dict, by_symbol: Dict[str, dict]) -> List[str]:
    """Block classes of `version` the catalogue leaves out, and entries that claim it wrongly."""
    problems = []
    for qualname, info in sorted(answer["blocks"].items()):
        entry = by_symbol.get(qualname)
        if entry is not None:
            if version not in entry["versions"]:
                problems.append(f"{qualname}: catalogued, but its versions leave out {version}")
        elif info.get("secret_fields") and not info["abstract"]:
            problems.append(f"{qualname} holds secret fields {info['secret_fields']} and is not catalogued")
        elif not info["abstract"] and qualname not in NOT_APPLICABLE:
            problems.append(f"{qualname} (slug {info.get('slug')}) is neither catalogued nor NOT_APPLICABLE")
    problems += [f"{symbol} claims prefect {version} but is not one of its block classes"
                 for symbol, entry in sorted(by_symbol.items()) if version in entry["versions"] and symbol not in answer["blocks"]]
    return problems


@pytest.mark.parametrize("version", ["2", "3"])
def test_every_block_class_is_catalogued(version, request):
    problems = coverage_problems(version, request.getfixturevalue(f"probe{version}"), BY_SYMBOL)
    assert not problems, f"the catalogue against prefect {version}:\n  " + "\n  ".join(problems)


def test_the_coverage_check_bites(probe2, probe3):
    without = {s: e for s, e in BY_SYMBOL.items() if s != "prefect_aws.credentials.AwsCredentials"}
    assert "prefect_aws.credentials.AwsCredentials holds secret fields" in "".join(coverage_problems("3", probe3, without))
    without = {s: e for s, e in BY_SYMBOL.items() if s != "prefect.filesystems.LocalFileSystem"}
    assert "LocalFileSystem (slug local-file-system) is neither" in "".join(coverage_problems("2", probe2, without))
    narrowed = dict(BY_SYMBOL, **{"prefect.blocks.system.Secret": dict(BY_SYMBOL["prefect.blocks.system.Secret"], versions=["2"])})
    assert "Secret: catalogued, but its versions leave out 3" in "".join(coverage_problems("3", probe3, narrowed))
    widened = dict(BY_SYMBOL, **{"prefect.blocks.system.JSON": dict(BY_SYMBOL["prefect.blocks.system.JSON"], versions=["2", "3"])})
    assert "JSON claims prefect 3" in "".join(coverage_problems("3", probe3, widened))


def test_lists_of_exceptions_are_honest(probe2, probe3):
    classes = set(probe2["blocks"]) | set(probe3["blocks"])
    assert not [q for q in NOT_APPLICABLE if q not in classes], "NOT_APPLICABLE names a class that does not exist"
    for symbol, reason in NOT_DRIVEN.items():
        assert BY_SYMBOL[symbol]["empty"] == "ambient" and symbol not in USES and reason.strip(), symbol
    ambient = [e["symbol"] for e in entries_for("3") if e["empty"] == "ambient"]
    undriven = [s for s in ambient if s not in USES and BY_SYMBOL[s]["chain"] != "google-auth" and s not in NOT_DRIVEN]
    assert not undriven, f"ambient 3.x entries whose chain is neither driven nor on NOT_DRIVEN: {undriven}"


# ----------------------------------------------------------------------------------------- the checker bites


def _corrupt(symbol: str, **changes) -> dict:
    entry = copy.deepcopy(BY_SYMBOL[symbol])
    for key, value in changes.items():
        if key.startswith("carrier_"):
            entry["carriers"][0][key[len("carrier_"):]] = value
        else:
            entry[key] = value
    return entry


# (what is wrong, version, corrupted entry, a fragment the report must contain)
CORRUPTIONS = [
    ("the core SlackWebhook given prefect-slack's slug", "3",
     _corrupt("prefect.blocks.notifications.SlackWebhook", slug="slack-incoming-webhook"), "get_block_type_slug() is 'slack-webhook'"),
    ("a secret field that is not one", "3", _corrupt("prefect_aws.credentials.AwsCredentials",
                                                     secret_fields=["aws_secret_access_key", "aws_session_token"]), "secret_fields"),
    ("a secret field forgotten", "3", _corrupt("prefect_snowflake.credentials.SnowflakeCredentials",
                                               secret_fields=["password", "private_key", "token"]), "private_key_passphrase"),
    ("a field that does not exist", "3", _corrupt("prefect_aws.s3.S3Bucket", fields=["bucket_name", "credentials",
                                                                                      "bucket_folder", "aws_credentials"]),
     "not fields ['aws_credentials']"),
    ("a field forgotten", "3", _corrupt("prefect_gcp.cloud_storage.GcsBucket", fields=["bucket", "gcp_credentials"]),
     "missing ['bucket_folder']"),
    ("an alias that does not import", "3", _corrupt("prefect_aws.credentials.AwsCredentials",
                                                    aliases=["prefect_aws.AwsCredentials", "prefect_aws.s3.AwsCreds"]),
     "prefect_aws.s3.AwsCreds does not resolve"),
    ("a public re-export not listed", "3", _corrupt("prefect_aws.credentials.AwsCredentials", aliases=[]),
     "prefect_aws.AwsCredentials (a public re-export) is not listed"),
    ("a carrier that accepts another slug", "3", _corrupt("prefect_aws.s3.S3Bucket", carrier_accepts=["aws-credentials"]),
     "the field takes ['aws-credentials', 'minio-credentials']"),
    ("a required carrier claimed optional", "3", _corrupt("prefect_snowflake.database.SnowflakeConnector", carrier_required=False),
     "required is True"),
    ("a wrong default block", "3", _corrupt("prefect_aws.s3.S3Bucket", carrier_default="minio-credentials"),
     "it builds 'aws-credentials'"),
    ("a carrier forgotten", "3", _corrupt("prefect_aws.s3.S3Bucket", carriers=[]), "field credentials takes"),
    ("ambient claimed for a block that fails loudly", "3",
     _corrupt("prefect_slack.credentials.SlackCredentials", empty="ambient", chain="anonymous"), "raises"),
    ("invalid claimed for an ambient block", "3", _corrupt("prefect_aws.credentials.AwsCredentials", empty="invalid", chain=""),
     "constructs"),
    ("an invalid block blamed on a field that is not an auth field", "3",
     _corrupt("prefect_email.credentials.EmailServerCredentials", empty="invalid", chain=""), "constructs"),
    ("an invalid construction failing for another reason", "3",
     _corrupt("prefect_docker.credentials.DockerRegistryCredentials", empty_args={}), "registry_url"),
    ("the wrong chain", "3", _corrupt("prefect_aws.credentials.AwsCredentials", chain="google-auth"), "chain 'google-auth'"),
    ("a kind the bases contradict", "3", _corrupt("prefect_aws.s3.S3Bucket", kind="credentials"), "kind"),
    ("a keyword alias pydantic does not take", "3", _corrupt("prefect_dbt.cli.configs.base.TargetConfigs",
                                                             keywords={"schema_": ["schema", "schema_"]}), "pydantic takes ['schema']"),
    ("a 2.x field claimed for 3.x", "3", _corrupt("prefect.blocks.webhook.Webhook", version_fields={"3": []}), "missing ['verify']"),
    ("a 2.x-only class claimed for 3.x", "3", _corrupt("prefect.blocks.system.JSON", versions=["2", "3"]), "not a Block class of prefect 3"),
    ("a 2.x secret field wrong", "2", _corrupt("prefect.filesystems.S3", secret_fields=["aws_secret_access_key"]), "aws_access_key_id"),
]


def test_checker_bites(probe2, probe3):
    """Deliberately corrupted copies of real entries must each be reported; the originals must not."""
    answers = {"2": probe2, "3": probe3}
    rerun = {"2": [], "3": []}  # a changed import path or construction needs a probe run of its own
    for _, version, entry, _ in CORRUPTIONS:
        original = BY_SYMBOL[entry["symbol"]]
        if (entry["aliases"], entry["empty_args"]) != (original["aliases"], original["empty_args"]):
            rerun[version].append(entry)
    probed = {"2": {}, "3": {}}
    for version, entries in rerun.items():
        if entries:
            python, extra = (prefect3_python(), prefect3_integrations()) if version == "3" else (prefect2_python(), None)
            request = {"packages": ["prefect"], "entries": {}}
            for number, entry in enumerate(entries):
                request["entries"][str(number)] = dict(probe_request([entry], [])["entries"][entry["symbol"]],
                                                       symbol=entry["symbol"])
            probed[version] = run_probe(python, request, extra)["entries"]
    missed = []
    for what, version, entry, fragment in CORRUPTIONS:
        answer = answers[version]
        if entry in rerun[version]:
            own = probed[version][str(rerun[version].index(entry))]
            answer = dict(answer, entries={**answer["entries"], entry["symbol"]: own})
        problems = check_entry(entry, version, answer)
        if not any(fragment in p for p in problems):
            missed.append(f"{what} ({entry['symbol']}): expected a report containing {fragment!r}, got:\n    "
                          + "\n    ".join(problems or ["nothing"]))
        original = BY_SYMBOL[entry["symbol"]]
        clean = check_entry(original, version, answers[version]) if version in original["versions"] else []
        if clean:
            missed.append(f"the uncorrupted {entry['symbol']} is reported too:\n    " + "\n    ".join(clean))
    assert not missed, "the checker did not bite:\n" + "\n".join(missed)


# ----------------------------------------------------------------------------------------- the steps

STEPS_PROBE = Path(__file__).parent / "prefect_probe" / "steps_probe.py"
# The modules whose credential-taking functions must all be catalogued, per Prefect major.
STEP_MODULES = {"3": ["prefect.deployments.steps.pull", "prefect_aws.deployments.steps", "prefect_gcp.deployments.steps",
                      "prefect_azure.deployments.steps"],
                "2": ["prefect.deployments.steps.pull"]}
STEP_CREDENTIAL_INPUTS = ("credentials", "access_token")
DRIVEN_CHAINS = ("boto3", "google-auth", "azure-identity", "kubeconfig")


def steps_as_json() -> List[dict]:
    cat = load_block_catalogue()
    raw = {}
    for path in sorted(default_blocks_dir().glob("*.toml")):
        doc = toml.loads(path.read_text(encoding="utf-8"))
        for step in doc.get("step", ()):
            raw[step["function"]] = dict(step, package_table=doc["package"])
    out = []
    for step in {s.function: s for s in cat.steps.values()}.values():
        data = step.to_json()
        r = raw[step.function]
        data.update(inputs=list(r["inputs"]), version_inputs=r.get("version_inputs", {}),
                    empty_inputs=r.get("empty_inputs", {}), package_table=r["package_table"])
        out.append(data)
    return sorted(out, key=lambda d: d["function"])


STEPS: List[dict] = steps_as_json()
STEP_BY_FUNCTION: Dict[str, dict] = {s["function"]: s for s in STEPS}


def _authed(step: dict) -> Optional[dict]:
    """The step's inputs with a credentials mapping that sets the first two auth fields of the block
    it accepts (a run that must not reach the chain), or None where that cannot be said."""
    accepted = [e for e in CATALOGUE if step["accepts"] and e["slug"] == step["accepts"][0]]
    if not accepted or not accepted[0]["auth_fields"]:
        return None
    mapping = dict(step["empty_inputs"].get("credentials") or {})
    mapping.update({name: "probe-value" for name in accepted[0]["auth_fields"][:2]})
    return dict(step["empty_inputs"], credentials=mapping)


def steps_request(version: str, steps: List[dict]) -> dict:
    request = {"packages": sorted({s["package_table"]["module"] for s in steps} | {"prefect"}),
               "modules": STEP_MODULES[version], "steps": {}}
    for step in steps:
        paths = [step["function"], *step["aliases"]]
        driven = version == "3" and step["chain"] in DRIVEN_CHAINS
        request["steps"][step["function"]] = {"paths": paths, "drive": step["empty_inputs"] if driven else None}
        if driven and _authed(step) is not None:
            request["steps"][step["function"] + "+authed"] = {"paths": paths, "drive": _authed(step)}
    return request


def steps_for(version: str) -> List[dict]:
    return [s for s in STEPS if version in s["versions"]]


@pytest.fixture(scope="session")
def steps3() -> dict:
    return run_probe(prefect3_python(), steps_request("3", steps_for("3")), prefect3_integrations(), probe=STEPS_PROBE)


@pytest.fixture(scope="session")
def steps2() -> dict:
    return run_probe(prefect2_python(), steps_request("2", steps_for("2")), probe=STEPS_PROBE)


def check_step(step: dict, version: str, answer: dict) -> List[str]:
    """What the real function of `version` contradicts in the `[[step]]` entry `step`."""
    probed = answer["steps"].get(step["function"], {})
    problems = [f"import path {path} does not resolve to the function: {probed.get('paths', {}).get(path, 'not probed')}"
                for path in [step["function"], *step["aliases"]] if probed.get("paths", {}).get(path) != "ok"]
    if "params" not in probed:
        return problems or [f"{step['function']} was not probed"]
    expected = set(step["inputs"]) | set(step["version_inputs"].get(version, ()))
    real = set(probed["params"])
    if expected != real:
        problems.append(f"inputs in {version}: missing {sorted(real - expected)}, not parameters {sorted(expected - real)}")
    for name in step["credentials"]:
        if name not in real:
            problems.append(f"credentials: {name!r} is not a parameter")
    required = all(name in probed["required"] for name in step["credentials"])
    if step["required"] != required:
        problems.append(f"required: the catalogue says {step['required']}, the signature says {required}")
    package = step["package_table"]
    installed = answer["versions"].get(package["name"])
    if installed != package["proven"].get(version):
        problems.append(f"[package] says {package['proven'].get(version)} for prefect {version}, the probe has {installed}")
    drive = probed.get("drive")
    if version == "3" and step["chain"] in DRIVEN_CHAINS:
        if drive is None:
            problems.append("the step was not driven")
        elif not chain_ran(step["chain"], drive["calls"], None):
            seen = sorted({name for name, _ in drive["calls"]}) or ["nothing"]
            problems.append(f"chain {step['chain']!r}: run with {sorted(step['empty_inputs'])} alone it called "
                            f"{', '.join(seen)} ({drive['error']})")
        authed = answer["steps"].get(step["function"] + "+authed", {}).get("drive")
        if authed is not None and chain_ran(step["chain"], authed["calls"], None):
            problems.append(f"chain {step['chain']!r}: it runs even with credentials that set auth fields")
    return problems


@pytest.mark.parametrize("function", sorted(s["function"] for s in steps_for("3")))
def test_step_against_prefect3(steps3, function):
    problems = check_step(STEP_BY_FUNCTION[function], "3", steps3)
    assert not problems, f"{function}: contradicted by prefect 3.9.1 and its integrations:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("function", sorted(s["function"] for s in steps_for("2")))
def test_step_against_prefect2(steps2, function):
    problems = check_step(STEP_BY_FUNCTION[function], "2", steps2)
    assert not problems, f"{function}: contradicted by prefect 2.20.27:\n  " + "\n  ".join(problems)


def step_coverage_problems(version: str, answer: dict, steps: List[dict]) -> List[str]:
    """Credential-taking step functions of `version` the catalogue leaves out."""
    known = {path for s in steps if version in s["versions"] for path in [s["function"], *s["aliases"]]}
    problems = []
    for module, functions in sorted(answer["modules"].items()):
        if "error" in functions:
            problems.append(f"{module} did not import: {functions['error']}")
            continue
        for name, info in sorted(functions.items()):
            takes = [p for p in info["params"] if p in STEP_CREDENTIAL_INPUTS]
            if takes and f"{module}.{name}" not in known:
                problems.append(f"{module}.{name} takes {', '.join(takes)} and is not a catalogued step of prefect {version}")
    return problems


@pytest.mark.parametrize("version", ["2", "3"])
def test_every_credential_step_is_catalogued(version, request):
    problems = step_coverage_problems(version, request.getfixturevalue(f"steps{version}"), STEPS)
    assert not problems, f"the steps against prefect {version}:\n  " + "\n  ".join(problems)


def _corrupt_step(function: str, **changes) -> dict:
    return dict(copy.deepcopy(STEP_BY_FUNCTION[function]), **changes)


STEP_CORRUPTIONS = [
    ("an input that is not a parameter", "3", _corrupt_step("prefect_aws.deployments.steps.pull_from_s3",
                                                          inputs=["bucket", "folder", "credentials", "client_parameters",
                                                                  "aws_credentials"]), "not parameters ['aws_credentials']"),
    ("a parameter forgotten", "3", _corrupt_step("prefect_gcp.deployments.steps.push_to_gcs",
                                                 inputs=["bucket", "folder", "credentials", "ignore_file"]),
     "missing ['project']"),
    ("credentials under another name", "3", _corrupt_step("prefect_aws.deployments.steps.push_to_s3",
                                                          credentials=["aws_credentials"]), "'aws_credentials' is not a parameter"),
    ("optional claimed required", "3", _corrupt_step("prefect_aws.deployments.steps.pull_from_s3", required=True),
     "the signature says False"),
    ("required claimed optional", "3", _corrupt_step("prefect_azure.deployments.steps.pull_from_azure_blob_storage",
                                                     required=False), "the signature says True"),
    ("the wrong chain", "3", _corrupt_step("prefect_aws.deployments.steps.pull_from_s3", chain="google-auth"),
     "chain 'google-auth'"),
    ("an alias that does not resolve", "3", _corrupt_step("prefect_aws.deployments.steps.pull_from_s3",
                                                         aliases=["prefect_aws.pull_from_s3"]), "prefect_aws.pull_from_s3"),
    ("a 3.x parameter claimed for 2.x", "2", _corrupt_step("prefect.deployments.steps.pull.git_clone",
                                                           inputs=["repository", "branch", "include_submodules",
                                                                   "access_token", "credentials", "commit_sha"]),
     "not parameters ['commit_sha']"),
]


def test_step_checker_bites(steps2, steps3):
    """Corrupted copies of real `[[step]]` entries are each reported; the originals are not; and a
    step left out of the catalogue is found by the coverage check."""
    answers = {"2": steps2, "3": steps3}
    missed = []
    for what, version, step, fragment in STEP_CORRUPTIONS:
        problems = check_step(step, version, answers[version])
        if not any(fragment in p for p in problems):
            missed.append(f"{what} ({step['function']}): expected {fragment!r}, got: {problems or ['nothing']}")
        clean = check_step(STEP_BY_FUNCTION[step["function"]], version, answers[version])
        if clean:
            missed.append(f"the uncorrupted {step['function']} is reported too: {clean}")
    without = [s for s in STEPS if s["function"] != "prefect_azure.deployments.steps.push_to_azure_blob_storage"]
    if "push_to_azure_blob_storage takes credentials" not in "".join(step_coverage_problems("3", steps3, without)):
        missed.append("a credential step left out of the catalogue is not found by the coverage check")
    assert not missed, "the step checker did not bite:\n" + "\n".join(missed)
