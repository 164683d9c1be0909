"""CL204: credentials recognisable by their format, in any scanned file."""
from credlint.engine import Example, Hit, rule
from credlint.facts import Pos


def _title(pattern_id: str) -> str:
    from credlint.patterns import PATTERNS  # only when there is a match: its regexes cost start-up

    return next((p.title for p in PATTERNS if p.id == pattern_id), pattern_id)


@rule(
    "CL204", "secret-pattern", "error",
    bad=[
        Example("""
            # rotated? old key: AKIAZ7QX3NV5KD2M4WTL
            import prefect
            """, title="an AWS access key id in a comment"),
        Example({"flow.py": "import prefect\n", "deploy/.env": "GITHUB_TOKEN=ghp_R8dK2mQx7LpZ4vN9tB3wY6cH1fJ5sA0eG2uT\n"},
                title="a GitHub token in a committed .env"),
    ],
    good=[Example("""
        import prefect
        # documented example key: AKIAIOSFODNN7EXAMPLE
        TOKEN = "<github token>"
        """)],
)
def check_secret_pattern(pattern_match):
    """A high-confidence credential format appears in a file.

    ## What it does
    Scans every Python and deployment file — strings and comments alike — for formats that are
    credentials and nothing else: AWS access key ids, private key blocks, GCP service-account
    keys, GitHub, GitLab and Slack tokens, Slack webhooks, Stripe, SendGrid, Twilio and
    Databricks keys, URLs with a password, and more (`credlint explain CL204` lists what the
    test vectors cover). Documentation examples (`AKIAIOSFODNN7EXAMPLE`) and placeholders
    (`<token>`, `YOUR_KEY_HERE`, `${TOKEN}`) are not findings.

    ## Why is this bad?
    A credential in a repository is a leaked credential: every clone, fork, CI log and image
    built from it carries it, and it stays in the history after it is deleted.

    ## How to fix
    Revoke and rotate the credential, then keep the new one in a secret store (Prefect Cloud
    secrets, your CI's secrets, a Kubernetes Secret) and reference it.
    """
    path, match = pattern_match
    title = _title(match.pattern)
    yield Hit(
        path=path, pos=Pos(match.line, match.column, match.end_line, match.end_column), mask=True,
        message=f"{title}: revoke it and keep it in a secret store",
        fix="rotate the credential, remove it from the file (and its history), and reference it instead",
    )
