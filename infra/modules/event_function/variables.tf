variable "ack_deadline_seconds" {
  type        = number
  description = "How long Pub/Sub waits for the push response before retrying (the function timeout, capped at 600)."
}

variable "act_as_service_accounts" {
  type        = map(string)
  description = "Full ids (projects/<p>/serviceAccounts/<email>) of service accounts the function may act as, by static name (trainer, server)."
  default     = {}
}

variable "artifact_bucket" {
  type        = string
  description = "Name of the artifact bucket the artifact_bucket_roles are granted on."
}

variable "artifact_bucket_roles" {
  type        = list(string)
  description = "Roles on the artifact bucket (from the registry needs storage.read/storage.write)."
  default     = []
}

variable "bigtable_instance" {
  type        = string
  description = "Bigtable instance of the online store the bigtable_roles are granted on (empty when the store is Firestore)."
  default     = ""
}

variable "bigtable_roles" {
  type        = list(string)
  description = "Roles on the online store's Bigtable instance (from the registry needs online.read/online.write)."
  default     = []
}

variable "build_service_account" {
  type        = string
  description = "Full id of the service account Cloud Build uses to build the function image; pass it through a wait for its roles to propagate."
}

variable "concurrency" {
  type        = number
  description = "Requests one instance serves at once (max_instance_request_concurrency); gen2 defaults to 1. From the registry's scaling, with its reason."
}

variable "cpu" {
  type        = string
  description = "vCPU per instance (available_cpu); a concurrency above 1 needs at least 1."
}

variable "dataset_id" {
  type        = string
  description = "Feature store BigQuery dataset the dataset_roles are granted on."
}

variable "dataset_roles" {
  type        = list(string)
  description = "Roles on the feature dataset (from the registry needs bigquery.read/bigquery.write)."
  default     = []
}

variable "dead_letter_prefix" {
  type        = string
  description = "Object prefix (dead-letter/<name>/) where the runtime records permanent failures; objectUser is granted on it only."
}

variable "dead_letter_topic_id" {
  type        = string
  description = "Full id of the trigger topic's dead-letter topic."
}

variable "deployed_name" {
  type        = string
  description = "Cloud Functions (and Cloud Run service) name, ctloop-<name>."
}

variable "description" {
  type        = string
  description = "What the function does (from the registry)."
}

variable "entry_point" {
  type        = string
  description = "Exported CloudEvent handler name registered with functions-framework."
}

variable "environment_variables" {
  type        = map(string)
  description = "Runtime configuration (shared/config/config.ts variables: CTLOOP_MODE=gcp, project, dataset, bucket, ...)."
  default     = {}
}

variable "firestore_database" {
  type        = string
  description = "Firestore database id of the online store; the firestore_roles are conditioned on it."
  default     = "(default)"
}

variable "firestore_roles" {
  type        = list(string)
  description = "Roles on the online store's Firestore database (from the registry needs online.read/online.write), granted on the project with a condition on the database."
  default     = []
}

variable "invoker_service_account_email" {
  type        = string
  description = "Service account whose OIDC token the push subscription sends; granted run.invoker on this function."
}

variable "labels" {
  type        = map(string)
  description = "Labels applied to the function and subscription."
  default     = {}
}

variable "max_delivery_attempts" {
  type        = number
  description = "Delivery attempts before a message goes to the dead-letter topic (5..100)."

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "Pub/Sub allows 5..100 delivery attempts."
  }
}

variable "max_instance_count" {
  type        = number
  description = "Upper bound on concurrent instances (cost and warehouse-quota guard)."
  default     = 10
}

variable "maximum_backoff" {
  type        = string
  description = "Longest delay between redeliveries, e.g. 600s."
}

variable "memory" {
  type        = string
  description = "Memory per instance, e.g. 512Mi."
}

variable "minimum_backoff" {
  type        = string
  description = "First delay before a redelivery, e.g. 10s."
}

variable "name" {
  type        = string
  description = "Registry name of the function (folder under functions/)."
}

variable "project_id" {
  type        = string
  description = "GCP project id."
}

variable "project_roles" {
  type        = list(string)
  description = "Project-level roles, only where GCP has no narrower scope (bigquery.jobUser, aiplatform.user)."
  default     = []
}

variable "publishes_topics" {
  type        = map(string)
  description = "Topics the function publishes to (topic name by topic name, the value carrying the dependency on the topic); roles/pubsub.publisher on each topic only."
  default     = {}
}

variable "pubsub_service_agent" {
  type        = string
  description = "Email of the project's Pub/Sub service agent."
}

variable "region" {
  type        = string
  description = "Region of the function."
}

variable "runtime" {
  type        = string
  description = "Cloud Functions runtime."
  default     = "nodejs22"
}

variable "service_account_id" {
  type        = string
  description = "Account id of the function's own service account (6-30 characters)."
}

variable "source_bucket" {
  type        = string
  description = "Bucket holding the zipped function sources."
}

variable "source_root" {
  type        = string
  description = "Directory of staged function sources; this function's source is <source_root>/<name>."
}

variable "subscription" {
  type        = string
  description = "Name of the push subscription that delivers trigger events."
}

variable "timeout_seconds" {
  type        = number
  description = "Function timeout in seconds (event functions allow at most 540)."
}

variable "trigger_topic" {
  type        = string
  description = "Trigger topic id without project (used in the push URL path)."
}

variable "trigger_topic_id" {
  type        = string
  description = "Full id of the topic whose events trigger the function."
}
