import type { FeatureView } from '../features/definitions.js';
import type { SqlValue } from './warehouse.js';

/**
 * Online store port: the latest feature row per entity of a view, for point reads at serving latency. Adapters:
 * embedded (in-process index persisted under the state directory), Firestore (default on GCP) and Bigtable (high
 * request rates). The Feast-shaped answer, with statuses and the ttl applied at read time, is built once on top of
 * `read` (shared/features/online.ts), so every adapter answers alike.
 *
 * Rules every adapter keeps (the contract suite, test/contract/online-store.contract.ts, checks them):
 * - `write` keeps per entity the newest row by (event time, created time, ingest id) — see `compareVersions` —
 *   whatever the arrival order, also under concurrent writers; writing the same row again changes nothing.
 * - a NULL feature value is stored as NULL (it overwrites an older non-NULL value of a newer row).
 * - `read` returns one answer per key, in order, with null for an entity never written; many keys travel in
 *   batched round trips, never one request per key.
 */

/** One entity's row as the online store keeps it. */
export interface OnlineRecord {
  /** Join key values in the order of the view's join keys (typed: STRING → string, INT64 → number). */
  key: (string | number)[];
  eventTime: Date;
  createdTime: Date;
  ingestId: string;
  /** Feature name → value (features missing here read as NULL). */
  values: Record<string, SqlValue>;
}

export interface OnlineWriteResult {
  /** Records that became the entity's latest row. */
  written: number;
  /** Records not stored because the store already held a row at least as new (older events, redeliveries). */
  superseded: number;
}

export interface OnlineStore {
  readonly kind: 'embedded' | 'firestore' | 'bigtable';
  /** Store each record unless the entity already holds a newer-or-equal version (see `compareVersions`). */
  write(view: FeatureView, records: OnlineRecord[]): Promise<OnlineWriteResult>;
  /** The latest record of each key (null when none), in the order of `keys`. */
  read(view: FeatureView, keys: (string | number)[][]): Promise<(OnlineRecord | null)[]>;
  close(): Promise<void>;
}

export interface OnlineVersion {
  eventTime: Date;
  createdTime: Date;
  ingestId: string;
}

/**
 * Order of versions of one entity: event time, then created time, then ingest id (compared as UTF-8 bytes, as
 * Bigtable and BigQuery compare strings). Positive when `a` is newer than `b`.
 */
export function compareVersions(a: OnlineVersion, b: OnlineVersion): number {
  const e = a.eventTime.getTime() - b.eventTime.getTime();
  if (e !== 0) return e;
  const c = a.createdTime.getTime() - b.createdTime.getTime();
  if (c !== 0) return c;
  return Buffer.compare(Buffer.from(a.ingestId, 'utf8'), Buffer.from(b.ingestId, 'utf8'));
}

/** Keep the newest record per entity of a batch (so a store writes each entity once per batch). */
export function newestPerEntity(records: OnlineRecord[]): Map<string, OnlineRecord> {
  const out = new Map<string, OnlineRecord>();
  for (const r of records) {
    const k = entityKey(r.key);
    const cur = out.get(k);
    if (!cur || compareVersions(r, cur) > 0) out.set(k, r);
  }
  return out;
}

/**
 * Unambiguous text of a composite key: JSON of the typed values, so ('1','23') and ('12','3') differ, as do the
 * string '7' and the number 7, whatever separators or unicode the values contain.
 */
export function entityKey(key: (string | number)[]): string {
  return JSON.stringify(key);
}
