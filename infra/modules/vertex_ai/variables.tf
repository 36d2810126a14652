variable "artifact_bucket" {
  type        = string
  description = "Artifact bucket (models, baselines) the trainer writes and the server reads."
}

variable "bq_location" {
  type        = string
  description = "BigQuery location of the request-response log dataset (the feature dataset's)."
}

variable "dataset_id" {
  type        = string
  description = "Feature dataset the trainer reads."
}

variable "deletion_protection" {
  type        = bool
  description = "Keep the request-log dataset's tables when the dataset is destroyed."
  default     = true
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

variable "endpoint_invokers" {
  type        = list(string)
  description = "Members allowed to call the endpoint (predict / rawPredict), e.g. serviceAccount:app@p.iam.gserviceaccount.com. Named callers only."
  default     = []

  validation {
    condition     = alltrue([for m in var.endpoint_invokers : can(regex("^(serviceAccount|user|group):[^@\\s]+@[^@\\s]+$", m))])
    error_message = "endpoint_invokers takes named members only: serviceAccount:, user: or group: with an email (never allUsers or allAuthenticatedUsers)."
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

variable "request_log_dataset_id" {
  type        = string
  description = "Dataset of the endpoint's request-response log."
  default     = "ctloop_request_log"
}

variable "request_log_sampling_rate" {
  type        = number
  description = "Share of requests the endpoint logs to BigQuery, in (0, 1]."
  default     = 1

  validation {
    condition     = var.request_log_sampling_rate > 0 && var.request_log_sampling_rate <= 1
    error_message = "request_log_sampling_rate must be in (0, 1]."
  }
}

variable "request_log_table" {
  type        = string
  description = "Table Vertex AI creates for the request-response log (must not exist before the endpoint logs)."
  default     = "request_response_logging"
}

variable "vertex_service_agent" {
  type        = string
  description = "Email of the project's Vertex AI service agent (service-<number>@gcp-sa-aiplatform.iam.gserviceaccount.com), which writes the request log."
}
