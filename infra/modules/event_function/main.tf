# One function of the registry (shared/topology/functions.ts): its own service account with the least roles derived
# from the function's `needs`, the Cloud Functions gen2 deployment, and the push subscription that feeds it events
# with a dead-letter policy and retry backoff.
#
# Why a push subscription rather than `event_trigger`: an Eventarc Pub/Sub trigger creates and owns its subscription,
# and its dead-letter policy and max delivery attempts cannot be set from Terraform. A push subscription to the
# function's HTTPS endpoint (authenticated with an OIDC token) delivers the same CloudEvent to functions-framework
# (a raw push body becomes a google.cloud.pubsub.topic.v1.messagePublished CloudEvent) and keeps retries, dead letters
# and attempts under our control.

locals {
  member = "serviceAccount:${google_service_account.this.email}"
  # functions-framework derives the CloudEvent `source` from a push URL path of the form projects/<p>/topics/<t>.
  push_path = "projects/${var.project_id}/topics/${var.trigger_topic}"
}

resource "google_service_account" "this" {
  project      = var.project_id
  account_id   = var.service_account_id
  display_name = "ctloop function ${var.name}"
  description  = substr("Runtime identity of ${var.deployed_name}: ${var.description}", 0, 256)
}

resource "google_project_iam_member" "project" {
  for_each = toset(var.project_roles)

  project = var.project_id
  role    = each.value
  member  = local.member
}

resource "google_bigquery_dataset_iam_member" "dataset" {
  for_each = toset(var.dataset_roles)

  project    = var.project_id
  dataset_id = var.dataset_id
  role       = each.value
  member     = local.member
}

resource "google_storage_bucket_iam_member" "artifacts" {
  for_each = toset(var.artifact_bucket_roles)

  bucket = var.artifact_bucket
  role   = each.value
  member = local.member
}

# The online store: Firestore roles exist only on the project, so they are conditioned on the one database; Bigtable
# roles are granted on the instance. Only the store in use gets grants (the platform passes [] for the other).
resource "google_project_iam_member" "firestore" {
  for_each = toset(var.firestore_roles)

  project = var.project_id
  role    = each.value
  member  = local.member

  condition {
    title       = "ctloop-online-${var.name}"
    description = "Only the online store's Firestore database."
    expression  = "resource.name == \"projects/${var.project_id}/databases/${var.firestore_database}\""
  }
}

resource "google_bigtable_instance_iam_member" "online" {
  for_each = toset(var.bigtable_roles)

  project  = var.project_id
  instance = var.bigtable_instance
  role     = each.value
  member   = local.member
}

# Permanent failures are acknowledged and recorded by the runtime under dead-letter/<name>/ in the artifact bucket
# (shared/runtime/dead-letter.ts, idempotent overwrite per message): objectUser, but only on that prefix.
resource "google_storage_bucket_iam_member" "dead_letters" {
  bucket = var.artifact_bucket
  role   = "roles/storage.objectUser"
  member = local.member

  condition {
    title       = "ctloop-dead-letters-${var.name}"
    description = "Only the function's own dead-letter records."
    expression  = "resource.name.startsWith(\"projects/_/buckets/${var.artifact_bucket}/objects/${var.dead_letter_prefix}\")"
  }
}

# for_each over maps keyed by static names (topic, trainer/server): keys must be known at plan time, values need not.
resource "google_pubsub_topic_iam_member" "publish" {
  for_each = var.publishes_topics

  project = var.project_id
  topic   = each.value
  role    = "roles/pubsub.publisher"
  member  = local.member
}

# Start Vertex AI jobs / deploy models as the trainer or server identity (iam.serviceAccounts.actAs on that account only).
resource "google_service_account_iam_member" "act_as" {
  for_each = var.act_as_service_accounts

  service_account_id = each.value
  role               = "roles/iam.serviceAccountUser"
  member             = local.member
}

# Source: the staged directory for this function (infra/scripts/stage-functions.mjs), zipped; the object name carries
# the content hash so a code change redeploys the function.
data "archive_file" "source" {
  type        = "zip"
  source_dir  = "${var.source_root}/${var.name}"
  output_path = "${path.root}/.terraform/ctloop-function-${var.name}.zip"
}

resource "google_storage_bucket_object" "source" {
  name   = "functions/${var.name}/${data.archive_file.source.output_md5}.zip"
  bucket = var.source_bucket
  source = data.archive_file.source.output_path
}

resource "google_cloudfunctions2_function" "this" {
  project     = var.project_id
  name        = var.deployed_name
  location    = var.region
  description = var.description
  labels      = merge(var.labels, { ctloop-function = var.name })

  build_config {
    runtime         = var.runtime
    entry_point     = var.entry_point
    service_account = var.build_service_account

    environment_variables = {
      # The staged package.json has no scripts: the code is compiled before upload (npm run build).
      GOOGLE_NODE_RUN_SCRIPTS = ""
    }

    source {
      storage_source {
        bucket = var.source_bucket
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    available_memory                 = var.memory
    available_cpu                    = var.cpu
    max_instance_request_concurrency = var.concurrency
    timeout_seconds                  = var.timeout_seconds
    min_instance_count               = 0
    max_instance_count               = var.max_instance_count
    ingress_settings                 = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.this.email
    environment_variables = merge(var.environment_variables, {
      CTLOOP_FUNCTION = var.name
    })
  }

  # The build service account id comes through the platform's time_sleep (builder roles granted, APIs enabled, 60 s
  # of IAM propagation), so this resource alone waits for them: no depends_on on the whole module, which would defer
  # archive_file to apply time and replace every function's source object on each API or grant change.
  depends_on = [
    google_project_iam_member.project,
    google_bigquery_dataset_iam_member.dataset,
    google_storage_bucket_iam_member.artifacts,
    google_project_iam_member.firestore,
    google_bigtable_instance_iam_member.online,
  ]
}

# Only the push identity may call the function (gen2 functions are Cloud Run services of the same name).
resource "google_cloud_run_service_iam_member" "invoker" {
  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.this.name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${var.invoker_service_account_email}"
}

resource "google_pubsub_subscription" "push" {
  project                    = var.project_id
  name                       = var.subscription
  topic                      = var.trigger_topic_id
  labels                     = merge(var.labels, { ctloop-function = var.name })
  ack_deadline_seconds       = var.ack_deadline_seconds
  message_retention_duration = "604800s"

  push_config {
    push_endpoint = "${google_cloudfunctions2_function.this.service_config[0].uri}/${local.push_path}"

    oidc_token {
      service_account_email = var.invoker_service_account_email
      audience              = google_cloudfunctions2_function.this.service_config[0].uri
    }
  }

  dead_letter_policy {
    dead_letter_topic     = var.dead_letter_topic_id
    max_delivery_attempts = var.max_delivery_attempts
  }

  retry_policy {
    minimum_backoff = var.minimum_backoff
    maximum_backoff = var.maximum_backoff
  }

  expiration_policy {
    ttl = ""
  }

  depends_on = [google_cloud_run_service_iam_member.invoker]
}

# The Pub/Sub service agent acknowledges a message on this subscription when it forwards it to the dead-letter topic.
resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  project      = var.project_id
  subscription = google_pubsub_subscription.push.name
  role         = "roles/pubsub.subscriber"
  member       = "serviceAccount:${var.pubsub_service_agent}"
}
