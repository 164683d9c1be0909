"""The block catalogue (rules/blocks/*.toml) as credlint loads it, checked against its schema, and
`credlint catalog` for block types. The data's truth is proven in test_block_catalogue_proof.py."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from credlint.prefect.blocks import (CHAINS, EMPTY, BlockCatalogueError, builtin_block_catalogue, default_blocks_dir,
                                     load_block_catalogue)

FAMILIES = {"core", "aws", "gcp", "azure", "slack", "snowflake", "sqlalchemy", "github", "dbt", "kubernetes", "docker",
            "email", "databricks"}


@pytest.fixture(scope="module")
def cat():
    return load_block_catalogue()


# ----------------------------------------------------------------------------------------- the data


def test_one_file_per_package_family_and_every_integration_is_there(cat):
    assert {p.stem for p in default_blocks_dir().glob("*.toml")} == FAMILIES
    packages = {b.package for b in cat}
    assert packages == {"prefect"} | {f"prefect-{f}" for f in FAMILIES - {"core"}}
    assert {b.source_file for b in cat} == {f"{f}.toml" for f in FAMILIES}


def test_lookups_by_any_import_path_and_by_slug(cat):
    aws = cat.lookup("prefect_aws.AwsCredentials")
    assert aws is cat.lookup("prefect_aws.credentials.AwsCredentials") and aws.slug == "aws-credentials"
    assert cat.slug_of("prefect_aws.S3Bucket") == "s3-bucket"
    assert cat.lookup("prefect_aws.Nope") is None and cat.lookup(None) is None and cat.slug_of("x.Y") is None
    assert [b.symbol for b in cat.find("aws-credentials")] == ["prefect_aws.credentials.AwsCredentials"]
    assert cat.find(" prefect_aws.AwsCredentials ") == (aws,)
    assert cat.by_slug("no-such-slug") == () and cat.by_slug(None) == ()
    # one slug, two classes: the 2.x core kubeconfig block and prefect-kubernetes' in 3.x
    both = cat.by_slug("kubernetes-cluster-config")
    assert sorted(b.package for b in both) == ["prefect", "prefect-kubernetes"]
    assert sorted(v for b in both for v in b.versions) == ["2", "3"]
    assert cat.module_members("prefect_aws")["S3Bucket"] == "prefect_aws.s3.S3Bucket"


def test_the_two_slack_webhooks_have_different_slugs(cat):
    core = cat.lookup("prefect.blocks.notifications.SlackWebhook")
    integration = cat.lookup("prefect_slack.SlackWebhook")
    assert (core.slug, integration.slug) == ("slack-webhook", "slack-incoming-webhook")
    assert cat.by_slug("slack-webhook") == (core,) and cat.by_slug("slack-incoming-webhook") == (integration,)
    assert core.short_name == integration.short_name == "SlackWebhook"
    assert cat.by_short_name("SlackWebhook") == (core, integration) and cat.by_short_name("Nope") == ()


def test_credential_fields_secret_or_not(cat):
    aws = cat.lookup("prefect_aws.AwsCredentials")
    assert aws.secret_fields == ("aws_secret_access_key",)
    assert set(aws.credential_fields) == {"aws_secret_access_key", "aws_access_key_id", "aws_session_token"}
    assert "profile_name" in aws.auth_fields and "profile_name" not in aws.credential_fields
    gcp = cat.lookup("prefect_gcp.GcpCredentials")
    assert gcp.secret_fields == ("service_account_info.*",) and gcp.credential_fields == ("service_account_info",)
    dsn = cat.lookup("prefect_sqlalchemy.SqlAlchemyConnector")
    assert dsn.credential_fields == ("connection_info",) and dsn.credential_mappings == ("connect_args",)
    assert cat.lookup("prefect.filesystems.RemoteFileSystem").credential_mappings == ("settings",)


def test_carriers_and_what_empty_means(cat):
    s3 = cat.lookup("prefect_aws.S3Bucket")
    carrier = s3.carrier("credentials")
    assert carrier.accepts == ("aws-credentials", "minio-credentials") and carrier.default == "aws-credentials"
    assert not carrier.required and s3.carrier("aws_credentials") is None and s3.carrier("bucket_name") is None
    assert (s3.empty, s3.chain) == ("ambient", "boto3")
    assert cat.lookup("prefect_snowflake.SnowflakeConnector").carrier("credentials").required
    assert cat.lookup("prefect_gcp.GcsBucket").carrier("gcp_credentials").default == "gcp-credentials"
    expected = {"prefect_aws.AwsCredentials": "boto3", "prefect_gcp.GcpCredentials": "google-auth",
                "prefect_kubernetes.KubernetesCredentials": "kubeconfig", "prefect_github.GitHubCredentials": "anonymous",
                "prefect_azure.AzureContainerInstanceCredentials": "azure-identity"}
    for path, chain in expected.items():
        assert (cat.lookup(path).empty, cat.lookup(path).chain) == ("ambient", chain), path
    for path in ("prefect.blocks.system.Secret", "prefect_slack.SlackCredentials", "prefect_aws.MinIOCredentials",
                 "prefect_snowflake.SnowflakeCredentials", "prefect_azure.AzureBlobStorageContainer"):
        assert cat.lookup(path).empty == "invalid", path
    assert all(b.chain in CHAINS for b in cat if b.empty == "ambient") and all(b.empty in EMPTY for b in cat)


def test_keywords_and_fields_per_version(cat):
    connector = cat.lookup("prefect_snowflake.SnowflakeConnector")
    assert {"schema", "schema_"} <= connector.accepted_keywords() and connector.field_of_keyword("schema") == "schema_"
    target = cat.lookup("prefect_dbt.cli.TargetConfigs")
    assert "schema" in target.accepted_keywords() and "schema_" not in target.accepted_keywords()
    assert target.field_of_keyword("schema_") is None
    webhook = cat.lookup("prefect.blocks.webhook.Webhook")
    assert "verify" in webhook.all_fields("3") and "verify" not in webhook.all_fields("2")
    assert "verify" in webhook.accepted_keywords() and "verify" not in webhook.accepted_keywords("2")
    assert "aws_credentials" not in cat.lookup("prefect_aws.S3Bucket").accepted_keywords()


def test_versions_of_core_classes(cat):
    assert cat.lookup("prefect.blocks.system.Secret").versions == ("2", "3")
    assert cat.lookup("prefect.blocks.system.JSON").versions == ("2",)
    assert cat.lookup("prefect.filesystems.S3").versions == ("2",)
    assert all(b.versions == ("3",) for b in cat if b.package != "prefect")
    assert dict(cat.lookup("prefect.blocks.system.Secret").proven) == {"2": "2.20.27", "3": "3.9.1"}


# ----------------------------------------------------------------------------------------- the schema

GOOD = """
[package]
name = "prefect-extra"
module = "prefect_extra"
proven = { "3" = "1.0.0" }

[[block]]
symbol = "prefect_extra.credentials.ExtraCredentials"
slug = "extra-credentials"
kind = "credentials"
versions = ["3"]
fields = ["token", "region"]
secret_fields = ["token"]
auth_fields = ["token"]
empty = "invalid"

[[block]]
symbol = "prefect_extra.thing.ExtraThing"
slug = "extra-thing"
kind = "storage"
versions = ["3"]
fields = ["name", "credentials"]
empty = "ambient"
chain = "boto3"
empty_args = { name = "x" }

  [[block.carriers]]
  keyword = "credentials"
  accepts = ["extra-credentials"]
"""


def _load(tmp_path: Path, text: str, name: str = "extra.toml"):
    folder = tmp_path / "blocks"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return load_block_catalogue([folder])


def test_an_extension_folder_adds_block_types(tmp_path):
    cat = _load(tmp_path, GOOD)
    assert cat.lookup("prefect_extra.thing.ExtraThing").carrier("credentials").accepts == ("extra-credentials",)
    assert len(cat) == len(builtin_block_catalogue()) + 2 and cat.digest != builtin_block_catalogue().digest


@pytest.mark.parametrize("change, fragments", [
    (('slug = "extra-credentials"', 'slgu = "extra-credentials"'), ["extra.toml", "ExtraCredentials", "unknown key slgu"]),
    (('empty = "invalid"', 'empty = "silent"'), ["ExtraCredentials", "empty = 'silent' is not one of ambient, invalid, none"]),
    (('kind = "storage"', 'kind = "bucket"'), ["ExtraThing", "kind = 'bucket'"]),
    (('fields = ["token", "region"]', 'fields = "token"'), ["ExtraCredentials", "fields must be a list of strings"]),
    (('empty_args = { name = "x" }', 'empty_args = { name = "x" }\nkeywords = { name = "nm" }'),
     ["ExtraThing", "keywords must be a table of lists of keywords"]),
    (('  accepts = ["extra-credentials"]', '  accepts = ["extra-credentials"]\n  required = "yes"'),
     ["ExtraThing", "carriers[0].required must be true or false"]),
    (('chain = "boto3"', 'chain = "aws"'), ["ExtraThing", "chain = 'aws' is not one of boto3"]),
    (('chain = "boto3"\n', ''), ["ExtraThing", "chain names where an ambient block"]),
    (('secret_fields = ["token"]', 'secret_fields = ["tokn"]'), ["ExtraCredentials", "secret_fields: 'tokn' is not one of the fields"]),
    (('auth_fields = ["token"]', 'auth_fields = ["password"]'), ["ExtraCredentials", "auth_fields: 'password'"]),
    (('empty_args = { name = "x" }', 'empty_args = { nmae = "x" }'), ["ExtraThing", "empty_args: 'nmae'"]),
    (('versions = ["3"]\nfields = ["token"', 'versions = ["2"]\nfields = ["token"'), ["ExtraCredentials", "versions: '2'"]),
    (('  keyword = "credentials"', '  keyword = "creds"'), ["ExtraThing", "carriers[0].keyword: 'creds'"]),
    (('  accepts = ["extra-credentials"]', '  accepts = ["extra-credential"]\n  requird = true'), ["ExtraThing", "unknown key carriers[0].requird"]),
    (('  accepts = ["extra-credentials"]', '  accepts = ["extra-credential"]'), ["ExtraThing", "no catalogued block has slug 'extra-credential'"]),
    (('[[block]]\nsymbol = "prefect_extra.thing', '[[blocks]]\nsymbol = "prefect_extra.thing'), ["extra.toml", "unknown table blocks"]),
    (('proven = { "3" = "1.0.0" }', 'proven = { "4" = "1.0.0" }'), ["extra.toml", "package.proven"]),
    (('symbol = "prefect_extra.thing.ExtraThing"', 'symbol = "prefect_aws.s3.S3Bucket"'), ["prefect_aws.s3.S3Bucket is catalogued twice"]),
    (('symbol = "prefect_extra.thing.ExtraThing"', 'symbol = "prefect_extra.thing.ExtraThing"\naliases = ["prefect_aws.S3Bucket"]'),
     ["import path prefect_aws.S3Bucket names both"]),
    (('fields = ["name", "credentials"]\nempty = "ambient"\nchain = "boto3"', 'fields = ["name", "credentials"]\nempty = "none"'),
     ["ExtraThing", "empty = 'none' is for a block with no auth_fields and no carriers"]),
])
def test_schema_errors_name_the_file_the_entry_and_the_key(tmp_path, change, fragments):
    old, new = change
    assert old in GOOD
    with pytest.raises(BlockCatalogueError) as raised:
        _load(tmp_path, GOOD.replace(old, new, 1))
    for fragment in fragments:
        assert fragment in str(raised.value)


def test_unreadable_toml_is_a_catalogue_error(tmp_path):
    with pytest.raises(BlockCatalogueError, match="extra.toml"):
        _load(tmp_path, "[[block]\nsymbol = ")


def test_nothing_is_read_until_a_look_up_needs_it():
    """Importing the module reads no TOML; the first look-up reads each file once, later ones none."""
    code = textwrap.dedent("""
        import sys
        opened = []
        sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == "open" and str(args[0]).endswith(".toml") else None)
        import credlint.prefect.blocks as blocks
        assert not [p for p in opened if "blocks" in p], opened
        blocks.builtin_block_catalogue().lookup("prefect_aws.AwsCredentials")
        first = [p for p in opened if "/blocks/" in p.replace("\\\\", "/")]
        blocks.builtin_block_catalogue().by_slug("secret")
        again = [p for p in opened if "/blocks/" in p.replace("\\\\", "/")]
        assert len(first) == 13 and again == first, (first, again)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


# ----------------------------------------------------------------------------------------- credlint catalog


@pytest.mark.parametrize("name", ["prefect_aws.AwsCredentials", "prefect_aws.credentials.AwsCredentials", "aws-credentials"])
def test_catalog_shows_one_block_type_by_import_path_or_slug(project, cli, name):
    code, out, err = cli("catalog", name, cwd=project.root)
    assert code == 0, err
    assert "prefect_aws.credentials.AwsCredentials" in out and "slug: aws-credentials" in out
    assert "aws_secret_access_key" in out and "aws_session_token" in out  # secret and plain credential fields
    assert "ambient" in out and "AWS default chain" in out and "Prefect 3 (proven with prefect-aws 0.7.12)" in out
    code, out, _ = cli("catalog", name, "--format", "json", cwd=project.root)
    data = json.loads(out)
    assert code == 0 and data["symbol"] == "prefect_aws.credentials.AwsCredentials" and data["slug"] == "aws-credentials"
    assert data["secret_fields"] == ["aws_secret_access_key"] and "aws_session_token" in data["credential_fields"]
    assert (data["empty"], data["chain"], data["versions"]) == ("ambient", "boto3", ["3"])
    assert data["proven_with"] == {"3": "prefect-aws==0.7.12"}


def test_catalog_shows_the_credentials_keyword_of_a_carrier(project, cli):
    code, out, _ = cli("catalog", "prefect_aws.S3Bucket", cwd=project.root)
    assert code == 0 and "credentials= takes aws-credentials | minio-credentials" in out
    assert "omitted: an empty aws-credentials block" in out and "dropped silently" in out
    data = json.loads(cli("catalog", "s3-bucket", "--format", "json", cwd=project.root)[1])
    assert data["carriers"] == [{"keyword": "credentials", "accepts": ["aws-credentials", "minio-credentials"],
                                 "required": False, "default": "aws-credentials"}]


def test_catalog_a_slug_of_two_classes_shows_both(project, cli):
    code, out, _ = cli("catalog", "kubernetes-cluster-config", cwd=project.root)
    assert code == 0
    assert "prefect.blocks.kubernetes.KubernetesClusterConfig" in out and "prefect_kubernetes.credentials.KubernetesClusterConfig" in out
    data = json.loads(cli("catalog", "kubernetes-cluster-config", "--format", "json", cwd=project.root)[1])
    assert isinstance(data, list) and [d["versions"] for d in data] == [["2"], ["3"]]


def test_catalog_table_lists_both_models(project, cli):
    code, out, _ = cli("catalog", cwd=project.root)
    assert code == 0
    assert "Prefect 1.4.1 objects" in out and "Prefect 2.x/3.x blocks" in out
    assert "slack-incoming-webhook" in out and "aws-credentials" in out
    assert "dbt-cli-global-configs" not in out  # holds no credentials: only with --all
    code, out, _ = cli("catalog", "--all", cwd=project.root)
    assert code == 0 and "dbt-cli-global-configs" in out
    code, out, _ = cli("catalog", "--prefect", "2", cwd=project.root)
    assert code == 0 and "Prefect 1.4.1 objects" not in out and "prefect.filesystems.S3" in out and "s3-bucket" not in out
    code, out, _ = cli("catalog", "--prefect", "1", cwd=project.root)
    assert code == 0 and "Prefect 2.x/3.x blocks" not in out


def test_catalog_json_of_one_model(project, cli):
    data = json.loads(cli("catalog", "--prefect", "3", "--format", "json", cwd=project.root)[1])
    assert len(data) == len([b for b in builtin_block_catalogue() if "3" in b.versions])
    assert all("3" in d["versions"] and {"slug", "secret_fields", "carriers", "empty"} <= set(d) for d in data)
    legacy = json.loads(cli("catalog", "--format", "json", cwd=project.root)[1])
    assert all("slug" not in d for d in legacy)  # without --prefect, json stays the 1.4.1 catalogue


def test_catalog_unknown_name_suggests_block_types(project, cli):
    code, _, err = cli("catalog", "prefect_aws.AwsCredential", cwd=project.root)
    assert code == 2 and "not in the catalogue" in err and "prefect_aws.AwsCredentials" in err
    code, _, err = cli("catalog", "aws-credential", cwd=project.root)
    assert code == 2 and "aws-credentials" in err


def test_a_snapshot_in_the_cache_folder_spares_the_parse(tmp_path, monkeypatch):
    import credlint.prefect.blocks as blocks

    cache = tmp_path / "cache"
    first = blocks.load_block_catalogue(snapshot_dir=cache)
    [snapshot] = cache.glob("blocks-*.json")
    assert snapshot.name == f"blocks-{first.digest}.json" and (snapshot.stat().st_mode & 0o077) == 0

    def no_parse(path, data):
        raise AssertionError(f"{path.name} was parsed although the snapshot matches")

    monkeypatch.setattr(blocks, "_parse", no_parse)
    again = blocks.load_block_catalogue(snapshot_dir=cache)
    assert again.types == first.types and again.digest == first.digest
    snapshot.write_text("[{")  # a damaged snapshot is ignored: the TOML is parsed again
    monkeypatch.undo()
    assert blocks.load_block_catalogue(snapshot_dir=cache).types == first.types
    assert snapshot.read_text() != "[{"
