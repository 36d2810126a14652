variable "dead_letter_retention" {
  type        = string
  description = "How long dead-lettered messages are kept on the hold subscription, for `ctloop dead-letters` and replay. Pub/Sub allows 10 minutes to 31 days (https://cloud.google.com/pubsub/docs/subscription-properties#message_retention_duration); the default keeps them the longest, so a dead letter noticed after a holiday is still there."
  default     = "2678400s"

  validation {
    condition     = can(regex("^[0-9]+s$", var.dead_letter_retention)) && try(tonumber(trimsuffix(var.dead_letter_retention, "s")) >= 600 && tonumber(trimsuffix(var.dead_letter_retention, "s")) <= 2678400, false)
    error_message = "dead_letter_retention must be a number of seconds from 600s (10 minutes) to 2678400s (31 days), e.g. \"2678400s\"."
  }
}

variable "dead_letter_topic" {
  type        = string
  description = "Name of the dead-letter topic (deadLetterTopic() in shared/events/catalog.ts: <topic>-dead-letter)."
}

variable "description" {
  type        = string
  description = "What travels on the topic (from the event catalog); kept in outputs for documentation."
}

variable "event_types" {
  type        = list(string)
  description = "Versioned event types published on the topic, e.g. ctloop.feature.rows.v1."
}

variable "labels" {
  type        = map(string)
  description = "Labels applied to every resource of the module."
  default     = {}
}

variable "message_retention_duration" {
  type        = string
  description = "How long the topic retains messages for replay/seek (10m..31d)."
  default     = "86400s"
}

variable "name" {
  type        = string
  description = "Topic id (without project), from the event catalog."
}

variable "project_id" {
  type        = string
  description = "GCP project id."
}

variable "pubsub_service_agent" {
  type        = string
  description = "Email of the project's Pub/Sub service agent (service-<number>@gcp-sa-pubsub.iam.gserviceaccount.com)."
}
