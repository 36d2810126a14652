# Buckets: artifacts (models, baselines, drift reports, exports, training data snapshots) and function sources.
# Uniform bucket-level access, public access prevention, lifecycle rules so storage does not grow without bound.

resource "google_storage_bucket" "artifacts" {
  project                     = var.project_id
  name                        = var.artifact_bucket_name
  location                    = var.location
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.force_destroy
  labels                      = var.labels

  versioning {
    enabled = true
  }

  # Drift and validation reports are evidence, not state: keep them report_retention_days.
  lifecycle_rule {
    condition {
      age            = var.report_retention_days
      matches_prefix = ["reports/"]
    }
    action {
      type = "Delete"
    }
  }

  # Scratch space of jobs and exports.
  lifecycle_rule {
    condition {
      age            = var.scratch_retention_days
      matches_prefix = ["tmp/", "staging/", "exports/"]
    }
    action {
      type = "Delete"
    }
  }

  # Overwritten or deleted objects stay recoverable for a while, then go.
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.noncurrent_retention_days
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  # Old model versions are rarely read: move them to a cheaper class.
  lifecycle_rule {
    condition {
      age            = 90
      matches_prefix = ["models/"]
    }
    action {
      type          = "SetStorageClass"
      storage_class = "NEARLINE"
    }
  }

  lifecycle_rule {
    condition {
      age = 1
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }
}

resource "google_storage_bucket" "function_sources" {
  project                     = var.project_id
  name                        = var.source_bucket_name
  location                    = var.location
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true
  labels                      = var.labels

  # Source archives are named by content hash; Cloud Functions copies what it deploys.
  lifecycle_rule {
    condition {
      age = var.source_retention_days
    }
    action {
      type = "Delete"
    }
  }
}
