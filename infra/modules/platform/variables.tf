variable "alerts_topic" {
  type        = string
  description = "Topic of ctloop.alert.raised.v1 (catalog.alertRaised.topic); publishing to it pages a human."
  default     = "ctloop-alerts"
}

variable "apis" {
  type        = list(string)
  description = "Google APIs enabled in the project."
  default = [
    "aiplatform.googleapis.com",
    "artifactregistry.googleapis.com",
    "bigquery.googleapis.com",
    "bigquerystorage.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "cloudscheduler.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "storage.googleapis.com",
  ]
}

variable "bigtable_instance" {
  type        = string
  description = "Bigtable instance id of the online store when online_store = bigtable (CTLOOP_BIGTABLE_INSTANCE)."
  default     = "ctloop"
}

variable "bigtable_max_nodes" {
  type        = number
  description = "Bigtable autoscaling: most nodes of the online store's cluster."
  default     = 3
}

variable "bigtable_min_nodes" {
  type        = number
  description = "Bigtable autoscaling: fewest nodes of the online store's cluster (billed by the hour, even idle)."
  default     = 1
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

variable "bq_location" {
  type        = string
  description = "BigQuery location of the feature dataset (CTLOOP_BQ_LOCATION)."
}

variable "dataset_id" {
  type        = string
  description = "Feature store dataset id (CTLOOP_BQ_DATASET)."
  default     = "ctloop"
}

variable "deletion_protection" {
  type        = bool
  description = "Protect tables and the artifact bucket from terraform destroy."
}

variable "deploy_approval_required" {
  type        = bool
  description = "Deploy builds wait for a Cloud Build Approver before they run (on in prod)."
  default     = true
}

variable "deploy_branch" {
  type        = string
  description = "Branch regex whose pushes deploy this environment (when deploy_tag is empty)."
  default     = "^main$"
}

variable "deploy_tag" {
  type        = string
  description = "Tag regex whose pushes deploy this environment; empty = deploy on deploy_branch."
  default     = ""
}

variable "endpoint_id" {
  type        = string
  description = "Numeric id of the Vertex AI endpoint."
}

variable "endpoint_invokers" {
  type        = list(string)
  description = "Members allowed to call the Vertex AI endpoint (predict / rawPredict): serviceAccount:, user: or group: members, never public."
  default     = []
}

variable "environment" {
  type        = string
  description = "Environment name (dev, prod), used in labels and CI resource names."
}

variable "feature_tables" {
  type = map(object({
    clustering      = list(string)
    description     = string
    kind            = string
    partition_field = string
    schema_file     = string
    view            = string
  }))
  description = "Generated: feature tables by table id."
}

variable "firestore_database" {
  type        = string
  description = "Firestore database id of the online store when online_store = firestore (CTLOOP_FIRESTORE_DATABASE)."
  default     = "(default)"
}

variable "function_environment" {
  type        = map(string)
  description = "Extra runtime environment variables for every function (override the defaults derived here)."
  default     = {}
}

variable "function_max_instances" {
  type        = number
  description = "Maximum instances per function."
  default     = 10
}

variable "function_source_root" {
  type        = string
  description = "Directory of staged function sources (infra/.build/functions, written by infra/scripts/stage-functions.mjs)."
}

variable "functions" {
  type = map(object({
    ack_deadline_seconds  = number
    act_as                = list(string)
    artifact_bucket_roles = list(string)
    bigtable_roles        = list(string)
    concurrency           = number
    cpu                   = string
    dataset_roles         = list(string)
    dead_letter_prefix    = string
    dead_letter_topic     = string
    deployed_name         = string
    description           = string
    entry_point           = string
    firestore_roles       = list(string)
    max_delivery_attempts = number
    maximum_backoff       = string
    memory                = string
    minimum_backoff       = string
    project_roles         = list(string)
    publishes_topics      = list(string)
    service_account_id    = string
    source_path           = string
    subscription          = string
    timeout_seconds       = number
    trigger_event         = string
    trigger_event_type    = string
    trigger_topic         = string
  }))
  description = "Generated: functions of the registry with their trigger, retry policy and IAM."
}

variable "github_owner" {
  type        = string
  description = "GitHub owner of the repository connected to Cloud Build; empty = no Cloud Build triggers."
  default     = ""
}

variable "github_repository" {
  type        = string
  description = "GitHub repository name connected to Cloud Build."
  default     = ""
}

variable "image_keep_count" {
  type        = number
  description = "Most recent trainer/server image versions kept in Artifact Registry however old (rollback candidates)."
  default     = 10
}

variable "image_tag" {
  type        = string
  description = "Tag of the trainer and server images (the commit SHA, set by Cloud Build)."
  default     = "latest"
}

variable "notification_channels" {
  type        = list(string)
  description = "Monitoring notification channel ids for every alert policy."
  default     = []
}

variable "online_store" {
  type        = string
  description = "Online store of feature values: firestore (pay per use) or bigtable (provisioned, for high request rates)."
  default     = "firestore"

  validation {
    condition     = contains(["firestore", "bigtable"], var.online_store)
    error_message = "online_store must be \"firestore\" or \"bigtable\"."
  }
}

variable "online_views" {
  type = map(object({
    column_family = string
    gc_rules      = string
    ttl_seconds   = number
  }))
  description = "Generated: per feature view, what the online store needs (Bigtable column family and GC rule)."
}

variable "project_id" {
  type        = string
  description = "GCP project id."
}

variable "region" {
  type        = string
  description = "Region of functions, Vertex AI, Scheduler, buckets and images (CTLOOP_REGION)."
}

variable "schedule_overrides" {
  type        = map(string)
  description = "Cron overrides by scheduler job name."
  default     = {}
}

variable "scheduler_jobs" {
  type = map(object({
    attributes  = map(string)
    data_json   = string
    description = string
    event       = string
    schedule    = string
    time_zone   = string
    topic       = string
  }))
  description = "Generated: scheduler jobs by name."
}

variable "scheduler_paused" {
  type        = bool
  description = "Create scheduler jobs paused."
  default     = false
}

variable "schema_dir" {
  type        = string
  description = "Directory of generated BigQuery schemas."
}

variable "state_bucket" {
  type        = string
  description = "Terraform state bucket (bootstrap); required when github_owner is set: pull-request builds read it, deploy builds write it."
  default     = ""
}

variable "topics" {
  type = map(object({
    dead_letter_topic = string
    description       = string
    event_types       = list(string)
  }))
  description = "Generated: catalog topics by name, with their dead-letter topics."
}
