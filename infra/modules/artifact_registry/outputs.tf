output "repository_url" {
  description = "Image prefix: <region>-docker.pkg.dev/<project>/<repository>."
  value       = "${google_artifact_registry_repository.images.location}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.images.repository_id}"
}
