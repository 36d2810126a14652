import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDuckDbWarehouse } from '../../shared/adapters/warehouse/duckdb/index.js';
import { runWarehouseContract } from './warehouse.contract.js';

runWarehouseContract('duckdb', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ctloop-duck-'));
  const warehouse = await createDuckDbWarehouse({ path: join(dir, 'w.duckdb') });
  return {
    warehouse,
    fileUri: async (p) => p,
    exportUri: (name) => join(dir, 'exports', name),
    readExport: (uri) => readFile(uri),
    cleanup: async () => {
      await warehouse.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
