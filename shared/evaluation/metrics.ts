import type { MetricName } from './gate-spec.js';

/**
 * Binary-classification metrics over labels (0/1) and scores (probabilities of 1), defined as scikit-learn 1.2
 * defines them so that results can be checked against it:
 * - `auc`: area under the ROC curve, exact, ties counted half (sklearn's `roc_auc_score`, i.e. the Mann-Whitney
 *   statistic with average ranks); null when only one class is present (sklearn raises).
 * - `log_loss`: mean negative log-likelihood with scores clipped to [ε, 1-ε], ε = 2.22e-16 (float64 machine epsilon:
 *   sklearn's `eps="auto"`); null when only one class is present (sklearn raises).
 * - `accuracy`: share of rows where (score >= 0.5) equals the label.
 * - `ece`: expected calibration error over 10 equal-width bins of the score, binned as sklearn's
 *   `calibration_curve(strategy="uniform", n_bins=10)`: edges k/10, bin k holds (edge_k, edge_k+1] and bin 0 also
 *   holds 0; ECE = Σ_bins (n_bin / n) · |mean(label) − mean(score)| over non-empty bins.
 */
export type Metrics = Record<MetricName, number | null>;

export const ECE_BINS = 10;

export function auc(labels: ArrayLike<number>, scores: ArrayLike<number>): number | null {
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let pos = 0;
  let rankSumPos = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const avgRank = (i + j + 2) / 2; // ranks are 1-based: i+1 … j+1
    for (let k = i; k <= j; k++) {
      if (labels[order[k]!] === 1) {
        pos++;
        rankSumPos += avgRank;
      }
    }
    i = j + 1;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return null;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

export function logLoss(labels: ArrayLike<number>, scores: ArrayLike<number>): number | null {
  const n = labels.length;
  let pos = 0;
  for (let i = 0; i < n; i++) pos += labels[i]!;
  if (n === 0 || pos === 0 || pos === n) return null;
  const eps = Number.EPSILON;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.min(Math.max(scores[i]!, eps), 1 - eps);
    const q = 1 - p;
    const total = p + q; // sklearn renormalises the clipped [1-p, p] row
    sum -= Math.log((labels[i] === 1 ? p : q) / total);
  }
  return sum / n;
}

export function accuracy(labels: ArrayLike<number>, scores: ArrayLike<number>): number | null {
  const n = labels.length;
  if (n === 0) return null;
  let right = 0;
  for (let i = 0; i < n; i++) right += (scores[i]! >= 0.5 ? 1 : 0) === labels[i] ? 1 : 0;
  return right / n;
}

/** The ECE bin of a score: the number of inner edges k/10 (k = 1…9) strictly below it. */
export function eceBin(score: number): number {
  let b = 0;
  for (let k = 1; k < ECE_BINS; k++) if (k * (1 / ECE_BINS) < score) b = k;
  return b;
}

export function expectedCalibrationError(labels: ArrayLike<number>, scores: ArrayLike<number>): number | null {
  const n = labels.length;
  if (n === 0) return null;
  const count = new Array<number>(ECE_BINS).fill(0);
  const sumLabel = new Array<number>(ECE_BINS).fill(0);
  const sumScore = new Array<number>(ECE_BINS).fill(0);
  for (let i = 0; i < n; i++) {
    const b = eceBin(scores[i]!);
    count[b]!++;
    sumLabel[b]! += labels[i]!;
    sumScore[b]! += scores[i]!;
  }
  let ece = 0;
  for (let b = 0; b < ECE_BINS; b++) {
    if (count[b] === 0) continue;
    ece += (count[b]! / n) * Math.abs(sumLabel[b]! / count[b]! - sumScore[b]! / count[b]!);
  }
  return ece;
}

export function computeMetrics(labels: ArrayLike<number>, scores: ArrayLike<number>): Metrics {
  return {
    auc: auc(labels, scores),
    log_loss: logLoss(labels, scores),
    accuracy: accuracy(labels, scores),
    ece: expectedCalibrationError(labels, scores),
  };
}
