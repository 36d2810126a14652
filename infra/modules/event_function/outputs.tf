output "function_name" {
  description = "Deployed function name."
  value       = google_cloudfunctions2_function.this.name
}

output "service_account_email" {
  description = "The function's own service account."
  value       = google_service_account.this.email
}

output "subscription" {
  description = "Push subscription feeding the function."
  value       = google_pubsub_subscription.push.name
}

output "uri" {
  description = "HTTPS endpoint of the function (internal ingress only)."
  value       = google_cloudfunctions2_function.this.service_config[0].uri
}
