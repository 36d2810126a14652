import type { Row, SqlValue } from '../ports/warehouse.js';
import type { FeatureType, FeatureView } from './definitions.js';
import { parseTimestamp, parseTimestampValue } from '../time.js';

/**
 * Row validation against a feature view. Pure and fast (the ingest hot path): each raw row becomes either a typed
 * row for the offline table or a list of reasons. Coercions are deliberately narrow and the same for every source
 * (JSON events, CSV strings, Parquet values), so a value means the same thing whatever way it arrived.
 */

export type Coerced = { ok: true; value: SqlValue } | { ok: false; reason: string };

const INT_RE = /^[-+]?\d+$/;
const FLOAT_RE = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function describe(v: unknown): string {
  const s = v instanceof Date ? (Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString()) : typeof v === 'string' || typeof v === 'object' ? JSON.stringify(v) : String(v);
  return s.length > DESCRIBE_MAX ? `${s.slice(0, DESCRIBE_KEEP)}...` : s;
}

const FLOAT64_MAX = '±1.7976931348623157e308';

/**
 * Reasons for refused values, given the value as `describe` shows it. Exported so the engine's SQL validator
 * (validate-sql.ts) builds the very same texts.
 */
export const VALUE_REASONS = {
  expected: (type: string, shown: string) => `expected ${type}, got ${shown}`,
  intRange: (shown: string) => `INT64 value ${shown} is outside ±2^53 (exact integers only)`,
  overflow: (shown: string) => `FLOAT64 value ${shown} overflows (beyond ${FLOAT64_MAX}); write an explicit infinity as "inf" or "-inf"`,
  notTimestamp: (shown: string) => `expected an ISO-8601 timestamp, got ${shown}`,
  impossibleTimestamp: (shown: string, reason: string) => `impossible timestamp ${shown}: ${reason}`,
  keyRequired: 'join key is required',
  timeRequired: 'event time is required',
} as const;
/** How many characters of a refused value a reason shows (longer values are cut to `DESCRIBE_KEEP` and "..."). */
export const DESCRIBE_MAX = 60;
export const DESCRIBE_KEEP = 57;
/** Integers and floats as the validator reads them from text (exported for the SQL validator). */
export const INT_PATTERN = INT_RE.source;
export const FLOAT_PATTERN = FLOAT_RE.source;
const overflow = VALUE_REASONS.overflow;
const nonFinite = (shown: string) => `FLOAT64 number ${shown} is not finite (a number beyond ${FLOAT64_MAX} overflows to Infinity); write an explicit infinity or NaN as the string "inf", "-inf" or "nan"`;

/** Timestamps are parsed by shared/time.ts, the one strict parser (re-exported for existing callers). */
export { parseTimestamp };

export function coerce(v: unknown, type: FeatureType | 'STRING' | 'INT64'): Coerced {
  if (v === null || v === undefined) return { ok: true, value: null };
  switch (type) {
    case 'STRING':
      if (typeof v === 'string') return { ok: true, value: v };
      if (typeof v === 'number' && Number.isFinite(v)) {
        // A JSON number beyond ±2^53 has already lost digits (12345678901234567891 reads as ...7000): refuse it
        // rather than store a different id.
        if (Number.isInteger(v) && !Number.isSafeInteger(v)) return { ok: false, reason: `number ${describe(v)} is beyond ±2^53 and has lost digits in JSON; send it as a string` };
        return { ok: true, value: String(v) };
      }
      if (typeof v === 'boolean') return { ok: true, value: String(v) };
      return { ok: false, reason: `expected STRING, got ${describe(v)}` };
    case 'INT64': {
      if (typeof v === 'number' && Number.isSafeInteger(v)) return { ok: true, value: v };
      if (typeof v === 'number' && Number.isInteger(v)) return { ok: false, reason: `INT64 value ${describe(v)} is outside ±2^53 (exact integers only; a JSON number this large has already lost digits)` };
      if (typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)) return { ok: true, value: Number(v) };
      if (typeof v === 'bigint') return { ok: false, reason: `INT64 value ${v.toString()} is outside ±2^53 (exact integers only)` };
      if (typeof v === 'string' && INT_RE.test(v.trim())) {
        const n = Number(v.trim());
        if (Number.isSafeInteger(n)) return { ok: true, value: n };
        return { ok: false, reason: VALUE_REASONS.intRange(describe(v)) };
      }
      return { ok: false, reason: VALUE_REASONS.expected('INT64', describe(v)) };
    }
    case 'FLOAT64': {
      // Explicit non-finite values are the strings inf, +inf, -inf, infinity and nan (any case), as BigQuery reads
      // them. A numeric literal too large for a double (1e400) is an overflow, not an infinity: refused. A JSON
      // number has no explicit infinity either, so a non-finite number can only be an overflow (JSON.parse turns
      // 1e400 into Infinity) and is refused too. (Parquet's explicit infinities reach here as strings.)
      if (typeof v === 'number') return Number.isFinite(v) ? { ok: true, value: v } : { ok: false, reason: nonFinite(describe(v)) };
      if (typeof v === 'bigint') {
        const n = Number(v);
        return Number.isFinite(n) ? { ok: true, value: n } : { ok: false, reason: overflow(v.toString()) };
      }
      if (typeof v === 'string') {
        const t = v.trim();
        if (FLOAT_RE.test(t)) {
          const n = Number(t);
          return Number.isFinite(n) ? { ok: true, value: n } : { ok: false, reason: overflow(describe(v)) };
        }
        if (/^[-+]?nan$/i.test(t)) return { ok: true, value: Number.NaN };
        if (/^\+?inf(inity)?$/i.test(t)) return { ok: true, value: Number.POSITIVE_INFINITY };
        if (/^-inf(inity)?$/i.test(t)) return { ok: true, value: Number.NEGATIVE_INFINITY };
      }
      return { ok: false, reason: VALUE_REASONS.expected('FLOAT64', describe(v)) };
    }
    case 'BOOL':
      if (typeof v === 'boolean') return { ok: true, value: v };
      if (typeof v === 'string' && /^(true|false)$/i.test(v.trim())) return { ok: true, value: v.trim().toLowerCase() === 'true' };
      if (v === 0 || v === 1) return { ok: true, value: v === 1 };
      return { ok: false, reason: VALUE_REASONS.expected('BOOL', describe(v)) };
    case 'TIMESTAMP': {
      const r = parseTimestampValue(v);
      if (r.ok) return { ok: true, value: r.date };
      return { ok: false, reason: r.syntax ? VALUE_REASONS.notTimestamp(describe(v)) : VALUE_REASONS.impossibleTimestamp(describe(v), r.reason) };
    }
  }
}

/** A source line that could not be parsed (e.g. malformed JSON): quarantined with its text. */
export class UnparsableLine {
  constructor(readonly text: string, readonly error: string) {}
  toJSON(): string {
    return this.text;
  }
}

export type Validated = { ok: true; row: Row } | { ok: false; reasons: string[] };

/** True when `coerce(v, type)` would return `v` itself (null included): the hot path's test, no allocation. */
function plainValue(v: unknown, type: FeatureType | 'STRING' | 'INT64'): boolean {
  switch (type) {
    case 'STRING': return typeof v === 'string' || v === null;
    case 'INT64': return Number.isSafeInteger(v) || v === null;
    case 'FLOAT64': return (typeof v === 'number' && Number.isFinite(v)) || v === null;
    case 'BOOL': return typeof v === 'boolean' || v === null;
    default: return false;
  }
}

/** A compiled validator for one view: the shape is checked once, then each row is a tight loop. */
export function rowValidator(view: FeatureView): (raw: unknown, createdFallback: Date) => Validated {
  const keys = view.entity.joinKeys;
  const known = new Set<string>([...keys.map((k) => k.name), view.timestampField, ...(view.createdTimestampField ? [view.createdTimestampField] : []), ...view.features.map((f) => f.name)]);
  return (raw, createdFallback) => {
    if (raw instanceof UnparsableLine) return { ok: false, reasons: [`unparsable line: ${raw.error}`] };
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, reasons: ['row is not an object'] };
    const r = raw as Record<string, unknown>;
    const out: Row = {};
    const reasons: string[] = [];
    for (const k of keys) {
      const kv = r[k.name];
      if (kv !== null && kv !== '' && plainValue(kv, k.type)) {
        out[k.name] = kv as SqlValue;
        continue;
      }
      const c = coerce(kv, k.type);
      if (!c.ok) reasons.push(`${k.name}: ${c.reason}`);
      else if (c.value === null || c.value === '') reasons.push(`${k.name}: ${VALUE_REASONS.keyRequired}`);
      else out[k.name] = c.value;
    }
    const ts = r[view.timestampField];
    if (ts === null || ts === undefined || ts === '') reasons.push(`${view.timestampField}: ${VALUE_REASONS.timeRequired}`);
    else {
      const c = coerce(ts, 'TIMESTAMP');
      if (c.ok) out[view.timestampField] = c.value;
      else reasons.push(`${view.timestampField}: ${c.reason}`);
    }
    let created: Date = createdFallback;
    if (view.createdTimestampField) {
      const cv = r[view.createdTimestampField];
      if (cv !== null && cv !== undefined && cv !== '') {
        const c = coerce(cv, 'TIMESTAMP');
        if (c.ok) created = c.value as Date;
        else reasons.push(`${view.createdTimestampField}: ${c.reason}`);
      }
    }
    for (const f of view.features) {
      const v = r[f.name];
      // The common case of each type (a JSON value of the type itself) without a result object; the rest by coerce.
      if (plainValue(v, f.type)) {
        out[f.name] = v as SqlValue;
        continue;
      }
      const c = coerce(v === '' && f.type !== 'STRING' ? null : v, f.type);
      if (c.ok) out[f.name] = c.value;
      else reasons.push(`${f.name}: ${c.reason}`);
    }
    if (view.onUnknownFields === 'reject') {
      for (const k of Object.keys(r)) if (!known.has(k)) reasons.push(`${k}: not a field of view ${view.name} (set onUnknownFields: ignore to drop unknown fields)`);
    }
    if (reasons.length > 0) return { ok: false, reasons };
    out._created_ts = created;
    return { ok: true, row: out };
  };
}
