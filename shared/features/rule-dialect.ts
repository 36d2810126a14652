/**
 * The SQL spellings the view's rules (validate-sql.ts) need, per engine. validate-sql.ts writes each rule once and
 * asks this object for every engine-specific fragment; `DUCKDB_RULES` returns exactly the text validate-sql.ts wrote
 * before it was dialect-aware (the embedded path's SQL is unchanged), `BIGQUERY_RULES` the GoogleSQL of the same
 * meaning (Google's "Standard SQL functions and operators" reference, read 2026-12-01).
 *
 * Where BigQuery has no equivalent of a DuckDB construct the BigQuery form is written to give the same answer on every
 * input the rule reaches (e.g. exact integers without HUGEINT: digits counted, then cast), and where a rendering
 * could differ (JSON escaping of control characters) the BigQuery plan treats the value as exotic and hands the file
 * to the row-by-row path (engine-load-bigquery.ts).
 */
export interface RuleDialect {
  readonly name: 'duckdb' | 'bigquery';
  /** A string literal holding exactly `s`. */
  lit(s: string): string;
  /** A column alias computed by the rules (double quotes on DuckDB, backticks on BigQuery). */
  ident(name: string): string;
  /** Whether the RE2 pattern (a literal) matches anywhere in `s` (both engines use RE2). */
  matches(s: string, re: string): string;
  /** A cast that yields NULL when the text does not convert. */
  tryCast(x: string, to: 'INTEGER' | 'DOUBLE'): string;
  /** A cast that cannot fail on the values it is given. */
  cast(x: string, to: 'INTEGER' | 'BIGINT' | 'VARCHAR'): string;
  /** The DOUBLE value of a constant text such as 'nan' or '-inf'. */
  double(text: string): string;
  isFinite(x: string): string;
  /** Truncating integer division and remainder of non-negative integers (the caller parenthesises). */
  idiv(a: string, b: string): string;
  mod(a: string, b: string): string;
  /** Characters `from` (1-based) to `to` of `s`. */
  slice(s: string, from: number, to: number): string;
  /** Element `i` (1-based) of a list literal. */
  at(list: string[], i: string): string;
  /** The first `len` characters of `s`. */
  prefix(s: string, len: number): string;
  /** The TIMESTAMP `ms` milliseconds after the Unix epoch. */
  fromEpochMs(ms: string): string;
  /** A string's JSON text, as JSON.stringify writes it. */
  json(v: string): string;
  /**
   * The groups of a match of the RE2 `pattern` (its text, not a literal) over `t`: one prepared value (`sql`), NULL
   * when the text does not match, and the SQL of each group over that value ('' for a group that took no part).
   */
  groups(t: string, pattern: string, names: string[]): { sql: string; group(name: string, value: string): string };
  /**
   * The integer a digits-only text (INT_PATTERN) denotes, exactly, or `tooBig` when beyond ±(2^53 − 1), or NULL when
   * the text is not digits only. `matchesInt` is the INT_PATTERN test over `t`.
   */
  exactInt(t: string, matchesInt: string, maxSafe: string): string;
}

/** DuckDB: the text validate-sql.ts has always written. */
export const DUCKDB_RULES: RuleDialect = {
  name: 'duckdb',
  lit: (s) => `'${s.replace(/'/g, "''")}'`,
  ident: (n) => `"${n}"`,
  matches: (s, re) => `regexp_matches(${s}, ${re})`,
  tryCast: (x, to) => `TRY_CAST(${x} AS ${to})`,
  cast: (x, to) => `${x}::${to}`,
  double: (text) => `'${text}'::DOUBLE`,
  isFinite: (x) => `isfinite(${x})`,
  idiv: (a, b) => `${a} // ${b}`,
  mod: (a, b) => `${a} % ${b}`,
  slice: (s, from, to) => `${s}[${from}:${to}]`,
  at: (list, i) => `[${list.join(', ')}][${i}]`,
  prefix: (s, len) => `substring(${s}, 1, ${len})`,
  fromEpochMs: (ms) => `epoch_ms(${ms})`,
  json: (v) => `to_json(${v})::VARCHAR`,
  groups: (t, pattern, names) => ({
    sql: `CASE WHEN regexp_matches(${t}, ${DUCKDB_RULES.lit(pattern)}) THEN regexp_extract(${t}, ${DUCKDB_RULES.lit(pattern)}, [${names.map((n) => DUCKDB_RULES.lit(n)).join(', ')}]) END`,
    group: (name, value) => `${value}.${name}`,
  }),
  exactInt: (t, matchesInt, maxSafe) => `CASE WHEN ${matchesInt} THEN coalesce(TRY_CAST(regexp_replace(${t}, '^([-+]?)0+([0-9])', '\\1\\2') AS HUGEINT), ${maxSafe}::HUGEINT + 1) END`,
};

/**
 * A GoogleSQL string literal of any text: backslash escapes for the quote, the backslash and every character outside
 * printable ASCII (`\uXXXX`, `\UXXXXXXXX`), so the literal stays on one line and means exactly `s`.
 */
export function googleSqlString(s: string): string {
  let out = "'";
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === "'" || ch === '\\') out += `\\${ch}`;
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else if (c <= 0xffff) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += `\\U${c.toString(16).padStart(8, '0')}`;
  }
  return `${out}'`;
}

/** The capturing groups of a JS/RE2 pattern source, in order (a `(` not escaped, not in a class, not `(?`). */
function capturingGroups(source: string): number[] {
  const at: number[] = [];
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') { i++; continue; }
    if (inClass) { if (c === ']') inClass = false; continue; }
    if (c === '[') inClass = true;
    else if (c === '(' && source[i + 1] !== '?') at.push(i);
  }
  return at;
}

/** `source` with only its `keep`-th capturing group left capturing (the others become `(?:`). */
function onlyGroup(source: string, keep: number): string {
  const groups = capturingGroups(source);
  let out = '';
  let last = 0;
  groups.forEach((pos, k) => {
    if (k === keep) return;
    out += `${source.slice(last, pos)}(?:`;
    last = pos + 1;
  });
  return out + source.slice(last);
}

/** JSON.stringify's escapes of a string that the BigQuery plan renders itself (the others make a value exotic). */
const JSON_ESCAPES: [string, string][] = [['\\', '\\\\'], ['"', '\\"'], ['\b', '\\b'], ['\f', '\\f'], ['\n', '\\n'], ['\r', '\\r'], ['\t', '\\t']];

/**
 * BigQuery (GoogleSQL). REGEXP_CONTAINS is RE2 like DuckDB's regexp_matches; SAFE_CAST of STRING to INT64/FLOAT64 is
 * only given texts the rule's own pattern accepted, so its wider syntax (hex, whitespace) is never reached; REGEXP_EXTRACT
 * returns one group, so a pattern with several is run once per group (each copy capturing only that group); there
 * is no HUGEINT, so an integer text's digits are counted (more than 16 significant digits is beyond 2^53) before
 * SAFE_CAST; JSON text is built with REPLACE (TO_JSON_STRING's escaping is not documented to be JSON.stringify's).
 */
export function bigqueryRules(): RuleDialect {
  const lit = googleSqlString;
  return {
    name: 'bigquery',
    lit,
    ident: (n) => `\`${n}\``,
    matches: (s, re) => `REGEXP_CONTAINS(${s}, ${re})`,
    tryCast: (x, to) => `SAFE_CAST(${x} AS ${to === 'DOUBLE' ? 'FLOAT64' : 'INT64'})`,
    cast: (x, to) => `CAST(${x} AS ${to === 'VARCHAR' ? 'STRING' : 'INT64'})`,
    double: (text) => `CAST('${text}' AS FLOAT64)`,
    isFinite: (x) => `(NOT IS_INF(${x}) AND NOT IS_NAN(${x}))`,
    idiv: (a, b) => `DIV(${a}, ${b})`,
    mod: (a, b) => `MOD(${a}, ${b})`,
    slice: (s, from, to) => `SUBSTR(${s}, ${from}, ${to - from + 1})`,
    // SAFE_ forms: the rule reads them only where the index and the instant are valid, but GoogleSQL does not promise
    // to evaluate nothing else, and an out-of-range ORDINAL or TIMESTAMP_MILLIS would fail the whole statement.
    at: (list, i) => `[${list.join(', ')}][SAFE_ORDINAL(${i})]`,
    prefix: (s, len) => `SUBSTR(${s}, 1, ${len})`,
    fromEpochMs: (ms) => `SAFE.TIMESTAMP_MILLIS(${ms})`,
    json: (v) => `CONCAT('"', ${JSON_ESCAPES.reduce((e, [from, to]) => `REPLACE(${e}, ${lit(from)}, ${lit(to)})`, v)}, '"')`,
    groups: (t, pattern, names) => {
      // One extraction per group, '' where the group took no part (as DuckDB's regexp_extract gives).
      const parts = names.map((_, k) => `COALESCE(REGEXP_EXTRACT(${t}, ${lit(onlyGroup(pattern, k))}), '')`);
      return {
        sql: `CASE WHEN REGEXP_CONTAINS(${t}, ${lit(pattern)}) THEN [${parts.join(', ')}] END`,
        group: (name, value) => `${value}[OFFSET(${names.indexOf(name)})]`,
      };
    },
    exactInt: (t, matchesInt, maxSafe) => {
      const digits = `REGEXP_REPLACE(${t}, '^[-+]?0*', '')`;
      return `CASE WHEN ${matchesInt} THEN IF(LENGTH(${digits}) > 16, ${maxSafe} + 1, SAFE_CAST(CONCAT(IF(STARTS_WITH(${t}, '-'), '-', ''), COALESCE(NULLIF(${digits}, ''), '0')) AS INT64)) END`;
    },
  };
}

export const BIGQUERY_RULES: RuleDialect = bigqueryRules();
