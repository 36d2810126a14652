variable "bigtable_cpu_target" {
  type        = number
  description = "Bigtable autoscaling CPU utilisation target in percent (10..80)."
  default     = 60

  validation {
    condition     = var.bigtable_cpu_target >= 10 && var.bigtable_cpu_target <= 80
    error_message = "Bigtable allows a CPU target of 10..80 percent."
  }
}

variable "bigtable_instance" {
  type        = string
  description = "Bigtable instance id (CTLOOP_BIGTABLE_INSTANCE), 6-33 characters."
  default     = "ctloop"
}

variable "bigtable_max_nodes" {
  type        = number
  description = "Bigtable autoscaling: most nodes (at most 10 times bigtable_min_nodes)."
  default     = 3

  validation {
    condition     = var.bigtable_max_nodes >= 1
    error_message = "bigtable_max_nodes must be at least 1."
  }
}

variable "bigtable_min_nodes" {
  type        = number
  description = "Bigtable autoscaling: fewest nodes (at least 1; each node is billed by the hour)."
  default     = 1

  validation {
    condition     = var.bigtable_min_nodes >= 1
    error_message = "bigtable_min_nodes must be at least 1."
  }
}

variable "bigtable_table" {
  type        = string
  description = "Bigtable table of the online store (CTLOOP_BIGTABLE_TABLE)."
  default     = "ctloop_online"
}

variable "bigtable_zone" {
  type        = string
  description = "Zone of the Bigtable cluster; empty = <region>-b."
  default     = ""
}

variable "deletion_protection" {
  type        = bool
  description = "Protect the database / instance and table from terraform destroy."
}

variable "firestore_database" {
  type        = string
  description = "Firestore database id (CTLOOP_FIRESTORE_DATABASE): (default) or a named database."
  default     = "(default)"
}

variable "kind" {
  type        = string
  description = "Which online store to create: firestore or bigtable."

  validation {
    condition     = contains(["firestore", "bigtable"], var.kind)
    error_message = "kind must be firestore or bigtable."
  }
}

variable "labels" {
  type        = map(string)
  description = "Labels of the Bigtable instance (Firestore databases take none)."
  default     = {}
}

variable "project_id" {
  type        = string
  description = "GCP project id."
}

variable "region" {
  type        = string
  description = "Region of the Firestore database and of the Bigtable cluster's zone."
}

variable "views" {
  type = map(object({
    column_family = string
    gc_rules      = string
    ttl_seconds   = number
  }))
  description = "Generated: per feature view, its Bigtable column family and GC rule (online_views)."
}
