"""CL103: credential and secret-name arguments that have no effect in Prefect 1.4.1."""
from credlint.engine import Hit, Invalid, Valid, rule


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
    ],
    good=[Valid("""
        from prefect import Flow
        from prefect.tasks.secrets import PrefectSecret
        from prefect.tasks.sftp import SftpDownload

        with Flow("pull") as flow:
            password = PrefectSecret("SFTP_PASSWORD")
            SftpDownload(host="sftp.acme.io", port_number=22, username="loader", password=password)(remote_path="/out/orders.csv")
        """)],
)
def check_ineffective_credential_argument(module, project):
    """A credential or secret-name argument that Prefect 1.4.1 ignores or no longer accepts.

    ## What it does
    Reports run-time credentials that a class accepts but never uses (the SFTP tasks,
    `DatabricksGetJobID` and `CubePreAggregationsBuildTask` connect with what they were given
    at construction), and arguments from Prefect 0.x that 1.4.1 removed
    (`aws_credentials_secret`, `credentials_secret`, ...), with what replaced them.

    ## Why is this bad?
    The flow looks configured but is not: the run uses other credentials than the ones you
    passed, or the task fails to construct with `TypeError: unexpected keyword argument`.

    ## How to fix
    Pass the value where the class reads it (at construction), or use the Prefect 1.x
    mechanism named in the message.
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
