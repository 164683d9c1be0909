"""Daily report: everything it needs is declared where the flow runs."""
from prefect import Flow, Parameter
from prefect.run_configs import KubernetesRun
from prefect.storage import GCS
from prefect.tasks.gcp.storage import GCSDownload, GCSUpload
from prefect.tasks.secrets import PrefectSecret
from prefect.tasks.snowflake import SnowflakeQuery

download = GCSDownload(bucket="acme-reports")
upload = GCSUpload(bucket="acme-archive")
query = SnowflakeQuery(account="acme-eu1", user="reporter", warehouse="REPORT_WH")

with Flow(
    "daily-report",
    storage=GCS(bucket="acme-flows", secrets=["GCP_CREDENTIALS"]),
    run_config=KubernetesRun(service_account_name="daily-report", labels=["k8s"]),
) as flow:
    day = Parameter("day", default="today")
    password = PrefectSecret("SNOWFLAKE_PASSWORD")
    rows = query(query="select * from daily_orders", password=password)
    data = download(blob="reports/daily.csv")
    upload(data=data, blob="archive/daily.csv")
