import type { FeatureKind, MethodName } from './methods.js';

/** One data-validation finding (TFDV-class anomaly). */
export type AnomalyKind =
  | 'missing_feature' | 'type_mismatch' | 'new_values' | 'out_of_range' | 'null_rate_increase' | 'nan' | 'inf'
  | 'volume' | 'no_data' | 'no_reference_data';

export interface Anomaly {
  kind: AnomalyKind;
  feature: string | null;
  observed: unknown;
  expected: unknown;
  /** Human-readable sentence. */
  message: string;
}

/** Blocking anomalies: the data is broken, retraining on it would be wrong; raise an alert instead. */
export const blockingAnomalies: readonly AnomalyKind[] = ['missing_feature', 'type_mismatch', 'no_data'];

export interface FeatureDrift {
  name: string;
  kind: FeatureKind;
  method: MethodName;
  statistic: number;
  p_value: number | null;
  threshold: number;
  drifted: boolean;
}

/** Why a reference feature was not compared (it then counts neither as drifted nor as not drifted). */
export type SkipReason = 'missing' | 'type_mismatch' | 'no_reference_values' | 'no_current_values' | 'high_cardinality' | 'no_bins';

export interface SkippedFeature {
  name: string;
  kind: FeatureKind;
  reason: SkipReason;
  /** Human-readable sentence. */
  message: string;
  /** high_cardinality: distinct reference values, non-null reference values, and the rule applied. */
  details?: Record<string, number>;
}

/**
 * The report as printed by `ctloop drift --format json`: every reference feature is either in `features` (compared)
 * or in `skipped` (with the reason).
 */
export interface DriftReport {
  dataset_drift: boolean;
  drift_share: number;
  share_drifted: number;
  features: FeatureDrift[];
  anomalies: Anomaly[];
  skipped: SkippedFeature[];
}

export function summarize(features: FeatureDrift[], anomalies: Anomaly[], driftShare = 0.5, skipped: SkippedFeature[] = []): DriftReport {
  const drifted = features.filter((f) => f.drifted).length;
  const share = features.length ? drifted / features.length : 0;
  return { dataset_drift: features.length > 0 && share >= driftShare, drift_share: driftShare, share_drifted: share, features, anomalies, skipped };
}
