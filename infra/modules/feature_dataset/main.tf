# The feature store's BigQuery dataset and every table ctloop writes: per feature view its offline (history) table, plus
# quarantine, drift history and the training-request ledger (online values live in the online store, module
# online_store). Schemas come from infra/generated/bigquery-schemas/, written by `ctloop infra gen` from the feature
# definitions; history tables are partitioned by day of their time column; all are clustered as their spec says.

resource "google_bigquery_dataset" "this" {
  project                    = var.project_id
  dataset_id                 = var.dataset_id
  location                   = var.location
  description                = "ctloop feature store: offline feature tables (history), quarantine and drift ledgers."
  labels                     = var.labels
  delete_contents_on_destroy = !var.deletion_protection
}

resource "google_bigquery_table" "feature" {
  for_each = var.tables

  project             = var.project_id
  dataset_id          = google_bigquery_dataset.this.dataset_id
  table_id            = each.key
  description         = each.value.description
  labels              = merge(var.labels, { ctloop-view = lower(each.value.view), ctloop-kind = replace(each.value.kind, "_", "-") })
  deletion_protection = var.deletion_protection
  schema              = file("${var.schema_dir}/${each.value.schema_file}")
  clustering          = each.value.clustering

  dynamic "time_partitioning" {
    for_each = each.value.partition_field == null ? [] : [each.value.partition_field]
    content {
      type  = "DAY"
      field = time_partitioning.value
    }
  }
}
