import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParamType } from '../../shared/ports/warehouse.js';
import { analyzerUnavailableReason, startAnalyzer, type Analyzer, type AnalyzerTable } from '../helpers/zetasql.js';

const unavailable = analyzerUnavailableReason();
if (unavailable) console.warn(`skipping ZetaSQL analyzer tests: ${unavailable}`);

const T = '`ctloop-local.ctloop.events`';
const SPINE = '`ctloop-local.ctloop.spine`';
const tables: AnalyzerTable[] = [
  {
    name: 'ctloop-local.ctloop.events',
    columns: [
      { name: 'driver_id', type: 'INT64' }, { name: 'amount', type: 'FLOAT64' }, { name: 'event_ts', type: 'TIMESTAMP' },
      { name: 'created_ts', type: 'TIMESTAMP' }, { name: 'ingest_id', type: 'STRING' },
    ],
  },
  { name: 'ctloop-local.ctloop.spine', columns: [{ name: 'row_id', type: 'INT64' }, { name: 'driver_id', type: 'INT64' }, { name: 'ts', type: 'TIMESTAMP' }] },
];
const rowsType: ParamType = {
  array: { struct: [{ name: 'driver_id', type: 'INT64' }, { name: 'amount', type: 'FLOAT64' }, { name: 'event_ts', type: 'TIMESTAMP' }, { name: 'created_ts', type: 'TIMESTAMP' }, { name: 'ingest_id', type: 'STRING' }] },
};

describe.skipIf(unavailable !== null)('ZetaSQL analyzer harness (BigQuery language options)', () => {
  let analyzer: Analyzer;
  beforeAll(async () => { analyzer = await startAnalyzer(); });
  afterAll(async () => { await analyzer?.stop(); });

  const ok = async (sql: string, params: Record<string, ParamType> = {}) => {
    const r = await analyzer.analyze(sql, { tables, params });
    expect(r, JSON.stringify(r)).toMatchObject({ ok: true });
    return r;
  };
  const rejected = async (sql: string, params: Record<string, ParamType> = {}) => {
    const r = await analyzer.analyze(sql, { tables, params });
    expect(r.ok, `expected a rejection of: ${sql}`).toBe(false);
    return r.ok ? '' : r.error;
  };

  it('accepts a QUALIFY point-in-time join with literal bounds and reports output types', async () => {
    const r = await ok(`
      WITH f AS (
        SELECT s.row_id, e.amount
        FROM ${SPINE} AS s
        JOIN ${T} AS e ON e.driver_id = s.driver_id AND e.event_ts <= s.ts AND e.event_ts >= TIMESTAMP_SUB(s.ts, INTERVAL 86400 SECOND)
        WHERE e.event_ts BETWEEN TIMESTAMP '2000-12-31 00:00:00.000000+00:00' AND TIMESTAMP '2001-02-01 00:00:00.000000+00:00'
        QUALIFY ROW_NUMBER() OVER (PARTITION BY s.row_id ORDER BY e.event_ts DESC, e.created_ts DESC, e.ingest_id DESC) = 1
      )
      SELECT s.row_id, s.ts, f.amount, CAST(s.driver_id AS STRING) AS k FROM ${SPINE} AS s LEFT JOIN f ON f.row_id = s.row_id ORDER BY s.row_id`);
    expect(r.ok && r.columns).toEqual([
      { name: 'row_id', type: 'INT64' }, { name: 'ts', type: 'TIMESTAMP' }, { name: 'amount', type: 'FLOAT64' }, { name: 'k', type: 'STRING' },
    ]);
  });

  it('accepts an ingest MERGE from UNNEST(@rows) of ARRAY<STRUCT>', async () => {
    const r = await ok(
      `MERGE INTO ${T} AS t USING (SELECT * FROM UNNEST(@rows)) AS s ON t.ingest_id = s.ingest_id
       WHEN NOT MATCHED THEN INSERT (driver_id, amount, event_ts, created_ts, ingest_id)
       VALUES (s.driver_id, s.amount, s.event_ts, s.created_ts, s.ingest_id)`,
      { rows: rowsType },
    );
    expect(r.ok && r.kind).toBe('resolved_merge_stmt_node');
  });

  it('accepts APPROX_QUANTILES, named scalar and array params, and names anonymous columns like BigQuery', async () => {
    const r = await ok(
      `SELECT APPROX_QUANTILES(amount, 4), COUNT(*), COUNTIF(amount > @min) AS n FROM ${T} WHERE driver_id IN UNNEST(@ids)`,
      { min: 'FLOAT64', ids: { array: 'INT64' } },
    );
    expect(r.ok && r.columns).toEqual([{ name: 'f0_', type: { array: 'FLOAT64' } }, { name: 'f1_', type: 'INT64' }, { name: 'n', type: 'INT64' }]);
  });

  it('resolves tables nested (project.dataset.table path) and by dataset.table', async () => {
    await ok('SELECT amount FROM `ctloop-local`.ctloop.events');
    await ok('SELECT amount FROM ctloop.events');
  });

  it('rejects a misspelled column with a hint', async () => {
    expect(await rejected(`SELECT driver_id, amout FROM ${T}`)).toMatch(/Unrecognized name: amout; Did you mean amount\? \[at 1:\d+\]/);
  });

  it('rejects a type error', async () => {
    expect(await rejected(`SELECT amount + 'x' FROM ${T}`)).toMatch(/No matching signature for operator \+/);
    expect(await rejected(`SELECT * FROM ${T} WHERE event_ts > @n`, { n: 'INT64' })).toMatch(/TIMESTAMP.*INT64|INT64.*TIMESTAMP/);
  });

  it('rejects DuckDB-only syntax', async () => {
    // Double quotes are string literals in BigQuery, not identifiers.
    expect(await rejected('SELECT amount FROM "ctloop"."events"')).toMatch(/Syntax error/);
    expect(await rejected(`SELECT "amount" * 2 FROM ${T}`)).toMatch(/No matching signature/);
    expect(await rejected(`SELECT * FROM ${SPINE} s ASOF JOIN ${T} e ON s.driver_id = e.driver_id AND s.ts >= e.event_ts`)).toMatch(/Syntax error/);
    expect(await rejected(`SELECT amount::INT64 FROM ${T}`)).toMatch(/Syntax error/);
    expect(await rejected(`SELECT * EXCLUDE (amount) FROM ${T}`)).toMatch(/Syntax error|Unrecognized/);
  });

  it('rejects unknown tables and undeclared parameters', async () => {
    expect(await rejected('SELECT 1 FROM `ctloop-local.ctloop.missing`')).toMatch(/Table not found/);
    expect(await rejected(`SELECT * FROM ${T} WHERE driver_id = @nope`)).toMatch(/Query parameter 'nope' not found/);
  });
});
