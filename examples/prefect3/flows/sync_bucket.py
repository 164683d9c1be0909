"""Copies the partner's drop into the raw bucket (Prefect 3.x)."""
from prefect import flow, task
from prefect_aws import AwsCredentials, S3Bucket


@task
def copy_drop(bucket: S3Bucket) -> int:
    return len(bucket.list_objects("drop/"))


@flow
async def sync_bucket():
    # Unawaited inside async def: a coroutine, not the block.
    credentials = AwsCredentials.load("prod")
    # aws_credentials= is not a field of S3Bucket: dropped, and the bucket uses boto3's chain.
    raw = S3Bucket(bucket_name="acme-raw", aws_credentials=credentials)
    archive = S3Bucket(bucket_name="acme-archive", credentials=await AwsCredentials.load("prdo"))
    copy_drop(raw)
    copy_drop(archive)
