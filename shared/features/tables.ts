import type { ColumnSchema, TableSpec } from '../ports/warehouse.js';
import { offlineColumns, type FeatureView } from './definitions.js';

/**
 * Table specs the feature store owns in the warehouse: per view an offline (history) table, plus quarantine. Online
 * values live in the online store (shared/ports/online-store.ts); a `<table>__online` table left by an earlier version
 * is neither read nor written and can be dropped.
 */

export const QUARANTINE_TABLE = '_quarantine';

export function offlineTable(v: FeatureView): TableSpec {
  return {
    name: v.table,
    columns: offlineColumns(v),
    partitionBy: v.timestampField,
    clusterBy: v.entity.joinKeys.map((k) => k.name).slice(0, 4),
    description: `ctloop feature view ${v.name}: every accepted feature row (history)`,
    labels: { ctloop_view: v.name.toLowerCase(), ctloop_kind: 'offline' },
  };
}

export const quarantineColumns: ColumnSchema[] = [
  { name: 'view', type: 'STRING', mode: 'REQUIRED' },
  { name: 'ingest_id', type: 'STRING', mode: 'REQUIRED', description: 'event id + row index (or file + row)' },
  { name: 'event_id', type: 'STRING', mode: 'REQUIRED' },
  { name: 'reason', type: 'STRING', mode: 'REQUIRED' },
  { name: 'raw', type: 'STRING', mode: 'REQUIRED', description: 'the rejected row as JSON' },
  { name: 'quarantined_at', type: 'TIMESTAMP', mode: 'REQUIRED' },
];

export function quarantineTable(): TableSpec {
  return {
    name: QUARANTINE_TABLE,
    columns: quarantineColumns,
    partitionBy: 'quarantined_at',
    clusterBy: ['view'],
    description: 'ctloop: rows rejected by validation, with the reason and the raw row',
    labels: { ctloop_kind: 'quarantine' },
  };
}

/** Every table the feature store needs for a repo, in creation order. */
export function featureStoreTables(views: FeatureView[]): TableSpec[] {
  return [quarantineTable(), ...views.map((v) => offlineTable(v))];
}
