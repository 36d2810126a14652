import type { ObjectStore } from '../ports/object-store.js';
import type { FileFormat, Warehouse } from '../ports/warehouse.js';
import type { FeatureRepo } from './definitions.js';
import { ingestRows, type IngestResult } from './ingest.js';
import { detectFormat, readRowBatches } from './local-files.js';
import { stat } from 'node:fs/promises';

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
  onProgress?: (done: IngestResult) => void;
}

/**
 * Load a CSV/JSONL/Parquet file into a view with the same validation, quarantine and dedup as streamed rows. The
 * ingest id is `<uri>@<object version>:<row>`, so loading the same file version again stores nothing twice, and a
 * new version of the file at the same URI is loaded as new rows. Rows are written in batches (one MERGE each).
 */
export async function loadFeatureFile(deps: LoadFileDeps, req: LoadFileRequest): Promise<IngestResult> {
  deps.repo.view(req.view); // fail fast on an unknown view, before copying anything
  const format = detectFormat(req.uri, req.format);
  const remote = req.uri.startsWith('gs://');
  const copy = remote ? await deps.objectStore.localCopy(req.uri) : { path: req.uri, release: async () => undefined };
  try {
    const version = remote ? ((await deps.objectStore.stat(req.uri))?.updated ?? new Date(0)) : (await stat(copy.path).catch(() => null))?.mtime ?? new Date(0);
    const sourceId = `${req.uri}@${version.getTime()}`;
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
