output "artifact_bucket" {
  description = "Set CTLOOP_ARTIFACT_BUCKET to this."
  value       = module.platform.artifact_bucket
}

output "dataset_id" {
  description = "Set CTLOOP_BQ_DATASET to this."
  value       = module.platform.dataset_id
}

output "function_service_accounts" {
  description = "Service account of each function."
  value       = module.platform.function_service_accounts
}

output "image_repository" {
  description = "Artifact Registry image prefix."
  value       = module.platform.image_repository
}

output "vertex_endpoint" {
  description = "Vertex AI endpoint resource name."
  value       = module.platform.vertex_endpoint
}
