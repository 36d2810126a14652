variable "jobs" {
  type = map(object({
    attributes  = map(string)
    data_json   = string
    description = string
    event       = string
    schedule    = string
    time_zone   = string
    topic       = string
  }))
  description = "Scheduler jobs by name, from scheduler_jobs in the generated topology."
}

variable "paused" {
  type        = bool
  description = "Create the jobs paused (e.g. in dev until data flows)."
  default     = false
}

variable "project_id" {
  type        = string
  description = "GCP project id."
}

variable "region" {
  type        = string
  description = "Cloud Scheduler region."
}

variable "schedule_overrides" {
  type        = map(string)
  description = "Per-environment cron overrides by job name (the generated schedule is the default)."
  default     = {}
}

variable "topic_ids" {
  type        = map(string)
  description = "Full topic ids by topic name (from the event_topic modules)."
}
