import { describe, expect, it } from 'vitest';
import { closest, editDistance } from '../../shared/closest.js';

describe('closest valid name', () => {
  const keys = ['name', 'entity', 'table', 'timestampField', 'createdTimestampField', 'ttl', 'features', 'onUnknownFields', 'description'];
  it.each([
    ['tll', 'ttl'], ['TTL', 'ttl'], ['timestamp_field', 'timestampField'], ['timestampfeild', 'timestampField'], ['feature', 'features'],
    ['descripton', 'description'], ['on_unknown_fields', 'onUnknownFields'], ['entiy', 'entity'],
  ])('%s → %s', (typo, want) => expect(closest(typo, keys)).toBe(want));

  it('suggests nothing when no name is a plausible typo', () => {
    expect(closest('nullable', keys)).toBeUndefined();
    expect(closest('x', keys)).toBeUndefined();
    expect(closest('owner', keys)).toBeUndefined();
  });

  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('ttl', 'tlt')).toBe(1);
    expect(editDistance('abc', 'abc')).toBe(0);
    expect(editDistance('', 'abc')).toBe(3);
  });
});
