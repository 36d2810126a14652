import { describe, expect, it } from 'vitest';
import { checkInstant, parseInstant, parseTimestamp, parseTimestampOption } from '../../shared/time.js';

/** [input, expected UTC instant or a pattern of the refusal reason] */
const lenient: [string, string | RegExp][] = [
  // accepted forms
  ['2001-03-01T10:00:00Z', '2001-03-01T10:00:00.000Z'],
  ['2001-03-01t10:00:00z', '2001-03-01T10:00:00.000Z'],
  ['2001-03-01 10:00:00 UTC', '2001-03-01T10:00:00.000Z'],
  ['2001-03-01 10:00:00utc', '2001-03-01T10:00:00.000Z'],
  ['2001-03-01T10:00:00+02:00', '2001-03-01T08:00:00.000Z'],
  ['2001-03-01T10:00:00-0530', '2001-03-01T15:30:00.000Z'],
  ['2001-03-01T10:00:00+23:59', '2001-02-28T10:01:00.000Z'],
  ['2001-03-01 10:00:00.123456', '2001-03-01T10:00:00.123Z'],
  ['2001-03-01T10:00:00.123456789Z', '2001-03-01T10:00:00.123Z'],
  ['2001-03-01T10:00:00.9Z', '2001-03-01T10:00:00.900Z'],
  ['2001-03-01T10:00', '2001-03-01T10:00:00.000Z'],
  ['2001-03-01', '2001-03-01T00:00:00.000Z'],
  ['  2001-03-01T10:00:00Z  ', '2001-03-01T10:00:00.000Z'],
  ['2000-02-29T00:00:00Z', '2000-02-29T00:00:00.000Z'],
  ['2004-02-29', '2004-02-29T00:00:00.000Z'],
  ['2001-12-31T23:59:59Z', '2001-12-31T23:59:59.000Z'],
  ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z'],
  ['0050-06-15T00:00:00Z', '0050-06-15T00:00:00.000Z'], // not mapped to 1950 (Date.UTC would)
  ['9999-12-31T23:59:59.999999Z', '9999-12-31T23:59:59.999Z'],
  ['9999-12-31T23:59:59-00:00', '9999-12-31T23:59:59.000Z'],
  // impossible calendar dates, with or without an offset
  ['2001-02-30T00:00:00Z', /day 30 does not exist: February 2001 has 28 days/],
  ['2001-02-29', /day 29 does not exist: February 2001 has 28 days/],
  ['1900-02-29T00:00:00Z', /February 1900 has 28 days/],
  ['2001-04-31T00:00:00+02:00', /April 2001 has 30 days/],
  ['2001-02-31 00:00:00', /February 2001 has 28 days/],
  ['2001-01-00T00:00:00Z', /day 00 does not exist/],
  ['2001-13-01T00:00:00Z', /month 13 does not exist/],
  ['2001-00-10', /month 00 does not exist/],
  ['0000-01-01T00:00:00Z', /year 0000 does not exist/],
  // time of day
  ['2001-02-28T24:00:00Z', /hour 24 is not allowed; write 00:00 of the next day/],
  ['2001-02-28T25:00:00Z', /hour 25 does not exist/],
  ['2001-02-28T12:60:00Z', /minute 60 does not exist/],
  ['2001-02-28T12:00:61Z', /second 61 does not exist/],
  ['2016-12-31T23:59:60Z', /second 60 is a leap second/],
  // offsets
  ['2001-03-01T10:00:00+25:00', /offset \+25:00 is out of range/],
  ['2001-03-01T10:00:00-24:00', /offset -24:00 is out of range/],
  ['2001-03-01T10:00:00+02:60', /offset \+02:60 is out of range/],
  // BigQuery's range applies to the instant, after the offset
  ['0001-01-01T00:00:00+01:00', /outside the supported range/],
  ['9999-12-31T23:30:00-01:00', /outside the supported range/],
  // fractional digits
  ['2001-03-01T10:00:00.1234567890Z', /10 fractional digits; at most 9/],
  // not timestamps at all
  ['yesterday', /not an ISO-8601 timestamp/],
  ['2001-3-1', /not an ISO-8601 timestamp/],
  ['20010301T100000Z', /not an ISO-8601 timestamp/],
  ['10000-01-01T00:00:00Z', /not an ISO-8601 timestamp/],
  ['2001-03-01T10:00:00.Z', /not an ISO-8601 timestamp/],
  ['2001-03-01T10Z', /not an ISO-8601 timestamp/],
  ['', /not an ISO-8601 timestamp/],
];

const rfc3339: [string, string | RegExp][] = [
  ['2001-03-01T10:00:00Z', '2001-03-01T10:00:00.000Z'],
  ['2001-03-01T10:00:00.123456789+05:30', '2001-03-01T04:30:00.123Z'],
  ['2001-03-01T10:00:00Z ', /not an RFC 3339 date-time/],
  ['2001-03-01 10:00:00Z', /not an RFC 3339 date-time/],
  ['2001-03-01T10:00Z', /not an RFC 3339 date-time/],
  ['2001-03-01T10:00:00', /not an RFC 3339 date-time/],
  ['2001-03-01T10:00:00+0200', /not an RFC 3339 date-time/],
  ['2001-02-30T00:00:00Z', /February 2001 has 28 days/],
  ['2001-02-28T24:00:00Z', /hour 24/],
  ['2001-03-01T10:00:00+24:00', /offset \+24:00 is out of range/],
  ['0000-12-31T23:59:59Z', /year 0000/],
];

describe('strict timestamp parser', () => {
  it.each(lenient)('lenient %j → %s', (input, want) => {
    const r = parseInstant(input);
    if (typeof want === 'string') expect(r).toMatchObject({ ok: true, date: new Date(want) });
    else expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(want) });
  });

  it.each(rfc3339)('rfc3339 %j → %s', (input, want) => {
    const r = parseInstant(input, 'rfc3339');
    if (typeof want === 'string') expect(r).toMatchObject({ ok: true, date: new Date(want) });
    else expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(want) });
  });

  it('keeps the microseconds beyond the millisecond apart, truncating further digits', () => {
    expect(parseInstant('2001-03-01T10:00:00.123456789Z')).toMatchObject({ micros: 456 });
    expect(parseInstant('1960-03-01T10:00:00.0000019Z')).toEqual({ ok: true, date: new Date('1960-03-01T10:00:00.000Z'), micros: 1 });
    expect(parseInstant('2001-03-01T10:00:00.5Z')).toMatchObject({ micros: 0 });
  });

  it('tells a value that is not a timestamp from an impossible one', () => {
    expect(parseInstant('soon')).toMatchObject({ ok: false, syntax: true });
    expect(parseInstant('2001-02-30')).toMatchObject({ ok: false, syntax: false });
  });

  it('checks Date values (Parquet, DuckDB) against the same range', () => {
    expect(checkInstant(new Date('2001-03-01T00:00:00Z')).ok).toBe(true);
    expect(checkInstant(new Date(Number.NaN))).toMatchObject({ ok: false, reason: 'not a valid time' });
    const y10000 = new Date(0);
    y10000.setUTCFullYear(10_000, 0, 1);
    expect(checkInstant(y10000)).toMatchObject({ ok: false, reason: expect.stringMatching(/outside the supported range/) });
    const y0 = new Date(0);
    y0.setUTCFullYear(0, 5, 1);
    expect(checkInstant(y0).ok).toBe(false);
  });

  it('parseTimestamp (used by rows and CLI options) refuses what the parser refuses, and non-strings', () => {
    expect(parseTimestamp('2001-02-30T00:00:00Z')).toBeNull();
    expect(parseTimestamp('2001-02-28T24:00:00Z')).toBeNull();
    expect(parseTimestamp(1_000_000)).toBeNull();
    expect(parseTimestamp('2001-03-01T00:00:00+01:00')?.toISOString()).toBe('2001-02-28T23:00:00.000Z');
  });

  it('names the option and the broken part for command-line times', () => {
    expect(() => parseTimestampOption('2001-02-31T00:00:00Z', '--as-of')).toThrow(/--as-of 2001-02-31T00:00:00Z: day 31 does not exist: February 2001 has 28 days/);
    expect(parseTimestampOption('2001-02-28T00:00:00Z', '--as-of').toISOString()).toBe('2001-02-28T00:00:00.000Z');
  });
});
