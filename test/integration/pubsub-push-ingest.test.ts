import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { CloudEvent } from '@google-cloud/functions-framework';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { PubsubEventBus } from '../../shared/adapters/event-bus/pubsub/pubsub-bus.js';
import { catalog, createEvent } from '../../shared/events/catalog.js';
import { makeEnvelope, type Envelope } from '../../shared/events/envelope.js';
import type { DeadLetter } from '../../shared/ports/event-bus.js';
import type { Runtime } from '../../shared/runtime/runtime.js';
import { functionSpec, type FunctionSpec } from '../../shared/topology/functions.js';
import { wireEmulatorTopology } from '../../emulators/wire.js';
import { clientEnv, pubsubEmulatorUnavailable, startPubsubEmulator, type PubsubEmulator } from '../helpers/pubsub-emulator.js';
import { testRepoInput } from '../helpers/feature-fixtures.js';
import { waitFor } from '../contract/event-bus.contract.js';

/**
 * The emulator path of ingestion, end to end: publish a feature-rows event to the Pub/Sub emulator → push
 * subscription `ctloop-ingest-features-push` (created by emulators/wire.ts from the function registry) →
 * `ingestFeatures` served by functions-framework on a real HTTP port → rows in DuckDB. The HTTP server in front
 * of functions-framework counts requests and can turn a response into a 500 after the function ran (a lost ack),
 * to force real redeliveries.
 */
const unavailable = pubsubEmulatorUnavailable();
if (unavailable) console.warn(`[pubsub-push-ingest] skipping: ${unavailable}`);

const PROJECT = 'ctloop-local';
const TOPIC = catalog.featureRows.topic;
const T0 = Date.parse('2001-03-01T00:00:00Z');
const at = (h: number) => new Date(T0 + h * 3_600_000).toISOString();

describe.skipIf(!!unavailable)('Pub/Sub emulator push → ingest-features (functions-framework) → DuckDB', () => {
  let emulator: PubsubEmulator | null = null;
  let stateDir = '';
  let rt: Runtime;
  let fnServer: Server;
  let probeServer: Server;
  let bus: PubsubEventBus;
  const deadLetters: DeadLetter[] = [];
  /** Requests received by the function, by CloudEvent id (= Pub/Sub message id). */
  const requests: string[] = [];
  /** How many upcoming responses to turn into HTTP 500 after the function has run. */
  let loseAcks = 0;
  const probed: Array<{ id: string; type: string; source: string; data: unknown }> = [];

  const count = async (sql: string) => Number((await rt.warehouse.query(sql))[0]!.n);
  const rowsOf = (eventId: string) => count(`SELECT COUNT(*) AS n FROM ${rt.warehouse.dialect.table('fv_route_stats')} WHERE _ingest_id LIKE '${eventId}:%'`);
  const quarantinedOf = (eventId: string) => count(`SELECT COUNT(*) AS n FROM ${rt.warehouse.dialect.table('_quarantine')} WHERE event_id = '${eventId}'`);

  async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
    const server = createServer(handler);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'ctloop-push-'));
    await writeFile(join(stateDir, 'features.yaml'), stringify(testRepoInput));
    // This worker plays the function instance: its runtime is built from the environment on first invocation.
    Object.assign(process.env, clientEnv, {
      CTLOOP_MODE: 'embedded',
      CTLOOP_STATE_DIR: stateDir,
      CTLOOP_FEATURES: join(stateDir, 'features.yaml'),
      CTLOOP_LOG: 'silent',
    });
    emulator = await startPubsubEmulator();
    if (!emulator) throw new Error('the Pub/Sub emulator did not start');
    console.info(`[pubsub-push-ingest] emulator ready on ${emulator.host} in ${emulator.startupMs} ms`);

    const ff = await import('@google-cloud/functions-framework');
    const { getTestServer } = await import('@google-cloud/functions-framework/testing');
    await import('../../functions/ingest-features/index.js');
    const { processRuntime } = await import('../../shared/runtime/runtime.js');
    const { applyFeatureRepo } = await import('../../shared/features/apply.js');
    rt = await processRuntime();
    await applyFeatureRepo(rt.warehouse, rt.repo);

    // The function behind a real port; the wrapper counts requests and can fake a lost ack.
    const app = getTestServer(functionSpec('ingest-features').entryPoint).listeners('request')[0] as (req: IncomingMessage, res: ServerResponse) => void;
    const fn = await listen((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        try {
          requests.push(JSON.parse(body).message.messageId as string);
        } catch {
          requests.push('?');
        }
      });
      if (loseAcks > 0) {
        loseAcks--;
        const writeHead = res.writeHead.bind(res) as (code: number, ...rest: unknown[]) => ServerResponse;
        (res as unknown as { writeHead: (code: number, ...rest: unknown[]) => ServerResponse }).writeHead = (_code: number, ...rest: unknown[]) => writeHead(500, ...rest);
      }
      app(req, res);
    });
    fnServer = fn.server;

    // A second push subscription on the same topic, to a probe function that records the CloudEvent as received.
    ff.cloudEvent('ctloopPushProbe', async (ce: CloudEvent<unknown>) => void probed.push({ id: ce.id, type: ce.type, source: ce.source, data: ce.data }));
    const probe = await listen(getTestServer('ctloopPushProbe').listeners('request')[0] as (req: IncomingMessage, res: ServerResponse) => void);
    probeServer = probe.server;

    const retry = { maxDeliveryAttempts: 5, minBackoffMs: 100, maxBackoffMs: 500 };
    const ingestSpec = functionSpec('ingest-features');
    const probeSpec: FunctionSpec = { ...ingestSpec, name: 'push-probe', entryPoint: 'ctloopPushProbe' };
    const { wired } = await wireEmulatorTopology({
      emulatorHost: emulator.host,
      project: PROJECT,
      retry,
      functions: [ingestSpec, probeSpec],
      endpointFor: (f) => (f.name === 'ingest-features' ? fn.url : probe.url),
    });
    expect(wired.map((w) => w.subscription)).toEqual(['ctloop-ingest-features-push', 'ctloop-push-probe-push']);

    bus = new PubsubEventBus({ project: PROJECT, emulatorHost: emulator.host, retry, onError: () => {} });
    await bus.subscribeDeadLetters({ name: 'test-dead-letters', topic: TOPIC }, async (dl) => void deadLetters.push(dl));
  });

  afterAll(async () => {
    await bus?.close();
    await new Promise((r) => fnServer?.close(r));
    await new Promise((r) => probeServer?.close(r));
    await rt?.close();
    await emulator?.stop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it('delivers a published event as a CloudEvent with the right type and source, and stores its rows', async () => {
    const event = createEvent('featureRows', {
      view: 'route_stats',
      rows: [
        { origin: 'SFO', dest: 'LAX', event_ts: at(1), avg_delay: 3.5, flights: 10 },
        { origin: 'SFO', dest: 'JFK', event_ts: at(2), avg_delay: 7, flights: 2 },
      ],
    }, { source: 'push-test' });
    const messageId = await bus.publish(TOPIC, event);
    await waitFor(() => probed.some((p) => p.id === messageId), 'the probe delivery');
    const ce = probed.find((p) => p.id === messageId)!;
    expect(ce.type).toBe('google.cloud.pubsub.topic.v1.messagePublished');
    expect(ce.source).toBe(`//pubsub.googleapis.com/projects/${PROJECT}/topics/${TOPIC}`);
    const msg = (ce.data as { message: { data: string; attributes: Record<string, string> } }).message;
    expect(JSON.parse(Buffer.from(msg.data, 'base64').toString('utf8'))).toEqual(event);
    expect(msg.attributes).toMatchObject({ type: event.type, 'ctloop-event-id': event.id });

    await waitFor(() => requests.includes(messageId), 'the push to ingest-features');
    await expect.poll(() => rowsOf(event.id), { timeout: 10_000 }).toBe(2);
  });

  it('stores rows once when the ack is lost and Pub/Sub redelivers, and when the event is published twice', async () => {
    const event = createEvent('featureRows', {
      view: 'route_stats',
      rows: [
        { origin: 'OAK', dest: 'SEA', event_ts: at(3), avg_delay: 1, flights: 1 },
        { origin: 'OAK', dest: 'PDX', event_ts: at(3), avg_delay: 2, flights: 2 },
        { origin: 'OAK', dest: 'LAS', event_ts: at(3), avg_delay: 3, flights: 3 },
      ],
    }, { source: 'push-test' });
    loseAcks = 2; // the function runs and writes, but Pub/Sub sees 500 twice
    const first = await bus.publish(TOPIC, event);
    await waitFor(() => requests.filter((id) => id === first).length >= 3, 'two redeliveries after lost acks', 30_000);
    const second = await bus.publish(TOPIC, event); // a publisher retry: new message, same envelope
    await waitFor(() => requests.includes(second), 'the duplicate publish');
    await new Promise((r) => setTimeout(r, 300));
    expect(await rowsOf(event.id)).toBe(3);
    expect(requests.filter((id) => id === first)).toHaveLength(3);
    expect(deadLetters.filter((d) => (d.event as Envelope | undefined)?.id === event.id)).toHaveLength(0);
  });

  it('quarantines poison rows and keeps the good ones, without redelivery', async () => {
    const event = createEvent('featureRows', {
      view: 'route_stats',
      rows: [
        { origin: 'BOS', dest: 'ORD', event_ts: at(4), avg_delay: 5, flights: 4 },
        { origin: 'BOS', dest: 'ORD', event_ts: 'yesterday-ish', avg_delay: 5 },
        { origin: null, dest: 'ORD', event_ts: at(4) },
        { origin: 'BOS', dest: 'DEN', event_ts: at(4), flights: 1.5 },
      ],
    }, { source: 'push-test' });
    const messageId = await bus.publish(TOPIC, event);
    await waitFor(() => requests.includes(messageId), 'the push');
    await expect.poll(() => quarantinedOf(event.id), { timeout: 10_000 }).toBe(3);
    expect(await rowsOf(event.id)).toBe(1);
    const reasons = (await rt.warehouse.query(`SELECT reason FROM ${rt.warehouse.dialect.table('_quarantine')} WHERE event_id = '${event.id}' ORDER BY ingest_id`)).map((r) => String(r.reason));
    expect(reasons[0]).toMatch(/event_ts/);
    expect(reasons[1]).toMatch(/origin/);
    expect(reasons[2]).toMatch(/flights/);
    await new Promise((r) => setTimeout(r, 500));
    expect(requests.filter((id) => id === messageId)).toHaveLength(1);
  });

  it('acknowledges an invalid envelope once and writes it to the dead-letter path with its reason', async () => {
    const bad = makeEnvelope('ctloop.feature.rows.v1', { view: 'route_stats', rows: [] }, { source: 'push-test' });
    const messageId = await bus.publish(TOPIC, bad);
    await waitFor(() => requests.includes(messageId), 'the push');
    const prefix = `gs://${rt.config.artifactBucket}/dead-letter/ingest-features/`;
    await expect.poll(async () => (await rt.objectStore.list(prefix)).filter((o) => o.uri.includes(messageId)).length, { timeout: 10_000 }).toBe(1);
    const [obj] = (await rt.objectStore.list(prefix)).filter((o) => o.uri.includes(messageId));
    const rec = JSON.parse((await rt.objectStore.get(obj!.uri)).toString('utf8'));
    expect(rec).toMatchObject({ consumer: 'ingest-features', messageId, code: 'VALIDATION_FAILED', message: bad });
    expect(rec.reason).toMatch(/rows/);
    await new Promise((r) => setTimeout(r, 500));
    expect(requests.filter((id) => id === messageId)).toHaveLength(1);
  });

  it('after maxDeliveryAttempts failed pushes, Pub/Sub moves the message to the dead-letter topic', async () => {
    const event = createEvent('featureRows', { view: 'route_stats', rows: [{ origin: 'MIA', dest: 'ATL', event_ts: at(5), avg_delay: 9 }] }, { source: 'push-test' });
    loseAcks = 5;
    const messageId = await bus.publish(TOPIC, event);
    await waitFor(() => deadLetters.some((d) => (d.event as Envelope | undefined)?.id === event.id), 'the dead letter', 60_000);
    const dl = deadLetters.find((d) => (d.event as Envelope).id === event.id)!;
    expect(dl).toMatchObject({ event, attempts: 5, subscription: 'ctloop-ingest-features-push' });
    expect(dl.reason).toMatch(/Pub\/Sub dead-letter policy/);
    expect(requests.filter((id) => id === messageId)).toHaveLength(5);
    expect(await rowsOf(event.id)).toBe(1); // written on every attempt, stored once
  });
});
