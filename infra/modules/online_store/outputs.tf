output "bigtable_instance" {
  description = "Bigtable instance id, or empty with the firestore store (a dependency on the instance when it exists)."
  value       = local.bigtable ? google_bigtable_instance.online[0].name : ""
}

output "bigtable_table" {
  description = "Bigtable table id, or empty with the firestore store."
  value       = local.bigtable ? google_bigtable_table.online[0].name : ""
}

output "environment" {
  description = "Runtime variables that point ctloop at this store (CTLOOP_ONLINE_STORE and its settings)."
  value       = local.environment
}

output "firestore_database" {
  description = "Firestore database id, or empty with the bigtable store (a dependency on the database when it exists)."
  value       = local.firestore ? google_firestore_database.online[0].name : ""
}

output "kind" {
  description = "firestore or bigtable."
  value       = var.kind
}
