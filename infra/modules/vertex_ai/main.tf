# Vertex AI: the online endpoint (models are deployed into it by the deploy function, canary traffic split included;
# Terraform owns the endpoint, not its deployed models), the trainer and server identities, and the route by which
# training-job state reaches the loop: Cloud Logging sink → Pub/Sub.
#
# CustomJobs have no state-change event. Their service writes log entries (resource.type="ml_job",
# resource.labels.task_name="service": "Job is running." ... "Job completed successfully."). The sink forwards those
# entries to `job_state_topic`; the consumer calls getCustomJob and acts only on terminal states (SUCCEEDED, FAILED,
# CANCELLED, EXPIRED), idempotently per job id, publishing ctloop.training.completed.v1. The consumer is the
# `complete-training` function (shared/topology/message-functions.ts), deployed by the platform with the event_function
# module: its push subscription on this topic dead-letters to `<job_state_topic>-dead-letter` below. A scheduler job
# publishes {"reconcile": true} to the same topic every 15 minutes (the safety net for lost log lines).

resource "google_vertex_ai_endpoint" "this" {
  project      = var.project_id
  name         = var.endpoint_id
  display_name = var.endpoint_display_name
  description  = "ctloop online inference endpoint (champion + canary traffic split managed by the deploy function)."
  location     = var.region
  labels       = var.labels

  # Every sampled request and response, with the deployed model that answered, lands in BigQuery.
  predict_request_response_logging_config {
    enabled       = true
    sampling_rate = var.request_log_sampling_rate

    bigquery_destination {
      output_uri = "bq://${var.project_id}.${google_bigquery_dataset.request_log.dataset_id}.${var.request_log_table}"
    }
  }

  depends_on = [google_bigquery_dataset_iam_member.request_log_writer]
}

# Request-response log of the endpoint (predictRequestResponseLoggingConfig). The dataset is Terraform's; the
# table is created by Vertex AI on the first logged request with its fixed schema (endpoint, deployed_model_id,
# logging_time, request_id, request_payload, response_payload): the API requires that a named table does not exist
# yet, so Terraform never creates it. Vertex AI's service agent writes it and nothing else is granted here.
resource "google_bigquery_dataset" "request_log" {
  project                    = var.project_id
  dataset_id                 = var.request_log_dataset_id
  location                   = var.bq_location
  description                = "ctloop: Vertex AI endpoint request-response log (table ${var.request_log_table}, created by Vertex AI)."
  labels                     = var.labels
  delete_contents_on_destroy = !var.deletion_protection
}

resource "google_bigquery_dataset_iam_member" "request_log_writer" {
  project    = var.project_id
  dataset_id = google_bigquery_dataset.request_log.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = "serviceAccount:${var.vertex_service_agent}"
}

# Callers of the endpoint: named members only (never allUsers / allAuthenticatedUsers, refused by the variable's
# validation), with a custom role that can call predict / rawPredict and nothing else.
resource "google_project_iam_custom_role" "endpoint_invoker" {
  project     = var.project_id
  role_id     = "ctloopEndpointInvoker"
  title       = "ctloop endpoint invoker"
  description = "Call predict and rawPredict on Vertex AI endpoints; no deploy, no read of models or data."
  permissions = ["aiplatform.endpoints.predict"]
}

resource "google_project_iam_member" "endpoint_invoker" {
  for_each = toset(var.endpoint_invokers)

  project = var.project_id
  role    = google_project_iam_custom_role.endpoint_invoker.id
  member  = each.value
}

# Identity of training CustomJobs (passed as jobSpec.serviceAccount).
resource "google_service_account" "trainer" {
  project      = var.project_id
  account_id   = "ctloop-trainer"
  display_name = "ctloop Vertex AI trainer"
  description  = "Runs Vertex AI CustomJobs: reads features from BigQuery, writes models and baselines to the artifact bucket."
}

# Identity of deployed model containers (DeployedModel.serviceAccount).
resource "google_service_account" "server" {
  project      = var.project_id
  account_id   = "ctloop-server"
  display_name = "ctloop Vertex AI model server"
  description  = "Runs the serving container of deployed models: reads model artifacts."
}

resource "google_bigquery_dataset_iam_member" "trainer_features" {
  project    = var.project_id
  dataset_id = var.dataset_id
  role       = "roles/bigquery.dataViewer"
  member     = "serviceAccount:${google_service_account.trainer.email}"
}

locals {
  trainer_project_roles = ["roles/bigquery.jobUser", "roles/bigquery.readSessionUser"]
}

resource "google_project_iam_member" "trainer" {
  for_each = toset(local.trainer_project_roles)

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.trainer.email}"
}

resource "google_storage_bucket_iam_member" "trainer_artifacts" {
  bucket = var.artifact_bucket
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${google_service_account.trainer.email}"
}

resource "google_storage_bucket_iam_member" "server_artifacts" {
  bucket = var.artifact_bucket
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.server.email}"
}

# Training-job state: log sink → topic (+ the dead-letter topic of the consumer's push subscription, held).
resource "google_pubsub_topic" "job_state" {
  project                    = var.project_id
  name                       = var.job_state_topic
  labels                     = var.labels
  message_retention_duration = "86400s"
}

resource "google_pubsub_topic" "job_state_dead_letter" {
  project = var.project_id
  name    = "${var.job_state_topic}-dead-letter"
  labels  = merge(var.labels, { ctloop-role = "dead-letter" })
}

resource "google_pubsub_subscription" "job_state_dead_letter_hold" {
  project                    = var.project_id
  name                       = "${var.job_state_topic}-dead-letter-hold"
  topic                      = google_pubsub_topic.job_state_dead_letter.id
  labels                     = merge(var.labels, { ctloop-role = "dead-letter" })
  message_retention_duration = "604800s"

  expiration_policy {
    ttl = ""
  }
}

resource "google_pubsub_topic_iam_member" "job_state_dead_letter_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.job_state_dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${var.pubsub_service_agent}"
}

resource "google_logging_project_sink" "job_state" {
  project                = var.project_id
  name                   = "ctloop-vertex-job-state"
  description            = "Vertex AI CustomJob service log lines (state changes) to Pub/Sub."
  destination            = "pubsub.googleapis.com/${google_pubsub_topic.job_state.id}"
  filter                 = "resource.type=\"ml_job\" AND resource.labels.task_name=\"service\""
  unique_writer_identity = true
}

resource "google_pubsub_topic_iam_member" "sink_writer" {
  project = var.project_id
  topic   = google_pubsub_topic.job_state.name
  role    = "roles/pubsub.publisher"
  member  = google_logging_project_sink.job_state.writer_identity
}
