import type { OnlineStore } from '../ports/online-store.js';
import type { Row, Warehouse } from '../ports/warehouse.js';
import { BadRecord } from './bad-record.js';
import { offlineColumns, SYSTEM_COLUMNS as SYS, type FeatureRepo, type FeatureView } from './definitions.js';
import { writeOnline } from './online-write.js';
import { MAX_PARTITIONS_PER_STATEMENT, offlineMergeSql, quarantineMergeSql, quarantineSince } from './sql.js';
import { QUARANTINE_TABLE, quarantineColumns } from './tables.js';
import { rowValidator } from './validate.js';

export interface IngestRequest {
  view: string;
  /** Id of the event (or file version) carrying the rows; with the row index it forms the ingest id. */
  sourceId: string;
  rows: unknown[];
  /** Index of rows[0] within its source (files are ingested in chunks). */
  rowOffset?: number;
  /** Created time for rows whose view has no created-time column: the event's publish time, stable across redeliveries. */
  createdAt: Date;
  /** Where each row is in its file (line or row number), named in quarantine reasons; absent for events. */
  positions?: { unit: 'line' | 'row'; at: number[] };
  /** What quarantine records name as the rows' origin (`event_id`): the file's URI for files; `sourceId` otherwise. */
  origin?: string;
}

export interface IngestResult {
  view: string;
  received: number;
  accepted: number;
  /** Rows actually written: accepted minus rows already stored by an earlier delivery (null if the engine cannot tell). */
  inserted: number | null;
  quarantined: number;
  /** First few rejection reasons, for logs and CLI output. */
  sampleReasons: string[];
}

export interface IngestDeps {
  warehouse: Warehouse;
  /** Where the latest row per entity is served from (written after the offline table). */
  online: OnlineStore;
  repo: FeatureRepo;
  now?: () => Date;
}

const validators = new WeakMap<FeatureView, ReturnType<typeof rowValidator>>();

function validatorFor(v: FeatureView) {
  let f = validators.get(v);
  if (!f) validators.set(v, (f = rowValidator(v)));
  return f;
}

/** A validated batch, ready to be written (possibly together with others of the same view). */
export interface PreparedBatch {
  view: FeatureView;
  /** The source of the rows (their ingest ids are `<sourceId>:<row index>`). */
  sourceId: string;
  received: number;
  good: Row[];
  bad: Row[];
  /** The first few rejection reasons, each naming its row (or file line). */
  sampleReasons: string[];
  /** Lower bound of the quarantine time of any earlier copy of the bad rows (see sql.ts `quarantineSince`). */
  quarantineSince: Date;
}

/** Validate a batch and give every row its ingest id; no I/O. */
export function prepareRows(deps: Pick<IngestDeps, 'repo' | 'now'>, req: IngestRequest): PreparedBatch {
  const view = deps.repo.view(req.view);
  const validate = validatorFor(view);
  const now = (deps.now ?? (() => new Date()))();
  const offset = req.rowOffset ?? 0;
  const good: Row[] = [];
  const bad: Row[] = [];
  const sampleReasons: string[] = [];
  const pos = req.positions;
  for (let i = 0; i < req.rows.length; i++) {
    const ingestId = `${req.sourceId}:${offset + i}`;
    const raw = req.rows[i];
    const res = raw instanceof BadRecord ? { ok: false as const, reasons: [raw.reason] } : validate(raw, req.createdAt);
    if (res.ok) {
      const row = res.row;
      row[SYS.ingestId] = ingestId;
      row[SYS.ingestedAt] = now;
      good.push(row);
    } else {
      const where = pos ? `${pos.unit} ${pos.at[i]}` : `row ${offset + i}`;
      const reason = res.reasons.join('; ');
      bad.push({ view: view.name, ingest_id: ingestId, event_id: req.origin ?? req.sourceId, reason: pos ? `${where}: ${reason}` : reason, raw: raw instanceof BadRecord ? raw.text : safeJson(raw), quarantined_at: now });
      if (sampleReasons.length < 5) sampleReasons.push(`${where}: ${reason}`);
    }
  }
  return { view, sourceId: req.sourceId, received: req.rows.length, good, bad, sampleReasons, quarantineSince: quarantineSince(req.createdAt, now) };
}

/**
 * Write validated rows of one view: good rows to the offline table in batched MERGEs (dedup on ingest id), then to
 * the online store (newest per entity wins there, whatever the order), and bad rows to quarantine. Returns the rows
 * newly written offline (null if the engine cannot tell). Backend failures propagate; a retry after a failure
 * between the two writes changes nothing offline and completes the online write.
 */
export async function writePrepared(deps: Pick<IngestDeps, 'warehouse' | 'online'>, view: FeatureView, good: Row[], bad: Row[], quarantineFrom?: Date): Promise<number | null> {
  const inserted = await writeOfflineRows(deps.warehouse, view, good, bad, quarantineFrom);
  if (good.length > 0) await writeOnline(deps.online, view, good);
  return inserted;
}

/** The warehouse half of `writePrepared`: good rows offline (dedup on ingest id), bad rows to quarantine. */
export async function writeOfflineRows(w: Warehouse, view: FeatureView, good: Row[], bad: Row[], quarantineFrom?: Date): Promise<number | null> {
  const tsField = view.timestampField;
  let inserted: number | null = 0;
  if (good.length > 0) {
    const columns = offlineColumns(view);
    for (const part of splitByBytes(good, w.maxStagedBytes).flatMap((p) => splitByDays(p, tsField, MAX_PARTITIONS_PER_STATEMENT))) {
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (const r of part) {
        const t = (r[tsField] as Date).getTime();
        if (t < lo) lo = t;
        if (t > hi) hi = t;
      }
      const n = await w.withRows(columns, part, async (rel) => {
        const res = await w.execute(offlineMergeSql(w.dialect, view, rel.sql, new Date(lo), new Date(hi)), { params: rel.params });
        return res.affectedRows;
      });
      inserted = inserted === null || n === null ? null : inserted + n;
    }
  }
  for (const part of splitByBytes(bad, w.maxStagedBytes)) {
    await w.withRows(quarantineColumns, part, (rel) => w.execute(quarantineMergeSql(w.dialect, rel.sql, quarantineFrom), { params: rel.params }));
  }
  return inserted;
}

/**
 * Write validated rows on the streaming path (ingest-features, through group commit). On an engine that can append
 * without DML (`appendRows`: BigQuery's Storage Write API default stream) the offline rows and the quarantine rows
 * are appended — no statement, no scan, no DML queue; a redelivered event appends its rows again, readers keep one
 * row per ingest id (dedup-sql.ts) and `compact-features` deletes the copies from yesterday's partition. Returns null
 * then (an append does not know what was stored before). Elsewhere (DuckDB) this is `writePrepared`.
 */
export async function writeStreamed(deps: Pick<IngestDeps, 'warehouse' | 'online'>, view: FeatureView, good: Row[], bad: Row[], quarantineFrom?: Date): Promise<number | null> {
  const inserted = await writeStreamedOffline(deps.warehouse, view, good, bad, quarantineFrom);
  if (good.length > 0) await writeOnline(deps.online, view, good);
  return inserted;
}

/** The warehouse half of `writeStreamed` (group commit overlaps it with the previous group's online write). */
export async function writeStreamedOffline(w: Warehouse, view: FeatureView, good: Row[], bad: Row[], quarantineFrom?: Date): Promise<number | null> {
  if (!w.appendRows) return writeOfflineRows(w, view, good, bad, quarantineFrom);
  if (good.length > 0) await w.appendRows(view.table, offlineColumns(view), good);
  if (bad.length > 0) await w.appendRows(QUARANTINE_TABLE, quarantineColumns, bad);
  return null;
}

export function resultOf(batch: PreparedBatch, inserted: number | null): IngestResult {
  return {
    view: batch.view.name,
    received: batch.received,
    accepted: batch.good.length,
    inserted,
    quarantined: batch.bad.length,
    sampleReasons: batch.sampleReasons,
  };
}

/**
 * Validate and write one batch: good rows in one batched MERGE (dedup on ingest id), then the online store, and bad
 * rows to quarantine with their reason and raw row. One bad row never sinks the batch. Redelivering the same
 * source has exactly-once effect. Backend failures propagate (the caller retries); nothing is half-acknowledged.
 */
export async function ingestRows(deps: IngestDeps, req: IngestRequest): Promise<IngestResult> {
  const batch = prepareRows(deps, req);
  return resultOf(batch, await writePrepared(deps, batch.view, batch.good, batch.bad, batch.quarantineSince));
}

/**
 * Split rows into parts each spanning at most `maxDays` UTC days of `tsField` (the offline tables' daily
 * partitions): BigQuery rejects a statement touching more than 4,000 partitions, e.g. a backfill of 11 years.
 */
export function splitByDays(rows: Row[], tsField: string, maxDays: number): Row[][] {
  const day = (r: Row) => Math.floor((r[tsField] as Date).getTime() / 86_400_000);
  if (new Set(rows.map(day)).size <= maxDays) return [rows];
  const sorted = [...rows].sort((a, b) => day(a) - day(b));
  const parts: Row[][] = [];
  let cur: Row[] = [];
  let days = 0;
  let last: number | null = null;
  for (const r of sorted) {
    const d = day(r);
    if (d !== last) {
      if (days === maxDays) { parts.push(cur); cur = []; days = 0; }
      days++;
      last = d;
    }
    cur.push(r);
  }
  parts.push(cur);
  return parts;
}

/** Split rows into parts whose JSON size stays under `maxBytes` (one part when unbounded). */
export function splitByBytes(rows: Row[], maxBytes: number | null): Row[][] {
  if (rows.length === 0) return [];
  if (maxBytes === null) return [rows];
  const parts: Row[][] = [];
  let cur: Row[] = [];
  let size = 0;
  for (const r of rows) {
    const n = JSON.stringify(r).length + 1;
    if (cur.length > 0 && size + n > maxBytes) {
      parts.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(r);
    size += n;
  }
  parts.push(cur);
  return parts;
}

function safeJson(v: unknown): string {
  try {
    const s = JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
    return s === undefined ? String(v) : s;
  } catch {
    return String(v);
  }
}
