import type { Dialect } from '../ports/warehouse.js';

/**
 * The three places where the profile SQL needs a function whose name differs between DuckDB and BigQuery. Kept
 * here, next to the only SQL that uses them, instead of widening the shared Dialect:
 * - NaN / ±Inf tests: DuckDB `isnan`/`isinf`, BigQuery `IS_NAN`/`IS_INF`;
 * - a quantile: DuckDB `quantile_disc(x, q)` (exact, discrete), BigQuery `APPROX_QUANTILES(x, k)[OFFSET(i)]`
 *   (approximate, discrete). Both return values that occur in the data; they serve only as baseline bin edges,
 *   and the counts in those bins are then exact on both engines.
 */
export interface ProfileFunctions {
  isNan(expr: string): string;
  isInf(expr: string): string;
  /** The i-th of k quantiles (i = 0 → min, i = k → max). */
  quantile(expr: string, i: number, k: number): string;
}

export function profileFunctions(d: Dialect): ProfileFunctions {
  if (d.name === 'bigquery') {
    return {
      isNan: (e) => `IS_NAN(${e})`,
      isInf: (e) => `IS_INF(${e})`,
      quantile: (e, i, k) => `APPROX_QUANTILES(${e}, ${k})[OFFSET(${i})]`,
    };
  }
  return {
    isNan: (e) => `isnan(${e})`,
    isInf: (e) => `isinf(${e})`,
    quantile: (e, i, k) => `quantile_disc(${e}, ${i / k})`,
  };
}

/** A portable conditional count (BigQuery has COUNTIF, DuckDB count_if; both have SUM(CASE …)). */
export function countWhen(cond: string): string {
  return `SUM(CASE WHEN ${cond} THEN 1 ELSE 0 END)`;
}
