import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../../shared/adapters/object-store/index.js';
import { MemoryEventBus } from '../../../shared/adapters/event-bus/index.js';
import { registerBaseline, viewFeatureSpecs } from '../../../shared/drift/baselines.js';
import { detectDrift } from '../../../shared/drift/detect.js';
import { discoverySql, topValuesSql, windowProfileSql } from '../../../shared/drift/profile-sql.js';
import { catalog, createEvent } from '../../../shared/events/catalog.js';
import type { Profile } from '../../../shared/drift/profile.js';
import { createDuckDbWarehouse } from '../../../shared/adapters/warehouse/duckdb/index.js';
import { offlineColumns } from '../../../shared/features/definitions.js';
import type { Params, ParamType } from '../../../shared/ports/warehouse.js';
import { readHistory, writeHistory } from '../../../shared/drift/history.js';
import { claimTrainingRequest } from '../../../shared/drift/policy.js';
import { applyFeatureRepo } from '../../../shared/features/apply.js';
import { startBigQueryTestWarehouse, type BigQueryTestWarehouse } from '../../helpers/bigquery-standin.js';
import { analyzerUnavailableReason } from '../../helpers/zetasql.js';
import { testRepo } from '../../helpers/feature-fixtures.js';
import { insertRows, routeRows } from './data.js';
import { expectExactProfile } from './exact-counts.js';

/**
 * The drift SQL as BigQuery SQL, end to end: every statement goes through the ZetaSQL analyzer with BigQuery's
 * language options (the stand-in rejects what BigQuery would reject), then runs through the real BigQuery adapter
 * on the stand-in's DuckDB translation (test/helpers/bigquery-translate.ts: `[OFFSET(i)]`, IS_NAN/IS_INF,
 * RANGE_BUCKET, APPROX_QUANTILES). Covered: baseline registration (discovery, top values, one-scan profile), the
 * one-scan profile of a drift check with its exact counts, the comparison, the history insert and the
 * training-request MERGE; the results are compared with the same flow on DuckDB.
 */
const unavailable = analyzerUnavailableReason();
if (unavailable) console.warn(`skipping drift-on-BigQuery tests: ${unavailable}`);

const repo = testRepo();
const view = repo.view('route_stats');
const day = (s: string) => new Date(`${s}T00:00:00Z`);

describe.skipIf(unavailable !== null)('drift SQL on BigQuery (ZetaSQL analyzer + stand-in)', () => {
  let bq: BigQueryTestWarehouse;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctloop-drift-bq-'));
    bq = await startBigQueryTestWarehouse();
    await applyFeatureRepo(bq.warehouse, repo);
    const base = { days: 7, n: 1500, flightsMax: 30, notes: ['a', 'b', 'c'] };
    await insertRows(bq.warehouse, view, routeRows({ ...base, start: day('2001-01-01'), seed: 1, delayMean: 10 }));
    await insertRows(bq.warehouse, view, routeRows({ ...base, start: day('2001-03-01'), seed: 3, delayMean: 14, flightsMax: 45, notes: ['a', 'b', 'c', 'd'] }));
  });
  afterAll(async () => {
    await bq?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  const paramTypes = (p: Params): Record<string, ParamType> => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.type]));

  it('baseline discovery and top-values SQL are valid BigQuery', async () => {
    const d = bq.warehouse.dialect;
    const table = { name: `${bq.standin.project}.ctloop.${view.table}`, columns: offlineColumns(view).map((c) => ({ name: c.name, type: c.type })) };
    const src = { relation: d.table(view.table), timestampColumn: view.timestampField, window: { start: day('2001-01-01'), end: day('2001-01-08') }, label: view.table };
    const features = viewFeatureSpecs(view);
    const disc = discoverySql(d, src, features, 20);
    const r1 = await bq.analyzer.analyze(disc.sql, { tables: [table], params: paramTypes(disc.params) });
    expect(r1, JSON.stringify(r1)).toMatchObject({ ok: true });
    const top = topValuesSql(d, src, features, [1, 2], 100);
    const r2 = await bq.analyzer.analyze(top.sql, { tables: [table], params: paramTypes(top.params) });
    expect(r2, JSON.stringify(r2)).toMatchObject({ ok: true });
    // The analyzer does reject what BigQuery rejects, e.g. DISTINCT on FLOAT64:
    const bad = await bq.analyzer.analyze(`SELECT COUNT(DISTINCT avg_delay) FROM ${d.table(view.table)}`, { tables: [table] });
    expect(bad.ok).toBe(false);
  });

  it('the one-scan window profile is valid BigQuery', async () => {
    const d = bq.warehouse.dialect;
    const table = { name: `${bq.standin.project}.ctloop.${view.table}`, columns: offlineColumns(view).map((c) => ({ name: c.name, type: c.type })) };
    const duck = await createDuckDbWarehouse({ path: ':memory:' });
    await applyFeatureRepo(duck, repo);
    await insertRows(duck, view, routeRows({ days: 7, n: 1500, flightsMax: 30, notes: ['a', 'b', 'c'], start: day('2001-01-01'), seed: 1, delayMean: 10 }));
    const b = await registerBaseline({ warehouse: duck, objectStore: new LocalObjectStore(join(dir, 'objects')), bucket: 'ctloop-test' }, { view, from: day('2001-01-01'), to: day('2001-01-08') });
    await duck.close();
    const specs = b.profile.features.map((f) => ({ name: f.name, type: f.type, kind: f.kind, bins: f.bins }));
    const st = windowProfileSql(d, { relation: d.table(view.table), timestampColumn: view.timestampField, window: { start: day('2001-03-01'), end: day('2001-03-08') }, label: view.table }, specs);
    const r = await bq.analyzer.analyze(st.sql, { tables: [table], params: paramTypes(st.params) });
    expect(r, JSON.stringify(r)).toMatchObject({ ok: true });
  });

  it('the one-scan profile runs on BigQuery and counts exactly (edges, ±0, NaN/Inf/NULL, unlisted values)', async () => {
    await expectExactProfile(bq.warehouse);
    expect(bq.standin.statements.join('\n')).toMatch(/RANGE_BUCKET\(/);
  });

  it('baseline, drift check and comparison run end to end on BigQuery with the same results as on DuckDB', async () => {
    const duck = await createDuckDbWarehouse({ path: ':memory:' });
    try {
      await applyFeatureRepo(duck, repo);
      const base = { days: 7, n: 1500, flightsMax: 30, notes: ['a', 'b', 'c'] };
      await insertRows(duck, view, routeRows({ ...base, start: day('2001-01-01'), seed: 1, delayMean: 10 }));
      await insertRows(duck, view, routeRows({ ...base, start: day('2001-03-01'), seed: 3, delayMean: 14, flightsMax: 45, notes: ['a', 'b', 'c', 'd'] }));
      const req = { view, from: day('2001-01-01'), to: day('2001-01-08') };
      const onBq = await registerBaseline({ warehouse: bq.warehouse, objectStore: new LocalObjectStore(join(dir, 'bq-objects')), bucket: 'ctloop-test' }, req);
      const onDuck = await registerBaseline({ warehouse: duck, objectStore: new LocalObjectStore(join(dir, 'duck-objects')), bucket: 'ctloop-test' }, req);
      const strip = (p: Profile) => p.features.map(({ name, count, nulls, nan, inf, min, max, distinct, bins, counts }) => ({ name, count, nulls, nan, inf, min, max, distinct, bins, counts }));
      // The stand-in runs APPROX_QUANTILES as exact quantiles, so the edges (and all counts) equal DuckDB's here.
      expect(strip(onBq.profile)).toEqual(strip(onDuck.profile));
      expect(onBq.profile.features.find((f) => f.name === 'avg_delay')!.bins?.type).toBe('edges');
      const statements = bq.standin.statements.join('\n');
      expect(statements).toMatch(/APPROX_QUANTILES\([^)]*\)\[OFFSET\(\d+\)\]/);
      expect(statements).toMatch(/IS_NAN\(/);

      const bus = new MemoryEventBus({ journalDir: join(dir, 'bus') });
      try {
        const reported: unknown[] = [];
        await bus.subscribe({ name: 'bq-reported', topic: catalog.driftReported.topic }, async (e) => void reported.push(e));
        const trigger = createEvent('driftCheckRequested', { view: 'route_stats', window: { start: '2001-03-01T00:00:00Z', end: '2001-03-08T00:00:00Z' } }, { source: 'test' });
        const onBqCheck = await detectDrift({ warehouse: bq.warehouse, objectStore: new LocalObjectStore(join(dir, 'bq-objects')), bus, repo, bucket: 'ctloop-test' }, trigger);
        const onDuckCheck = await detectDrift({ warehouse: duck, objectStore: new LocalObjectStore(join(dir, 'duck-objects')), bus, repo, bucket: 'ctloop-test' }, trigger);
        await bus.drain();
        expect(onBqCheck.report.dataset_drift).toBe(true);
        const rounded = (r: typeof onBqCheck.report) => ({ ...r, features: r.features.map((f) => ({ ...f, statistic: Number(f.statistic.toPrecision(10)) })) });
        expect(rounded(onBqCheck.report)).toEqual(rounded(onDuckCheck.report));
        expect(reported).toHaveLength(2);
        expect((await readHistory(bq.warehouse, { view: 'route_stats' })).map((h) => h.report_id)).toContain(onBqCheck.reportId);
      } finally {
        await bus.close();
      }
    } finally {
      await duck.close();
    }
  });

  it('history rows and the training-request MERGE run on BigQuery (adapter + stand-in)', async () => {
    const w = bq.warehouse;
    const window = { start: '2001-03-01T00:00:00.000Z', end: '2001-03-08T00:00:00.000Z' };
    const report = { dataset_drift: true, drift_share: 0.5, share_drifted: 1, anomalies: [], skipped: [], features: [{ name: 'avg_delay', kind: 'numerical' as const, method: 'wasserstein' as const, statistic: 1.2, p_value: null, threshold: 0.1, drifted: true }] };
    await writeHistory(w, { reportId: 'r1', view: 'route_stats', model: null, baseline: { id: 'route_stats@v1', uri: 'gs://b/x.json' }, window, report, reportUri: 'gs://b/r1.json', createdAt: new Date() });
    await writeHistory(w, { reportId: 'r1', view: 'route_stats', model: null, baseline: { id: 'route_stats@v1', uri: 'gs://b/x.json' }, window, report, reportUri: 'gs://b/r1.json', createdAt: new Date() });
    expect((await readHistory(w)).filter((h) => h.report_id === 'r1').map((h) => [h.report_id, h.dataset_drift])).toEqual([['r1', true]]);
    const now = new Date();
    const c1 = await claimTrainingRequest(w, { model: 'm', window, reportId: 'r1', triggerId: 't1', now, cooldownSeconds: 3600 });
    const c2 = await claimTrainingRequest(w, { model: 'm', window, reportId: 'r2', triggerId: 't2', now, cooldownSeconds: 3600 });
    expect([c1.publish, c2.publish]).toEqual([true, false]);
    expect(bq.standin.statements.join('\n')).toMatch(/MERGE INTO `[^`]+\._training_requests`/);
  });
});
