import type { ColumnSchema, TableSpec } from '../ports/warehouse.js';
import { offlineColumns, SYSTEM_COLUMNS, type FeatureView } from './definitions.js';

/** Table specs the feature store owns: per view an offline (history) and an online (latest) table, plus quarantine. */

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

export function onlineColumns(v: FeatureView): ColumnSchema[] {
  return offlineColumns(v).filter((c) => c.name !== SYSTEM_COLUMNS.ingestedAt);
}

export function onlineTable(v: FeatureView): TableSpec {
  return {
    name: v.onlineTable,
    columns: onlineColumns(v),
    clusterBy: v.entity.joinKeys.map((k) => k.name).slice(0, 4),
    description: `ctloop feature view ${v.name}: latest row per entity by event time`,
    labels: { ctloop_view: v.name.toLowerCase(), ctloop_kind: 'online' },
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
  return [quarantineTable(), ...views.flatMap((v) => [offlineTable(v), onlineTable(v)])];
}
