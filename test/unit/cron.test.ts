import { describe, expect, it } from 'vitest';
import { parseCron, zonedParts } from '../../shared/runtime/cron.js';

const at = (iso: string, tz = 'Etc/UTC') => zonedParts(new Date(iso), tz);

describe('cron', () => {
  it('matches minutes, hours, lists, ranges and steps', () => {
    const daily = parseCron('0 6 * * *');
    expect(daily.matches(at('2001-03-01T06:00:00Z'))).toBe(true);
    expect(daily.matches(at('2001-03-01T06:01:00Z'))).toBe(false);
    const every15 = parseCron('*/15 9-17 * * 1-5');
    expect(every15.matches(at('2001-03-01T09:45:00Z'))).toBe(true); // a Thursday
    expect(every15.matches(at('2001-03-03T09:45:00Z'))).toBe(false); // Saturday
    expect(every15.matches(at('2001-03-01T18:00:00Z'))).toBe(false);
    expect(parseCron('0 0 * * 7').matches(at('2001-03-04T00:00:00Z'))).toBe(true); // Sunday as 7
  });

  it('ORs the day fields when both are restricted, as cron does', () => {
    const c = parseCron('0 0 1 * 1'); // the 1st, or any Monday
    expect(c.matches(at('2001-03-01T00:00:00Z'))).toBe(true);
    expect(c.matches(at('2001-03-05T00:00:00Z'))).toBe(true);
    expect(c.matches(at('2001-03-06T00:00:00Z'))).toBe(false);
  });

  it('evaluates in the job time zone', () => {
    expect(parseCron('0 6 * * *').matches(at('2001-03-01T05:00:00Z', 'Europe/Paris'))).toBe(true);
  });

  it('rejects bad expressions with the field named', () => {
    expect(() => parseCron('0 6 * *')).toThrow(/must have 5 fields/);
    expect(() => parseCron('61 * * * *')).toThrow(/minute "61" is outside 0-59/);
    expect(() => parseCron('x * * * *')).toThrow(/bad minute field/);
  });
});
