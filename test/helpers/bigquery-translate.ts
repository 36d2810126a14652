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
          text += n === 'n' ? '\n' : n === 't' ? '\t' : n === 'r' ? '\r' : n;
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
  code = arraySubscripts(approxQuantiles(code))
    .replace(/\bUNNEST\s*\(\s*@(\w+)\s*\)/gi, '(SELECT UNNEST($$$1, recursive := true))')
    .replace(/@(\w+)/g, '$$$1')
    .replace(/\*\s*EXCEPT\s*\(/gi, '* EXCLUDE (')
    .replace(/\bSAFE_CAST\s*\(/gi, 'TRY_CAST(')
    .replace(/\bCURRENT_TIMESTAMP\s*\(\s*\)/gi, 'CAST(get_current_timestamp() AS TIMESTAMP)')
    .replace(/\bMERGE\s+(?!INTO\b)/gi, 'MERGE INTO ');
  return code.replace(/\u0000(\d+)\u0000/g, (_m, n: string) => holes[Number(n)]!);
}
