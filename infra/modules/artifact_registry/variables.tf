variable "keep_recent" {
  type        = number
  description = "Most recent image versions always kept per package (rollback candidates)."
  default     = 10
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

variable "reader_emails" {
  type        = list(string)
  description = "Service accounts that pull images (trainer, server)."
  default     = []
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

variable "writer_emails" {
  type        = list(string)
  description = "Service accounts that push images (the Cloud Build deployer)."
  default     = []
}
