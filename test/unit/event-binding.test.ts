import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/errors.js';
import { eventFromMessage, eventsOfTopic, MAX_MESSAGE_BYTES, type PubsubMessageIn } from '../../shared/events/binding.js';
import { catalog, createEvent } from '../../shared/events/catalog.js';

const TOPIC = catalog.featureRows.topic;
const data = { view: 'trips', rows: [{ trip_id: 1 }] };
const msg = (body: Buffer | string | object, attributes: Record<string, string> = {}, messageId = 'm-1'): PubsubMessageIn => ({
  data: Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  attributes, messageId, publishTime: '2001-03-01T08:00:00.000Z',
});
const ceAttrs = { 'ce-specversion': '1.0', 'ce-type': 'ctloop.feature.rows.v1', 'ce-source': 'app/orders', 'ce-id': 'ev-42' };
const reason = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as Error).message;
  }
  throw new Error('expected a ValidationError');
};

describe('producer contract: one event from each form', () => {
  it('reads CloudEvents binary mode: ce-* attributes, data = the event data, id = ce-id', () => {
    const got = eventFromMessage(msg(data, { ...ceAttrs, 'ce-time': '2001-03-01T07:00:00Z', 'ce-correlationid': 'c-1', 'ce-causationid': 'p-1', 'content-type': 'application/json' }), { topic: TOPIC });
    expect(got.form).toBe('cloudevents');
    expect(got.event).toEqual({ id: 'ev-42', type: 'ctloop.feature.rows.v1', time: '2001-03-01T07:00:00Z', source: 'app/orders', correlationId: 'c-1', causationId: 'p-1', data });
  });

  it('takes the Pub/Sub message id and publish time when ce-id and ce-time are absent, so a redelivery keeps its id', () => {
    const { 'ce-id': _, ...noId } = ceAttrs;
    const first = eventFromMessage(msg(data, noId, 'pubsub-7'), { topic: TOPIC }).event;
    const again = eventFromMessage(msg(data, noId, 'pubsub-7'), { topic: TOPIC }).event;
    expect(first).toMatchObject({ id: 'pubsub-7', correlationId: 'pubsub-7', causationId: null, time: '2001-03-01T08:00:00.000Z' });
    expect(again).toEqual(first);
  });

  it('reads attribute names case-insensitively and the structured mode', () => {
    const upper = Object.fromEntries(Object.entries(ceAttrs).map(([k, v]) => [k.toUpperCase(), v]));
    expect(eventFromMessage(msg(data, upper), { topic: TOPIC }).event.id).toBe('ev-42');
    const structured = { specversion: '1.0', type: 'ctloop.feature.rows.v1', source: 'app', id: 's-1', datacontenttype: 'application/json', data };
    const got = eventFromMessage(msg(structured, { 'content-type': 'application/cloudevents+json; charset=utf-8' }), { topic: TOPIC });
    expect(got).toMatchObject({ form: 'cloudevents', event: { id: 's-1', source: 'app', data } });
  });

  it('reads the full envelope with or without attributes, and data-only with type and ctloop-body=data', () => {
    const env = createEvent('featureRows', data, { source: 'app' });
    expect(eventFromMessage(msg(env), { topic: TOPIC })).toMatchObject({ form: 'envelope', event: env });
    expect(eventFromMessage(msg(env, { type: env.type }), { topic: TOPIC }).event).toEqual(env);
    const dataOnly = eventFromMessage(msg(data, { type: 'ctloop.feature.rows.v1', 'ctloop-body': 'data' }, 'sched-1'), { topic: TOPIC });
    expect(dataOnly).toMatchObject({ form: 'data-only', event: { id: 'sched-1', time: '2001-03-01T08:00:00.000Z', data } });
  });
});

describe('producer contract: what is refused, with its reason', () => {
  it('a body that says nothing about itself', () => {
    expect(reason(() => eventFromMessage(msg('not json'), { topic: TOPIC }))).toMatch(/event envelope is not JSON.*"not json"/);
    expect(reason(() => eventFromMessage(msg({ hello: 1 }), { topic: TOPIC }))).toMatch(/not a ctloop event envelope/);
  });

  it('a CloudEvent of a type the topic does not carry, or not catalogued at all', () => {
    const other = { ...ceAttrs, 'ce-type': 'ctloop.feature.file_ready.v1' };
    expect(reason(() => eventFromMessage(msg({ view: 'trips', uri: 'gs://bucket/x.csv' }, other), { topic: TOPIC })))
      .toMatch(/ctloop.feature.file_ready.v1 is not an event of topic ctloop-feature-rows, which takes ctloop.feature.rows.v1/);
    expect(reason(() => eventFromMessage(msg(data, { ...ceAttrs, 'ce-type': 'com.example.order' }), { topic: TOPIC }))).toMatch(/type must look like ctloop/);
    expect(reason(() => eventFromMessage(msg(data, { ...ceAttrs, 'ce-specversion': '0.3' }), { topic: TOPIC }))).toMatch(/specversion "0.3"/);
    expect(reason(() => eventFromMessage(msg(data, { ...ceAttrs, 'content-type': 'text/csv' }), { topic: TOPIC }))).toMatch(/datacontenttype "text\/csv" is not JSON/);
  });

  it('invalid UTF-8, no data, and more than Pub/Sub allows', () => {
    const bad = Buffer.concat([Buffer.from('{"view":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    expect(reason(() => eventFromMessage(msg(bad, ceAttrs), { topic: TOPIC }))).toMatch(/not valid UTF-8 \(first bad byte at offset 10: 0x28\)/);
    expect(reason(() => eventFromMessage(msg(Buffer.alloc(0), { type: 'x' }), { topic: TOPIC }))).toMatch(/has no data \(attributes only: type\)/);
    expect(reason(() => eventFromMessage(msg(Buffer.alloc(MAX_MESSAGE_BYTES + 1, 0x20)), { topic: TOPIC }))).toMatch(/10000001 bytes, more than Pub\/Sub's 10000000-byte limit/);
  });

  it('an envelope whose type attribute disagrees, and data sent as if it were an envelope', () => {
    const env = createEvent('featureRows', data, { source: 'app' });
    expect(reason(() => eventFromMessage(msg(env, { type: 'ctloop.alert.raised.v1' }), { topic: TOPIC }))).toMatch(/disagrees with the envelope's type/);
    expect(reason(() => eventFromMessage(msg(data, { type: 'ctloop.feature.rows.v1' }), { topic: TOPIC }))).toMatch(/looks like event data: add attribute ctloop-body=data/);
  });

  it('only the consumer’s own event when it names it', () => {
    const env = createEvent('featureRows', data, { source: 'app' });
    expect(reason(() => eventFromMessage(msg(env), { names: ['driftCheckRequested'] }))).toMatch(/not an event of this consumer, which takes ctloop.drift.check_requested.v1/);
    expect(eventsOfTopic('not-a-catalog-topic')).toHaveLength(Object.keys(catalog).length);
  });
});
