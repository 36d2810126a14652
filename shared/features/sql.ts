import type { Dialect } from '../ports/warehouse.js';
import { offlineColumns, SYSTEM_COLUMNS as SYS, type FeatureView } from './definitions.js';
import { onlineColumns, quarantineColumns, QUARANTINE_TABLE } from './tables.js';

/**
 * The feature store's SQL, written once for DuckDB and BigQuery through a Dialect. Pure functions: the DuckDB tests
 * run them, and the BigQuery stand-in runs each through the ZetaSQL analyzer before executing it.
 */

const list = (d: Dialect, names: string[], prefix = '') => names.map((n) => `${prefix}${d.ident(n)}`).join(', ');

/** Deterministic "newest wins" order: event time, then created time, then ingest id. */
export function newestFirst(d: Dialect, v: FeatureView, alias: string): string {
  return `${alias}.${d.ident(v.timestampField)} DESC, ${alias}.${d.ident(SYS.created)} DESC, ${alias}.${d.ident(SYS.ingestId)} DESC`;
}

/** Insert staged rows into the offline table unless their ingest id is already there (exactly-once effect). */
export function offlineMergeSql(d: Dialect, v: FeatureView, rel: string, minTs: Date, maxTs: Date): string {
  const cols = offlineColumns(v).map((c) => c.name);
  const ts = d.ident(v.timestampField);
  return [
    `MERGE INTO ${d.table(v.table)} AS t`,
    `USING (SELECT ${list(d, cols)} FROM ${rel}) AS s`,
    // The literal event-time range lets BigQuery prune partitions: an ingest id always has the same event time.
    `ON t.${d.ident(SYS.ingestId)} = s.${d.ident(SYS.ingestId)} AND t.${ts} BETWEEN ${d.timestamp(minTs)} AND ${d.timestamp(maxTs)}`,
    `WHEN NOT MATCHED THEN INSERT (${list(d, cols)}) VALUES (${list(d, cols, 's.')})`,
  ].join('\n');
}

/** Staged-batch column that flags the newest row per entity within the batch (set by the ingest code). */
export const LATEST = '__latest';

/**
 * Upsert the newest staged row per entity (rows flagged LATEST) into the online table; an older event never
 * overwrites a newer one, whatever order batches arrive in.
 */
export function onlineMergeSql(d: Dialect, v: FeatureView, rel: string, pick: 'flagged' | 'window' = 'flagged'): string {
  const cols = onlineColumns(v).map((c) => c.name);
  const keys = v.entity.joinKeys.map((k) => k.name);
  const nonKeys = cols.filter((c) => !keys.includes(c));
  const ts = d.ident(v.timestampField);
  const cr = d.ident(SYS.created);
  const id = d.ident(SYS.ingestId);
  const newer = `(s.${ts} > t.${ts} OR (s.${ts} = t.${ts} AND s.${cr} > t.${cr}) OR (s.${ts} = t.${ts} AND s.${cr} = t.${cr} AND s.${id} > t.${id}))`;
  return [
    `MERGE INTO ${d.table(v.onlineTable)} AS t`,
    // 'flagged': the writer marked the newest row per entity; 'window': pick it here (staged files carry no flag).
    pick === 'flagged'
      ? `USING (SELECT ${list(d, cols, 'r.')} FROM ${rel} AS r WHERE r.${d.ident(LATEST)}) AS s`
      : `USING (SELECT ${list(d, cols, 'r.')} FROM ${rel} AS r WHERE TRUE QUALIFY ROW_NUMBER() OVER (PARTITION BY ${list(d, keys, 'r.')} ORDER BY ${newestFirst(d, v, 'r')}) = 1) AS s`,
    `ON ${keys.map((k) => `t.${d.ident(k)} = s.${d.ident(k)}`).join(' AND ')}`,
    `WHEN MATCHED AND ${newer} THEN UPDATE SET ${nonKeys.map((c) => `${d.ident(c)} = s.${d.ident(c)}`).join(', ')}`,
    `WHEN NOT MATCHED THEN INSERT (${list(d, cols)}) VALUES (${list(d, cols, 's.')})`,
  ].join('\n');
}

export function quarantineMergeSql(d: Dialect, rel: string): string {
  const cols = quarantineColumns.map((c) => c.name);
  return [
    `MERGE INTO ${d.table(QUARANTINE_TABLE)} AS t`,
    `USING (SELECT ${list(d, cols)} FROM ${rel}) AS s`,
    `ON t.${d.ident('ingest_id')} = s.${d.ident('ingest_id')} AND t.${d.ident('view')} = s.${d.ident('view')}`,
    `WHEN NOT MATCHED THEN INSERT (${list(d, cols)}) VALUES (${list(d, cols, 's.')})`,
  ].join('\n');
}

/**
 * Latest values for staged entity keys (`__i` orders the answer), one row per key. The online table can hold a key
 * twice: on BigQuery two overlapping MERGEs that both insert a new key do not conflict, and both insert it. The
 * newest-wins order picks one, so a duplicate never shows (nor shifts the other keys' answers).
 */
export function onlineLookupSql(d: Dialect, v: FeatureView, keysRel: string, features: string[]): string {
  const keys = v.entity.joinKeys.map((k) => k.name);
  return [
    `SELECT q.${d.ident('__i')} AS ${d.ident('__i')}, o.${d.ident(v.timestampField)} AS ${d.ident('__event_ts')}, o.${d.ident(SYS.ingestId)} AS ${d.ident('__ingest_id')}${features.map((f) => `, o.${d.ident(f)} AS ${d.ident(f)}`).join('')}`,
    `FROM ${keysRel} AS q LEFT JOIN ${d.table(v.onlineTable)} AS o ON ${keys.map((k) => `o.${d.ident(k)} = q.${d.ident(k)}`).join(' AND ')}`,
    `WHERE TRUE QUALIFY ROW_NUMBER() OVER (PARTITION BY q.${d.ident('__i')} ORDER BY ${newestFirst(d, v, 'o')}) = 1`,
    `ORDER BY q.${d.ident('__i')}`,
  ].join('\n');
}
