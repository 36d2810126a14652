import { ValidationError } from './errors.js';

/**
 * The one strict timestamp parser of ctloop. Every timestamp that enters (feature rows, spines, CLI options, event
 * envelopes and event fields) goes through `parseInstant`, so a value is accepted or refused the same way whatever
 * the path. JavaScript's `Date` parser is never used on input: it rolls impossible dates over (2001-02-30 becomes
 * 2001-03-02, T24:00 the next day).
 *
 * Accepted (`lenient` form, for data and options):
 *   `YYYY-MM-DD`, optionally followed by `T` (or a space) and `HH:MM`, `HH:MM:SS` or `HH:MM:SS.fraction`, optionally
 *   followed by `Z`, `UTC` or an offset `±HH:MM` / `±HHMM`. Without an offset the time is UTC; a date alone is
 *   midnight UTC.
 * The `rfc3339` form (event envelopes and event fields) is RFC 3339's date-time: `T`, seconds and an offset
 *   (`Z` or `±HH:MM`) are required.
 *
 * Rules (both forms):
 * - the date must exist in the proleptic Gregorian calendar (no 2001-02-30, no 1900-02-29);
 * - hour 00–23 (T24:00 is refused: write 00:00 of the next day), minute 00–59, second 00–59;
 * - a leap second (:60) is refused: BigQuery, DuckDB and JavaScript do not represent leap seconds;
 * - offsets are −23:59 to +23:59 (RFC 3339's range);
 * - 1 to 9 fractional digits; rows keep milliseconds (JavaScript's Date), spines microseconds (DuckDB and BigQuery
 *   TIMESTAMP); further digits are truncated;
 * - the instant, after applying the offset, must lie in BigQuery's TIMESTAMP range, 0001-01-01T00:00:00Z to
 *   9999-12-31T23:59:59.999999Z (so year 0000 is refused, and so is 0001-01-01T00:00:00+01:00).
 */

/** `syntax`: the text is not a timestamp at all; otherwise it is one, with an impossible or out-of-range part. */
export type InstantResult =
  /** `micros`: the microseconds (0–999) beyond the Date's millisecond, for stores that keep them (DuckDB, BigQuery). */
  | { ok: true; date: Date; micros: number }
  | { ok: false; reason: string; syntax: boolean };
export type TimestampForm = 'lenient' | 'rfc3339';

/** BigQuery's TIMESTAMP range, in epoch milliseconds (the upper bound is the last whole millisecond). */
export const MIN_INSTANT_MS = -62_135_596_800_000; // 0001-01-01T00:00:00.000Z
export const MAX_INSTANT_MS = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

/** The lenient form's pattern (exported, with the reasons below, so the engine's SQL validator applies the same rules). */
export const LENIENT_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(?:([Zz]|[Uu][Tt][Cc])|([+-])(\d{2}):?(\d{2}))?$/;
const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:(Z)|([+-])(\d{2}):(\d{2}))$/;

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const EXAMPLE = '2001-03-01T08:00:00Z';

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const daysIn = (y: number, m: number) => (m === 2 ? (isLeap(y) ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31);
const fail = (reason: string, syntax = false): InstantResult => ({ ok: false, reason, syntax });

/**
 * Why a lenient timestamp is refused, one text per rule, in the order the rules are checked (the SQL validator of
 * file loads, shared/features/validate-sql.ts, builds the same texts from these).
 */
export const TIMESTAMP_REASONS = {
  syntax: `not an ISO-8601 timestamp (e.g. ${EXAMPLE} or 2001-03-01 08:00:00+02:00)`,
  year0: 'year 0000 does not exist; years run from 0001 to 9999',
  month: (mos: string) => `month ${mos} does not exist; months run from 01 to 12`,
  day: (ds: string, month: string, ys: string, days: string) => `day ${ds} does not exist: ${month} ${ys} has ${days} days`,
  hour24: 'hour 24 is not allowed; write 00:00 of the next day',
  hour: (hs: string) => `hour ${hs} does not exist; hours run from 00 to 23`,
  minute: (mis: string) => `minute ${mis} does not exist; minutes run from 00 to 59`,
  leapSecond: 'second 60 is a leap second, which BigQuery, DuckDB and JavaScript cannot represent; use :59',
  second: (ss: string) => `second ${ss} does not exist; seconds run from 00 to 59`,
  fraction: (n: string) => `${n} fractional digits; at most 9 are allowed`,
  offset: (sign: string, ohs: string, oms: string) => `offset ${sign}${ohs}:${oms} is out of range; offsets run from -23:59 to +23:59`,
  range: 'outside the supported range 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z (BigQuery TIMESTAMP)',
  invalid: 'not a valid time',
} as const;

/** English month names, January first (named in the reason for an impossible day). */
export const MONTH_NAMES: readonly string[] = MONTHS;

function rangeReason(ms: number): string | null {
  if (Number.isNaN(ms)) return TIMESTAMP_REASONS.invalid;
  if (ms < MIN_INSTANT_MS || ms > MAX_INSTANT_MS) return TIMESTAMP_REASONS.range;
  return null;
}

/** Check a `Date` that arrived as a value (Parquet, DuckDB): it must be valid and within the supported range. */
export function checkInstant(d: Date): InstantResult {
  const r = rangeReason(d.getTime());
  return r ? fail(r) : { ok: true, date: d, micros: 0 };
}

/** The value of the decimal digits s[from..to), or -1 when one is not a digit. */
function digitsAt(s: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * The canonical form `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (what `toISOString` writes, and what most producers send)
 * read without the regular expression and its capture strings — it runs for every event and every row on the
 * ingest path. It accepts only what the full parse accepts, with the same result; anything else (other forms,
 * years before 1000, and every refusal, whose reason the full parse gives) returns null and goes the long way.
 */
function canonicalInstant(s: string): InstantResult | null {
  const n = s.length;
  if (n < 20 || n > 30 || s.charCodeAt(n - 1) !== 90 /* Z */ || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45
    || s.charCodeAt(10) !== 84 /* T */ || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return null;
  const y = digitsAt(s, 0, 4), mo = digitsAt(s, 5, 7), d = digitsAt(s, 8, 10);
  const h = digitsAt(s, 11, 13), mi = digitsAt(s, 14, 16), sec = digitsAt(s, 17, 19);
  let ms = 0;
  let micros = 0;
  if (n > 20) {
    const digits = n - 21; // between '.' and 'Z'
    if (s.charCodeAt(19) !== 46 /* . */ || digits < 1 || digits > 9 || digitsAt(s, 20, n - 1) < 0) return null;
    for (let i = 0; i < 6; i++) {
      const c = i < digits ? s.charCodeAt(20 + i) - 48 : 0;
      if (i < 3) ms = ms * 10 + c;
      else micros = micros * 10 + c;
    }
  } else if (s.charCodeAt(19) !== 90) return null;
  if (y < 1000 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59) return null;
  const t = Date.UTC(y, mo - 1, d, h, mi, sec, ms); // years ≥ 1000 only: Date.UTC maps 0–99 to 1900–1999
  if (rangeReason(t)) return null;
  return { ok: true, date: new Date(t), micros };
}

/** Parse a timestamp text strictly. The reason says which part is wrong, for quarantine and error messages. */
export function parseInstant(text: string, form: TimestampForm = 'lenient'): InstantResult {
  const s = form === 'lenient' ? text.trim() : text;
  const canonical = canonicalInstant(s);
  if (canonical) return canonical;
  const m = (form === 'lenient' ? LENIENT_RE : RFC3339_RE).exec(s);
  if (!m) {
    return fail(form === 'lenient'
      ? TIMESTAMP_REASONS.syntax
      : `not an RFC 3339 date-time with seconds and an offset (e.g. ${EXAMPLE})`, true);
  }
  const [, ys, mos, ds, hs = '00', mis = '00', ss = '00', frac = '', z, sign, ohs, oms] = m;
  const y = Number(ys), mo = Number(mos), d = Number(ds), h = Number(hs), mi = Number(mis), sec = Number(ss);
  const R = TIMESTAMP_REASONS;
  if (y === 0) return fail(R.year0);
  if (mo < 1 || mo > 12) return fail(R.month(mos!));
  if (d < 1 || d > daysIn(y, mo)) return fail(R.day(ds!, MONTHS[mo - 1]!, ys!, String(daysIn(y, mo))));
  if (h === 24) return fail(R.hour24);
  if (h > 23) return fail(R.hour(hs));
  if (mi > 59) return fail(R.minute(mis));
  if (sec === 60) return fail(R.leapSecond);
  if (sec > 59) return fail(R.second(ss));
  if (frac.length > 9) return fail(R.fraction(String(frac.length)));
  let offsetMin = 0;
  if (!z && sign) {
    const oh = Number(ohs), om = Number(oms);
    if (oh > 23 || om > 59) return fail(R.offset(sign, ohs!, oms!));
    offsetMin = (sign === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d); // not Date.UTC, which maps years 0–99 to 1900–1999
  t.setUTCHours(h, mi, sec, Number(frac.slice(0, 3).padEnd(3, '0')));
  const ms = t.getTime() - offsetMin * 60_000;
  const r = rangeReason(ms);
  return r ? fail(r) : { ok: true, date: new Date(ms), micros: Number(frac.slice(3, 6).padEnd(3, '0')) };
}

/** A strict parse of a value that may already be a Date; anything else (numbers, objects) is not a timestamp. */
export function parseTimestampValue(v: unknown, form: TimestampForm = 'lenient'): InstantResult {
  if (v instanceof Date) return checkInstant(v);
  if (typeof v === 'string') return parseInstant(v, form);
  return fail(`a ${typeof v} is not a timestamp; use an ISO-8601 string such as ${EXAMPLE}`, true);
}

/** Convenience for options and call sites that only need yes/no: the Date, or null when the value is refused. */
export function parseTimestamp(v: unknown): Date | null {
  const r = parseTimestampValue(v);
  return r.ok ? r.date : null;
}

/** Parse a timestamp given as a command-line option; a refused value is a ValidationError naming the option. */
export function parseTimestampOption(text: string, flag: string): Date {
  const r = parseInstant(text);
  if (r.ok) return r.date;
  throw new ValidationError(`${flag} ${text}: ${r.reason}`, { hint: `use an ISO-8601 time, e.g. ${flag} ${EXAMPLE}` });
}
