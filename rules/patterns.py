"""CL204: credentials recognisable by their format, in any scanned file."""
from credlint.engine import Hit, Invalid, Valid, rule
from credlint.facts.types import Pos


def _title(pattern_id: str) -> str:
    from credlint.facts.patterns.table import PATTERNS  # only when there is a match

    return next((p.title for p in PATTERNS if p.id == pattern_id), pattern_id)


@rule(
    "CL204", "secret-pattern", "error",
    bad=[
        Invalid("""
            # rotated? old key: AKIAZ7QX3NV5KD2M4WTL
            import prefect
            """, title="an AWS access key id in a comment",
            line=1, column=21,
            message="AWS access key id: revoke it and keep it in a secret store"),
        Invalid({"flow.py": "import prefect\n", "deploy/.env": "GITHUB_TOKEN=ghp_R8dK2mQx7LpZ4vN9tB3wY6cH1fJ5sA0eG2uT\n"},
                title="a GitHub token in a committed .env",
                path="deploy/.env", line=1, column=14,
                message="GitHub token: revoke it and keep it in a secret store"),
        Invalid({"flow.py": "import prefect\n", "deploy/keys/id_ed25519": "-----BEGIN OPENSSH " "PRIVATE KEY-----\n"
                 "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
                 "x1ihEeGY14iiMyD5FN+kvkdgK7FI0b4iiLl3Ezomr0odA/v4+ffDNH0qdN7VExMz\n"
                 "-----END OPENSSH " "PRIVATE KEY-----\n"},
                title="a deploy key committed next to the flows",
                path="deploy/keys/id_ed25519", line=1, column=1,
                message="private key block: revoke it and keep it in a secret store"),
    ],
    good=[Valid("""
        import prefect
        # documented example key: AKIAIOSFODNN7EXAMPLE
        TOKEN = "<github token>"
        """)],
)
def check_secret_pattern(pattern_match):
    """A high-confidence credential format appears in a file.

    ## What it does
    Scans every file credlint reads — Python and deployment files, and also JSON, Markdown,
    text, notebooks, Terraform, client credential files (`.npmrc`, `.netrc`, ...) and key files
    (`*.pem`, `*.key`, `*.ppk`, `id_rsa`, ...), strings and comments alike — for formats that are
    credentials and nothing else: AWS access keys, private keys in every text format (PEM,
    OpenSSH, PGP, PuTTY, SSH2), GCP service-account keys, GitHub, GitLab, Slack, Discord and
    Telegram tokens, Slack, Discord and Teams webhooks, Stripe, SendGrid, Twilio, Mailchimp,
    Square, Databricks, OpenAI, Anthropic, Hugging Face, Vault, DigitalOcean, npm and PyPI keys,
    signed JWTs, URLs with a password, and more (`credlint.facts.patterns.table.PATTERNS` lists every format
    with the values it must and must not match). Documentation examples (`AKIAIOSFODNN7EXAMPLE`)
    and placeholders (`<token>`, `YOUR_KEY_HERE`, `${TOKEN}`) are not findings, nor is a JWT
    that is unsigned, cut short or a public key (Supabase's `anon` key). Binary files (DER or
    PKCS#12 keys) are not scanned.

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
