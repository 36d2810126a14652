import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../shared/adapters/object-store/index.js';
import { EmbeddedOnlineStore } from '../../shared/adapters/online-store/embedded/index.js';
import { registerBaseline } from '../../shared/drift/baselines.js';
import { run, windowProfileSql } from '../../shared/drift/profile-sql.js';
import { applyFeatureRepo } from '../../shared/features/apply.js';
import { offlineUnique } from '../../shared/features/dedup-sql.js';
import { GroupCommitIngestor } from '../../shared/features/group-commit.js';
import { materialize } from '../../shared/features/materialize.js';
import type { OnlineStore } from '../../shared/ports/online-store.js';
import { viewFeatureSpecs } from '../../shared/drift/baselines.js';
import { startBigQueryTestWarehouse, type BigQueryTestWarehouse } from '../helpers/bigquery-standin.js';
import { duckStore, testRepo } from '../helpers/feature-fixtures.js';
import { analyzerUnavailableReason } from '../helpers/zetasql.js';

/**
 * Readers never see a redelivered row twice: on BigQuery the streaming path appends (Storage Write API stand-in),
 * so an event delivered twice is stored twice; baselines, drift-check profiles and materialize count it once.
 */
const unavailable = analyzerUnavailableReason();
if (unavailable) console.warn(`[reader-dedup] skipping: ${unavailable}`);

describe.skipIf(!!unavailable)('readers deduplicate appended redeliveries by ingest id (BigQuery stand-ins)', () => {
  const repo = testRepo();
  const view = repo.view('route_stats');
  let bq: BigQueryTestWarehouse;
  let dir: string;
  let online: OnlineStore;
  const T0 = Date.parse('2001-05-01T00:00:00Z');
  const from = new Date(T0);
  const to = new Date(T0 + 86_400_000);

  beforeAll(async () => {
    bq = await startBigQueryTestWarehouse({ storageWrite: true });
    dir = await mkdtemp(join(tmpdir(), 'ctloop-dedup-'));
    online = await EmbeddedOnlineStore.open({ dir: join(dir, 'online') });
    await applyFeatureRepo(bq.warehouse, repo);
    const events = Array.from({ length: 4 }, (_, e) => ({
      id: `ev-${e}`,
      rows: Array.from({ length: 5 }, (_, i) => ({ origin: `O${i}`, dest: 'D', event_ts: new Date(T0 + (e * 5 + i) * 60_000).toISOString(), avg_delay: e * 10 + i, flights: i, note: e % 2 ? 'odd' : 'even' })),
    }));
    // Every event delivered, then events 0 and 2 delivered again (Pub/Sub redelivery after a lost ack).
    for (const ev of [...events, events[0]!, events[2]!]) {
      await new GroupCommitIngestor({ warehouse: bq.warehouse, online, repo }).ingest({ view: view.name, sourceId: ev.id, rows: ev.rows, createdAt: new Date(T0) });
    }
  });
  afterAll(async () => {
    await bq?.cleanup();
    await online?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the table holds the copies (at-least-once append)', async () => {
    const [r] = await bq.warehouse.query(`SELECT COUNT(*) AS n, COUNT(DISTINCT _ingest_id) AS u FROM ${bq.warehouse.dialect.table(view.table)}`);
    expect([Number(r!.n), Number(r!.u)]).toEqual([30, 20]);
  });

  it('a baseline profiles each ingest id once', async () => {
    const b = await registerBaseline({ warehouse: bq.warehouse, objectStore: new LocalObjectStore(join(dir, 'objects')), bucket: 'ctloop-test' }, { view, from, to });
    expect(b.profile.rows).toBe(20);
    const delay = b.profile.features.find((f) => f.name === 'avg_delay')!;
    expect(delay.count).toBe(20);
  });

  it('a drift-check window profile counts each ingest id once', async () => {
    const d = bq.warehouse.dialect;
    const profile = await run(bq.warehouse, windowProfileSql(d, { relation: d.table(view.table), timestampColumn: view.timestampField, window: { start: from, end: to }, label: view.table, unique: offlineUnique(bq.warehouse) }, viewFeatureSpecs(view).map((f) => ({ ...f, bins: null }))), {});
    expect(profile.rows).toBe(20);
  });

  it('materialize writes one row per entity', async () => {
    const res = await materialize({ warehouse: bq.warehouse, online, repo }, { view: view.name, pageSize: 2 });
    expect(res.entities).toBe(5);
  });

  it('an engine that writes exactly once (DuckDB) is read without the dedup window', async () => {
    const duck = await duckStore();
    try {
      expect(offlineUnique(duck.warehouse)).toBeUndefined();
      expect(offlineUnique(bq.warehouse)).toBeDefined();
    } finally {
      await duck.cleanup();
    }
  });
});
