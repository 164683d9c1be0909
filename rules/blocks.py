"""CL401 and CL402: Prefect 2.x/3.x blocks that are loaded but declared nowhere, or declared under
another type."""
from credlint.engine import Hit, Invalid, Valid, rule

_WRITE_HINT = "`credlint blocks --write` writes the list from your workspace"


def _short(cls):
    return cls.rsplit(".", 1)[-1] if cls else "Block"


def _label(need) -> str:
    """How the need reads in a message: `AwsCredentials.load("prod")` or the template."""
    if need.source == "reference":
        where = f"deployment '{need.deployment}'" if need.deployment else f"the {need.where} section"
        return f"{{{{ prefect.blocks.{need.slug}.{need.name} }}}} in {where}"
    load = need.load
    base = bool(load.cls and load.cls.endswith(".Block"))
    if need.via:  # the name is another module's constant
        return f"{'Block' if base else _short(need.cls)}.{load.method}({need.via.rsplit('.', 1)[-1]})"
    if base and need.slug:
        return f'Block.{load.method}("{need.slug}/{need.name}")'
    return f'{_short(need.cls)}.{load.method}("{need.name}")'


def _class_of(model, need) -> str:
    if need.source == "load" and need.cls and not need.cls.endswith(".Block"):
        return _short(need.cls)
    found = model.classes_for(need.slug)
    return _short(found[0]) if found else "YourBlock"


@rule(
    "CL401", "missing-block", "error",
    bad=[
        Invalid(files={
            "setup_blocks.py": """
                import os
                from prefect_aws import AwsCredentials

                AwsCredentials(aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                               aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"]).save("prod", overwrite=True)
                """,
            "flows/etl.py": """
                from prefect import flow
                from prefect_aws import AwsCredentials

                @flow
                def etl():
                    creds = AwsCredentials.load("prd")
                """},
            title="a typo: the repository saves 'prod' and the flow loads 'prd'",
            path="flows/etl.py", line=6, column=13,
            message="AwsCredentials.load(\"prd\") needs block 'aws-credentials/prd', which is declared nowhere in "
                    "this repository (no .save, Terraform resource or blocks list makes it); did you mean "
                    "'aws-credentials/prod' (setup_blocks.py:5)?"),
        Invalid(files={
            "flows/notify.py": """
                from prefect import flow
                from prefect.blocks.system import Secret

                @flow
                def notify():
                    token = Secret.load("slack-token").get()
                """},
            config='blocks = ["secret/slack-bot-token"]\n',
            title="a blocks list is configured and lacks the block: an error",
            path="flows/notify.py", line=6, column=13,
            message="Secret.load(\"slack-token\") needs block 'secret/slack-token', which is not in the blocks list "
                    "and declared nowhere in this repository; did you mean 'secret/slack-bot-token' (the config's "
                    "blocks list)?"),
    ],
    good=[
        Valid(files={
            "setup_blocks.py": """
                from prefect.blocks.system import Secret
                import os

                Secret(value=os.environ["SLACK_TOKEN"]).save("slack-token", overwrite=True)
                """,
            "flows/notify.py": """
                from prefect import flow
                from prefect.blocks.system import Secret

                @flow
                def notify():
                    token = Secret.load("slack-token").get()
                """}),
        Valid("""
            from prefect import flow
            from prefect.blocks.system import Secret

            @flow
            def notify():
                token = Secret.load("slack-token").get()
            """, title="nothing in the repository declares blocks: they are made elsewhere"),
        Valid(files={
            "flows/notify.py": """
                from prefect import flow
                from prefect.blocks.system import Secret

                @flow
                def notify():
                    token = Secret.load("slack-token").get()
                """},
            config='blocks = ["secret/slack-token"]\n'),
    ],
)
def check_missing_block(project):
    """A block document is loaded or referenced by name and declared nowhere.

    ## What it does
    Finds `Cls.load("name")`, `await Cls.aload("name")`, `Block.load("slug/name")` and
    `{{ prefect.blocks.slug.name }}` in a `prefect.yaml` whose block document nothing declares:
    no `.save("name")` / `asave` of a class of that slug anywhere in the repository, no Terraform
    `prefect_block` resource, and no entry in the config's `blocks` list.

    With a `blocks` list configured (the workspace's blocks, `credlint blocks --write`), a block
    that is not in it is an error. Without one, credlint cannot see the workspace: it warns only
    when the repository itself makes blocks of the same type (a `.save` or a Terraform resource
    of that slug) — then it is where this project's blocks of that type are made, and one it
    never makes is most often a typo or a forgotten setup line. Blocks of a type the repository
    never makes are made elsewhere (the UI, another repository) and get no warning, so a project
    that declares nothing is not flooded. A load inside a `try` that catches the `ValueError` of
    a missing block is left alone, and so is a name that is computed, or one a declaration with a
    computed name (`"${var.env}-aws"`) may make.

    ## Why is this bad?
    Prefect finds out only when the code runs: `ValueError: Unable to find block document named
    prd for block type aws-credentials`, in the middle of a flow run (or at `prefect deploy`, for
    a template), after the work before it has been done.

    ## Example
    ```python
    AwsCredentials(...).save("prod")           # setup_blocks.py
    creds = AwsCredentials.load("prd")          # flows/etl.py: a typo
    ```

    ## How to fix
    Load the name that exists, or create the block once (`AwsCredentials(...).save("prd")` in a
    setup script, a Terraform `prefect_block`, or the UI) and list it in the config's `blocks`
    (`blocks = ["aws-credentials/prd"]`; `credlint blocks --write` writes the list from the
    workspace, names only).
    """
    model = project.blocks
    if model is None:
        return
    for need in model.needs:
        if (need.state == "provided" or need.maybe or need.guarded or need.others or not need.known_slug
                or need.slug is None):
            continue
        if not model.configured and not model.makes(need.slug):
            continue  # blocks of this type are made elsewhere (the UI, another repository)
        if model.configured:
            why = "which is not in the blocks list and declared nowhere in this repository"
        else:
            why = ("which is declared nowhere in this repository (no .save, Terraform resource or blocks list "
                   "makes it)")
        close = model.closest(need)
        hint = f"; did you mean '{close.ref}' ({close.where()})?" if close is not None else ""
        fixes = [f'create it once: {_class_of(model, need)}(...).save("{need.name}")',
                 f'add "{need.ref}" to the blocks list of the credlint config once it exists ({_WRITE_HINT})']
        if close is not None:
            fixes.insert(0, f"use the declared name '{close.name}'")
        yield Hit(
            path=need.path, pos=need.pos, secret=need.ref, symbol=need.cls,
            severity=None if model.configured else "warning",
            message=f"{_label(need)} needs block '{need.ref}', {why}{hint}",
            fix="; or ".join(fixes),
        )


@rule(
    "CL402", "block-type-mismatch", "error",
    bad=[
        Invalid(files={
            "setup_blocks.py": """
                import os
                from prefect.blocks.notifications import SlackWebhook

                SlackWebhook(url=os.environ["SLACK_WEBHOOK_URL"]).save("alerts", overwrite=True)
                """,
            "flows/report.py": """
                from prefect import flow
                from prefect_slack import SlackWebhook

                @flow
                def report():
                    hook = SlackWebhook.load("alerts")
                """},
            title="two SlackWebhook classes: saved as slack-webhook, loaded as slack-incoming-webhook",
            path="flows/report.py", line=6, column=12,
            message="SlackWebhook.load(\"alerts\") looks for block 'slack-incoming-webhook/alerts', but 'alerts' is "
                    "declared as 'slack-webhook/alerts' (setup_blocks.py:4); load it with "
                    "prefect.blocks.notifications.SlackWebhook"),
        Invalid("""
            from prefect import flow
            from prefect.blocks.core import Block

            @flow
            def etl():
                creds = Block.load("aws-credential/prod")
            """, title="a slug no block class has",
            line=6, column=13,
            message="Block.load(\"aws-credential/prod\") names block type 'aws-credential', which no known block "
                    "class has; did you mean 'aws-credentials' (prefect_aws.AwsCredentials)?"),
    ],
    good=[
        Valid(files={
            "setup_blocks.py": """
                import os
                from prefect_slack import SlackWebhook

                SlackWebhook(url=os.environ["SLACK_WEBHOOK_URL"]).save("alerts", overwrite=True)
                """,
            "flows/report.py": """
                from prefect import flow
                from prefect_slack import SlackWebhook

                @flow
                def report():
                    hook = SlackWebhook.load("alerts")
                """}),
        Valid("""
            from prefect import flow
            from prefect.blocks.core import Block

            @flow
            def etl():
                creds = Block.load("aws-credentials/prod")
            """),
    ],
)
def check_block_type_mismatch(project):
    """A block is loaded through a type other than the one it is declared with, or through a slug
    no block class has.

    ## What it does
    Finds loads and `{{ prefect.blocks.slug.name }}` references of a name that the repository
    (a `.save`, a Terraform resource) or the config's `blocks` list declares under another block
    type slug only — e.g. a block saved with `prefect.blocks.notifications.SlackWebhook` (slug
    `slack-webhook`) and loaded with `prefect_slack.SlackWebhook` (slug
    `slack-incoming-webhook`), or a `Secret` loaded as a `String` — and `Block.load("slug/name")`
    or templates whose slug no catalogued or project block class has.

    ## Why is this bad?
    Prefect looks a document up by slug *and* name: the load fails with `Unable to find block
    document named alerts for block type slack-incoming-webhook` although a block called `alerts`
    exists. A slug no class has can never be loaded.

    ## Example
    ```python
    from prefect.blocks.notifications import SlackWebhook   # slug slack-webhook
    SlackWebhook(url=...).save("alerts")
    from prefect_slack import SlackWebhook                  # slug slack-incoming-webhook
    SlackWebhook.load("alerts")
    ```

    ## How to fix
    Load the block with the class it was saved with (the message names it), or save it again with
    the class you load it with; fix the slug of a `Block.load("slug/name")` or a template.
    """
    model = project.blocks
    if model is None:
        return
    for need in model.needs:
        if need.state == "provided" or need.slug is None:
            continue
        if not need.known_slug and not model.declared_under(need.slug):
            close = model.close_slug(need.slug)
            classes = model.classes_for(close) if close else []
            hint = (f"; did you mean '{close}'" + (f" ({classes[0]})" if classes else "") + "?") if close else ""
            if need.others:
                declared = model.declaration_of(need.name, need.others[0])
                hint += f" ('{need.name}' is declared as '{declared.ref}', {declared.where()})"
            yield Hit(
                path=need.path, pos=need.pos, secret=need.ref, symbol=need.cls,
                severity=None if close or need.others else "warning",
                message=f"{_label(need)} names block type '{need.slug}', which no known block class has{hint}",
                fix=(f"use the slug '{close or need.others[0]}'" if close or need.others else
                     "use the slug of the block's class (`credlint catalog` lists them), or list the block in the "
                     "config's blocks if its class comes from a package credlint does not know"),
            )
        elif need.others:
            other = need.others[0]
            declared = model.declaration_of(need.name, other)
            classes = model.classes_for(other)
            use = classes[0] if classes else f"a class of slug '{other}'"
            yield Hit(
                path=need.path, pos=need.pos, secret=need.ref, symbol=need.cls,
                message=(f"{_label(need)} looks for block '{need.ref}', but '{need.name}' is declared as "
                         f"'{other}/{need.name}' ({declared.where()}); load it with {use}"),
                fix=(f'load it with {use}.load("{need.name}"), or save it as a {_class_of(model, need)} '
                     f"(slug '{need.slug}')"),
            )
