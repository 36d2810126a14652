import type { FeatureView } from '../../features/definitions.js';
import type { OnlineRecord, OnlineVersion } from '../../ports/online-store.js';
import type { SqlValue } from '../../ports/warehouse.js';

/**
 * JSON-safe form of an online record, shared by the adapters that store text or documents: timestamps as epoch
 * milliseconds, non-finite floats as the strings "NaN", "Infinity", "-Infinity". Decoding goes by the view's
 * feature types, so a value reads back as the type it was written with.
 */
export type Encoded = string | number | boolean | null;

export interface EncodedRecord {
  k: (string | number)[];
  e: number;
  c: number;
  i: string;
  v: Record<string, Encoded>;
}

export function encodeValue(v: SqlValue): Encoded {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  return v;
}

export function decodeValue(v: Encoded | undefined, type: string): SqlValue {
  if (v === null || v === undefined) return null;
  if (type === 'TIMESTAMP') return new Date(v as number);
  if (type === 'FLOAT64' && typeof v === 'string') return Number(v);
  return v;
}

export function encodeRecord(r: OnlineRecord): EncodedRecord {
  const v: Record<string, Encoded> = {};
  for (const [name, value] of Object.entries(r.values)) v[name] = encodeValue(value);
  return { k: r.key, e: r.eventTime.getTime(), c: r.createdTime.getTime(), i: r.ingestId, v };
}

const quotedNames = new Map<string, string>();

/**
 * `JSON.stringify(encodeRecord(r))`, the same text, written directly: `keyJson` is the record's `entityKey`
 * (JSON of its key), which the caller has already computed. The embedded store writes one line per record it
 * ingests: this skips the intermediate objects and the key's second serialisation.
 */
export function encodeLine(keyJson: string, r: OnlineRecord): string {
  let v = '';
  for (const name in r.values) {
    let q = quotedNames.get(name);
    if (q === undefined) {
      q = `${JSON.stringify(name)}:`;
      if (quotedNames.size < 10_000) quotedNames.set(name, q);
    }
    const x = r.values[name] as SqlValue | undefined;
    let t: string;
    if (x === null) t = 'null';
    else if (typeof x === 'number') t = Number.isFinite(x) ? String(x) : `"${encodeValue(x) as string}"`;
    else if (typeof x === 'boolean') t = x ? 'true' : 'false';
    else if (typeof x === 'string') t = JSON.stringify(x);
    else if (x === undefined) continue; // JSON.stringify leaves undefined members out
    else t = JSON.stringify(encodeValue(x));
    v = v === '' ? `${q}${t}` : `${v},${q}${t}`;
  }
  return `{"k":${keyJson},"e":${jsonNumber(r.eventTime.getTime())},"c":${jsonNumber(r.createdTime.getTime())},"i":${JSON.stringify(r.ingestId)},"v":{${v}}}`;
}

/** A number as JSON.stringify writes it (an invalid Date's NaN time is null). */
function jsonNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

export function decodeRecord(view: FeatureView, e: EncodedRecord): OnlineRecord {
  const values: Record<string, SqlValue> = {};
  for (const f of view.features) values[f.name] = decodeValue(e.v[f.name], f.type);
  return { key: e.k, eventTime: new Date(e.e), createdTime: new Date(e.c), ingestId: e.i, values };
}

/** Epoch milliseconds as fixed-width text that sorts like the numbers (the whole Date range, before 1970 too). */
function sortableMs(ms: number): string {
  return String(ms + 8_640_000_000_000_000).padStart(17, '0');
}

/** A version as one string whose byte order is `compareVersions`' order (for stores that compare bytes). */
export function versionText(v: OnlineVersion): string {
  return `${sortableMs(v.eventTime.getTime())}.${sortableMs(v.createdTime.getTime())}.${v.ingestId}`;
}
