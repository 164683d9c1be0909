"""Posts the nightly summary to Slack (Prefect 3.x)."""
from prefect import flow
from prefect.blocks.notifications import SlackWebhook
from prefect.blocks.system import Secret
from prefect.variables import Variable

# Read at import: on every deploy and on every worker start.
PARTNER_TOKEN = Secret.load("partner-api-token").get()


@flow
def nightly_summary(channel: str = "#data", api_token: str = ""):
    # Saved as prefect_slack's SlackWebhook (slug slack-incoming-webhook), loaded as the core one.
    hook = SlackWebhook.load("alerts")
    bot_token = Variable.get("slack_bot_token")
    hook.notify(f"nightly summary for {channel}")
