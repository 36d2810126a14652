import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { DuckDBInstance } from '@duckdb/node-api';
import { connectUtc } from '../adapters/warehouse/duckdb/connect.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type { FileFormat } from '../ports/warehouse.js';
import { UnparsableLine } from './validate.js';

/**
 * Local file reading for the feature store, with an in-memory DuckDB as the parser (CSV, Parquet) and Node's
 * readline for JSONL (so a malformed line is quarantined on its own, not fatal). Used for file loads in every mode:
 * remote objects are first copied locally through the object store.
 */

export function detectFormat(uri: string, explicit?: FileFormat): FileFormat {
  if (explicit) return explicit;
  const m = /\.(csv|jsonl|ndjson|json|parquet)$/i.exec(uri.replace(/\.gz$/i, ''));
  if (!m) {
    throw new ValidationError(`cannot tell the format of ${uri}`, { hint: 'name the file .csv, .jsonl or .parquet, or pass the format explicitly' });
  }
  const ext = m[1]!.toLowerCase();
  return ext === 'csv' ? 'csv' : ext === 'parquet' ? 'parquet' : 'jsonl';
}

export function sqlPath(path: string): string {
  return `'${path.replace(/'/g, "''")}'`;
}

async function assertFile(path: string): Promise<void> {
  const s = await stat(path).catch(() => null);
  if (!s || !s.isFile()) throw new NotFoundError(`file not found: ${path}`, { hint: 'check the path (relative paths are resolved from the current directory)' });
}

/** Yield the file's rows in batches, in file order. CSV values arrive as strings (typed by the view's validator). */
export async function* readRowBatches(path: string, format: FileFormat, batchSize = 10_000): AsyncGenerator<unknown[]> {
  await assertFile(path);
  if (format === 'jsonl') {
    const rl = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
    let batch: unknown[] = [];
    for await (const line of rl) {
      if (line.trim() === '') continue;
      try {
        batch.push(JSON.parse(line));
      } catch (err) {
        batch.push(new UnparsableLine(line, (err as Error).message));
      }
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
    return;
  }
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await connectUtc(instance);
  try {
    const reader = format === 'csv' ? `read_csv(${sqlPath(path)}, header = true, all_varchar = true)` : `read_parquet(${sqlPath(path)})`;
    let result;
    try {
      result = await conn.stream(`SELECT * FROM ${reader}`);
    } catch (err) {
      throw new ValidationError(`cannot read ${format} file ${path}: ${(err as Error).message}`, { hint: `check that the file is valid ${format}` });
    }
    let batch: unknown[] = [];
    for await (const rows of result.yieldRowObjectJs()) {
      for (const r of rows) {
        // Parquet integers arrive as bigint: make them JSON-safe numbers (or exact strings beyond 2^53, which the
        // validator then reports instead of silently rounding).
        for (const k in r) {
          const v = r[k];
          if (typeof v === 'bigint') (r as Record<string, unknown>)[k] = v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
        }
        batch.push(r);
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
        }
      }
    }
    if (batch.length > 0) yield batch;
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
