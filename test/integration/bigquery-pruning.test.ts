import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../shared/adapters/object-store/index.js';
import { writeHistory } from '../../shared/drift/history.js';
import type { DriftReport } from '../../shared/drift/report.js';
import { applyFeatureRepo } from '../../shared/features/apply.js';
import { getHistoricalFeatures } from '../../shared/features/historical.js';
import { ingestRows } from '../../shared/features/ingest.js';
import { offlineColumns } from '../../shared/features/definitions.js';
import { dayRanges, offlineMergeSql } from '../../shared/features/sql.js';
import { analyzerUnavailableReason } from '../helpers/zetasql.js';
import { startBigQueryTestWarehouse, type BigQueryTestWarehouse, type RecordedRequest } from '../helpers/bigquery-standin.js';
import { testRepo, withScratchOnline } from '../helpers/feature-fixtures.js';

/**
 * Each write reads only the partitions it needs, explicitly (a WHERE filter on the partitioning column with
 * literal bounds, which BigQuery always prunes on; a filter in an ON clause "might or might not" be). Shown with
 * the stand-in's dry run (`dryRun: true` → `totalBytesProcessed`, modelled from the partitions a statement reads):
 * the product's own requests are replayed as dry runs and compared with a scan of the partitions they need.
 */
const unavailable = analyzerUnavailableReason();
if (unavailable) console.warn(`[bigquery-pruning] skipping: ${unavailable}`);

describe.skipIf(!!unavailable)('partition pruning of the BigQuery statements (stand-in dry runs)', () => {
  const repo = testRepo();
  let bq: BigQueryTestWarehouse;
  let dir: string;
  const DAY = 86_400_000;
  const D0 = Date.parse('2001-03-01T00:00:00Z');
  const at = (day: number, min = 0) => new Date(D0 + day * DAY + min * 60_000);
  const T = (name: string) => bq.warehouse.dialect.table(name);
  const lit = (d: Date) => bq.warehouse.dialect.timestamp(d);

  beforeAll(async () => {
    bq = await startBigQueryTestWarehouse();
    dir = await mkdtemp(join(tmpdir(), 'ctloop-prune-'));
    await applyFeatureRepo(bq.warehouse, repo);
    // 30 days of history, and 30 days of quarantined rows (one ingest a day, processed that day).
    for (let day = 0; day < 30; day++) {
      await withScratchOnline((online) => ingestRows({ warehouse: bq.warehouse, online, repo, now: () => at(day, 5) }, {
        view: 'route_stats', sourceId: `d${day}`, createdAt: at(day),
        rows: [
          ...Array.from({ length: 20 }, (_, i) => ({ origin: `O${i}`, dest: 'D', event_ts: at(day, i).toISOString(), avg_delay: i, note: 'n'.repeat(50) })),
          { origin: 'X', dest: 'Y', event_ts: 'not a time' },
        ],
      }));
    }
  });
  afterAll(async () => {
    await bq?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  /** Run `fn`, and return the requests it sent whose SQL matches `re`. */
  const sent = async (fn: () => Promise<unknown>, re: RegExp): Promise<RecordedRequest[]> => {
    const before = bq.standin.requests.length;
    await fn();
    return bq.standin.requests.slice(before).filter((r) => re.test(String(r.body?.query ?? r.body?.configuration?.query?.query ?? '')));
  };
  const replay = (r: RecordedRequest) => bq.standin.dryRun({
    query: r.body?.query ?? r.body.configuration.query.query,
    queryParameters: r.body?.queryParameters ?? r.body?.configuration?.query?.queryParameters,
  });
  const scan = (sql: string) => bq.standin.dryRun({ query: sql });

  it('the dry run models pruning: WHERE bounds prune, an ON-clause bound does not', async () => {
    const whole = await scan(`SELECT _ingest_id, event_ts FROM ${T('fv_route_stats')}`);
    const oneDay = await scan(`SELECT _ingest_id, event_ts FROM ${T('fv_route_stats')} WHERE event_ts BETWEEN ${lit(at(15))} AND ${lit(at(15, 60))}`);
    // STRING: 2 bytes + its length (ids d0:0 … d29:19); TIMESTAMP: 8 bytes.
    const ids = Array.from({ length: 30 }, (_, d) => Array.from({ length: 20 }, (_, i) => `d${d}:${i}`)).flat();
    expect(whole).toBe(ids.reduce((a, id) => a + 2 + id.length, 0) + ids.length * 8);
    expect(oneDay * 30).toBeLessThan(whole * 1.1);
    const onClause = await scan(`SELECT s.k FROM (SELECT 'x' AS k) AS s LEFT JOIN ${T('fv_route_stats')} AS t ON t._ingest_id = s.k AND t.event_ts BETWEEN ${lit(at(15))} AND ${lit(at(15, 60))}`);
    expect(onClause).toBe(whole);
  });

  it('the offline write reads only the partitions of its rows', async () => {
    const [req] = await sent(() => withScratchOnline((online) => ingestRows({ warehouse: bq.warehouse, online, repo }, {
      view: 'route_stats', sourceId: 'late', createdAt: at(15), rows: [{ origin: 'O1', dest: 'D', event_ts: at(15, 30).toISOString(), avg_delay: 1 }],
    })), /fv_route_stats`/);
    const need = await scan(`SELECT _ingest_id, event_ts FROM ${T('fv_route_stats')} WHERE event_ts BETWEEN ${lit(at(15, 30))} AND ${lit(at(15, 30))}`);
    expect(need).toBeGreaterThan(0);
    expect(await replay(req!)).toBe(need);
  });

  it('the quarantine write reads only the partitions since its source was created', async () => {
    const [req] = await sent(() => withScratchOnline((online) => ingestRows({ warehouse: bq.warehouse, online, repo, now: () => at(29, 30) }, {
      view: 'route_stats', sourceId: 'bad', createdAt: at(29), rows: [{ origin: 'X', dest: 'Y', event_ts: 'never' }],
    })), /_quarantine`/);
    const whole = await scan(`SELECT view, ingest_id, quarantined_at FROM ${T('_quarantine')}`);
    const bytes = await replay(req!);
    expect(bytes).toBeGreaterThan(0);
    expect(bytes * 10).toBeLessThan(whole); // 2 of 30 days (a day of clock skew before the source's creation)
  });

  it('the drift-history write reads only the partitions since the window started', async () => {
    const report = { dataset_drift: false, share_drifted: 0, anomalies: [], features: [] } as unknown as DriftReport;
    const entry = (i: number, day: number) => ({
      reportId: `r${i}`, view: 'route_stats', model: null, baseline: { id: 'b', uri: 'gs://b/b.json' }, report, reportUri: `gs://b/r${i}.json`,
      window: { start: at(day - 1).toISOString(), end: at(day).toISOString() }, createdAt: at(day, 1),
    });
    for (let day = 1; day <= 20; day++) await writeHistory(bq.warehouse, entry(day, day));
    const [req] = await sent(() => writeHistory(bq.warehouse, entry(99, 20)), /INSERT INTO `[^`]*_drift_history/);
    const whole = await scan(`SELECT report_id, created_at FROM ${T('_drift_history')}`);
    const bytes = await replay(req!);
    expect(bytes).toBeGreaterThan(0);
    expect(bytes * 5).toBeLessThan(whole);
  });

  it('a backfill over more than 4,000 days is written in statements of at most 4,000 partitions each', async () => {
    const start = Date.parse('1990-01-01T12:00:00Z');
    const rows = Array.from({ length: 4_001 }, (_, i) => ({ origin: 'B', dest: 'F', event_ts: new Date(start + i * DAY).toISOString(), avg_delay: i }));
    let result: Awaited<ReturnType<typeof ingestRows>> | undefined;
    const writes = await sent(async () => {
      result = await withScratchOnline((online) => ingestRows({ warehouse: bq.warehouse, online, repo }, { view: 'route_stats', sourceId: 'backfill', createdAt: new Date(start), rows }));
    }, /INSERT INTO `[^`]*\.fv_route_stats`/);
    expect(result!.inserted).toBe(4_001);
    expect(writes.length).toBe(2);
  });

  it('one staged relation over more than 4,000 days is written with one statement per dayRanges range, exactly once', async () => {
    const view = repo.view('route_stats');
    const w = bq.warehouse;
    await w.createTable({ name: 'staged_file', columns: offlineColumns(view) });
    const start = Date.parse('1980-01-01T00:00:00Z'); // rows at midnight: on the boundary between two ranges
    const rows = Array.from({ length: 4_500 }, (_, i) => ({
      origin: 'S', dest: 'F', event_ts: new Date(start + i * DAY), avg_delay: i, flights: null, note: null,
      _created_ts: new Date(start), _ingest_id: `file:${i}`, _ingested_at: new Date(start),
    }));
    await w.withRows(offlineColumns(view), rows, (rel) => w.execute(`INSERT INTO ${T('staged_file')} SELECT * FROM ${rel.sql}`, { params: rel.params }));
    const lo = new Date(start);
    const hi = new Date(start + 4_499 * DAY);
    await expect(w.execute(offlineMergeSql(w.dialect, view, T('staged_file'), lo, hi))).rejects.toThrow(/Too many partitions/);
    const write = async () => {
      let n = 0;
      for (const [a, b] of dayRanges(lo, hi)) n += (await w.execute(offlineMergeSql(w.dialect, view, T('staged_file'), a, b))).affectedRows ?? 0;
      return n;
    };
    expect(dayRanges(lo, hi)).toHaveLength(2);
    expect(await write()).toBe(4_500);
    expect(await write()).toBe(0);
    const [c] = await w.query(`SELECT COUNT(*) AS n, COUNT(DISTINCT _ingest_id) AS d FROM ${T('fv_route_stats')} WHERE origin = 'S'`);
    expect(c).toEqual({ n: 4_500, d: 4_500 });
  });

  it('EXPORT DATA of a training set has no global ORDER BY (the local merge restores spine order)', async () => {
    const spine = join(dir, 'spine.csv');
    await writeFile(spine, ['origin,dest,ts', `O1,D,${at(20, 30).toISOString()}`, `O2,D,${at(3, 30).toISOString()}`].join('\n'));
    const root = bq.standin.localPath('gs://b/x').slice(0, -'/b/x'.length);
    const [req] = await sent(() => getHistoricalFeatures({ warehouse: bq.warehouse, objectStore: new LocalObjectStore(root), repo, scratchBucket: 'scratch' }, {
      spine, timestampColumn: 'ts', features: ['route_stats:avg_delay'], out: join(dir, 'out.csv'),
    }), /^EXPORT DATA/);
    const sql = String(req!.body?.query ?? req!.body.configuration.query.query);
    expect(sql).not.toMatch(/ORDER BY[^)]*$/);
  });
});
