import type { OnlineRecord, OnlineStore, OnlineWriteResult } from '../ports/online-store.js';
import type { Row } from '../ports/warehouse.js';
import { SYSTEM_COLUMNS as SYS, type FeatureView } from './definitions.js';

/** An offline row (validated, with its created time and ingest id) as the online store keeps it. */
export function onlineRecord(view: FeatureView, row: Row): OnlineRecord {
  const values: OnlineRecord['values'] = {};
  for (const f of view.features) values[f.name] = row[f.name] ?? null;
  return {
    key: view.entity.joinKeys.map((k) => row[k.name] as string | number),
    eventTime: row[view.timestampField] as Date,
    createdTime: row[SYS.created] as Date,
    ingestId: String(row[SYS.ingestId]),
    values,
  };
}

/** Write validated rows to the online store (it keeps the newest per entity whatever the order). */
export function writeOnline(online: OnlineStore, view: FeatureView, rows: Row[]): Promise<OnlineWriteResult> {
  return online.write(view, rows.map((r) => onlineRecord(view, r)));
}
