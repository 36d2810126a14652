import { historyTable } from '../drift/history.js';
import { requestsTable } from '../drift/policy.js';
import type { FeatureRepo } from '../features/definitions.js';
import { featureStoreTables } from '../features/tables.js';
import type { TableSpec } from '../ports/warehouse.js';

/**
 * Every warehouse table ctloop writes, as the code creates it (`ctloop features apply`, lazily by the drift
 * functions) and as Terraform creates it on GCP (generated from this list): quarantine, per feature view its
 * offline table, drift history, training-request ledger. Online values live in the online store, not here.
 */
export function warehouseTables(repo: FeatureRepo): TableSpec[] {
  return [...featureStoreTables(repo.views), historyTable, requestsTable];
}
