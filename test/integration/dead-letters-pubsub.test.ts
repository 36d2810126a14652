import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { PubsubEventBus } from '../../shared/adapters/event-bus/pubsub/pubsub-bus.js';
import { ValidationError } from '../../shared/errors.js';
import { catalog } from '../../shared/events/catalog.js';
import type { Envelope } from '../../shared/events/envelope.js';
import { waitFor } from '../contract/event-bus.contract.js';
import { runCli } from '../helpers/cli.js';
import { testRepoInput } from '../helpers/feature-fixtures.js';
import { clientEnv, pubsubEmulatorUnavailable, startPubsubEmulator, type PubsubEmulator } from '../helpers/pubsub-emulator.js';

/**
 * Dead letters are visible in emulators mode: bad messages published by a producer to ctloop-feature-rows are
 * dead-lettered by the pull consumer with their reasons, `ctloop dead-letters list` shows each one from the
 * topic's -dead-letter-hold subscription (without consuming it), and `replay` republishes a fixed one with the same
 * event id and acknowledges it on the hold subscription.
 */
const unavailable = pubsubEmulatorUnavailable();
if (unavailable) console.warn(`[dead-letters-pubsub] skipping: ${unavailable}`);

const PROJECT = 'ctloop-dl-test';
const TOPIC = catalog.featureRows.topic;

describe.skipIf(!!unavailable)('ctloop dead-letters in emulators mode (Pub/Sub hold subscriptions)', () => {
  let emulator: PubsubEmulator | null = null;
  let dir = '';
  let bus: PubsubEventBus;
  const handled: Envelope[] = [];
  let refuse = true;
  const env = () => ({
    ...process.env, ...clientEnv, CTLOOP_MODE: 'emulators', PUBSUB_EMULATOR_HOST: emulator!.host, GOOGLE_CLOUD_PROJECT: PROJECT,
    CTLOOP_OBJECT_STORE: 'local', CTLOOP_STATE_DIR: dir, CTLOOP_FEATURES: join(dir, 'features.yaml'), CTLOOP_LOG: 'silent',
  });
  const list = async () => {
    const r = await runCli(['--format', 'json', 'dead-letters', 'list'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Array<{ consumer: string; reason: string; location: string; messageId: string; attributes?: Record<string, string> }>;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctloop-dl-pubsub-'));
    await writeFile(join(dir, 'features.yaml'), stringify(testRepoInput));
    Object.assign(process.env, clientEnv);
    emulator = await startPubsubEmulator();
    bus = new PubsubEventBus({ project: PROJECT, emulatorHost: emulator!.host, retry: { maxDeliveryAttempts: 5, minBackoffMs: 10, maxBackoffMs: 100 }, drainQuietMs: 300, onError: () => {} });
    await bus.subscribe({ name: 'ctloop-ingest-features', topic: TOPIC }, async (e) => {
      if (refuse && e.source === 'fix-me') throw new ValidationError('feature view "trips" is not defined', { hint: 'apply it' });
      handled.push(e);
    });
  });
  afterAll(async () => {
    await bus?.close();
    await emulator?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('lists each bad message with its reason, none lost; replays a fixed one once with its event id', async () => {
    const raw = bus.client.topic(TOPIC);
    const ce = { 'ce-specversion': '1.0', 'ce-source': 'orders', 'ce-type': 'ctloop.feature.rows.v1' };
    const ids = {
      garbage: await raw.publishMessage({ data: Buffer.from('not json') }),
      wrongType: await raw.publishMessage({ data: Buffer.from('{"view":"trips","rows":[{}]}'), attributes: { ...ce, 'ce-type': 'ctloop.feature.file_ready.v1', 'ce-id': 'w-1' } }),
      utf8: await raw.publishMessage({ data: Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), attributes: ce }),
      oversized: await raw.publishMessage({ data: Buffer.alloc(10_000_001, 0x20), attributes: ce }),
      refused: await raw.publishMessage({ data: Buffer.from('{"view":"trips","rows":[{"trip_id":1}]}'), attributes: { ...ce, 'ce-source': 'fix-me', 'ce-id': 'order-1' } }),
    };
    let items: Awaited<ReturnType<typeof list>> = [];
    for (let i = 0; i < 60 && items.length < 5; i++) {
      items = await list();
      if (items.length < 5) await new Promise((r) => setTimeout(r, 250));
    }
    const bySource = (id: string) => items.filter((d) => d.attributes?.['ctloop-source-message-id'] === id);
    for (const id of Object.values(ids)) expect(bySource(id), id).toHaveLength(1);
    expect(items).toHaveLength(5);
    expect(bySource(ids.garbage)[0]!.reason).toMatch(/envelope is not JSON/);
    expect(bySource(ids.wrongType)[0]!.reason).toMatch(/ctloop.feature.file_ready.v1 is not an event of topic ctloop-feature-rows/);
    expect(bySource(ids.utf8)[0]!.reason).toMatch(/not valid UTF-8/);
    expect(bySource(ids.oversized)[0]!.reason).toMatch(/more than Pub\/Sub's 10000000-byte limit/);
    expect(bySource(ids.refused)[0]!.reason).toMatch(/feature view "trips" is not defined/);
    for (const d of items) {
      expect(d.consumer).toBe('ingest-features');
      expect(d.location).toMatch(new RegExp(`^pubsub:${TOPIC}-dead-letter-hold/`));
    }
    expect(await list()).toHaveLength(5); // listing does not consume

    refuse = false;
    const replay = await runCli(['dead-letters', 'replay', bySource(ids.refused)[0]!.location], { env: env() });
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stdout).toMatch(/replayed pubsub:.* → ctloop-feature-rows/);
    await waitFor(() => handled.some((e) => e.id === 'order-1'), 'the replayed event', 20_000);
    await bus.drain(10_000);
    expect(handled.filter((e) => e.id === 'order-1')).toHaveLength(1);
    expect(handled.find((e) => e.id === 'order-1')).toMatchObject({ source: 'fix-me', data: { view: 'trips' } });
    const after = await list();
    expect(after).toHaveLength(4);
    expect(after.some((d) => d.attributes?.['ctloop-source-message-id'] === ids.refused)).toBe(false);
    const again = await runCli(['dead-letters', 'replay', bySource(ids.garbage)[0]!.location], { env: env() });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/still not a valid event/);
    expect(await list()).toHaveLength(4);
  });
});
