variable "artifact_bucket_name" {
  type        = string
  description = "Globally unique name of the artifact bucket (CTLOOP_ARTIFACT_BUCKET)."
}

variable "force_destroy" {
  type        = bool
  description = "Allow terraform destroy to delete a non-empty artifact bucket (dev only)."
  default     = false
}

variable "labels" {
  type        = map(string)
  description = "Labels applied to both buckets."
  default     = {}
}

variable "location" {
  type        = string
  description = "Bucket location; use the functions/Vertex AI region to avoid egress."
}

variable "noncurrent_retention_days" {
  type        = number
  description = "Days a replaced or deleted artifact version is kept."
  default     = 30
}

variable "project_id" {
  type        = string
  description = "GCP project id."
}

variable "report_retention_days" {
  type        = number
  description = "Days drift and validation reports under reports/ are kept."
  default     = 180
}

variable "scratch_retention_days" {
  type        = number
  description = "Days objects under tmp/, staging/ and exports/ are kept."
  default     = 7
}

variable "source_bucket_name" {
  type        = string
  description = "Globally unique name of the bucket holding zipped function sources."
}

variable "source_retention_days" {
  type        = number
  description = "Days a function source archive is kept (deployed functions keep their own copy)."
  default     = 90
}
