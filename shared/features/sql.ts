import type { Dialect } from '../ports/warehouse.js';
import { offlineColumns, SYSTEM_COLUMNS as SYS, type FeatureView } from './definitions.js';
import { quarantineColumns, QUARANTINE_TABLE } from './tables.js';

/**
 * The feature store's SQL, written once for DuckDB and BigQuery through a Dialect. Pure functions: the DuckDB tests
 * run them, and the BigQuery stand-in runs each through the ZetaSQL analyzer before executing it.
 */

const list = (d: Dialect, names: string[], prefix = '') => names.map((n) => `${prefix}${d.ident(n)}`).join(', ');

/** Deterministic "newest wins" order: event time, then created time, then ingest id. */
export function newestFirst(d: Dialect, v: FeatureView, alias: string): string {
  return `${alias}.${d.ident(v.timestampField)} DESC, ${alias}.${d.ident(SYS.created)} DESC, ${alias}.${d.ident(SYS.ingestId)} DESC`;
}

/** BigQuery rejects a statement that touches more than this many partitions (days of an offline table). */
export const MAX_PARTITIONS_PER_STATEMENT = 4_000;

/**
 * Insert staged rows into the offline table unless their ingest id is already there (exactly-once effect).
 *
 * An INSERT with a NOT EXISTS filter rather than a MERGE: the existing rows it reads are limited by a literal
 * event-time range in a WHERE clause, which BigQuery always uses to prune partitions (a filter in a MERGE's ON
 * clause "might or might not" be); an ingest id always has the same event time, so the range [minTs, maxTs] of the
 * staged rows holds every earlier copy. Being an INSERT, it also does not count against BigQuery's limit of two
 * concurrent mutating DML statements per table.
 */
export function offlineMergeSql(d: Dialect, v: FeatureView, rel: string, minTs: Date, maxTs: Date): string {
  const cols = offlineColumns(v).map((c) => c.name);
  const ts = d.ident(v.timestampField);
  const id = d.ident(SYS.ingestId);
  return [
    `INSERT INTO ${d.table(v.table)} (${list(d, cols)})`,
    `SELECT ${list(d, cols, 's.')} FROM ${rel} AS s`,
    // The staged rows in [minTs, maxTs] only: a caller may write one relation in several day ranges (dayRanges).
    `WHERE s.${ts} BETWEEN ${d.timestamp(minTs)} AND ${d.timestamp(maxTs)}`,
    `AND NOT EXISTS (SELECT 1 FROM ${d.table(v.table)} AS t WHERE t.${ts} BETWEEN ${d.timestamp(minTs)} AND ${d.timestamp(maxTs)} AND t.${id} = s.${id})`,
  ].join('\n');
}

/**
 * Consecutive ranges covering [minTs, maxTs], each touching at most `maxDays` UTC days (daily partitions), for
 * writing one staged relation with several `offlineMergeSql` statements when it spans more days than one statement
 * may touch. A range ends at a midnight, where the next one starts: a row at that instant is offered to both, and
 * the second finds it written by the first (same ingest id).
 */
export function dayRanges(minTs: Date, maxTs: Date, maxDays = MAX_PARTITIONS_PER_STATEMENT): [Date, Date][] {
  if (maxDays < 2) throw new RangeError('dayRanges needs maxDays >= 2');
  const DAY = 86_400_000;
  const out: [Date, Date][] = [];
  let start = minTs.getTime();
  for (;;) {
    const end = Math.min((Math.floor(start / DAY) + maxDays - 1) * DAY, maxTs.getTime());
    out.push([new Date(start), new Date(end)]);
    if (end >= maxTs.getTime()) return out;
    start = end;
  }
}

/**
 * Quarantine staged bad rows unless already quarantined (a redelivery). With `since` (a literal lower bound of the
 * `quarantined_at` of any earlier copy: see `quarantineSince`) only the partitions from then on are read; without
 * it, the whole quarantine table.
 */
export function quarantineMergeSql(d: Dialect, rel: string, since?: Date): string {
  const cols = quarantineColumns.map((c) => c.name);
  const prune = since ? `t.${d.ident('quarantined_at')} >= ${d.timestamp(since)} AND ` : '';
  return [
    `INSERT INTO ${d.table(QUARANTINE_TABLE)} (${list(d, cols)})`,
    `SELECT ${list(d, cols, 's.')} FROM ${rel} AS s`,
    `WHERE NOT EXISTS (SELECT 1 FROM ${d.table(QUARANTINE_TABLE)} AS t WHERE ${prune}t.${d.ident('ingest_id')} = s.${d.ident('ingest_id')} AND t.${d.ident('view')} = s.${d.ident('view')})`,
  ].join('\n');
}

/** Allowed clock difference between the clock stamping a source and the one stamping `quarantined_at`. */
const CLOCK_SKEW_MS = 86_400_000;

/**
 * The earliest `quarantined_at` an earlier copy of rows from a source created at `createdAt` can have: an earlier
 * attempt ran after the source existed (less a day of clock skew), and before `now`.
 */
export function quarantineSince(createdAt: Date, now: Date): Date {
  return new Date(Math.min(createdAt.getTime(), now.getTime()) - CLOCK_SKEW_MS);
}
