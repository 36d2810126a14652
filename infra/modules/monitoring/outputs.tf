output "policy_names" {
  description = "Alert policy resource names."
  value = [
    google_monitoring_alert_policy.dead_letter_backlog.name,
    google_monitoring_alert_policy.function_errors.name,
    google_monitoring_alert_policy.alerts_raised.name,
    google_monitoring_alert_policy.training_failed.name,
  ]
}
