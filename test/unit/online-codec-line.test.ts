import { describe, expect, it } from 'vitest';
import { encodeLine, encodeRecord } from '../../shared/adapters/online-store/codec.js';
import { entityKey, type OnlineRecord } from '../../shared/ports/online-store.js';
import type { SqlValue } from '../../shared/ports/warehouse.js';

/** A small deterministic generator (mulberry32), so a failure reproduces. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const strings = ['', 'US', 'é', '"quoted"', 'back\\slash', 'line\nbreak', '\u0000\u001f', '😀', '\ud800', 'a'.repeat(300), '__proto__'];
const numbers = [0, -0, 1, -1, 0.1, 1 / 3, 1e21, -1e-7, 2 ** 53, Number.MAX_VALUE, Number.MIN_VALUE, NaN, Infinity, -Infinity];

function value(r: () => number): SqlValue | undefined {
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  switch (Math.floor(r() * 7)) {
    case 0: return null;
    case 1: return pick(numbers);
    case 2: return Math.round((r() - 0.5) * 1e6);
    case 3: return r() < 0.5;
    case 4: return pick(strings);
    case 5: return new Date(Math.round((r() - 0.5) * 1e13));
    default: return r() < 0.1 ? undefined : pick(strings) + String(r());
  }
}

describe('encodeLine', () => {
  it('writes exactly JSON.stringify(encodeRecord(r)) for 5,000 random records', () => {
    const r = rng(11);
    for (let n = 0; n < 5000; n++) {
      const names = ['clicks', 'spend', 'country', 'active', 'weird "name"', 'ü', 'constructor'].filter(() => r() < 0.7);
      const values: Record<string, SqlValue> = {};
      for (const name of names) values[name] = value(r) as SqlValue;
      const key = Array.from({ length: 1 + Math.floor(r() * 2) }, () => (r() < 0.5 ? Math.round(r() * 1e9) : strings[Math.floor(r() * strings.length)]!));
      const rec: OnlineRecord = {
        key, eventTime: new Date(Math.round((r() - 0.5) * 1e13)), createdTime: r() < 0.02 ? new Date(NaN) : new Date(Math.round(r() * 1e13)),
        ingestId: `${strings[Math.floor(r() * strings.length)]}:${n}`, values,
      };
      expect(encodeLine(entityKey(rec.key), rec)).toBe(JSON.stringify(encodeRecord(rec)));
    }
  });
});
