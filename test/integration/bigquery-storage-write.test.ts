import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedOnlineStore } from '../../shared/adapters/online-store/embedded/index.js';
import { ConfigError, TransientError, ValidationError } from '../../shared/errors.js';
import { applyFeatureRepo } from '../../shared/features/apply.js';
import { offlineColumns, parseFeatureRepo } from '../../shared/features/definitions.js';
import { GroupCommitIngestor } from '../../shared/features/group-commit.js';
import { uniqueOfflineRows } from '../../shared/features/dedup-sql.js';
import type { OnlineStore } from '../../shared/ports/online-store.js';
import { startBigQueryTestWarehouse, type BigQueryTestWarehouse } from '../helpers/bigquery-standin.js';
import type { StorageWriteStandin } from '../helpers/bigquery-storage-standin.js';
import { testRepo, testRepoInput } from '../helpers/feature-fixtures.js';
import { analyzerUnavailableReason } from '../helpers/zetasql.js';

/**
 * The streaming ingest path on BigQuery appends through the Storage Write API (gRPC stand-in built from the
 * client's own protos) and issues no DML; redelivered events append copies that readers never see twice.
 */
const unavailable = analyzerUnavailableReason();
if (unavailable) console.warn(`[bigquery-storage-write] skipping: ${unavailable}`);

const DML = /^\s*(INSERT|MERGE|UPDATE|DELETE)\b/i;

describe.skipIf(!!unavailable)('Storage Write API append path (BigQuery)', () => {
  const repo = testRepo();
  let bq: BigQueryTestWarehouse;
  let sw: StorageWriteStandin;
  let dir: string;
  let online: OnlineStore;
  const T0 = Date.parse('2001-03-01T00:00:00Z');
  const iso = (m: number) => new Date(T0 + m * 60_000).toISOString();
  const table = () => bq.warehouse.dialect.table('fv_route_stats');

  beforeAll(async () => {
    bq = await startBigQueryTestWarehouse({ storageWrite: true });
    sw = bq.storage!;
    dir = await mkdtemp(join(tmpdir(), 'ctloop-bqsw-'));
    online = await EmbeddedOnlineStore.open({ dir: join(dir, 'online') });
    await applyFeatureRepo(bq.warehouse, repo);
  });
  afterAll(async () => {
    await bq?.cleanup();
    await online?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => { sw.appends.length = 0; });

  const ingestor = () => new GroupCommitIngestor({ warehouse: bq.warehouse, online, repo });
  const rowsA = [
    { origin: 'A', dest: 'B', event_ts: iso(60), avg_delay: 1.5, flights: 3, note: 'x' },
    { origin: 'A', dest: 'C', event_ts: iso(61), avg_delay: null, flights: 4 },
    { origin: 'A', dest: 'B', event_ts: 'not a time' },
  ];

  it('appends offline and quarantine rows on the _default stream with the view schema, and runs no DML', async () => {
    const before = bq.standin.statements.length;
    const res = await ingestor().ingest({ view: 'route_stats', sourceId: 'ev-1', rows: rowsA, createdAt: new Date(T0) });
    expect(res).toMatchObject({ received: 3, accepted: 2, quarantined: 1, inserted: null });
    const newStatements = bq.standin.statements.slice(before);
    expect(newStatements.filter((s) => DML.test(s))).toEqual([]);

    const offline = sw.appends.find((a) => a.writeStream.endsWith('/tables/fv_route_stats/streams/_default'))!;
    expect(offline.writeStream).toBe(`projects/${bq.standin.project}/datasets/ctloop/tables/fv_route_stats/streams/_default`);
    expect(offline.offset).toBeNull(); // default stream: at-least-once, no offsets
    const view = repo.view('route_stats');
    expect(offline.descriptor.map((f) => [f.name, f.type, f.label])).toEqual(offlineColumns(view).map((c) => [
      c.name,
      { STRING: 'TYPE_STRING', TIMESTAMP: 'TYPE_INT64', FLOAT64: 'TYPE_DOUBLE', INT64: 'TYPE_INT64' }[c.type as string],
      c.mode === 'REQUIRED' ? 'LABEL_REQUIRED' : 'LABEL_OPTIONAL',
    ]));
    expect(offline.rows).toHaveLength(2);
    expect(offline.rows[0]).toMatchObject({ origin: 'A', dest: 'B', avg_delay: 1.5, flights: '3', note: 'x', _ingest_id: 'ev-1:0', event_ts: String((T0 + 60 * 60_000) * 1000) });
    expect(offline.rows[1]).not.toHaveProperty('avg_delay'); // NULL is left out of the proto row
    const quarantine = sw.appends.find((a) => a.writeStream.includes('/tables/_quarantine/'))!;
    expect(quarantine.rows).toEqual([expect.objectContaining({ view: 'route_stats', ingest_id: 'ev-1:2', event_id: 'ev-1' })]);

    const [n] = await bq.warehouse.query(`SELECT COUNT(*) AS n FROM ${table()} WHERE _ingest_id LIKE 'ev-1:%'`);
    expect(Number(n!.n)).toBe(2);
  });

  it('a redelivered event appends a second copy that a reader through uniqueOfflineRows sees once', async () => {
    await ingestor().ingest({ view: 'route_stats', sourceId: 'ev-2', rows: [{ origin: 'Z', dest: 'Y', event_ts: iso(200), avg_delay: 7, flights: 1 }], createdAt: new Date(T0) });
    await ingestor().ingest({ view: 'route_stats', sourceId: 'ev-2', rows: [{ origin: 'Z', dest: 'Y', event_ts: iso(200), avg_delay: 7, flights: 1 }], createdAt: new Date(T0) });
    const [n] = await bq.warehouse.query(`SELECT COUNT(*) AS n FROM ${table()} WHERE _ingest_id = 'ev-2:0'`);
    expect(Number(n!.n)).toBe(2); // stored twice (at-least-once)
    const d = bq.warehouse.dialect;
    const rows = await bq.warehouse.query(`SELECT u.avg_delay FROM ${uniqueOfflineRows(d, repo.view('route_stats'), { where: `t._ingest_id = 'ev-2:0'`, columns: ['avg_delay'] })} AS u`);
    expect(rows).toEqual([{ avg_delay: 7 }]);
  });

  it('a retryable failure is a TransientError and the retry stores the rows', async () => {
    sw.failNext({ code: grpc.status.UNAVAILABLE, message: 'backend unavailable', as: 'response' });
    const err = await ingestor().ingest({ view: 'route_stats', sourceId: 'ev-3', rows: [rowsA[0]], createdAt: new Date(T0) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    await ingestor().ingest({ view: 'route_stats', sourceId: 'ev-3', rows: [rowsA[0]], createdAt: new Date(T0) });
    const [n] = await bq.warehouse.query(`SELECT COUNT(*) AS n FROM ${table()} WHERE _ingest_id = 'ev-3:0'`);
    expect(Number(n!.n)).toBe(1);
  });

  it('a stream that fails with a non-retryable status is permanent, and the next append reconnects', async () => {
    sw.failNext({ code: grpc.status.PERMISSION_DENIED, message: 'Permission bigquery.tables.updateData denied', as: 'stream' });
    const cols = offlineColumns(repo.view('route_stats'));
    const row = { origin: 'P', dest: 'Q', event_ts: new Date(T0), _created_ts: new Date(T0), _ingest_id: 'direct:0', _ingested_at: new Date(T0) };
    const e = await bq.warehouse.appendRows!('fv_route_stats', cols, [row]).catch((x: unknown) => x) as { kind?: string; hint?: string };
    expect(e.kind).toBe('permanent');
    expect(e.hint).toMatch(/dataEditor/);
    await bq.warehouse.appendRows!('fv_route_stats', cols, [row]);
    expect(new Set(sw.appends.map((a) => a.connection)).size).toBe(2);
  });

  it('a view whose table lacks a column fails with a ConfigError naming features apply (schema mismatch)', async () => {
    const newer = parseFeatureRepo({
      ...testRepoInput,
      featureViews: testRepoInput.featureViews.map((v) => (v.name === 'route_stats' ? { ...v, features: [...v.features, { name: 'added_later', type: 'INT64' }] } : v)),
    });
    const err = await new GroupCommitIngestor({ warehouse: bq.warehouse, online, repo: newer })
      .ingest({ view: 'route_stats', sourceId: 'ev-4', rows: [{ ...rowsA[0], added_later: 1 }], createdAt: new Date(T0) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/more fields than BigQuery schema.*added_later/);
    expect((err as ConfigError).hint).toMatch(/features apply/);
  });

  it('a row missing a REQUIRED column is rejected with its index and nothing of the request is stored', async () => {
    const cols = offlineColumns(repo.view('route_stats'));
    const good = { origin: 'R', dest: 'S', event_ts: new Date(T0), _created_ts: new Date(T0), _ingest_id: 'req:0', _ingested_at: new Date(T0) };
    const err = await bq.warehouse.appendRows!('fv_route_stats', cols.map((c) => ({ ...c, mode: 'NULLABLE' as const })), [good, { ...good, origin: null, _ingest_id: 'req:1' }])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).message).toMatch(/row 1: Field origin is required/);
    const [n] = await bq.warehouse.query(`SELECT COUNT(*) AS n FROM ${table()} WHERE _ingest_id LIKE 'req:%'`);
    expect(Number(n!.n)).toBe(0);
  });
});
