import { CtloopError, ValidationError } from '../errors.js';
import { BadRecord } from './bad-record.js';
import { duckdbReason } from './duckdb-reason.js';
import { openRecords } from './file-records.js';

/**
 * A DuckDB CSV read failed (`read_csv` of a file that must be read whole, such as a spine): say why in ctloop's
 * terms, with the file and the exact line. DuckDB's own message is ~1 KB of sniffer settings and, on a parallel read,
 * its line number can be off; so the file is scanned once with ctloop's CSV reader (the one file loads use) to find
 * the first line that is not a row. If that finds nothing, DuckDB's first line is given without its settings dump.
 */
export async function csvReadError(err: unknown, path: string, label: string, what: string, hint: string): Promise<CtloopError> {
  let records;
  try {
    records = await openRecords(path, 'csv', label);
  } catch (e) {
    if (e instanceof CtloopError) return e;
    throw e;
  }
  try {
    for await (const b of records.batches(10_000)) {
      const i = b.rows.findIndex((r) => r instanceof BadRecord);
      if (i >= 0) {
        const bad = b.rows[i] as BadRecord;
        return new ValidationError(`cannot read ${what} ${label}: line ${b.positions[i]}: ${bad.reason}`, { hint, details: { line: b.positions[i], text: bad.text }, cause: err });
      }
    }
  } finally {
    await records.close();
  }
  return new ValidationError(`cannot read ${what} ${label}: ${duckdbReason(err, path, label)}`, { hint, cause: err });
}
