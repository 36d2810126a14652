import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectUtc } from '../../shared/adapters/warehouse/duckdb/connect.js';
import type { Params } from '../../shared/ports/warehouse.js';
import { analyzerUnavailableReason } from '../helpers/zetasql.js';
import { LIMITS, startBigQueryTestWarehouse, type BigQueryTestWarehouse } from '../helpers/bigquery-standin.js';

/**
 * What the stand-in enforces beyond syntax, names and types, where DuckDB alone would accept what BigQuery rejects
 * (or answer differently): each case below passed silently before.
 */
const unavailable = analyzerUnavailableReason();
if (unavailable) console.warn(`[bigquery-standin-fidelity] skipping: ${unavailable}`);

describe.skipIf(!!unavailable)('BigQuery stand-in fidelity', () => {
  let bq: BigQueryTestWarehouse;
  const t = (name: string) => bq.warehouse.dialect.table(name);
  beforeAll(async () => {
    bq = await startBigQueryTestWarehouse();
    await bq.warehouse.createTable({ name: 'target', columns: [{ name: 'k', type: 'INT64' }, { name: 'v', type: 'INT64' }] });
    await bq.warehouse.execute(`INSERT INTO ${t('target')} (k, v) VALUES (1, 0)`);
    await bq.warehouse.createTable({
      name: 'events', columns: [{ name: 'k', type: 'INT64' }, { name: 'ts', type: 'TIMESTAMP' }], partitionBy: 'ts',
    });
  });
  afterAll(async () => { await bq?.cleanup(); });

  it('rejects a MERGE whose source matches a target row more than once (when a MATCHED clause exists)', async () => {
    const src = 'USING (SELECT 1 AS k, 5 AS v UNION ALL SELECT 1, 6) AS s ON t.k = s.k';
    await expect(bq.warehouse.execute(`MERGE INTO ${t('target')} AS t ${src} WHEN MATCHED THEN UPDATE SET v = s.v`))
      .rejects.toThrow(/must match at most one source row for each target row/);
    // Insert-only: no MATCHED clause, no error (and both rows insert, as on BigQuery).
    const ok = await bq.warehouse.execute(`MERGE INTO ${t('target')} AS t USING (SELECT 2 AS k, 5 AS v UNION ALL SELECT 2, 6) AS s ON t.k = s.k WHEN NOT MATCHED THEN INSERT (k, v) VALUES (s.k, s.v)`);
    expect(ok.affectedRows).toBe(2);
  });

  it('rejects timestamps outside 0001-01-01..9999-12-31 in parameters, results and written rows', async () => {
    const ts = (iso: string): Params => ({ ts: { type: 'TIMESTAMP', value: new Date(iso) } });
    await expect(bq.warehouse.query('SELECT @ts AS x', { params: ts('+010000-01-01T00:00:00Z') })).rejects.toThrow(/out of range/);
    await expect(bq.warehouse.query('SELECT @ts AS x', { params: ts('0000-12-31T23:59:59Z') })).rejects.toThrow(/out of range/);
    await expect(bq.warehouse.query('SELECT @ts AS x', { params: ts('9999-12-31T23:59:59.999Z') })).resolves.toHaveLength(1);
    await expect(bq.warehouse.query("SELECT TIMESTAMP_ADD(TIMESTAMP '9999-12-31 23:00:00', INTERVAL 2 HOUR) AS x")).rejects.toThrow(/Timestamp overflow/);
    await expect(bq.warehouse.execute(`INSERT INTO ${t('events')} (k, ts) SELECT 1, TIMESTAMP_SUB(TIMESTAMP '0001-01-01 00:00:00', INTERVAL 1 SECOND)`))
      .rejects.toThrow(/out of range/);
  });

  it(`rejects a statement touching more than ${LIMITS.partitionsPerStatement} partitions`, async () => {
    const day = 86_400_000;
    const rows = (n: number, from: number) => Array.from({ length: n }, (_, i) => ({ k: i, ts: new Date(from + i * day) }));
    const cols = [{ name: 'k', type: 'INT64' as const }, { name: 'ts', type: 'TIMESTAMP' as const }];
    const insert = (n: number, from: number) => bq.warehouse.withRows(cols, rows(n, from), (rel) =>
      bq.warehouse.execute(`INSERT INTO ${t('events')} (k, ts) SELECT k, ts FROM ${rel.sql}`, { params: rel.params }));
    await expect(insert(LIMITS.partitionsPerStatement + 1, Date.parse('2000-01-01T00:00:00Z'))).rejects.toThrow(/Too many partitions/);
    await expect(insert(LIMITS.partitionsPerStatement, Date.parse('2000-01-01T12:00:00Z'))).resolves.toEqual({ affectedRows: LIMITS.partitionsPerStatement });
  });

  it(`rejects more than ${LIMITS.queryParameters} query parameters and result columns`, async () => {
    const n = LIMITS.queryParameters + 1;
    const params: Params = Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, { type: 'INT64', value: i }]));
    await expect(bq.warehouse.query(`SELECT ${Array.from({ length: n }, (_, i) => `@p${i}`).slice(0, 3).join(' + ')} AS x`, { params }))
      .rejects.toThrow(/Too many query parameters/);
    await expect(bq.warehouse.query(`SELECT ${Array.from({ length: LIMITS.resultColumns + 1 }, (_, i) => `${i} AS c${i}`).join(', ')}`))
      .rejects.toThrow(/Too many columns/);
  });

  it('exports Parquet with BigQuery timestamp type (UTC-adjusted), like BigQuery', async () => {
    const [uri] = await bq.warehouse.exportQuery("SELECT TIMESTAMP '2001-03-01 02:00:00' AS ts, 1 AS n", { uri: 'gs://ctloop-test/exp/x-*.parquet', format: 'parquet' });
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await connectUtc(instance);
    try {
      const r = await conn.runAndReadAll(`SELECT typeof(ts) AS t, CAST(ts AS VARCHAR) AS v FROM read_parquet('${bq.standin.localPath(uri!)}')`);
      expect(r.getRowObjectsJS()).toEqual([{ t: 'TIMESTAMP WITH TIME ZONE', v: '2001-03-01 02:00:00+00' }]);
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });
});
