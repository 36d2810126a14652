# The whole ctloop topology in one project, composed from the entity modules. The roots (infra/envs/*) pass the
# generated topology (infra/generated/topology.auto.tfvars.json) and a few per-environment settings.

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  labels               = { app = "ctloop", env = var.environment }
  pubsub_service_agent = "service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
  vertex_service_agent = "service-${data.google_project.this.number}@gcp-sa-aiplatform.iam.gserviceaccount.com"
  artifact_bucket      = "${var.project_id}-ctloop-artifacts"
  source_bucket        = "${var.project_id}-ctloop-sources"
  trainer_image        = "${module.artifact_registry.repository_url}/trainer:${var.image_tag}"
  server_image         = "${module.artifact_registry.repository_url}/server:${var.image_tag}"

  # Runtime configuration of every function: the variables of shared/config/config.ts for gcp mode.
  function_environment = merge({
    CTLOOP_MODE                    = "gcp"
    GOOGLE_CLOUD_PROJECT           = var.project_id
    CTLOOP_REGION                  = var.region
    CTLOOP_BQ_DATASET              = var.dataset_id
    CTLOOP_BQ_LOCATION             = var.bq_location
    CTLOOP_ARTIFACT_BUCKET         = local.artifact_bucket
    CTLOOP_FEATURES                = "features.yaml"
    CTLOOP_VERTEX_ENDPOINT         = module.vertex_ai.endpoint_id
    CTLOOP_TRAINER_IMAGE           = local.trainer_image
    CTLOOP_SERVER_IMAGE            = local.server_image
    CTLOOP_TRAINER_SERVICE_ACCOUNT = module.vertex_ai.trainer_service_account_email
    CTLOOP_SERVER_SERVICE_ACCOUNT  = module.vertex_ai.server_service_account_email
  }, module.online_store.environment, var.function_environment)

  # APIs of the online store in use, besides var.apis.
  online_apis = var.online_store == "firestore" ? ["firestore.googleapis.com"] : ["bigtable.googleapis.com", "bigtableadmin.googleapis.com"]
  # What the CI identities need on the online store: the deployer creates it (and grants on the Bigtable instance),
  # pull-request plans read its metadata.
  online_deployer_roles = var.online_store == "firestore" ? ["roles/datastore.owner"] : ["roles/bigtable.admin"]
  online_plan_roles     = var.online_store == "firestore" ? ["roles/datastore.viewer"] : ["roles/bigtable.viewer"]

  act_as = {
    trainer = module.vertex_ai.trainer_service_account
    server  = module.vertex_ai.server_service_account
  }

  # Topics that feed functions and scheduler jobs: the catalog's, and the Vertex AI job-state topic (raw Cloud Logging
  # entries and the reconcile schedule's {"reconcile": true}; consumed by complete-training, see message-functions.ts).
  trigger_topics = merge(
    { for name, t in module.topics : name => { topic_id = t.topic_id, dead_letter_topic_id = t.dead_letter_topic_id } },
    { (module.vertex_ai.job_state_topic) = { topic_id = module.vertex_ai.job_state_topic_id, dead_letter_topic_id = module.vertex_ai.job_state_dead_letter_topic_id } },
  )

  function_builder_roles = ["roles/artifactregistry.writer", "roles/logging.logWriter", "roles/storage.objectAdmin"]

  # Every role this configuration grants on the project to an identity other than the deployer: the only roles the
  # deployer's Project IAM Admin grant lets it grant or revoke (cloud_build_triggers).
  managed_project_roles = distinct(concat(
    flatten([for f in var.functions : f.project_roles]),
    var.online_store == "firestore" ? flatten([for f in var.functions : f.firestore_roles]) : [],
    local.function_builder_roles,
    module.vertex_ai.trainer_project_roles,
  ))
}

resource "google_project_service" "apis" {
  for_each = toset(concat(var.apis, local.online_apis))

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

module "topics" {
  source   = "../event_topic"
  for_each = var.topics

  project_id           = var.project_id
  name                 = each.key
  dead_letter_topic    = each.value.dead_letter_topic
  description          = each.value.description
  event_types          = each.value.event_types
  labels               = local.labels
  pubsub_service_agent = local.pubsub_service_agent

  depends_on = [google_project_service.apis]
}

module "buckets" {
  source = "../artifact_buckets"

  project_id           = var.project_id
  location             = var.region
  artifact_bucket_name = local.artifact_bucket
  source_bucket_name   = local.source_bucket
  force_destroy        = !var.deletion_protection
  labels               = local.labels

  depends_on = [google_project_service.apis]
}

module "feature_dataset" {
  source = "../feature_dataset"

  project_id          = var.project_id
  dataset_id          = var.dataset_id
  location            = var.bq_location
  tables              = var.feature_tables
  schema_dir          = var.schema_dir
  deletion_protection = var.deletion_protection
  labels              = local.labels

  depends_on = [google_project_service.apis]
}

module "online_store" {
  source = "../online_store"

  project_id          = var.project_id
  region              = var.region
  kind                = var.online_store
  firestore_database  = var.firestore_database
  bigtable_instance   = var.bigtable_instance
  bigtable_table      = var.bigtable_table
  bigtable_zone       = var.bigtable_zone
  bigtable_min_nodes  = var.bigtable_min_nodes
  bigtable_max_nodes  = var.bigtable_max_nodes
  views               = var.online_views
  deletion_protection = var.deletion_protection
  labels              = local.labels

  depends_on = [google_project_service.apis]
}

module "artifact_registry" {
  source = "../artifact_registry"

  project_id = var.project_id
  region     = var.region
  labels     = local.labels
  keep_count = var.image_keep_count
  # Static keys (known at plan time); the e-mails of accounts created in this apply may not be.
  readers = {
    trainer = module.vertex_ai.trainer_service_account_email
    server  = module.vertex_ai.server_service_account_email
  }
  writers = { for ci in module.cloud_build : "deployer" => ci.deployer_service_account_email }

  depends_on = [google_project_service.apis]
}

module "vertex_ai" {
  source = "../vertex_ai"

  project_id           = var.project_id
  region               = var.region
  endpoint_id          = var.endpoint_id
  artifact_bucket      = module.buckets.artifact_bucket
  dataset_id           = module.feature_dataset.dataset_id
  pubsub_service_agent = local.pubsub_service_agent
  labels               = local.labels
  bq_location          = var.bq_location
  vertex_service_agent = local.vertex_service_agent
  endpoint_invokers    = var.endpoint_invokers
  deletion_protection  = var.deletion_protection

  depends_on = [google_project_service.apis]
}

# Identity whose OIDC token Pub/Sub push subscriptions present to the functions.
resource "google_service_account" "push_invoker" {
  project      = var.project_id
  account_id   = "ctloop-pubsub-push"
  display_name = "ctloop Pub/Sub push invoker"
  description  = "Signs the OIDC tokens of push subscriptions; may invoke ctloop functions and nothing else."
}

# Pub/Sub mints the push OIDC tokens as push_invoker.
resource "google_service_account_iam_member" "push_token_creator" {
  service_account_id = google_service_account.push_invoker.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${local.pubsub_service_agent}"
}

# Identity of the Cloud Build runs that turn function sources into images.
resource "google_service_account" "function_builder" {
  project      = var.project_id
  account_id   = "ctloop-fn-build"
  display_name = "ctloop function builder"
  description  = "Builds Cloud Functions images from the uploaded sources."
}

# What a function build needs, as in the provider's own gen2 example: write build logs, push the image to
# gcf-artifacts, read the uploaded source and write the build cache.
resource "google_project_iam_member" "function_builder" {
  for_each = toset(local.function_builder_roles)

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.function_builder.email}"
}

# IAM grants take up to a minute to propagate; the first build would otherwise fail with permission denied. The
# functions take the builder's id from this resource, so they alone wait (and the APIs they need are enabled).
resource "time_sleep" "function_builder_roles" {
  create_duration = "60s"

  triggers = {
    service_account = google_service_account.function_builder.id
  }

  depends_on = [google_project_iam_member.function_builder, google_project_service.apis]
}

module "functions" {
  source   = "../event_function"
  for_each = var.functions

  project_id                    = var.project_id
  region                        = var.region
  name                          = each.key
  deployed_name                 = each.value.deployed_name
  description                   = each.value.description
  entry_point                   = each.value.entry_point
  memory                        = each.value.memory
  concurrency                   = each.value.concurrency
  cpu                           = each.value.cpu
  timeout_seconds               = each.value.timeout_seconds
  service_account_id            = each.value.service_account_id
  project_roles                 = each.value.project_roles
  dataset_id                    = module.feature_dataset.dataset_id
  dataset_roles                 = each.value.dataset_roles
  artifact_bucket               = module.buckets.artifact_bucket
  artifact_bucket_roles         = each.value.artifact_bucket_roles
  firestore_database            = var.firestore_database
  firestore_roles               = var.online_store == "firestore" ? each.value.firestore_roles : []
  bigtable_instance             = module.online_store.bigtable_instance
  bigtable_roles                = var.online_store == "bigtable" ? each.value.bigtable_roles : []
  dead_letter_prefix            = each.value.dead_letter_prefix
  act_as_service_accounts       = { for a in each.value.act_as : a => local.act_as[a] }
  publishes_topics              = { for t in each.value.publishes_topics : t => module.topics[t].topic_name }
  trigger_topic                 = each.value.trigger_topic
  trigger_topic_id              = local.trigger_topics[each.value.trigger_topic].topic_id
  dead_letter_topic_id          = local.trigger_topics[each.value.trigger_topic].dead_letter_topic_id
  subscription                  = each.value.subscription
  ack_deadline_seconds          = each.value.ack_deadline_seconds
  max_delivery_attempts         = each.value.max_delivery_attempts
  minimum_backoff               = each.value.minimum_backoff
  maximum_backoff               = each.value.maximum_backoff
  environment_variables         = merge(local.function_environment, { CTLOOP_MAX_DELIVERY_ATTEMPTS = tostring(each.value.max_delivery_attempts) })
  invoker_service_account_email = google_service_account.push_invoker.email
  pubsub_service_agent          = local.pubsub_service_agent
  build_service_account         = time_sleep.function_builder_roles.triggers["service_account"]
  source_bucket                 = module.buckets.source_bucket
  source_root                   = var.function_source_root
  max_instance_count            = var.function_max_instances
  labels                        = local.labels

  # No module-level depends_on: it would defer the module's archive_file to apply time whenever an API or grant
  # changes, replacing every function's source object. The function resource waits through build_service_account.
}

module "scheduler" {
  source = "../scheduler_jobs"

  project_id         = var.project_id
  region             = var.region
  jobs               = var.scheduler_jobs
  topic_ids          = { for name, t in local.trigger_topics : name => t.topic_id }
  schedule_overrides = var.schedule_overrides
  paused             = var.scheduler_paused

  depends_on = [google_project_service.apis]
}

module "monitoring" {
  source = "../monitoring"

  project_id            = var.project_id
  alerts_topic          = var.alerts_topic
  notification_channels = var.notification_channels

  depends_on = [google_project_service.apis, module.topics]
}

module "cloud_build" {
  source = "../cloud_build_triggers"
  count  = var.github_owner == "" ? 0 : 1

  project_id           = var.project_id
  region               = var.region
  environment          = var.environment
  github_owner         = var.github_owner
  github_repository    = var.github_repository
  state_bucket         = var.state_bucket
  image_repository_url = "${var.region}-docker.pkg.dev/${var.project_id}/ctloop"
  deploy_branch        = var.deploy_branch
  deploy_tag           = var.deploy_tag
  approval_required    = var.deploy_approval_required
  grantable_roles      = local.managed_project_roles
  extra_deployer_roles = local.online_deployer_roles
  extra_plan_roles     = local.online_plan_roles

  depends_on = [google_project_service.apis]
}
