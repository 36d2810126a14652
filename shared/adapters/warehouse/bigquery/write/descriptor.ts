/**
 * The proto2 descriptor the Storage Write API receives with the first append of a connection (`writerSchema`), built
 * from ctloop's column specs through the client library's own adapters (BigQuery schema → storage TableSchema →
 * DescriptorProto): STRING/JSON → string, INT64/TIMESTAMP (µs since epoch) → int64, FLOAT64 → double, BOOL → bool,
 * DATE (days since epoch) → int32; REQUIRED columns are `required` fields. A row is sent with exactly these fields.
 */
import { adapt, type protos } from '@google-cloud/bigquery-storage';
import type { ColumnSchema, Row } from '../../../../ports/warehouse.js';

export type DescriptorProto = protos.google.protobuf.IDescriptorProto;

export function writerDescriptor(columns: ColumnSchema[]): DescriptorProto {
  const storage = adapt.convertBigQuerySchemaToStorageTableSchema({
    fields: columns.map((c) => ({ name: c.name, type: c.type, mode: c.mode ?? 'NULLABLE' })),
  });
  return adapt.convertStorageSchemaToProto2Descriptor(storage, 'root');
}

/**
 * A row as the JSON encoder takes it: Dates stay Dates (encoded as µs or days), JSON columns as their text, INT64
 * values as numbers (exact up to 2^53, the range ctloop's validation admits), NULLs left out.
 */
export function encodeRow(columns: ColumnSchema[], row: Row): Record<string, string | number | boolean | Date> {
  const out: Record<string, string | number | boolean | Date> = {};
  for (const c of columns) {
    const v = row[c.name];
    if (v === null || v === undefined) continue;
    out[c.name] = c.type === 'JSON' && typeof v !== 'string' ? JSON.stringify(v) : v;
  }
  return out;
}
