output "deployer_service_account_email" {
  description = "Identity of deploy builds."
  value       = google_service_account.deployer.email
}

output "plan_service_account_email" {
  description = "Identity of pull-request builds."
  value       = google_service_account.plan.email
}

output "trigger_ids" {
  description = "Cloud Build trigger ids."
  value       = [google_cloudbuild_trigger.pull_request.trigger_id, google_cloudbuild_trigger.deploy.trigger_id]
}
