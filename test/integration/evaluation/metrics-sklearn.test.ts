import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { computeMetrics } from '../../../shared/evaluation/metrics.js';
import { parsePredictions } from '../../../shared/evaluation/predictions.js';
import { sliceMetrics } from '../../../shared/evaluation/slices.js';

/**
 * Metrics equal scikit-learn's (Debian python3-sklearn 1.2.1 on /usr/bin/python3), computed by sklearn on the same
 * fixture file in this test: roc_auc_score, log_loss (eps="auto"), accuracy_score at 0.5, and ECE from
 * calibration_curve(strategy="uniform", n_bins=10) weighted by the bin counts.
 */
const PYTHON = '/usr/bin/python3';

function sklearnSkipReason(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import sklearn, numpy; print(sklearn.__version__)'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} is not runnable (${r.error.message}): install Debian python3-sklearn`;
  if (r.status !== 0) return `${PYTHON} has no sklearn (${r.stderr.trim().split('\n').at(-1)}): install Debian python3-sklearn`;
  return null;
}
const skip = sklearnSkipReason();
if (skip) console.warn(`skipping sklearn comparison: ${skip}`);

const SCRIPT = `
import json, sys
import numpy as np, pandas as pd
from sklearn.metrics import roc_auc_score, log_loss, accuracy_score
from sklearn.calibration import calibration_curve
df = pd.read_csv(sys.argv[1], dtype={'origin': str})
min_size = int(sys.argv[2])
def metrics(y, s):
    y = np.asarray(y, dtype=int); s = np.asarray(s, dtype=float)
    ids = np.searchsorted(np.linspace(0, 1, 11)[1:-1], s)
    counts = np.bincount(ids, minlength=10)
    t, p = calibration_curve(y, s, n_bins=10, strategy='uniform')
    both = len(set(y)) == 2
    return {'auc': roc_auc_score(y, s) if both else None, 'log_loss': log_loss(y, s) if both else None,
            'accuracy': accuracy_score(y, (s >= 0.5).astype(int)),
            'ece': float(np.sum(counts[counts > 0] / len(y) * np.abs(t - p)))}
out = {'overall': metrics(df.label, df.score), 'baseline': metrics(df.label, df.baseline_score), 'slices': {}}
for v, g in df.groupby('origin'):
    if len(g) >= min_size: out['slices']['origin=' + v] = metrics(g.label, g.score)
print(json.dumps(out))
`;

/** Deterministic fixture: scores rounded to 2 decimals (many ties), exact 0s and 1s, bin edges such as 0.3 and 0.5. */
function fixture(n: number): string {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const origins = ['SFO', 'LAX', 'ORD', 'JFK', 'SEA'];
  const lines = ['row_id,label,score,baseline_score,origin'];
  for (let i = 0; i < n; i++) {
    const origin = origins[Math.floor(rnd() * rnd() * origins.length)]!;
    const y = rnd() < 0.25 + (origin === 'SFO' ? 0.2 : 0) ? 1 : 0;
    let s = Math.round(Math.min(1, Math.max(0, 0.2 + 0.35 * y + (rnd() - 0.5) * 0.7)) * 100) / 100;
    if (i % 97 === 0) s = y === 1 ? 0 : 1; // confidently wrong: exercises log-loss clipping
    if (i % 53 === 0) s = [0.3, 0.5, 0.1, 0.7][i % 4]!; // exactly on bin edges and the accuracy threshold
    const b = Math.round(rnd() * 1000) / 1000;
    lines.push(`r${i},${y},${s},${b},${origin}`);
  }
  return `${lines.join('\n')}\n`;
}

describe.skipIf(Boolean(skip))('evaluation metrics equal sklearn 1.2 (python3-sklearn)', () => {
  it('AUC with ties, clipped log loss, accuracy at 0.5 and ECE, overall, for the champion and per slice', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctloop-metrics-'));
    const file = join(dir, 'predictions.csv');
    const text = fixture(3000);
    writeFileSync(file, text);
    const minSize = 150;
    const r = spawnSync(PYTHON, ['-c', SCRIPT, file, String(minSize)], { encoding: 'utf8' });
    rmSync(dir, { recursive: true, force: true });
    expect(r.stderr).toBe('');
    const ref = JSON.parse(r.stdout) as { overall: Record<string, number>; baseline: Record<string, number>; slices: Record<string, Record<string, number>> };

    const p = parsePredictions(text, ['origin']);
    const close = (got: Record<string, number | null>, want: Record<string, number | null>) => {
      for (const k of ['auc', 'log_loss', 'accuracy', 'ece']) {
        if (want[k] === null) expect(got[k], k).toBeNull();
        else expect(got[k], k).toBeCloseTo(want[k]!, 12);
      }
    };
    close(computeMetrics(p.labels, p.scores), ref.overall);
    close(computeMetrics(p.labels, p.baselineScores!), ref.baseline);
    const slices = sliceMetrics(p, ['origin'], minSize).filter((s) => s.evaluated);
    expect(slices.map((s) => s.key).sort()).toEqual(Object.keys(ref.slices).sort());
    expect(slices.length).toBeGreaterThan(2);
    for (const s of slices) close(s.candidate!, ref.slices[s.key]!);
  });
});
