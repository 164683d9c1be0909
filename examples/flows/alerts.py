"""Alerts for the on-call channel."""
import prefect
from prefect import Flow
from prefect.run_configs import LocalRun
from prefect.tasks.notifications import SlackTask

# The old bot token, kept "just in case": xoxb-2750834173-4879150326481-Qm7TzR2kVx9LpN3wYb6HcJ1d
prefect.context.secrets["SLACK_WEBHOOK_URL"] = "https://hooks.slack.com/services/T07QX3MZ1/B09RK2LP4/Hn4vWq8Ys2Ld6Kp0"

with Flow(
    "alerts",
    run_config=LocalRun(env={"PREFECT__CONTEXT__SECRETS__PAGER_TOKEN": "u+7ZK0p9Qm2LxW4vRt"}),
) as flow:
    SlackTask(message="orders loaded")()
