import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import type { ObjectInfo, ObjectStore } from '../ports/object-store.js';
import { compareVersions, entityKey, type OnlineRecord } from '../ports/online-store.js';
import type { FileFormat, Row } from '../ports/warehouse.js';
import { offlineColumns, SYSTEM_COLUMNS as SYS, type FeatureRepo, type FeatureView } from './definitions.js';
import { checkFileColumns, checkJsonlFields } from './file-columns.js';
import { fileIdentity } from './file-identity.js';
import { openRecords, type FileRecords } from './file-records.js';
import { storedCreatedTime } from './file-version.js';
import { prepareRows, resultOf, writePrepared, type IngestDeps, type IngestResult, type PreparedBatch } from './ingest.js';
import { assertLocalFile, detectFormat } from './local-files.js';
import { loadInEngine } from './engine-load.js';
import { loadInBigQuery } from './engine-load-bigquery.js';
import { stepTimer, type StepTimer } from './step-timer.js';
import { onlineRecord } from './online-write.js';
import { dayRanges, offlineMergeSql } from './sql.js';

export interface LoadFileRequest {
  view: string;
  /** gs://bucket/path (through the object store) or a local path. */
  uri: string;
  format?: FileFormat;
  batchSize?: number;
  /**
   * How rows are validated and written: `auto` (default) inside the engine where it applies (DuckDB, CSV and
   * Parquet: engine-load.ts; BigQuery with a scratch bucket, CSV: engine-load-bigquery.ts), row by row otherwise or
   * when the engine path hands the file back; `rows` always row by row. Both store and quarantine the same rows
   * with the same reasons.
   */
  executor?: 'auto' | 'rows';
}

export interface LoadFileDeps extends IngestDeps {
  objectStore: ObjectStore;
  repo: FeatureRepo;
  /** Bucket for the temporary file of validated rows when the warehouse loads from gs:// (BigQuery). */
  scratchBucket?: string;
  onProgress?: (done: IngestResult) => void;
  /** Aborted near the invocation's deadline: no write starts after it fires (the redelivery does the rest). */
  signal?: AbortSignal;
  /** Told which path loaded the file, and why the engine path was not taken. */
  onPath?: (path: 'engine' | 'rows', why?: string) => void;
  /** Told how long each step of the load took (profiling: `npm run bench -- load` with BENCH_TIMINGS=1). */
  onStep?: (step: string, ms: number, cpuMs: number) => void;
}

/** One version of a file, opened for loading. */
interface FileVersion {
  view: FeatureView;
  uri: string;
  /** `file:<content hash>`: with the record index it forms each row's ingest id. */
  sourceId: string;
  /** Created time for rows without one: the file's modification time (the object's update time on GCS). */
  createdAt: Date;
  records: FileRecords;
}

/**
 * Load a CSV/JSONL/Parquet file into a view with the same validation, quarantine and dedup as streamed rows.
 *
 * Every record of the file is accounted for: stored, or quarantined with its line (Parquet: row) number and reason
 * (ragged CSV rows, unclosed quotes, invalid JSON and over-long lines included), so rows read = stored +
 * quarantined. What would make every row fail, or stop the read half-way, refuses the file as a whole before
 * anything is written: a header without a join key or the event-time column, duplicated or unnamed columns, a file
 * that is not UTF-8, a truncated gzip or Parquet file.
 *
 * A file version is its content: the ingest id is `file:<hash of the bytes>:<record>`, so the same bytes load once
 * whatever path, alias, symlink or URI names them and however often they are touched, and a changed file is a new
 * version. (Local files and GCS objects are hashed alike: the function copies the object locally anyway.)
 *
 * By default the engine validates and writes (engine-load.ts on DuckDB, engine-load-bigquery.ts on BigQuery: one
 * load job, one classifying statement, one INSERT per 4,000 days, one quarantine INSERT). On the row-by-row path
 * (what the engine hands back, JSON Lines) rows are validated in this process with the same rules: on DuckDB good
 * rows are written in batches; on BigQuery they are written to a newline-delimited JSON file in the scratch bucket
 * and brought in with one load job and one INSERT per 4,000 days into the offline table — DML statements per file,
 * not per batch (BigQuery limits DML per table, not load jobs) — and the newest row per entity goes to the online
 * store.
 */
export async function loadFeatureFile(deps: LoadFileDeps, req: LoadFileRequest): Promise<IngestResult> {
  const view = deps.repo.view(req.view); // fail fast on an unknown view, before copying anything
  const format = detectFormat(req.uri, req.format);
  const remote = req.uri.startsWith('gs://');
  if (!remote) await assertLocalFile(req.uri);
  const copy: { path: string; info?: ObjectInfo; release(): Promise<void> } = remote ? await deps.objectStore.localCopy(req.uri) : { path: req.uri, release: async () => undefined };
  try {
    const step = stepTimer(deps.onStep);
    const content = await step('file identity (hash, gzip, UTF-8)', () => fileIdentity(copy.path, format, req.uri));
    return await oneAtATime(`${view.name}\n${content}`, () => loadVersion(deps, req, view, format, copy, content, step));
  } finally {
    await copy.release();
  }
}

/**
 * Loads of the same content into the same view run one at a time in this process (one process writes a DuckDB
 * file): the engine path skips its anti-join when none of the content's rows is stored, which holds only if no other
 * load of that content writes in between.
 */
const running = new Map<string, Promise<unknown>>();
async function oneAtATime<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const before = running.get(key) ?? Promise.resolve();
  const run = before.then(fn, fn);
  const done = run.catch(() => undefined);
  running.set(key, done);
  try {
    return await run;
  } finally {
    if (running.get(key) === done) running.delete(key);
  }
}

/** Load one content version of the file (in the engine where it applies, else row by row). */
async function loadVersion(deps: LoadFileDeps, req: LoadFileRequest, view: FeatureView, format: FileFormat, copy: { path: string; info?: ObjectInfo }, content: string, step: StepTimer): Promise<IngestResult> {
  const remote = req.uri.startsWith('gs://');
  // The creation time of the very generation downloaded (not `updated`, which metadata changes move too).
  const createdAt = remote ? (copy.info?.created ?? copy.info?.updated ?? new Date(0)) : (await stat(copy.path)).mtime;
  const records = await step('open records (header)', () => openRecords(copy.path, format, req.uri));
  try {
    if (records.columns) checkFileColumns(view, records.columns, req.uri, format === 'parquet' ? 'schema' : 'header');
    const file: FileVersion = { view, uri: req.uri, sourceId: `file:${content}`, createdAt, records };
    const batchSize = req.batchSize ?? 50_000;
    const bigquery = deps.warehouse.readsObjectUris && !!deps.warehouse.withStagedLoad && !!deps.scratchBucket;
    if ((req.executor ?? 'auto') === 'auto' && (!deps.warehouse.readsObjectUris || bigquery) && records.columns) {
      const engineFile = { view, uri: req.uri, path: copy.path, format, sourceId: file.sourceId, createdAt, columns: records.columns };
      const out = bigquery ? await loadInBigQuery({ ...deps, scratchBucket: deps.scratchBucket! }, engineFile) : await loadInEngine(deps, engineFile);
      if ('result' in out) {
        deps.onPath?.('engine');
        deps.onProgress?.(out.result);
        return out.result;
      }
      deps.onPath?.('rows', out.fallback);
    } else {
      deps.onPath?.('rows', req.executor === 'rows' ? 'asked for' : 'not a DuckDB load of CSV or Parquet, nor a BigQuery load with a scratch bucket');
    }
    if (deps.warehouse.readsObjectUris && deps.scratchBucket) return await loadViaLoadJob(deps, file, batchSize, deps.scratchBucket);
    return await loadInBatches(deps, file, batchSize);
  } finally {
    await records.close();
  }
}

/** Validated batches of the file, in order; checks JSONL field names on the first batch, before anything is written. */
async function* preparedBatches(deps: LoadFileDeps, file: FileVersion, batchSize: number): AsyncGenerator<PreparedBatch> {
  let offset = 0;
  let createdAt = file.createdAt;
  let settled = false;
  for await (const b of file.records.batches(batchSize)) {
    if (offset === 0 && file.records.columns === null) checkJsonlFields(file.view, b.rows, file.uri);
    const req = { view: file.view.name, sourceId: file.sourceId, rows: b.rows, rowOffset: offset, createdAt, origin: file.uri, positions: { unit: file.records.unit, at: b.positions } };
    let batch = prepareRows(deps, req);
    if (!settled) {
      // The first good row whose created time is the file's (not its own column's) tells if this content was stored
      // before, and with which created time; loading it again keeps that time.
      const probe = batch.good.find((r) => r[SYS.created] === createdAt);
      if (probe) {
        settled = true;
        const before = await storedCreatedTime(deps.warehouse, file.view, probe);
        if (before && before.getTime() !== createdAt.getTime()) {
          createdAt = before;
          batch = prepareRows(deps, { ...req, createdAt });
        }
      }
    }
    offset += b.rows.length;
    yield batch;
  }
}

function add(total: IngestResult, part: IngestResult): void {
  total.received += part.received;
  total.accepted += part.accepted;
  total.inserted = total.inserted === null || part.inserted === null ? null : total.inserted + part.inserted;
  total.quarantined += part.quarantined;
  total.sampleReasons.push(...part.sampleReasons.slice(0, 5 - total.sampleReasons.length));
}

async function loadInBatches(deps: LoadFileDeps, file: FileVersion, batchSize: number): Promise<IngestResult> {
  const total: IngestResult = { view: file.view.name, received: 0, accepted: 0, inserted: 0, quarantined: 0, sampleReasons: [] };
  for await (const batch of preparedBatches(deps, file, batchSize)) {
    deps.signal?.throwIfAborted();
    add(total, resultOf(batch, await writePrepared(deps, file.view, batch.good, batch.bad, batch.quarantineSince)));
    deps.onProgress?.(total);
  }
  return total;
}

/** JSON for a BigQuery load: timestamps as ISO strings, non-finite floats as the strings BigQuery reads. */
function jsonLine(row: Row): string {
  return JSON.stringify(row, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? (Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity') : v));
}

async function loadViaLoadJob(deps: LoadFileDeps, file: FileVersion, batchSize: number, bucket: string): Promise<IngestResult> {
  const w = deps.warehouse;
  const view = file.view;
  const total: IngestResult = { view: view.name, received: 0, accepted: 0, inserted: 0, quarantined: 0, sampleReasons: [] };
  const tmp = join(tmpdir(), `ctloop-load-${randomUUID()}.jsonl`);
  const out = createWriteStream(tmp, 'utf8');
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  const tsField = view.timestampField;
  // The newest row per entity of the whole file, written to the online store once the offline MERGE has committed.
  const newest = new Map<string, OnlineRecord>();
  try {
    for await (const batch of preparedBatches(deps, file, batchSize)) {
      for (const r of batch.good) {
        const rec = onlineRecord(view, r);
        const k = entityKey(rec.key);
        const cur = newest.get(k);
        if (!cur || compareVersions(rec, cur) > 0) newest.set(k, rec);
        const t = (r[tsField] as Date).getTime();
        if (t < lo) lo = t;
        if (t > hi) hi = t;
        if (!out.write(`${jsonLine(r)}\n`)) await once(out, 'drain');
      }
      deps.signal?.throwIfAborted();
      if (batch.bad.length > 0) await writePrepared(deps, view, [], batch.bad, batch.quarantineSince);
      add(total, resultOf(batch, 0));
      deps.onProgress?.(total);
    }
    out.end();
    await once(out, 'finish');
    if (total.accepted === 0) return total;
    const staged = `gs://${bucket}/tmp/loads/${randomUUID()}.jsonl`;
    await deps.objectStore.upload(tmp, staged, { contentType: 'application/x-ndjson' });
    try {
      deps.signal?.throwIfAborted();
      total.inserted = await w.withFile(staged, 'jsonl', offlineColumns(view), async (rel) => {
        // One statement may touch at most 4,000 daily partitions: a backfill spanning more is written in day ranges.
        let inserted: number | null = 0;
        for (const [a, b] of dayRanges(new Date(lo), new Date(hi))) {
          const n = (await w.execute(offlineMergeSql(w.dialect, view, rel.sql, a, b), { params: rel.params })).affectedRows;
          inserted = inserted === null || n === null ? null : inserted + n;
        }
        return inserted;
      });
      await deps.online.write(view, [...newest.values()]);
    } finally {
      await deps.objectStore.delete(staged).catch(() => undefined);
    }
    deps.onProgress?.(total);
    return total;
  } finally {
    out.destroy();
    await rm(tmp, { force: true });
  }
}
