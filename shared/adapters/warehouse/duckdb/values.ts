import {
  BIGINT, BOOLEAN, DATE, DOUBLE, LIST, STRUCT, TIMESTAMP, VARCHAR,
  listValue, structValue, timestampValue, dateValue,
  type DuckDBType, type DuckDBValue,
} from '@duckdb/node-api';
import type { ColumnType, ParamType, SqlValue } from '../../../ports/warehouse.js';

export function duckType(t: ParamType): DuckDBType {
  if (typeof t === 'string') {
    switch (t) {
      case 'STRING': case 'JSON': return VARCHAR;
      case 'INT64': return BIGINT;
      case 'FLOAT64': return DOUBLE;
      case 'BOOL': return BOOLEAN;
      case 'TIMESTAMP': return TIMESTAMP;
      case 'DATE': return DATE;
    }
  }
  if ('array' in t) return LIST(duckType(t.array));
  return STRUCT(Object.fromEntries(t.struct.map((c) => [c.name, duckType(c.type)])));
}

const MS_PER_DAY = 86_400_000;

/** JS value → DuckDB value for binding; `t` decides the representation. */
export function toDuck(v: unknown, t: ParamType): DuckDBValue {
  if (v === null || v === undefined) return null;
  if (typeof t === 'string') {
    switch (t) {
      case 'TIMESTAMP': {
        const d = v instanceof Date ? v : new Date(v as string | number);
        return timestampValue(BigInt(d.getTime()) * 1000n);
      }
      case 'DATE': {
        const d = v instanceof Date ? v : new Date(`${String(v).slice(0, 10)}T00:00:00Z`);
        return dateValue(Math.floor(d.getTime() / MS_PER_DAY));
      }
      case 'INT64': return BigInt(v as number);
      case 'FLOAT64': return Number(v);
      case 'BOOL': return Boolean(v);
      case 'JSON': return typeof v === 'string' ? v : JSON.stringify(v);
      default: return String(v);
    }
  }
  if ('array' in t) return listValue((v as unknown[]).map((x) => toDuck(x, t.array)));
  const o = v as Record<string, unknown>;
  return structValue(Object.fromEntries(t.struct.map((c) => [c.name, toDuck(o[c.name], c.type)])));
}

/** JS-converted DuckDB value (getRowObjectsJS) → port value. */
export function fromDuck(v: unknown): SqlValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v;
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? Number(x) : x)) as SqlValue;
}

export function columnTypeFromDuck(name: string): ColumnType {
  const n = name.toUpperCase();
  if (n === 'VARCHAR' || n.startsWith('VARCHAR') || n === 'UUID') return 'STRING';
  if (['BIGINT', 'INTEGER', 'SMALLINT', 'TINYINT', 'UBIGINT', 'UINTEGER', 'USMALLINT', 'UTINYINT', 'HUGEINT'].includes(n)) return 'INT64';
  if (n === 'DOUBLE' || n === 'FLOAT' || n.startsWith('DECIMAL') || n === 'REAL') return 'FLOAT64';
  if (n === 'BOOLEAN') return 'BOOL';
  if (n.startsWith('TIMESTAMP')) return 'TIMESTAMP';
  if (n === 'DATE') return 'DATE';
  if (n === 'JSON') return 'JSON';
  return 'STRING';
}
