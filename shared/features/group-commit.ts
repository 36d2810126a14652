import type { Row, Warehouse } from '../ports/warehouse.js';
import type { FeatureView } from './definitions.js';
import { prepareRows, resultOf, writeStreamed, type IngestDeps, type IngestRequest, type IngestResult, type PreparedBatch } from './ingest.js';

interface Waiter {
  batch: PreparedBatch;
  resolve(r: IngestResult): void;
  reject(err: unknown): void;
}

interface ViewQueue {
  view: FeatureView;
  waiting: Waiter[];
  flushing: boolean;
}

export interface GroupCommitOptions {
  /** Most rows written by one group (default 50,000). */
  maxRows?: number;
}

/**
 * Group commit for ingestion: batches that arrive while a write of the same view is in flight are written together
 * in the next write (one MERGE per table instead of one per event), and each caller's promise settles when the write
 * holding its rows has committed — so an event is acknowledged only once its rows are stored, and a failed group
 * write fails (and redelivers) every event in it; ingest ids keep redelivery exactly-once. With one event in flight
 * it behaves exactly like `ingestRows`. Concurrent deliveries come from the in-process bus (up to its concurrency),
 * Pub/Sub streaming pull, or Cloud Functions gen2 instances serving several requests at once; on BigQuery this also
 * keeps the number of DML jobs per table (2 concurrent mutations per table) low.
 */
export class GroupCommitIngestor {
  private readonly queues = new Map<string, ViewQueue>();
  private readonly maxRows: number;

  constructor(private readonly deps: IngestDeps, opts: GroupCommitOptions = {}) {
    this.maxRows = opts.maxRows ?? 50_000;
  }

  /** Validate now; resolve when the rows are durably written (alone or with other batches of the view). */
  ingest(req: IngestRequest): Promise<IngestResult> {
    let batch: PreparedBatch;
    try {
      batch = prepareRows(this.deps, req);
    } catch (err) {
      return Promise.reject(err);
    }
    const q = this.queues.get(batch.view.name) ?? { view: batch.view, waiting: [], flushing: false };
    this.queues.set(batch.view.name, q);
    const done = new Promise<IngestResult>((resolve, reject) => q.waiting.push({ batch, resolve, reject }));
    if (!q.flushing) void this.flush(q);
    return done;
  }

  private async flush(q: ViewQueue): Promise<void> {
    q.flushing = true;
    try {
      while (q.waiting.length > 0) {
        const group: Waiter[] = [];
        let rows = 0;
        while (q.waiting.length > 0 && (group.length === 0 || rows + q.waiting[0]!.batch.received <= this.maxRows)) {
          const w = q.waiting.shift()!;
          rows += w.batch.received;
          group.push(w);
        }
        await this.writeGroup(q.view, group);
      }
    } finally {
      q.flushing = false;
    }
  }

  private async writeGroup(view: FeatureView, group: Waiter[]): Promise<void> {
    // The same event may be delivered twice at once: keep one row per ingest id, or the MERGE would insert both.
    const good = uniqueBy(group.flatMap((g) => g.batch.good), '_ingest_id');
    const bad = uniqueBy(group.flatMap((g) => g.batch.bad), 'ingest_id');
    try {
      const since = new Date(Math.min(...group.map((g) => g.batch.quarantineSince.getTime())));
      const inserted = await writeStreamed(this.deps, view, good, bad, since);
      // The engine reports rows written for the whole group; per event it is known only when the group is one event.
      for (const g of group) g.resolve(resultOf(g.batch, group.length === 1 ? inserted : null));
    } catch (err) {
      for (const g of group) g.reject(err);
    }
  }
}

function uniqueBy(rows: Row[], key: string): Row[] {
  const seen = new Set<unknown>();
  return rows.filter((r) => (seen.has(r[key]) ? false : (seen.add(r[key]), true)));
}

const perWarehouse = new WeakMap<Warehouse, GroupCommitIngestor>();

/** The process-wide group-commit ingestor of a runtime's warehouse (one queue per view per process). */
export function groupCommitFor(deps: IngestDeps): GroupCommitIngestor {
  let g = perWarehouse.get(deps.warehouse);
  if (!g) perWarehouse.set(deps.warehouse, (g = new GroupCommitIngestor(deps)));
  return g;
}
