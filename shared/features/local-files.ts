import { stat } from 'node:fs/promises';
import { NotFoundError, ValidationError } from '../errors.js';
import type { FileFormat } from '../ports/warehouse.js';
import { openRecords } from './file-records.js';

/**
 * Local data files for the feature store: format from the name, a path quoted for DuckDB SQL, and a file's rows in
 * batches (see file-records.ts for how every record is accounted for).
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

export async function assertLocalFile(path: string): Promise<void> {
  const s = await stat(path).catch(() => null);
  if (!s || !s.isFile()) throw new NotFoundError(`file not found: ${path}`, { hint: 'check the path (relative paths are resolved from the current directory)' });
}

/** Yield the file's records in batches, in file order (unreadable records as BadRecord values). */
export async function* readRowBatches(path: string, format: FileFormat, batchSize = 10_000): AsyncGenerator<unknown[]> {
  await assertLocalFile(path);
  const records = await openRecords(path, format);
  try {
    for await (const b of records.batches(batchSize)) yield b.rows;
  } finally {
    await records.close();
  }
}
