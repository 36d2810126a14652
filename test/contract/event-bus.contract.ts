import { afterEach, describe, expect, it } from 'vitest';
import { TransientError, ValidationError } from '../../shared/errors.js';
import { createEvent } from '../../shared/events/catalog.js';
import { makeEnvelope, type Envelope } from '../../shared/events/envelope.js';
import type { DeadLetter, DeadLetterReader, Delivery, EventBus, RetryPolicy } from '../../shared/ports/event-bus.js';
import { ATTR } from '../../shared/adapters/event-bus/attributes.js';

/**
 * The event bus contract: what every adapter must do, run against the in-process bus and the Pub/Sub emulator.
 * Each test uses its own topics and subscriptions (the emulator is shared by the file).
 */
/** Both adapters also publish raw messages, as any producer in any language would. */
export type Bus = EventBus & DeadLetterReader & { publishMessage(topic: string, data: Buffer, attributes?: Record<string, string>): Promise<string> };
export type MakeBus = (retry: RetryPolicy) => Promise<Bus>;

export const contractRetry: RetryPolicy = { maxDeliveryAttempts: 5, minBackoffMs: 10, maxBackoffMs: 100 };

let seq = 0;
function names(label: string) {
  const id = `${label}-${Date.now().toString(36)}-${++seq}`;
  return { topic: `ct-${id}`, sub: (s: string) => `ct-${id}-${s}` };
}

export async function waitFor(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Call {
  event: Envelope;
  delivery: Delivery;
}

function rowsEvent(view = 'trips', n = 1) {
  return createEvent('featureRows', { view, rows: Array.from({ length: n }, (_, i) => ({ trip_id: i, fare: 10 + i })) }, { source: 'contract-test' });
}

export function runEventBusContract(label: string, make: MakeBus, opts: { skip?: string | null } = {}): void {
  describe.skipIf(!!opts.skip)(`event bus contract: ${label}`, () => {
    let bus: Bus | undefined;
    const open = async (): Promise<Bus> => (bus = await make(contractRetry));
    afterEach(async () => {
      await bus?.close();
      bus = undefined;
    });

    async function deadLetters(b: Bus, topic: string, name: string): Promise<Array<{ dl: DeadLetter; delivery: Delivery }>> {
      const got: Array<{ dl: DeadLetter; delivery: Delivery }> = [];
      await b.subscribeDeadLetters({ name, topic }, async (dl, delivery) => void got.push({ dl, delivery }));
      return got;
    }

    it('publishes and delivers the envelope and its attributes intact', async () => {
      const b = await open();
      const n = names(label);
      const calls: Call[] = [];
      await b.subscribe({ name: n.sub('a'), topic: n.topic }, async (event, delivery) => void calls.push({ event, delivery }));
      const cause = rowsEvent();
      const event = createEvent('featureRows', { view: 'trips', rows: [{ trip_id: 7, note: 'é ✓' }] }, { source: 'contract-test', causedBy: cause });
      const id = await b.publish(n.topic, event, { 'x-origin': 'contract' });
      expect(id).toMatch(/.+/);
      await waitFor(() => calls.length === 1, 'the delivery');
      const [{ event: got, delivery }] = calls as [Call];
      expect(got).toEqual(event);
      expect(delivery).toMatchObject({ attempt: 1, messageId: id, subscription: n.sub('a') });
      expect(delivery.attributes).toMatchObject({
        type: 'ctloop.feature.rows.v1',
        correlationId: cause.correlationId,
        causationId: cause.id,
        [ATTR.eventId]: event.id,
        'x-origin': 'contract',
      });
      await b.drain();
      expect(calls).toHaveLength(1);
    });

    it('redelivers after transient throws, counting attempts 1, 2, 3', async () => {
      const b = await open();
      const n = names(label);
      const dls = await deadLetters(b, n.topic, n.sub('dl'));
      const calls: Call[] = [];
      await b.subscribe({ name: n.sub('a'), topic: n.topic }, async (event, delivery) => {
        calls.push({ event, delivery });
        if (delivery.attempt === 1) throw new Error('plain errors are retried');
        if (delivery.attempt === 2) throw new TransientError('warehouse unavailable');
      });
      const event = rowsEvent();
      const id = await b.publish(n.topic, event);
      await waitFor(() => calls.length >= 3, 'three attempts');
      await b.drain();
      expect(calls.map((c) => c.delivery.attempt)).toEqual([1, 2, 3]);
      expect(new Set(calls.map((c) => c.delivery.messageId))).toEqual(new Set([id]));
      for (const c of calls) expect(c.event).toEqual(event);
      expect(dls).toHaveLength(0);
    });

    it('dead-letters after maxDeliveryAttempts with the reason, source subscription and attempts', async () => {
      const b = await open();
      const n = names(label);
      const dls = await deadLetters(b, n.topic, n.sub('dl'));
      const attempts: number[] = [];
      await b.subscribe({ name: n.sub('a'), topic: n.topic }, async (_e, d) => {
        attempts.push(d.attempt);
        throw new TransientError('model registry timed out');
      });
      const event = rowsEvent();
      await b.publish(n.topic, event);
      await waitFor(() => dls.length === 1, 'the dead letter');
      await b.drain();
      expect(attempts).toEqual([1, 2, 3, 4, 5]);
      expect(dls).toHaveLength(1);
      const { dl, delivery } = dls[0]!;
      expect(dl).toMatchObject({ event, subscription: n.sub('a'), attempts: 5 });
      expect(dl.reason).toContain('model registry timed out');
      expect(dl.reason).toContain('5 delivery attempts');
      expect(Number.isNaN(Date.parse(dl.time))).toBe(false);
      expect(delivery.attributes).toMatchObject({ type: event.type, [ATTR.sourceTopic]: n.topic, [ATTR.attempts]: '5' });
    });

    it('dead-letters a permanent error on the first attempt', async () => {
      const b = await open();
      const n = names(label);
      const dls = await deadLetters(b, n.topic, n.sub('dl'));
      const attempts: number[] = [];
      await b.subscribe({ name: n.sub('a'), topic: n.topic }, async (_e, d) => {
        attempts.push(d.attempt);
        throw new ValidationError('feature view trips has no column fare_usd', { hint: 'add it to features.yaml' });
      });
      const event = rowsEvent();
      await b.publish(n.topic, event);
      await waitFor(() => dls.length === 1, 'the dead letter');
      await b.drain();
      expect(attempts).toEqual([1]);
      expect(dls[0]!.dl).toMatchObject({ event, attempts: 1, subscription: n.sub('a') });
      expect(dls[0]!.dl.reason).toContain('no column fare_usd');
      expect(dls[0]!.dl.reason).toContain('add it to features.yaml');
    });

    // Pub/Sub's limits (https://cloud.google.com/pubsub/quotas#resource_limits): 100 attributes, keys <= 256 bytes,
    // values <= 1024 bytes, 10 MB per message. The emulator enforces none of them: the adapters do.
    it('rejects a publish beyond Pub/Sub limits with a ValidationError before sending', async () => {
      const b = await open();
      const n = names(label);
      const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, 'v']));
      await expect(b.publish(n.topic, rowsEvent(), many)).rejects.toThrow(ValidationError);
      await expect(b.publish(n.topic, rowsEvent(), { ['k'.repeat(257)]: 'v' })).rejects.toThrow(/key .* 256 bytes/);
      await expect(b.publish(n.topic, rowsEvent(), { big: 'é'.repeat(513) })).rejects.toThrow(/1024 bytes/);
      await expect(b.publish(n.topic, rowsEvent('trips', 1), { pad: 'x' })).resolves.toBeTruthy();
    });

    it('dead-letters a message that already carries the most attributes Pub/Sub allows', async () => {
      const b = await open();
      const n = names(label);
      const dls = await deadLetters(b, n.topic, n.sub('dl'));
      await b.subscribe({ name: n.sub('a'), topic: n.topic }, async () => {
        throw new ValidationError('bad rows', { hint: 'fix them' });
      });
      // 96 of the publisher's own + type, correlationId, causationId, ctloop-event-id = 100 attributes.
      const extra = Object.fromEntries(Array.from({ length: 96 }, (_, i) => [`k${String(i).padStart(2, '0')}`, 'v'.repeat(1000)]));
      const event = rowsEvent();
      await b.publish(n.topic, event, extra);
      await waitFor(() => dls.length === 1, 'the dead letter');
      await b.drain();
      const attrs = dls[0]!.delivery.attributes;
      expect(Object.keys(attrs).length).toBeLessThanOrEqual(100);
      expect(dls[0]!.dl).toMatchObject({ event, attempts: 1, subscription: n.sub('a') });
      expect(dls[0]!.dl.reason).toContain('bad rows');
      expect(attrs.type).toBe(event.type);
      expect(attrs[ATTR.droppedAttributes]).toMatch(/^\d+ attribute\(s\) dropped/);
    });

    it('dead-letters invalid envelopes without calling the handler', async () => {
      const b = await open();
      const n = names(label);
      const dls = await deadLetters(b, n.topic, n.sub('dl'));
      const calls: Call[] = [];
      await b.subscribe({ name: n.sub('a'), topic: n.topic }, async (event, delivery) => void calls.push({ event, delivery }));
      const notEnvelope = { hello: 'world' } as unknown as Envelope;
      const badData = makeEnvelope('ctloop.feature.rows.v1', { view: 'trips', rows: [] }, { source: 'contract-test' });
      const unknownType = makeEnvelope('ctloop.nothing.here.v1', {}, { source: 'contract-test' });
      await b.publish(n.topic, notEnvelope);
      await b.publish(n.topic, badData);
      await b.publish(n.topic, unknownType);
      await waitFor(() => dls.length === 3, 'three dead letters');
      await b.drain();
      expect(calls).toHaveLength(0);
      // Find each letter by what it carries (its event id), never by reason text: reasons may mention other types,
      // and delivery order is not guaranteed.
      const byId = (id: string) => dls.filter((d) => (d.dl.event as { id?: unknown } | null)?.id === id);
      const noId = dls.filter((d) => (d.dl.event as { id?: unknown } | null)?.id === undefined);
      expect(noId).toHaveLength(1);
      expect(noId[0]!.dl.event).toEqual({ hello: 'world' });
      expect(noId[0]!.dl.reason).toMatch(/not a ctloop event envelope/);
      expect(byId(badData.id)).toHaveLength(1);
      expect(byId(badData.id)[0]!.dl.event).toEqual(badData);
      expect(byId(badData.id)[0]!.dl.reason).toMatch(/rows/);
      expect(byId(badData.id)[0]!.dl.reason).not.toMatch(/unknown event type/);
      expect(byId(unknownType.id)).toHaveLength(1);
      expect(byId(unknownType.id)[0]!.dl.event).toEqual(unknownType);
      expect(byId(unknownType.id)[0]!.dl.reason).toMatch(/unknown event type ctloop\.nothing\.here\.v1/);
      for (const d of dls) expect(d.dl.attempts).toBe(1);
    });

    it('applies the types filter: other types are neither delivered nor dead-lettered', async () => {
      const b = await open();
      const n = names(label);
      const dls = await deadLetters(b, n.topic, n.sub('dl'));
      const calls: Call[] = [];
      await b.subscribe({ name: n.sub('a'), topic: n.topic, types: ['ctloop.feature.rows.v1'] }, async (event, delivery) => void calls.push({ event, delivery }));
      const other = createEvent('featureFileReady', { view: 'trips', uri: 'gs://bucket/trips.csv', format: 'csv' }, { source: 'contract-test' });
      const wanted = rowsEvent();
      await b.publish(n.topic, other);
      await b.publish(n.topic, wanted);
      await waitFor(() => calls.length === 1, 'the wanted event');
      await b.drain();
      expect(calls.map((c) => c.event)).toEqual([wanted]);
      expect(dls).toHaveLength(0);
    });

    it('delivers the three producer forms identically: CloudEvents binary mode, envelope, data-only', async () => {
      const b = await open();
      const n = names(label);
      const dls = await deadLetters(b, n.topic, n.sub('dl'));
      const calls: Call[] = [];
      await b.subscribe({ name: n.sub('a'), topic: n.topic }, async (event, delivery) => void calls.push({ event, delivery }));
      const data = { view: 'trips', rows: [{ trip_id: 7, fare: 12.5 }] };
      const ce = { 'ce-specversion': '1.0', 'ce-type': 'ctloop.feature.rows.v1', 'ce-source': 'orders-service', 'ce-id': 'order-7' };
      const envelope = createEvent('featureRows', data, { source: 'orders-service' });
      const ceNoId = await b.publishMessage(n.topic, Buffer.from(JSON.stringify(data)), { 'ce-specversion': '1.0', 'ce-type': 'ctloop.feature.rows.v1', 'ce-source': 'orders-service' });
      await b.publishMessage(n.topic, Buffer.from(JSON.stringify(data)), ce);
      await b.publishMessage(n.topic, Buffer.from(JSON.stringify(envelope))); // no attributes: read by its body
      const dataOnly = await b.publishMessage(n.topic, Buffer.from(JSON.stringify(data)), { type: 'ctloop.feature.rows.v1', 'ctloop-body': 'data' });
      await waitFor(() => calls.length === 4, 'four events');
      await b.drain();
      expect(dls).toHaveLength(0);
      const byId = new Map(calls.map((c) => [c.event.id, c.event]));
      expect([...byId.keys()].sort()).toEqual([ceNoId, 'order-7', envelope.id, dataOnly].sort());
      for (const e of byId.values()) expect(e).toMatchObject({ type: 'ctloop.feature.rows.v1', data });
      expect(byId.get('order-7')).toMatchObject({ source: 'orders-service', correlationId: 'order-7', causationId: null });
      expect(byId.get(envelope.id)).toEqual(envelope);
    });

    it('dead-letters, with a reason, what is not a valid event of the topic, even under a types filter', async () => {
      const b = await open();
      const n = names(label);
      const dls = await deadLetters(b, n.topic, n.sub('dl'));
      const calls: Call[] = [];
      await b.subscribe({ name: n.sub('a'), topic: n.topic, types: ['ctloop.feature.rows.v1'] }, async (event, delivery) => void calls.push({ event, delivery }));
      const bad: Array<[string, Buffer, Record<string, string>]> = [
        ['garbage', Buffer.from('not json'), {}],
        ['wrong-ce-type', Buffer.from('{"view":"trips","rows":[{}]}'), { 'ce-specversion': '1.0', 'ce-type': 'com.example.order.created', 'ce-source': 'x', 'ce-id': 'w' }],
        ['utf8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), { type: 'ctloop.feature.rows.v1' }],
        ['empty', Buffer.alloc(0), { type: 'ctloop.feature.rows.v1' }],
      ];
      const ids = new Map<string, string>();
      for (const [what, data, attributes] of bad) ids.set(await b.publishMessage(n.topic, data, attributes), what);
      await waitFor(() => dls.length === 4, 'four dead letters');
      await b.drain();
      expect(calls).toHaveLength(0);
      const reasons = Object.fromEntries(dls.map((d) => [ids.get(d.delivery.attributes[ATTR.sourceMessageId]!), d.dl.reason]));
      expect(reasons.garbage).toMatch(/envelope is not JSON/);
      expect(reasons['wrong-ce-type']).toMatch(/type must look like ctloop/);
      expect(reasons.utf8).toMatch(/not valid UTF-8/);
      expect(reasons.empty).toMatch(/has no data/);
    });

    it('delivers a message to every subscription of the topic', async () => {
      const b = await open();
      const n = names(label);
      const a: Call[] = [];
      const c: Call[] = [];
      await b.subscribe({ name: n.sub('a'), topic: n.topic }, async (event, delivery) => void a.push({ event, delivery }));
      await b.subscribe({ name: n.sub('c'), topic: n.topic }, async (event, delivery) => void c.push({ event, delivery }));
      const event = rowsEvent();
      await b.publish(n.topic, event);
      await waitFor(() => a.length === 1 && c.length === 1, 'both deliveries');
      await b.drain();
      expect(a[0]!.event).toEqual(event);
      expect(c[0]!.event).toEqual(event);
      expect([a[0]!.delivery.subscription, c[0]!.delivery.subscription]).toEqual([n.sub('a'), n.sub('c')]);
      expect(a).toHaveLength(1);
      expect(c).toHaveLength(1);
    });

    it('does not deliver messages published before the subscription existed', async () => {
      const b = await open();
      const n = names(label);
      const early = rowsEvent('early');
      await b.publish(n.topic, early);
      const calls: Call[] = [];
      await b.subscribe({ name: n.sub('a'), topic: n.topic }, async (event, delivery) => void calls.push({ event, delivery }));
      const late = rowsEvent('late');
      await b.publish(n.topic, late);
      await waitFor(() => calls.length >= 1, 'the late event');
      await b.drain();
      expect(calls.map((c) => c.event)).toEqual([late]);
    });

    it('drain() waits for slow handlers and pending redeliveries', async () => {
      const b = await open();
      const n = names(label);
      let done = 0;
      await b.subscribe({ name: n.sub('a'), topic: n.topic }, async (_e, d) => {
        if (d.attempt === 1) throw new TransientError('first attempt fails');
        await new Promise((r) => setTimeout(r, 200));
        done++;
      });
      await Promise.all([b.publish(n.topic, rowsEvent()), b.publish(n.topic, rowsEvent()), b.publish(n.topic, rowsEvent())]);
      await b.drain(20_000);
      expect(done).toBe(3);
    });
  });
}
