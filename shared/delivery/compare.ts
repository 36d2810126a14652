import { computeOnSamples, methods, score } from '../drift/methods.js';
import type { CanaryPolicy } from './config.js';
import type { LiveSignals } from './signals.js';

/**
 * The canary verdict: canary vs champion on live signals, and the canary's live predictions against the candidate's
 * own test predictions (the drift method of the policy). A check without enough data is `skipped`, never failed;
 * the canary is promoted when no check failed.
 */
export interface CanaryCheck {
  check: 'error_rate' | 'latency_p99' | 'prediction_drift';
  status: 'passed' | 'failed' | 'skipped';
  detail: string;
  canary: number | null;
  reference: number | null;
  limit: number | null;
}

export interface CanaryVerdict {
  promote: boolean;
  checks: CanaryCheck[];
}

/** Fewest predictions on each side for the distribution check to be meaningful. */
export const MIN_DRIFT_SAMPLES = 30;

export function compareCanary(canary: LiveSignals, champion: LiveSignals | null, testPredictions: readonly number[], policy: CanaryPolicy): CanaryVerdict {
  const checks: CanaryCheck[] = [];
  // Error rate.
  if (canary.errors === null || canary.count === 0) {
    checks.push({ check: 'error_rate', status: 'skipped', detail: canary.errors === null ? 'the serving log records no errors column' : 'the canary answered nothing', canary: null, reference: null, limit: null });
  } else {
    const rate = canary.errors / canary.count;
    const ref = champion && champion.errors !== null && champion.count > 0 ? champion.errors / champion.count : 0;
    const limit = ref + policy.maxErrorRateDelta;
    checks.push({ check: 'error_rate', status: rate > limit ? 'failed' : 'passed', detail: `canary ${(rate * 100).toFixed(2)}% errors, champion ${(ref * 100).toFixed(2)}%, allowed ${(limit * 100).toFixed(2)}%`, canary: rate, reference: ref, limit });
  }
  // Latency.
  if (canary.latencyP99Ms === null || !champion || champion.latencyP99Ms === null || champion.latencyP99Ms <= 0) {
    checks.push({ check: 'latency_p99', status: 'skipped', detail: 'no latency of both canary and champion in the serving log', canary: canary.latencyP99Ms, reference: champion?.latencyP99Ms ?? null, limit: null });
  } else {
    const limit = champion.latencyP99Ms * policy.maxLatencyRatio;
    checks.push({ check: 'latency_p99', status: canary.latencyP99Ms > limit ? 'failed' : 'passed', detail: `canary p99 ${canary.latencyP99Ms.toFixed(1)} ms, champion ${champion.latencyP99Ms.toFixed(1)} ms, allowed ${limit.toFixed(1)} ms`, canary: canary.latencyP99Ms, reference: champion.latencyP99Ms, limit });
  }
  // Prediction distribution vs the candidate's test predictions.
  if (canary.predictions.length < MIN_DRIFT_SAMPLES || testPredictions.length < MIN_DRIFT_SAMPLES) {
    checks.push({ check: 'prediction_drift', status: 'skipped', detail: `needs ${MIN_DRIFT_SAMPLES} live and test predictions (have ${canary.predictions.length} and ${testPredictions.length})`, canary: null, reference: null, limit: policy.driftThreshold });
  } else {
    const m = methods[policy.driftMethod];
    const s = score(m, computeOnSamples(m.name, 'numerical', testPredictions as number[], canary.predictions));
    const drifted = m.drifted(s, policy.driftThreshold);
    checks.push({ check: 'prediction_drift', status: drifted ? 'failed' : 'passed', detail: `${m.name} ${m.returns === 'p_value' ? 'p-value' : 'distance'} ${s.toFixed(4)} between live canary predictions and the candidate's test predictions (threshold ${policy.driftThreshold})`, canary: s, reference: null, limit: policy.driftThreshold });
  }
  return { promote: !checks.some((c) => c.status === 'failed'), checks };
}
