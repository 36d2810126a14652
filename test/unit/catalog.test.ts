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
});
