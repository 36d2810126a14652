import type { WarehouseConfig } from '../../config/config.js';
import type { Warehouse } from '../../ports/warehouse.js';

/**
 * The warehouse chosen by configuration. BigQuery's client is loaded only when used (fast embedded start-up).
 * `readOnly` opens DuckDB read-only (commands that only read); BigQuery access is governed by IAM instead.
 */
export async function createWarehouse(config: WarehouseConfig, opts: { readOnly?: boolean } = {}): Promise<Warehouse> {
  switch (config.kind) {
    case 'duckdb': {
      const { createDuckDbWarehouse } = await import('./duckdb/index.js');
      return createDuckDbWarehouse({
        path: config.path, ...(config.memoryLimit ? { memoryLimit: config.memoryLimit } : {}), ...(opts.readOnly ? { readOnly: true } : {}),
      });
    }
    case 'bigquery': {
      const { createBigQueryWarehouse } = await import('./bigquery/index.js');
      return createBigQueryWarehouse(config);
    }
  }
}
