import type { EvaluationSpec } from './gate-spec.js';
import { applyGate, type Check } from './gate.js';
import { ECE_BINS } from './metrics.js';
import type { Predictions } from './predictions.js';
import { overallMetrics, sliceMetrics, type ScoredRows, type SliceResult } from './slices.js';

/** The evaluation report stored with a model version: metrics overall and per slice, every gate check, the verdict. */
export interface EvaluationReport {
  blessed: boolean;
  /** The champion version compared with, or null when there was none. */
  championVersion: string | null;
  overall: ScoredRows;
  slices: SliceResult[];
  checks: Check[];
  failedChecks: Check[];
  spec: EvaluationSpec;
  definitions: { accuracyThreshold: number; eceBins: number; eceBinning: string; logLossEps: number };
}

export function evaluatePredictions(p: Predictions, spec: EvaluationSpec, championVersion: string | null): EvaluationReport {
  const overall = overallMetrics(p);
  const slices = sliceMetrics(p, spec.slices, spec.minSliceSize);
  const { blessed, checks } = applyGate({ spec, overall, slices, hasChampion: championVersion !== null });
  return {
    blessed, championVersion, overall, slices, checks, failedChecks: checks.filter((c) => c.status === 'failed'), spec,
    definitions: {
      accuracyThreshold: 0.5, eceBins: ECE_BINS, logLossEps: Number.EPSILON,
      eceBinning: 'equal-width bins (k/10, (k+1)/10], 0 in the first, as sklearn calibration_curve(strategy="uniform")',
    },
  };
}
