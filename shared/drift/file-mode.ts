import { validate } from './anomalies.js';
import { describeHighCardinality, highCardinality } from './cardinality.js';
import { computeOnSamples, score } from './methods.js';
import { summarize, type DriftReport, type FeatureDrift, type SkippedFeature } from './report.js';
import { profileSamples, usable, type SampleColumn } from './samples.js';
import { checkSelection, selectMethod, type SelectionOptions } from './selection.js';

/**
 * File mode: reproduces Evidently 0.7's numbers on two in-memory datasets. ks, chisquare, z and wasserstein run on
 * the raw values; the binned methods use Evidently's binning. Every reference column is either compared or listed in
 * `skipped` with its reason: absent from the current data, no values on one side (an anomaly too), or a
 * high-cardinality categorical column (cardinality.ts).
 */
export function compareSamples(reference: SampleColumn[], current: SampleColumn[], opts: SelectionOptions & { refLabel?: string; curLabel?: string } = {}): DriftReport {
  const { driftShare, cardinality } = checkSelection(opts);
  const refProfile = profileSamples(reference, opts.refLabel ?? 'reference');
  const curProfile = profileSamples(current, opts.curLabel ?? 'current', refProfile);
  const cur = new Map(current.map((c) => [c.name, c]));
  const features: FeatureDrift[] = [];
  const skipped: SkippedFeature[] = [];
  for (const r of reference) {
    const skip = (reason: SkippedFeature['reason'], message: string, details?: Record<string, number>) =>
      void skipped.push({ name: r.name, kind: r.kind, reason, message, ...(details ? { details } : {}) });
    const c = cur.get(r.name);
    if (!c) {
      skip('missing', `${r.name} is not in ${curProfile.source}`);
      continue;
    }
    const ru = usable(r);
    const cu = usable(c);
    if (ru.length === 0) {
      skip('no_reference_values', `${r.name} has no values in ${refProfile.source} (all empty${r.kind === 'numerical' ? ', NaN or ±Inf' : ''})`);
      continue;
    }
    if (cu.length === 0) {
      skip('no_current_values', `${r.name} has no values in ${curProfile.source} (all empty${r.kind === 'numerical' ? ', NaN or ±Inf' : ''})`);
      continue;
    }
    const high = highCardinality(refProfile.features.find((f) => f.name === r.name)!, cardinality);
    if (high) {
      skip('high_cardinality', describeHighCardinality(r.name, high, cardinality), {
        distinct: high.distinct, values: high.values, maxDistinctShare: cardinality.maxDistinctShare, floor: cardinality.floor,
      });
      continue;
    }
    const nUnique = new Set<string | number>([...ru, ...cu]).size;
    const { method, threshold } = selectMethod(r.name, r.kind, ru.length, nUnique, opts);
    const res = computeOnSamples(method.name, r.kind, ru, cu);
    const s = score(method, res);
    features.push({
      name: r.name, kind: r.kind, method: method.name, statistic: res.statistic, p_value: res.pValue, threshold,
      drifted: Number.isFinite(s) ? method.drifted(s, threshold) : false,
    });
  }
  const anomalies = validate(refProfile, curProfile, current.map((c) => ({ name: c.name, type: c.type })), { cardinality });
  return summarize(features, anomalies, driftShare, skipped);
}
