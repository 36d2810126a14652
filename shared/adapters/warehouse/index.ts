import type { WarehouseConfig } from '../../config/config.js';
import type { Warehouse } from '../../ports/warehouse.js';

/** The warehouse chosen by configuration. BigQuery's client is loaded only when used (fast embedded start-up). */
export async function createWarehouse(config: WarehouseConfig): Promise<Warehouse> {
  switch (config.kind) {
    case 'duckdb': {
      const { createDuckDbWarehouse } = await import('./duckdb/index.js');
      return createDuckDbWarehouse({ path: config.path, ...(config.memoryLimit ? { memoryLimit: config.memoryLimit } : {}) });
    }
    case 'bigquery': {
      const { createBigQueryWarehouse } = await import('./bigquery/index.js');
      return createBigQueryWarehouse(config);
    }
  }
}
