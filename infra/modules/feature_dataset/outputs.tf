output "dataset_id" {
  description = "Dataset id."
  value       = google_bigquery_dataset.this.dataset_id
}

output "table_ids" {
  description = "Feature table ids."
  value       = sort(keys(google_bigquery_table.feature))
}
