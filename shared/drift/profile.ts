import type { ColumnType } from '../ports/warehouse.js';
import { binIndex } from './binning.js';
import type { FeatureKind } from './methods.js';

/**
 * Profiles: the small summary of one dataset or time window that drift and validation work from. A baseline is a
 * profile of the training window (with the bins chosen from it); a current window is profiled with the baseline's
 * bins so both sides count over the same bins.
 *
 * Bins of a numerical feature with edges e0 < … < eK have K + 2 counts: below e0 (open), the K inner bins
 * ([e_i, e_{i+1}), the last one closed, as numpy), and above eK (open). Per-value bins have one count per value plus
 * a last "other" count for values outside the list.
 */
export type Bins =
  | { type: 'edges'; edges: number[] }
  | { type: 'values'; values: (string | number)[] };

export interface FeatureProfile {
  name: string;
  type: ColumnType;
  kind: FeatureKind;
  /** Rows in the dataset/window (nulls included). */
  count: number;
  nulls: number;
  nan: number;
  inf: number;
  /** Over finite, non-null values (numerical only). */
  min: number | null;
  max: number | null;
  mean: number | null;
  std: number | null;
  /** Distinct non-null values (baselines only; null when not computed). */
  distinct: number | null;
  bins: Bins | null;
  counts: number[] | null;
}

export interface TimeWindow {
  start: string;
  end: string;
}

export interface Profile {
  rows: number;
  window: TimeWindow | null;
  /** What was profiled: a table name or a file path. */
  source: string;
  computedAt: string;
  features: FeatureProfile[];
}

/** Non-null, finite values of a numerical feature (those the tests use). */
export function finiteCount(f: FeatureProfile): number {
  return f.count - f.nulls - f.nan - f.inf;
}

export function kindOfType(t: ColumnType): FeatureKind | null {
  if (t === 'INT64' || t === 'FLOAT64') return 'numerical';
  if (t === 'STRING' || t === 'BOOL') return 'categorical';
  return null;
}

/** Count samples into existing bins (in memory; file mode and tests). */
export function countIntoBins(bins: Bins, values: readonly (string | number)[]): number[] {
  if (bins.type === 'edges') {
    const e = bins.edges;
    const counts = new Array<number>(e.length + 1).fill(0);
    for (const v of values as number[]) {
      if (v < e[0]!) counts[0]! += 1;
      else if (v > e[e.length - 1]!) counts[e.length]! += 1;
      else counts[binIndex(e, v) + 1]! += 1;
    }
    return counts;
  }
  const index = new Map<string | number, number>(bins.values.map((v, i) => [v, i]));
  const counts = new Array<number>(bins.values.length + 1).fill(0);
  for (const v of values) counts[index.get(v) ?? bins.values.length]! += 1;
  return counts;
}
