import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedOnlineStore } from '../../shared/adapters/online-store/embedded/index.js';
import { applyFeatureRepo } from '../../shared/features/apply.js';
import { ingestRows } from '../../shared/features/ingest.js';
import { materialize } from '../../shared/features/materialize.js';
import type { OnlineRecord, OnlineStore } from '../../shared/ports/online-store.js';
import { startBigQueryTestWarehouse, type BigQueryTestWarehouse } from '../helpers/bigquery-standin.js';
import { testRepo } from '../helpers/feature-fixtures.js';
import { analyzerUnavailableReason } from '../helpers/zetasql.js';

/**
 * `features materialize` on the BigQuery adapter (ZetaSQL-checked stand-in): pages are bounded by the previous
 * page's last key (keyset pagination), never by OFFSET — with OFFSET every page would be a query job recomputing the
 * window over all entities — and every entity is written to the online store exactly once.
 */
const unavailable = analyzerUnavailableReason();
if (unavailable) console.warn(`[online-materialize.bigquery] skipping: ${unavailable}`);

describe.skipIf(!!unavailable)('materialize on BigQuery pages by key', () => {
  const repo = testRepo();
  const T0 = Date.parse('2001-03-01T00:00:00Z');
  const iso = (m: number) => new Date(T0 + m * 60_000).toISOString();
  let bq: BigQueryTestWarehouse;
  let dir: string;
  let scratch: OnlineStore;

  beforeAll(async () => {
    bq = await startBigQueryTestWarehouse();
    dir = await mkdtemp(join(tmpdir(), 'ctloop-bqmat-'));
    scratch = await EmbeddedOnlineStore.open({ dir: join(dir, 'scratch') });
    await applyFeatureRepo(bq.warehouse, repo);
  });
  afterAll(async () => {
    await scratch?.close();
    await bq?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  /** An online store that records every record it is asked to write. */
  async function recording(name: string): Promise<{ store: OnlineStore; written: string[]; close(): Promise<void> }> {
    const inner = await EmbeddedOnlineStore.open({ dir: join(dir, name) });
    const written: string[] = [];
    const store: OnlineStore = {
      kind: inner.kind,
      write: (view, records: OnlineRecord[]) => { written.push(...records.map((r) => JSON.stringify(r.key))); return inner.write(view, records); },
      read: (view, keys) => inner.read(view, keys),
      close: () => inner.close(),
    };
    return { store, written, close: () => inner.close() };
  }

  it('composite STRING keys: pages across equal first keys, each entity written once with its newest row', async () => {
    // 3 origins × 4 dests = 12 entities, 3 rows each (the newest has the highest minute); page size 5 splits inside an origin.
    const rows = [];
    for (const o of ['A', 'B', 'C']) for (const dst of ['1', '2', '3', '4']) for (let n = 0; n < 3; n++) rows.push({ origin: o, dest: dst, event_ts: iso(n * 10), avg_delay: n });
    await ingestRows({ warehouse: bq.warehouse, online: scratch, repo }, { view: 'route_stats', sourceId: 'm1', rows, createdAt: new Date(T0) });
    const rec = await recording('route');
    try {
      const before = bq.standin.requests.length;
      const res = await materialize({ warehouse: bq.warehouse, online: rec.store, repo }, { view: 'route_stats', pageSize: 5 });
      expect(res).toEqual({ view: 'route_stats', entities: 12, written: 12, pages: 3 });
      expect(rec.written.length).toBe(12);
      expect(new Set(rec.written).size).toBe(12);
      const queries = bq.standin.requests.slice(before).filter((r) => r.path === '/queries' || r.path === '/jobs').map((r) => JSON.stringify(r.body));
      const pages = queries.filter((q) => q.includes('fv_route_stats') && q.includes('LIMIT 5'));
      expect(pages.length).toBe(3);
      for (const q of pages) expect(q).not.toMatch(/OFFSET/i);
      // The first page has no bound; the next ones start after the last key of the page before.
      expect(pages[0]).not.toContain('after_0');
      for (const q of pages.slice(1)) expect(q).toMatch(/after_0.*after_1/);
      const keys = ['A', 'B', 'C'].flatMap((o) => ['1', '2', '3', '4'].map((dst) => [o, dst]));
      expect((await rec.store.read(repo.view('route_stats'), keys)).map((r) => r?.values.avg_delay)).toEqual(keys.map(() => 2));
    } finally {
      await rec.close();
    }
  });

  it('INT64 keys compare as numbers (9 before 10), and a page size equal to the entity count ends after one empty page', async () => {
    const rows = [2, 9, 10, 11, 100].flatMap((id) => [0, 1].map((n) => ({ driver_id: id, event_ts: iso(n), created: iso(n), rating: id + n, active: true })));
    await ingestRows({ warehouse: bq.warehouse, online: scratch, repo }, { view: 'driver_stats', sourceId: 'm2', rows, createdAt: new Date(T0) });
    const rec = await recording('driver');
    try {
      const res = await materialize({ warehouse: bq.warehouse, online: rec.store, repo }, { view: 'driver_stats', pageSize: 5 });
      expect(res).toEqual({ view: 'driver_stats', entities: 5, written: 5, pages: 1 });
      const paged = await recording('driver-2');
      try {
        expect(await materialize({ warehouse: bq.warehouse, online: paged.store, repo }, { view: 'driver_stats', pageSize: 2 })).toEqual({ view: 'driver_stats', entities: 5, written: 5, pages: 3 });
        expect(paged.written).toEqual(['[2]', '[9]', '[10]', '[11]', '[100]']);
      } finally {
        await paged.close();
      }
    } finally {
      await rec.close();
    }
  });
});
