# Cloud Scheduler jobs with Pub/Sub targets (drift checks per feature view, scheduled retraining). Every job's body is
# the event's `data` JSON, validated against the catalog's zod schema by `ctloop infra gen` and by the topology
# tests; attributes carry the event type and `ctloop-body=data` (see shared/topology/scheduler-message.ts), so the
# consumer builds a fresh envelope per run (id = messageId, time = publishTime).

resource "google_cloud_scheduler_job" "this" {
  for_each = var.jobs

  project     = var.project_id
  region      = var.region
  name        = each.key
  description = each.value.description
  schedule    = lookup(var.schedule_overrides, each.key, each.value.schedule)
  time_zone   = each.value.time_zone
  paused      = var.paused

  retry_config {
    retry_count = 3
  }

  pubsub_target {
    topic_name = var.topic_ids[each.value.topic]
    data       = base64encode(each.value.data_json)
    attributes = each.value.attributes
  }
}
