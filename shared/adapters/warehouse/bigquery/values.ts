import type { ColumnType, SqlValue } from '../../../ports/warehouse.js';

/** A field of a BigQuery schema (tables.get, query responses). Types may be legacy names (INTEGER, FLOAT, BOOLEAN). */
export interface BqField {
  name: string;
  type: string;
  mode?: string;
  fields?: BqField[];
  description?: string;
}

const LEGACY: Record<string, ColumnType> = {
  INTEGER: 'INT64', INT64: 'INT64', FLOAT: 'FLOAT64', FLOAT64: 'FLOAT64', BOOLEAN: 'BOOL', BOOL: 'BOOL', STRING: 'STRING',
  TIMESTAMP: 'TIMESTAMP', DATE: 'DATE', JSON: 'JSON',
};

export function columnType(bqType: string): ColumnType | undefined {
  return LEGACY[bqType.toUpperCase()];
}

type Cell = { v: unknown };
export type Value = SqlValue | Value[] | { [k: string]: Value };

/**
 * One cell of a jobs.query / getQueryResults response (`f`/`v` format) → port value. TIMESTAMP arrives as int64
 * microseconds (formatOptions.useInt64Timestamp) → Date; INT64 → number; FLOAT64 → number (NaN/±Infinity too).
 */
export function fromCell(raw: unknown, field: BqField): Value {
  if (field.mode === 'REPEATED') {
    const items = (raw as Cell[] | null) ?? [];
    return items.map((c) => fromCell(c.v, { ...field, mode: 'NULLABLE' }));
  }
  if (raw === null || raw === undefined) return null;
  const t = field.type.toUpperCase();
  if (t === 'RECORD' || t === 'STRUCT') {
    const cells = (raw as { f: Cell[] }).f;
    return Object.fromEntries((field.fields ?? []).map((f, i) => [f.name, fromCell(cells[i]?.v, f)]));
  }
  const s = String(raw);
  switch (t) {
    case 'TIMESTAMP':
      // int64 micros, or (without useInt64Timestamp) float seconds
      return /^-?\d+$/.test(s) ? new Date(Number(BigInt(s) / 1000n)) : new Date(Number(s) * 1000);
    case 'INTEGER': case 'INT64':
      return Number(s);
    case 'FLOAT': case 'FLOAT64': case 'NUMERIC': case 'BIGNUMERIC':
      return s === 'NaN' ? NaN : s === 'Infinity' ? Infinity : s === '-Infinity' ? -Infinity : Number(s);
    case 'BOOLEAN': case 'BOOL':
      return s === 'true';
    default:
      return s;
  }
}

export function rowsFromResponse(schema: { fields?: BqField[] } | undefined, rows: { f: Cell[] }[] | undefined): Record<string, Value>[] {
  const fields = schema?.fields ?? [];
  return (rows ?? []).map((r) => Object.fromEntries(fields.map((f, i) => [f.name, fromCell(r.f[i]?.v, f)])));
}
