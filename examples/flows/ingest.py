"""Nightly ingest: orders from S3 into the warehouse bucket."""
import functools

from prefect import Flow, task
from prefect.engine.state import Failed
from prefect.run_configs import DockerRun
from prefect.storage import Docker
from prefect.utilities.notifications import slack_notifier

from tasks.common import download_orders, upload_report


@task
def clean(raw: bytes) -> str:
    return raw.decode("utf-8").strip()


alert = functools.partial(slack_notifier, only_states=[Failed], webhook_secret="INGEST_SLACK_HOOK")

with Flow(
    "ingest-orders",
    storage=Docker(registry_url="registry.acme.io", image_name="ingest", secrets=["AWS_CREDENTAILS"]),
    run_config=DockerRun(labels=["etl"]),
    state_handlers=[alert],
) as flow:
    raw = download_orders(key="orders/latest.csv")
    report = clean(raw)
    upload_report(data=report, key="reports/orders.csv")
