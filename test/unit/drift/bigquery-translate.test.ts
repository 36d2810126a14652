import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { DUCKDB_PRELUDE, translate } from '../../helpers/bigquery-translate.js';

/** The stand-in's translation rules the drift SQL needs (executed end to end in test/integration/drift/bigquery.test.ts). */
const ctx = { project: 'p', datasets: new Set(['ctloop']) };

describe('GoogleSQL → DuckDB translation rules used by the drift SQL', () => {
  it('rewrites array subscripts to 1-based DuckDB indexes, nested parentheses included', () => {
    expect(translate('SELECT APPROX_QUANTILES(x, 4)[OFFSET(2)] FROM t', ctx)).toBe('SELECT quantile_disc(x, [0, 0.25, 0.5, 0.75, 1])[(2) + 1] FROM t');
    expect(translate('SELECT a[SAFE_OFFSET(f(i) * 2)], a[ ORDINAL(3) ], a[safe_ordinal((1))] FROM t', ctx)).toBe('SELECT a[(f(i) * 2) + 1], a[(3)], a[((1))] FROM t');
    expect(translate("SELECT '[OFFSET(1)]' AS s", ctx)).toBe("SELECT '[OFFSET(1)]' AS s");
  });

  it('runs IS_NAN, IS_INF and RANGE_BUCKET with BigQuery semantics on DuckDB', async () => {
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    try {
      for (const st of DUCKDB_PRELUDE) await conn.run(st);
      const sql = translate(`SELECT RANGE_BUCKET(x, [0.0, 1.0, 2.0]) AS b, IS_NAN(x) AS nan, IS_INF(x) AS inf
        FROM UNNEST([CAST(-1 AS FLOAT64), 0, 0.5, 1, 2, 7, CAST('inf' AS FLOAT64), CAST('nan' AS FLOAT64), NULL]) AS x`, ctx);
      const rows = (await conn.runAndReadAll(sql.replace('AS x', 'AS t(x)'))).getRowObjectsJS();
      expect(rows.map((r) => [r.b === null ? null : Number(r.b), r.nan, r.inf])).toEqual([
        [0, false, false], [1, false, false], [1, false, false], [2, false, false], [3, false, false], [3, false, false],
        [3, false, true], [expect.anything(), true, false], [null, null, null],
      ]);
    } finally {
      conn.closeSync();
      db.closeSync();
    }
  });
});
