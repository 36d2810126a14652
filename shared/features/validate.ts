import type { Row, SqlValue } from '../ports/warehouse.js';
import type { FeatureType, FeatureView } from './definitions.js';

/**
 * Row validation against a feature view. Pure and fast (the ingest hot path): each raw row becomes either a typed
 * row for the offline table or a list of reasons. Coercions are deliberately narrow and the same for every source
 * (JSON events, CSV strings, Parquet values), so a value means the same thing whatever way it arrived.
 */

export type Coerced = { ok: true; value: SqlValue } | { ok: false; reason: string };

const INT_RE = /^[-+]?\d+$/;
const FLOAT_RE = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
// ISO-8601 date or date-time; a time without offset is taken as UTC.
const TS_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?\s*(Z|[+-]\d{2}:?\d{2}|UTC)?$/i;

function describe(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

export function parseTimestamp(v: unknown): Date | null {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v;
  if (typeof v !== 'string') return null;
  const m = TS_RE.exec(v.trim());
  if (!m) return null;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', off] = m;
  let iso = `${y}-${mo}-${d}T${h}:${mi}:${s}${frac ? frac.slice(0, 4) : ''}`;
  if (!off || /^(z|utc)$/i.test(off)) iso += 'Z';
  else iso += off.length === 5 ? `${off.slice(0, 3)}:${off.slice(3)}` : off;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return null;
  // Reject impossible calendar dates that Date silently rolls over (2001-02-30).
  if (!off && date.getUTCDate() !== Number(d)) return null;
  return date;
}

export function coerce(v: unknown, type: FeatureType | 'STRING' | 'INT64'): Coerced {
  if (v === null || v === undefined) return { ok: true, value: null };
  switch (type) {
    case 'STRING':
      if (typeof v === 'string') return { ok: true, value: v };
      if (typeof v === 'number' && Number.isFinite(v)) return { ok: true, value: String(v) };
      if (typeof v === 'boolean') return { ok: true, value: String(v) };
      return { ok: false, reason: `expected STRING, got ${describe(v)}` };
    case 'INT64': {
      if (typeof v === 'number' && Number.isSafeInteger(v)) return { ok: true, value: v };
      if (typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)) return { ok: true, value: Number(v) };
      if (typeof v === 'string' && INT_RE.test(v.trim())) {
        const n = Number(v.trim());
        if (Number.isSafeInteger(n)) return { ok: true, value: n };
        return { ok: false, reason: `INT64 value ${describe(v)} is outside ±2^53 (exact integers only)` };
      }
      return { ok: false, reason: `expected INT64, got ${describe(v)}` };
    }
    case 'FLOAT64': {
      if (typeof v === 'number') return { ok: true, value: v };
      if (typeof v === 'bigint') return { ok: true, value: Number(v) };
      if (typeof v === 'string') {
        const t = v.trim();
        if (FLOAT_RE.test(t)) return { ok: true, value: Number(t) };
        if (/^nan$/i.test(t)) return { ok: true, value: Number.NaN };
        if (/^\+?inf(inity)?$/i.test(t)) return { ok: true, value: Number.POSITIVE_INFINITY };
        if (/^-inf(inity)?$/i.test(t)) return { ok: true, value: Number.NEGATIVE_INFINITY };
      }
      return { ok: false, reason: `expected FLOAT64, got ${describe(v)}` };
    }
    case 'BOOL':
      if (typeof v === 'boolean') return { ok: true, value: v };
      if (typeof v === 'string' && /^(true|false)$/i.test(v.trim())) return { ok: true, value: v.trim().toLowerCase() === 'true' };
      if (v === 0 || v === 1) return { ok: true, value: v === 1 };
      return { ok: false, reason: `expected BOOL, got ${describe(v)}` };
    case 'TIMESTAMP': {
      const d = parseTimestamp(v);
      return d ? { ok: true, value: d } : { ok: false, reason: `expected an ISO-8601 timestamp, got ${describe(v)}` };
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
      const c = coerce(r[k.name], k.type);
      if (!c.ok) reasons.push(`${k.name}: ${c.reason}`);
      else if (c.value === null || c.value === '') reasons.push(`${k.name}: join key is required`);
      else out[k.name] = c.value;
    }
    const ts = r[view.timestampField];
    if (ts === null || ts === undefined || ts === '') reasons.push(`${view.timestampField}: event time is required`);
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
