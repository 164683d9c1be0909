"""CL103: credential and secret-name arguments that have no effect: in Prefect 1.4.1, and in
Prefect 2.x/3.x keywords a block does not have."""
import re

from credlint.engine import Hit, Invalid, Valid, rule
from credlint.prefect.blocks import CHAINS


def _accepted_at(where: str, place: str) -> bool:
    return where == "call" or place in where.split("+")


@rule(
    "CL103", "ineffective-credential-argument", "error",
    bad=[
        Invalid("""
            from prefect import Flow
            from prefect.tasks.sftp import SftpDownload

            download = SftpDownload(host="sftp.acme.io", port_number=22)

            with Flow("pull") as flow:
                download(remote_path="/out/orders.csv", username="loader", password="hunter22-but-longer")
            """, title="SFTP tasks connect with the values given at construction",
            line=7, column=54,
            message="SftpDownload ignores username= passed at run time in Prefect 1.4.1: it uses the value given "
                    "when it was constructed"),
        Invalid("""
            from prefect.tasks.aws.s3 import S3Download

            download = S3Download(bucket="raw", aws_credentials_secret="ETL_AWS")
            """, title="a Prefect 0.x argument",
            line=3, column=60,
            message="S3Download no longer accepts aws_credentials_secret= (last seen in Prefect 0.10.7): Prefect 1.x "
                    "reads AWS_CREDENTIALS from context: declare it on storage secrets=[...] or pass "
                    'credentials=PrefectSecret("NAME") to run'),
        Invalid("""
            from prefect_aws import AwsCredentials, S3Bucket

            S3Bucket(bucket_name="raw-data", aws_credentials=AwsCredentials.load("prod")).save("raw", overwrite=True)
            """, title="Prefect 2.x/3.x: a credentials block given to a keyword S3Bucket does not have",
            line=3, column=50,
            message="S3Bucket(aws_credentials=...) is given a block, but S3Bucket has no such field: Prefect drops "
                    "unknown keywords silently, and S3Bucket is left with no credentials of its own: they come from "
                    "the AWS default chain (environment variables, ~/.aws profiles, an instance or task role); "
                    "S3Bucket takes it as credentials="),
        Invalid("""
            import os
            from prefect_aws import AwsCredentials

            AwsCredentials(aws_access_key=os.environ["AWS_ACCESS_KEY_ID"],
                           aws_secret_key=os.environ["AWS_SECRET_ACCESS_KEY"]).save("prod", overwrite=True)
            """, title="Prefect 2.x/3.x: a misspelt credential field",
            line=5, column=31,
            message=re.compile(r"^AwsCredentials\(aws_secret_key=\.\.\.\) is given a credential \(by its name\), "
                               r"but AwsCredentials has no such field: .*; AwsCredentials takes it as "
                               r"aws_secret_access_key=$")),
    ],
    good=[
        Valid("""
            from prefect import Flow
            from prefect.tasks.secrets import PrefectSecret
            from prefect.tasks.sftp import SftpDownload

            with Flow("pull") as flow:
                password = PrefectSecret("SFTP_PASSWORD")
                SftpDownload(host="sftp.acme.io", port_number=22, username="loader", password=password)(remote_path="/out/orders.csv")
            """),
        Valid("""
            import os
            from prefect_aws import AwsCredentials, S3Bucket

            AwsCredentials(aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                           aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"]).save("prod", overwrite=True)
            S3Bucket(bucket_name="raw-data", credentials=AwsCredentials.load("prod"), region="eu-west-1")
            """, title="Prefect 2.x/3.x: the fields the blocks have (an unknown keyword that is no credential is "
                       "not this rule's)"),
    ],
)
def check_ineffective_credential_argument(module, project):
    """A credential or secret-name argument that Prefect ignores: 1.4.1, or a 2.x/3.x block without that field.

    ## What it does
    Reports run-time credentials that a class accepts but never uses (the SFTP tasks,
    `DatabricksGetJobID` and `CubePreAggregationsBuildTask` connect with what they were given
    at construction), and arguments from Prefect 0.x that 1.4.1 removed
    (`aws_credentials_secret`, `credentials_secret`, ...), with what replaced them.

    In Prefect 2.x/3.x: a keyword a catalogued block class does not have (in any version it
    exists in), given where a credential was meant — the keyword's name is a credential's
    (`aws_secret_key=`, `api_token=` on a block without one), or its value is a block
    (`S3Bucket(aws_credentials=AwsCredentials.load("prod"))`) or a literal in a credential's
    format. Fields set after construction (`bucket.aws_credentials = ...`) count the same. The
    message names the keyword the block does take: the carrier keyword that accepts the block
    given, else the closest field. A block then left without credentials is also CL102's
    finding (the fallback it causes). The JSON `secret` holds `slug/name` when the block is saved.

    ## Why is this bad?
    The flow looks configured but is not: the run uses other credentials than the ones you
    passed, or the task fails to construct with `TypeError: unexpected keyword argument`.
    Prefect 2.x/3.x blocks are pydantic models that accept unknown keywords (`extra="allow"`)
    and never save them: `S3Bucket(aws_credentials=...)` keeps its default, empty
    `AwsCredentials()`, and boto3's default chain supplies whatever identity the machine has.

    ## How to fix
    Pass the value where the class reads it (at construction), or use the Prefect 1.x
    mechanism named in the message. In 2.x/3.x, rename the keyword to the one the message
    names (`S3Bucket(credentials=AwsCredentials.load("prod"))`).
    """
    for entry, place, args in project.arguments_in(module):
        for name, arg in sorted(args.items()):
            removed = entry.removed_param(name)
            current = entry.credential_param(name)
            if removed is not None and current is None and name not in entry.name_params:
                until = f" (last seen in Prefect {removed.last_version})" if removed.last_version else ""
                yield Hit(
                    path=module.path, pos=arg.pos, symbol=entry.symbol,
                    message=f"{entry.short_name} no longer accepts {name}={until}: {removed.replacement}",
                    fix=removed.replacement,
                )
            elif current is not None and current.ignored and current.ignored == place:
                yield Hit(
                    path=module.path, pos=arg.pos, symbol=entry.symbol,
                    message=(f"{entry.short_name} ignores {name}= passed at {place} time in Prefect 1.4.1: it uses "
                             f"the value given when it was constructed"),
                    fix=f"pass {name}= to {entry.short_name}(...) itself, not to its run call",
                )
    if module.model == "2" and project.fallback is not None:
        for found in project.fallback.dropped:
            if found.path == module.path:
                yield _dropped_hit(found)


def _dropped_hit(found) -> Hit:
    """2.x/3.x: a keyword the block does not have, given a credential."""
    cls = found.block.short_name
    given = {"a block": "a block", "a credential's format": "a value in a credential's format",
             "its name": "a credential (by its name)"}[found.why]
    after = (f", and {cls} is left with no credentials of its own: they come from {CHAINS[found.chain]}"
             if found.chain else ", and the credential is never used")
    meant = f"; {cls} takes it as {found.meant}=" if found.meant else ""
    message = (f"{cls}({found.keyword}=...) is given {given}, but {cls} has no such field: Prefect drops unknown "
               f"keywords silently{after}{meant}")
    if found.meant:
        fix = f"rename {found.keyword}= to {found.meant}="
    else:
        fields = found.block.auth_fields or tuple(c.keyword for c in found.block.carriers)
        fix = (f"pass the credential through {' or '.join(k + '=' for k in fields)}" if fields
               else f"remove {found.keyword}=: {cls} takes no credentials")
    return Hit(path=found.path, pos=found.pos, symbol=found.build.cls, secret=found.saved, message=message, fix=fix)
