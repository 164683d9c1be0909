"""Run once per workspace: saves the blocks the flows load (values from the environment)."""
import os

from prefect.blocks.system import Secret
from prefect_aws import AwsCredentials
from prefect_slack import SlackWebhook

AwsCredentials(
    aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
    aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
).save("prod", overwrite=True)

# A sandbox block with no keys: boto3 picks whatever identity the worker has.
AwsCredentials(region_name="eu-west-1").save("sandbox", overwrite=True)

SlackWebhook(url=os.environ["SLACK_WEBHOOK_URL"]).save("alerts", overwrite=True)

# The partner API token, pasted in while testing and never taken out.
Secret(value="pk_live_7Hq2Lm9Xv4Rt8Wn3Zc6Yb1Ks").save("partner-api-token", overwrite=True)
