import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedOnlineStore } from '../../shared/adapters/online-store/embedded/index.js';
import { createDuckDbWarehouse } from '../../shared/adapters/warehouse/duckdb/index.js';
import { parseFeatureRepo, type FeatureRepoInput } from '../../shared/features/definitions.js';
import { applyFeatureRepo } from '../../shared/features/apply.js';
import type { OnlineStore } from '../../shared/ports/online-store.js';
import type { Warehouse } from '../../shared/ports/warehouse.js';

/** A small feature repo exercising composite keys, ttl and a source created-time column. */
export const testRepoInput: FeatureRepoInput = {
  entities: [
    { name: 'route', joinKeys: [{ name: 'origin', type: 'STRING' }, { name: 'dest', type: 'STRING' }] },
    { name: 'driver', joinKeys: [{ name: 'driver_id', type: 'INT64' }] },
  ],
  featureViews: [
    {
      name: 'route_stats', entity: 'route', timestampField: 'event_ts', ttl: '1d',
      features: [{ name: 'avg_delay', type: 'FLOAT64' }, { name: 'flights', type: 'INT64' }, { name: 'note', type: 'STRING' }],
    },
    {
      name: 'driver_stats', entity: 'driver', timestampField: 'event_ts', createdTimestampField: 'created', ttl: 0,
      features: [{ name: 'rating', type: 'FLOAT64' }, { name: 'active', type: 'BOOL' }],
    },
  ],
  featureServices: [{ name: 'route_model', features: ['route_stats:avg_delay', 'route_stats:flights'] }],
};

export const testRepo = () => parseFeatureRepo(testRepoInput);

/** A DuckDB warehouse with the test repo applied and an embedded online store, in a temp folder. */
export async function duckStore(): Promise<{ warehouse: Warehouse; online: OnlineStore; dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'ctloop-fs-'));
  const warehouse = await createDuckDbWarehouse({ path: join(dir, 'w.duckdb') });
  const online = await EmbeddedOnlineStore.open({ dir: join(dir, 'online') });
  await applyFeatureRepo(warehouse, testRepo());
  return { warehouse, online, dir, cleanup: async () => { await online.close(); await warehouse.close(); await rm(dir, { recursive: true, force: true }); } };
}

/**
 * Run `fn` with an embedded online store in its own temp folder, removed afterwards: for tests about the offline
 * table that still go through ingestion (which writes the online store too).
 */
export async function withScratchOnline<T>(fn: (online: OnlineStore) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'ctloop-online-'));
  const online = await EmbeddedOnlineStore.open({ dir });
  try {
    return await fn(online);
  } finally {
    await online.close();
    await rm(dir, { recursive: true, force: true });
  }
}
