import type { Dialect, Params, Row } from '../ports/warehouse.js';

/**
 * The places where the profile SQL needs a function whose name or shape differs between DuckDB and BigQuery. Kept
 * here, next to the only SQL that uses them, instead of widening the shared Dialect. Everything else in
 * profile-sql.ts is the same text on both engines.
 * - NaN / ±Inf tests: DuckDB `isnan`/`isinf`/`isfinite`, BigQuery `IS_NAN`/`IS_INF`;
 * - a quantile: DuckDB `quantile_disc(x, q)` (exact, discrete), BigQuery `APPROX_QUANTILES(x, k)[OFFSET(i)]`
 *   (approximate, discrete). Both return values that occur in the data; they serve only as baseline bin edges,
 *   and the counts in those bins are then exact on both engines;
 * - a conditional count: DuckDB `count_if`, BigQuery `COUNTIF`;
 * - counting a column into bins (see `binCounts`, `valueCounts`): one aggregate per feature on DuckDB (or a few
 *   count_if for short value lists), one COUNTIF per bin on BigQuery. Both are exact.
 */
export interface ProfileFunctions {
  isNan(expr: string): string;
  isInf(expr: string): string;
  /** `expr` when it is finite, else NULL (NULL stays NULL). */
  finite(expr: string): string;
  countIf(cond: string): string;
  /** The i-th of k quantiles (i = 0 → min, i = k → max). */
  quantile(expr: string, i: number, k: number): string;
  /**
   * Counts of the finite values `expr` in the K + 2 bins of edges e0 < … < eK: below e0, [e_j, e_{j+1}) for
   * j < K - 1, [e_{K-1}, e_K] (closed, as numpy), above eK. Adds its parameters (named `alias…`) to `params`.
   */
  binCounts(expr: string, edges: number[], alias: string, params: Params): BinCounter;
  /** Counts of `expr` equal to each listed value (values outside the list are not counted). */
  valueCounts(expr: string, values: (string | number)[], type: 'STRING' | 'FLOAT64', alias: string, params: Params): BinCounter;
}

export interface BinCounter {
  /** SELECT items (aggregates, each with an alias starting with the given alias). */
  items: string[];
  /** The counts, one per bin, read from the result row. */
  read(row: Row): number[];
}

/** The largest double below x (x finite): `v < x` ⇔ `v <= nextDown(x)` for every double v. */
export function nextDown(x: number): number {
  if (x === 0) return -Number.MIN_VALUE;
  const f = new Float64Array([x]);
  const u = new BigInt64Array(f.buffer);
  u[0] = u[0]! + (x > 0 ? -1n : 1n);
  return f[0]!;
}

/** The smallest double above x (x finite): `v > x` ⇔ `v >= nextUp(x)`. */
export function nextUp(x: number): number {
  return -nextDown(-x);
}

/** DuckDB returns a MAP as JSON text `[{"key": k, "value": n}, …]` sorted by key (see the DuckDB adapter). */
function mapEntries(v: unknown): { key: unknown; value: number }[] {
  if (v === null || v === undefined) return [];
  const list = (typeof v === 'string' ? JSON.parse(v) : v) as { key: unknown; value: unknown }[];
  return list.map((e) => ({ key: e.key, value: Number(e.value) }));
}

/** One aggregate column per bin. */
function columns(alias: string, n: number, item: (j: number) => string): BinCounter {
  return {
    items: Array.from({ length: n }, (_, j) => `${item(j)} AS ${alias}_${j}`),
    read: (row) => Array.from({ length: n }, (_, j) => Number(row[`${alias}_${j}`] ?? 0)),
  };
}

/** One conditional count per listed value. */
function equalityCounts(d: Dialect, countIf: (c: string) => string, e: string, values: (string | number)[], type: 'STRING' | 'FLOAT64', alias: string, params: Params): BinCounter {
  values.forEach((v, j) => { params[`${alias}_${j}`] = { type, value: v }; });
  return columns(alias, values.length, (j) => countIf(`${e} = ${d.param(`${alias}_${j}`)}`));
}

/**
 * On DuckDB a few equality counts (branch-free, a few ns a row each) beat one histogram_exact (a binary search per
 * row, about 30 ns of CPU) up to this many values.
 */
const DUCKDB_EQUALITY_COUNTS_MAX = 8;

function duckdb(d: Dialect): ProfileFunctions {
  return {
    isNan: (e) => `isnan(${e})`,
    isInf: (e) => `isinf(${e})`,
    finite: (e) => `CASE WHEN isfinite(${e}) THEN ${e} END`,
    countIf: (c) => `count_if(${c})`,
    quantile: (e, i, k) => `quantile_disc(${e}, ${i / k})`,
    // histogram(x, boundaries) puts x in the first boundary b with x <= b (one binary search per value), and values
    // above the last boundary in an extra entry that appears only when it is not empty. Boundaries nextDown(e_j)
    // turn `<=` into the `<` of half-open bins; the last boundary e_K closes the last inner bin.
    binCounts(e, edges, alias, params) {
      const K = edges.length - 1;
      params[`${alias}_b`] = { type: { array: 'FLOAT64' }, value: [...edges.slice(0, K).map(nextDown), edges[K]!] };
      return {
        items: [`histogram(${e}, ${d.param(`${alias}_b`)}) AS ${alias}_h`],
        read(row) {
          const counts = new Array<number>(K + 2).fill(0);
          mapEntries(row[`${alias}_h`]).forEach((x, j) => { if (j < K + 2) counts[j] = x.value; });
          return counts;
        },
      };
    },
    // histogram_exact(x, elements) counts each element (empty ones included) plus one "other" entry when some value
    // is not listed; entries come sorted by key, so they are matched back to the list by key.
    valueCounts(e, values, type, alias, params) {
      if (values.length <= DUCKDB_EQUALITY_COUNTS_MAX) return equalityCounts(d, (c) => `count_if(${c})`, e, values, type, alias, params);
      params[`${alias}_v`] = { type: { array: type }, value: values };
      const index = new Map<unknown, number>(values.map((v, j) => [v, j]));
      return {
        items: [`histogram_exact(${e}, ${d.param(`${alias}_v`)}) AS ${alias}_h`],
        read(row) {
          const counts = new Array<number>(values.length).fill(0);
          mapEntries(row[`${alias}_h`]).slice(0, values.length).forEach((x) => {
            const j = index.get(type === 'FLOAT64' ? Number(x.key) : String(x.key));
            if (j !== undefined) counts[j] = x.value;
          });
          return counts;
        },
      };
    },
  };
}

function bigquery(d: Dialect): ProfileFunctions {
  return {
    isNan: (e) => `IS_NAN(${e})`,
    isInf: (e) => `IS_INF(${e})`,
    finite: (e) => `CASE WHEN IS_NAN(${e}) OR IS_INF(${e}) THEN NULL ELSE ${e} END`,
    countIf: (c) => `COUNTIF(${c})`,
    quantile: (e, i, k) => `APPROX_QUANTILES(${e}, ${k})[OFFSET(${i})]`,
    // RANGE_BUCKET(x, b) is the number of boundaries <= x: with b = [e0, …, e_{K-1}, nextUp(e_K)] it is the bin
    // index directly (x = e_K falls in the closed last inner bin).
    binCounts(e, edges, alias, params) {
      const K = edges.length - 1;
      params[`${alias}_b`] = { type: { array: 'FLOAT64' }, value: [...edges.slice(0, K), nextUp(edges[K]!)] };
      return columns(alias, K + 2, (j) => `COUNTIF(RANGE_BUCKET(${e}, ${d.param(`${alias}_b`)}) = ${j})`);
    },
    valueCounts: (e, values, type, alias, params) => equalityCounts(d, (c) => `COUNTIF(${c})`, e, values, type, alias, params),
  };
}

export function profileFunctions(d: Dialect): ProfileFunctions {
  return d.name === 'bigquery' ? bigquery(d) : duckdb(d);
}
