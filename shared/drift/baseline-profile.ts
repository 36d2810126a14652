import type { Warehouse } from '../ports/warehouse.js';
import type { Bins, Profile } from './profile.js';
import { discoverySql, run, topValuesSql, windowProfileSql, type FeatureSpec, type ProfileSource } from './profile-sql.js';

export interface BaselineOptions {
  /** Quantile bins for numerical features with many distinct values (default 20). */
  quantileBins?: number;
  /** Numerical features with at most this many distinct values get per-value bins (Evidently's cut: 20). */
  maxValueBins?: number;
  /** Categorical values kept in the domain; the rest are "other" (default 100). */
  maxCategories?: number;
}

/** Sorted, de-duplicated quantile edges. */
export function edgesFromQuantiles(q: number[]): number[] {
  return [...new Set(q.filter((x) => Number.isFinite(x)))].sort((a, b) => a - b);
}

/**
 * Profile a training window as a baseline: choose each feature's bins from the data (quantile edges, or the value
 * domain), then count the window into them with the same one-scan statement a drift check uses.
 */
export async function computeBaselineProfile(w: Warehouse, src: ProfileSource, features: FeatureSpec[], opts: BaselineOptions = {}): Promise<Profile> {
  const k = opts.quantileBins ?? 20;
  const maxValueBins = opts.maxValueBins ?? 20;
  const maxCategories = opts.maxCategories ?? 100;
  const disc = await run(w, discoverySql(w.dialect, src, features, k), { ctloop_step: 'drift_baseline' });
  const needValues: number[] = [];
  const edges = new Map<number, number[]>();
  features.forEach((f, i) => {
    const dsc = disc[i]!;
    if (f.kind === 'categorical') return void needValues.push(i);
    const e = edgesFromQuantiles(dsc.quantiles);
    if (dsc.distinct <= maxValueBins || e.length < 2) needValues.push(i);
    else edges.set(i, e);
  });
  const top = needValues.length
    ? await run(w, topValuesSql(w.dialect, src, features, needValues, Math.max(maxCategories, maxValueBins)), { ctloop_step: 'drift_baseline' })
    : new Map();
  const withBins: FeatureSpec[] = features.map((f, i) => {
    let bins: Bins;
    const e = edges.get(i);
    if (e) bins = { type: 'edges', edges: e };
    else {
      const vals = (top.get(i) ?? []).slice(0, f.kind === 'numerical' ? maxValueBins : maxCategories).map((v: { value: string | number }) => v.value);
      vals.sort((a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0));
      bins = { type: 'values', values: vals };
    }
    return { ...f, bins };
  });
  const profile = await run(w, windowProfileSql(w.dialect, src, withBins), { ctloop_step: 'drift_baseline' });
  profile.features.forEach((f, i) => {
    f.distinct = disc[i]!.distinct;
  });
  return profile;
}
