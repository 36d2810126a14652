import { computeOnBins, score, type BinnedCounts } from './methods.js';
import { finiteCount, type FeatureProfile, type Profile } from './profile.js';
import { describeHighCardinality, highCardinality } from './cardinality.js';
import { summarize, type Anomaly, type DriftReport, type FeatureDrift, type SkippedFeature } from './report.js';
import { checkSelection, selectMethod, type SelectionOptions } from './selection.js';

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
  const { driftShare, cardinality } = checkSelection(opts);
  const absent = new Map(anomalies.filter((a) => a.kind === 'missing_feature' || a.kind === 'type_mismatch').map((a) => [a.feature, a]));
  const cur = new Map(current.features.map((f) => [f.name, f]));
  const features: FeatureDrift[] = [];
  const skipped: SkippedFeature[] = [];
  for (const b of baseline.features) {
    const skip = (reason: SkippedFeature['reason'], message: string, details?: Record<string, number>) =>
      void skipped.push({ name: b.name, kind: b.kind, reason, message, ...(details ? { details } : {}) });
    const c = cur.get(b.name);
    const a = absent.get(b.name);
    if (a?.kind === 'type_mismatch') {
      skip('type_mismatch', a.message);
      continue;
    }
    if (!c || a) {
      skip(c ? 'no_current_values' : 'missing', a?.message ?? `feature ${b.name} is missing`);
      continue;
    }
    if (finiteCount(b) === 0) {
      skip('no_reference_values', `${b.name} has no values in the baseline`);
      continue;
    }
    if (finiteCount(c) === 0) {
      skip('no_current_values', `${b.name} has no values in the window`);
      continue;
    }
    const high = highCardinality(b, cardinality);
    if (high) {
      skip('high_cardinality', describeHighCardinality(b.name, high, cardinality), {
        distinct: high.distinct, values: high.values, maxDistinctShare: cardinality.maxDistinctShare, floor: cardinality.floor,
      });
      continue;
    }
    const counts = binnedCounts(b, c);
    if (!counts) {
      skip('no_bins', `the baseline stores no bins for ${b.name} that the window's counts match; register a new baseline`);
      continue;
    }
    const { method, threshold } = selectMethod(b.name, b.kind, finiteCount(b), b.distinct ?? counts.ref.filter((x) => x > 0).length, opts);
    const r = computeOnBins(method.name, counts);
    const s = score(method, r);
    features.push({
      name: b.name, kind: b.kind, method: method.name, statistic: r.statistic, p_value: r.pValue, threshold,
      drifted: Number.isFinite(s) ? method.drifted(s, threshold) : false,
    });
  }
  return summarize(features, anomalies, driftShare, skipped);
}
