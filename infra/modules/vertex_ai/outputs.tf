output "endpoint_id" {
  description = "Full resource name of the endpoint (projects/<p>/locations/<r>/endpoints/<id>)."
  value       = google_vertex_ai_endpoint.this.id
}

output "job_state_dead_letter_topic_id" {
  description = "Full id of the job-state dead-letter topic (the consumer's push subscription forwards poison entries to it)."
  value       = google_pubsub_topic.job_state_dead_letter.id
}

output "job_state_topic" {
  description = "Name of the job-state topic (the trigger topic of the complete-training function)."
  value       = google_pubsub_topic.job_state.name
}

output "job_state_topic_id" {
  description = "Full id of the job-state topic."
  value       = google_pubsub_topic.job_state.id
}

output "server_service_account" {
  description = "Full id of the model server service account (projects/<p>/serviceAccounts/<email>), known at plan time."
  value       = "projects/${google_service_account.server.project}/serviceAccounts/${google_service_account.server.account_id}@${google_service_account.server.project}.iam.gserviceaccount.com"
}

output "server_service_account_email" {
  description = "Email of the model server service account."
  value       = google_service_account.server.email
}

output "trainer_service_account" {
  description = "Full id of the trainer service account (projects/<p>/serviceAccounts/<email>), known at plan time."
  value       = "projects/${google_service_account.trainer.project}/serviceAccounts/${google_service_account.trainer.account_id}@${google_service_account.trainer.project}.iam.gserviceaccount.com"
}

output "trainer_service_account_email" {
  description = "Email of the trainer service account."
  value       = google_service_account.trainer.email
}

output "trainer_project_roles" {
  description = "Project roles granted to the trainer service account."
  value       = local.trainer_project_roles
}

output "endpoint_invoker_role" {
  description = "Custom role granted to the endpoint's named callers (aiplatform.endpoints.predict only)."
  value       = google_project_iam_custom_role.endpoint_invoker.id
}

output "request_log_table" {
  description = "BigQuery table of the endpoint's request-response log (project.dataset.table; created by Vertex AI)."
  value       = "${var.project_id}.${google_bigquery_dataset.request_log.dataset_id}.${var.request_log_table}"
}
