import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDuckDbWarehouse } from '../../../shared/adapters/warehouse/duckdb/index.js';
import { run, windowProfileSql, type FeatureSpec } from '../../../shared/drift/profile-sql.js';
import type { Warehouse } from '../../../shared/ports/warehouse.js';
import { startBigQueryTestWarehouse, type BigQueryTestWarehouse } from '../../helpers/bigquery-standin.js';
import { analyzerUnavailableReason } from '../../helpers/zetasql.js';

/**
 * BigQuery raises an overflow error where DuckDB returns inf: one value with |v − pivot| ≳ 1.3e154 used to fail the
 * whole baseline or drift statement (SUM(dv * dv)). The profile's sums are overflow-safe; the stand-in raises on
 * overflow as BigQuery does, so it would have caught it.
 */
const unavailable = analyzerUnavailableReason();
if (unavailable) console.warn(`[overflow.bigquery] skipping: ${unavailable}`);

const VALUES = [1, 2, 3, 1e200, -3e307, 2.5];
const feature: FeatureSpec = { name: 'x', type: 'FLOAT64', kind: 'numerical', bins: { type: 'edges', edges: [0, 1, 2, 3] } };

function exact(): { mean: number; std: number } {
  // Reference in the scaled domain (no overflow in JS either).
  const s = 2 ** -600;
  const xs = VALUES.map((v) => v * s);
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length;
  return { mean: m / s, std: Math.sqrt(variance) / s };
}

async function seed(w: Warehouse): Promise<void> {
  await w.createTable({ name: 'big_values', columns: [{ name: 'x', type: 'FLOAT64' }] });
  await w.withRows([{ name: 'x', type: 'FLOAT64' }], VALUES.map((x) => ({ x })), async (rel) => {
    await w.execute(`INSERT INTO ${w.dialect.table('big_values')} (x) SELECT x FROM ${rel.sql}`, { params: rel.params });
  });
}

describe.skipIf(!!unavailable)('float overflow in profiles (BigQuery stand-in)', () => {
  let bq: BigQueryTestWarehouse;
  beforeAll(async () => {
    bq = await startBigQueryTestWarehouse();
    await seed(bq.warehouse);
  });
  afterAll(async () => { await bq?.cleanup(); });

  it('the stand-in raises on FLOAT64 overflow of finite values, like BigQuery, and not on stored infinities', async () => {
    const t = bq.warehouse.dialect.table('big_values');
    await expect(bq.warehouse.query(`SELECT SUM(x * x) AS s FROM ${t}`)).rejects.toThrow(/overflow/i);
    await expect(bq.warehouse.query(`SELECT SUM(x) * 1e300 AS s FROM ${t}`)).rejects.toThrow(/overflow/i);
    await expect(bq.warehouse.query(`SELECT MAX(x) AS s FROM ${t}`)).resolves.toEqual([{ s: 1e200 }]);
  });

  it('a window profile with values of 1e200 and -3e307 gives finite mean and std on BigQuery and on DuckDB', async () => {
    const want = exact();
    const duck = await createDuckDbWarehouse({ path: ':memory:' });
    try {
      await seed(duck);
      for (const w of [bq.warehouse, duck]) {
        const profile = await run(w, windowProfileSql(w.dialect, { relation: w.dialect.table('big_values'), label: 'big_values' }, [feature]));
        const f = profile.features[0]!;
        expect(f.count).toBe(VALUES.length);
        expect(f.min).toBe(-3e307);
        expect(f.max).toBe(1e200);
        expect(f.mean! / want.mean).toBeCloseTo(1, 12);
        expect(f.std! / want.std).toBeCloseTo(1, 12);
      }
    } finally {
      await duck.close();
    }
  });

  it('ordinary values keep full precision', async () => {
    const w = bq.warehouse;
    await w.createTable({ name: 'small_values', columns: [{ name: 'x', type: 'FLOAT64' }] });
    const xs = [1e9 + 1, 1e9 + 2, 1e9 + 3, 1e9 + 4];
    await w.withRows([{ name: 'x', type: 'FLOAT64' }], xs.map((x) => ({ x })), (rel) =>
      w.execute(`INSERT INTO ${w.dialect.table('small_values')} (x) SELECT x FROM ${rel.sql}`, { params: rel.params }));
    const spec = { ...feature, bins: { type: 'edges' as const, edges: [1e9, 1e9 + 2, 1e9 + 5] } };
    const f = (await run(w, windowProfileSql(w.dialect, { relation: w.dialect.table('small_values'), label: 's' }, [spec]))).features[0]!;
    expect(f.mean).toBe(1e9 + 2.5);
    expect(f.std).toBeCloseTo(Math.sqrt(1.25), 12);
  });
});
