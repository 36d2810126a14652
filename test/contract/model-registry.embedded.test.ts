import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModelRegistry } from '../../shared/adapters/model-registry/index.js';
import { LocalObjectStore } from '../../shared/adapters/object-store/index.js';
import { createDuckDbWarehouse } from '../../shared/adapters/warehouse/duckdb/index.js';
import { runModelRegistryContract } from './model-registry.contract.js';

runModelRegistryContract('embedded (DuckDB + local objects)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ctloop-registry-'));
  const warehouse = await createDuckDbWarehouse({ path: join(dir, 'w.duckdb') });
  const objectStore = new LocalObjectStore(join(dir, 'objects'));
  const registry = await createModelRegistry({ kind: 'embedded' }, { warehouse, objectStore, bucket: 'ctloop-artifacts' });
  return {
    registry, objectStore,
    async close() {
      await warehouse.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
