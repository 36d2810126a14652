import { DuckDBInstance } from '@duckdb/node-api';
import { connectUtc } from '../adapters/warehouse/duckdb/connect.js';
import { BackendError, ValidationError } from '../errors.js';
import { duckdbReason } from './duckdb-reason.js';

/**
 * Parquet rows through an in-memory DuckDB. A streamed DuckDB result cannot report an error: the C API's
 * `duckdb_stream_fetch_chunk` returns NULL both at the end and on a failure (a corrupt page mid-file ends the stream
 * as if the file had ended; duckdb/duckdb-rs#664 is the same defect in Rust). So the whole file is decoded once
 * first in a materialised query (an aggregate of every column's hash, which reports errors and costs ~40 ms for 3M
 * rows), and the streamed read is then checked against that count.
 */
export interface ParquetRows {
  columns: string[];
  rowCount: number;
  batches(batchSize: number): AsyncGenerator<Record<string, unknown>[]>;
  close(): void;
}

const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;

export async function openParquet(path: string, label: string): Promise<ParquetRows> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await connectUtc(instance);
  const close = () => {
    conn.closeSync();
    instance.closeSync();
  };
  const src = `read_parquet(${sqlString(path)})`;
  let columns: string[];
  let rowCount: number;
  try {
    columns = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`)).getRowObjectsJS().map((r) => String(r.column_name));
    const check = await conn.runAndReadAll(`SELECT count(*) AS __n, bit_xor(hash(COLUMNS(*))) FROM ${src}`);
    rowCount = Number(check.getRowObjectsJS()[0]!.__n);
  } catch (err) {
    close();
    throw new ValidationError(`${label} is not a readable Parquet file: ${duckdbReason(err, path, label)}; nothing was loaded`, {
      hint: 'the file is truncated, corrupt or not Parquet: write it again, or name its real format with --file-format', cause: err,
    });
  }
  return {
    columns,
    rowCount,
    close,
    async *batches(batchSize: number) {
      const result = await conn.stream(`SELECT * FROM ${src}`);
      let seen = 0;
      let batch: Record<string, unknown>[] = [];
      for await (const rows of result.yieldRowObjectJs()) {
        for (const r of rows) {
          // Integers arrive as bigint: JSON-safe numbers, or exact strings beyond 2^53 (which the validator reports).
          for (const k in r) {
            const v = r[k];
            if (typeof v === 'bigint') (r as Record<string, unknown>)[k] = v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
            // Parquet doubles carry explicit infinities/NaN: pass them as the strings the validator reads as explicit.
            else if (typeof v === 'number' && !Number.isFinite(v)) (r as Record<string, unknown>)[k] = String(v);
          }
          batch.push(r);
          if (batch.length >= batchSize) {
            seen += batch.length;
            yield batch;
            batch = [];
          }
        }
      }
      seen += batch.length;
      if (seen !== rowCount) {
        throw new BackendError(`reading ${label} stopped after ${seen} of its ${rowCount} rows`, { hint: 'the file changed while it was read, or the disk failed: load it again (rows already stored are not stored twice)' });
      }
      if (batch.length > 0) yield batch;
    },
  };
}
