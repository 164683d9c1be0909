"""Partner file transfer, then a dbt Cloud job."""
from prefect import Flow
from prefect.storage import S3
from prefect.tasks.dbt import DbtCloudRunJob
from prefect.tasks.secrets import PrefectSecret
from prefect.tasks.sftp import SftpDownload

download = SftpDownload(host="sftp.partner.example", port_number=22)

with Flow("partner-transfer", storage=S3(bucket="acme-flows", secrets=["AWS_CREDENTIALS"])) as flow:
    password = PrefectSecret("PARTNER_SFTP_PASSWORD")
    files = download(remote_path="/outbox/orders.csv", username="acme", password=password)
    DbtCloudRunJob(cause="partner files arrived")(upstream_tasks=[files])
