import type { Row, Warehouse } from '../ports/warehouse.js';
import { SYSTEM_COLUMNS as SYS, type FeatureView } from './definitions.js';

/**
 * The created time a file version's rows were first stored with, if this content was loaded before (under any path
 * or URI, before a `touch`): rows loaded again then carry the same created time, so the online table cannot
 * prefer them over a newer version that the offline table (which keeps the first copy) ranks above them.
 * One point lookup on the first stored row: by ingest id and event time (partition pruning on BigQuery).
 */
export async function storedCreatedTime(w: Warehouse, view: FeatureView, row: Row): Promise<Date | null> {
  const d = w.dialect;
  const found = await w.query(
    `SELECT ${d.ident(SYS.created)} AS c FROM ${d.table(view.table)} WHERE ${d.ident(SYS.ingestId)} = ${d.param('id')} AND ${d.ident(view.timestampField)} = ${d.param('ts')} LIMIT 1`,
    { params: { id: { type: 'STRING', value: row[SYS.ingestId] as string }, ts: { type: 'TIMESTAMP', value: row[view.timestampField] as Date } } },
  );
  const c = found[0]?.c;
  return c instanceof Date ? c : c === undefined || c === null ? null : new Date(String(c));
}
