import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ValidationError } from '../errors.js';
import type { FileFormat } from '../ports/warehouse.js';
import { BadRecord } from './bad-record.js';
import { CsvRecordParser, type CsvRecord } from './csv-records.js';
import { isGzip } from './file-identity.js';
import { JsonlRecordParser } from './jsonl-records.js';
import { openParquet } from './parquet-records.js';

/**
 * The records of a local file, in file order and in batches, each with its position (line number for CSV and
 * JSONL, 1-based row number for Parquet). Every record of the file comes out: as a row object (CSV values are
 * strings, typed later by the view's validator), or as a BadRecord that says why it is not one. The header (CSV) or
 * schema (Parquet) is read when the file is opened, so a loader can refuse a file before reading any row.
 */
export interface RecordBatch {
  rows: unknown[];
  positions: number[];
}

export interface FileRecords {
  /** What a position counts. */
  unit: 'line' | 'row';
  /** Column names from the CSV header or the Parquet schema; null for JSONL (each line names its own fields). */
  columns: string[] | null;
  batches(batchSize: number): AsyncGenerator<RecordBatch>;
  close(): Promise<void>;
}

export async function openRecords(path: string, format: FileFormat, label = path): Promise<FileRecords> {
  if (format === 'parquet') {
    const pq = await openParquet(path, label);
    return {
      unit: 'row',
      columns: pq.columns,
      async *batches(batchSize) {
        let n = 0;
        for await (const rows of pq.batches(batchSize)) {
          yield { rows, positions: rows.map(() => ++n) };
        }
      },
      close: async () => pq.close(),
    };
  }
  const input = textStream(path, isGzip(path, label));
  if (format === 'jsonl') {
    return {
      unit: 'line',
      columns: null,
      async *batches(batchSize) {
        const parser = new JsonlRecordParser();
        let batch: RecordBatch = { rows: [], positions: [] };
        for await (const chunk of chunks(input)) {
          for (const r of chunk === null ? parser.end() : parser.push(chunk)) {
            batch.rows.push(r.value);
            batch.positions.push(r.line);
            if (batch.rows.length >= batchSize) {
              yield batch;
              batch = { rows: [], positions: [] };
            }
          }
        }
        if (batch.rows.length > 0) yield batch;
      },
      close: async () => void input.destroy(),
    };
  }
  const records = csvRecords(input);
  const first = await records.next();
  const header = first.done ? null : first.value;
  if (header && 'error' in header) {
    input.destroy();
    throw new ValidationError(`${label}: cannot read the CSV header on line ${header.line}: ${header.error}`, {
      hint: 'the first line must name the columns, e.g. `user_id,event_timestamp,clicks`', details: { line: header.line },
    });
  }
  const columns = header ? header.fields.map((f) => f ?? '') : [];
  return {
    unit: 'line',
    columns,
    async *batches(batchSize) {
      let batch: RecordBatch = { rows: [], positions: [] };
      for await (const r of records) {
        batch.rows.push('error' in r ? new BadRecord(r.error, r.text) : rowOf(columns, r.fields));
        batch.positions.push(r.line);
        if (batch.rows.length >= batchSize) {
          yield batch;
          batch = { rows: [], positions: [] };
        }
      }
      if (batch.rows.length > 0) yield batch;
    },
    close: async () => void input.destroy(),
  };
}

function rowOf(columns: string[], fields: (string | null)[]): Record<string, string | null> {
  const row: Record<string, string | null> = {};
  for (let i = 0; i < columns.length; i++) row[columns[i]!] = fields[i]!;
  return row;
}

function textStream(path: string, gz: boolean): Readable {
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  const s = gz ? raw.pipe(createGunzip()) : raw;
  if (gz) raw.on('error', (err) => s.destroy(err));
  s.setEncoding('utf8');
  return s;
}

/** The stream's text chunks, then null once it has ended. */
async function* chunks(input: Readable): AsyncGenerator<string | null> {
  for await (const c of input) yield c as string;
  yield null;
}

async function* csvRecords(input: Readable): AsyncGenerator<CsvRecord> {
  const parser = new CsvRecordParser();
  for await (const chunk of chunks(input)) yield* chunk === null ? parser.end() : parser.push(chunk);
}
