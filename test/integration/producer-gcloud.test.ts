import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { wireEmulatorTopology } from '../../emulators/wire.js';
import { PubsubEventBus } from '../../shared/adapters/event-bus/pubsub/pubsub-bus.js';
import { catalog, createEvent } from '../../shared/events/catalog.js';
import type { Runtime } from '../../shared/runtime/runtime.js';
import { functionSpec } from '../../shared/topology/functions.js';
import { setLogThreshold } from '../../shared/runtime/log.js';
import { testRepoInput } from '../helpers/feature-fixtures.js';
import { clientEnv, pubsubEmulatorUnavailable, startPubsubEmulator, type PubsubEmulator } from '../helpers/pubsub-emulator.js';

/**
 * README "Publishing events", run with a client that is not ours: the gcloud CLI publishes each producer form
 * (CloudEvents binary mode, twice with one ce-id; the full envelope with no attributes; data-only) to
 * ctloop-feature-rows on the emulator, once for the push path (functions-framework, wired as Terraform wires GCP)
 * and once for the pull path (the Pub/Sub bus adapter, as `ctloop run` in emulators mode), each in its own project.
 * Every event's rows arrive exactly once.
 */
const run = promisify(execFile);
const unavailable = pubsubEmulatorUnavailable();
if (unavailable) console.warn(`[producer-gcloud] skipping: ${unavailable}`);

const TOPIC = catalog.featureRows.topic;
const PUSH = 'ctloop-push-proj';
const PULL = 'ctloop-pull-proj';
const at = (h: number) => new Date(Date.parse('2001-04-01T00:00:00Z') + h * 3_600_000).toISOString();

describe.skipIf(!!unavailable)('producers publish with the gcloud CLI: each form ingested once, on push and on pull', () => {
  let emulator: PubsubEmulator | null = null;
  let dir = '';
  let rt: Runtime;
  let server: Server;
  let pullBus: PubsubEventBus;
  let stopLocal: (() => Promise<void>) | undefined;

  /** `gcloud pubsub topics publish`, configured exactly as README.md tells a producer; resolves with the message id. */
  async function gcloudPublish(project: string, message: unknown, attributes: Record<string, string> = {}): Promise<string> {
    const args = ['pubsub', 'topics', 'publish', TOPIC, `--message=${JSON.stringify(message)}`, '--format=json'];
    if (Object.keys(attributes).length > 0) args.push(`--attribute=${Object.entries(attributes).map(([k, v]) => `${k}=${v}`).join(',')}`);
    const { stdout } = await run('gcloud', args, {
      env: { ...process.env, CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB: `http://${emulator!.host}/`, CLOUDSDK_AUTH_ACCESS_TOKEN: 'emulator', CLOUDSDK_CORE_PROJECT: project },
    });
    return (JSON.parse(stdout) as { messageIds: string[] }).messageIds[0]!;
  }
  const rowsOf = async (eventId: string) => Number((await rt.warehouse.query(`SELECT COUNT(*) AS n FROM ${rt.warehouse.dialect.table('fv_route_stats')} WHERE _ingest_id LIKE '${eventId}:%'`))[0]!.n);

  beforeAll(async () => {
    setLogThreshold('silent');
    dir = await mkdtemp(join(tmpdir(), 'ctloop-gcloud-'));
    await writeFile(join(dir, 'features.yaml'), stringify(testRepoInput));
    Object.assign(process.env, clientEnv, { CTLOOP_MODE: 'embedded', CTLOOP_STATE_DIR: dir, CTLOOP_FEATURES: join(dir, 'features.yaml'), CTLOOP_LOG: 'silent' });
    emulator = await startPubsubEmulator();
    if (!emulator) throw new Error('the Pub/Sub emulator did not start');
    const { getTestServer } = await import('@google-cloud/functions-framework/testing');
    await import('../../functions/ingest-features/index.js');
    const { processRuntime } = await import('../../shared/runtime/runtime.js');
    const { applyFeatureRepo } = await import('../../shared/features/apply.js');
    rt = await processRuntime();
    await applyFeatureRepo(rt.warehouse, rt.repo);
    const retry = { maxDeliveryAttempts: 5, minBackoffMs: 100, maxBackoffMs: 500 };
    // Push: functions-framework behind a real port, wired like Terraform wires GCP.
    const app = getTestServer(functionSpec('ingest-features').entryPoint).listeners('request')[0] as (req: IncomingMessage, res: ServerResponse) => void;
    server = createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    await wireEmulatorTopology({ emulatorHost: emulator.host, project: PUSH, retry, functions: [functionSpec('ingest-features')], endpointFor: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    // Pull: the local loop on the Pub/Sub adapter, as `ctloop run` in emulators mode.
    pullBus = new PubsubEventBus({ project: PULL, emulatorHost: emulator.host, retry, drainQuietMs: 300, onError: () => {} });
    const { startLocalFunctions } = await import('../../shared/runtime/local-loop.js');
    const { handlers } = await import('../../functions/handlers.js');
    const loop = await startLocalFunctions({ ...rt, bus: pullBus }, { 'ingest-features': handlers['ingest-features']! });
    stopLocal = () => loop.stop();
  }, 120_000);

  afterAll(async () => {
    await stopLocal?.();
    await pullBus?.close();
    await new Promise((r) => server?.close(r));
    await rt?.close();
    await emulator?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const [path, project, origin] of [['push (functions-framework)', PUSH, 'SFO'], ['pull (bus adapter)', PULL, 'OAK']] as const) {
    it(`${path}: CloudEvents binary mode, envelope and data-only each land once`, async () => {
      const row = (dest: string, h: number) => ({ origin, dest, event_ts: at(h), avg_delay: h, flights: h });
      const ceId = `gcloud-${origin}-1`;
      const ceData = { view: 'route_stats', rows: [row('LAX', 1), row('SEA', 1)] };
      const ce = { 'ce-specversion': '1.0', 'ce-type': 'ctloop.feature.rows.v1', 'ce-source': 'gcloud-test', 'ce-id': ceId };
      await gcloudPublish(project, ceData, ce);
      await gcloudPublish(project, ceData, ce); // a producer retry: a new message, the same ce-id
      const envelope = createEvent('featureRows', { view: 'route_stats', rows: [row('JFK', 2)] }, { source: 'gcloud-test' });
      await gcloudPublish(project, envelope);
      const dataOnlyId = await gcloudPublish(project, { view: 'route_stats', rows: [row('ORD', 3), row('DEN', 3), row('BOS', 3)] }, { type: 'ctloop.feature.rows.v1', 'ctloop-body': 'data' });
      const want = { [ceId]: 2, [envelope.id]: 1, [dataOnlyId]: 3 };
      await expect.poll(async () => Object.fromEntries(await Promise.all(Object.keys(want).map(async (id) => [id, await rowsOf(id)]))), { timeout: 30_000, interval: 200 }).toEqual(want);
      if (project === PULL) await pullBus.drain(20_000);
      for (const [id, n] of Object.entries(want)) expect(await rowsOf(id), id).toBe(n);
    });
  }
});
