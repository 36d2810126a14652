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

describe('overflow and values JSON cannot carry exactly', () => {
  it('refuses a FLOAT64 literal that overflows a double instead of storing Infinity', () => {
    expect(coerce('1e400', 'FLOAT64')).toEqual({ ok: false, reason: 'FLOAT64 value "1e400" overflows (beyond ±1.7976931348623157e308); write an explicit infinity as "inf" or "-inf"' });
    expect(coerce('-1e400', 'FLOAT64').ok).toBe(false);
    expect(coerce(JSON.parse('{"x":1e400}').x, 'FLOAT64')).toMatchObject({ ok: false, reason: expect.stringMatching(/not finite .*overflows to Infinity/) });
    expect(coerce(10n ** 400n, 'FLOAT64')).toMatchObject({ ok: false, reason: expect.stringMatching(/overflows/) });
    expect(coerce('1.7976931348623157e308', 'FLOAT64')).toEqual({ ok: true, value: Number.MAX_VALUE });
    expect(coerce('1e-400', 'FLOAT64')).toEqual({ ok: true, value: 0 }); // underflow rounds to zero, as in IEEE 754 and BigQuery
  });

  it('reads explicit infinities and NaN only from their names', () => {
    for (const [s, v] of [['inf', Infinity], ['+Inf', Infinity], ['Infinity', Infinity], ['-inf', -Infinity], ['-INFINITY', -Infinity]] as const) {
      expect(coerce(s, 'FLOAT64')).toEqual({ ok: true, value: v });
    }
    expect(coerce('nan', 'FLOAT64')).toMatchObject({ ok: true, value: Number.NaN });
    expect(coerce(Number.NaN, 'FLOAT64').ok).toBe(false);
  });

  it('refuses JSON integers beyond 2^53 wherever they would be stored rounded', () => {
    const big = JSON.parse('{"x":12345678901234567891}').x as number;
    expect(coerce(big, 'INT64')).toMatchObject({ ok: false, reason: expect.stringMatching(/outside ±2\^53/) });
    expect(coerce(big, 'STRING')).toMatchObject({ ok: false, reason: expect.stringMatching(/beyond ±2\^53 and has lost digits in JSON; send it as a string/) });
    expect(coerce(2 ** 53, 'INT64').ok).toBe(false);
    expect(coerce(2 ** 53 - 1, 'INT64')).toEqual({ ok: true, value: 2 ** 53 - 1 });
    expect(coerce(2 ** 53 - 1, 'STRING')).toEqual({ ok: true, value: '9007199254740991' });
    expect(coerce(1.5e300, 'FLOAT64')).toEqual({ ok: true, value: 1.5e300 });
  });

  it('refuses impossible dates in a row with the broken part, with or without an offset', () => {
    expect(coerce('2001-02-30T00:00:00Z', 'TIMESTAMP')).toEqual({ ok: false, reason: 'impossible timestamp "2001-02-30T00:00:00Z": day 30 does not exist: February 2001 has 28 days' });
    expect(coerce('2001-02-28T24:00:00Z', 'TIMESTAMP').ok).toBe(false);
    expect(coerce('bad', 'TIMESTAMP')).toEqual({ ok: false, reason: 'expected an ISO-8601 timestamp, got "bad"' });
    const y10000 = new Date(0);
    y10000.setUTCFullYear(10_000, 0, 1);
    expect(coerce(y10000, 'TIMESTAMP')).toMatchObject({ ok: false, reason: expect.stringMatching(/impossible timestamp \+010000-01-01T00:00:00.000Z: outside the supported range/) });
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
