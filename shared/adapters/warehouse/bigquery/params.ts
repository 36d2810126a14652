import { ValidationError } from '../../../errors.js';
import type { ColumnType, ParamType, Params } from '../../../ports/warehouse.js';

/** BigQuery REST QueryParameterType / QueryParameterValue (https://cloud.google.com/bigquery/docs/reference/rest/v2/QueryParameter). */
export interface BqParamType {
  type: string;
  arrayType?: BqParamType;
  structTypes?: { name: string; type: BqParamType }[];
}
export interface BqParamValue {
  value?: string | null;
  arrayValues?: BqParamValue[];
  structValues?: Record<string, BqParamValue>;
}
export interface BqQueryParameter {
  name: string;
  parameterType: BqParamType;
  parameterValue: BqParamValue;
}

export function paramType(t: ParamType): BqParamType {
  if (typeof t === 'string') return { type: t };
  if ('array' in t) return { type: 'ARRAY', arrayType: paramType(t.array) };
  return { type: 'STRUCT', structTypes: t.struct.map((c) => ({ name: c.name, type: paramType(c.type) })) };
}

function scalarText(v: unknown, t: ColumnType, path: string): string {
  const bad = (): never => {
    throw new ValidationError(`parameter ${path}: ${JSON.stringify(v)} is not a valid ${t}`, { hint: `pass a ${t} value or null` });
  };
  switch (t) {
    case 'TIMESTAMP': {
      const d = v instanceof Date ? v : typeof v === 'string' || typeof v === 'number' ? new Date(v) : bad();
      if (Number.isNaN(d.getTime())) bad();
      return d.toISOString();
    }
    case 'DATE':
      if (v instanceof Date) return v.toISOString().slice(0, 10);
      if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v)) return v.slice(0, 10);
      return bad();
    case 'INT64':
      if ((typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint') return String(v);
      if (typeof v === 'string' && /^-?\d+$/.test(v)) return v;
      return bad();
    case 'FLOAT64':
      if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : String(v);
      if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return v;
      return bad();
    case 'BOOL':
      if (typeof v === 'boolean') return v ? 'true' : 'false';
      return bad();
    case 'JSON':
      return typeof v === 'string' ? v : JSON.stringify(v);
    case 'STRING':
      return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : bad();
  }
}

export function paramValue(v: unknown, t: ParamType, path: string): BqParamValue {
  if (v === null || v === undefined) return { value: null };
  if (typeof t === 'string') return { value: scalarText(v, t, path) };
  if ('array' in t) {
    if (!Array.isArray(v)) throw new ValidationError(`parameter ${path} must be an array`, { hint: 'pass an array value' });
    return { arrayValues: v.map((x, i) => paramValue(x, t.array, `${path}[${i}]`)) };
  }
  const o = v as Record<string, unknown>;
  return { structValues: Object.fromEntries(t.struct.map((c) => [c.name, paramValue(o[c.name], c.type, `${path}.${c.name}`)])) };
}

/** Typed named parameters in BigQuery's REST shape. */
export function queryParameters(params: Params | undefined): BqQueryParameter[] {
  return Object.entries(params ?? {}).map(([name, p]) => ({ name, parameterType: paramType(p.type), parameterValue: paramValue(p.value, p.type, name) }));
}
