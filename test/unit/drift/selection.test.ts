import { describe, expect, it } from 'vitest';
import { computeOnBins } from '../../../shared/drift/methods.js';
import { evidentlyDefault, selectMethod } from '../../../shared/drift/selection.js';
import { summarize } from '../../../shared/drift/report.js';

describe('default method selection (Evidently 0.7 _get_default_stattest)', () => {
  it.each([
    ['numerical', 1000, 6, 'ks'], ['numerical', 1000, 5, 'chisquare'], ['numerical', 1000, 3, 'chisquare'], ['numerical', 1000, 2, 'z'],
    ['categorical', 1000, 3, 'chisquare'], ['categorical', 1000, 2, 'z'], ['categorical', 50, 40, 'chisquare'],
    ['numerical', 1001, 6, 'wasserstein'], ['numerical', 1001, 5, 'jensenshannon'], ['categorical', 1001, 2, 'jensenshannon'],
  ] as const)('%s, n_ref %i, n_unique %i → %s', (kind, nRef, nUnique, want) => {
    expect(evidentlyDefault(kind, nRef, nUnique)).toBe(want);
  });

  it('uses Evidently thresholds and the vertex preset, and per-feature overrides win', () => {
    expect(selectMethod('a', 'numerical', 5000, 100)).toMatchObject({ method: { name: 'wasserstein' }, threshold: 0.1 });
    expect(selectMethod('a', 'numerical', 500, 100)).toMatchObject({ method: { name: 'ks' }, threshold: 0.05 });
    expect(selectMethod('a', 'numerical', 5000, 100, { preset: 'vertex' })).toMatchObject({ method: { name: 'jensenshannon_divergence' }, threshold: 0.3 });
    expect(selectMethod('c', 'categorical', 5000, 10, { preset: 'vertex' })).toMatchObject({ method: { name: 'l_infinity' }, threshold: 0.3 });
    expect(selectMethod('a', 'numerical', 5000, 100, { methods: { a: 'psi' }, thresholds: { a: 0.2 } })).toMatchObject({ method: { name: 'psi' }, threshold: 0.2 });
    // Under the vertex preset an override to a distance takes 0.3, an override to a p-value test keeps 0.05.
    expect(selectMethod('a', 'numerical', 5000, 100, { preset: 'vertex', methods: { a: 'hellinger' } })).toMatchObject({ threshold: 0.3 });
    expect(selectMethod('a', 'numerical', 5000, 100, { preset: 'vertex', methods: { a: 'ks' } })).toMatchObject({ method: { name: 'ks' }, threshold: 0.05 });
    expect(() => selectMethod('c', 'categorical', 5000, 10, { methods: { c: 'wasserstein' } })).toThrow(/does not apply to categorical column c/);
    expect(() => selectMethod('c', 'categorical', 5000, 10, { methods: { c: 'nope' } })).toThrow(/unknown drift method "nope" for column c/);
  });

  it('ks drifts at p ≤ threshold, chisquare and z below it, distances at ≥ threshold', () => {
    const ks = selectMethod('a', 'numerical', 10, 10).method;
    expect(ks.drifted(0.05, 0.05)).toBe(true);
    const chi = selectMethod('c', 'categorical', 10, 10).method;
    expect(chi.drifted(0.05, 0.05)).toBe(false);
    const js = selectMethod('c', 'categorical', 5000, 10).method;
    expect(js.drifted(0.1, 0.1)).toBe(true);
    expect(js.drifted(0.099, 0.1)).toBe(false);
  });

  it('dataset drift when the drifted share reaches 0.5', () => {
    const f = (drifted: boolean) => ({ name: 'x', kind: 'numerical' as const, method: 'ks' as const, statistic: 0, p_value: 0, threshold: 0.05, drifted });
    expect(summarize([f(true), f(false)], []).dataset_drift).toBe(true);
    expect(summarize([f(true), f(false), f(false)], []).dataset_drift).toBe(false);
    expect(summarize([], []).dataset_drift).toBe(false);
  });
});

describe('binned methods (warehouse mode)', () => {
  it('integrates piecewise-linear CDFs for wasserstein: a shift by one bin width of a uniform is one width', () => {
    const r = computeOnBins('wasserstein', { ref: [0, 10, 10, 0, 0], cur: [0, 0, 10, 10, 0], edges: [0, 0, 1, 2, 3, 3], refStd: 1 });
    expect(r.statistic).toBeCloseTo(1, 12);
  });

  it('gives exact discrete wasserstein on per-value numerical bins', () => {
    // ref all at 1, cur all at 3: W1 = 2.
    const r = computeOnBins('wasserstein', { ref: [10, 0, 0, 0], cur: [0, 0, 10, 0], points: [1, 2, 3], refStd: 1 });
    expect(r.statistic).toBeCloseTo(2, 12);
  });
});
