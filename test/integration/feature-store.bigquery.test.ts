import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../shared/adapters/object-store/index.js';
import { EmbeddedOnlineStore } from '../../shared/adapters/online-store/embedded/index.js';
import { applyFeatureRepo } from '../../shared/features/apply.js';
import { getHistoricalFeatures } from '../../shared/features/historical.js';
import { ingestRows } from '../../shared/features/ingest.js';
import { getOnlineFeatures } from '../../shared/features/online.js';
import { loadFeatureFile } from '../../shared/features/load-file.js';
import type { OnlineStore } from '../../shared/ports/online-store.js';
import { analyzerUnavailableReason } from '../helpers/zetasql.js';
import { startBigQueryTestWarehouse, type BigQueryTestWarehouse } from '../helpers/bigquery-standin.js';
import { testRepo } from '../helpers/feature-fixtures.js';

/**
 * The feature store's SQL on the BigQuery adapter: every statement (table DDL, the ingest INSERT from UNNEST(@rows),
 * the online upsert MERGE, the quarantine INSERT, the online lookup, the point-in-time join with its bucketed join and
 * literal partition bounds, EXPORT DATA) goes through the ZetaSQL analyzer with BigQuery's language options in the
 * stand-in, and must also compute the same answers as on DuckDB.
 */
const unavailable = analyzerUnavailableReason();
if (unavailable) console.warn(`[feature-store.bigquery] skipping: ${unavailable}`);

describe.skipIf(!!unavailable)('feature store on the BigQuery adapter (ZetaSQL-checked stand-in)', () => {
  const repo = testRepo();
  let bq: BigQueryTestWarehouse;
  let store: LocalObjectStore;
  let dir: string;
  let online: OnlineStore;
  const T0 = Date.parse('2001-03-01T00:00:00Z');
  const iso = (m: number) => new Date(T0 + m * 60_000).toISOString();

  beforeAll(async () => {
    bq = await startBigQueryTestWarehouse();
    dir = await mkdtemp(join(tmpdir(), 'ctloop-bqfs-'));
    online = await EmbeddedOnlineStore.open({ dir: join(dir, 'online') });
    const root = bq.standin.localPath('gs://b/x').slice(0, -'/b/x'.length);
    store = new LocalObjectStore(root);
    await applyFeatureRepo(bq.warehouse, repo);
  });
  afterAll(async () => {
    await bq?.cleanup();
    await online?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates partitioned, clustered tables', async () => {
    const create = bq.standin.requests.find((r) => r.method === 'POST' && r.path.endsWith('/tables') && JSON.stringify(r.body).includes('"fv_route_stats"'));
    expect(create?.body).toMatchObject({ timePartitioning: { type: 'DAY', field: 'event_ts' }, clustering: { fields: ['origin', 'dest'] } });
  });

  it('ingests with dedup and quarantine in BigQuery SQL, and the latest rows into the online store', async () => {
    const rows = [
      { origin: 'A', dest: 'B', event_ts: iso(60), avg_delay: 1, flights: 1 },
      { origin: 'A', dest: 'B', event_ts: iso(120), avg_delay: 2, flights: 2 },
      { origin: 'A', dest: 'B', event_ts: 'bad' },
    ];
    const first = await ingestRows({ warehouse: bq.warehouse, online, repo }, { view: 'route_stats', sourceId: 'e1', rows, createdAt: new Date(T0) });
    const again = await ingestRows({ warehouse: bq.warehouse, online, repo }, { view: 'route_stats', sourceId: 'e1', rows, createdAt: new Date(T0) });
    expect([first.inserted, again.inserted, first.quarantined]).toEqual([2, 0, 1]);
    await ingestRows({ warehouse: bq.warehouse, online, repo }, { view: 'route_stats', sourceId: 'e0', rows: [{ origin: 'A', dest: 'B', event_ts: iso(30), avg_delay: 9 }], createdAt: new Date(T0) });
    const latest = await getOnlineFeatures({ online, repo, now: () => new Date(iso(200)) }, { view: 'route_stats', entities: [{ origin: 'A', dest: 'B' }, { origin: 'N', dest: 'O' }], features: ['avg_delay'] });
    expect(latest.results[0]).toEqual({ values: [2, null], statuses: ['PRESENT', 'NOT_FOUND'], event_timestamps: [iso(120), null] });
    const q = await bq.warehouse.query(`SELECT reason FROM ${bq.warehouse.dialect.table('_quarantine')}`);
    expect(q).toEqual([{ reason: 'event_ts: expected an ISO-8601 timestamp, got "bad"' }]);
  });

  it('splits a batch larger than one BigQuery request into several writes, with exactly-once effect', async () => {
    const note = 'x'.repeat(300);
    const rows = Array.from({ length: 12_000 }, (_, i) => ({ origin: `S${i % 50}`, dest: 'D', event_ts: iso(1000 + i), avg_delay: i, note }));
    const before = bq.standin.requests.length;
    const r = await ingestRows({ warehouse: bq.warehouse, online, repo }, { view: 'route_stats', sourceId: 'big', rows, createdAt: new Date(T0) });
    const merges = bq.standin.requests.slice(before).filter((q) => /INSERT INTO `[^`]*\.fv_route_stats`/.test(JSON.stringify(q.body ?? '')));
    expect(r.inserted).toBe(12_000);
    expect(merges.length).toBeGreaterThanOrEqual(2);
    for (const m of merges) expect(Buffer.byteLength(JSON.stringify(m.body))).toBeLessThan(10_000_000);
    const again = await ingestRows({ warehouse: bq.warehouse, online, repo }, { view: 'route_stats', sourceId: 'big', rows, createdAt: new Date(T0) });
    expect(again.inserted).toBe(0);
    const latest = await getOnlineFeatures({ online, repo, now: () => new Date(iso(13_000)) }, { view: 'route_stats', entities: [{ origin: 'S7', dest: 'D' }], features: ['avg_delay'] });
    expect(latest.results[0]!.values).toEqual([11_957]); // the newest of S7's rows, whichever part it travelled in
  });

  it('loads a file with one load job and one offline INSERT (online values to the online store), quarantining bad rows, exactly once', async () => {
    const csv = join(dir, 'rows.csv');
    const lines = ['origin,dest,event_ts,avg_delay,flights,note'];
    for (let i = 0; i < 2000; i++) lines.push(`L${i % 10},M,${iso(3000 + i)},${i},${i % 7},n`);
    lines.push('L1,M,never,1,1,n', 'L2,M,2001-03-01T00:00:00Z,NaN,x,n');
    await writeFile(csv, lines.join('\n'));
    const uri = 'gs://ctloop-incoming/files/rows.csv';
    await store.upload(csv, uri);
    const before = bq.standin.requests.length;
    const res = await loadFeatureFile({ warehouse: bq.warehouse, online, objectStore: store, repo, scratchBucket: 'ctloop-scratch' }, { view: 'route_stats', uri });
    expect(res).toMatchObject({ received: 2002, accepted: 2000, inserted: 2000, quarantined: 2 });
    const reqs = bq.standin.requests.slice(before).map((r) => JSON.stringify(r.body ?? ''));
    expect(reqs.filter((b) => b.includes('"load"') && b.includes('sourceUris')).length).toBe(1);
    expect(reqs.filter((b) => /INSERT INTO `[^`]*\.fv_route_stats`/.test(b)).length).toBe(1);
    expect(reqs.filter((b) => /fv_route_stats__online/.test(b)).length).toBe(0); // the online values go to the online store
    expect((await store.list('gs://ctloop-scratch/tmp/loads/')).length).toBe(0);
    const again = await loadFeatureFile({ warehouse: bq.warehouse, online, objectStore: store, repo, scratchBucket: 'ctloop-scratch' }, { view: 'route_stats', uri });
    expect(again.inserted).toBe(0);
    const latest = await getOnlineFeatures({ online, repo, now: () => new Date(iso(5000)) }, { view: 'route_stats', entities: [{ origin: 'L3', dest: 'M' }], features: ['avg_delay', 'flights'] });
    expect(latest.results.map((r) => r.values[0])).toEqual([1993, 1993 % 7]);
  });

  it('loads a file spanning more than 4,000 days in statements of at most 4,000 partitions, exactly once', async () => {
    const csv = join(dir, 'backfill.csv');
    const DAY = 86_400_000;
    const start = Date.parse('1985-01-01T06:00:00Z');
    const lines = ['origin,dest,event_ts,avg_delay,flights,note'];
    for (let i = 0; i < 4_100; i++) lines.push(`BF,M,${new Date(start + i * DAY).toISOString()},${i},1,n`);
    await writeFile(csv, lines.join('\n'));
    const uri = 'gs://ctloop-incoming/files/backfill.csv';
    await store.upload(csv, uri);
    const before = bq.standin.requests.length;
    const res = await loadFeatureFile({ warehouse: bq.warehouse, online, objectStore: store, repo, scratchBucket: 'ctloop-scratch' }, { view: 'route_stats', uri });
    expect(res).toMatchObject({ received: 4_100, accepted: 4_100, inserted: 4_100, quarantined: 0 });
    const reqs = bq.standin.requests.slice(before).map((r) => JSON.stringify(r.body ?? ''));
    expect(reqs.filter((b) => /INSERT INTO `[^`]*\.fv_route_stats`/.test(b)).length).toBe(2);
    const [c] = await bq.warehouse.query(`SELECT COUNT(*) AS n, COUNT(DISTINCT _ingest_id) AS d FROM ${bq.warehouse.dialect.table('fv_route_stats')} WHERE origin = 'BF'`);
    expect(c).toEqual({ n: 4_100, d: 4_100 });
  });

  it('builds the same point-in-time training set as on DuckDB, through gs:// staging and EXPORT DATA', async () => {
    const spine = join(dir, 'spine.csv');
    await writeFile(spine, ['origin,dest,ts,label', `A,B,${iso(10)},x`, `A,B,${iso(90)},y`, `A,B,${iso(125)},z`, `A,B,${iso(60 * 24 * 2)},late`, `Q,R,${iso(90)},none`].join('\n'));
    const out = join(dir, 'out.csv');
    const res = await getHistoricalFeatures({ warehouse: bq.warehouse, objectStore: store, repo, scratchBucket: 'ctloop-scratch' }, {
      spine, timestampColumn: 'ts', features: ['route_stats:avg_delay', 'route_stats:flights'], out,
    });
    expect(res.rows).toBe(5);
    const lines = (await readFile(out, 'utf8')).trim().split('\n');
    expect(lines[0]).toBe('origin,dest,ts,label,avg_delay,flights');
    expect(lines.slice(1).map((l) => l.split(',').slice(3).join(','))).toEqual(['x,,', 'y,1.0,1', 'z,2.0,2', 'late,,', 'none,,']);
    const exported = bq.standin.requests.filter((r) => JSON.stringify(r.body ?? '').includes('EXPORT DATA'));
    expect(exported.length).toBeGreaterThan(0);
  });
});
