variable "dataset_id" {
  type        = string
  description = "BigQuery dataset id (CTLOOP_BQ_DATASET)."
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse to destroy tables (and keep dataset contents); true in prod."
  default     = true
}

variable "labels" {
  type        = map(string)
  description = "Labels applied to the dataset and tables."
  default     = {}
}

variable "location" {
  type        = string
  description = "BigQuery location (CTLOOP_BQ_LOCATION), e.g. US or us-central1."
}

variable "project_id" {
  type        = string
  description = "GCP project id."
}

variable "schema_dir" {
  type        = string
  description = "Directory of generated BigQuery JSON schemas (infra/generated/bigquery-schemas)."
}

variable "tables" {
  type = map(object({
    clustering      = list(string)
    description     = string
    kind            = string
    partition_field = optional(string)
    schema_file     = string
    view            = string
  }))
  description = "Feature tables by table id, from feature_tables in the generated topology."
}
