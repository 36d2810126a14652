import { ValidationError } from '../errors.js';
import type { Dialect, Warehouse } from '../ports/warehouse.js';
import { offlineColumns, SYSTEM_COLUMNS as SYS, type FeatureRepo } from './definitions.js';
import { QUARANTINE_TABLE, quarantineColumns } from './tables.js';

/**
 * Compaction of one day of an append-only table. The streaming path appends at-least-once (BigQuery Storage Write
 * API), so a redelivered event leaves copies under the same ingest id; readers already keep one (dedup-sql.ts), and
 * this removes the others so storage does not grow with redeliveries. ONE statement per table per day, on one
 * partition: a MERGE of the day's first copy per key against the table ON FALSE — every row of the day is deleted
 * and the kept rows are inserted, atomically (exact duplicates included, which a DELETE by key could not tell
 * apart). Rows appended to that day while it runs are not in the statement's snapshot and stay. It runs on
 * yesterday's partition, which the streaming path has mostly stopped writing to.
 */

export interface CompactTarget {
  table: string;
  columns: string[];
  timeColumn: string;
  /** One row is kept per value of these columns... */
  key: string[];
  /** ...the first by this column. */
  order: string;
}

export function offlineCompactTarget(repo: FeatureRepo, viewName: string): CompactTarget {
  const v = repo.view(viewName);
  return { table: v.table, columns: offlineColumns(v).map((c) => c.name), timeColumn: v.timestampField, key: [SYS.ingestId], order: SYS.ingestedAt };
}

export const quarantineCompactTarget: CompactTarget = {
  table: QUARANTINE_TABLE, columns: quarantineColumns.map((c) => c.name), timeColumn: 'quarantined_at', key: ['view', 'ingest_id'], order: 'quarantined_at',
};

const DAY_MS = 86_400_000;

/** The UTC day before `at`, as its midnight. */
export function yesterday(at: Date): Date {
  return new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS - DAY_MS);
}

export function parseDay(day: string): Date {
  const d = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== day) {
    throw new ValidationError(`day ${JSON.stringify(day)} is not a calendar date`, { hint: 'give the UTC day as YYYY-MM-DD' });
  }
  return d;
}

/** The statement compacting [day, day + 1 day) of `t`; literal bounds so BigQuery prunes to that partition. */
export function compactDaySql(d: Dialect, t: CompactTarget, day: Date): string {
  const lo = d.timestamp(day);
  const hi = d.timestamp(new Date(day.getTime() + DAY_MS));
  const ts = d.ident(t.timeColumn);
  const cols = t.columns.map((c) => d.ident(c));
  return [
    `MERGE ${d.table(t.table)} AS t`,
    `USING (SELECT ${cols.map((c) => `s.${c}`).join(', ')} FROM ${d.table(t.table)} AS s WHERE s.${ts} >= ${lo} AND s.${ts} < ${hi}`,
    `  QUALIFY ROW_NUMBER() OVER (PARTITION BY ${t.key.map((k) => `s.${d.ident(k)}`).join(', ')} ORDER BY s.${d.ident(t.order)}) = 1) AS s`,
    'ON FALSE',
    `WHEN NOT MATCHED BY SOURCE AND t.${ts} >= ${lo} AND t.${ts} < ${hi} THEN DELETE`,
    `WHEN NOT MATCHED THEN INSERT (${cols.join(', ')}) VALUES (${cols.map((c) => `s.${c}`).join(', ')})`,
  ].join('\n');
}

export interface CompactResult {
  table: string;
  day: string;
  /** Rows of the day before and after (null when the engine does not report them). */
  before: number;
  after: number;
}

/** Compact one day of one table: count, then the one MERGE when the day holds copies (none: no DML at all). */
export async function compactDay(w: Warehouse, t: CompactTarget, day: Date): Promise<CompactResult> {
  const d = w.dialect;
  const ts = d.ident(t.timeColumn);
  const range = `${ts} >= ${d.timestamp(day)} AND ${ts} < ${d.timestamp(new Date(day.getTime() + DAY_MS))}`;
  // Key columns are STRING identifiers and ids without spaces: joined with a space they stay distinct.
  const keyExpr = t.key.length === 1 ? d.ident(t.key[0]!) : `CONCAT(${t.key.map((k) => d.ident(k)).join(`, ' ', `)})`;
  const [r] = await w.query(`SELECT COUNT(*) AS n, COUNT(DISTINCT ${keyExpr}) AS u FROM ${d.table(t.table)} WHERE ${range}`, { labels: { ctloop_op: 'compact' } });
  const before = Number(r?.n ?? 0);
  const unique = Number(r?.u ?? 0);
  const dayText = day.toISOString().slice(0, 10);
  if (before === unique) return { table: t.table, day: dayText, before, after: before };
  await w.execute(compactDaySql(d, t, day), { labels: { ctloop_op: 'compact' } });
  return { table: t.table, day: dayText, before, after: unique };
}
