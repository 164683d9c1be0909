"""An old flow that was half-migrated and no longer parses."""
from prefect import Flow

with Flow("legacy") as flow
    pass
