import { DuckDBInstance } from '@duckdb/node-api';
import { connectUtc } from '../adapters/warehouse/duckdb/connect.js';
import type { ColumnType } from '../ports/warehouse.js';
import type { FeatureView } from './definitions.js';
import { duckdbReason } from './duckdb-reason.js';
import { sqlLit, typedSupported, viewFields } from './validate-sql.js';

/**
 * A Parquet file rewritten for one BigQuery load job: the view's columns only, with the row number (`ld_row`, the
 * ingest id's row, 0-based in file order: DuckDB's `file_row_number`) and types BigQuery loads as the same values
 * (a load job keeps no row order, so the number travels with the row). Integers become INT64, FLOAT becomes DOUBLE
 * (the widening the row-by-row reader does), timestamps become UTC-adjusted microsecond timestamps (BigQuery loads a
 * plain Parquet timestamp as DATETIME: "Parquet conversions", loading-data-cloud-storage-parquet page). Columns
 * `ld_c<i>` are named by their position in the file.
 *
 * A column type the typed rules do not classify as the row-by-row path reads it (`typedSupported`), or an integer
 * beyond INT64 (an unsigned or 128-bit column), sends the file row by row (`fallback`).
 */
export type ParquetStage = { rows: number; types: Map<string, ColumnType> } | { fallback: string };

const INTS = ['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT', 'HUGEINT'];

function loadType(duck: string): { type: ColumnType; sql: (c: string) => string } | null {
  if (INTS.includes(duck)) return { type: 'INT64', sql: (c) => `CAST(${c} AS BIGINT)` };
  if (duck === 'DOUBLE' || duck === 'FLOAT') return { type: 'FLOAT64', sql: (c) => `CAST(${c} AS DOUBLE)` };
  if (duck === 'BOOLEAN') return { type: 'BOOL', sql: (c) => c };
  if (duck === 'VARCHAR') return { type: 'STRING', sql: (c) => c };
  if (duck === 'TIMESTAMP' || duck === 'TIMESTAMP WITH TIME ZONE') return { type: 'TIMESTAMP', sql: (c) => `CAST(${c} AS TIMESTAMPTZ)` };
  return null;
}

export async function stageParquetCopy(path: string, view: FeatureView, columns: string[], out: string): Promise<ParquetStage> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await connectUtc(instance);
  try {
    const src = `read_parquet(${sqlLit(path)}, file_row_number = true)`;
    const duck = new Map((await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${sqlLit(path)})`)).getRowObjectsJS().map((r) => [String(r.column_name), String(r.column_type)]));
    const types = new Map<string, ColumnType>();
    const select = ['file_row_number AS ld_row'];
    for (const f of viewFields(view)) {
      const t = duck.get(f.name);
      if (t === undefined) continue;
      const lt = loadType(t);
      if (!lt || !typedSupported(t, f.type)) return { fallback: `Parquet column ${f.name} is ${t}, read row by row as ${f.type}` };
      const name = `ld_c${columns.indexOf(f.name)}`;
      types.set(f.name, lt.type);
      select.push(`${lt.sql(`"${f.name.replace(/"/g, '""')}"`)} AS ${name}`);
    }
    try {
      await conn.run(`COPY (SELECT ${select.join(', ')} FROM ${src} ORDER BY file_row_number) TO ${sqlLit(out)} (FORMAT parquet)`);
    } catch (err) {
      return { fallback: `the Parquet file cannot be staged for BigQuery (${duckdbReason(err, path, 'the file')})` };
    }
    const [n] = (await conn.runAndReadAll(`SELECT count(*) AS n FROM read_parquet(${sqlLit(out)})`)).getRowObjectsJS();
    return { rows: Number(n!.n), types };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
