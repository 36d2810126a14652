import { describe, expect, it } from 'vitest';
import { parseInstant } from '../../shared/time.js';

/**
 * parseInstant reads the canonical form (YYYY-MM-DDTHH:MM:SS[.f]Z) without its regular expression; the result must
 * be the full parse's. The same instant with a space instead of the T goes the full way (lenient form).
 */
describe('parseInstant, canonical form', () => {
  const slow = (s: string) => parseInstant(s.replace('T', ' '), 'lenient');

  it('gives the full parse\'s instant and microseconds for canonical texts, in both forms', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const texts: string[] = ['1000-01-01T00:00:00Z', '9999-12-31T23:59:59.999999Z', '2000-02-29T12:00:00Z', '2001-03-01T08:00:00.1Z', '2001-03-01T08:00:00.123456789Z'];
    for (let i = 0; i < 2_000; i++) {
      const iso = new Date(Date.UTC(1000, 0, 1) + rnd() * (Date.UTC(9999, 11, 31) - Date.UTC(1000, 0, 1))).toISOString();
      const digits = Math.floor(rnd() * 10); // 0 to 9 fraction digits
      const frac = Array.from({ length: digits }, () => String(Math.floor(rnd() * 10))).join('');
      texts.push(`${iso.slice(0, 19)}${digits ? `.${frac}` : ''}Z`);
    }
    for (const t of texts) {
      const want = slow(t);
      expect(want.ok, t).toBe(true);
      for (const form of ['lenient', 'rfc3339'] as const) {
        const got = parseInstant(t, form);
        expect(got, `${t} ${form}`).toEqual(want);
      }
    }
  });

  it('leaves refusals and other forms to the full parse, with its reasons', () => {
    expect(parseInstant('2001-02-30T00:00:00Z')).toEqual(slow('2001-02-30T00:00:00Z'));
    expect(parseInstant('2001-02-30T00:00:00Z')).toMatchObject({ ok: false, reason: 'day 30 does not exist: February 2001 has 28 days' });
    expect(parseInstant('2001-01-01T24:00:00Z')).toMatchObject({ ok: false, reason: 'hour 24 is not allowed; write 00:00 of the next day' });
    expect(parseInstant('2001-01-01T00:00:60Z')).toMatchObject({ ok: false, syntax: false });
    expect(parseInstant('2001-01-01T00:00:00.1234567890Z')).toMatchObject({ ok: false, reason: '10 fractional digits; at most 9 are allowed' });
    expect(parseInstant('2001-01-01T00:00:00.Z')).toMatchObject({ ok: false, syntax: true });
    expect(parseInstant('0000-01-01T00:00:00Z')).toMatchObject({ ok: false, reason: 'year 0000 does not exist; years run from 0001 to 9999' });
    expect(parseInstant('0099-01-01T00:00:00Z')).toMatchObject({ ok: true, date: new Date('0099-01-01T00:00:00Z') });
    expect(parseInstant(' 2001-01-01T00:00:00Z', 'rfc3339')).toMatchObject({ ok: false, syntax: true });
    expect(parseInstant(' 2001-01-01T00:00:00Z ')).toMatchObject({ ok: true, date: new Date('2001-01-01T00:00:00Z') });
    expect(parseInstant('2001-01-01T00:00:00z', 'rfc3339')).toMatchObject({ ok: false, syntax: true });
    expect(parseInstant('2001-01-0xT00:00:00Z')).toMatchObject({ ok: false, syntax: true });
  });
});
