import { describe, expect, it } from 'vitest';
import { catalog, createEvent, parseEvent, parseEventOf } from '../../shared/events/catalog.js';
import { envelopeSchema } from '../../shared/events/envelope.js';
import { fastData, fastEnvelope } from '../../shared/events/fast-parse.js';

/** The fast paths of the hot events must give exactly what zod gives, and leave every refusal to zod. */
describe('fast parse of envelopes and feature rows', () => {
  const ev = JSON.parse(JSON.stringify(createEvent('featureRows', { view: 'route', rows: [{ a: 1 }, { b: 'x' }] }, { source: 't' })));
  const valid: unknown[] = [
    ev,
    { ...ev, extra: 'dropped', causationId: 'c1' },
    { ...ev, data: undefined },
    { ...ev, data: null },
    { ...ev, time: '2001-02-28T23:59:59.123456789+05:30' },
  ];
  const invalid: unknown[] = [
    null, [], 'x', 7,
    { ...ev, id: '' }, { ...ev, id: 1 }, { ...ev, type: 'nope' }, { ...ev, type: 'ctloop.A.v1' }, { ...ev, time: '2001-02-30T00:00:00Z' },
    { ...ev, time: 'yesterday' }, { ...ev, time: 5 }, { ...ev, source: '' }, { ...ev, correlationId: undefined },
    { ...ev, causationId: '' }, { ...ev, causationId: undefined },
    (({ data: _d, ...rest }) => rest)(ev),
  ];

  it('returns what envelopeSchema returns for valid envelopes (unknown keys dropped, a new object)', () => {
    for (const raw of valid) {
      const fast = fastEnvelope(raw);
      expect(fast, JSON.stringify(raw)).toEqual(envelopeSchema.parse(raw));
      expect(Object.keys(fast!)).toEqual(Object.keys(envelopeSchema.parse(raw)));
      expect(fast).not.toBe(raw);
    }
  });

  it('leaves anything else to zod, whose reasons parseEvent keeps', () => {
    for (const raw of invalid) expect(fastEnvelope(raw), JSON.stringify(raw)).toBeUndefined();
    expect(() => parseEvent({ ...ev, time: '2001-02-30T00:00:00Z' })).toThrow(/"2001-02-30T00:00:00Z": day 30 does not exist/);
    expect(() => parseEvent({ ...ev, id: '' })).toThrow(/not a ctloop event envelope/);
  });

  it('returns what the featureRows schema returns, rows copied, and refuses what it refuses', () => {
    const schema = catalog.featureRows.schema;
    const fast = fastData.featureRows!;
    for (const d of [{ view: 'v', rows: [1, null, { a: 1 }] }, { view: 'v_1', rows: [{}], extra: true }, { view: 'v', rows: Array.from({ length: 10_000 }, () => ({})) }]) {
      expect(fast(d)).toEqual(schema.parse(d));
      expect((fast(d) as { rows: unknown[] }).rows).not.toBe(d.rows);
    }
    const holes = [1, , 3]; // eslint-disable-line no-sparse-arrays
    expect(fast({ view: 'v', rows: holes })).toEqual(schema.parse({ view: 'v', rows: holes }));
    for (const d of [null, [], { view: 'bad view', rows: [{}] }, { view: 'v', rows: [] }, { view: 'v', rows: {} }, { view: 'v', rows: Array.from({ length: 10_001 }, () => ({})) }, { rows: [{}] }]) {
      expect(fast(d), JSON.stringify(d)?.slice(0, 80)).toBeUndefined();
      expect(schema.safeParse(d).success).toBe(false);
    }
  });

  it('parseEventOf trusts what parseEvent returned, for its own type only', () => {
    const { event } = parseEvent(ev);
    expect(parseEventOf('featureRows', event)).toBe(event);
    expect(() => parseEventOf('featureFileReady', event)).toThrow(/expected ctloop.feature.file_ready.v1, got ctloop.feature.rows.v1/);
    // An equal object that parseEvent did not return is validated again.
    expect(() => parseEventOf('featureRows', { ...event, data: { view: 'v', rows: [] } })).toThrow(/invalid ctloop.feature.rows.v1 data/);
  });
});
