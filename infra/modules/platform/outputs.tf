output "artifact_bucket" {
  description = "CTLOOP_ARTIFACT_BUCKET."
  value       = module.buckets.artifact_bucket
}

output "dataset_id" {
  description = "CTLOOP_BQ_DATASET."
  value       = module.feature_dataset.dataset_id
}

output "function_service_accounts" {
  description = "Service account email of each function."
  value       = { for name, f in module.functions : name => f.service_account_email }
}

output "image_repository" {
  description = "Artifact Registry image prefix."
  value       = module.artifact_registry.repository_url
}

output "scheduler_jobs" {
  description = "Scheduler job names."
  value       = module.scheduler.job_names
}

output "topics" {
  description = "Full topic ids by name."
  value       = { for name, t in module.topics : name => t.topic_id }
}

output "vertex_endpoint" {
  description = "Vertex AI endpoint resource name."
  value       = module.vertex_ai.endpoint_id
}
