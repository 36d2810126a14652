#!/usr/bin/env bash
# One-time bootstrap of a GCP project for ctloop, before the first `terraform apply` (see docs/deploy-gcp.md):
# enables the APIs Terraform itself needs, creates the Pub/Sub service agent (IAM bindings name it), and creates the
# versioned Terraform state bucket. Idempotent.
#
# usage: infra/scripts/bootstrap.sh <project-id> [region]
set -euo pipefail
PROJECT="${1:?usage: bootstrap.sh <project-id> [region]}"
REGION="${2:-us-central1}"
STATE_BUCKET="${PROJECT}-tfstate"

gcloud services enable --project "$PROJECT" \
  cloudresourcemanager.googleapis.com serviceusage.googleapis.com iam.googleapis.com storage.googleapis.com \
  cloudbuild.googleapis.com pubsub.googleapis.com

# Service agents are created lazily; Terraform grants roles to the Pub/Sub one, so make sure it exists.
gcloud beta services identity create --project "$PROJECT" --service pubsub.googleapis.com >/dev/null

if ! gcloud storage buckets describe "gs://${STATE_BUCKET}" --project "$PROJECT" >/dev/null 2>&1; then
  gcloud storage buckets create "gs://${STATE_BUCKET}" --project "$PROJECT" --location "$REGION" \
    --uniform-bucket-level-access --public-access-prevention
fi
gcloud storage buckets update "gs://${STATE_BUCKET}" --versioning

echo "state bucket: ${STATE_BUCKET}"
echo "next: cd infra/envs/<env> && terraform init -backend-config=bucket=${STATE_BUCKET}"
