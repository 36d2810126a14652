import { describe, expect, it } from 'vitest';
import { bucketOf, checkSplit, chooseDeployed, splitWith } from '../../../shared/adapters/endpoint/split.js';
import { ValidationError } from '../../../shared/errors.js';

describe('traffic split arithmetic (both endpoint adapters)', () => {
  it('a new deployment takes its share and the others are scaled to the rest, summing to 100', () => {
    expect(splitWith({}, 'b', 10)).toEqual({ b: 100 });
    expect(splitWith({ a: 100 }, 'b', 10)).toEqual({ a: 90, b: 10 });
    expect(splitWith({ a: 90, b: 10 }, 'c', 25)).toEqual({ a: 68, b: 7, c: 25 }); // 67.5 and 7.5: remainders tie, the lower id wins
    expect(splitWith({ a: 0, b: 100 }, '0', 10)).toEqual({ a: 0, b: 90, '0': 10 });
    for (const [cur, p] of [[{ a: 33, b: 33, c: 34 }, 7], [{ a: 1, b: 99 }, 50], [{ x: 50, y: 50 }, 1]] as const) {
      const s = splitWith(cur, 'n', p);
      expect(Object.values(s).reduce((x, y) => x + y, 0)).toBe(100);
      expect(s.n).toBe(p);
    }
  });

  it('refuses shares that are not whole percents, sums other than 100 and unknown ids; missing ids get 0', () => {
    expect(() => splitWith({ a: 100 }, 'b', 10.5)).toThrow(ValidationError);
    expect(() => splitWith({ a: 100 }, 'b', 101)).toThrow(/not a whole percent in 0..100/);
    expect(() => checkSplit({ a: 60, b: 30 }, ['a', 'b'])).toThrow(/sums to 90, not 100/);
    expect(() => checkSplit({ a: 100, z: 0 }, ['a', 'b'])).toThrow(/undeployed model\(s\) z/);
    expect(checkSplit({ b: 100 }, ['a', 'b'])).toEqual({ a: 0, b: 100 });
  });

  it('the choice is a function of model and request id: sorted ids own consecutive bucket ranges', () => {
    const split = { b: 30, a: 70 };
    for (let i = 0; i < 200; i++) {
      const id = `r${i}`;
      expect(chooseDeployed('m', split, id)).toBe(bucketOf('m', id) < 70 ? 'a' : 'b');
      expect(chooseDeployed('m', split, id)).toBe(chooseDeployed('m', split, id));
    }
    const share = Array.from({ length: 10_000 }, (_, i) => chooseDeployed('m', split, `q${i}`)).filter((x) => x === 'b').length / 10_000;
    expect(share).toBeGreaterThan(0.27);
    expect(share).toBeLessThan(0.33);
    expect(chooseDeployed('m', { a: 0, b: 0 }, 'x')).toBeNull();
  });
});
