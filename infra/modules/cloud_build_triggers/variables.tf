variable "approval_required" {
  type        = bool
  description = "Deploy builds wait for approval by a Cloud Build Approver (roles/cloudbuild.builds.approver) before they run."
  default     = true
}

variable "deploy_branch" {
  type        = string
  description = "Branch regex whose pushes deploy (used when deploy_tag is empty)."
  default     = "^main$"
}

variable "deploy_tag" {
  type        = string
  description = "Tag regex whose pushes deploy instead of a branch (e.g. ^v[0-9]+\\..* for prod); empty = use deploy_branch."
  default     = ""
}

variable "deployer_roles" {
  type        = list(string)
  description = "Project roles of the deploy identity besides its limited Project IAM Admin grant (see README: what remains and why)."
  default = [
    "roles/aiplatform.user",
    "roles/artifactregistry.admin",
    "roles/bigquery.dataOwner",
    "roles/cloudbuild.builds.editor",
    "roles/cloudfunctions.developer",
    "roles/cloudscheduler.admin",
    "roles/iam.serviceAccountAdmin",
    "roles/iam.serviceAccountUser",
    "roles/logging.configWriter",
    "roles/logging.logWriter",
    "roles/monitoring.alertPolicyEditor",
    "roles/pubsub.admin",
    "roles/run.admin",
    "roles/serviceusage.serviceUsageAdmin",
    "roles/storage.admin",
  ]
}

variable "environment" {
  type        = string
  description = "Environment name (dev, prod): suffix of triggers and CI service accounts, passed as _ENV."
}

variable "extra_deployer_roles" {
  type        = list(string)
  description = "Project roles the deploy identity needs besides deployer_roles, e.g. to create the online store chosen by the platform."
  default     = []
}

variable "extra_plan_roles" {
  type        = list(string)
  description = "Read-only project roles the pull-request identity needs besides plan_roles (the chosen online store's viewer role)."
  default     = []
}

variable "github_owner" {
  type        = string
  description = "GitHub owner (user or organisation) of the connected repository."
}

variable "github_repository" {
  type        = string
  description = "GitHub repository name."
}

variable "grantable_roles" {
  type        = list(string)
  description = "Project roles the configuration grants to identities other than the deployer; the only ones the deployer may grant or revoke."

  validation {
    condition     = length(var.grantable_roles) > 0
    error_message = "grantable_roles must list the project roles the platform grants (functions, builder, trainer)."
  }
}

variable "image_repository_url" {
  type        = string
  description = "Artifact Registry image prefix passed as _IMAGE_REPO."
}

variable "plan_roles" {
  type        = list(string)
  description = "Project roles of the pull-request identity: read-only access terraform plan needs (no primitive roles)."
  default = [
    "roles/aiplatform.viewer",
    "roles/artifactregistry.reader",
    "roles/bigquery.metadataViewer",
    "roles/cloudbuild.builds.viewer",
    "roles/cloudfunctions.viewer",
    "roles/cloudscheduler.viewer",
    "roles/iam.securityReviewer",
    "roles/iam.serviceAccountViewer",
    "roles/logging.logWriter",
    "roles/logging.viewer",
    "roles/monitoring.viewer",
    "roles/pubsub.viewer",
    "roles/run.viewer",
    "roles/serviceusage.serviceUsageViewer",
    "roles/storage.bucketViewer",
    "roles/storage.objectViewer",
  ]
}

variable "project_id" {
  type        = string
  description = "GCP project id."
}

variable "pull_request_branch" {
  type        = string
  description = "Base-branch regex of pull requests that get checked and planned."
  default     = "^main$"
}

variable "region" {
  type        = string
  description = "Region passed to builds as _REGION."
}

variable "state_bucket" {
  type        = string
  description = "Terraform state bucket (created by the bootstrap, outside Terraform)."

  validation {
    condition     = length(trimspace(var.state_bucket)) > 0
    error_message = "state_bucket is empty: Cloud Build triggers (github_owner is set) need the Terraform state bucket, e.g. state_bucket = \"<project>-tfstate\" in terraform.tfvars (created by infra/scripts/bootstrap.sh)."
  }
}

variable "trigger_location" {
  type        = string
  description = "Cloud Build trigger location (global for GitHub app connections)."
  default     = "global"
}
