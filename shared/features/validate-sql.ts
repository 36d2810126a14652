import { LENIENT_RE, MAX_INSTANT_MS, MIN_INSTANT_MS, MONTH_NAMES, TIMESTAMP_REASONS as TR } from '../time.js';
import type { FeatureType, FeatureView } from './definitions.js';
import { DUCKDB_RULES, type RuleDialect } from './rule-dialect.js';
import { DESCRIBE_KEEP, DESCRIBE_MAX, FLOAT_PATTERN, INT_PATTERN, VALUE_REASONS as VR } from './validate.js';

/**
 * The view's row rules (validate.ts) as DuckDB SQL over a file's columns: one validator's semantics, two executions.
 * Every text a reason holds comes from the same functions validate.ts and time.ts use (VALUE_REASONS,
 * TIMESTAMP_REASONS), given SQL expressions instead of values; test/unit/validate-sql.test.ts runs both executions
 * over a corpus of good and bad values and requires the same values and reasons.
 *
 * Sources: text columns (CSV, and VARCHAR columns of Parquet) follow the text rules exactly, reasons included.
 * Typed Parquet columns are classified exactly (good or bad, and the stored value) for the types `typedSupported`
 * accepts; their reasons are only a marker, because the engine path hands a Parquet file with bad rows to the
 * row-by-row path (which names JavaScript's renderings of numbers and dates).
 *
 * Dialects: the text rules take an optional `RuleDialect` (rule-dialect.ts); without one they write DuckDB SQL,
 * with `BIGQUERY_RULES` GoogleSQL of the same meaning (engine-load-bigquery.ts, checked against the row-by-row path
 * in test/integration/engine-load-bigquery.test.ts). Typed Parquet rules for BigQuery: typed-rules-bigquery.ts.
 */

const MAX_SAFE = '9007199254740991';
/** JavaScript's `trim()` and `\s`: these characters, not only the space. */
const JS_SPACE = '\t\n\u000b\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff';
const RE2_SPACE = '[\\t\\n\\x{0B}\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}]';
/** A reason for a typed Parquet value that is refused (the row-by-row path gives the real text). */
export const TYPED_BAD = 'refused typed value';

export const sqlLit = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** A JS regex source as RE2 text: `\s` is JavaScript's whitespace; `\d` is ASCII in both. */
function re2Text(source: string, flags = ''): string {
  return `${flags}${source.replace(/\\s/g, RE2_SPACE)}`;
}

/** A JS regex source as an RE2 literal (DuckDB, or the given dialect). */
function re2(source: string, flags = '', rd: RuleDialect = DUCKDB_RULES): string {
  return rd.lit(re2Text(source, flags));
}

/** The text `fn` builds, as a SQL concatenation of its literal parts and the given SQL expressions. */
export function sqlText(fn: (...args: string[]) => string, ...exprs: string[]): string {
  return sqlTextIn(DUCKDB_RULES, fn, ...exprs);
}

/** `sqlText` with the literals of a dialect (`||` concatenates strings in DuckDB and GoogleSQL alike). */
export function sqlTextIn(rd: RuleDialect, fn: (...args: string[]) => string, ...exprs: string[]): string {
  const parts = fn(...exprs.map((_, i) => `\u0001${i}\u0001`)).split(/\u0001(\d+)\u0001/);
  const out = parts.map((p, i) => (i % 2 === 0 ? (p === '' ? null : rd.lit(p)) : `(${exprs[Number(p)]})`)).filter((x): x is string => x !== null);
  return out.length === 0 ? "''" : out.join(' || ');
}

/** validate.ts `describe` of a string: its JSON, cut at 60 characters. */
export function describeSql(v: string, rd: RuleDialect = DUCKDB_RULES): string {
  const j = rd.json(v);
  return `CASE WHEN length(${j}) > ${DESCRIBE_MAX} THEN ${rd.prefix(j, DESCRIBE_KEEP)} || '...' ELSE ${j} END`;
}

/**
 * Values whose reason text the SQL could render differently from JavaScript: characters beyond the BMP (JavaScript
 * counts them as two when cutting a long value). A file with such a bad value goes to the row-by-row path.
 */
export function exoticSql(v: string, rd: RuleDialect = DUCKDB_RULES): string {
  if (rd.name === 'duckdb') return `regexp_matches(${v}, '[\\x{10000}-\\x{10FFFF}]')`;
  // BigQuery also renders JSON itself (rule-dialect.ts): control characters JSON.stringify writes as \u00XX are exotic there.
  return rd.matches(v, rd.lit('[\\x{10000}-\\x{10FFFF}\\x00-\\x07\\x0B\\x0E-\\x1F]'));
}

/** One field of the view: the value to store and the reason it is refused (NULL when accepted). */
export interface FieldSql {
  /** SQL computed once per row, before `value` and `reason` (aliases given by `name`). */
  prepare: { name: string; sql: string }[];
  value: string;
  reason: string;
  /**
   * A cheap test for the common well-formed value: where `ok` is TRUE the value is accepted and `value` is what
   * the full rules store (test/integration/validate-sql-fast.test.ts checks both against them). Where it is not,
   * the full rules run (the engine skips them for rows every field of which passes).
   */
  fast?: Fast;
}

/** See `FieldSql.fast`; `unchecked` equals `value` wherever `ok` holds, without testing the shape again. */
export interface Fast {
  ok: string;
  value: string;
  unchecked: string;
}

type Role = 'key' | 'time' | 'created' | 'feature';

/** Text (a CSV field, a Parquet VARCHAR) as the view's type, as `coerce` reads a string. */
export function textField(src: string | null, type: FeatureType, role: Role, alias: string, rd: RuleDialect = DUCKDB_RULES): FieldSql {
  if (src === null) return { prepare: [], value: 'NULL', reason: 'NULL' };
  const sqlLit = rd.lit;
  const sqlText = (fn: (...args: string[]) => string, ...exprs: string[]) => sqlTextIn(rd, fn, ...exprs);
  // A feature's empty text is NULL unless the feature is a STRING; keys and times keep it (and refuse it).
  const v = role === 'feature' && type !== 'STRING' ? `NULLIF(${src}, '')` : src;
  const t = rd.ident(`${alias}_t`);
  const shown = describeSql(v, rd);
  const prepare = [{ name: `${alias}_t`, sql: `trim(${v}, ${sqlLit(JS_SPACE)})` }];
  let value: string;
  let reason: string;
  let fast: Fast;
  switch (type) {
    case 'STRING':
      value = v;
      reason = 'NULL';
      fast = { ok: 'true', value: v, unchecked: v };
      break;
    case 'INT64': {
      // Digits only (INT_RE), then exact: leading zeros dropped so any length reads, ±(2^53 − 1) at most.
      prepare.push({ name: `${alias}_n`, sql: rd.exactInt(t, rd.matches(t, re2(INT_PATTERN, '', rd)), MAX_SAFE) });
      const n = rd.ident(`${alias}_n`);
      value = `CASE WHEN abs(${n}) <= ${MAX_SAFE} THEN ${rd.cast(n, 'BIGINT')} END`;
      reason = `CASE WHEN ${v} IS NULL THEN NULL WHEN ${n} IS NULL THEN ${sqlText((s) => VR.expected('INT64', s), shown)} WHEN abs(${n}) > ${MAX_SAFE} THEN ${sqlText(VR.intRange, shown)} END`;
      fast = shaped(v, `regexp_full_match(${v}, ${sqlLit(FAST_INT)})`, `TRY_CAST(${v} AS BIGINT)`);
      break;
    }
    case 'FLOAT64': {
      // FLOAT_RE, read as the nearest double (both engines round correctly); beyond ±max it overflows. The explicit
      // non-finite spellings are inf, +inf, -inf, infinity and nan in any case.
      prepare.push({ name: `${alias}_f`, sql: rd.matches(t, re2(FLOAT_PATTERN, '', rd)) });
      prepare.push({ name: `${alias}_d`, sql: `CASE WHEN ${rd.ident(`${alias}_f`)} THEN ${rd.tryCast(t, 'DOUBLE')} WHEN ${rd.matches(t, re2('^[-+]?nan$', '(?i)', rd))} THEN ${rd.double('nan')} WHEN ${rd.matches(t, re2('^\\+?inf(inity)?$', '(?i)', rd))} THEN ${rd.double('inf')} WHEN ${rd.matches(t, re2('^-inf(inity)?$', '(?i)', rd))} THEN ${rd.double('-inf')} END` });
      const f = rd.ident(`${alias}_f`);
      const d = rd.ident(`${alias}_d`);
      value = `CASE WHEN ${f} AND NOT ${rd.isFinite(d)} THEN NULL ELSE ${d} END`;
      reason = `CASE WHEN ${v} IS NULL THEN NULL WHEN ${f} THEN CASE WHEN ${d} IS NULL OR NOT ${rd.isFinite(d)} THEN ${sqlText(VR.overflow, shown)} END WHEN ${d} IS NULL THEN ${sqlText((s) => VR.expected('FLOAT64', s), shown)} END`;
      fast = shaped(v, `regexp_full_match(${v}, ${sqlLit(FAST_FLOAT)})`, `TRY_CAST(${v} AS DOUBLE)`);
      break;
    }
    case 'BOOL':
      value = `CASE WHEN ${rd.matches(t, re2('^(true|false)$', '(?i)', rd))} THEN lower(${t}) = 'true' END`;
      reason = `CASE WHEN ${v} IS NOT NULL AND NOT ${rd.matches(t, re2('^(true|false)$', '(?i)', rd))} THEN ${sqlText((s) => VR.expected('BOOL', s), shown)} END`;
      fast = shaped(v, `${v} IN ('true', 'false', 'TRUE', 'FALSE', 'True', 'False')`, `${v} IN ('true', 'TRUE', 'True')`);
      break;
    case 'TIMESTAMP': {
      const ts = timestampText(t, alias, rd);
      prepare.push(...ts.prepare);
      value = ts.value;
      reason = `CASE WHEN ${v} IS NULL THEN NULL WHEN ${ts.syntaxBad} THEN ${sqlText(VR.notTimestamp, shown)} WHEN ${ts.reason} IS NOT NULL THEN ${sqlText(VR.impossibleTimestamp, shown, ts.reason)} END`;
      // The shape rules out what DuckDB's cast accepts and the rules refuse (year 0, hour 24, second 60, offsets,
      // sub-millisecond digits); the cast is NULL for a day beyond its month, which the full rules then name.
      const cast = `TRY_CAST(CASE WHEN regexp_full_match(${v}, ${sqlLit(FAST_TIMESTAMP)}) THEN ${v} END AS TIMESTAMP)`;
      fast = { ok: `(${v} IS NULL OR ${cast} IS NOT NULL)`, value: cast, unchecked: `TRY_CAST(${v} AS TIMESTAMP)` };
      break;
    }
  }
  // The fast shapes are DuckDB SQL, used by the DuckDB engine path only.
  return withRole({ prepare, value, reason, ...(rd === DUCKDB_RULES ? { fast } : {}) }, v, type, role, rd);
}

/**
 * Fast shapes (RE2, matched whole): plain decimal integers of at most 15 digits (within ±2^53), plain decimals of at
 * most 300 integer digits (finite), and `YYYY-MM-DD[T ]hh:mm:ss[.fff][Z]` with every part in range but the day.
 */
const FAST_INT = '-?[0-9]{1,15}';
const FAST_FLOAT = '-?[0-9]{1,300}(\\.[0-9]*)?';
const FAST_TIMESTAMP = '(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,3})?Z?';

/** A value accepted when NULL (a feature's empty text) or of the fast shape, stored as `value` then. */
function shaped(v: string, shape: string, value: string): Fast {
  return { ok: `(${v} IS NULL OR ${shape})`, value: `CASE WHEN ${shape} THEN ${value} END`, unchecked: value };
}

/** Required keys and event time, and the reason's field prefix. */
function withRole(f: FieldSql, v: string, type: FeatureType | 'STRING', role: Role, rd: RuleDialect = DUCKDB_RULES): FieldSql {
  const sqlLit = rd.lit;
  const fast = f.fast;
  if (role === 'key') {
    const empty = type === 'STRING' ? `${v} IS NULL OR ${v} = ''` : `${v} IS NULL`;
    return { ...f, reason: `CASE WHEN ${empty} THEN ${sqlLit(VR.keyRequired)} ELSE ${f.reason} END`, ...(fast ? { fast: { ...fast, ok: `(NOT (${empty}) AND ${fast.ok})` } } : {}) };
  }
  if (role === 'time') return { ...f, reason: `CASE WHEN ${v} IS NULL OR ${v} = '' THEN ${sqlLit(VR.timeRequired)} ELSE ${f.reason} END`, ...(fast ? { fast: { ...fast, ok: `(${v} <> '' AND ${fast.ok})` } } : {}) };
  if (role === 'created') {
    return {
      ...f, value: `CASE WHEN ${v} = '' THEN NULL ELSE ${f.value} END`, reason: `CASE WHEN ${v} = '' THEN NULL ELSE ${f.reason} END`,
      ...(fast ? { fast: { ok: `(${v} = '' OR ${fast.ok})`, value: `CASE WHEN ${v} = '' THEN NULL ELSE ${fast.value} END`, unchecked: `CASE WHEN ${v} = '' THEN NULL ELSE ${fast.unchecked} END` } } : {}),
    };
  }
  return f;
}

/** time.ts `parseInstant` (lenient form) over a trimmed text: syntax, then each rule in order, then the instant. */
function timestampText(t: string, alias: string, rd: RuleDialect = DUCKDB_RULES): { prepare: { name: string; sql: string }[]; syntaxBad: string; reason: string; value: string } {
  const sqlLit = rd.lit;
  const sqlText = (fn: (...args: string[]) => string, ...exprs: string[]) => sqlTextIn(rd, fn, ...exprs);
  const p = rd.ident(`${alias}_p`);
  const names = ['y', 'mo', 'd', 'h', 'mi', 's', 'f', 'z', 'sg', 'oh', 'om'];
  const parts = rd.groups(t, re2Text(LENIENT_RE.source), names);
  const g = (n: string) => parts.group(n, p);
  const num = (n: string, dflt = 0) => `coalesce(${rd.tryCast(`NULLIF(${g(n)}, '')`, 'INTEGER')}, ${dflt})`;
  const y = num('y'), mo = num('mo'), d = num('d'), h = num('h'), mi = num('mi'), s = num('s');
  const leap = `((${rd.mod(y, '4')} = 0 AND ${rd.mod(y, '100')} <> 0) OR ${rd.mod(y, '400')} = 0)`;
  const days = `CASE WHEN ${mo} = 2 THEN CASE WHEN ${leap} THEN 29 ELSE 28 END WHEN ${mo} IN (4, 6, 9, 11) THEN 30 ELSE 31 END`;
  const offset = `CASE WHEN ${g('z')} = '' AND ${g('sg')} <> '' THEN (CASE WHEN ${g('sg')} = '-' THEN -1 ELSE 1 END) * (${num('oh')} * 60 + ${num('om')}) ELSE 0 END`;
  // Days from 1970-01-01 of a valid civil date (Howard Hinnant's days_from_civil), in integer arithmetic.
  const yy = `(${y} - CASE WHEN ${mo} <= 2 THEN 1 ELSE 0 END)`;
  const era = `(${rd.idiv(yy, '400')})`;
  const yoe = `(${yy} - ${era} * 400)`;
  const doy = `(${rd.idiv(`(153 * (${mo} + CASE WHEN ${mo} > 2 THEN -3 ELSE 9 END) + 2)`, '5')} + ${d} - 1)`;
  const civil = `(${era} * 146097 + ${yoe} * 365 + ${rd.idiv(yoe, '4')} - ${rd.idiv(yoe, '100')} + ${doy} - 719468)`;
  const millis = `CASE WHEN ${g('f')} = '' THEN 0 ELSE ${rd.cast(`rpad(${rd.slice(g('f'), 1, 3)}, 3, '0')`, 'INTEGER')} END`;
  const ms = rd.ident(`${alias}_ms`);
  const rule = rd.ident(`${alias}_r`);
  const prepare = [
    { name: `${alias}_p`, sql: parts.sql },
    {
      name: `${alias}_r`,
      sql: `CASE WHEN ${p} IS NULL THEN NULL`
        + ` WHEN ${y} = 0 THEN ${sqlLit(TR.year0)}`
        + ` WHEN ${mo} < 1 OR ${mo} > 12 THEN ${sqlText(TR.month, g('mo'))}`
        + ` WHEN ${d} < 1 OR ${d} > ${days} THEN ${sqlText(TR.day, g('d'), rd.at(MONTH_NAMES.map(sqlLit), mo), g('y'), rd.cast(`(${days})`, 'VARCHAR'))}`
        + ` WHEN ${h} = 24 THEN ${sqlLit(TR.hour24)}`
        + ` WHEN ${h} > 23 THEN ${sqlText(TR.hour, g('h'))}`
        + ` WHEN ${mi} > 59 THEN ${sqlText(TR.minute, g('mi'))}`
        + ` WHEN ${s} = 60 THEN ${sqlLit(TR.leapSecond)}`
        + ` WHEN ${s} > 59 THEN ${sqlText(TR.second, g('s'))}`
        + ` WHEN length(${g('f')}) > 9 THEN ${sqlText(TR.fraction, rd.cast(`length(${g('f')})`, 'VARCHAR'))}`
        + ` WHEN ${g('z')} = '' AND ${g('sg')} <> '' AND (${num('oh')} > 23 OR ${num('om')} > 59) THEN ${sqlText(TR.offset, g('sg'), g('oh'), g('om'))}`
        + ` END`,
    },
    { name: `${alias}_ms`, sql: `CASE WHEN ${p} IS NOT NULL AND ${rule} IS NULL THEN ${rd.cast(civil, 'BIGINT')} * 86400000 + ((${h} * 60 + ${mi}) * 60 + ${s}) * 1000 + ${millis} - (${offset}) * 60000 END` },
  ];
  const inRange = `${ms} BETWEEN ${MIN_INSTANT_MS} AND ${MAX_INSTANT_MS}`;
  return {
    prepare,
    syntaxBad: `${p} IS NULL`,
    reason: `coalesce(${rule}, CASE WHEN NOT (${inRange}) THEN ${sqlLit(TR.range)} END)`,
    value: `CASE WHEN ${inRange} THEN ${rd.fromEpochMs(ms)} END`,
  };
}

const INTS = ['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT', 'HUGEINT'];

/** Whether a typed Parquet column of `source` type can be classified in SQL as a `type` field (else: row by row). */
export function typedSupported(source: string, type: FeatureType): boolean {
  if (source === 'VARCHAR') return true;
  switch (type) {
    case 'INT64': return INTS.includes(source) || source === 'DOUBLE' || source === 'FLOAT';
    case 'FLOAT64': return INTS.includes(source) || source === 'DOUBLE' || source === 'FLOAT';
    case 'BOOL': return source === 'BOOLEAN' || INTS.includes(source) || source === 'DOUBLE' || source === 'FLOAT';
    case 'STRING': return INTS.includes(source) || source === 'BOOLEAN';
    case 'TIMESTAMP': return source === 'TIMESTAMP' || source === 'TIMESTAMP WITH TIME ZONE';
  }
}

/**
 * A typed Parquet column as the row-by-row path reads it (parquet-records.ts turns integers into numbers, or exact
 * strings beyond ±2^53, and infinities into the strings the validator reads as explicit; dates keep milliseconds).
 */
export function typedField(src: string | null, source: string, type: FeatureType, role: Role, alias: string): FieldSql {
  if (src === null) return { prepare: [], value: 'NULL', reason: 'NULL' };
  if (source === 'VARCHAR') return textField(src, type, role, alias);
  const bad = sqlLit(TYPED_BAD);
  let value: string;
  let ok: string;
  switch (type) {
    case 'INT64':
      ok = INTS.includes(source) ? `abs(${src}::HUGEINT) <= ${MAX_SAFE}` : `isfinite(${src}) AND ${src} = trunc(${src}) AND abs(${src}) <= ${MAX_SAFE}`;
      value = `CASE WHEN ${ok} THEN ${src}::BIGINT END`;
      break;
    case 'FLOAT64':
      ok = 'true';
      value = `${src}::DOUBLE`;
      break;
    case 'BOOL':
      ok = source === 'BOOLEAN' ? 'true' : `${src} IN (0, 1)`;
      value = source === 'BOOLEAN' ? src : `CASE WHEN ${src} = 1 THEN true WHEN ${src} = 0 THEN false END`;
      break;
    case 'STRING':
      ok = 'true';
      value = `${src}::VARCHAR`;
      break;
    case 'TIMESTAMP': {
      // Milliseconds as the JavaScript Date the row-by-row path gets (micros divided, truncated toward zero).
      const ms = `(epoch_us(${src}::TIMESTAMP) // 1000)`;
      ok = `${ms} BETWEEN ${MIN_INSTANT_MS} AND ${MAX_INSTANT_MS}`;
      value = `CASE WHEN ${ok} THEN epoch_ms(${ms}) END`;
      break;
    }
  }
  const f = { prepare: [], value, reason: `CASE WHEN ${src} IS NOT NULL AND NOT (${ok}) THEN ${bad} END` };
  const v = type === 'STRING' ? value : src;
  if (role === 'key') return { ...f, reason: `CASE WHEN ${v} IS NULL${type === 'STRING' ? ` OR ${v} = ''` : ''} THEN ${sqlLit(VR.keyRequired)} ELSE ${f.reason} END` };
  if (role === 'time') return { ...f, reason: `CASE WHEN ${src} IS NULL THEN ${sqlLit(VR.timeRequired)} ELSE ${f.reason} END` };
  return f;
}

/** Every field of the view, in the order validate.ts checks them (its reasons come in this order). */
export function viewFields(view: FeatureView): { name: string; type: FeatureType; role: Role }[] {
  return [
    ...view.entity.joinKeys.map((k) => ({ name: k.name, type: k.type as FeatureType, role: 'key' as const })),
    { name: view.timestampField, type: 'TIMESTAMP' as const, role: 'time' as const },
    ...(view.createdTimestampField ? [{ name: view.createdTimestampField, type: 'TIMESTAMP' as const, role: 'created' as const }] : []),
    ...view.features.map((f) => ({ name: f.name, type: f.type, role: 'feature' as const })),
  ];
}
