# The feature store's BigQuery dataset and one table per feature view and kind (offline history, online latest
# value). Schemas come from infra/generated/bigquery-schemas/, written by `ctloop infra gen` from the feature
# definitions; tables are partitioned by day of the view's event time and clustered by the entity's join keys.

resource "google_bigquery_dataset" "this" {
  project                    = var.project_id
  dataset_id                 = var.dataset_id
  location                   = var.location
  description                = "ctloop feature store: offline and online feature tables."
  labels                     = var.labels
  delete_contents_on_destroy = !var.deletion_protection
}

resource "google_bigquery_table" "feature" {
  for_each = var.tables

  project             = var.project_id
  dataset_id          = google_bigquery_dataset.this.dataset_id
  table_id            = each.key
  description         = each.value.description
  labels              = merge(var.labels, { ctloop-view = lower(each.value.view), ctloop-kind = each.value.kind })
  deletion_protection = var.deletion_protection
  schema              = file("${var.schema_dir}/${each.value.schema_file}")
  clustering          = each.value.clustering

  time_partitioning {
    type  = "DAY"
    field = each.value.partition_field
  }
}
