"""CL102 credentials-fallback and CL103 ineffective-credential-argument in their Prefect 2.x/3.x
meaning, through the CLI: blocks built without credentials, integration blocks and prefect.yaml
steps that fall back to the machine's identity, keywords a block drops; with the traps that must
stay quiet (keys from the environment, a profile, a loaded block, git without a token, an
allowed family, a file read as 1.x) and no planted value in any output. Plus the model's and the
catalogue's own pieces (`model.fallback`, `[[step]]`)."""
from __future__ import annotations

import pytest

from conftest import check_json, run_cli, with_code

# Fake but well-formed values, split in this source so that no scanner sees them whole here.
AWS_SECRET = "Qm9vB2sPlTx" "7Rk3Wz8Yc1Nf5Hd0Jg4Ls6AeUi"
TOKEN = "ghp_" + "R7k2Lm9Qw4Xz8Vb3Nc6Hj1Tp5Ys0Ud2Fg4Ae"
PLANTED = (AWS_SECRET, TOKEN)

SETUP = f'''
import os
from prefect_aws import AwsCredentials, S3Bucket
from prefect_azure import AzureBlobStorageCredentials, AzureContainerInstanceCredentials
from prefect_gcp import GcpCredentials, GcsBucket
from prefect_github import GitHubCredentials, GitHubRepository
from prefect_kubernetes import KubernetesCredentials
from prefect.filesystems import RemoteFileSystem

AwsCredentials().save("sandbox")
S3Bucket(bucket_name="lake", credentials=AwsCredentials(region_name="eu-west-1")).save("lake")
GcpCredentials(service_account_info={{}}).save("adc")
KubernetesCredentials().save("cluster")
AzureContainerInstanceCredentials()
S3Bucket(bucket_name="raw", aws_credentials=AwsCredentials.load("prod")).save("raw")
GcsBucket(bucket="exports", credentials=GcpCredentials.load("prod"))
AwsCredentials(aws_secret_key="{AWS_SECRET}")

AwsCredentials(aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
               aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"]).save("prod", overwrite=True)
AwsCredentials(profile_name="etl").save("etl", overwrite=True)
AwsCredentials(aws_access_key_id=None, profile_name="etl")
S3Bucket(bucket_name="x", credentials=AwsCredentials.load("prod"), region="eu-west-1")
GitHubRepository(repository_url="https://github.com/acme/flows.git").save("flows")
GitHubCredentials().save("public")
AzureBlobStorageCredentials()
S3Bucket()
RemoteFileSystem(basepath="s3://bucket/flows").save("remote")
settings = {{"profile_name": "etl"}}
AwsCredentials(**settings)
GcpCredentials(os.environ["SA_FILE"])
'''

FLOW = '''
from prefect import flow
from prefect_aws import AwsCredentials, S3Bucket


@flow
def ingest(bucket: str):
    S3Bucket(bucket_name=bucket).download_folder_to_path("orders", "data")
    creds = AwsCredentials.load("prod")
    S3Bucket(bucket_name=bucket, credentials=creds)
'''

# (code, path, line, secret) of every finding the project must give: nothing else.
EXPECTED = [
    ("CL102", "flows/ingest.py", 7, None),
    ("CL102", "setup_blocks.py", 9, "aws-credentials/sandbox"),
    ("CL102", "setup_blocks.py", 10, "s3-bucket/lake"),
    ("CL102", "setup_blocks.py", 11, "gcp-credentials/adc"),
    ("CL102", "setup_blocks.py", 12, "kubernetes-credentials/cluster"),
    ("CL102", "setup_blocks.py", 13, None),
    ("CL102", "setup_blocks.py", 14, "s3-bucket/raw"),
    ("CL102", "setup_blocks.py", 15, None),
    ("CL102", "setup_blocks.py", 16, None),
    ("CL103", "setup_blocks.py", 14, "s3-bucket/raw"),
    ("CL103", "setup_blocks.py", 15, None),
    ("CL103", "setup_blocks.py", 16, None),
]


def _found(doc, codes=("CL102", "CL103")):
    return sorted((f["code"], f["path"], f["line"], f["secret"]) for f in doc["findings"] if f["code"] in codes)


@pytest.fixture
def blocks_project(project):
    project.write({"setup_blocks.py": SETUP, "flows/ingest.py": FLOW}, config='select = ["CL102", "CL103"]\n')
    return project


def test_ambient_blocks_and_dropped_keywords(blocks_project):
    doc = check_json(".", cwd=blocks_project.root)
    assert _found(doc) == EXPECTED
    by_line = {(f["code"], f["path"], f["line"]): f for f in doc["findings"]}
    nested = by_line[("CL102", "setup_blocks.py", 10)]
    assert nested["column"] == 42 and nested["message"].startswith("AwsCredentials (saved inside 's3-bucket/lake')")
    holder = by_line[("CL102", "flows/ingest.py", 7)]
    assert holder["message"] == ("S3Bucket is built without credentials=: it makes an empty AwsCredentials(), so the "
                                 "credentials come from the AWS default chain (environment variables, ~/.aws "
                                 "profiles, an instance or task role), silently")
    assert 'credentials=AwsCredentials.load("<name>")' in holder["fix"] and 'allow-fallback = ["aws"]' in holder["fix"]
    gcp = by_line[("CL102", "setup_blocks.py", 11)]
    assert "Application Default Credentials" in gcp["message"] and 'allow-fallback = ["gcp"]' in gcp["fix"]
    assert "in-cluster service account" in by_line[("CL102", "setup_blocks.py", 12)]["message"]
    assert "DefaultAzureCredential" in by_line[("CL102", "setup_blocks.py", 13)]["message"]
    dropped = by_line[("CL103", "setup_blocks.py", 14)]
    assert dropped["column"] == 45 and dropped["symbol"] == "prefect_aws.S3Bucket"
    assert "S3Bucket has no such field" in dropped["message"] and dropped["message"].endswith("takes it as credentials=")
    assert dropped["fix"] == "rename aws_credentials= to credentials="
    assert by_line[("CL102", "setup_blocks.py", 14)]["fix"].startswith("rename aws_credentials= to credentials= (CL103)")
    assert by_line[("CL103", "setup_blocks.py", 15)]["message"].endswith("GcsBucket takes it as gcp_credentials=")
    assert by_line[("CL103", "setup_blocks.py", 16)]["message"].endswith("takes it as aws_secret_access_key=")
    assert all(f["severity"] == "warning" for f in with_code(doc, "CL102"))
    assert all(f["severity"] == "error" for f in with_code(doc, "CL103"))


@pytest.mark.parametrize("fmt", ["json", "concise", "full", "sarif", "github", "json-lines"])
def test_no_planted_value_in_any_output(blocks_project, fmt):
    code, out, err = run_cli("check", "--format", fmt, ".", cwd=blocks_project.root)
    assert code == 1, err
    assert "CL103" in out
    for value in PLANTED:
        assert value not in out and value not in err


def test_allow_fallback_silences_only_its_family(blocks_project):
    blocks_project.write(config='select = ["CL102", "CL103"]\nallow-fallback = ["aws"]\n')
    doc = check_json(".", cwd=blocks_project.root)
    assert [(path, line) for code, path, line, _ in _found(doc, ("CL102",))] == [
        ("setup_blocks.py", 11), ("setup_blocks.py", 12), ("setup_blocks.py", 13), ("setup_blocks.py", 15)]
    assert len(with_code(doc, "CL103")) == 3  # a dropped keyword is a mistake, whatever the family


def test_files_read_as_1x_get_no_block_findings(blocks_project):
    blocks_project.write(config='select = ["CL102", "CL103"]\nprefect = "1"\n')
    assert _found(check_json(".", cwd=blocks_project.root)) == []


def test_1x_code_beside_3x_code_keeps_its_own_cl102(project):
    project.write({
        "legacy/ingest.py": """
            from prefect import Flow
            from prefect.tasks.aws.s3 import S3Download

            download = S3Download(bucket="raw-data")

            with Flow("ingest") as flow:
                data = download(key="orders.csv")
            """,
        "flows/etl.py": FLOW})
    doc = check_json(".", cwd=project.root)
    assert [(f["path"], f["line"], f["secret"]) for f in with_code(doc, "CL102")] == [
        ("flows/etl.py", 7, None), ("legacy/ingest.py", 7, "AWS_CREDENTIALS")]


def test_test_code_is_checked_like_1x(project):
    """As the 1.x CL102, the rule makes no exception for tests/: a suite building ambient blocks on
    purpose says so with per-file-ignores."""
    project.write({"tests/test_upload.py": """
        from prefect_aws import AwsCredentials

        def test_upload():
            assert AwsCredentials(region_name="us-east-1").get_boto3_session()
        """})
    assert [(f["path"], f["line"]) for f in with_code(check_json(".", cwd=project.root), "CL102")] == [
        ("tests/test_upload.py", 4)]
    project.write(config='[per-file-ignores]\n"tests/**" = ["CL102"]\n')
    assert with_code(check_json(".", cwd=project.root), "CL102") == []


PREFECT_YAML = """
name: etl
pull:
  - prefect_aws.deployments.steps.pull_from_s3:
      id: code
      requires: prefect-aws
      bucket: flow-code
      folder: etl
  - prefect.deployments.steps.git_clone:
      repository: https://github.com/acme/flows.git
push:
  - prefect_aws.deployments.steps.push_to_s3:
      bucket: flow-code
      folder: etl
      credentials: "{{ prefect.blocks.aws-credentials.prod }}"
deployments:
  - name: nightly
    entrypoint: flows/etl.py:etl
  - name: exports
    entrypoint: flows/etl.py:etl
    pull:
      - prefect_gcp.deployments.steps.pull_from_gcs:
          bucket: exports
          folder: etl
          credentials:
            project: acme
            service_account_file: null
      - prefect_gcp.deployments.steps.pull_from_gcs:
          bucket: exports
          folder: etl
          credentials:
            service_account_file: /secrets/sa.json
      - prefect_azure.deployments.steps.pull_from_azure_blob_storage:
          container: flows
          folder: etl
          credentials:
            account_url: https://acme.blob.core.windows.net
      - prefect_azure.deployments.steps.pull_from_azure_blob_storage:
          container: flows
          folder: etl
      - prefect_aws.deployments.steps.pull_from_s3:
          bucket: flow-code
          folder: etl
          credentials: null
"""


def test_prefect_yaml_steps(project):
    project.write({"prefect.yaml": PREFECT_YAML}, config='select = ["CL102"]\n')
    doc = check_json(".", cwd=project.root)
    found = [(f["line"], f["column"], f["symbol"]) for f in doc["findings"]]
    assert found == [
        (3, 5, "prefect_aws.deployments.steps.pull_from_s3"),
        (21, 9, "prefect_gcp.deployments.steps.pull_from_gcs"),
        (32, 9, "prefect_azure.deployments.steps.pull_from_azure_blob_storage"),
        (40, 9, "prefect_aws.deployments.steps.pull_from_s3"),
    ]
    messages = {f["line"]: f for f in doc["findings"]}
    assert messages[3]["message"].startswith("pull_from_s3 in the file's pull step is given no credentials:")
    assert messages[3]["fix"].startswith('give it credentials: "{{ prefect.blocks.aws-credentials.<name> }}"')
    assert messages[21]["message"].startswith(
        "pull_from_gcs in the pull step of deployment 'exports' is given a credentials mapping with none of "
        "service_account_file, service_account_info:")
    assert "DefaultAzureCredential" in messages[32]["message"]
    assert all(f["secret"] is None for f in doc["findings"])


def test_a_file_section_every_deployment_replaces_is_not_judged(project):
    project.write({"prefect.yaml": """
        pull:
          - prefect_aws.deployments.steps.pull_from_s3:
              bucket: flow-code
              folder: etl
        deployments:
          - name: nightly
            pull:
              - prefect.deployments.steps.git_clone:
                  repository: https://github.com/acme/flows.git
        """}, config='select = ["CL102"]\n')
    assert check_json(".", cwd=project.root)["findings"] == []


# ------------------------------------------------------------------------------------ the pieces


def test_is_set():
    from credlint.facts.places import Arg
    from credlint.facts.values import Value
    from credlint.model.fallback import is_set

    unset = [None, Arg(Value("none")), Arg(Value("str", empty=True)), Arg(Value("dict")), Arg(Value("list"))]
    assert not any(is_set(a) for a in unset)
    given = [Arg(Value("str")), Arg(Value("env", ref="AWS_ACCESS_KEY_ID")), Arg(Value("dict", dynamic_keys=True)),
             Arg(Value("dict", items={"type": Value("str")})), Arg(Value("parameter", ref="key")),
             Arg(Value("list", elements=[Value("str")]))]
    assert all(is_set(a) for a in given)


def test_step_catalogue_lookups():
    from credlint.prefect.blocks import CHAIN_FAMILIES, builtin_block_catalogue

    cat = builtin_block_catalogue()
    step = cat.step("prefect_aws.deployments.steps.pull_from_s3")
    assert step.credentials == ("credentials",) and not step.required and step.chain == "boto3"
    assert cat.step("prefect.deployments.steps.git_clone") is cat.step("prefect.deployments.steps.pull.git_clone")
    assert "commit_sha" in cat.step("prefect.deployments.steps.git_clone").all_inputs("3")
    assert "commit_sha" not in cat.step("prefect.deployments.steps.git_clone").all_inputs("2")
    assert cat.step("prefect_azure.deployments.steps.push_to_azure_blob_storage").required
    assert cat.step("prefect_aws.deployments.steps.nothing") is None
    assert set(CHAIN_FAMILIES) == {"boto3", "google-auth", "azure-identity", "kubeconfig"}


STEP = {"function": "pkg.steps.pull", "versions": ["3"], "inputs": ["bucket", "credentials"],
        "credentials": ["credentials"], "chain": "boto3"}


@pytest.mark.parametrize("change, fragment", [
    ({"chain": "magic"}, "chain = 'magic' is not one of"),
    ({"credentials": ["token"]}, "'token' is not one of the inputs"),
    ({"chain": ""}, "chain names what runs"),
    ({"versions": ["2"]}, "versions: '2'"),
    ({"colour": "red"}, "unknown key colour"),
    ({"inputs": "bucket"}, "inputs must be a list of strings"),
    ({"empty_inputs": {"folder": "x"}}, "'folder' is not one of the inputs"),
])
def test_step_schema_errors(change, fragment):
    from credlint.prefect.blocks import BlockCatalogueError, check_document

    doc = {"package": {"name": "pkg", "module": "pkg", "proven": {"3": "1.0"}}, "step": [dict(STEP, **change)]}
    with pytest.raises(BlockCatalogueError, match="pkg.steps.pull") as caught:
        check_document(doc, "pkg.toml")
    assert fragment in str(caught.value)
    check_document({"package": doc["package"], "step": [STEP]}, "pkg.toml")  # the unchanged step is fine


def test_step_facts(project):
    from credlint.facts.deploy.reader import read_deployment_file

    facts = read_deployment_file("prefect.yaml", PREFECT_YAML.lstrip("\n").encode(), "prefect-yaml")
    steps = {(s.pos.line, s.deployment): s for s in facts.steps}
    assert len(facts.steps) == 8
    first = steps[(3, None)]
    assert (first.function, first.section, first.index, first.inputs) == (
        "prefect_aws.deployments.steps.pull_from_s3", "pull", 0, ["bucket", "folder"])
    gcs = steps[(21, "exports")]
    assert gcs.mappings == {"credentials": ["project"]} and gcs.nulls == []
    assert steps[(40, "exports")].nulls == ["credentials"]
    assert steps[(11, None)].section == "push" and steps[(11, None)].inputs == ["bucket", "folder", "credentials"]
