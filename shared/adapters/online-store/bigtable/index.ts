import { Bigtable, type Table } from '@google-cloud/bigtable';
import { BackendError, CtloopError, TransientError } from '../../../errors.js';
import type { FeatureView } from '../../../features/definitions.js';
import { entityKey, newestPerEntity, type OnlineRecord, type OnlineStore, type OnlineWriteResult } from '../../../ports/online-store.js';
import { decodeRecord, encodeRecord, versionText, type EncodedRecord } from '../codec.js';
import { columnFamily } from './layout.js';
import { prepareFamily, type FamilyAdmin } from './prepare.js';

export interface BigtableOnlineStoreOptions {
  project: string;
  instance: string;
  table: string;
  /** host:port of the Bigtable emulator; absent on Google Cloud. */
  emulatorHost?: string;
}

/** Conditional writes in flight at once, and keys per ReadRows call. */
const WRITE_CONCURRENCY = 64;
const READ_BATCH = 1000;
const RECORD = 'r';
const VERSION = 'v';

/**
 * Bigtable adapter (for high request rates). One table; per view a column family named after the view whose GC
 * rule keeps one version, and the view's ttl as max age (a union: either deletes). Row key
 * `<view>#<JSON of the typed join keys>`: the view name cannot contain `#` and JSON is unambiguous, so ('1','23')
 * and ('12','3') — or values containing `#` — never collide. Each row holds two cells stamped with the event time:
 * `r` (the record, JSON) and `v` (its version as text whose byte order is (event time, created time, ingest id)).
 *
 * Newest-wins: every write is a CheckAndMutateRow whose predicate is "the row already holds a version ≥ mine";
 * only when it does not are the cells set, atomically per row. So a late, older event and two concurrent writers
 * both end with the newest version, and equal event times (same cell timestamp) are settled by created time and
 * ingest id. Reads are ReadRows calls of up to 1,000 keys, newest cell per column.
 *
 * The GC max age runs on the wall clock against the event time: once collected, a value older than the ttl reads
 * as NOT_FOUND rather than OUTSIDE_MAX_AGE (the other adapters keep it), and a backfill of events older than the
 * ttl is collected soon after it is written.
 */
export class BigtableOnlineStore implements OnlineStore {
  readonly kind = 'bigtable' as const;
  private readonly client: Bigtable;
  private readonly table: Table;
  private readonly ready = new Map<string, Promise<void>>();

  constructor(private readonly opts: BigtableOnlineStoreOptions) {
    // On the emulator, client-side metrics are off: the client would export them to Cloud Monitoring every 60 s
    // with Application Default Credentials, which a machine running the emulator has none of (NO_ADC_FOUND a minute in).
    this.client = new Bigtable({ projectId: opts.project, ...(opts.emulatorHost ? { apiEndpoint: opts.emulatorHost, metricsEnabled: false } : {}) });
    this.table = this.client.instance(opts.instance).table(opts.table);
  }

  private rowKey(view: FeatureView, key: (string | number)[]): string {
    return `${view.name}#${entityKey(key)}`;
  }

  /**
   * The view's column family exists: checked once per process (prepare.ts); created only when missing (emulator,
   * tests). On GCP Terraform creates the table and families and a missing one is a BackendError naming Terraform.
   */
  private ensureFamily(view: FeatureView): Promise<void> {
    let p = this.ready.get(view.name);
    if (!p) {
      p = wrap(`prepare family ${view.name}`, () => prepareFamily(this.table as unknown as FamilyAdmin, view, { instance: this.opts.instance, table: this.opts.table }));
      this.ready.set(view.name, p);
      p.catch(() => this.ready.delete(view.name));
    }
    return p;
  }

  async write(view: FeatureView, records: OnlineRecord[]): Promise<OnlineWriteResult> {
    if (records.length === 0) return { written: 0, superseded: 0 };
    await this.ensureFamily(view);
    const newest = [...newestPerEntity(records).values()];
    let written = 0;
    let next = 0;
    const worker = async () => {
      while (next < newest.length) {
        const r = newest[next++]!;
        const version = versionText(r);
        const family = columnFamily(view);
        const predicate = [{ family }, { column: VERSION }, { value: { start: { value: version, inclusive: true } } }];
        const cells = { [family]: { [RECORD]: { value: JSON.stringify(encodeRecord(r)), timestamp: r.eventTime }, [VERSION]: { value: version, timestamp: r.eventTime } } };
        const [matched] = await wrap('write', () => this.table.row(this.rowKey(view, r.key)).filter(predicate, { onMatch: [], onNoMatch: [{ method: 'insert', data: cells }] }));
        if (!matched) written++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(WRITE_CONCURRENCY, newest.length) }, worker));
    return { written, superseded: records.length - written };
  }

  async read(view: FeatureView, keys: (string | number)[][]): Promise<(OnlineRecord | null)[]> {
    if (keys.length === 0) return [];
    await this.ensureFamily(view);
    const rowKeys = keys.map((k) => this.rowKey(view, k));
    const found = new Map<string, OnlineRecord>();
    const parts: Promise<void>[] = [];
    for (let i = 0; i < rowKeys.length; i += READ_BATCH) {
      const batch = [...new Set(rowKeys.slice(i, i + READ_BATCH))];
      parts.push(wrap('read', async () => {
        const [rows] = await this.table.getRows({ keys: batch, filter: [{ family: columnFamily(view) }, { column: { name: RECORD, cellLimit: 1 } }] });
        for (const row of rows) {
          const cell = (row.data as Record<string, Record<string, { value: string }[]>>)[columnFamily(view)]?.[RECORD]?.[0];
          if (cell) found.set(row.id, decodeRecord(view, JSON.parse(cell.value) as EncodedRecord));
        }
      }));
    }
    await Promise.all(parts);
    return rowKeys.map((k) => found.get(k) ?? null);
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** gRPC codes retrying cannot fix: INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, FAILED_PRECONDITION, UNAUTHENTICATED. */
const PERMANENT = new Set([3, 5, 7, 9, 16]);

async function wrap<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof CtloopError) throw err;
    const code = (err as { code?: unknown }).code;
    const msg = `Bigtable online store ${what} failed: ${(err as Error).message}`;
    if (typeof code === 'number' && PERMANENT.has(code)) {
      throw new BackendError(msg, { hint: 'check CTLOOP_BIGTABLE_INSTANCE / CTLOOP_BIGTABLE_TABLE, that Terraform created the table with a column family per view, and the caller\'s role (roles/bigtable.user to write, roles/bigtable.reader to read)', cause: err });
    }
    throw new TransientError(msg, { hint: 'retried automatically; check Bigtable availability if it persists', cause: err });
  }
}
