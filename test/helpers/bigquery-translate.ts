/**
 * Mechanical GoogleSQL → DuckDB translation for the BigQuery stand-in (test double only; never used by the product).
 * The statement has already been accepted by the ZetaSQL analyzer: this only makes DuckDB execute the same meaning.
 * It is deliberately small; extend it (with a test) when core SQL uses a BigQuery function DuckDB spells differently.
 */

/** Session setup: BigQuery type names and functions DuckDB lacks, as types and macros. */
export const DUCKDB_PRELUDE = [
  "SET TimeZone = 'UTC'",
  'CREATE TYPE FLOAT64 AS DOUBLE', // INT64, BOOL and STRING are DuckDB aliases already
  'CREATE MACRO timestamp_sub(t, i) AS t - i',
  'CREATE MACRO timestamp_add(t, i) AS t + i',
  'CREATE MACRO safe_divide(a, b) AS CASE WHEN b = 0 THEN NULL ELSE a / b END',
  'CREATE MACRO generate_uuid() AS CAST(gen_random_uuid() AS VARCHAR)',
  'CREATE MACRO unix_micros(t) AS epoch_us(t)',
  'CREATE MACRO unix_seconds(t) AS CAST(floor(epoch(t)) AS BIGINT)',
  'CREATE MACRO timestamp_micros(x) AS make_timestamp(x)',
  'CREATE MACRO countif(x) AS count_if(x)',
  'CREATE MACRO is_nan(x) AS isnan(x)',
  'CREATE MACRO is_inf(x) AS isinf(x)',
  // RANGE_BUCKET(point, sorted boundaries): the number of boundaries <= point, NULL for a NULL point.
  'CREATE MACRO range_bucket(x, b) AS CASE WHEN x IS NULL THEN NULL ELSE len(list_filter(b, lambda e: e <= x)) END',
  'CREATE MACRO regexp_contains(s, re) AS regexp_matches(s, re)',
  'CREATE MACRO timestamp_millis(x) AS make_timestamp(CAST(x AS BIGINT) * 1000)',
  // DIV(x, y): integer division rounding toward zero, as DuckDB's // on integers.
  'CREATE MACRO div(x, y) AS x // y',
  // SAFE_CAST of a STRING as BigQuery reads it ("Conversion rules", functions reference), where DuckDB's TRY_CAST
  // is wider: INT64 takes decimal digits or 0x hex with a sign (DuckDB also takes '1.5' → 2, '1e3', '1_000', and
  // refuses '-0x10'); FLOAT64 a floating point literal or [+-]inf/infinity/nan (DuckDB also takes '1_0.5');
  // BOOL only 'true'/'false' in any case (DuckDB also takes 't', 'yes', '1'). Surrounding ASCII spaces are allowed.
  String.raw`CREATE MACRO bq_str_int64(s) AS CASE WHEN regexp_full_match(s, ' *[-+]?[0-9]+ *') THEN TRY_CAST(trim(s) AS BIGINT) WHEN regexp_full_match(s, ' *-0[xX][0-9a-fA-F]+ *') THEN -TRY_CAST(ltrim(trim(s), '-') AS BIGINT) WHEN regexp_full_match(s, ' *[+]?0[xX][0-9a-fA-F]+ *') THEN TRY_CAST(ltrim(trim(s), '+') AS BIGINT) END`,
  String.raw`CREATE MACRO bq_str_float64(s) AS CASE WHEN regexp_full_match(s, ' *[-+]?(([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?|inf|infinity|nan) *', 'i') THEN TRY_CAST(trim(s) AS DOUBLE) END`,
  "CREATE MACRO bq_str_bool(s) AS CASE lower(s) WHEN 'true' THEN true WHEN 'false' THEN false END",
  "CREATE MACRO bq_safe_int64(x) AS CASE WHEN typeof(x) = 'VARCHAR' THEN bq_str_int64(CAST(x AS VARCHAR)) ELSE TRY_CAST(x AS BIGINT) END",
  "CREATE MACRO bq_safe_float64(x) AS CASE WHEN typeof(x) = 'VARCHAR' THEN bq_str_float64(CAST(x AS VARCHAR)) ELSE TRY_CAST(x AS DOUBLE) END",
  "CREATE MACRO bq_safe_bool(x) AS CASE WHEN typeof(x) = 'VARCHAR' THEN bq_str_bool(CAST(x AS VARCHAR)) ELSE TRY_CAST(x AS BOOLEAN) END",
];

type Segment = { kind: 'code' | 'string' | 'ident' | 'comment'; text: string };

/** Split GoogleSQL into code, string literals ('…', "…", with backslash escapes), `identifiers` and comments. */
export function segments(sql: string): Segment[] {
  const out: Segment[] = [];
  let code = '';
  let i = 0;
  const flush = () => { if (code) out.push({ kind: 'code', text: code }); code = ''; };
  while (i < sql.length) {
    const ch = sql[i]!;
    if (ch === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      flush(); out.push({ kind: 'comment', text: end < 0 ? sql.slice(i) : sql.slice(i, end) }); i = end < 0 ? sql.length : end;
    } else if (ch === "'" || ch === '"' || ch === '`') {
      let j = i + 1;
      let text = '';
      while (j < sql.length && sql[j] !== ch) {
        if (sql[j] === '\\' && ch !== '`') {
          const n = sql[j + 1]!;
          // \uXXXX, \UXXXXXXXX, \xHH: the character of that code point (GoogleSQL's escapes)
          const hex = n === 'u' ? 4 : n === 'U' ? 8 : n === 'x' || n === 'X' ? 2 : 0;
          if (hex > 0) {
            text += String.fromCodePoint(parseInt(sql.slice(j + 2, j + 2 + hex), 16));
            j += 2 + hex;
            continue;
          }
          text += n === 'n' ? '\n' : n === 't' ? '\t' : n === 'r' ? '\r' : n === 'b' ? '\b' : n === 'f' ? '\f' : n;
          j += 2;
        } else text += sql[j++];
      }
      flush(); out.push({ kind: ch === '`' ? 'ident' : 'string', text }); i = j + 1;
    } else { code += ch; i++; }
  }
  flush();
  return out;
}

/** Index of the `)` closing the `(` at `open`, in code text. */
function closing(text: string, open: number): number {
  let depth = 0;
  for (let k = open; k < text.length; k++) {
    if (text[k] === '(') depth++;
    else if (text[k] === ')' && --depth === 0) return k;
  }
  return -1;
}

/** APPROX_QUANTILES(x, n) → quantile_disc(x, [0, 1/n, …, 1]) (n + 1 values, like BigQuery). */
function approxQuantiles(code: string): string {
  const re = /APPROX_QUANTILES\s*\(/gi;
  let m: RegExpExecArray | null;
  while ((m = re.exec(code))) {
    const open = m.index + m[0].length - 1;
    const close = closing(code, open);
    if (close < 0) break;
    const inner = code.slice(open + 1, close);
    const comma = inner.lastIndexOf(',');
    const n = Number(inner.slice(comma + 1).trim());
    if (comma < 0 || !Number.isInteger(n) || n <= 0) break;
    const qs = Array.from({ length: n + 1 }, (_, k) => String(k / n)).join(', ');
    code = `${code.slice(0, m.index)}quantile_disc(${inner.slice(0, comma)}, [${qs}])${code.slice(close + 1)}`;
    re.lastIndex = m.index + 1;
  }
  return code;
}

/** `a[OFFSET(i)]`, `a[SAFE_OFFSET(i)]` → `a[(i) + 1]`; `a[ORDINAL(i)]`, `a[SAFE_ORDINAL(i)]` → `a[(i)]` (DuckDB lists
 * are 1-based and give NULL out of range, like the SAFE_ forms). */
function arraySubscripts(code: string): string {
  const re = /\[\s*(SAFE_)?(OFFSET|ORDINAL)\s*\(/gi;
  let m: RegExpExecArray | null;
  while ((m = re.exec(code))) {
    const open = m.index + m[0].length - 1;
    const close = closing(code, open);
    const end = close < 0 ? -1 : code.slice(close + 1).search(/\S/) + close + 1;
    if (close < 0 || code[end] !== ']') break;
    const index = `(${code.slice(open + 1, close)})${m[2]!.toUpperCase() === 'OFFSET' ? ' + 1' : ''}`;
    code = `${code.slice(0, m.index)}[${index}]${code.slice(end + 1)}`;
    re.lastIndex = m.index + 1;
  }
  return code;
}

/** Top-level arguments of the call whose `(` is at `open`. */
function args(code: string, open: number, close: number): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let k = open + 1; k < close; k++) {
    const c = code[k];
    if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth--;
    else if (c === ',' && depth === 0) { out.push(code.slice(start, k)); start = k + 1; }
  }
  out.push(code.slice(start, close));
  return out;
}

/** Rewrite every call `NAME(` (innermost last in text first, so nested calls are rewritten inside out). */
function calls(code: string, name: string, fn: (argsText: string[], inner: string) => string | null): string {
  const re = new RegExp(`\\b${name}\\s*\\(`, 'gi');
  const starts = [...code.matchAll(re)].map((m) => ({ at: m.index, open: m.index + m[0].length - 1 })).reverse();
  for (const s of starts) {
    const close = closing(code, s.open);
    if (close < 0) continue;
    const out = fn(args(code, s.open, close), code.slice(s.open + 1, close));
    if (out !== null) code = `${code.slice(0, s.at)}${out}${code.slice(close + 1)}`;
  }
  return code;
}

/**
 * BigQuery semantics DuckDB spells differently, on code where string literals are holes `\u0000n\u0000`:
 * SAFE_CAST of INT64/FLOAT64/BOOL (BigQuery's string conversion rules, see the prelude); REGEXP_EXTRACT (NULL when
 * nothing matches, the one capturing group or else the whole match; DuckDB gives '' and needs the group number);
 * REGEXP_REPLACE (every match; DuckDB replaces the first unless given 'g'); CONCAT (NULL if an argument is NULL;
 * DuckDB's skips NULLs); ARRAY_TO_STRING (NULL elements omitted,
 * so all-NULL gives ''; DuckDB gives NULL).
 */
function bigquerySemantics(code: string, holes: string[]): string {
  code = calls(code, 'SAFE_CAST', (_a, inner) => {
    const m = /^([\s\S]*)\sAS\s+(\w+)\s*$/i.exec(inner);
    if (!m) return null;
    const t = m[2]!.toUpperCase();
    const fn = t === 'INT64' ? 'bq_safe_int64' : t === 'FLOAT64' ? 'bq_safe_float64' : t === 'BOOL' ? 'bq_safe_bool' : null;
    return fn ? `${fn}(${m[1]})` : `TRY_CAST(${inner})`;
  });
  code = calls(code, 'REGEXP_EXTRACT', (a) => {
    if (a.length !== 2) return null;
    const lit = /^\s*\u0000(\d+)\u0000\s*$/.exec(a[1]!);
    const source = lit ? holes[Number(lit[1])]!.slice(1, -1).replace(/''/g, "'") : null;
    const groups = source === null ? 1 : (source.replace(/\\./g, '').replace(/\[[^\]]*\]/g, '').match(/\((?!\?)/g) ?? []).length;
    return `(CASE WHEN regexp_matches(${a[0]}, ${a[1]}) THEN regexp_extract(${a[0]}, ${a[1]}, ${groups > 0 ? 1 : 0}) END)`;
  });
  code = calls(code, 'REGEXP_REPLACE', (a) => (a.length === 3 ? `regexp_replace(${a[0]}, ${a[1]}, ${a[2]}, 'g')` : null));
  // CONCAT is NULL when any argument is (DuckDB's concat skips NULLs; its || propagates them).
  code = calls(code, 'CONCAT', (a) => `(${a.map((x) => `(${x})`).join(' || ')})`);
  // ARRAY_TO_STRING omits NULL elements (or writes null_text for them): an array of NULLs gives '', not NULL.
  code = calls(code, 'ARRAY_TO_STRING', (a) => {
    if (a.length === 2) return `(CASE WHEN (${a[0]}) IS NULL THEN NULL ELSE coalesce(array_to_string(${a[0]}, ${a[1]}), '') END)`;
    if (a.length === 3) return `(CASE WHEN (${a[0]}) IS NULL THEN NULL ELSE array_to_string(list_transform(${a[0]}, lambda e: coalesce(e, ${a[2]})), ${a[1]}) END)`;
    return null;
  });
  return code;
}

/** `CREATE TABLE … OPTIONS (…) AS`: DuckDB has no table options (the stand-in ignores expirations). */
function dropTableOptions(code: string): string {
  const m = /^(\s*CREATE\s+(?:OR\s+REPLACE\s+)?TABLE\s+[^(]*?)\bOPTIONS\s*\(/i.exec(code);
  if (!m) return code;
  const open = m.index + m[0].length - 1;
  const close = closing(code, open);
  return close < 0 ? code : `${code.slice(0, m.index)}${m[1]}${code.slice(close + 1)}`;
}

export interface TranslateContext {
  project: string;
  datasets: Set<string>;
}

/**
 * Translate one statement. Placeholders keep the segment structure: strings and identifiers are re-quoted for
 * DuckDB only after code-level rewrites ran on code segments joined together.
 */
export function translate(sql: string, ctx: TranslateContext): string {
  const segs = segments(sql);
  const holes: string[] = [];
  let code = '';
  for (const s of segs) {
    if (s.kind === 'code') { code += s.text; continue; }
    if (s.kind === 'comment') continue;
    let text: string;
    if (s.kind === 'string') text = `'${s.text.replace(/'/g, "''")}'`;
    else {
      const parts = s.text.split('.');
      const rest = parts.length === 3 && parts[0] === ctx.project ? parts.slice(1) : parts;
      text = rest.map((p) => `"${p.replace(/"/g, '""')}"`).join('.');
    }
    holes.push(text);
    code += `\u0000${holes.length - 1}\u0000`;
  }
  // `project`.dataset.table written as separate parts: drop the project catalog
  code = code.replace(/\u0000(\d+)\u0000\s*\.\s*(?=(\u0000\d+\u0000|[A-Za-z_]\w*)\s*\.)/g, (m, n: string) =>
    holes[Number(n)] === `"${ctx.project}"` ? '' : m);
  code = arraySubscripts(approxQuantiles(dropTableOptions(bigquerySemantics(code, holes))))
    .replace(/\bUNNEST\s*\(\s*@(\w+)\s*\)/gi, '(SELECT UNNEST($$$1, recursive := true))')
    .replace(/@(\w+)/g, '$$$1')
    .replace(/\*\s*EXCEPT\s*\(/gi, '* EXCLUDE (')
    .replace(/\bSAFE_CAST\s*\(/gi, 'TRY_CAST(')
    // `SAFE.f(…)` (NULL instead of an error): run as f, so an error the SAFE. prefix would hide still fails the test.
    .replace(/\bSAFE\s*\.\s*(\w+)\s*\(/gi, '$1(')
    .replace(/\bCURRENT_TIMESTAMP\s*\(\s*\)/gi, 'CAST(get_current_timestamp() AS TIMESTAMP)')
    .replace(/\bMERGE\s+(?!INTO\b)/gi, 'MERGE INTO ');
  return code.replace(/\u0000(\d+)\u0000/g, (_m, n: string) => holes[Number(n)]!);
}
