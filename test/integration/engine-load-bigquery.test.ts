import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../shared/adapters/object-store/index.js';
import { EmbeddedOnlineStore } from '../../shared/adapters/online-store/embedded/index.js';
import { applyFeatureRepo } from '../../shared/features/apply.js';
import { parseFeatureRepo } from '../../shared/features/definitions.js';
import { loadFeatureFile } from '../../shared/features/load-file.js';
import type { OnlineStore } from '../../shared/ports/online-store.js';
import type { Warehouse } from '../../shared/ports/warehouse.js';
import { startBigQueryTestWarehouse, type BigQueryTestWarehouse, type RecordedRequest } from '../helpers/bigquery-standin.js';
import { duckStore, testRepo } from '../helpers/feature-fixtures.js';
import { driverCorpus, routeCorpus } from '../helpers/load-corpus.js';
import { analyzerUnavailableReason } from '../helpers/zetasql.js';

/**
 * The BigQuery engine plan (engine-load-bigquery.ts) against the embedded default: the same file (gs:// in the
 * stand-in's bucket, read by both) loaded through the plan on the ZetaSQL-checked stand-in and through DuckDB must
 * store the same rows, quarantine the same rows with the same reasons, lines and raw rows, and answer the same online.
 */
const unavailable = analyzerUnavailableReason();
if (unavailable) console.warn(`[engine-load-bigquery] skipping: ${unavailable}`);

const repo = testRepo();
const NOW = new Date('2024-05-01T00:00:00Z');

type Store = { warehouse: Warehouse; online: OnlineStore };

const norm = (v: unknown): unknown => (v instanceof Date ? v.toISOString() : typeof v === 'number' ? String(v) : v);
async function dump(w: Warehouse, table: string): Promise<string[]> {
  const rows = await w.query(`SELECT * FROM ${w.dialect.table(table)}`);
  return rows.map((r) => JSON.stringify(Object.keys(r).sort().map((k) => [k, norm(r[k])]))).sort();
}

/** What one load sent to BigQuery, by kind. */
function count(reqs: RecordedRequest[], table: string) {
  const sql = reqs.filter((r) => r.method === 'POST' && r.path === '/queries').map((r) => String(r.body.query));
  return {
    loadJobs: reqs.filter((r) => r.method === 'POST' && r.path === '/jobs' && r.body?.configuration?.load).length,
    classify: sql.filter((q) => /^CREATE TABLE/.test(q)).length,
    offlineInserts: sql.filter((q) => new RegExp(`^INSERT INTO \`[^\`]*\\.${table}\``).test(q)).length,
    quarantineInserts: sql.filter((q) => /^INSERT INTO `[^`]*\._quarantine`/.test(q)).length,
    merges: sql.filter((q) => /^\s*MERGE/i.test(q)).length,
    reads: sql.filter((q) => /^\s*SELECT/i.test(q)).length,
  };
}

describe.skipIf(!!unavailable)('file loads on BigQuery through the engine plan agree with the embedded path', () => {
  let bq: BigQueryTestWarehouse;
  let bqStore: Store & { close(): Promise<void> };
  let duck: Awaited<ReturnType<typeof duckStore>>;
  let objects: LocalObjectStore;
  let dir: string;

  beforeEach(async () => {
    bq = await startBigQueryTestWarehouse();
    dir = await mkdtemp(join(tmpdir(), 'ctloop-bqeng-'));
    const online = await EmbeddedOnlineStore.open({ dir: join(dir, 'online') });
    bqStore = { warehouse: bq.warehouse, online, close: () => online.close() };
    await applyFeatureRepo(bq.warehouse, repo);
    duck = await duckStore();
    objects = new LocalObjectStore(bq.standin.localPath('gs://b/x').slice(0, -'/b/x'.length));
  });
  afterEach(async () => {
    await bqStore?.close();
    await bq?.cleanup();
    await duck?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  const put = async (name: string, body: string | Buffer): Promise<string> => {
    const uri = `gs://ctloop-incoming/files/${name}`;
    const path = bq.standin.localPath(uri);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, body);
    return uri;
  };
  const load = async (s: Store, uri: string, view: string, executor: 'auto' | 'rows' = 'auto') => {
    const paths: string[] = [];
    const before = bq.standin.requests.length;
    const res = await loadFeatureFile({ warehouse: s.warehouse, online: s.online, repo, objectStore: objects, scratchBucket: 'ctloop-scratch', now: () => NOW, onPath: (p, why) => paths.push(why ? `${p}: ${why}` : p) }, { view, uri, executor });
    return { res, paths, sent: count(bq.standin.requests.slice(before), repo.view(view).table) };
  };

  async function expectSame(uri: string, view: string, path: 'engine' | RegExp = 'engine') {
    const embedded = await load(duck, uri, view);
    const plan = await load(bqStore, uri, view);
    if (path === 'engine') expect(plan.paths).toEqual(['engine']);
    else expect(plan.paths[0]).toMatch(path);
    expect(plan.res).toEqual(embedded.res);
    const table = repo.view(view).table;
    expect(await dump(bq.warehouse, table)).toEqual(await dump(duck.warehouse, table));
    expect(await dump(bq.warehouse, '_quarantine')).toEqual(await dump(duck.warehouse, '_quarantine'));
    const v = repo.view(view);
    const keys = (await duck.warehouse.query(`SELECT DISTINCT ${v.entity.joinKeys.map((k) => k.name).join(', ')} FROM ${duck.warehouse.dialect.table(table)}`))
      .map((r) => v.entity.joinKeys.map((j) => r[j.name] as string | number));
    expect(keys.length).toBeGreaterThan(0);
    expect(await bqStore.online.read(v, keys)).toEqual(await duck.online.read(v, keys));
    expect((await objects.list('gs://ctloop-scratch/tmp/loads/')).length).toBe(0); // the staged copy is deleted
    // Neither staging table (the loaded file, the classification) is left behind.
    const made = bq.standin.requests.flatMap((r) => [
      ...(r.method === 'POST' && /\/tables$/.test(r.path) ? [String(r.body.tableReference.tableId)] : []),
      ...(r.method === 'POST' && r.path === '/queries' ? [.../CREATE TABLE `[^`]*\.(ld_cls_\w+)`/.exec(String(r.body.query))?.slice(1) ?? []] : []),
    ]).filter((t) => /^(_stage_|ld_cls_)/.test(t));
    for (const t of made) expect(bq.standin.tableFields(`ctloop.${t}`)).toBeNull();
    // …and each was created with an expiration in the future, so a crash between the statements leaves nothing for long.
    const expirations = bq.standin.requests.flatMap((r) => {
      if (r.method === 'POST' && /\/tables$/.test(r.path) && String(r.body.tableReference.tableId).startsWith('_stage_')) return [Number(r.body.expirationTime)];
      const ctas = r.method === 'POST' && r.path === '/queries' ? /^CREATE TABLE `[^`]*\.ld_cls_\w+` OPTIONS \(expiration_timestamp = TIMESTAMP '([^']+)'\)/.exec(String(r.body.query)) : null;
      return ctas ? [Date.parse(ctas[1]!.replace(' ', 'T').replace(/\.(\d{3})\d*\+00:00$/, '.$1Z'))] : [];
    });
    expect(expirations.length).toBe(made.length);
    for (const e of expirations) expect(e).toBeGreaterThan(Date.now());
    return { embedded, plan };
  }

  it('the CSV corpus (impossible dates, T24:00, offsets, 1e400, ±2^53, inf/nan, empty and multi-line keys): same rows, reasons, lines, raw rows, online answers; 1 load job, 1 classifying statement, 1 INSERT, 1 quarantine INSERT, no MERGE; a redelivery stores nothing twice', async () => {
    const uri = await put('corpus.csv', routeCorpus());
    const { plan } = await expectSame(uri, 'route_stats');
    expect(plan.res.quarantined).toBeGreaterThan(20);
    expect(plan.res.accepted).toBeGreaterThan(5);
    expect(plan.sent).toMatchObject({ loadJobs: 1, classify: 1, offlineInserts: 1, quarantineInserts: 1, merges: 0 });

    const offline = await dump(bq.warehouse, 'fv_route_stats');
    const quarantine = await dump(bq.warehouse, '_quarantine');
    const again = await load(bqStore, uri, 'route_stats');
    expect(again.paths).toEqual(['engine']);
    expect(again.res).toMatchObject({ inserted: 0, accepted: plan.res.accepted, quarantined: plan.res.quarantined });
    expect(await dump(bq.warehouse, 'fv_route_stats')).toEqual(offline);
    expect(await dump(bq.warehouse, '_quarantine')).toEqual(quarantine);
  });

  it('an INT64 key view with a created-time column and BOOL values; quoted multi-line values shift line numbers', async () => {
    await expectSame(await put('drivers.csv', driverCorpus()), 'driver_stats');
  });

  it('keeps an empty quoted STRING value apart from a missing one, reads CRLF line ends, a BOM, tab-separated and gzip files, and a last line without a line end', async () => {
    const rows = ['origin,dest,event_ts,avg_delay,flights,note', 'A,B,2001-03-01T00:00:00Z,1,1,""', 'A,C,2001-03-01T00:00:00Z,1,1,', 'A,D,2001-03-01T00:00:00Z,,,x'];
    await expectSame(await put('empty.csv', `\ufeff${rows.join('\r\n')}`), 'route_stats');
    const notes = await bq.warehouse.query(`SELECT dest, note FROM ${bq.warehouse.dialect.table('fv_route_stats')} ORDER BY dest`);
    expect(notes).toEqual([{ dest: 'B', note: '' }, { dest: 'C', note: null }, { dest: 'D', note: 'x' }]);
    await expectSame(await put('tabs.csv', `origin\tdest\tevent_ts\tavg_delay\nT\tU\t2001-03-02T00:00:00Z\t2\nT\tV\tnope\t3\n`), 'route_stats');
    await expectSame(await put('corpus.csv.gz', gzipSync(routeCorpus())), 'route_stats');
  });

  it('a file spanning more than 4,000 days: one INSERT per 4,000-day range (BigQuery partitions per statement), still one load job and one classifying statement', async () => {
    const DAY = 86_400_000;
    const start = Date.parse('1985-01-01T06:00:00Z');
    const lines = ['origin,dest,event_ts,avg_delay,flights,note'];
    for (let i = 0; i < 4_100; i++) lines.push(`BF,M${i % 7},${new Date(start + i * DAY).toISOString()},${i},1,n`);
    lines.push('BF,M,2001-02-30T00:00:00Z,1,1,bad');
    const uri = await put('backfill.csv', `${lines.join('\n')}\n`);
    const { plan } = await expectSame(uri, 'route_stats');
    expect(plan.res).toMatchObject({ received: 4_101, accepted: 4_100, inserted: 4_100, quarantined: 1 });
    expect(plan.sent).toMatchObject({ loadJobs: 1, classify: 1, offlineInserts: 2, quarantineInserts: 1, merges: 0 });
  });

  it('Parquet: typed columns (a plain timestamp with microseconds, integers, infinities) loaded with their types and classified by the typed rules; a file with bad rows goes row by row', async () => {
    const write = async (name: string, select: string) => {
      const uri = `gs://ctloop-incoming/files/${name}`;
      const path = bq.standin.localPath(uri);
      await mkdir(dirname(path), { recursive: true });
      const db = await DuckDBInstance.create(':memory:');
      const c = await db.connect();
      await c.run(`COPY (${select}) TO '${path}' (FORMAT parquet)`);
      c.closeSync();
      db.closeSync();
      return uri;
    };
    const good = await write('rows.parquet', `SELECT 'O' || (i % 5) AS origin, 'D1' AS dest, TIMESTAMP '2001-03-01' + to_seconds(i) + INTERVAL 1 MICROSECOND * (i % 3) AS event_ts,
      CASE WHEN i % 11 = 0 THEN 'inf'::DOUBLE ELSE i / 3 END AS avg_delay, i::BIGINT AS flights, CASE WHEN i % 4 = 0 THEN NULL ELSE 'n' || i END AS note
      FROM range(500) t(i)`);
    const { plan } = await expectSame(good, 'route_stats');
    expect(plan.sent).toMatchObject({ loadJobs: 1, classify: 1, offlineInserts: 1, quarantineInserts: 0, merges: 0 });
    const drivers = await write('drivers.parquet', `SELECT i::INTEGER AS driver_id, TIMESTAMPTZ '1969-12-31 23:59:59.9995+00' + INTERVAL 1 HOUR * i AS event_ts, NULL::TIMESTAMP AS created,
      (i * 0.5)::FLOAT AS rating, i % 2 = 0 AS active FROM range(40) t(i)`);
    await expectSame(drivers, 'driver_stats');
    const bad = await write('bad.parquet', `SELECT 'O1' AS origin, 'D1' AS dest, TIMESTAMP '2001-03-01' AS event_ts, 1.5::DOUBLE AS avg_delay, 9007199254740993::BIGINT AS flights`);
    await expectSame(bad, 'route_stats', /^rows: the Parquet file has rows that fail/);
  });

  it('a view whose classifying statement would pass BigQuery\'s 1 MB query length goes row by row, before anything is written', async () => {
    const wide = parseFeatureRepo({
      entities: [{ name: 'thing', joinKeys: [{ name: 'id', type: 'STRING' }] }],
      featureViews: [{ name: 'wide', entity: 'thing', timestampField: 'event_ts', ttl: 0, features: Array.from({ length: 100 }, (_, i) => ({ name: `t${i}`, type: 'TIMESTAMP' as const })) }],
    });
    await applyFeatureRepo(bq.warehouse, wide);
    const header = ['id', 'event_ts', ...wide.view('wide').features.map((f) => f.name)];
    const uri = await put('wide.csv', `${header.join(',')}\nA,2001-03-01,${header.slice(2).map(() => '2001-03-02').join(',')}\n`);
    const paths: string[] = [];
    const before = bq.standin.requests.length;
    const res = await loadFeatureFile({ warehouse: bq.warehouse, online: bqStore.online, repo: wide, objectStore: objects, scratchBucket: 'ctloop-scratch', now: () => NOW, onPath: (p, why) => paths.push(why ? `${p}: ${why}` : p) }, { view: 'wide', uri });
    expect(paths[0]).toMatch(/^rows: the classifying statement would be \d+ characters, past BigQuery's query length limit/);
    expect(res).toMatchObject({ received: 1, accepted: 1, inserted: 1 });
    expect(count(bq.standin.requests.slice(before), 'fv_wide')).toMatchObject({ loadJobs: 1, classify: 0, offlineInserts: 1 }); // the row-by-row path's load job only
  });

  it('hands a file BigQuery could read differently to the row-by-row path before writing anything: ragged line, blank line, spaces around a quote, a lone carriage return, a bad value beyond the BMP or with a control character', async () => {
    const base = 'origin,dest,event_ts,avg_delay,flights,note\nO1,D1,2001-03-01T00:00:00Z,1,1,a\n';
    for (const [name, body, why, engineRan] of [
      ['ragged.csv', `${base}O1,D1\n`, /^rows: line 3 has 2 fields where the header has 6/, false],
      ['blank.csv', `${base}\nO2,D1,2001-03-01T00:00:00Z,1,1,b\n`, /^rows: line 3 is blank/, false],
      ['spaced.csv', `${base}O2,D1,2001-03-01T00:00:00Z,1,1, "b" \n`, /^rows: line 3 has a quote inside an unquoted value/, false],
      ['cr.csv', `${base}O2,D1,2001-03-01T00:00:00Z,1,1,b\rO3,D1,2001-03-01T00:00:00Z,1,1,c\n`, /^rows: line 3 has a carriage return/, false],
      ['astral.csv', `${base}O\u{1F600},D1,2001-03-01T00:00:00Z,1,zz,b\n`, /^rows: a bad value with characters/, true],
      ['control.csv', `${base}O\u0001,D1,2001-03-01T00:00:00Z,1,zz,b\n`, /^rows: a bad value with characters/, true],
    ] as const) {
      const uri = await put(name, body);
      const before = bq.standin.requests.length;
      const { plan } = await expectSame(uri, 'route_stats', why);
      // Nothing written by the plan: the only writes are the row-by-row path's (its load job of validated rows).
      expect(plan.sent.offlineInserts).toBe(1);
      expect(plan.sent.classify).toBe(engineRan ? 1 : 0);
      expect(plan.sent.loadJobs).toBe(engineRan ? 2 : 1);
      expect(bq.standin.requests.length).toBeGreaterThan(before);
    }
  });
});
