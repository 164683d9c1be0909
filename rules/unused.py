"""CL104: secrets declared for a flow that nothing in the flow reads."""
from credlint.engine import Hit, Invalid, Valid, rule


@rule(
    "CL104", "unused-secret", "warning",
    bad=[Invalid("""
        from prefect import Flow
        from prefect.storage import GCS
        from prefect.tasks.gcp.storage import GCSDownload

        with Flow("reports", storage=GCS(bucket="flows", secrets=["GCP_CREDENTIALS", "AWS_CREDENTIALS"])) as flow:
            GCSDownload(bucket="raw")(blob="orders.csv")
        """, title="AWS_CREDENTIALS is handed to every run but nothing uses AWS",
        line=5, column=78,
        message="secret 'AWS_CREDENTIALS' is declared in storage secrets of flow 'reports' but nothing in the flow "
                "reads it")],
    good=[Valid("""
        from prefect import Flow
        from prefect.storage import GCS
        from prefect.tasks.gcp.storage import GCSDownload

        with Flow("reports", storage=GCS(bucket="flows", secrets=["GCP_CREDENTIALS"])) as flow:
            GCSDownload(bucket="raw")(blob="orders.csv")
        """)],
)
def check_unused_secret(declaration, project):
    """A flow declares a secret for its runs that none of its tasks, storage or handlers reads.

    ## What it does
    Compares the secrets a flow declares — storage `secrets=[...]` and run-config
    `env={"PREFECT__CONTEXT__SECRETS__NAME": ...}` — with the secrets its consumers read. A name
    nothing reads is reported, with the closest needed name when it looks like a typo.
    Flows that call tasks credlint cannot see into are not reported.

    Secrets that reach several flows are compared with all of them: an agent's `--env` with the
    flows the agent serves, and a checked-in Prefect `config.toml`'s `[context.secrets]` with
    every flow of the project (such a file is installed or mounted as the user config of the
    processes that run flows; which ones is not visible, so every read in the project counts).
    Example, sample and template configs are loaded nowhere and declare nothing.

    ## Why is this bad?
    Every declared secret is loaded into every run of the flow: an unused one widens what a
    compromised task could reach (least privilege), and a misspelt one means the real name is
    not provided at all.

    ## How to fix
    Remove the declaration, or correct the name to the one the task reads.
    """
    flow = declaration.flow
    if declaration.kind == "config_toml":
        yield from _unused_config_secret(declaration, project)
        return
    if flow is None:
        yield from _unused_agent_secret(declaration, project)
        return
    if flow.opaque:
        return
    needed = project.needed_names(flow)
    if declaration.name in needed or declaration.name in project.helper_reads():
        return
    close = project.close_name(declaration.name, needed | project.default_names())
    where = "storage secrets" if declaration.kind == "storage" else f"run config env {declaration.key}"
    hint = f"; did you mean '{close}'?" if close and close != declaration.name else ""
    yield Hit(
        path=declaration.path, pos=declaration.pos, secret=declaration.name, flow=flow.name,
        message=f"secret '{declaration.name}' is declared in {where} of flow '{flow.name}' but nothing in the flow reads it{hint}",
        fix=(f"rename it to '{close}'" if hint else "remove it from the declaration"),
    )


def _unused_agent_secret(declaration, project):
    """An agent's --env secret that no flow it serves reads."""
    served = project.flows_served(declaration.agent)
    if not served or any(f.opaque for f in served):
        return
    needed = set()
    for flow in served:
        needed |= project.needed_names(flow)
    if declaration.name in needed or declaration.name in project.helper_reads():
        return
    close = project.close_name(declaration.name, needed | project.default_names())
    hint = f"; did you mean '{close}'?" if close and close != declaration.name else ""
    agent = f"{declaration.agent.type} agent" if declaration.agent else "the agent"
    yield Hit(
        path=declaration.path, pos=declaration.pos, secret=declaration.name,
        message=(f"secret '{declaration.name}' is passed by {agent} to every flow run ({declaration.key}) but none "
                 f"of the {len(served)} flow(s) it serves reads it{hint}"),
        fix=(f"rename it to '{close}'" if hint else "remove it from the agent's --env"),
    )


def _unused_config_secret(declaration, project):
    """A Prefect config's [context.secrets] entry that nothing in the project reads.

    Such a config reaches every flow run where it is loaded, which credlint cannot narrow down,
    so every read in the project counts: flows' needs, storage `secrets=[...]` (loaded through
    the context at flow-run start) and any `Secret(...).get()` or context read, even in a script."""
    flows = project.flows
    if not flows or any(f.opaque for f in flows):
        return
    used = set(project.helper_reads())
    for flow in flows:
        if any(n.state == "unknown" for n in flow.needs):
            return  # a name computed at run time could be this one
        used |= project.needed_names(flow)
        used |= {d.name for d in flow.declarations if d.kind == "storage"}
    for module in project.modules.values():
        for read in module.reads:
            if read.name is None:
                return
            used.add(read.name)
    if declaration.name in used:
        return
    close = project.close_name(declaration.name, used | project.default_names())
    hint = f"; did you mean '{close}'?" if close and close != declaration.name else ""
    yield Hit(
        path=declaration.path, pos=declaration.pos, secret=declaration.name,
        message=(f"secret '{declaration.name}' is set in [context.secrets] of a Prefect config, which every flow "
                 f"run loading it gets, but none of the {len(flows)} flow(s) in the project reads it{hint}"),
        fix=(f"rename it to '{close}'" if hint else "remove it from [context.secrets]"),
    )
