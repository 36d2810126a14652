import { describe, expect, it } from 'vitest';
import { ATTR, deadLetterAttributes, decodeEnvelope, envelopeAttributes, toDeadLetter, truncateAttribute } from '../../shared/adapters/event-bus/attributes.js';
import { checkRetryPolicy, duration, typesFilter } from '../../shared/adapters/event-bus/pubsub/topology.js';
import { checkResourceId } from '../../shared/adapters/event-bus/names.js';
import { createEvent } from '../../shared/events/catalog.js';

const event = createEvent('featureRows', { view: 'trips', rows: [{ a: 1 }] }, { source: 'unit' });

describe('event bus message encoding', () => {
  it('puts the envelope ids in attributes, which the caller cannot override', () => {
    expect(envelopeAttributes(event, { type: 'spoofed', extra: 'x' })).toEqual({
      type: event.type, correlationId: event.id, [ATTR.eventId]: event.id, extra: 'x',
    });
  });

  it('decodes valid envelopes and rejects non-JSON and invalid ones as permanent errors', () => {
    expect(decodeEnvelope(Buffer.from(JSON.stringify(event)))).toEqual(event);
    expect(() => decodeEnvelope('{oops')).toThrow(/not JSON/);
    expect(() => decodeEnvelope('{"id":1}')).toThrow(/not a ctloop event envelope/);
  });

  it('keeps reason attributes within the 1024-byte Pub/Sub limit on a character boundary', () => {
    const long = 'é'.repeat(2000);
    const t = truncateAttribute(long);
    expect(Buffer.byteLength(t)).toBeLessThanOrEqual(1024);
    expect(t.endsWith('…')).toBe(true);
    expect(t).not.toContain('\uFFFD');
    expect(truncateAttribute('short')).toBe('short');
  });

  it('reads ctloop dead letters and ones forwarded by the Pub/Sub dead-letter policy', () => {
    const time = new Date('2026-01-01T00:00:00Z');
    const ours = deadLetterAttributes({ type: event.type }, { topic: 't', subscription: 's', attempts: 3, reason: 'boom', time });
    expect(toDeadLetter(JSON.stringify(event), ours, new Date())).toEqual({ event, reason: 'boom', subscription: 's', attempts: 3, time: time.toISOString() });
    const server = toDeadLetter('not json', {
      CloudPubSubDeadLetterSourceSubscription: 'projects/p/subscriptions/ingest',
      CloudPubSubDeadLetterSourceDeliveryCount: '5',
    }, time);
    expect(server).toMatchObject({ event: 'not json', subscription: 'ingest', attempts: 5, time: time.toISOString() });
    expect(server.reason).toMatch(/Pub\/Sub dead-letter policy/);
  });

  it('maps retry settings and type filters to Pub/Sub, refusing what Pub/Sub refuses', () => {
    expect(duration(1500)).toEqual({ seconds: 1, nanos: 500_000_000 });
    // A topic that carries one type gets no filter: a message that does not say its type must reach the consumer.
    expect(typesFilter(['a.v1'], ['a.v1'])).toBe('');
    expect(typesFilter(['a.v1', 'b.v1'], undefined)).toBe('');
    // Where a topic carries several, only the other types are excluded (never "only these types"), within 256 bytes.
    expect(typesFilter(['a.v1', 'b.v1', 'c.v1'], ['a.v1'])).toBe('NOT attributes.type = "b.v1" AND NOT attributes.type = "c.v1"');
    expect(typesFilter(Array.from({ length: 20 }, (_, i) => `ctloop.some.long.type.v${i}`), ['x.v1'])).toBe('');
    expect(() => checkRetryPolicy({ maxDeliveryAttempts: 3, minBackoffMs: 10, maxBackoffMs: 100 })).toThrow(/maxDeliveryAttempts=3/);
    expect(() => checkRetryPolicy({ maxDeliveryAttempts: 5, minBackoffMs: 10, maxBackoffMs: 700_000 })).toThrow(/maxBackoffMs/);
    expect(() => checkResourceId('topic', 'goog-x')).toThrow(/invalid topic id "goog-x"/);
    expect(checkResourceId('subscription', 'ctloop-ingest-features-push')).toBe('ctloop-ingest-features-push');
  });
});
