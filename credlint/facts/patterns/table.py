"""The credential formats CL204 reports, each with the vectors the test suite checks: values it
must find and values it must leave alone. Plain data: a rule reads the titles from here without
loading the scanner's regular expressions.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple


@dataclass(frozen=True)
class Pattern:
    """A credential format CL204 reports, with vectors the test suite checks."""

    id: str
    title: str
    true_vectors: Tuple[str, ...]
    false_vectors: Tuple[str, ...]


# ---------------------------------------------------------------------------------------------
# The catalogue, with vectors. True vectors are invented values of the right shape; their
# literals are split ("AKI" "A...") so this file does not itself look like it holds credentials.

_PEM_LINES = (
    "MIIEowIBAAKCAQEA" "H1dVfRR/6wafw4JBjDDOeyxJ66CSvl33VC75R1jLIcRH7Q9O",
    "a168zTwOu8zlim+MTQ4lMIVz7pfeq8ZI3GzhvCzfzN99J1uKbZWOejXcxosFTAYR",
    "O4S2rTJ8ugkVSdNva/eY7MSLKEmlAIflzrtWVBfJKMO/iiYeiWR9IjFOO05ZzCQz",
    "9OPZX39pzCO2KSmFH0cYNHqUl2s3L0HiLf8O3dcoiisuUmUMHMVE2VWZ5mYFUUg4",
    "KzzVATVHCp3O/Yw5wvT9cZwXXf8QP9==",
)
_BEGIN, _END = "-----BEGIN ", "-----END "
_PGP_LINES = (
    "lQOYBGZo" "hCHD4//UjgjfXudzTQXGqi+x8PikL2t/yiRbiMdYN2fFq6oCoS1UFyVlYONgEUsY",
    "x1ihEeGY14iiMyD5FN+kvkdgK7FI0b4iiLl3Ezomr0odA/v4+ffDNH0qdN7VExMz",
    "j83pcgPIrWZHt7OSGqx7KXM1InwJNRHaFa87XwMt1fDRDJnRdzQQWk8Hd/KFbfUw",
)
_PUTTY_LINES = (
    "AAAAC3Nz" "BDJppkFFEZciCQP00U87juJUBEoAXHmGRZ2XsTS5MivpF9k9jz89iLWeajzV6xuR",
    "XLAsfmhVwlva/byCSEsWAGU0g47kCxhG4rS2A5e7sAuPFJiN7UZpjxV2KKrgnfHC",
    "zbt5G7+eSeiOJcT/HHqodEvUF0f+UzpWcP1mLMwT3zWLA825gFKEOU0Ekm5h+Kt9",
    "sbg9bAjtbDV3J7Y59r5zFa1lykVg5kpYYrDYo57oJP6hq6ItLy8k/QY0vPToTry/",
    "L31PNgqWbch2QUxxjY+oXqUj+22nRe40JZ/bYZ+w65no5VB180ACFa0qn6dQj/QK",
)

PATTERNS: Tuple[Pattern, ...] = (
    Pattern(
        "aws-access-key-id", "AWS access key id",
        ('AWS_ACCESS_KEY_ID = "AKI' 'A4OLYYN3T6VICJWWQ"',
         "aws_access_key_id=AS" "IA4VB2SITHALBA25HR",
         '{"ACCESS_KEY": "AKI' 'AONQYRRR2AHCQB4PQ", "SECRET_ACCESS_KEY": env}',
         "legacy_key_id = 'A3" "TMVQJXXVBOTHD2WTFL'"),
        ('AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"',  # AWS documentation
         "aws_access_key_id = AKIAXXXXXXXXXXXXXXXX",
         "key = 'AKIA1234567890ABCDEF'",  # 0, 1, 8, 9 are not in the base32 alphabet
         "role_id = 'AROA4OLYYN3T6VICJWWQ'",  # a role id is not a secret
         "blob = 'xAKIA4OLYYN3T6VICJWWQ'", "AKIA4OLYYN3T6VICJWWQZ  # 17 characters: not a key id")),
    Pattern(
        "aws-secret-access-key", "AWS secret access key",
        ("aws_secret_access_key = 30eWnUt1xfTCt38Q" "vE2aCj405jPvGcfLYflaTgrr",
         'S3Download(boto_kwargs={"aws_secret_access_key": "3p2Pa7GniOAInPxp' 'WScZd+2bkYbXYAOu5po2xVrn"})',
         "export AWS_SECRET_ACCESS_KEY='ERuReLan5nQtVeb9" "vFMzD9b/Uzh7YSeYsL6LQJ4K'",
         'os.environ["AWS_SECRET_ACCESS_KEY"] = "30eWnUt1xfTCt38Q' 'vE2aCj405jPvGcfLYflaTgrr"',
         'boto_kwargs = {"aws_key": "pdzPaEMM1ZA7V0FhHVJW' 'DBt2hWdQZUm14QhoxhLP"}'),
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",  # AWS documentation
         "AWS_SECRET_ACCESS_KEY: YOUR_KEY_HERE",
         'aws_secret_access_key = "${AWS_SECRET_ACCESS_KEY}"',
         "secret_access_key = '69dd2e12eab20562773c8d4285ad6b24cb6be058'",  # a sha1, not a key
         "token = '30eWnUt1xfTCt38QvE2aCj405jPvGcfLYflaTgrr'",  # no AWS context on the line
         "aws_secret_name = 'prod/data/warehouse/credentials/snowflak'")),
    Pattern(
        "private-key", "private key block",
        ("\n".join((_BEGIN + "RSA PRIVATE KEY-----",) + _PEM_LINES + (_END + "RSA PRIVATE KEY-----",)),
         'KEY = "' + _BEGIN + 'PRIVATE KEY-----\\n' + "\\n".join(_PEM_LINES[1:]) + '\\n' + _END
         + 'PRIVATE KEY-----\\n"',
         "ssh_key: |\n  " + _BEGIN + "OPENSSH PRIVATE KEY-----\n  b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ"
         "AAAAAAAAAABAAAAMwAAAAtzc2gtZW\n  " + _PEM_LINES[2] + "\n  " + _END + "OPENSSH PRIVATE KEY-----",
         "\n".join((_BEGIN + "EC PRIVATE KEY-----",) + _PEM_LINES[1:4] + (_END + "EC PRIVATE KEY-----",)),
         "\n".join((_BEGIN + "DSA PRIVATE KEY-----",) + _PEM_LINES[2:] + (_END + "DSA PRIVATE KEY-----",)),
         "\n".join((_BEGIN + "ENCRYPTED PRIVATE KEY-----",) + _PEM_LINES + (_END + "ENCRYPTED PRIVATE KEY-----",)),
         "\n".join((_BEGIN + "PGP PRIVATE KEY BLOCK-----", "Version: GnuPG v2", "")
                   + _PGP_LINES + ("=Xq3k", _END + "PGP PRIVATE KEY BLOCK-----")),
         "\n".join(("---- BEGIN SSH2 " "ENCRYPTED PRIVATE KEY ----", 'Comment: "rsa-key-20240611"')
                   + _PEM_LINES[1:] + ("---- END SSH2 ENCRYPTED PRIVATE KEY ----",)),
         "\n".join(("PuTTY-User-" "Key-File-3: ssh-ed25519", "Encryption: none", "Comment: eddsa-key-20240611",
                    "Public-Lines: 2") + _PUTTY_LINES[:2] + ("Private-Lines: 3",) + _PUTTY_LINES[2:]
                   + ("Private-MAC: 4a1d2f0c9b8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170f6e5d",)),
         "\r\n".join(("PuTTY-User-" "Key-File-2: ssh-rsa", "Encryption: aes256-cbc", "Comment: imported-openssh-key",
                      "Public-Lines: 1", _PUTTY_LINES[0], "Private-Lines: 2") + _PUTTY_LINES[3:]
                     + ("Private-MAC: 5b4a39281706f5e4d3c2b1a09f8e7d6c",))),
        (_BEGIN + "RSA PRIVATE KEY-----\n...\n" + _END + "RSA PRIVATE KEY-----",
         _BEGIN + "PRIVATE KEY-----\\n<your private key>\\n" + _END + "PRIVATE KEY-----",
         'if text.startswith("' + _BEGIN + 'PRIVATE KEY-----"):',
         _BEGIN + "PUBLIC KEY-----\n" + _PEM_LINES[1] + "\n" + _END + "PUBLIC KEY-----",
         _BEGIN + "PRIVATE KEY-----\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n" + _END + "PRIVATE KEY-----",
         "\n".join(("PuTTY-User-" "Key-File-3: ssh-ed25519", "Encryption: none", "Public-Lines: 1", _PUTTY_LINES[0],
                    "Private-Lines: 1", "<your private key>")),
         "PuTTY-User-" "Key-File-2: ssh-rsa  # the header alone, in documentation")),
    Pattern(
        "gcp-service-account", "GCP service-account key (JSON)",
        ('{"type": "service_account", "project_id": "etl-prod", "private_key_id": "2bd74cda31fa6e5c", '
         '"private_key": "' + _BEGIN + 'PRIVATE KEY-----\\n' + "\\n".join(_PEM_LINES[1:]) + "\\n" + _END
         + 'PRIVATE KEY-----\\n", "client_email": "etl@etl-prod.iam.gserviceaccount.com"}',
         "info = {'private_key': '" + _BEGIN + "PRIVATE KEY-----\\n" + _PEM_LINES[3] + "\\n" + _END
         + "PRIVATE KEY-----\\n', 'client_id': '1093', 'type': 'service_account'}"),
        ('{"type": "service_account", "private_key": "' + _BEGIN + 'PRIVATE KEY-----\\n<key>\\n' + _END
         + 'PRIVATE KEY-----\\n"}',
         '{"type": "service_account", "private_key": "${GCP_PRIVATE_KEY}"}',
         '{"type": "authorized_user", "client_id": "764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur"}')),
    Pattern(
        "github-token", "GitHub token",
        ("GITHUB_TOKEN=gh" "p_7xU5o2Yr8qEqaKOx9u7o3P5RAyNjavjgmkiV",
         "storage = GitHub(repo='acme/flows', path='flow.py', "
         "access_token_secret='gh" "s_BYbxkS3tbGi7aNCBqazxAVM8c9wIWa4tEQhV')",
         "token: github_pat" "_11EvCuzBs5t6NxukRHlLBLUX_s2VbtqkrLjQFC1hRQ5V3CTBNTEte08fnxV8FCNvRtv0K95qDcp11mq04uLG"),
        ("GITHUB_TOKEN=ghp_16C7e42F292c6912E7710c838347Ae178B4a",  # GitHub's published sample
         "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
         "GITHUB_TOKEN=ghp_<token>",
         "def ghp_to_html_converter_for_pull_requests_v2(): pass",
         "token = 'ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij'")),
    Pattern(
        "gitlab-token", "GitLab token",
        ("GITLAB_TOKEN=glp" "at-rivfzIwhybWOazCmIBSq",
         "git clone https://oauth2:gld" "t-Tkuy1TTBtve2-MkkNJXN@gitlab.com/acme/flows.git",
         "trigger_token = 'glp" "tt-69dd2e12eab20562773c8d4285ad6b24cb6be058'"),
        ("GITLAB_TOKEN=glpat-xxxxxxxxxxxxxxxxxxxx",
         "GITLAB_TOKEN=glpat-your-personal-access-token",
         "GITLAB_TOKEN=glpat-${CI_TOKEN}",
         "see glpat-personal-access-tokens-docs")),
    Pattern(
        "slack-token", "Slack token",
        ("SLACK_BOT_TOKEN=xox" "b-24865310793-39184672051-s2iiLbGIE4Wtl9hYeUPil4bH",
         'client = WebClient(token="xox' 'p-31874652093-40718264935-50971834628-a35b8eac054d9f90343303485694e20d")'),
        ("SLACK_BOT_TOKEN=xoxb-your-token",
         "SLACK_BOT_TOKEN=xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",  # Slack's docs
         "SLACK_BOT_TOKEN=xoxb-000000000000-0000000000000-xxxxxxxxxxxxxxxxxxxxxxxx",
         "SLACK_BOT_TOKEN=xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx")),
    Pattern(
        "slack-webhook", "Slack webhook URL",
        ("SLACK_WEBHOOK_URL=https://hooks.slack.com/services/" "T0A1B2C3D/B4E5F6G7H/8VGDwffrRV2f1N0MYFZ3jrBp",
         'slack_notifier(webhook_secret=None)  # "https://hooks.slack.com/services/'
         'T04QK7ZLM/B05R9XW2Y/w0bcfmW2HPPQ9J9mfxpXP2Yt"'),
        ("https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",  # Slack's docs
         "https://hooks.slack.com/services/${SLACK_WEBHOOK_PATH}",
         "https://hooks.slack.com/services/<team>/<channel>/<token>",
         "See https://api.slack.com/messaging/webhooks for hooks.slack.com/services/ URLs")),
    Pattern(
        "stripe-key", "Stripe secret key",
        ("STRIPE_API_KEY=sk" "_live_n3yRPkHxzNkHa1mcyQ3iZ008",
         "stripe.api_key = 'rk" "_live_51NuKOP35jZDBJJU14ue6oxTkT0mADD0qAlJIklvjJxLzFgcVoKQjSCYtwRB4Z8kysAMwtnaRWc8b8'",
         "STRIPE_WEBHOOK_SECRET=wh" "sec_g9TxBNPWRUTL4m2Lrb9vvvQe2PZDPcEf"),
        ("STRIPE_API_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
         "STRIPE_API_KEY=sk_live_4eC39HqLyjWDarjtT1zdp7dc",  # Stripe's docs
         "STRIPE_PUBLISHABLE_KEY=pk_live_n3yRPkHxzNkHa1mcyQ3iZ008",  # publishable keys are public
         "STRIPE_API_KEY=sk_test_n3yRPkHxzNkHa1mcyQ3iZ008",  # test mode: no live data
         "STRIPE_API_KEY=sk_live_YOUR_SECRET_KEY_HERE")),
    Pattern(
        "sendgrid-key", "SendGrid API key",
        ("SENDGRID_API_KEY=S" "G.F4Vtk4IMNTiC84bmgWbC0h.O_Lw_ypj4GkE2WU4HifJxq_XWZ632xvofIkTD0jbB9x",
         "sg = SendGridAPIClient('S" "G.vlUYW-ln9AoRtl50sQu6OG.01avrdRrzmx1F44Bd-KnfRd6UIWhC4vUy-boB8nsafi')"),
        ("SENDGRID_API_KEY=SG.xxxxxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
         "SENDGRID_API_KEY=SG.<your-key>",
         "msg = 'SG.F4Vtk4IMNTiC84bmgWbC0h'  # one part only")),
    Pattern(
        "twilio-key", "Twilio API key SID or auth token",
        ("TWILIO_API_KEY=S" "K2bd74cda31fa6e5c76ebbb8e7d6263b7",
         "TWILIO_AUTH_TOKEN=c0de3c0581f0792f" "db2c1d57571d00be",
         "client = Client(account_sid, twilio_auth_token='b8fe3c01dbbcb0df" "aba2384aebfac61c')"),
        ("TWILIO_API_KEY=SKXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
         "TWILIO_AUTH_TOKEN=your_auth_token",
         "TWILIO_ACCOUNT_SID=AC2bd74cda31fa6e5c76ebbb8e7d6263b7",  # an account id is public
         "TWILIO_AUTH_TOKEN=00000000000000000000000000000000",
         "md5 = 'de2e019af21f2a5544813b8aaa50ec15'")),
    Pattern(
        "databricks-token", "Databricks personal access token",
        ("DATABRICKS_TOKEN=da" "pi7d518c076b319ab7a52fd788f8dfb56b",
         "DatabricksSubmitRun(databricks_conn_secret={'host': 'https://adb-1.azuredatabricks.net', "
         "'token': 'da" "pide2e019af21f2a5544813b8aaa50ec15-2'})"),
        ("DATABRICKS_TOKEN=dapi00000000000000000000000000000000",
         "DATABRICKS_TOKEN=dapiXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
         "DATABRICKS_TOKEN=dapi<token>",
         "DATABRICKS_TOKEN=dapi0123456789abcdef0123456789abcdef")),
    Pattern(
        "snowflake-url-password", "Snowflake URL with a password",
        ("engine = create_engine('snowflake://loader:Zq8uPw77" "31xKmN@acme-eu1/raw/public?warehouse=etl')",
         "SNOWFLAKE_URL=jdbc:snowflake://acme.snowflakecomputing.com/?user=loader&password=hAEs" "XsFegHVkhx"),
        ("engine = create_engine('snowflake://loader:<password>@acme-eu1/raw')",
         "url = f'snowflake://{user}:{password}@{account}/{database}'",
         "SNOWFLAKE_URL=snowflake://loader:${SNOWFLAKE_PASSWORD}@acme-eu1/raw",
         "SNOWFLAKE_URL=snowflake://acme-eu1/raw?authenticator=externalbrowser")),
    Pattern(
        "generic-url-password", "password in a URL",
        ("DATABASE_URL=postgresql+psycopg2://etl:3fnZWQNi" "22zV@db.internal:5432/warehouse",
         "broker = 'amqp://flows:W7Gje7uV" "E@rabbit.acme.io//'",
         "git clone https://deploy:6s4ikqLC" "jd1@git.acme.io/data/flows.git"),
        ("DATABASE_URL=postgresql://postgres:postgres@localhost:5432/postgres",
         "DATABASE_URL=postgresql://user:password@host:5432/db",
         "DATABASE_URL=postgresql://etl:${DB_PASSWORD}@db:5432/warehouse",
         "url = 'mysql://%s:%s@%s/%s' % (user, password, host, db)",
         "broker = 'amqp://guest:guest@localhost:5672//'",
         "engine = create_engine('postgresql://scott:tiger@localhost/mydatabase')",  # SQLAlchemy docs
         "DATABASE_URL=mysql://app:p4ssw0rd123@db/app",
         "redis_url = 'redis://:<password>@cache:6379/0'",
         "https://admin:s3cr3tP4ss@example.com/api",
         "https://api.acme.io:8443/v1/items@latest")),
    Pattern(
        "google-api-key", "Google API key",
        ("GOOGLE_API_KEY=AI" "zaPppkmHNRjtX_pDCEdVonrtyHLuNUa3jGK7u",
         "gmaps = googlemaps.Client(key='AI" "zaW8tHNWKVO8RfH-Mfnqyrz1cRLetGDiffk6Q')"),
        ("GOOGLE_API_KEY=AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe",  # Google's docs
         "GOOGLE_API_KEY=AIzaXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
         "GOOGLE_API_KEY=AIza<your-key>")),
    Pattern(
        "google-oauth-client-secret", "Google OAuth client secret",
        ('"client_secret": "GOC' 'SPX-LwpPbyuujGMrIErAC19LLR-w0TEt"',
         "GOOGLE_CLIENT_SECRET=GOC" "SPX-LwpPbyuujGMrIErAC19LLR-w0TEt"),
        ('"client_secret": "GOCSPX-xxxxxxxxxxxxxxxxxxxxxxxxxxxx"',
         '"client_secret": "GOCSPX-<secret>"')),
    Pattern(
        "azure-connection-key", "Azure storage or shared access key",
        ("AZURE_STORAGE_CONNECTION_STRING='DefaultEndpointsProtocol=https;AccountName=acmeraw;AccountKey="
         "g174ZVoT96cjD/AX3hPxQHbr2hcLc9Gy/v2t0U6TNU+63nYPM5r7tbeMdyHdXuM6bldVAYkxBoM3vbvKzcA0nu==;"
         "EndpointSuffix=core.windows.net'",
         "conn = 'Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey="
         "Q+NfRsoFvk4T5UBjTl6i8Z8EwrAAal9MZqs3ub/Gv6/=;EntityPath=events'"),
        ("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1"
         "OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;",  # the storage emulator's published key
         "AccountName=acmeraw;AccountKey=<storage-account-key>;",
         "AccountName=acmeraw;AccountKey=${AZURE_STORAGE_KEY};")),
    Pattern(
        "pypi-token", "PyPI upload token",
        ("TWINE_PASSWORD=pypi-AgEIcHlwaS5vcmc" "knEa576YQp7lcp7ONgcrh7GnUlUeb-gOaVeG1zyG13kbFKPC5cAnoMnHcsiM",
         "password = pypi-AgENdGVzdC5weXBpLm9yZw" "Nbb8PPaB0Pc0g7XUmx3vsBycck8GwsoP30mq24J74j4JUnrSpIVNB6Dc2Pj7"),
        ("TWINE_PASSWORD=pypi-AgEIcHlwaS5vcmc<token>",
         "TWINE_PASSWORD=pypi-${PYPI_TOKEN}",
         "TWINE_USERNAME=__token__")),
    Pattern(
        "npm-token", "npm access token",
        ("//registry.npmjs.org/:_authToken=np" "m_qr9dNImEY6BZEyO8hea6QmlHYycwiOGUXQEQ",
         "NPM_TOKEN=np" "m_i3mpQ2lwhxqgboowi6MkRMHw3IRMvkpV2mrP"),
        ("NPM_TOKEN=npm_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
         "npm_config_registry_url_for_the_private_mirror_v2 = 1",
         "NPM_TOKEN=npm_${TOKEN}")),
    Pattern(
        "prefect-api-key", "Prefect Cloud API key",
        ("PREFECT_API_KEY=pn" "u_ZvzPWxImXFwjeNUv6m7l3h0UpqBfzCG7kS72",
         "prefect cloud login --key pn" "b_HP4iRPKUJWuhAKoffn6FcJWlAzQFtMhGEAD6",
         "# once: prefect auth login --key pc" "u_Tq7Lw2Xn9Rb4Kd8Vz3Hm6Pf1Js5Gc0Ya2Uev"),
        ("PREFECT_API_KEY=pnu_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
         "PREFECT_API_KEY=pnu_<your-api-key>",
         "PREFECT__CLOUD__API_KEY=${PREFECT_KEY}",
         "stopcu_Tq7Lw2Xn9Rb4Kd8Vz3Hm6Pf1Js5Gc0Ya2Uev")),
    Pattern(
        "openai-key", "OpenAI API key",
        ("OPENAI_API_KEY=sk-nZYjdd3QiUiSwhghwwbv" "T3BlbkFJDqnHyJv_ufBNrYVYbTUj",
         "client = OpenAI(api_key='sk-proj-2oJoeoRUaKgv2aA9STLBdQ8uKeCeQysaRBpoUftrYbnSEsTC-cSgICSOQnqp_KWC"
         "T3BlbkFJ" "knEa576YQp7lcp7ONgcrh7GnUlUeb-gOaVeG1zyG13kbFKPC5cAnoMnHcsiM')"),
        ("OPENAI_API_KEY=sk-xxxxxxxxxxxxxxxxxxxxT3BlbkFJxxxxxxxxxxxxxxxxxxxx",
         "OPENAI_API_KEY=sk-<your-key>",
         "b64 = 'T3BlbkFJ'  # base64 of a name, no key around it")),
    Pattern(
        "anthropic-key", "Anthropic API key",
        ("ANTHROPIC_API_KEY=sk-an" "t-api03-DdoKuYFWAac-xIZfjr2xSMwGd3q6gGq_dEee7B8TZbi0nsdir1an85LN9p"
         "dhGeVgbD_LrWJYWMViSv4Wr6sijDzilWDHc-AA",
         "client = Anthropic(api_key='sk-an" "t-admin01-Nbb8PPaB0Pc0g7XUmx3vsBycck8GwsoP30mq24J74j4JUnrSpIVNB6"
         "Dc2Pj7knEa576YQp7lcp7ONgcrh7GnUlUeb-gOaVeG1zyG13kbFKPC5cAnoMnHcsiM')"),
        ("ANTHROPIC_API_KEY=sk-ant-api03-" + "x" * 93 + "AA",
         "ANTHROPIC_API_KEY=sk-ant-<your-key>")),
    Pattern(
        "discord-webhook", "Discord webhook URL",
        ("DISCORD_WEBHOOK=https://discord.com/api/webhooks/1093245586431234671/"
         "Nbb8PPaB0Pc0g7XUmx3vsBycck8GwsoP30mq24J74j4JUnrSpIVNB6Dc2Pj7" "2oJoeoRU",
         "hook = 'https://discordapp.com/api/webhooks/884213576490218314/"
         "knEa576YQp7lcp7ONgcrh7GnUlUeb-gOaVeG1zyG13kbFKPC5cAnoMnHcsiM" "Kgv2aA9S'"),
        ("DISCORD_WEBHOOK=https://discord.com/api/webhooks/<id>/<token>",
         "DISCORD_WEBHOOK=https://discord.com/api/webhooks/000000000000000000/"
         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")),
    Pattern(
        "teams-webhook", "Microsoft Teams webhook URL",
        ("TEAMS_WEBHOOK=https://acme.webhook.office.com/webhookb2/3f2a8c1e-5b7d-4e9a-8c2f-1d6b0a9e7c43@"
         "9d4e6f1a-2c8b-4a7e-b5d3-0f1e2a3b4c5d/IncomingWebhook/" "5bbaadcb07487c34c86faa36ab726987/"
         "7a1c9e3f-4d2b-4f6a-9e8c-3b5d7f1a2c4e",
         "url = 'https://contoso.webhook.office.com/webhookb2/8e0c4a2f-1b3d-4f5e-a7c9-2d4f6b8a0c1e@"
         "9d4e6f1a-2c8b-4a7e-b5d3-0f1e2a3b4c5d/IncomingWebhook/" "a35b8eac054d9f90343303485694e20d/"
         "7a1c9e3f-4d2b-4f6a-9e8c-3b5d7f1a2c4e'"),
        ("TEAMS_WEBHOOK=https://xxxxx.webhook.office.com/webhookb2/xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx@"
         "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx/IncomingWebhook/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx/"
         "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
         "TEAMS_WEBHOOK=${TEAMS_WEBHOOK_URL}")),
    Pattern(
        "square-token", "Square OAuth secret or access token",
        ("SQUARE_APPLICATION_SECRET=sq0" "csp-AbQcEFUV2fsjGHb6HrlEOS47WgjKCu-0xxKhg5QjWV1",
         "client = Client(access_token='sq0" "atp-mKaUyvBPs0jSO2Jkf08MMF')"),
        ("SQUARE_APPLICATION_SECRET=sq0csp-<your-application-secret>",
         "SQUARE_APPLICATION_SECRET=sq0csp-" + "x" * 43,
         "SQUARE_ACCESS_TOKEN=${SQUARE_TOKEN}")),
    Pattern(
        "huggingface-token", "Hugging Face access token",
        ("HF_TOKEN=hf" "_dAPsmYaUSRCsllZqZycZOkNgaWvjsgJWuF",
         "login(token='hf" "_xTwXqxnizKwRkNraEuzeRTpPWzUBqsskDI')"),
        ("HF_TOKEN=hf_" + "x" * 34,
         "def hf_download_weights_from_the_model_hub(): pass",
         "tok = 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(name)",  # camelCase, 34 letters
         "HF_TOKEN=hf_<your-token>")),
    Pattern(
        "vault-token", "HashiCorp Vault token",
        ("VAULT_TOKEN=hv" "s.97TPNbpjava1bMZwIMlvdp5gjTrD8Osj-LnZ5R_j-8U-m7aSz7NRSOtv75y4SXvE9rwLbAtf6e9c"
         "pCGybY9lMR4pAwB",
         "client = hvac.Client(url=VAULT_ADDR, token='hv" "b.p3GVy1PixOqoRGrB5Vpg5C6QsyHZytfqY6K1Qjah4dXd3eOa1Zcc"
         "-a4CgOFfqRgz7IhYePP2lny2pg17_dUM2jNKogorTAuRVpQ09oiVeZWJ9QyucS19AvMp2gUAeSsUfFgUl8oPK_')"),
        ("VAULT_TOKEN=hvs.<token>",
         "VAULT_TOKEN=hvs." + "x" * 95,
         "VAULT_TOKEN=hvs.${VAULT_TOKEN}")),
    Pattern(
        "digitalocean-token", "DigitalOcean token",
        ("DIGITALOCEAN_TOKEN=do" "p_v1_889eeaf77ee09a4496e0ed7afceaa86dc3f3464849a845d1f7c3a0579f09222a",
         "refresh = 'do" "r_v1_2bed27a584d21b54fa8973381f412a0a4f9fa423350b233931da53f50a0be52d'"),
        ("DIGITALOCEAN_TOKEN=dop_v1_<token>",
         "DIGITALOCEAN_TOKEN=dop_v1_" + "0" * 64)),
    Pattern(
        "azure-ad-client-secret", "Azure AD client secret",
        ("AZURE_CLIENT_SECRET=KP4" "8Q~cwC6dT0ctPVnaawqrczLJWImKMG4hEbuUV",
         "ClientSecretCredential(tenant, client_id, 'o3G" "7Q~PDR-~m0k5i.qkwUONAIifEcLav_q5ZvQmL')"),
        ("AZURE_CLIENT_SECRET=<client-secret>",
         "AZURE_CLIENT_SECRET=abc8Q~" + "x" * 34,
         "path = '~/notes/8Q~draft-of-the-quarterly-report-v2.txt'")),
    Pattern(
        "telegram-bot-token", "Telegram bot token",
        ("TELEGRAM_BOT_TOKEN=778863582:A" "AL8ZrF8w50SR2Qugs4lIFVRdxtDyKUOtfZ",
         "bot = Bot(token='1783438452:A" "AUTqr8aFvnKbnHFbDfj3u_ypO09RnKw1zW')"),
        ("TELEGRAM_BOT_TOKEN=123456789:AA" + "x" * 33,
         "TELEGRAM_BOT_TOKEN=<bot-id>:<token>",
         "at = '2024-06-11 12:30:AAB'")),
    Pattern(
        "mailchimp-key", "Mailchimp API key",
        ("MAILCHIMP_API_KEY=ff31aeea03bdba261ad5" "90acbc5fbb5e-us6",
         "client.set_config({'api_key': 'cb983b410e6f58de9b9d" "56191e28c2f2-us21', 'server': 'us21'})"),
        ("MAILCHIMP_API_KEY=" + "x" * 32 + "-us6",
         "MAILCHIMP_API_KEY=<api-key>-us6",
         "MAILCHIMP_API_KEY=" + "0" * 32 + "-us6",
         "bucket = 'acme-raw-us1'")),
    Pattern(
        "discord-bot-token", "Discord bot token",
        ("DISCORD_BOT_TOKEN=MjI4NDUx" "NzI4NDM1ODMyNzUy.HI3Yhc.1OxT-8QY4-3BMDogiSTRIiP9LJm",
         "client.run('NzcyMjg4Mz" "A4MzE2NzM4MzI2NA.R04Zhb.GSdGWoZ6axl7KBGgMVGOYn7B3_5SApYXfE-1ds')"),
        ("DISCORD_BOT_TOKEN=<bot-token>",
         "DISCORD_BOT_TOKEN=NjQ5YWJjZGVmMTIzNDU2Nzg5.R04Zhb.GSdGWoZ6axl7KBGgMVGOYn7B3_5",  # not an id
         "DISCORD_BOT_TOKEN=MTIzNDU2Nzg5MDEyMzQ1Njc4.xxxxxx." + "x" * 27)),
    Pattern(
        "jwt", "signed JSON Web Token",
        ("PREFECT__CLOUD__AUTH_TOKEN=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzdmMtZXRsLWxvYWRlciIsImlhdCI6M"
         "TcxNDAwMzIwMCwic2NvcGUiOiJmbG93czp3cml0ZSJ9." "3vbgqMMvFuz4zf3ATNeY2Pseh093Fj9fOptqCWCsuZr",
         "SUPABASE_SERVICE_KEY='eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJyb2xlIjoic2VydmljZV9yb2xlIiwiaXNzIjoic3VwYWJh"
         "c2UiLCJpYXQiOjE3MDAwMDAwMDB9." "JZaVLaPeAU5moHH5F-grANC-aBcnwDDOOAZvw6d3eK3pxFkhJA5uFyeUhwksU8dSaNrFWv5S"
         "RclfFhhqCmzhp59yZk4d6-GlThw_ZqyC85Nn7Jf30xIOdZh_NRwhUTv3L_Smo927U2aT1yVPMm5nYtffRcvy0Dxo5pCJFz2B30M8KVM_w8"
         "MDaD3vSS1Mmn7qOiqh1yudML66YbgqaD7XBPgUbqr2RbwXOq43IedbtWe27WH77hBlyqz-9PNldsWhXK64VtGHZA2PQLUD-W1nW4kGeJ-"
         "ky88BV8-luteLKWMFmkkBTDijysfSa5Jhl7LiECB7lavfWXTKTiVQ47qsxG'"),
        ("token = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0I"
         "joxNTE2MjM5MDIyfQ." "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c'",  # jwt.io's sample
         ">>> print(encoded)\neyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzb21lIjoicGF5bG9hZCJ9."
         "4twFt5NiznN84AWoo1d7KO1T_yoc0Z6XOpOVswacPZg",  # PyJWT's README: signed with the key "secret"
         "SUPABASE_ANON_KEY=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoiYW5vbiIsImlzcyI6InN1cGFiYXNlIiwiaWF0Ijo"
         "xNzAwMDAwMDAwfQ." "72VnY6wGD4tylc-Y3oLOr0GlsP5S_KXv5Zzjhe3p1g1",  # the anon key is public
         "unsigned = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJzdmMtZXRsLWxvYWRlciIsImlhdCI6MTcxNDAwMzIwMCwic2NvcGUiOiJmbG93cz"
         "p3cml0ZSJ9.'",
         "cut = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzdmMtZXRsLWxvYWRlciIsImlhdCI6MTcxNDAwMzIwMCwic2NvcG"
         "UiOiJmbG93czp3cml0ZSJ9." "3vbgqMMvFuz4zf3ATNeY2Pseh093Fj9'",  # too short for HS256
         "header = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9'")),
    Pattern(
        "ibm-cloud-iam-key", "IBM Cloud IAM API key",
        ("IBM_CLOUD_API_KEY=aKfux6fX1L3dd4u2" "dDGqt1NvVeIWmQmcVFzbjcoP95wL",
         "authenticator = IAMAuthenticator(ibm_iam_apikey='aKfux6fX1L3dd4u2" "dDGqt1NvVeIWmQmcVFzbjcoP95wL')"),
        ("IBM_CLOUD_API_KEY=<api-key>",
         "IBM_CLOUD_API_KEY=" + "x" * 44,
         "api_key = 'aKfux6fX1L3dd4u2dDGqt1NvVeIWmQmcVFzbjcoP95wL'  # no vendor named")),
    Pattern(
        "ibm-cos-hmac-key", "IBM Cloud Object Storage HMAC secret",
        ("COS_HMAC_SECRET_ACCESS_KEY=d496ed631e445241" "5df60f290d94d7efecc22a4e5d4697ea",
         '{"cos_hmac_keys": {"access_key_id": "2bd74cda31fa6e5c", "secret_access_key": "d496ed631e445241'
         '5df60f290d94d7efecc22a4e5d4697ea"}}'),
        ("secret_access_key = <hmac-secret>",
         "secret_access_key = '" + "0" * 48 + "'",
         "sha = 'd496ed631e4452415df60f290d94d7efecc22a4e5d4697ea'")),
    Pattern(
        "cloudant-credential", "Cloudant password or API key",
        ("CLOUDANT_PASSWORD=93ff69b5257313aee99add6cd71b8890" "a6299c08927cae578485090fb254c2a9",
         "cloudant_api_key = 'zjcukrflld" "gefvhdxgjzcevs'"),
        ("CLOUDANT_PASSWORD=<password>",
         "cloudant_api_key = 'abcdefghijklmnopqrstuvwx'",
         "cloudant_password = os.environ['CLOUDANT_PASSWORD']")),
    Pattern(
        "softlayer-key", "SoftLayer API key",
        ("SOFTLAYER_API_KEY=gkgls12ho47cd2tlpo1o0lv8w76417z" "wmi5g5bim7q2bn77r7vf8tg9ad551xqbd",
         "endpoint = 'https://api.softlayer.com/soap/v3.1/gkgls12ho47cd2tlpo1o0lv8w76417z"
         "wmi5g5bim7q2bn77r7vf8tg9ad551xqbd'"),
        ("SOFTLAYER_API_KEY=<api-key>",
         "softlayer_api_key = '" + "0" * 64 + "'",
         "https://api.softlayer.com/soap/v3.1/SoftLayer_Account")),
)
