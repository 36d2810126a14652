import { describe, expect, it } from 'vitest';
import { compareCanary } from '../../../shared/delivery/compare.js';
import type { CanaryPolicy } from '../../../shared/delivery/config.js';
import type { LiveSignals } from '../../../shared/delivery/signals.js';
import { quantile } from '../../../shared/delivery/signals.js';

const policy: CanaryPolicy = { percent: 10, minSeconds: 0, minPredictions: 0, maxSeconds: 0, maxErrorRateDelta: 0.01, maxLatencyRatio: 1.5, driftMethod: 'psi', driftThreshold: 0.2 };
const grid = Array.from({ length: 200 }, (_, i) => (i + 0.5) / 200);
const sig = (over: Partial<LiveSignals>): LiveSignals => ({ deployedModelId: 'x', count: 200, errors: 0, latencyP99Ms: 4, predictions: grid, ...over });

describe('canary verdict', () => {
  it('promotes a canary like the champion and like its test predictions', () => {
    const v = compareCanary(sig({}), sig({}), grid, policy);
    expect(v.promote).toBe(true);
    expect(v.checks.map((c) => c.status)).toEqual(['passed', 'passed', 'passed']);
  });

  it('fails on more errors than the champion plus the allowance', () => {
    const v = compareCanary(sig({ errors: 6 }), sig({ errors: 2 }), grid, policy); // 3% vs 1% + 1%
    expect(v.promote).toBe(false);
    expect(v.checks[0]).toMatchObject({ check: 'error_rate', status: 'failed', canary: 0.03, reference: 0.01 });
    expect(compareCanary(sig({ errors: 3 }), sig({ errors: 2 }), grid, policy).promote).toBe(true); // 1.5% ≤ 2%
  });

  it('fails on a p99 latency above the ratio, on predictions unlike the test predictions', () => {
    expect(compareCanary(sig({ latencyP99Ms: 7 }), sig({}), grid, policy).checks[1]).toMatchObject({ status: 'failed', limit: 6 });
    const shifted = grid.map((p) => Math.min(1, p * 0.3 + 0.7));
    const d = compareCanary(sig({ predictions: shifted }), sig({}), grid, policy).checks[2]!;
    expect(d.status).toBe('failed');
    expect(d.detail).toMatch(/^psi distance \d/);
  });

  it('skips, never fails, a check without data', () => {
    const v = compareCanary(sig({ count: 0, errors: null, latencyP99Ms: null, predictions: [] }), null, [], policy);
    expect(v.promote).toBe(true);
    expect(v.checks.map((c) => c.status)).toEqual(['skipped', 'skipped', 'skipped']);
    expect(v.checks[2]!.detail).toMatch(/needs 30 live and test predictions \(have 0 and 0\)/);
  });

  it('quantile is the nearest-rank value', () => {
    expect(quantile([], 0.99)).toBeNull();
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(quantile(Array.from({ length: 100 }, (_, i) => i + 1), 0.99)).toBe(99);
  });
});
