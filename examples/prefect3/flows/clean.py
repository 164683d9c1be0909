"""Warehouse load: every block it needs is saved in setup/ or listed in credlint.toml."""
from prefect import flow, task
from prefect.blocks.system import Secret
from prefect.variables import Variable
from prefect_aws import AwsCredentials, S3Bucket


@task
def load_orders(bucket: S3Bucket, host: str) -> int:
    password = Secret.load("warehouse-password").get()
    return len(bucket.read_path("orders/latest.csv")) + len(password) + len(host)


@flow
def warehouse_load():
    bucket = S3Bucket(bucket_name="acme-raw", credentials=AwsCredentials.load("prod"))
    host = Variable.get("warehouse_host", default="localhost")
    return load_orders(bucket, host)


if __name__ == "__main__":
    warehouse_load.deploy(name="nightly", work_pool_name="k8s", image="acme/warehouse:1.4")
