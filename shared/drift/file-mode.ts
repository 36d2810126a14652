import { validate } from './anomalies.js';
import { computeOnSamples, score } from './methods.js';
import { summarize, type DriftReport, type FeatureDrift } from './report.js';
import { profileSamples, usable, type SampleColumn } from './samples.js';
import { selectMethod, type SelectionOptions } from './selection.js';

/**
 * File mode: reproduces Evidently 0.7's numbers on two in-memory datasets. ks, chisquare, z and wasserstein run on
 * the raw values; the binned methods use Evidently's binning. Every reference column is compared; the columns must
 * have been checked present in both (see file-reader.ts) and of the same kind.
 */
export function compareSamples(reference: SampleColumn[], current: SampleColumn[], opts: SelectionOptions & { refLabel?: string; curLabel?: string } = {}): DriftReport {
  const cur = new Map(current.map((c) => [c.name, c]));
  const features: FeatureDrift[] = [];
  for (const r of reference) {
    const c = cur.get(r.name);
    if (!c) continue;
    const ru = usable(r);
    const cu = usable(c);
    if (ru.length === 0 || cu.length === 0) continue;
    const nUnique = new Set<string | number>([...ru, ...cu]).size;
    const { method, threshold } = selectMethod(r.name, r.kind, ru.length, nUnique, opts);
    const res = computeOnSamples(method.name, r.kind, ru, cu);
    const s = score(method, res);
    features.push({
      name: r.name, kind: r.kind, method: method.name, statistic: res.statistic, p_value: res.pValue, threshold,
      drifted: Number.isFinite(s) ? method.drifted(s, threshold) : false,
    });
  }
  const refProfile = profileSamples(reference, opts.refLabel ?? 'reference');
  const curProfile = profileSamples(current, opts.curLabel ?? 'current', refProfile);
  const anomalies = validate(refProfile, curProfile, current.map((c) => ({ name: c.name, type: c.type })));
  return summarize(features, anomalies, opts.driftShare ?? 0.5);
}
