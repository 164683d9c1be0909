"""Task instances shared by the team's flows."""
from prefect.tasks.aws.s3 import S3Download, S3Upload

download_orders = S3Download(bucket="acme-raw-orders")
upload_report = S3Upload(bucket="acme-reports")
