variable "artifact_bucket" {
  type        = string
  description = "Artifact bucket (models, baselines) the trainer writes and the server reads."
}

variable "dataset_id" {
  type        = string
  description = "Feature dataset the trainer reads."
}

variable "endpoint_display_name" {
  type        = string
  description = "Display name of the Vertex AI endpoint."
  default     = "ctloop"
}

variable "endpoint_id" {
  type        = string
  description = "Numeric id of the Vertex AI endpoint (no leading zero, at most 10 digits), unique per project and region."

  validation {
    condition     = can(regex("^[1-9][0-9]{0,9}$", var.endpoint_id))
    error_message = "endpoint_id must be numeric, without leading zeros, at most 10 digits."
  }
}

variable "job_state_topic" {
  type        = string
  description = "Topic receiving Vertex AI job-state log entries."
  default     = "ctloop-vertex-job-state"
}

variable "labels" {
  type        = map(string)
  description = "Labels applied to the endpoint and topics."
  default     = {}
}

variable "project_id" {
  type        = string
  description = "GCP project id."
}

variable "pubsub_service_agent" {
  type        = string
  description = "Email of the project's Pub/Sub service agent."
}

variable "region" {
  type        = string
  description = "Vertex AI region (CTLOOP_REGION)."
}
