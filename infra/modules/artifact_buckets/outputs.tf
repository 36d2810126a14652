output "artifact_bucket" {
  description = "Name of the artifact bucket."
  value       = google_storage_bucket.artifacts.name
}

output "source_bucket" {
  description = "Name of the function source bucket."
  value       = google_storage_bucket.function_sources.name
}
