# Cloud Build: a pull-request trigger (checks + terraform plan, read-only identity) and a deploy trigger (images +
# terraform apply, deployer identity), both running cloudbuild.yaml from the repository root.
# The repository must first be connected to Cloud Build (GitHub app); see docs/deploy-gcp.md.

locals {
  plan_member     = "serviceAccount:${google_service_account.plan.email}"
  deployer_member = "serviceAccount:${google_service_account.deployer.email}"
  substitutions = {
    _ENV             = var.environment
    _REGION          = var.region
    _TF_STATE_BUCKET = var.state_bucket
    _IMAGE_REPO      = var.image_repository_url
  }

  # Roles the deployer may grant: those ctloop grants to other identities, never an IAM-admin or impersonation role
  # (primitive roles appear nowhere in this configuration: a topology test checks it).
  delegated_roles = sort(setsubtract(distinct(concat(var.grantable_roles, local.plan_roles)), local.never_delegated))
  deployer_roles  = distinct(concat(var.deployer_roles, var.extra_deployer_roles))
  plan_roles      = distinct(concat(var.plan_roles, var.extra_plan_roles))
  never_delegated = [
    "roles/iam.securityAdmin",
    "roles/iam.serviceAccountAdmin",
    "roles/iam.serviceAccountKeyAdmin",
    "roles/iam.serviceAccountTokenCreator",
    "roles/iam.serviceAccountUser",
    "roles/iam.workloadIdentityUser",
    "roles/resourcemanager.projectIamAdmin",
  ]
}

resource "google_service_account" "plan" {
  project      = var.project_id
  account_id   = "ctloop-ci-plan-${var.environment}"
  display_name = "ctloop CI (pull requests, ${var.environment})"
  description  = "Runs pull-request builds: tests and terraform plan. Read-only on the project."
}

resource "google_service_account" "deployer" {
  project      = var.project_id
  account_id   = "ctloop-ci-deploy-${var.environment}"
  display_name = "ctloop CD (${var.environment})"
  description  = "Runs deploy builds: pushes images, terraform apply."
}

resource "google_project_iam_member" "plan" {
  for_each = toset(local.plan_roles)

  project = var.project_id
  role    = each.value
  member  = local.plan_member
}

resource "google_project_iam_member" "deployer" {
  for_each = toset(local.deployer_roles)

  project = var.project_id
  role    = each.value
  member  = local.deployer_member
}

# Project IAM Admin limited to granting and revoking the roles this configuration manages for other identities (a
# "limited IAM admin", iam.googleapis.com/modifiedGrantsByRole): the deployer cannot grant itself or anyone an
# admin, owner or impersonation role.
resource "google_project_iam_member" "deployer_iam_admin" {
  project = var.project_id
  role    = "roles/resourcemanager.projectIamAdmin"
  member  = local.deployer_member

  condition {
    title       = "ctloop-managed-roles-only"
    description = "Grant and revoke only the roles ctloop's Terraform manages for its functions, builder, trainer and CI plan identity."
    expression  = "api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly([${join(", ", [for r in local.delegated_roles : "'${r}'"])}])"
  }
}

# Terraform state. Pull-request builds run the pull request's own cloudbuild.yaml, so their identity may only read
# state (terraform plan -lock=false); only deploy builds write it.
resource "google_storage_bucket_iam_member" "plan_state" {
  bucket = var.state_bucket
  role   = "roles/storage.objectViewer"
  member = local.plan_member
}

resource "google_storage_bucket_iam_member" "deployer_state" {
  bucket = var.state_bucket
  role   = "roles/storage.objectUser"
  member = local.deployer_member
}

resource "google_cloudbuild_trigger" "pull_request" {
  project         = var.project_id
  location        = var.trigger_location
  name            = "ctloop-pr-${var.environment}"
  description     = "ctloop pull request: typecheck, tests with the Pub/Sub emulator, terraform fmt, topology tests, terraform plan (${var.environment})."
  filename        = "cloudbuild.yaml"
  service_account = google_service_account.plan.id
  substitutions   = merge(local.substitutions, { _PIPELINE = "pr" })

  github {
    owner = var.github_owner
    name  = var.github_repository

    pull_request {
      branch          = var.pull_request_branch
      comment_control = "COMMENTS_ENABLED_FOR_EXTERNAL_CONTRIBUTORS_ONLY"
    }
  }
}

resource "google_cloudbuild_trigger" "deploy" {
  project         = var.project_id
  location        = var.trigger_location
  name            = "ctloop-deploy-${var.environment}"
  description     = "ctloop deploy: build and push trainer and server images, terraform apply (${var.environment})."
  filename        = "cloudbuild.yaml"
  service_account = google_service_account.deployer.id
  substitutions   = merge(local.substitutions, { _PIPELINE = "main" })

  # A deploy build stays pending until a Cloud Build Approver approves it (on in prod).
  approval_config {
    approval_required = var.approval_required
  }

  github {
    owner = var.github_owner
    name  = var.github_repository

    push {
      branch = var.deploy_tag == "" ? var.deploy_branch : null
      tag    = var.deploy_tag == "" ? null : var.deploy_tag
    }
  }
}
