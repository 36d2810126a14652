variable "delete_older_than_days" {
  type        = number
  description = "Images (tagged or not) older than this many days are deleted, except the keep_count most recent per package."
  default     = 90

  validation {
    condition     = var.delete_older_than_days >= 1
    error_message = "delete_older_than_days must be at least 1."
  }
}

variable "keep_count" {
  type        = number
  description = "Most recent image versions always kept per package, however old (rollback candidates)."
  default     = 10

  validation {
    condition     = var.keep_count >= 1
    error_message = "keep_count must be at least 1: the serving image must never be deleted."
  }
}

variable "labels" {
  type        = map(string)
  description = "Labels applied to the repository."
  default     = {}
}

variable "project_id" {
  type        = string
  description = "GCP project id."
}

variable "readers" {
  type        = map(string)
  description = "Service accounts that pull images (trainer, server): e-mail by a static name known at plan time."
  default     = {}
}

variable "region" {
  type        = string
  description = "Repository location (same region as Vertex AI)."
}

variable "repository_id" {
  type        = string
  description = "Repository id."
  default     = "ctloop"
}

variable "writers" {
  type        = map(string)
  description = "Service accounts that push images (the Cloud Build deployer): e-mail by a static name known at plan time."
  default     = {}
}
