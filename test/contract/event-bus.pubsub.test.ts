import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Message } from '@google-cloud/pubsub';
import { LocalObjectStore } from '../../shared/adapters/object-store/index.js';
import { fileDeadLetters } from '../../shared/runtime/dead-letter-filer.js';
import { listDeadLetters } from '../../shared/runtime/dead-letters.js';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { TransientError } from '../../shared/errors.js';
import { createEvent, deadLetterTopic } from '../../shared/events/catalog.js';
import { ATTR, TRUNCATED_KEEP_BYTES } from '../../shared/adapters/event-bus/attributes.js';
import { PubsubEventBus } from '../../shared/adapters/event-bus/pubsub/pubsub-bus.js';
import { clientEnv, pubsubEmulatorUnavailable, startPubsubEmulator, type PubsubEmulator } from '../helpers/pubsub-emulator.js';
import { contractRetry, runEventBusContract, waitFor } from './event-bus.contract.js';

// The Pub/Sub adapter against Google's emulator (one emulator for this file). Skips with the reason when gcloud,
// the emulator component or java is missing.
const unavailable = pubsubEmulatorUnavailable();
if (unavailable) console.warn(`[event-bus.pubsub] skipping the Pub/Sub contract: ${unavailable}`);

let emulator: PubsubEmulator | null = null;
beforeAll(async () => {
  if (unavailable) return;
  Object.assign(process.env, clientEnv); // this test worker is the client
  emulator = await startPubsubEmulator();
  console.info(`[event-bus.pubsub] emulator ready on ${emulator?.host} in ${emulator?.startupMs} ms`);
});
afterAll(async () => {
  await emulator?.stop();
});

runEventBusContract(
  'pubsub',
  async (retry) => new PubsubEventBus({ project: 'ctloop-contract', emulatorHost: emulator!.host, retry, drainQuietMs: 500 }),
  { skip: unavailable },
);

// What the emulator does not enforce (flow control, close behaviour), asserted in the adapter itself.
describe.skipIf(!!unavailable)('Pub/Sub adapter: concurrency bound and close', () => {
  let seq = 0;
  const ids = () => {
    const id = `bound-${Date.now().toString(36)}-${++seq}`;
    return { topic: `ct-${id}`, sub: `ct-${id}-s` };
  };
  const bus = (opts: { maxConcurrent?: number; closeTimeoutMs?: number } = {}) =>
    new PubsubEventBus({ project: 'ctloop-contract', emulatorHost: emulator!.host, retry: contractRetry, drainQuietMs: 300, ...opts });
  const event = (i: number) => createEvent('featureRows', { view: 'trips', rows: [{ trip_id: i }] }, { source: 'bound-test' });
  afterEach(() => vi.restoreAllMocks());

  it('never runs more than maxConcurrent handlers at once, and runs each message once', async () => {
    const b = bus({ maxConcurrent: 2 });
    try {
      const n = ids();
      let running = 0;
      let peak = 0;
      const seen: number[] = [];
      // Subscribe once to create the subscription, then publish a backlog and pull it with a fresh bus.
      await (await b.subscribe({ name: n.sub, topic: n.topic }, async () => { throw new Error('never'); })).close();
      await Promise.all(Array.from({ length: 40 }, (_, i) => b.publish(n.topic, event(i))));
      await b.subscribe({ name: n.sub, topic: n.topic }, async (e) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 20));
        seen.push((e.data as { rows: { trip_id: number }[] }).rows[0]!.trip_id);
        running--;
      });
      await waitFor(() => seen.length >= 40, '40 messages handled', 30_000);
      await b.drain(30_000);
      expect(peak).toBeLessThanOrEqual(2);
      expect(seen.sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    } finally {
      await b.close();
    }
  });

  it('close() lets a running handler finish and acks its message instead of nacking it', async () => {
    const nack = vi.spyOn(Message.prototype, 'nack');
    const b = bus();
    const n = ids();
    let started = false;
    let finished = false;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const s = await b.subscribe({ name: n.sub, topic: n.topic }, async () => {
      started = true;
      await gate;
      finished = true;
    });
    await b.publish(n.topic, event(1));
    await waitFor(() => started, 'the handler to start');
    const closing = s.close();
    release();
    await closing;
    expect(finished).toBe(true);
    expect(nack).not.toHaveBeenCalled();
    await b.close();
  });

  it('close() fails with a TransientError when a handler outlives the close timeout', async () => {
    const b = bus({ closeTimeoutMs: 1500 });
    const n = ids();
    let started = false;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    await b.subscribe({ name: n.sub, topic: n.topic }, async () => {
      started = true;
      await gate;
    });
    await b.publish(n.topic, event(1));
    await waitFor(() => started, 'the handler to start');
    const err = await b.close().catch((e: unknown) => e);
    release();
    expect(err).toBeInstanceOf(TransientError);
    expect((err as TransientError).message).toMatch(/1 handler\(s\) still running/);
  });
});

describe.skipIf(!!unavailable)('dead letters forwarded by the Pub/Sub dead-letter policy', () => {
  it('are filed under the object-store dead-letter path with their attempt count, where `ctloop dead-letters list` reads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ctloop-dl-filer-'));
    const b = new PubsubEventBus({ project: 'ctloop-contract', emulatorHost: emulator!.host, retry: contractRetry, drainQuietMs: 300 });
    try {
      const store = new LocalObjectStore(join(dir, 'objects'));
      const topic = `ct-filer-${Date.now().toString(36)}`;
      await fileDeadLetters({ bus: b, objectStore: store, bucket: 'ctloop-test' }, [topic]);
      const event = createEvent('featureRows', { view: 'trips', rows: [{ trip_id: 1 }] }, { source: 'filer-test' });
      // What Pub/Sub publishes when a push subscription exhausts its delivery attempts (no ctloop-* attributes).
      await b.client.topic(deadLetterTopic(topic)).publishMessage({
        data: Buffer.from(JSON.stringify(event)),
        attributes: { type: event.type, CloudPubSubDeadLetterSourceSubscription: 'projects/p/subscriptions/ctloop-ingest-features-push', CloudPubSubDeadLetterSourceDeliveryCount: '5' },
      });
      let listed: Awaited<ReturnType<typeof listDeadLetters>> = [];
      for (let i = 0; i < 400 && listed.length === 0; i++) {
        listed = await listDeadLetters({ objectStore: store, bucket: 'ctloop-test' });
        if (listed.length === 0) await new Promise((r) => setTimeout(r, 50));
      }
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatchObject({ consumer: 'ingest-features', code: 'DELIVERY_FAILED', attempts: 5, message: event });
      expect(listed[0]!.reason).toMatch(/Pub\/Sub dead-letter policy/);
      expect(listed[0]!.location).toMatch(/^gs:\/\/ctloop-test\/dead-letter\/ingest-features\//);
    } finally {
      await b.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// The emulator accepts what Pub/Sub refuses (more than 10 MB): such a message is dead-lettered with its reason and
// its first 64 KiB, so the dead letter itself can be published — never nacked forever, never dropped.
describe.skipIf(!!unavailable)('a message larger than Pub/Sub allows (emulator only)', () => {
  it('is dead-lettered once with the reason and its head, without calling the handler', async () => {
    const b = new PubsubEventBus({ project: 'ctloop-contract', emulatorHost: emulator!.host, retry: contractRetry, drainQuietMs: 300 });
    try {
      const topic = `ct-oversized-${Date.now().toString(36)}`;
      const got: Array<{ reason: string; attributes: Record<string, string>; size: number }> = [];
      await b.subscribeDeadLetters({ name: `${topic}-dl`, topic }, async (dl, d) => void got.push({ reason: dl.reason, attributes: d.attributes, size: typeof dl.event === 'string' ? dl.event.length : -1 }));
      let handled = 0;
      await b.subscribe({ name: `${topic}-a`, topic }, async () => void handled++);
      // Bypass the adapter's own limit check: this is what a producer publishing straight to the emulator can do.
      const huge = Buffer.alloc(10_000_100, 0x61);
      const id = await b.client.topic(topic).publishMessage({ data: huge, attributes: { type: 'ctloop.feature.rows.v1' } });
      await waitFor(() => got.length >= 1, 'the dead letter', 30_000);
      await b.drain(30_000);
      expect(handled).toBe(0);
      expect(got).toHaveLength(1);
      expect(got[0]!.reason).toMatch(/is 100001\d\d bytes, more than Pub\/Sub's 10000000-byte limit/);
      expect(got[0]!.attributes).toMatchObject({ [ATTR.sourceMessageId]: id, [ATTR.truncated]: `10000100 bytes; the first ${TRUNCATED_KEEP_BYTES} kept`, type: 'ctloop.feature.rows.v1' });
      expect(got[0]!.size).toBe(TRUNCATED_KEEP_BYTES);
    } finally {
      await b.close();
    }
  });
});
