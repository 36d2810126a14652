import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbWarehouse } from '../../../shared/adapters/warehouse/duckdb/index.js';
import { validate } from '../../../shared/drift/anomalies.js';
import { computeBaselineProfile } from '../../../shared/drift/baseline-profile.js';
import { viewFeatureSpecs } from '../../../shared/drift/baselines.js';
import { compareProfiles } from '../../../shared/drift/compare.js';
import { compareSamples } from '../../../shared/drift/file-mode.js';
import { run, windowProfileSql } from '../../../shared/drift/profile-sql.js';
import type { SampleColumn } from '../../../shared/drift/samples.js';
import { applyFeatureRepo } from '../../../shared/features/apply.js';
import type { Warehouse } from '../../../shared/ports/warehouse.js';
import { testRepo } from '../../helpers/feature-fixtures.js';
import { insertRows, routeRows } from './data.js';

/**
 * File mode (Evidently's numbers on raw values) vs warehouse mode (the baseline's 20 quantile bins + open outer
 * bins) on the same rows. The measured differences are printed and bounded here, and stated in docs/drift.md.
 */
const repo = testRepo();
const view = repo.view('route_stats');
const day = (s: string) => new Date(`${s}T00:00:00Z`);

describe('file mode vs warehouse mode on the same data', () => {
  let w: Warehouse;
  beforeAll(async () => {
    w = await createDuckDbWarehouse({ path: ':memory:' });
    await applyFeatureRepo(w, repo);
    const base = { days: 7, n: 5000, flightsMax: 30, notes: ['a', 'b', 'c'] };
    await insertRows(w, view, routeRows({ ...base, start: day('2001-01-01'), seed: 11, delayMean: 10 }));
    await insertRows(w, view, routeRows({ ...base, start: day('2001-02-01'), seed: 12, delayMean: 10.3 }));
    await insertRows(w, view, routeRows({ ...base, start: day('2001-03-01'), seed: 13, delayMean: 12, flightsMax: 36 }));
  });
  afterAll(async () => { await w?.close(); });

  const samples = async (from: string, to: string): Promise<SampleColumn[]> => {
    const rows = await w.query(`SELECT avg_delay, flights, note FROM ${w.dialect.table(view.table)} WHERE event_ts >= $a AND event_ts < $b ORDER BY _ingest_id`, {
      params: { a: { type: 'TIMESTAMP', value: day(from) }, b: { type: 'TIMESTAMP', value: day(to) } },
    });
    return [
      { name: 'avg_delay', type: 'FLOAT64', kind: 'numerical', values: rows.map((r) => Number(r.avg_delay)) },
      { name: 'flights', type: 'INT64', kind: 'numerical', values: rows.map((r) => Number(r.flights)) },
      { name: 'note', type: 'STRING', kind: 'categorical', values: rows.map((r) => String(r.note)) },
    ];
  };

  it.each([['2001-02-01', '2001-02-08', 'mild'], ['2001-03-01', '2001-03-08', 'strong']])('%s: same methods and decisions, bounded statistic differences', async (from, to, label) => {
    const src = (a: string, b: string) => ({ relation: w.dialect.table(view.table), timestampColumn: view.timestampField, window: { start: day(a), end: day(b) }, label: view.table });
    const baseline = await computeBaselineProfile(w, src('2001-01-01', '2001-01-08'), viewFeatureSpecs(view));
    const current = await run(w, windowProfileSql(w.dialect, src(from, to), baseline.features.map((f) => ({ ...f }))));
    const wh = compareProfiles(baseline, current, validate(baseline, current, null));
    const file = compareSamples(await samples('2001-01-01', '2001-01-08'), await samples(from, to));
    const rows = file.features.map((f) => {
      const g = wh.features.find((x) => x.name === f.name)!;
      return { feature: f.name, method: f.method, file: f.statistic, warehouse: g.statistic, relDiff: Math.abs(g.statistic - f.statistic) / Math.abs(f.statistic), drifted: [f.drifted, g.drifted] };
    });
    console.log(`modes (${label} drift):\n${rows.map((r) => `  ${r.feature.padEnd(10)} ${r.method.padEnd(14)} file ${r.file.toFixed(5)}  warehouse ${r.warehouse.toFixed(5)}  rel diff ${(r.relDiff * 100).toFixed(2)}%  drifted ${r.drifted.join('/')}`).join('\n')}`);
    expect(wh.features.map((f) => f.method)).toEqual(file.features.map((f) => f.method));
    expect(wh.features.map((f) => f.drifted)).toEqual(file.features.map((f) => f.drifted));
    const byName = Object.fromEntries(rows.map((r) => [r.feature, r]));
    // Per-value bins (flights has 30–36 integer values → quantile edges; note → values) are exact for categorical.
    expect(byName.note!.relDiff).toBeLessThan(1e-12);
    // Wasserstein on 20 quantile bins with uniform mass inside each bin: within 15% of the raw-value distance.
    expect(byName.avg_delay!.relDiff).toBeLessThan(0.15);
    expect(byName.flights!.relDiff).toBeLessThan(0.15);
  });
});
