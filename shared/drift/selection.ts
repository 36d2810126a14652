import { ValidationError } from '../errors.js';
import { assertMethodFits, methodSpec, type FeatureKind, type MethodName, type MethodSpec } from './methods.js';

/**
 * Which method and threshold each feature gets. The `evidently` preset follows Evidently 0.7's
 * `_get_default_stattest` exactly (after NaN/Inf are dropped; n_ref = reference rows, n_unique = distinct values over
 * both sides); the `vertex` preset mirrors Vertex AI Model Monitoring (Jensen-Shannon divergence for numerical,
 * L-infinity for categorical, threshold 0.3). Per-feature overrides win over both.
 */
export type Preset = 'evidently' | 'vertex';
export const presets: readonly Preset[] = ['evidently', 'vertex'];

export interface SelectionOptions {
  preset?: Preset;
  /** Per-feature method override. */
  methods?: Record<string, string>;
  /** Per-feature threshold override. */
  thresholds?: Record<string, number>;
  /** Share of drifted features at which the dataset drifts (Evidently: 0.5). */
  driftShare?: number;
}

export function evidentlyDefault(kind: FeatureKind, nRef: number, nUnique: number): MethodName {
  if (nRef <= 1000) {
    if (kind === 'numerical' && nUnique > 5) return 'ks';
    return nUnique > 2 ? 'chisquare' : 'z';
  }
  if (kind === 'numerical') return nUnique > 5 ? 'wasserstein' : 'jensenshannon';
  return 'jensenshannon';
}

export interface Selected {
  method: MethodSpec;
  threshold: number;
}

export function selectMethod(feature: string, kind: FeatureKind, nRef: number, nUnique: number, opts: SelectionOptions = {}): Selected {
  const preset = opts.preset ?? 'evidently';
  const override = opts.methods?.[feature];
  let method: MethodSpec;
  let threshold: number;
  if (override) {
    method = methodSpec(override, feature);
    assertMethodFits(method, kind, feature);
    // The vertex preset's 0.3 is a distance threshold; a p-value test keeps its own (0.05).
    threshold = preset === 'vertex' && method.returns !== 'p_value' ? 0.3 : method.defaultThreshold;
  } else if (preset === 'vertex') {
    method = methodSpec(kind === 'numerical' ? 'jensenshannon_divergence' : 'l_infinity');
    threshold = 0.3;
  } else {
    method = methodSpec(evidentlyDefault(kind, nRef, nUnique));
    threshold = method.defaultThreshold;
  }
  const t = opts.thresholds?.[feature];
  if (t !== undefined) {
    if (!Number.isFinite(t) || t < 0) throw new ValidationError(`threshold for ${feature} must be a non-negative number, got ${t}`, { hint: 'pass --threshold col=0.1' });
    threshold = t;
  }
  return { method, threshold };
}

export function checkPreset(p: string): Preset {
  if (!presets.includes(p as Preset)) throw new ValidationError(`unknown preset "${p}"`, { hint: `use one of: ${presets.join(', ')}` });
  return p as Preset;
}
