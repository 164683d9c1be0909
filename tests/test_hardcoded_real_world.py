"""Hard-coded credentials as real projects write them, and values that only look like them.

Weak passwords authenticate; a literal given to a credential-named keyword of any call is
hard-coded; deployment files set credentials through `*_SECRET` names, `${VAR:-default}`,
`docker login -p`, tables of a Prefect config.toml and Windows batch files; Prefect Cloud 1.0 keys
(`pcu_`) have a format. Not credentials: prose in templates, file paths, values a web page
publishes, auth method names and realm labels, Parameters that carry secret names.

Every value below is invented; literals are split so that this file does not look like a leak.
"""
from __future__ import annotations

import pytest

from conftest import check_json, run_cli, with_code

from credlint.facts.naming import is_credential_env_name, is_credential_name, names_only_a_secret
from credlint.facts.patterns.scan import scan
from credlint.facts.values import (
    is_auth_method, is_example_path, is_placeholder, is_prose, is_test_path, is_weak_password, looks_like_path,
)

STRONG = "Zr8vQ2mx" "Lk29Wp7T"  # a value that looks chosen at random
PCU_KEY = "pc" "u_Q3x9Lk2Vt8Rz1Wm5Np7Bc4Hd6Jf0Gs2Ya8Ue"


def where(doc, code):
    """(path, line) of each finding of a code, sorted."""
    return sorted((f["path"], f["line"]) for f in with_code(doc, code))


def assert_never_shown(root, *values):
    """No report format shows any of the values."""
    for fmt in ("full", "json", "concise"):
        code, out, err = run_cli("check", "--no-cache", "--format", fmt, ".", cwd=root)
        assert code in (0, 1), err
        for value in values:
            assert value not in out and value not in err, (fmt, value)


# ---------------------------------------------------------------------------------------------
# 1. Weak passwords are values, not placeholders

@pytest.mark.parametrize("text", ["password", "admin", "postgres", "changeme", "secret", "root", "letmein",
                                  "123456", "111", "0000", "test", "Passw0rd!", "change_me", "changeit"])
def test_weak_passwords_are_values(text):
    assert not is_placeholder(text)
    assert is_weak_password(text)


@pytest.mark.parametrize("text", ["<token>", "YOUR_KEY_HERE", "xxx", "xxxxxxxx", "********", "${VAR}", "$VAR",
                                  "{{ secrets.X }}", "...", "", "token", "none", "your password here",
                                  "PUT YOUR SECRET VALUE HERE", "SLACK_WEBHOOK_URL"])
def test_documentation_stand_ins_are_placeholders(text):
    assert is_placeholder(text)


def test_weak_passwords_in_credential_slots_are_findings(project):
    project({
        "flows/etl.py": """
            import os
            from prefect import Flow
            from prefect.tasks.snowflake import SnowflakeQuery

            query = SnowflakeQuery(account="acme", user="loader", password="admin")
            os.environ["PREFECT__CONTEXT__SECRETS__PIN"] = "111"

            with Flow("load") as flow:
                query(query="select 1", password="changeme")
            """,
        "deploy/.env": "DB_PASSWORD=admin\nE_PASSWORD=postgres\nF_PASSWORD=changeme\nG_PASSWORD=letmein\n"
                       "H_TOKEN=<token>\nI_KEY=YOUR_KEY_HERE\nJ_PASSWORD=xxxx\nK_PASSWORD=${K_PASSWORD}\n",
    })
    doc = check_json("--no-cache", ".", cwd=project.root)
    assert where(doc, "CL201") == [("flows/etl.py", 5), ("flows/etl.py", 9)]
    assert where(doc, "CL202") == [("flows/etl.py", 6)]
    assert where(doc, "CL203") == [("deploy/.env", n) for n in (1, 2, 3, 4)]
    assert_never_shown(project.root, "letmein")


def test_a_weak_password_in_a_url_is_reported_in_deployment_files_not_in_documentation(project):
    project({
        "flows/etl.py": "import prefect\n",
        ".env": 'GRAPH_URL="bolt://graph:admin@localhost:7687"\nDB_URL="postgresql://app:admin@db:5432/app"\n'
                f'OPS_URL="postgresql://app:{STRONG}@db:5432/app"\n'
                'DOC_URL="postgresql://user:password@host:5432/db"\nREF_URL="postgresql://app:${PW}@db/app"\n',
        "README.md": "Connect with `postgresql://postgres:postgres@localhost:5432/postgres` or "
                     "`bolt://graph:admin@localhost:7687`.\n",
        "tests/.env": 'DB_URL="postgresql://app:admin@db:5432/app"\n',
    })
    doc = check_json("--no-cache", ".", cwd=project.root)
    # One code for a password in a URL, however weak: the report does not tell weak ones apart.
    assert where(doc, "CL204") == [(".env", 1), (".env", 2), (".env", 3)]
    assert with_code(doc, "CL203") == []
    assert scan(b"DB_URL=postgresql://app:admin@db:5432/app") == []  # documentation: an example
    assert [m.pattern for m in scan(b"DB_URL=postgresql://app:admin@db:5432/app", ".env")] == ["generic-url-password"]
    assert_never_shown(project.root, STRONG)


def test_weak_values_are_test_fakes_in_test_code_but_random_ones_are_not(project):
    project({
        "flows/etl.py": """
            from prefect.tasks.snowflake import SnowflakeQuery

            def test_query():
                SnowflakeQuery(account="acme", user="etl", password="admin").run(query="select 1")
            """,
        "tests/test_etl.py": f"""
            from prefect.tasks.snowflake import SnowflakeQuery

            FAKE = SnowflakeQuery(account="acme", user="etl", password="postgres")
            LEAKED = SnowflakeQuery(account="acme", user="etl", password="{STRONG}")
            """,
        "tests/docker-compose.yml": "services:\n  db:\n    image: postgres\n    environment:\n"
                                    "      POSTGRES_PASSWORD: postgres\n",
        ".github/workflows/ci.yml": "jobs:\n  test:\n    services:\n      db:\n        image: postgres\n"
                                    "        env:\n          POSTGRES_PASSWORD: postgres\n"
                                    "    env:\n      DATABASE_URL: postgresql://app:postgres@localhost/app\n",
    })
    doc = check_json("--no-cache", ".", cwd=project.root)
    assert where(doc, "CL201") == [("tests/test_etl.py", 4)]
    assert with_code(doc, "CL203") == [] and with_code(doc, "CL204") == []
    assert is_test_path("tests/test_etl.py") and is_test_path("pkg/test_x.py") and not is_test_path("flows/etl.py")


# ---------------------------------------------------------------------------------------------
# 2. A credential-named keyword of any call

ANY_CALL = f"""
    import getpass
    import os

    import hvac
    from prefect import Flow, task
    from prefect.tasks.notifications import SlackTask
    from sentinelhub import SHConfig
    from settings import SERVICE_PASSWORD

    SH_CLIENT_SECRET = "q8Zr-2mXv-" "Lk29-Wp7T"
    API_KEY = "ak_93hf" "Kq2LmzP0"
    PASSWORD_KEY = "password"

    @task
    def load():
        vault = hvac.Client(url="https://vault:8200", token="{STRONG}")
        config = SHConfig(sh_client_id="acme-etl", sh_client_secret=SH_CLIENT_SECRET)
        service = connect(API_KEY, key=API_KEY)
        db = connect(user="etl", password=SERVICE_PASSWORD)
        google = build_client(service_account_info={{"private_key": "{STRONG}", "client_email": "a@b.c"}})
        rows = sorted([], key=len)
        field = {{}}.get(PASSWORD_KEY)
        from_env = connect(password=os.environ["DB_PASSWORD"], api_key=os.getenv("API_KEY"))
        asked = connect(password=getpass.getpass(), token=None, secret="")
        named = notify(credentials_secret="SENDGRID", auth="basic", webhook_secret="SLACK_HOOK")
        labels = connect(token_uri="https://oauth2.example.org/token", secret_name="db", password_file="/run/x")
        sentry_sdk.init(dsn="https://4f8a1b2c3d@o12345.ingest.sentry.io/67890", token_url="https://a.b/token")
        frame = rows.rename(columns={{"pwd": "password", "user_token": "token"}})
        auth_token = "Authorization"  # a local variable, not a module constant
        header = frame.get(auth_token)
        return vault, config, service, db, google

    with Flow("etl") as flow:
        load()
        SlackTask(message="done", webhook_secret="slack-hook")()
    """


def test_literals_given_to_credential_keywords_of_any_call_are_cl201(project):
    project({"flows/etl.py": ANY_CALL, "flows/settings.py": f'SERVICE_PASSWORD = "{STRONG[::-1]}"\n'})
    doc = check_json("--no-cache", "flows/etl.py", cwd=project.root)
    found = with_code(doc, "CL201")
    assert [(f["line"], f["column"]) for f in found] == [(16, 57), (17, 65), (18, 23), (18, 36), (19, 39), (20, 64)]
    assert "hvac.Client(token=)" in found[0]["message"] and "SHConfig(sh_client_secret=)" in found[1]["message"]
    assert "connect(...) is given API_KEY" in found[2]["message"] == found[3]["message"]
    assert "service_account_info['private_key']" in found[5]["message"]
    assert [f for f in doc["findings"] if f["code"].startswith("CL2")] == found
    assert_never_shown(project.root, STRONG, STRONG[::-1], "Lk29-Wp7T", "Kq2LmzP0")


def test_values_written_elsewhere_are_reported_where_the_call_gets_them(project):
    project({"flows/etl.py": f"""
        from prefect import task

        DB = {{"user": "etl", "password": "{STRONG}"}}
        ENGINE_ARGS = {{"password": "{STRONG}"}}

        @task
        def load():
            return connect(**DB), create_engine("postgresql://db/app", connect_args=ENGINE_ARGS)
        """})
    doc = check_json("--no-cache", ".", cwd=project.root)
    assert [(f["line"], f["column"]) for f in with_code(doc, "CL201")] == [(8, 22), (8, 77)]
    assert_never_shown(project.root, STRONG)


def test_calls_outside_prefect_code_are_left_alone(project):
    """The rule reads Prefect 1.x flow code: a script that never imports Prefect is not parsed at
    all with the byte prefilter, and must give the same (no) finding without it."""
    project({"flows/etl.py": "import prefect\n",
             "scripts/admin.py": f'import hvac\nclient = hvac.Client(token="{STRONG}")\n'})
    doc = check_json("--no-cache", ".", cwd=project.root)
    assert with_code(doc, "CL201") == []


def test_credential_names_follow_prefect_only_for_prefect_parameters():
    assert not is_credential_name("webhook_secret") and is_credential_env_name("ACME_ADMIN_SECRET")
    assert is_credential_name("sh_client_secret") and is_credential_name("service_account_info")
    for label in ("token_uri", "secret_name", "password_file", "auth_method", "key", "model_secret_params",
                  "REGISTRY_AUTH_HTPASSWD_REALM"):
        assert not is_credential_env_name(label), label


# ---------------------------------------------------------------------------------------------
# 3. Deployment-file shapes

def test_deployment_file_shapes(project):
    project({
        "flows/etl.py": "import prefect\n",
        ".env": 'ACME_DB_PASSWORD="zq81-ops-db-pw"\nACME_ADMIN_SECRET="acme-admin-q7v9"\nACME_SECRET_NAME=db\n',
        "docker-compose.yml": """
            services:
              api:
                image: acme/api
                environment:
                  ACME_ADMIN_SECRET: ${ACME_ADMIN_SECRET:-acme-admin-default-42}
                  ACME_API_TOKEN: ${ACME_API_TOKEN:-}
                  ACME_DB_PASSWORD: ${ACME_DB_PASSWORD}
              pusher:
                image: docker
                entrypoint: ["/bin/sh", "-c"]
                command:
                  - |
                    docker login -u=builder -p=letmein42 http://registry:5000
                    docker login -u builder --password-stdin http://registry:5000 < /run/pw
                    prefect agent docker start --label dev
            """,
        "scripts/push.sh": 'docker login -u builder -p "$REGISTRY_PASSWORD" registry\n'
                           "podman login --username builder --password Pod-Lit-0x9 registry\n",
        "Dockerfile": "FROM python:3.9\nRUN docker login -u ci --password=Qw9-build-Lit registry && echo ok\n",
        ".prefect/config.toml": """
            backend = "server"
            [objectstore]
            endpoint = "minio:9000"
            key = "acmeuser"
            secret = "acme-objstore-pw-77"
            """,
        "deploy/config.toml": """
            [server]
            host = "http://172.17.0.1"
            [s3]
            key = "minio"
            secret = "minio123"
            token = "${server.host}"
            """,
        "ops/launch.bat": "@echo off\nrem start the graph\nset GRAPH_PASSWORD=Gr4ph-Lit-77\n"
                          "set \"GRAPH_TOKEN=%GRAPH_TOKEN_FROM_VAULT%\"\n"
                          "docker run -d --env GRAPH_AUTH=neo4j/s3cr3tgraph ^\n  --env GRAPH_HOME=/data neo4j:latest\n",
        "ops/login.cmd": "docker login -u ci -p Cmd-Lit-42 registry\n",
    })
    doc = check_json("--no-cache", ".", cwd=project.root)
    assert where(doc, "CL203") == [
        (".env", 1), (".env", 2),
        (".prefect/config.toml", 4), (".prefect/config.toml", 5),  # an access key and its secret
        ("Dockerfile", 2),
        ("deploy/config.toml", 4), ("deploy/config.toml", 5),
        ("docker-compose.yml", 5),
        ("docker-compose.yml", 13),
        ("ops/launch.bat", 3), ("ops/launch.bat", 5),
        ("ops/login.cmd", 1),
        ("scripts/push.sh", 2),
    ]
    messages = " ".join(f["message"] for f in with_code(doc, "CL203"))
    assert "docker login -p" in messages and "objectstore.secret" in messages and "s3.secret" in messages
    assert_never_shown(project.root, "letmein42", "Pod-Lit-0x9", "Qw9-build-Lit", "acme-objstore-pw-77",
                       "Gr4ph-Lit-77", "s3cr3tgraph", "Cmd-Lit-42", "acme-admin-default-42")


# ---------------------------------------------------------------------------------------------
# 4. Prefect Cloud API keys

def test_prefect_cloud_1_keys_are_a_format(project):
    project({"flows/notes.py": f"import prefect\n# login once: prefect auth login --key {PCU_KEY}\n"})
    doc = check_json("--no-cache", ".", cwd=project.root)
    assert where(doc, "CL204") == [("flows/notes.py", 2)]
    assert [m.pattern for m in scan(f"PREFECT_KEY={PCU_KEY}".encode())] == ["prefect-api-key"]
    assert scan(b"PREFECT_KEY=pcu_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx") == []
    assert_never_shown(project.root, PCU_KEY[4:])


# ---------------------------------------------------------------------------------------------
# 5. Not credentials

def test_values_that_are_not_credentials(project):
    project({
        "flows/etl.py": "import prefect\n",
        "config_sample.toml": '[context.secrets]\nSOME_SECRET = "PUT YOUR SECRET VALUE HERE"\n',
        "config_example.toml": '[context.secrets]\nMYSECRET = "MY SECRET VALUE"\n',
        ".env.example": "API_SECRET=Decrypted value as described in the README\nDATABASE_PASSWORD=docker\n",
        ".env": "GOOGLE_APPLICATION_CREDENTIALS=/secrets/key.json\nSERVICE_TOKEN=./keys/token.json\n"
                "WIN_CREDENTIALS=C:\\keys\\sa.json\nREACT_APP_API_KEY=AIzaReactPublic123\n"
                "NEXT_PUBLIC_TOKEN=pub-tok-17\nVITE_SECRET=vite-pub-9\nGATSBY_API_TOKEN=gatsby-pub-3\n"
                "SENTRY_DSN=https://4f8a1b2c3d@o12345.ingest.sentry.io/67890\n"
                "TOKEN_URL=https://login.acme.io/oauth/token\n",
        "docker-compose.yml": """
            services:
              registry:
                image: registry:2
                environment:
                  REGISTRY_AUTH: htpasswd
                  REGISTRY_AUTH_HTPASSWD_REALM: Acme Realm
                  REGISTRY_AUTH_HTPASSWD_PATH: /auth/htpasswd
                  PROXY_AUTH_TYPE: basic
                  GRAPH_AUTH: neo4j/Zr8vQ2mxLk
            """,
    })
    doc = check_json("--no-cache", ".", cwd=project.root)
    # A weak password in a template is still the value the service is deployed with (an Airbyte
    # .env.EXAMPLE); an auth setting holding user/password is a credential.
    assert where(doc, "CL203") == [(".env.example", 2), ("docker-compose.yml", 9)]
    assert with_code(doc, "CL204") == []


def test_value_judgements():
    assert looks_like_path("/secrets/key.json") and looks_like_path("keys/sa.json") and looks_like_path("./t")
    assert not looks_like_path("neo4j/s3cr3tgraph") and not looks_like_path("/wJalrXUtnFEMI/K7MDENG/bPxRfiCY9xq8")
    assert is_example_path(".env.EXAMPLE") and is_example_path("config_sample.toml") and \
        is_example_path("settings.toml.dist") and not is_example_path("docker-compose.yml")
    assert is_prose("Decrypted value as described in the README") and not is_prose("correct-horse")
    assert is_auth_method("htpasswd") and not is_auth_method("neo4j/Zr8vQ2mxLk")


def test_parameters_that_carry_secret_names_are_not_cl302(project):
    project({"flows/dbt.py": """
        from prefect import Flow, Parameter

        with Flow("dbt run") as flow:
            model_secret_paths = Parameter("model_secret_params", default={})
            secret_map = Parameter("secret_map", default={})
            secret = Parameter("secret", default=None)
            vault = Parameter("vault_secret", default="/secret/data/dbt")
            token = Parameter("api_token")
            shaped = Parameter("secret_map_2", default="ghp_R8dK2mQx7LpZ4vN9" "tB3wY6cH1fJ5sA0eG2uT")
            client = Parameter("client_secret", default=None)
        """})
    doc = check_json("--no-cache", ".", cwd=project.root)
    assert where(doc, "CL302") == [("flows/dbt.py", 8), ("flows/dbt.py", 9), ("flows/dbt.py", 10)]
    assert names_only_a_secret("secret_map") and not names_only_a_secret("client_secret")
