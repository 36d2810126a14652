import { describeError } from '../errors.js';
import type { ColumnSchema, Row, TableSpec, Warehouse } from '../ports/warehouse.js';

/**
 * The serving log: one row per predicted instance (and per instance of a request that failed after validation, with
 * `error` set), written in batches to the warehouse table `_serving_log`. Delivery reads it to compare a canary with
 * the champion (error rate, latency, prediction distribution); labels join it by request id or entity and time.
 */
export const SERVING_LOG_TABLE = '_serving_log';

export const servingLogColumns: ColumnSchema[] = [
  { name: 'request_id', type: 'STRING', mode: 'REQUIRED', description: 'id of the /predict request (X-Request-Id or generated)' },
  { name: 'instance_index', type: 'INT64', mode: 'REQUIRED', description: 'position of the instance in its request' },
  { name: 'logged_at', type: 'TIMESTAMP', mode: 'REQUIRED', description: 'when the prediction was made' },
  { name: 'model', type: 'STRING', mode: 'REQUIRED' },
  { name: 'version', type: 'STRING', description: 'model version that answered (null when none did)' },
  { name: 'deployed_model_id', type: 'STRING', description: 'deployed model that answered' },
  { name: 'entity_key', type: 'STRING', description: 'canonical JSON of the join-key values used for online features' },
  { name: 'features', type: 'STRING', mode: 'REQUIRED', description: 'JSON of the features as the model received them' },
  { name: 'prediction', type: 'FLOAT64', description: 'probability of the positive class (null on error)' },
  { name: 'latency_ms', type: 'FLOAT64', description: 'request latency in /predict, features included' },
  { name: 'error', type: 'STRING', description: 'why no prediction was made (null when one was)' },
];

export const servingLogTable: TableSpec = {
  name: SERVING_LOG_TABLE, columns: servingLogColumns, partitionBy: 'logged_at', clusterBy: ['model', 'version'],
  description: 'ctloop serving log: one row per predicted instance', labels: { ctloop_kind: 'serving_log' },
};

export interface ServingLogRow {
  requestId: string;
  instanceIndex: number;
  loggedAt: Date;
  model: string;
  version: string | null;
  deployedModelId: string | null;
  entityKey: string | null;
  features: Record<string, unknown>;
  prediction: number | null;
  latencyMs: number | null;
  error: string | null;
}

export async function ensureServingLogTable(w: Warehouse): Promise<void> {
  if (!(await w.getTable(SERVING_LOG_TABLE))) await w.createTable(servingLogTable);
}

const toRow = (r: ServingLogRow): Row => ({
  request_id: r.requestId, instance_index: r.instanceIndex, logged_at: r.loggedAt, model: r.model, version: r.version,
  deployed_model_id: r.deployedModelId, entity_key: r.entityKey, features: JSON.stringify(r.features), prediction: r.prediction,
  latency_ms: r.latencyMs, error: r.error,
});

/**
 * Write rows once: an (request id, instance) already in the table is skipped, so a batch retried after a write that
 * did commit adds nothing. The lower time bound prunes partitions (a day of clock skew allowed).
 */
export async function writeServingLog(w: Warehouse, rows: ServingLogRow[]): Promise<void> {
  if (rows.length === 0) return;
  await ensureServingLogTable(w);
  const d = w.dialect;
  const cols = servingLogColumns.map((c) => d.ident(c.name)).join(', ');
  const since = new Date(Math.min(...rows.map((r) => r.loggedAt.getTime())) - 86_400_000);
  const budget = w.maxStagedBytes;
  for (const part of chunks(rows.map(toRow), budget)) {
    await w.withRows(servingLogColumns, part, (rel) => w.execute(
      `INSERT INTO ${d.table(SERVING_LOG_TABLE)} (${cols}) SELECT ${cols} FROM ${rel.sql} AS s
       WHERE NOT EXISTS (SELECT 1 FROM ${d.table(SERVING_LOG_TABLE)} AS t WHERE t.logged_at >= ${d.timestamp(since)}
         AND t.request_id = s.request_id AND t.instance_index = s.instance_index)`,
      { params: rel.params },
    ));
  }
}

function* chunks(rows: Row[], maxBytes: number | null): Generator<Row[]> {
  if (maxBytes === null) { yield rows; return; }
  let part: Row[] = [];
  let size = 0;
  for (const r of rows) {
    const n = JSON.stringify(r).length + 16;
    if (part.length > 0 && size + n > maxBytes * 0.8) { yield part; part = []; size = 0; }
    part.push(r);
    size += n;
  }
  if (part.length > 0) yield part;
}

export interface ServingLogOptions {
  /** Flush when this many rows wait (default 500). */
  maxBatch?: number;
  /** Flush at least this often while rows wait (default 1000 ms); 0 = only on maxBatch, flush() and close(). */
  flushMs?: number;
  /** Rows kept while the warehouse fails; past it the oldest are dropped and counted (default 100,000). */
  maxBuffered?: number;
  /** Called with every failed flush and every drop (default: one line on stderr). */
  onError?: (message: string) => void;
}

/**
 * Batched writer of the serving log: `append` never waits for the warehouse; rows go out in batches (by size or
 * time), one write at a time. A failed write keeps its rows for the next flush; only past `maxBuffered` are rows
 * dropped, and each drop is reported with its count (`dropped`), never silent.
 */
export class ServingLog {
  private buffer: ServingLogRow[] = [];
  private writing: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout | null;
  private readonly maxBatch: number;
  private readonly maxBuffered: number;
  private readonly onError: (m: string) => void;
  dropped = 0;
  written = 0;

  constructor(private readonly warehouse: Warehouse, opts: ServingLogOptions = {}) {
    this.maxBatch = opts.maxBatch ?? 500;
    this.maxBuffered = opts.maxBuffered ?? 100_000;
    this.onError = opts.onError ?? ((m) => process.stderr.write(`serving log: ${m}\n`));
    const every = opts.flushMs ?? 1000;
    this.timer = every > 0 ? setInterval(() => { void this.flush().catch(() => undefined); }, every) : null;
    this.timer?.unref();
  }

  get pending(): number {
    return this.buffer.length;
  }

  append(rows: ServingLogRow[]): void {
    this.buffer.push(...rows);
    const over = this.buffer.length - this.maxBuffered;
    if (over > 0) {
      this.buffer.splice(0, over);
      this.dropped += over;
      this.onError(`${over} rows dropped (over ${this.maxBuffered} waiting: the warehouse has been failing); ${this.dropped} dropped in all`);
    }
    if (this.buffer.length >= this.maxBatch && !this.writing) void this.flush().catch(() => undefined);
  }

  /** Write everything buffered now (waits for a write in progress first). Throws when the write fails. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing.catch(() => undefined);
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    this.writing = writeServingLog(this.warehouse, batch).then(
      () => { this.written += batch.length; },
      (err) => {
        this.buffer = [...batch, ...this.buffer];
        this.onError(`write of ${batch.length} rows failed, kept for the next flush: ${describeError(err)}`);
        throw err;
      },
    ).finally(() => { this.writing = null; });
    await this.writing;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }
}
