# One catalogued event topic, its dead-letter topic, and a subscription that keeps dead letters (messages published
# to a topic without subscriptions are dropped, so without it a dead-lettered message would simply vanish).

resource "google_pubsub_topic" "this" {
  project                    = var.project_id
  name                       = var.name
  labels                     = var.labels
  message_retention_duration = var.message_retention_duration
}

resource "google_pubsub_topic" "dead_letter" {
  project = var.project_id
  name    = var.dead_letter_topic
  labels  = merge(var.labels, { ctloop-role = "dead-letter" })
}

# End of the line: nothing consumes it automatically. Inspect or replay with `gcloud pubsub subscriptions pull`.
# Its backlog is what the monitoring module alerts on.
resource "google_pubsub_subscription" "dead_letter_hold" {
  project                    = var.project_id
  name                       = "${var.dead_letter_topic}-hold"
  topic                      = google_pubsub_topic.dead_letter.id
  labels                     = merge(var.labels, { ctloop-role = "dead-letter" })
  ack_deadline_seconds       = 60
  message_retention_duration = var.dead_letter_retention
  retain_acked_messages      = false

  expiration_policy {
    ttl = ""
  }
}

# The Pub/Sub service agent forwards undeliverable messages: it must be allowed to publish here.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${var.pubsub_service_agent}"
}
