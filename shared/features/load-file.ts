import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import type { ObjectStore } from '../ports/object-store.js';
import type { FileFormat, Row, Warehouse } from '../ports/warehouse.js';
import { offlineColumns, type FeatureRepo, type FeatureView } from './definitions.js';
import { ingestRows, prepareRows, writePrepared, type IngestResult } from './ingest.js';
import { detectFormat, readRowBatches } from './local-files.js';
import { offlineMergeSql, onlineMergeSql } from './sql.js';

export interface LoadFileRequest {
  view: string;
  /** gs://bucket/path (through the object store) or a local path. */
  uri: string;
  format?: FileFormat;
  batchSize?: number;
}

export interface LoadFileDeps {
  warehouse: Warehouse;
  objectStore: ObjectStore;
  repo: FeatureRepo;
  /** Bucket for the temporary file of validated rows when the warehouse loads from gs:// (BigQuery). */
  scratchBucket?: string;
  onProgress?: (done: IngestResult) => void;
}

/**
 * Load a CSV/JSONL/Parquet file into a view with the same validation, quarantine and dedup as streamed rows. The
 * ingest id is `<uri>@<object version>:<row>`, so loading the same file version again stores nothing twice, and a
 * new version of the file at the same URI is loaded as new rows.
 *
 * Rows are validated in this process either way (one validator for every path). On DuckDB good rows are written in
 * batches (one MERGE each). On BigQuery they are written to a newline-delimited JSON file in the scratch bucket and
 * brought in with one load job, then one MERGE into the offline table and one into the online table — two DML
 * statements per file, whatever its size (BigQuery limits DML per table, not load jobs).
 */
export async function loadFeatureFile(deps: LoadFileDeps, req: LoadFileRequest): Promise<IngestResult> {
  deps.repo.view(req.view); // fail fast on an unknown view, before copying anything
  const format = detectFormat(req.uri, req.format);
  const remote = req.uri.startsWith('gs://');
  const copy = remote ? await deps.objectStore.localCopy(req.uri) : { path: req.uri, release: async () => undefined };
  try {
    const version = remote ? ((await deps.objectStore.stat(req.uri))?.updated ?? new Date(0)) : (await stat(copy.path).catch(() => null))?.mtime ?? new Date(0);
    const sourceId = `${req.uri}@${version.getTime()}`;
    if (deps.warehouse.readsObjectUris && deps.scratchBucket) {
      return await loadViaLoadJob(deps, deps.repo.view(req.view), copy.path, format, sourceId, version, req.batchSize ?? 50_000, deps.scratchBucket);
    }
    const total: IngestResult = { view: req.view, received: 0, accepted: 0, inserted: 0, quarantined: 0, sampleReasons: [] };
    let offset = 0;
    for await (const batch of readRowBatches(copy.path, format, req.batchSize ?? 50_000)) {
      const r = await ingestRows(deps, { view: req.view, sourceId, rows: batch, rowOffset: offset, createdAt: version });
      offset += batch.length;
      total.received += r.received;
      total.accepted += r.accepted;
      total.inserted = total.inserted === null || r.inserted === null ? null : total.inserted + r.inserted;
      total.quarantined += r.quarantined;
      if (total.sampleReasons.length < 5) total.sampleReasons.push(...r.sampleReasons.slice(0, 5 - total.sampleReasons.length));
      deps.onProgress?.(total);
    }
    return total;
  } finally {
    await copy.release();
  }
}

/** JSON for a BigQuery load: timestamps as ISO strings, non-finite floats as the strings BigQuery reads. */
function jsonLine(row: Row): string {
  return JSON.stringify(row, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? (Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity') : v));
}

async function loadViaLoadJob(
  deps: LoadFileDeps, view: FeatureView, path: string, format: FileFormat, sourceId: string, version: Date, batchSize: number, bucket: string,
): Promise<IngestResult> {
  const w = deps.warehouse;
  const total: IngestResult = { view: view.name, received: 0, accepted: 0, inserted: 0, quarantined: 0, sampleReasons: [] };
  const tmp = join(tmpdir(), `ctloop-load-${randomUUID()}.jsonl`);
  const out = createWriteStream(tmp, 'utf8');
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  const tsField = view.timestampField;
  try {
    let offset = 0;
    for await (const rows of readRowBatches(path, format, batchSize)) {
      const batch = prepareRows(deps, { view: view.name, sourceId, rows, rowOffset: offset, createdAt: version });
      offset += rows.length;
      for (const r of batch.good) {
        const t = (r[tsField] as Date).getTime();
        if (t < lo) lo = t;
        if (t > hi) hi = t;
        if (!out.write(`${jsonLine(r)}\n`)) await once(out, 'drain');
      }
      if (batch.bad.length > 0) await writePrepared(w, view, [], batch.bad);
      total.received += batch.received;
      total.accepted += batch.good.length;
      total.quarantined += batch.bad.length;
      for (const b of batch.bad.slice(0, 5 - total.sampleReasons.length)) total.sampleReasons.push(`row ${String(b.ingest_id).split(':').pop()}: ${String(b.reason)}`);
      deps.onProgress?.(total);
    }
    out.end();
    await once(out, 'finish');
    if (total.accepted === 0) return total;
    const staged = `gs://${bucket}/tmp/loads/${randomUUID()}.jsonl`;
    await deps.objectStore.upload(tmp, staged, { contentType: 'application/x-ndjson' });
    try {
      total.inserted = await w.withFile(staged, 'jsonl', offlineColumns(view), async (rel) => {
        const res = await w.execute(offlineMergeSql(w.dialect, view, rel.sql, new Date(lo), new Date(hi)), { params: rel.params });
        await w.execute(onlineMergeSql(w.dialect, view, rel.sql, 'window'), { params: rel.params });
        return res.affectedRows;
      });
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
