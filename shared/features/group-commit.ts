import type { Row, Warehouse } from '../ports/warehouse.js';
import type { FeatureView } from './definitions.js';
import { prepareRows, resultOf, writeStreamedOffline, type IngestDeps, type IngestRequest, type IngestResult, type PreparedBatch } from './ingest.js';
import { writeOnline } from './online-write.js';

interface Waiter {
  batch: PreparedBatch;
  resolve(r: IngestResult): void;
  reject(err: unknown): void;
}

interface ViewQueue {
  view: FeatureView;
  waiting: Waiter[];
  flushing: boolean;
  /** The online write of the last group (online writes of a view go one at a time, in group order). */
  online: Promise<void>;
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
    const q = this.queues.get(batch.view.name) ?? { view: batch.view, waiting: [], flushing: false, online: Promise.resolve() };
    this.queues.set(batch.view.name, q);
    const done = new Promise<IngestResult>((resolve, reject) => q.waiting.push({ batch, resolve, reject }));
    if (!q.flushing) void this.flush(q);
    return done;
  }

  private async flush(q: ViewQueue): Promise<void> {
    q.flushing = true;
    try {
      while (q.waiting.length > 0) {
        // The longest prefix within maxRows (at least one batch), taken in one splice: shifting one waiter at a
        // time moves the whole queue each time, quadratic in the thousands of events waiting.
        let n = 0;
        let rows = 0;
        while (n < q.waiting.length && (n === 0 || rows + q.waiting[n]!.batch.received <= this.maxRows)) rows += q.waiting[n++]!.batch.received;
        let group: Waiter[];
        if (n === q.waiting.length) {
          group = q.waiting;
          q.waiting = [];
        } else {
          group = q.waiting.splice(0, n);
        }
        await this.writeGroup(q, group);
      }
    } finally {
      q.flushing = false;
    }
  }

  /**
   * Write one group: the warehouse write now; the online write after the previous group's, while the next group's
   * warehouse write already runs (the two stores are independent, and the online store keeps the newest per entity
   * whatever the order). Each event settles when both writes holding its rows have committed; a failure of either
   * fails (and redelivers) every event of the group.
   */
  private async writeGroup(q: ViewQueue, group: Waiter[]): Promise<void> {
    const view = q.view;
    // The same event may be delivered twice at once: keep one row per ingest id, or the write would store both.
    const good = rowsOf(group, 'good', '_ingest_id');
    const bad = rowsOf(group, 'bad', 'ingest_id');
    let inserted: number | null;
    try {
      // A loop, not Math.min(...): a group may hold tens of thousands of events, beyond a spread call's arguments.
      let sinceMs = Number.POSITIVE_INFINITY;
      for (const g of group) sinceMs = Math.min(sinceMs, g.batch.quarantineSince.getTime());
      const since = new Date(sinceMs);
      inserted = await writeStreamedOffline(this.deps.warehouse, view, good, bad, since);
    } catch (err) {
      for (const g of group) g.reject(err);
      return;
    }
    const online = q.online.then(() => (good.length > 0 ? writeOnline(this.deps.online, view, good) : undefined));
    q.online = online.then(() => undefined, () => undefined);
    online.then(
      // The engine reports rows written for the whole group; per event it is known only when the group is one event.
      () => { for (const g of group) g.resolve(resultOf(g.batch, group.length === 1 ? inserted : null)); },
      (err: unknown) => { for (const g of group) g.reject(err); },
    );
  }
}

/**
 * The good (or bad) rows of a group, one per ingest id. Ingest ids are `<source id>:<row index>`, so rows of
 * different sources never share one: rows are checked one by one only when a source appears twice in the group.
 */
function rowsOf(group: Waiter[], which: 'good' | 'bad', key: string): Row[] {
  const sources = new Set<string>();
  let repeated = false;
  const rows: Row[] = [];
  for (const g of group) {
    if (sources.has(g.batch.sourceId)) repeated = true;
    else sources.add(g.batch.sourceId);
    for (const r of g.batch[which]) rows.push(r);
  }
  return repeated ? uniqueBy(rows, key) : rows;
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
