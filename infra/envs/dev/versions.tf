terraform {
  required_version = ">= 1.5.0"

  # Partial configuration: terraform init -backend-config="bucket=<state bucket>" (see docs/deploy-gcp.md).
  backend "gcs" {
    prefix = "ctloop/dev"
  }

  required_providers {
    archive = {
      source  = "hashicorp/archive"
      version = "~> 2.4"
    }
    google = {
      source  = "hashicorp/google"
      version = "~> 6.13"
    }
    time = {
      source  = "hashicorp/time"
      version = "~> 0.12"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region

  default_labels = {
    app = "ctloop"
    env = "dev"
  }
}
