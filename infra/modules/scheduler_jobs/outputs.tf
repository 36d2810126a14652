output "job_names" {
  description = "Scheduler job names."
  value       = sort(keys(google_cloud_scheduler_job.this))
}
