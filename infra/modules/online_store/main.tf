# The online store of feature values (shared/ports/online-store.ts), one of two by var.kind:
# - firestore (default): a Native-mode Firestore database in the region; billed per operation, nothing at rest but
#   storage. The adapter writes one document per view and entity; nothing to declare per view.
# - bigtable: an instance with one autoscaled SSD cluster, the online table, and per feature view a column family
#   whose GC policy keeps one version and the view's ttl as max age (infra/generated: online_views). The functions
#   only read and write data: the table and families must exist before they run, so they are created here.

locals {
  firestore = var.kind == "firestore"
  bigtable  = var.kind == "bigtable"
  zone      = var.bigtable_zone != "" ? var.bigtable_zone : "${var.region}-b"

  # Runtime configuration of the functions (shared/config/config.ts).
  environment = local.firestore ? {
    CTLOOP_ONLINE_STORE       = "firestore"
    CTLOOP_FIRESTORE_DATABASE = var.firestore_database
    } : {
    CTLOOP_ONLINE_STORE      = "bigtable"
    CTLOOP_BIGTABLE_INSTANCE = var.bigtable_instance
    CTLOOP_BIGTABLE_TABLE    = var.bigtable_table
  }
}

resource "google_firestore_database" "online" {
  count = local.firestore ? 1 : 0

  project                 = var.project_id
  name                    = var.firestore_database
  location_id             = var.region
  type                    = "FIRESTORE_NATIVE"
  concurrency_mode        = "OPTIMISTIC"
  delete_protection_state = var.deletion_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  deletion_policy         = var.deletion_protection ? "ABANDON" : "DELETE"
}

resource "google_bigtable_instance" "online" {
  count = local.bigtable ? 1 : 0

  project             = var.project_id
  name                = var.bigtable_instance
  display_name        = "ctloop online store"
  deletion_protection = var.deletion_protection
  labels              = var.labels

  cluster {
    cluster_id   = "${var.bigtable_instance}-c1"
    zone         = local.zone
    storage_type = "SSD"

    autoscaling_config {
      min_nodes  = var.bigtable_min_nodes
      max_nodes  = var.bigtable_max_nodes
      cpu_target = var.bigtable_cpu_target
    }
  }
}

resource "google_bigtable_table" "online" {
  count = local.bigtable ? 1 : 0

  project             = var.project_id
  instance_name       = google_bigtable_instance.online[0].name
  name                = var.bigtable_table
  deletion_protection = var.deletion_protection ? "PROTECTED" : "UNPROTECTED"

  dynamic "column_family" {
    for_each = var.views
    content {
      family = column_family.value.column_family
    }
  }
}

# One GC policy per view's family: keep one version, drop cells older than the view's ttl (gc_rules generated from the
# same layout the adapter uses, shared/adapters/online-store/bigtable/layout.ts).
resource "google_bigtable_gc_policy" "view" {
  for_each = local.bigtable ? var.views : {}

  project         = var.project_id
  instance_name   = google_bigtable_instance.online[0].name
  table           = google_bigtable_table.online[0].name
  column_family   = each.value.column_family
  gc_rules        = each.value.gc_rules
  deletion_policy = "ABANDON"
}
