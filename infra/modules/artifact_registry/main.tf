# Docker repository for the trainer and server images built by Cloud Build on main.
#
# Cleanup: every image is tagged with a commit SHA, so a rule on untagged images alone never deletes anything. Images
# of any tag state older than delete_older_than_days are deleted, except the keep_count most recent versions of each
# package (a keep policy wins over a delete policy), which stay as rollback candidates however old they are.

resource "google_artifact_registry_repository" "images" {
  project       = var.project_id
  location      = var.region
  repository_id = var.repository_id
  description   = "ctloop trainer and server images (tagged with the commit SHA)."
  format        = "DOCKER"
  labels        = var.labels

  cleanup_policy_dry_run = false

  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"

    most_recent_versions {
      keep_count = var.keep_count
    }
  }

  # ANY rather than TAGGED: a TAGGED condition matches only the tag_prefixes it lists, and commit SHAs have none.
  cleanup_policies {
    id     = "delete-old"
    action = "DELETE"

    condition {
      tag_state  = "ANY"
      older_than = "${var.delete_older_than_days * 86400}s"
    }
  }

  cleanup_policies {
    id     = "delete-untagged"
    action = "DELETE"

    condition {
      tag_state  = "UNTAGGED"
      older_than = "604800s"
    }
  }
}

# Keyed by role name (trainer, server, deployer), not by e-mail: keys must be known at plan time, and the e-mail of a
# service account created in the same apply is not (before provider 6.13).
resource "google_artifact_registry_repository_iam_member" "readers" {
  for_each = var.readers

  project    = var.project_id
  location   = google_artifact_registry_repository.images.location
  repository = google_artifact_registry_repository.images.name
  role       = "roles/artifactregistry.reader"
  member     = "serviceAccount:${each.value}"
}

resource "google_artifact_registry_repository_iam_member" "writers" {
  for_each = var.writers

  project    = var.project_id
  location   = google_artifact_registry_repository.images.location
  repository = google_artifact_registry_repository.images.name
  role       = "roles/artifactregistry.writer"
  member     = "serviceAccount:${each.value}"
}
