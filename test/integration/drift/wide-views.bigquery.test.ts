import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbWarehouse } from '../../../shared/adapters/warehouse/duckdb/index.js';
import { discoverySql, run, windowProfileSql, type FeatureSpec } from '../../../shared/drift/profile-sql.js';
import type { ColumnSchema, Row, Warehouse } from '../../../shared/ports/warehouse.js';
import { LIMITS, startBigQueryTestWarehouse, type BigQueryTestWarehouse } from '../../helpers/bigquery-standin.js';
import { analyzerUnavailableReason } from '../../helpers/zetasql.js';

/**
 * One result column per bin (COUNTIF) and one query parameter per category value: a wide view passes BigQuery's
 * 10,000-column and 10,000-parameter limits in one statement. The profile statements are split into several, each
 * within the limits; the stand-in enforces them, and the split answers equal DuckDB's.
 */
const unavailable = analyzerUnavailableReason();
if (unavailable) console.warn(`[wide-views.bigquery] skipping: ${unavailable}`);

const NUM = 50;
const CAT = 30;
const ROWS = 120;
const columns: ColumnSchema[] = [
  ...Array.from({ length: NUM }, (_, j) => ({ name: `x${j}`, type: 'FLOAT64' as const })),
  ...Array.from({ length: CAT }, (_, j) => ({ name: `c${j}`, type: 'STRING' as const })),
];
const rows: Row[] = Array.from({ length: ROWS }, (_, r) => Object.fromEntries([
  ...Array.from({ length: NUM }, (_, j) => [`x${j}`, (r * 7 + j) % 230]),
  ...Array.from({ length: CAT }, (_, j) => [`c${j}`, `v${(r * 13 + j) % 400}`]),
]));
// 50 numerical features × (200 bins + 9 other columns) > 10,000 columns; 30 categorical × 350 values > 10,000 params.
const numerical: FeatureSpec[] = Array.from({ length: NUM }, (_, j) => ({
  name: `x${j}`, type: 'FLOAT64', kind: 'numerical', bins: { type: 'edges', edges: Array.from({ length: 200 }, (_, e) => e) },
}));
const categorical: FeatureSpec[] = Array.from({ length: CAT }, (_, j) => ({
  name: `c${j}`, type: 'STRING', kind: 'categorical', bins: { type: 'values', values: Array.from({ length: 350 }, (_, v) => `v${v}`).sort() },
}));

async function seed(w: Warehouse): Promise<void> {
  await w.createTable({ name: 'wide', columns });
  await w.withRows(columns, rows, (rel) => w.execute(`INSERT INTO ${w.dialect.table('wide')} SELECT * FROM ${rel.sql}`, { params: rel.params }));
}

describe.skipIf(!!unavailable)('profiles of wide views within BigQuery limits', () => {
  let bq: BigQueryTestWarehouse;
  let duck: Warehouse;
  beforeAll(async () => {
    bq = await startBigQueryTestWarehouse();
    duck = await createDuckDbWarehouse({ path: ':memory:' });
    await seed(bq.warehouse);
    await seed(duck);
  });
  afterAll(async () => {
    await bq?.cleanup();
    await duck?.close();
  });
  const src = (w: Warehouse) => ({ relation: w.dialect.table('wide'), label: 'wide' });

  it('the window profile is split so no statement passes the column or parameter limit, with the same answers as DuckDB', async () => {
    for (const features of [numerical, categorical]) {
      const before = bq.standin.requests.length;
      const onBq = await run(bq.warehouse, windowProfileSql(bq.warehouse.dialect, src(bq.warehouse), features));
      const sent = bq.standin.requests.slice(before).filter((r) => r.body?.query);
      expect(sent.length).toBeGreaterThan(1);
      for (const r of sent) expect((r.body.queryParameters ?? []).length).toBeLessThanOrEqual(LIMITS.queryParameters);
      const onDuck = await run(duck, windowProfileSql(duck.dialect, src(duck), features));
      expect(onBq.rows).toBe(ROWS);
      expect(onBq.features.map((f) => [f.count, f.nulls, f.min, f.max, f.counts])).toEqual(onDuck.features.map((f) => [f.count, f.nulls, f.min, f.max, f.counts]));
      expect(onBq.features.every((f) => (f.counts ?? []).reduce((a, b) => a + b, 0) === ROWS)).toBe(true);
    }
  });

  it('baseline discovery (k + 1 quantile columns per feature) is split too, and each part answers like one statement', async () => {
    const k = 200;
    const s = discoverySql(bq.warehouse.dialect, src(bq.warehouse), numerical, k);
    const parts = [s, ...(s.more ?? [])];
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect((p.sql.match(/ AS f\d+_/g) ?? []).length + 1).toBeLessThanOrEqual(LIMITS.resultColumns);
    // On DuckDB (fast to run): the split statements give what one statement gives.
    const split = await run(duck, discoverySql(duck.dialect, src(duck), numerical, k));
    const one = await run(duck, { ...discoverySql(duck.dialect, src(duck), numerical.slice(0, 5), k) });
    expect(split.slice(0, 5)).toEqual(one);
    expect(split.map((x) => x.quantiles.length)).toEqual(numerical.map(() => k + 1));
  });
});
