# The workspace's blocks that are not saved from setup/.
resource "prefect_block" "warehouse_password" {
  name      = "warehouse-password"
  type_slug = "secret"
  data = jsonencode({
    value = var.warehouse_password
  })
}

resource "prefect_block" "reporting_webhook" {
  name      = "reporting"
  type_slug = "slack-webhook"
  data = jsonencode({
    url = "https://hooks.slack.com/services/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"
  })
}

variable "warehouse_password" {
  type      = string
  sensitive = true
}
