import { computeMetrics, type Metrics } from './metrics.js';
import type { Predictions } from './predictions.js';

/** Metrics of one set of rows: the candidate's, and the champion's on the same rows when it was scored. */
export interface ScoredRows {
  rows: number;
  positives: number;
  candidate: Metrics;
  champion: Metrics | null;
}

/** One slice: a value of a slice column. Slices smaller than minSliceSize are listed without metrics. */
export interface SliceResult extends Partial<ScoredRows> {
  column: string;
  value: string | null;
  /** `column=value` (`column=null` for empty values). */
  key: string;
  rows: number;
  evaluated: boolean;
}

export const sliceKey = (column: string, value: string | null) => `${column}=${value ?? 'null'}`;

function scoreRows(p: Predictions, idx: number[] | null): ScoredRows {
  const pick = <T>(a: T[]) => (idx ? idx.map((i) => a[i]!) : a);
  const labels = pick(p.labels);
  return {
    rows: labels.length,
    positives: labels.reduce((s, y) => s + y, 0),
    candidate: computeMetrics(labels, pick(p.scores)),
    champion: p.baselineScores ? computeMetrics(labels, pick(p.baselineScores)) : null,
  };
}

export function overallMetrics(p: Predictions): ScoredRows {
  return scoreRows(p, null);
}

/** Per slice column, every value's rows; metrics for those with at least `minSliceSize` rows. Sorted by key. */
export function sliceMetrics(p: Predictions, columns: readonly string[], minSliceSize: number): SliceResult[] {
  const out: SliceResult[] = [];
  for (const column of columns) {
    const values = p.slices[column] ?? [];
    const groups = new Map<string | null, number[]>();
    values.forEach((v, i) => {
      const g = groups.get(v);
      if (g) g.push(i);
      else groups.set(v, [i]);
    });
    for (const [value, idx] of groups) {
      const base = { column, value, key: sliceKey(column, value), rows: idx.length };
      out.push(idx.length >= minSliceSize ? { ...base, ...scoreRows(p, idx), evaluated: true } : { ...base, evaluated: false });
    }
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
