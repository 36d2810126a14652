output "endpoint_id" {
  description = "Full resource name of the endpoint (projects/<p>/locations/<r>/endpoints/<id>)."
  value       = google_vertex_ai_endpoint.this.id
}

output "job_state_subscription" {
  description = "Pull subscription with Vertex AI job-state log entries."
  value       = google_pubsub_subscription.job_state.name
}

output "job_state_topic_id" {
  description = "Full id of the job-state topic."
  value       = google_pubsub_topic.job_state.id
}

output "server_service_account" {
  description = "Full id of the model server service account."
  value       = google_service_account.server.name
}

output "server_service_account_email" {
  description = "Email of the model server service account."
  value       = google_service_account.server.email
}

output "trainer_service_account" {
  description = "Full id of the trainer service account."
  value       = google_service_account.trainer.name
}

output "trainer_service_account_email" {
  description = "Email of the trainer service account."
  value       = google_service_account.trainer.email
}
