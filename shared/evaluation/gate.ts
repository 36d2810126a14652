import { higherIsBetter, metricNames, type EvaluationSpec, type MetricName, type RegressionSpec } from './gate-spec.js';
import type { Metrics } from './metrics.js';
import { sliceKey, type ScoredRows, type SliceResult } from './slices.js';

/**
 * The gate (TFX Evaluator's model validation): absolute thresholds on the candidate's overall metrics; no regression
 * against the champion beyond the configured slack, overall and on every required slice; required slices present
 * with at least minSliceSize rows. Without a champion the regression checks are listed as skipped. Every check is
 * in the result with its status and reason; the candidate is blessed when none failed.
 */
export type CheckStatus = 'passed' | 'failed' | 'skipped';

export interface Check {
  /** Stable name, e.g. `threshold.auc.min`, `regression.log_loss`, `required_slice`, `champion_scored`. */
  check: string;
  metric: MetricName | null;
  /** `column=value`, or null for overall. */
  slice: string | null;
  status: CheckStatus;
  candidate?: number | null;
  champion?: number | null;
  /** The bound the candidate was held to. */
  limit?: number;
  detail: string;
}

const f = (x: number) => Number(x.toPrecision(6)).toString();
const where = (slice: string | null) => (slice ? ` on slice ${slice}` : ' overall');

function thresholdChecks(spec: EvaluationSpec, overall: Metrics): Check[] {
  const out: Check[] = [];
  for (const metric of metricNames) {
    const t = spec.gate.thresholds[metric];
    if (!t) continue;
    const v = overall[metric];
    for (const side of ['min', 'max'] as const) {
      const limit = t[side];
      if (limit === undefined) continue;
      const check = `threshold.${metric}.${side}`;
      if (v === null) {
        out.push({ check, metric, slice: null, status: 'failed', candidate: null, limit, detail: `${metric} is undefined overall (the test split has one class only), so it cannot be held to ${side} ${f(limit)}` });
        continue;
      }
      const ok = side === 'min' ? v >= limit : v <= limit;
      out.push({ check, metric, slice: null, status: ok ? 'passed' : 'failed', candidate: v, limit,
        detail: `candidate ${metric} ${f(v)} ${ok ? 'is' : 'is not'} ${side === 'min' ? '>=' : '<='} ${f(limit)}` });
    }
  }
  return out;
}

/** The worst value the candidate may have given the champion's, and how the slack reads. */
function regressionLimit(metric: MetricName, r: RegressionSpec, champion: number): { limit: number; slack: string } {
  if (r.maxDrop !== undefined) return { limit: champion - r.maxDrop, slack: `champion ${f(champion)} - maxDrop ${f(r.maxDrop)}` };
  if (r.maxRelativeDrop !== undefined) return { limit: champion - Math.abs(champion) * r.maxRelativeDrop, slack: `champion ${f(champion)} - ${f(r.maxRelativeDrop * 100)}%` };
  if (r.maxIncrease !== undefined) return { limit: champion + r.maxIncrease, slack: `champion ${f(champion)} + maxIncrease ${f(r.maxIncrease)}` };
  const rel = r.maxRelativeIncrease!;
  return { limit: champion + Math.abs(champion) * rel, slack: `champion ${f(champion)} + ${f(rel * 100)}%` };
}

function regressionChecks(spec: EvaluationSpec, set: ScoredRows | null, slice: string | null, hasChampion: boolean): Check[] {
  const out: Check[] = [];
  for (const metric of metricNames) {
    const r = spec.gate.regression[metric];
    if (!r) continue;
    const check = `regression.${metric}`;
    if (!hasChampion) {
      out.push({ check, metric, slice, status: 'skipped', detail: `no champion to compare with${where(slice)}: absolute checks only` });
      continue;
    }
    if (!set?.champion) {
      out.push({ check, metric, slice, status: 'failed', detail: `the champion was not scored${where(slice)}, so ${metric} cannot be compared` });
      continue;
    }
    const [c, b] = [set.candidate[metric], set.champion[metric]];
    if (c === null || b === null) {
      out.push({ check, metric, slice, status: 'failed', candidate: c, champion: b, detail: `${metric} is undefined${where(slice)} (one class only), so no regression can be ruled out` });
      continue;
    }
    const { limit, slack } = regressionLimit(metric, r, b);
    const up = higherIsBetter[metric];
    const ok = up ? c >= limit : c <= limit;
    out.push({ check, metric, slice, status: ok ? 'passed' : 'failed', candidate: c, champion: b, limit,
      detail: `candidate ${metric} ${f(c)}${where(slice)} ${ok ? 'is within' : 'regresses beyond'} the allowed ${up ? 'minimum' : 'maximum'} ${f(limit)} (${slack})` });
  }
  return out;
}

export interface GateInput {
  spec: EvaluationSpec;
  overall: ScoredRows;
  slices: SliceResult[];
  /** A champion exists in the registry (its scores are expected in the predictions). */
  hasChampion: boolean;
}

export function applyGate(g: GateInput): { blessed: boolean; checks: Check[] } {
  const checks: Check[] = [...thresholdChecks(g.spec, g.overall.candidate)];
  if (g.hasChampion) {
    const scored = g.overall.champion !== null;
    checks.push({ check: 'champion_scored', metric: null, slice: null, status: scored ? 'passed' : 'failed',
      detail: scored ? 'the champion was scored on the same test rows' : 'a champion exists but predictions.csv has no baseline_score column: the trainer did not score the champion (CTLOOP_BASELINE_MODEL_DIR)' });
  }
  checks.push(...regressionChecks(g.spec, g.overall, null, g.hasChampion));
  for (const req of g.spec.gate.requiredSlices) {
    const key = sliceKey(req.column, req.value);
    const s = g.slices.find((x) => x.key === key);
    const present = Boolean(s?.evaluated);
    checks.push({ check: 'required_slice', metric: null, slice: key, status: present ? 'passed' : 'failed',
      detail: present ? `${key} has ${s!.rows} rows (>= minSliceSize ${g.spec.minSliceSize})`
        : `required slice ${key} has ${s?.rows ?? 0} rows in the test split; at least ${g.spec.minSliceSize} are needed (minSliceSize)` });
    checks.push(...regressionChecks(g.spec, present ? (s as ScoredRows) : null, key, g.hasChampion)
      .map((c) => (!present && c.status === 'failed' ? { ...c, detail: `${key} is missing, so ${c.metric} cannot be compared on it` } : c)));
  }
  return { blessed: checks.every((c) => c.status !== 'failed'), checks };
}
