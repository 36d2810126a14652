variable "alerts_topic" {
  type        = string
  description = "Topic of ctloop.alert.raised.v1 events (from the event catalog)."
}

variable "enabled" {
  type        = bool
  description = "Enable the alert policies."
  default     = true
}

variable "function_error_threshold" {
  type        = number
  description = "5xx responses per 5 minutes, summed per function, above which the function-errors alert fires."
  default     = 5
}

variable "function_name_prefix" {
  type        = string
  description = "Prefix of the deployed function names (Cloud Run service names)."
  default     = "ctloop-"
}

variable "log_metric_propagation" {
  type        = string
  description = "Wait between creating a log-based metric and the alert policy on it (Monitoring answers 404 until it sees the metric)."
  default     = "90s"
}

variable "notification_channels" {
  type        = list(string)
  description = "Notification channel ids (projects/<p>/notificationChannels/<id>) every policy notifies."
  default     = []
}

variable "project_id" {
  type        = string
  description = "GCP project id."
}
