#!/usr/bin/env bash
# Starts the Docker agent that runs the reporting flows (label "reports").
set -euo pipefail

prefect agent docker start \
  --label reports \
  -e PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS="$AWS_CREDENTIALS" \
  -e PREFECT__CONTEXT__SECRET__PAGER_TOKEN="$PAGER_TOKEN"
