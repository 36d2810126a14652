import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createObjectStore } from '../../shared/adapters/object-store/index.js';
import { createOnlineStore } from '../../shared/adapters/online-store/index.js';
import { makeEnvelope } from '../../shared/events/envelope.js';
import { createWarehouse } from '../../shared/adapters/warehouse/index.js';
import { catalog, createEvent } from '../../shared/events/catalog.js';
import { encodeEnvelope, envelopeAttributes } from '../../shared/adapters/event-bus/attributes.js';
import { loadFeatureRepo } from '../../shared/features/definitions.js';
import { functionRegistry } from '../../shared/topology/functions.js';
import { messageFunctionRegistry } from '../../shared/topology/message-functions.js';
import { ctloopBin } from '../helpers/cli.js';
import { firestoreEmulatorUnavailable } from '../helpers/firestore-emulator.js';
import { pubsubEmulatorUnavailable } from '../helpers/pubsub-emulator.js';

/**
 * `ctloop up --emulators` as a user runs it: a real process that starts the emulators in their own process groups,
 * serves every function under functions-framework and wires push subscriptions. Checked: each function's push
 * subscription points at its port; a feature-rows event published to the emulator is pushed to ingest-features and
 * stored (online value in the Firestore emulator, rows in DuckDB); SIGTERM stops every process it started; a stale
 * record (a dead PID, a PID that belongs to another program) is cleaned up by the next start, and a foreign PID is
 * never signalled.
 */
const unavailable = pubsubEmulatorUnavailable() ?? firestoreEmulatorUnavailable();
if (unavailable) console.warn(`[up-emulators] skipping: ${unavailable}`);

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const groupAlive = (pgid: number) => { try { process.kill(-pgid, 0); return true; } catch { return false; } };

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!!unavailable)('ctloop up --emulators', () => {
  let dir: string;
  let state: string;
  let up: ChildProcess;
  let stdout = '';
  let stderr = '';
  let exit: Promise<number | null>;
  let foreign: ChildProcess;
  const env = () => ({ ...process.env, CTLOOP_STATE_DIR: state, METADATA_SERVER_DETECTION: 'none', CTLOOP_LOG: 'silent', CI: 'true' });
  const pids = () => Object.fromEntries(['pubsub', 'storage', 'firestore'].map((n) => [n, Number(readFileSync(join(state, 'emulators', `${n}.pid`), 'utf8'))]));
  const port = (n: string) => Number(readFileSync(join(state, 'emulators', `${n}.port`), 'utf8'));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctloop-up-'));
    state = join(dir, 'state');
    await mkdir(join(state, 'emulators'), { recursive: true });
    // Stale records: a PID that is gone, and a live PID of another program (never to be signalled).
    const gone = spawnSync('true').pid!;
    foreign = spawn('sleep', ['600'], { stdio: 'ignore' });
    await writeFile(join(state, 'emulators', 'storage.pid'), `${gone}\n`);
    await writeFile(join(state, 'emulators', 'storage.port'), '1\n');
    await writeFile(join(state, 'emulators', 'pubsub.pid'), `${foreign.pid}\n`);
    await writeFile(join(state, 'emulators', 'pubsub.port'), '1\n');
    up = spawn(process.execPath, [ctloopBin, 'up', '--emulators', '--pubsub-port', '0', '--storage-port', '0', '--firestore-port', '0', '--functions-port', '0'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    up.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    up.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    exit = new Promise((r) => up.once('exit', (code) => r(code)));
    // Ready: the record written and the table printed (up.json is written just before the table, whose pipe may
    // deliver it a moment later).
    const ready = () => existsSync(join(state, 'emulators', 'up.json')) && /export FIRESTORE_EMULATOR_HOST=/.test(stdout);
    await until('ctloop up to be ready', () => (ready() ? true : up.exitCode !== null ? Promise.reject(new Error(`up exited ${up.exitCode}: ${stderr}`)) : undefined), 120_000);
  }, 150_000);

  afterAll(async () => {
    if (up && up.exitCode === null) {
      up.kill('SIGKILL');
      for (const pid of Object.values(pids())) if (groupAlive(pid)) process.kill(-pid, 'SIGKILL');
    }
    foreign?.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('cleans stale records without signalling a foreign PID, and prints what runs where', () => {
    expect(stdout).toMatch(/ready in [\d.]+ s — 9 functions under functions-framework/);
    expect(stderr).toMatch(new RegExp(`Pub/Sub emulator: removed a stale record \\(PID ${foreign.pid} now belongs to another program`));
    expect(stderr).toMatch(/Cloud Storage emulator: removed a stale record \(process \d+ is gone\)/);
    expect(alive(foreign.pid!)).toBe(true);
    const p = pids();
    expect(p.pubsub).not.toBe(foreign.pid);
    for (const pid of Object.values(p)) expect(alive(pid)).toBe(true);
    expect(stdout).toContain(`export PUBSUB_EMULATOR_HOST=127.0.0.1:${port('pubsub')}`);
    expect(stdout).toContain(`export FIRESTORE_EMULATOR_HOST=127.0.0.1:${port('firestore')}`);
  });

  it('points each function\'s push subscription at its own port', async () => {
    const rec = JSON.parse(readFileSync(join(state, 'emulators', 'up.json'), 'utf8')) as { functions: { function: string; port: number; subscription: string }[] };
    expect(rec.functions.map((f) => f.function).sort()).toEqual([...functionRegistry, ...messageFunctionRegistry].map((f) => f.name).sort());
    expect(new Set(rec.functions.map((f) => f.port)).size).toBe(rec.functions.length);
    const client = new PubSub({ projectId: 'ctloop-local', apiEndpoint: `127.0.0.1:${port('pubsub')}`, emulatorMode: true });
    try {
      for (const f of rec.functions) {
        const [meta] = await client.subscription(f.subscription).getMetadata();
        expect(meta.pushConfig?.pushEndpoint, f.function).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${f.port}/projects/ctloop-local/topics/`));
        expect(meta.deadLetterPolicy?.deadLetterTopic).toMatch(/-dead-letter$/);
      }
    } finally {
      await client.close();
    }
  });

  it('stores a feature-rows event published to the emulator, files a refused one as a dead letter, then SIGTERM stops every process it started', async () => {
    const event = createEvent('featureRows', {
      view: 'route_daily',
      rows: [{ origin: 'SFO', destination: 'LAX', event_timestamp: '2001-03-01T23:59:59Z', route_flights: 12, route_avg_delay: 4.5, route_delayed_share: 0.25, distance: 337 }],
    }, { source: 'up-test' });
    const client = new PubSub({ projectId: 'ctloop-local', apiEndpoint: `127.0.0.1:${port('pubsub')}`, emulatorMode: true });
    try {
      await client.topic(catalog.featureRows.topic).publishMessage({ data: encodeEnvelope(event), attributes: envelopeAttributes(event, {}) });
    } finally {
      await client.close();
    }
    const repo = await loadFeatureRepo('features.yaml');
    const online = await createOnlineStore({ kind: 'firestore', project: 'ctloop-local', database: '(default)', emulatorHost: `127.0.0.1:${port('firestore')}` });
    try {
      const rec = await until('the online value', async () => (await online.read(repo.view('route_daily'), [['SFO', 'LAX']]))[0] ?? undefined, 60_000);
      expect(rec.values).toMatchObject({ route_flights: 12, distance: 337 });
    } finally {
      await online.close();
    }

    // A message the function refuses for good is acknowledged and filed where `ctloop dead-letters` reads it.
    const bad = makeEnvelope('ctloop.feature.rows.v1', { view: 'route_daily', rows: [] }, { source: 'up-test' });
    const badClient = new PubSub({ projectId: 'ctloop-local', apiEndpoint: `127.0.0.1:${port('pubsub')}`, emulatorMode: true });
    const badId = await badClient.topic(catalog.featureRows.topic).publishMessage({ data: encodeEnvelope(bad), attributes: envelopeAttributes(bad, {}) }).finally(() => badClient.close());
    const objects = createObjectStore({ kind: 'gcs', project: 'ctloop-local', apiEndpoint: `http://127.0.0.1:${port('storage')}` });
    const filed = await until('the dead letter', async () => {
      const list = await objects.list('gs://ctloop-artifacts/dead-letter/ingest-features/').catch(() => []);
      return list.find((o) => o.uri.includes(badId));
    }, 30_000);
    expect(JSON.parse((await objects.get(filed.uri)).toString('utf8'))).toMatchObject({ consumer: 'ingest-features', messageId: badId, code: 'VALIDATION_FAILED' });

    const started = pids();
    up.kill('SIGTERM');
    expect(await exit).toBe(0);
    for (const [name, pid] of Object.entries(started)) expect(groupAlive(pid), `${name} (pgid ${pid})`).toBe(false);
    expect(existsSync(join(state, 'emulators', 'pubsub.pid'))).toBe(false);
    expect(existsSync(join(state, 'emulators', 'up.json'))).toBe(false);
    expect(alive(foreign.pid!)).toBe(true);

    // The process is gone, so DuckDB (one writer) can be opened: the rows are stored once.
    const wh = await createWarehouse({ kind: 'duckdb', path: join(state, 'warehouse.duckdb') }, { readOnly: true });
    try {
      const [r] = await wh.query(`SELECT COUNT(*) AS n FROM ${wh.dialect.table('fv_route_daily')} WHERE _ingest_id LIKE '${event.id}:%'`);
      expect(Number(r!.n)).toBe(1);
    } finally {
      await wh.close();
    }
  }, 90_000);
});
