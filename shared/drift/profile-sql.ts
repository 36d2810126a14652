import type { ColumnType, Dialect, Params, Row, Warehouse } from '../ports/warehouse.js';
import type { FeatureKind } from './methods.js';
import type { Bins, FeatureProfile, Profile } from './profile.js';
import { profileFunctions, type BinCounter } from './sql-functions.js';

/**
 * Profiles computed by SQL in the warehouse, written once through the Dialect for DuckDB and BigQuery. Rows never
 * reach Node: each statement returns one aggregate row (or a few rows of top values).
 *
 * - `windowProfileSql`: ONE scan of the window giving, per feature, count, nulls, NaN, Inf, min, max, mean, std and
 *   the counts in the given bins (the baseline's edges plus the two open outer bins, or its value list plus
 *   "other"). This is what a drift check runs.
 * - Building a baseline takes two more statements before it: `discoverySql` (distinct counts and quantile edges,
 *   one scan) and `topValuesSql` (the value domain of categorical and low-cardinality numerical features).
 */

export interface ProfileSource {
  /** SQL relation: a table reference (`dialect.table(name)`) or a staged relation. */
  relation: string;
  params?: Params;
  /** Event-time column to filter on, with `window`. */
  timestampColumn?: string;
  window?: { start: Date; end: Date };
  /** Recorded in the profile (table or file name). */
  label: string;
  /**
   * Keep one row per value of this column (ordered by `order`) after the window filter: offline feature tables are
   * appended at-least-once and hold a redelivered row more than once until compaction (see features/dedup-sql.ts).
   */
  unique?: { id: string; order: string } | undefined;
}

export interface FeatureSpec {
  name: string;
  type: ColumnType;
  kind: FeatureKind;
  bins?: Bins | null;
}

export interface Statement<T> {
  sql: string;
  params: Params;
  /**
   * Further statements when one would pass BigQuery's limits (10,000 query parameters, 10,000 result columns): each
   * returns one row, with column names of its own; `run` merges the rows into one before `parse`.
   */
  more?: { sql: string; params: Params }[];
  parse(rows: Row[]): T;
}

/** Columns and parameters per statement, under BigQuery's 10,000 each with room for the shared ones. */
export const STATEMENT_LIMIT = 9_000;

/**
 * Group features (in order) so that each group's columns and parameters stay within STATEMENT_LIMIT; a feature
 * that alone passes it gets a group of its own. Always at least one (possibly empty) group.
 */
function pack(costs: { columns: number; params: number }[]): number[][] {
  const groups: number[][] = [[]];
  let cols = 0;
  let params = 0;
  costs.forEach((c, i) => {
    const last = groups[groups.length - 1]!;
    if (last.length > 0 && (cols + c.columns > STATEMENT_LIMIT || params + c.params > STATEMENT_LIMIT)) {
      groups.push([i]);
      cols = c.columns;
      params = c.params;
    } else {
      last.push(i);
      cols += c.columns;
      params += c.params;
    }
  });
  return groups;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** FROM clause projecting r<i> (the typed value) and v<i> (finite numeric value, or the string) per feature. */
function fromClause(d: Dialect, src: ProfileSource, all: FeatureSpec[], params: Params, only?: number[]): string {
  const fn = profileFunctions(d);
  const which = only ?? all.map((_, i) => i);
  const features = which.map((i) => all[i]!);
  const inner = features.map((f, k) => {
    const i = which[k]!;
    const t = f.kind === 'numerical' ? d.type('FLOAT64') : d.type('STRING');
    return `CAST(${d.ident(f.name)} AS ${t}) AS r${i}`;
  });
  let where = '';
  if (src.window) {
    if (!src.timestampColumn) throw new TypeError('a window needs a timestamp column');
    params.w_start = { type: 'TIMESTAMP', value: src.window.start };
    params.w_end = { type: 'TIMESTAMP', value: src.window.end };
    const ts = d.ident(src.timestampColumn);
    where = ` WHERE ${ts} >= ${d.param('w_start')} AND ${ts} < ${d.param('w_end')}`;
  }
  Object.assign(params, src.params ?? {});
  const middle = features.map((f, k) => [f, which[k]!] as const).map(([f, i]) =>
    f.kind === 'numerical'
      ? `r${i}, ${fn.finite(`r${i}`)} AS v${i}`
      : `r${i}, r${i} AS v${i}`,
  );
  // BigQuery accepts QUALIFY only with a WHERE (or GROUP BY / HAVING) in the same query.
  const unique = src.unique ? `${where || ' WHERE TRUE'} QUALIFY ROW_NUMBER() OVER (PARTITION BY ${src.unique.id} ORDER BY ${src.unique.order}) = 1` : where;
  const innerSql = `SELECT ${inner.length ? inner.join(', ') : '1 AS r_'} FROM ${src.relation}${unique}`;
  return `(SELECT ${middle.length ? middle.join(', ') : 'r_'} FROM (${innerSql}) AS a) AS b`;
}

/** A finite value in the middle of the bins (numerical features), or null. */
function pivot(bins: Bins | null | undefined): number | null {
  const xs = bins?.type === 'edges' ? bins.edges : bins?.type === 'values' ? bins.values.filter((x): x is number => typeof x === 'number') : [];
  const p = xs[Math.floor(xs.length / 2)];
  return p !== undefined && Number.isFinite(p) ? p : null;
}

/**
 * Overflow-safe sums. BigQuery raises an error on FLOAT64 overflow (DuckDB gives inf), and one value with
 * |v − pivot| ≳ 1.3e154 overflows v², failing the whole statement. Deviations up to 2^465 (≈ 9.5e139) are summed
 * as they are (their squares stay below 1e280 per row); larger ones are summed scaled by 2^-600 (exact: a power of
 * two), where neither the deviation, its square, nor their sums can overflow. Which side a value falls on is
 * decided on the scaled deviation, so `v − pivot` is never computed for a value where it could overflow.
 */
const SCALE = 2 ** -600;
const SCALED_LIMIT = 2 ** 465 * SCALE;

function momentSums(d: Dialect, v: string, i: number, params: Params): string[] {
  const p = d.param(`p${i}`);
  const s = d.param('ov_scale');
  const lim = d.param('ov_limit');
  params.ov_scale = { type: 'FLOAT64', value: SCALE };
  params.ov_limit = { type: 'FLOAT64', value: SCALED_LIMIT };
  const dv = `(${v} - ${p})`;
  const dvs = `(${v} * ${s} - ${p} * ${s})`;
  const small = `ABS(${dvs}) <= ${lim}`;
  const large = `ABS(${dvs}) > ${lim}`;
  return [
    `SUM(CASE WHEN ${small} THEN ${dv} END) AS f${i}_s1`, `SUM(CASE WHEN ${small} THEN ${dv} * ${dv} END) AS f${i}_s2`,
    `SUM(CASE WHEN ${large} THEN ${dvs} END) AS f${i}_h1`, `SUM(CASE WHEN ${large} THEN ${dvs} * ${dvs} END) AS f${i}_h2`,
  ];
}

/** Mean and population std of a numerical feature from AVG/STDDEV_POP, or from the pivoted sums (momentSums). */
function moments(f: FeatureSpec, n: number, g: (k: string) => unknown): { mean: number | null; std: number | null } {
  if (f.kind !== 'numerical') return { mean: null, std: null };
  const p = pivot(f.bins);
  if (p === null) return { mean: num(g('mean')), std: num(g('std')) };
  if (n === 0) return { mean: null, std: null };
  const [s1, s2, h1, h2] = ['s1', 's2', 'h1', 'h2'].map((k) => Number(g(k) ?? 0)) as [number, number, number, number];
  if (h1 === 0 && h2 === 0) {
    const m1 = s1 / n;
    return { mean: p + m1, std: Math.sqrt(Math.max(s2 / n - m1 * m1, 0)) };
  }
  // Some deviations were large: combine in the scaled domain (small values only lose what is below 2^-600 of them).
  const m1 = (s1 * SCALE + h1) / n;
  const e2 = (s2 * SCALE * SCALE + h2) / n;
  return { mean: p + m1 / SCALE, std: Math.sqrt(Math.max(e2 - m1 * m1, 0)) / SCALE };
}

/**
 * The one-scan profile of a window with known bins: a single ungrouped aggregate. Per feature: COUNT of the value
 * (nulls = rows − count), and for numerical ones the NaN count, the finite count (Inf = non-null − finite − NaN),
 * min, max, the sums giving mean and std, and the bin counts; bins are counted by one dialect helper (sql-functions.ts), so the cost per
 * row is one bin search per feature rather than one predicate per bin.
 */
export function windowProfileSql(d: Dialect, src: ProfileSource, features: FeatureSpec[]): Statement<Profile> {
  const fn = profileFunctions(d);
  const perFeature = features.map(() => ({ cols: [] as string[], params: {} as Params }));
  const counters: (BinCounter | null)[] = features.map((f, i) => {
    const { cols, params } = perFeature[i]!;
    const r = `r${i}`;
    const v = `v${i}`;
    cols.push(`COUNT(${r}) AS f${i}_present`);
    if (f.kind === 'numerical') {
      cols.push(`${fn.countIf(fn.isNan(r))} AS f${i}_nan`, `COUNT(${v}) AS f${i}_finite`, `MIN(${v}) AS f${i}_min`, `MAX(${v}) AS f${i}_max`);
      // Mean and std from sums around a pivot inside the data (a middle bin edge or value): plain sums cost half
      // of AVG + STDDEV_POP, and shifting by the pivot keeps E[(x−p)²] − E[x−p]² free of cancellation.
      const p = pivot(f.bins);
      if (p === null) cols.push(`AVG(${v}) AS f${i}_mean`, `STDDEV_POP(${v}) AS f${i}_std`);
      else {
        params[`p${i}`] = { type: 'FLOAT64', value: p };
        cols.push(...momentSums(d, v, i, params));
      }
    }
    const bins = f.bins;
    if (!bins) return null;
    const counter = bins.type === 'edges'
      ? fn.binCounts(v, bins.edges, `f${i}_b`, params)
      : fn.valueCounts(v, bins.values, f.kind === 'numerical' ? 'FLOAT64' : 'STRING', `f${i}_b`, params);
    cols.push(...counter.items);
    return counter;
  });
  // Wide views: one statement per group of features within BigQuery's limits (each scans the window again).
  const statements = pack(perFeature.map((p) => ({ columns: p.cols.length, params: Object.keys(p.params).length }))).map((group) => {
    const params: Params = Object.assign({}, ...group.map((i) => perFeature[i]!.params));
    const from = fromClause(d, src, features, params, group);
    return { sql: `SELECT ${['COUNT(*) AS n_rows', ...group.flatMap((i) => perFeature[i]!.cols)].join(',\n  ')}\nFROM ${from}`, params };
  });
  return {
    sql: statements[0]!.sql,
    params: statements[0]!.params,
    ...(statements.length > 1 ? { more: statements.slice(1) } : {}),
    parse(rows) {
      const row = rows[0] ?? {};
      const n = Number(row.n_rows ?? 0);
      const out: FeatureProfile[] = features.map((f, i) => {
        const g = (k: string) => row[`f${i}_${k}`];
        const present = Number(g('present') ?? 0);
        const numerical = f.kind === 'numerical';
        const nan = numerical ? Number(g('nan') ?? 0) : 0;
        const finite = numerical ? Number(g('finite') ?? 0) : present;
        let counts = counters[i]?.read(row) ?? null;
        if (counts && f.bins?.type === 'values') counts = [...counts, finite - counts.reduce((a, b) => a + b, 0)];
        return {
          name: f.name, type: f.type, kind: f.kind, count: n, nulls: n - present, nan, inf: present - finite - nan,
          min: num(g('min')), max: num(g('max')), ...moments(f, finite, g),
          distinct: null, bins: f.bins ?? null, counts,
        };
      });
      return {
        rows: n,
        window: src.window ? { start: src.window.start.toISOString(), end: src.window.end.toISOString() } : null,
        source: src.label, computedAt: new Date().toISOString(), features: out,
      };
    },
  };
}

export interface Discovery {
  distinct: number;
  /** Quantiles 0..k of the finite values (numerical), empty for categorical or no data. */
  quantiles: number[];
}

/** Distinct counts and k-quantiles per feature (one scan). */
export function discoverySql(d: Dialect, src: ProfileSource, features: FeatureSpec[], k: number): Statement<Discovery[]> {
  const fn = profileFunctions(d);
  const perFeature = features.map((f, i) => {
    // BigQuery refuses DISTINCT (and GROUP BY) on FLOAT64: count the text form of numbers instead.
    const key = f.kind === 'numerical' ? `CAST(v${i} AS ${d.type('STRING')})` : `v${i}`;
    const cols = [`COUNT(DISTINCT ${key}) AS f${i}_distinct`];
    if (f.kind === 'numerical') for (let j = 0; j <= k; j++) cols.push(`${fn.quantile(`v${i}`, j, k)} AS f${i}_q${j}`);
    return cols;
  });
  const statements = pack(perFeature.map((c) => ({ columns: c.length, params: 0 }))).map((group) => {
    const params: Params = {};
    const from = fromClause(d, src, features, params, group);
    return { sql: `SELECT ${['COUNT(*) AS n_rows', ...group.flatMap((i) => perFeature[i]!)].join(',\n  ')}\nFROM ${from}`, params };
  });
  return {
    sql: statements[0]!.sql,
    params: statements[0]!.params,
    ...(statements.length > 1 ? { more: statements.slice(1) } : {}),
    parse(rows) {
      const row = rows[0] ?? {};
      return features.map((f, i) => ({
        distinct: Number(row[`f${i}_distinct`] ?? 0),
        quantiles: f.kind === 'numerical'
          ? Array.from({ length: k + 1 }, (_, j) => num(row[`f${i}_q${j}`])).filter((x): x is number => x !== null)
          : [],
      }));
    },
  };
}

export interface ValueCount {
  value: string | number;
  n: number;
}

/** The `limit` most frequent values of each listed feature, ties broken by value. */
export function topValuesSql(d: Dialect, src: ProfileSource, features: FeatureSpec[], which: number[], limit: number): Statement<Map<number, ValueCount[]>> {
  const params: Params = {};
  const parts = which.map((i) => {
    const from = fromClause(d, src, features, params, [i]);
    const f = features[i]!;
    const sval = f.kind === 'numerical' ? `CAST(NULL AS ${d.type('STRING')})` : `v${i}`;
    const nval = f.kind === 'numerical' ? `MIN(v${i})` : `CAST(NULL AS ${d.type('FLOAT64')})`;
    // BigQuery cannot GROUP BY a FLOAT64: numbers are grouped by their text form and MIN() returns the number.
    const group = f.kind === 'numerical' ? `CAST(v${i} AS ${d.type('STRING')})` : `v${i}`;
    return `SELECT * FROM (SELECT ${i} AS fi, ${sval} AS sval, ${nval} AS nval, COUNT(*) AS n FROM ${from} WHERE v${i} IS NOT NULL GROUP BY ${group} ORDER BY n DESC, ${f.kind === 'numerical' ? 'nval' : 'sval'} LIMIT ${limit}) AS t${i}`;
  });
  return {
    sql: parts.join('\nUNION ALL\n'),
    params,
    parse(rows) {
      const out = new Map<number, ValueCount[]>(which.map((i) => [i, []]));
      for (const r of rows) {
        const i = Number(r.fi);
        const value = features[i]!.kind === 'numerical' ? Number(r.nval) : String(r.sval);
        out.get(i)!.push({ value, n: Number(r.n) });
      }
      for (const list of out.values()) list.sort((a, b) => b.n - a.n || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
      return out;
    },
  };
}

export async function run<T>(w: Warehouse, s: Statement<T>, labels?: Record<string, string>): Promise<T> {
  const opts = (params: Params) => ({ params, ...(labels ? { labels } : {}) });
  const rows = await w.query(s.sql, opts(s.params));
  if (!s.more?.length) return s.parse(rows);
  const merged: Row = { ...(rows[0] ?? {}) };
  for (const m of s.more) Object.assign(merged, (await w.query(m.sql, opts(m.params)))[0] ?? {});
  return s.parse([merged]);
}
