import { describe, expect, it } from 'vitest';
import { coerce, parseTimestamp, rowValidator, UnparsableLine } from '../../shared/features/validate.js';
import { parseFeatureRepo } from '../../shared/features/definitions.js';
import { testRepoInput } from '../helpers/feature-fixtures.js';

const repo = parseFeatureRepo(testRepoInput);

describe('value coercion', () => {
  it('parses ISO timestamps with offsets, assumes UTC without, and rejects impossible dates', () => {
    expect(parseTimestamp('2001-03-01T10:00:00Z')?.toISOString()).toBe('2001-03-01T10:00:00.000Z');
    expect(parseTimestamp('2001-03-01T10:00:00+02:00')?.toISOString()).toBe('2001-03-01T08:00:00.000Z');
    expect(parseTimestamp('2001-03-01 10:00:00.123456')?.toISOString()).toBe('2001-03-01T10:00:00.123Z');
    expect(parseTimestamp('2001-03-01')?.toISOString()).toBe('2001-03-01T00:00:00.000Z');
    expect(parseTimestamp('2001-02-30')).toBeNull();
    expect(parseTimestamp('yesterday')).toBeNull();
    expect(parseTimestamp(1_000_000)).toBeNull();
  });

  it('coerces numbers strictly', () => {
    expect(coerce('42', 'INT64')).toEqual({ ok: true, value: 42 });
    expect(coerce(1.5, 'INT64').ok).toBe(false);
    expect(coerce('1.0', 'INT64').ok).toBe(false);
    expect(coerce('9007199254740993', 'INT64')).toMatchObject({ ok: false, reason: expect.stringMatching(/outside ±2\^53/) });
    expect(coerce('1e3', 'FLOAT64')).toEqual({ ok: true, value: 1000 });
    expect(coerce('NaN', 'FLOAT64')).toMatchObject({ ok: true });
    expect(coerce('-inf', 'FLOAT64')).toEqual({ ok: true, value: Number.NEGATIVE_INFINITY });
    expect(coerce('abc', 'FLOAT64').ok).toBe(false);
    expect(coerce('TRUE', 'BOOL')).toEqual({ ok: true, value: true });
    expect(coerce('yes', 'BOOL').ok).toBe(false);
    expect(coerce({ a: 1 }, 'STRING').ok).toBe(false);
    expect(coerce(null, 'FLOAT64')).toEqual({ ok: true, value: null });
  });
});

describe('row validation', () => {
  const v = rowValidator(repo.view('driver_stats'));
  const fallback = new Date('2001-01-01T00:00:00Z');

  it('types a good row and takes the created time from the source column when present', () => {
    const r = v({ driver_id: '7', event_ts: '2001-03-01T00:00:00Z', created: '2001-03-01T00:05:00Z', rating: '4.5', active: 'false' }, fallback);
    expect(r).toEqual({ ok: true, row: { driver_id: 7, event_ts: new Date('2001-03-01T00:00:00Z'), rating: 4.5, active: false, _created_ts: new Date('2001-03-01T00:05:00Z') } });
    const noCreated = v({ driver_id: 7, event_ts: '2001-03-01T00:00:00Z', created: null }, fallback);
    expect(noCreated.ok && noCreated.row._created_ts).toEqual(fallback);
  });

  it('lists every problem of a bad row', () => {
    const r = v({ driver_id: 'seven', event_ts: '', rating: 'high', color: 'red' }, fallback);
    expect(r).toEqual({ ok: false, reasons: [
      'driver_id: expected INT64, got "seven"',
      'event_ts: event time is required',
      'rating: expected FLOAT64, got "high"',
      'color: not a field of view driver_stats (set onUnknownFields: ignore to drop unknown fields)',
    ] });
    expect(v(new UnparsableLine('{x', 'Unexpected token'), fallback)).toEqual({ ok: false, reasons: ['unparsable line: Unexpected token'] });
    expect(v([1, 2], fallback)).toEqual({ ok: false, reasons: ['row is not an object'] });
  });
});
