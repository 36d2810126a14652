import { ValidationError } from '../errors.js';
import { checkCardinality, type CardinalityRule } from './cardinality.js';
import { assertMethodFits, methodSpec, type FeatureKind, type MethodName, type MethodSpec } from './methods.js';
import { checkRange, ranges, thresholdRange, type Surface } from './options.js';

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
  /** Share of drifted features at which the dataset drifts (Evidently: 0.5), in (0, 1]. */
  driftShare?: number;
  /** High-cardinality rule for categorical features (cardinality.ts). */
  cardinality?: Partial<CardinalityRule>;
  /** Where the options came from, for error messages: the CLI (usage error, exit 2) or configuration (default). */
  surface?: Surface;
}

/** Check the dataset-level options (ranges in options.ts) and resolve their defaults. */
export function checkSelection(opts: SelectionOptions): { driftShare: number; cardinality: CardinalityRule } {
  const surface = opts.surface ?? 'config';
  const driftShare = checkRange(opts.driftShare ?? 0.5, ranges.driftShare, surface === 'cli' ? '--drift-share' : 'driftShare', surface);
  // Thresholds are checked again against the method each feature gets; here, before any data is read or any
  // feature is skipped, against the overriding method when there is one and as a positive number otherwise.
  for (const [feature, t] of Object.entries(opts.thresholds ?? {})) {
    const m = opts.methods?.[feature];
    const name = surface === 'cli' ? `--threshold ${feature}` : `thresholds.${feature}`;
    if (m) checkThreshold(methodSpec(m, feature), feature, t, surface);
    else checkRange(t, { min: 0, minOpen: true }, name, surface, 'every drift threshold is a p-value in (0, 1) or a positive distance');
  }
  return { driftShare, cardinality: checkCardinality(opts.cardinality, surface) };
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
    threshold = checkThreshold(method, feature, t, opts.surface ?? 'config');
  }
  return { method, threshold };
}

/** A threshold against its method's range: a p-value in (0, 1), or a distance in (0, the distance's maximum]. */
export function checkThreshold(method: MethodSpec, feature: string, t: number, surface: Surface): number {
  const why = method.returns === 'p_value'
    ? `${method.name} on ${feature} is a p-value test`
    : `${method.name} on ${feature} is a distance, 0 for identical data`;
  return checkRange(t, thresholdRange(method), surface === 'cli' ? `--threshold ${feature}` : `thresholds.${feature}`, surface, why);
}

export function checkPreset(p: string): Preset {
  if (!presets.includes(p as Preset)) throw new ValidationError(`unknown preset "${p}"`, { hint: `use one of: ${presets.join(', ')}` });
  return p as Preset;
}
