import type { FeatureKind, MethodName } from './methods.js';

/** One data-validation finding (TFDV-class anomaly). */
export type AnomalyKind =
  | 'missing_feature' | 'type_mismatch' | 'new_values' | 'out_of_range' | 'null_rate_increase' | 'nan' | 'inf'
  | 'volume' | 'no_data';

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

/** The report as printed by `ctloop drift --format json` (the exact shape), plus provenance when known. */
export interface DriftReport {
  dataset_drift: boolean;
  drift_share: number;
  share_drifted: number;
  features: FeatureDrift[];
  anomalies: Anomaly[];
}

export function summarize(features: FeatureDrift[], anomalies: Anomaly[], driftShare = 0.5): DriftReport {
  const drifted = features.filter((f) => f.drifted).length;
  const share = features.length ? drifted / features.length : 0;
  return { dataset_drift: features.length > 0 && share >= driftShare, drift_share: driftShare, share_drifted: share, features, anomalies };
}
