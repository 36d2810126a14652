import { computeOnBins, score, type BinnedCounts } from './methods.js';
import { finiteCount, type FeatureProfile, type Profile } from './profile.js';
import { summarize, type Anomaly, type DriftReport, type FeatureDrift } from './report.js';
import { selectMethod, type SelectionOptions } from './selection.js';

/**
 * Warehouse mode: drift of a current profile against the baseline profile, both counted over the baseline's bins.
 * The method is chosen from the baseline (n_ref = its finite rows, n_unique = its distinct values), so a given
 * baseline always uses the same method and reports over time stay comparable.
 */
export function binnedCounts(b: FeatureProfile, c: FeatureProfile): BinnedCounts | null {
  if (!b.bins || !b.counts || !c.counts || b.counts.length !== c.counts.length) return null;
  if (b.bins.type === 'edges') {
    const e = b.bins.edges;
    const lo = Math.min(e[0]!, b.min ?? e[0]!, c.min ?? e[0]!);
    const hi = Math.max(e[e.length - 1]!, b.max ?? -Infinity, c.max ?? -Infinity);
    return { ref: b.counts, cur: c.counts, edges: [lo, ...e, hi], refStd: b.std ?? 0 };
  }
  const values = b.bins.values;
  let first = 0;
  values.forEach((v, i) => {
    if (v < values[first]!) first = i;
  });
  const points = b.kind === 'numerical' ? (values as number[]) : undefined;
  return { ref: b.counts, cur: c.counts, firstKey: first, ...(points ? { points, refStd: b.std ?? 0 } : {}) };
}

export function compareProfiles(baseline: Profile, current: Profile, anomalies: Anomaly[], opts: SelectionOptions = {}): DriftReport {
  const skip = new Set(anomalies.filter((a) => a.kind === 'missing_feature' || a.kind === 'type_mismatch').map((a) => a.feature));
  const cur = new Map(current.features.map((f) => [f.name, f]));
  const features: FeatureDrift[] = [];
  for (const b of baseline.features) {
    const c = cur.get(b.name);
    if (!c || skip.has(b.name)) continue;
    const counts = binnedCounts(b, c);
    if (!counts || finiteCount(c) === 0 || finiteCount(b) === 0) continue;
    const { method, threshold } = selectMethod(b.name, b.kind, finiteCount(b), b.distinct ?? counts.ref.filter((x) => x > 0).length, opts);
    const r = computeOnBins(method.name, counts);
    const s = score(method, r);
    features.push({
      name: b.name, kind: b.kind, method: method.name, statistic: r.statistic, p_value: r.pValue, threshold,
      drifted: Number.isFinite(s) ? method.drifted(s, threshold) : false,
    });
  }
  return summarize(features, anomalies, opts.driftShare ?? 0.5);
}
