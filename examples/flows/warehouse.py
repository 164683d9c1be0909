"""Load cleaned orders into Snowflake."""
from prefect import Flow, Parameter
from prefect.client import Secret
from prefect.tasks.snowflake import SnowflakeQuery

# Read once when the module is imported, i.e. on the machine that registers the flow.
ANALYTICS_TOKEN = Secret("ANALYTICS_TOKEN").get()

WAREHOUSE_PASSWORD = "Tr0ub4dor&3-horse-" + "battery"

load = SnowflakeQuery(
    account="acme-eu1",
    user="loader",
    password=WAREHOUSE_PASSWORD,
    warehouse="LOAD_WH",
)

with Flow("warehouse-load") as flow:
    api_token = Parameter("api_token")
    load(query="copy into orders from @orders_stage")
