# ctloop, dev environment. Thin root: the generated topology (topology.auto.tfvars.json, a link to
# infra/generated/topology.auto.tfvars.json, loaded automatically) plus this environment's settings.

module "platform" {
  source = "../../modules/platform"

  environment           = "dev"
  project_id            = var.project_id
  region                = var.region
  bq_location           = var.bq_location
  endpoint_id           = var.endpoint_id
  endpoint_invokers     = var.endpoint_invokers
  deletion_protection   = false
  scheduler_paused      = var.scheduler_paused
  schedule_overrides    = var.schedule_overrides
  image_tag             = var.image_tag
  notification_channels = var.notification_channels
  function_environment  = var.function_environment
  github_owner          = var.github_owner
  github_repository     = var.github_repository
  state_bucket          = var.state_bucket
  # dev deploys every push to main without approval.
  deploy_approval_required = false
  deploy_tag               = ""

  topics         = var.topics
  functions      = var.functions
  scheduler_jobs = var.scheduler_jobs
  feature_tables = var.feature_tables
  online_views   = var.online_views

  # Firestore by default; "bigtable" for high request rates (see docs/deploy-gcp.md).
  online_store = var.online_store

  schema_dir           = "${path.module}/../../generated/bigquery-schemas"
  function_source_root = abspath("${path.module}/../../.build/functions")
}
