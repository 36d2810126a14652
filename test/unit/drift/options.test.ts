import { describe, expect, it } from 'vitest';
import { highCardinality } from '../../../shared/drift/cardinality.js';
import { methods } from '../../../shared/drift/methods.js';
import { checkConfig, inRange, parseOption, rangeText, ranges, thresholdRange } from '../../../shared/drift/options.js';
import type { FeatureProfile } from '../../../shared/drift/profile.js';
import { checkSelection, selectMethod } from '../../../shared/drift/selection.js';
import { ConfigError, UsageError } from '../../../shared/errors.js';

describe('numeric drift option ranges (shared by the CLI and configuration)', () => {
  it('p-value thresholds are in (0, 1); distances are > 0 and at most their maximum', () => {
    for (const m of [methods.ks, methods.chisquare, methods.z]) expect(rangeText(thresholdRange(m))).toBe('in (0, 1)');
    expect(rangeText(thresholdRange(methods.wasserstein))).toBe('> 0');
    expect(rangeText(thresholdRange(methods.psi))).toBe('> 0');
    expect(rangeText(thresholdRange(methods.hellinger))).toBe('in (0, 1]');
    expect(rangeText(thresholdRange(methods.jensenshannon))).toBe('in (0, 0.8326]');
    expect(inRange(0.05, thresholdRange(methods.ks))).toBe(true);
    for (const bad of [0, 1, 5, -0.1, Number.NaN, Number.POSITIVE_INFINITY]) expect(inRange(bad, thresholdRange(methods.ks))).toBe(false);
  });

  it('parses command-line numbers strictly into typed usage errors', () => {
    expect(parseOption('0.5', ranges.driftShare, '--drift-share')).toBe(0.5);
    expect(parseOption('1e-1', ranges.driftShare, '--drift-share')).toBe(0.1);
    expect(parseOption('.5', ranges.driftShare, '--drift-share')).toBe(0.5);
    for (const bad of ['', ' 0.5', 'abc', '0x1', '1,5', 'Infinity', 'NaN', '0.5.1']) {
      expect(() => parseOption(bad, ranges.driftShare, '--drift-share')).toThrow(UsageError);
    }
    expect(() => parseOption('1.5', ranges.driftShare, '--drift-share')).toThrow('--drift-share must be in (0, 1], got 1.5');
  });

  it('checks selection options before any data: drift share, cardinality, and thresholds against an overriding method', () => {
    expect(checkSelection({}).driftShare).toBe(0.5);
    expect(() => checkSelection({ driftShare: 0 })).toThrow(ConfigError);
    expect(() => checkSelection({ driftShare: -1, surface: 'cli' })).toThrow(UsageError);
    expect(() => checkSelection({ methods: { a: 'ks' }, thresholds: { a: 5 }, surface: 'cli' })).toThrow('--threshold a must be in (0, 1) (ks on a is a p-value test), got 5');
    expect(() => checkSelection({ thresholds: { a: 0 } })).toThrow(/^thresholds\.a must be > 0/);
    expect(() => checkSelection({ cardinality: { maxDistinctShare: 2 } })).toThrow('cardinality.maxDistinctShare must be in (0, 1], got 2');
    // The method chosen from the data decides the range: 5 is fine for wasserstein (n_ref > 1000), not for ks.
    expect(selectMethod('a', 'numerical', 5000, 100, { thresholds: { a: 5 } }).threshold).toBe(5);
    expect(() => selectMethod('a', 'numerical', 500, 100, { thresholds: { a: 5 } })).toThrow('thresholds.a must be in (0, 1) (ks on a is a p-value test), got 5');
  });

  it('checks configuration objects key by key', () => {
    expect(() => checkConfig({ cooldownSeconds: 'soon' }, ['cooldownSeconds'], 'policy')).toThrow('policy.cooldownSeconds must be a number, got "soon"');
    expect(() => checkConfig({ maxCategories: 10_000 }, ['maxCategories'], 'options')).toThrow('options.maxCategories must be an integer in [1, 1000], got 10000');
    expect(() => checkConfig(undefined, ['cooldownSeconds'], 'policy')).not.toThrow();
  });
});

describe('high-cardinality rule', () => {
  const feature = (kind: 'categorical' | 'numerical', distinct: number, count: number, nulls = 0): FeatureProfile => ({
    name: 'x', type: kind === 'categorical' ? 'STRING' : 'FLOAT64', kind, count, nulls, nan: 0, inf: 0, min: null, max: null, mean: null, std: null, distinct, bins: null, counts: null,
  });

  it('skips a categorical feature with more than `floor` values making up more than `maxDistinctShare` of its non-null values', () => {
    expect(highCardinality(feature('categorical', 43_000, 100_000))).toEqual({ distinct: 43_000, values: 100_000, share: 0.43 });
    expect(highCardinality(feature('categorical', 300, 100_000))).toBeNull(); // 333 rows per value
    expect(highCardinality(feature('categorical', 20, 30))).toBeNull(); // at the floor: always compared
    expect(highCardinality(feature('categorical', 21, 1000))).toEqual({ distinct: 21, values: 1000, share: 0.021 });
    expect(highCardinality(feature('categorical', 30, 2000, 1000))).toEqual({ distinct: 30, values: 1000, share: 0.03 }); // share of non-null values
    expect(highCardinality(feature('numerical', 50_000, 50_000))).toBeNull();
    expect(highCardinality(feature('categorical', 43_000, 100_000), { maxDistinctShare: 1, floor: 20 })).toBeNull();
  });
});
