import { AlreadyExistsError } from '../errors.js';
import type { ObjectStore } from '../ports/object-store.js';
import { createHash } from 'node:crypto';
import type { ColumnSchema, Warehouse, TableSpec } from '../ports/warehouse.js';
import type { TimeWindow } from './profile.js';
import { blockingAnomalies, type DriftReport } from './report.js';

/**
 * The continuous-training policy. A report with a blocking anomaly (missing feature, type mismatch, no data) raises
 * an alert and never retrains on broken data; otherwise dataset drift (or a drifted share above `minShareDrifted`)
 * requests training, at most once per dedup key (model + window) and at most once per model per cooldown.
 *
 * The "at most once" holds across processes: the claim is one MERGE into `_training_requests` whose ON clause
 * matches the same dedup key OR any request for the model inside the cooldown; only a non-matching claim inserts.
 * The claimant then finds its own row by trigger id. That MERGE alone is enough on DuckDB (one writer), NOT on
 * BigQuery: it runs two mutating DML statements on a table at once, and two MERGEs that both match nothing only
 * insert, which never conflicts, so both insert. Write-once leases taken before the MERGE (see
 * `claimTrainingRequest`) make sure two concurrent claims never reach the ledger together. The trigger id also
 * makes a redelivered trigger republish an unpublished claim instead of losing it.
 */
export const REQUESTS_TABLE = '_training_requests';

export const requestColumns: ColumnSchema[] = [
  { name: 'dedup_key', type: 'STRING', mode: 'REQUIRED' },
  { name: 'model', type: 'STRING', mode: 'REQUIRED' },
  { name: 'requested_at', type: 'TIMESTAMP', mode: 'REQUIRED' },
  { name: 'report_id', type: 'STRING', mode: 'REQUIRED' },
  { name: 'event_id', type: 'STRING', mode: 'REQUIRED' },
  { name: 'trigger_id', type: 'STRING', mode: 'REQUIRED' },
  { name: 'published_at', type: 'TIMESTAMP' },
];

export interface CtPolicy {
  /** No second request for a model within this many seconds (default 6 h). */
  cooldownSeconds: number;
  /** Request training when this share of features drifted; default: Evidently's dataset drift (share ≥ drift_share). */
  minShareDrifted?: number;
}

export const defaultPolicy: CtPolicy = { cooldownSeconds: 6 * 3600 };

export type Decision =
  | { action: 'alert'; reason: string }
  | { action: 'retrain'; reason: string }
  | { action: 'none'; reason: string };

export function decide(report: DriftReport, policy: CtPolicy = defaultPolicy): Decision {
  const blocking = report.anomalies.filter((a) => blockingAnomalies.includes(a.kind));
  if (blocking.length) return { action: 'alert', reason: blocking.map((a) => a.message).join('; ') };
  const drift = policy.minShareDrifted === undefined ? report.dataset_drift : report.share_drifted >= policy.minShareDrifted;
  if (drift) return { action: 'retrain', reason: `${(report.share_drifted * 100).toFixed(0)}% of features drifted` };
  return { action: 'none', reason: `no dataset drift (${(report.share_drifted * 100).toFixed(0)}% of features drifted)` };
}

export function dedupKey(model: string, window: TimeWindow): string {
  return `${model}|${window.start}|${window.end}`;
}

/** Deterministic training-request event id for a dedup key (a consumer can dedup on it too). */
export function trainingEventId(key: string): string {
  return `training-${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

/** The training-request ledger (also created by Terraform: shared/topology/tables.ts). */
export const requestsTable: TableSpec = {
  name: REQUESTS_TABLE, columns: requestColumns, description: 'ctloop training requests (dedup and cooldown)', labels: { ctloop_kind: 'training_requests' },
};

export async function ensureRequestsTable(w: Warehouse): Promise<void> {
  if (!(await w.getTable(REQUESTS_TABLE))) await w.createTable(requestsTable);
}

export interface Claim {
  /** True when this trigger owns the request and must publish it (first time, or a redelivery before publishing). */
  publish: boolean;
  eventId: string | null;
}

/**
 * Take a write-once lease object for this trigger. Object creation with a does-not-exist precondition is atomic on
 * Cloud Storage (ifGenerationMatch=0) and on the local store (link), unlike two concurrent BigQuery MERGEs that both
 * match nothing. A redelivery of the trigger that took the lease keeps it.
 */
async function lease(store: ObjectStore, uri: string, triggerId: string, now: Date): Promise<boolean> {
  try {
    await store.put(uri, JSON.stringify({ triggerId, at: now.toISOString() }), { contentType: 'application/json', ifNotExists: true });
    return true;
  } catch (err) {
    if (!(err instanceof AlreadyExistsError)) throw err;
    const holder = JSON.parse((await store.get(uri)).toString('utf8')) as { triggerId?: string };
    return holder.triggerId === triggerId;
  }
}

export interface ClaimLeases {
  store: ObjectStore;
  bucket: string;
}

/** Cooldown leases per cooldown: see `cooldownSlots`. */
const SLOTS_PER_COOLDOWN = 4;

/**
 * The cooldown lease slots a claim at `t` takes: every slot of length cooldown/4 that meets [t, t + cooldown].
 * Two claims less than a cooldown apart always share one slot (the one holding the later claim's time), whatever
 * slot or period boundary lies between them; one lease per fixed period would let claims a second either side of a
 * period boundary both through. Slots are taken in time order, so the later claim fails on its first slot. The
 * price: a claim up to a quarter cooldown more than a cooldown after another may still be refused.
 */
export function cooldownSlots(t: Date, cooldownSeconds: number): number[] {
  const slotMs = (cooldownSeconds * 1000) / SLOTS_PER_COOLDOWN;
  const first = Math.floor(t.getTime() / slotMs);
  const last = Math.floor((t.getTime() + cooldownSeconds * 1000) / slotMs);
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

/**
 * Claim the training request for (model, window) unless one exists for the key or inside the cooldown. With
 * `leases`, two triggers first race for write-once lease objects — one per dedup key and the model's cooldown
 * slots — so at most one of them reaches the ledger even on engines whose DML does not serialise (BigQuery); the
 * ledger MERGE then enforces the sliding cooldown and records the claim.
 */
export async function claimTrainingRequest(
  w: Warehouse,
  req: { model: string; window: TimeWindow; reportId: string; triggerId: string; now: Date; cooldownSeconds: number },
  leases?: ClaimLeases,
): Promise<Claim> {
  if (leases) {
    const digest = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 32);
    const base = `gs://${leases.bucket}/drift/claims/${digest(req.model)}`;
    if (!(await lease(leases.store, `${base}/key-${digest(dedupKey(req.model, req.window))}.json`, req.triggerId, req.now))) return { publish: false, eventId: null };
    if (req.cooldownSeconds > 0) {
      for (const slot of cooldownSlots(req.now, req.cooldownSeconds)) {
        if (!(await lease(leases.store, `${base}/cooldown-${req.cooldownSeconds}-q${slot}.json`, req.triggerId, req.now))) return { publish: false, eventId: null };
      }
    }
  }
  await ensureRequestsTable(w);
  const d = w.dialect;
  const T = d.table(REQUESTS_TABLE);
  const key = dedupKey(req.model, req.window);
  const eventId = trainingEventId(key);
  const p = (n: string) => d.param(n);
  await w.execute(
    `MERGE INTO ${T} AS t
     USING (SELECT ${p('k')} AS dedup_key, ${p('m')} AS model, ${p('now')} AS requested_at, ${p('rid')} AS report_id, ${p('eid')} AS event_id, ${p('tid')} AS trigger_id) AS s
     ON t.dedup_key = s.dedup_key OR (t.model = s.model AND t.requested_at > ${p('cooldown_start')})
     WHEN MATCHED THEN UPDATE SET requested_at = t.requested_at
     WHEN NOT MATCHED THEN INSERT (dedup_key, model, requested_at, report_id, event_id, trigger_id)
       VALUES (s.dedup_key, s.model, s.requested_at, s.report_id, s.event_id, s.trigger_id)`,
    {
      params: {
        k: { type: 'STRING', value: key }, m: { type: 'STRING', value: req.model }, now: { type: 'TIMESTAMP', value: req.now },
        rid: { type: 'STRING', value: req.reportId }, eid: { type: 'STRING', value: eventId }, tid: { type: 'STRING', value: req.triggerId },
        cooldown_start: { type: 'TIMESTAMP', value: new Date(req.now.getTime() - req.cooldownSeconds * 1000) },
      },
    },
  );
  const mine = await w.query(`SELECT event_id, published_at FROM ${T} WHERE dedup_key = ${p('k')} AND trigger_id = ${p('tid')}`, {
    params: { k: { type: 'STRING', value: key }, tid: { type: 'STRING', value: req.triggerId } },
  });
  const row = mine[0];
  if (!row) return { publish: false, eventId: null };
  return { publish: row.published_at === null, eventId: String(row.event_id) };
}

export async function markPublished(w: Warehouse, eventId: string, at: Date): Promise<void> {
  const d = w.dialect;
  await w.execute(`UPDATE ${d.table(REQUESTS_TABLE)} SET published_at = ${d.param('at')} WHERE event_id = ${d.param('eid')}`, {
    params: { at: { type: 'TIMESTAMP', value: at }, eid: { type: 'STRING', value: eventId } },
  });
}
