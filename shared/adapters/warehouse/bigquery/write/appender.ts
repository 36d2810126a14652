/**
 * Append rows to a BigQuery table through the Storage Write API (`@google-cloud/bigquery-storage@5` managed writer).
 *
 * Stream choice: the table's DEFAULT stream (at-least-once), not committed streams with offsets. Offsets give
 * exactly-once only per stream and per writer that remembers its next offset: a redelivered Pub/Sub event reaches
 * another Cloud Functions instance (another stream, or a stream it must first create — CreateWriteStream is a
 * quota-limited control-plane call), so offsets cannot recognise it. The ingest id can: every row carries
 * `<event id>:<row index>`, readers keep one row per ingest id and `compact-features` removes the copies from
 * yesterday's partition. Default-stream appends are visible at once, cost the same per byte, need no finalize or
 * commit, and are never DML (no per-table DML concurrency limit, no 10 MB minimum per statement).
 *
 * One connection and JSON writer per (table, columns); appends on it are pipelined and answered in order. A write
 * fails as a whole (the request is atomic): a row error or a schema mismatch rejects every row of that request.
 */
import { managedwriter } from '@google-cloud/bigquery-storage';
import type { ClientOptions } from 'google-gax';
import type { ColumnSchema, Row } from '../../../../ports/warehouse.js';
import { encodeRow, writerDescriptor } from './descriptor.js';
import { isRetryableStorageCode, mapStorageError, type RowError, type StorageFailure } from './errors.js';

/** AppendRows requests are limited to 10 MB; encoded rows are smaller than their JSON, so split the JSON at 8 MB. */
const MAX_REQUEST_JSON_BYTES = 8_000_000;

interface OpenWriter {
  writer: managedwriter.JSONWriter;
  connection: { close(): void };
  broken: boolean;
}

export interface StorageAppenderOptions {
  project: string;
  dataset: string;
  /** gax client options: `apiEndpoint`, `port`, `sslCreds` for a local stand-in; empty for Google with ADC. */
  clientOptions?: ClientOptions;
}

export class StorageWriteAppender {
  private readonly client: managedwriter.WriterClient;
  private readonly writers = new Map<string, Promise<OpenWriter>>();

  constructor(private readonly opts: StorageAppenderOptions) {
    this.client = new managedwriter.WriterClient({ projectId: opts.project, ...(opts.clientOptions ?? {}) });
  }

  /** `projects/P/datasets/D/tables/T`, the parent of the table's `_default` stream. */
  destination(table: string): string {
    return `projects/${this.opts.project}/datasets/${this.opts.dataset}/tables/${table}`;
  }

  private key(table: string, columns: ColumnSchema[]): string {
    return `${table}\u0000${columns.map((c) => `${c.name}:${c.type}:${c.mode ?? 'NULLABLE'}`).join(',')}`;
  }

  private open(table: string, columns: ColumnSchema[]): Promise<OpenWriter> {
    const key = this.key(table, columns);
    let w = this.writers.get(key);
    if (!w) {
      w = (async () => {
        const connection = await this.client.createStreamConnection({ streamId: managedwriter.DefaultStream, destinationTable: this.destination(table) });
        const open: OpenWriter = { writer: new managedwriter.JSONWriter({ connection, protoDescriptor: writerDescriptor(columns) }), connection, broken: false };
        // A stream-level error fails the pending appends (they reject); without a listener it would be thrown.
        connection.onConnectionError(() => { open.broken = true; });
        return open;
      })();
      this.writers.set(key, w);
      w.catch(() => this.writers.delete(key));
    }
    return w;
  }

  private drop(table: string, columns: ColumnSchema[], open: OpenWriter): void {
    const key = this.key(table, columns);
    open.connection.close();
    this.writers.delete(key);
  }

  /** Append rows (at-least-once); resolves when BigQuery acknowledged every request, throws a typed error otherwise. */
  async append(table: string, columns: ColumnSchema[], rows: Row[]): Promise<void> {
    if (rows.length === 0) return;
    const open = await this.open(table, columns);
    const pending = splitJson(rows.map((r) => encodeRow(columns, r))).map((part) => open.writer.appendRows(part).getResult());
    const settled = await Promise.allSettled(pending);
    let failure: { err: StorageFailure; rowErrors: RowError[] } | null = null;
    for (const s of settled) {
      if (failure) break;
      if (s.status === 'rejected') failure = { err: s.reason as StorageFailure, rowErrors: [] };
      else if (s.value.error && s.value.error.code) failure = { err: s.value.error, rowErrors: s.value.rowErrors ?? [] };
    }
    if (!failure) return;
    // A non-retryable answer may leave the connection unusable (e.g. a schema the server refused): reconnect next time.
    if (open.broken || !isRetryableStorageCode(failure.err.code)) this.drop(table, columns, open);
    throw mapStorageError(failure.err, table, failure.rowErrors);
  }

  close(): void {
    for (const w of this.writers.values()) void w.then((o) => o.connection.close(), () => undefined);
    this.writers.clear();
    this.client.close();
  }
}

function splitJson<T>(rows: T[]): T[][] {
  const parts: T[][] = [];
  let cur: T[] = [];
  let size = 0;
  for (const r of rows) {
    const n = JSON.stringify(r).length + 1;
    if (cur.length > 0 && size + n > MAX_REQUEST_JSON_BYTES) { parts.push(cur); cur = []; size = 0; }
    cur.push(r);
    size += n;
  }
  if (cur.length > 0) parts.push(cur);
  return parts;
}
