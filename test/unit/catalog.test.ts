import { describe, expect, it } from 'vitest';
import { catalog, createEvent, deadLetterTopic, eventNames, parseEvent, parseEventOf } from '../../shared/events/catalog.js';

describe('event catalog', () => {
  it('gives every event a unique versioned type and topic', () => {
    const types = eventNames.map((n) => catalog[n].type);
    const topics = eventNames.map((n) => catalog[n].topic);
    expect(new Set(types).size).toBe(types.length);
    expect(new Set(topics).size).toBe(topics.length);
    for (const t of types) expect(t).toMatch(/^ctloop\.[a-z_.]+\.v\d+$/);
    for (const t of topics) expect(t).toMatch(/^ctloop-[a-z-]+$/);
    expect(deadLetterTopic('ctloop-feature-rows')).toBe('ctloop-feature-rows-dead-letter');
  });

  it('traces causes: a caused event inherits the correlation id and records its cause', () => {
    const check = createEvent('driftCheckRequested', { view: 'v' }, { source: 'scheduler' });
    expect(check.correlationId).toBe(check.id);
    expect(check.causationId).toBeNull();
    const req = createEvent('trainingRequested', { model: 'm', reason: 'drift', dedupKey: 'm/2001-01' }, { source: 'detect-drift', causedBy: check });
    expect(req.correlationId).toBe(check.id);
    expect(req.causationId).toBe(check.id);
  });

  it('round-trips through JSON and rejects bad data, unknown types and wrong consumers', () => {
    const ev = createEvent('featureRows', { view: 'route', rows: [{ a: 1 }] }, { source: 't' });
    expect(parseEvent(JSON.parse(JSON.stringify(ev))).name).toBe('featureRows');
    expect(() => createEvent('featureRows', { view: 'bad view', rows: [{}] } as never, { source: 't' })).toThrow(/must be an identifier/);
    expect(() => parseEvent({ ...ev, type: 'ctloop.nope.v1' })).toThrow(/unknown event type ctloop.nope.v1/);
    expect(() => parseEvent({ ...ev, time: 'yesterday' })).toThrow(/not a ctloop event envelope/);
    expect(() => parseEventOf('featureFileReady', ev)).toThrow(/expected ctloop.feature.file_ready.v1, got ctloop.feature.rows.v1/);
    expect(() => createEvent('driftCheckRequested', { view: 'v', window: { start: '2001-02-01T00:00:00Z', end: '2001-01-01T00:00:00Z' } }, { source: 't' })).toThrow(/window.start must be before window.end/);
  });

  it('refuses impossible times in the envelope and in event fields instead of rolling them over', () => {
    const ev = createEvent('featureRows', { view: 'route', rows: [{ a: 1 }] }, { source: 't' });
    for (const time of ['2001-02-30T00:00:00Z', '2001-02-28T24:00:00Z', '2001-01-01T00:00:60Z', '2001-01-01T00:00:00+25:00', '0000-01-01T00:00:00Z']) {
      expect(() => parseEvent({ ...ev, time }), time).toThrow(/not a ctloop event envelope/);
    }
    expect(() => parseEvent({ ...ev, time: '2001-02-30T00:00:00Z' })).toThrow(/"2001-02-30T00:00:00Z": day 30 does not exist: February 2001 has 28 days/);
    expect(parseEvent({ ...ev, time: '2001-02-28T23:59:59.123456789+05:30' }).name).toBe('featureRows');
    const window = (start: string, end: string) => () => createEvent('driftCheckRequested', { view: 'v', window: { start, end } }, { source: 't' });
    expect(window('2001-02-31T00:00:00Z', '2001-03-05T00:00:00Z')).toThrow(/day 31 does not exist: February 2001 has 28 days\n  → at window.start/);
    expect(window('2001-02-01T00:00:00Z', '2001-04-31T00:00:00Z')).toThrow(/April 2001 has 30 days/);
    expect(window('2001-02-01T00:00:00Z', '2001-03-01T00:00:00Z')().data.window).toEqual({ start: '2001-02-01T00:00:00Z', end: '2001-03-01T00:00:00Z' });
  });
});
