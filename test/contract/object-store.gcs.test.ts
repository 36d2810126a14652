import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createObjectStore } from '../../shared/adapters/object-store/index.js';
import { GcsObjectStore } from '../../shared/adapters/object-store/gcs/index.js';
import { loadConfig } from '../../shared/config/config.js';
import { AlreadyExistsError, NotFoundError, TransientError } from '../../shared/errors.js';
import { startGcsProxy, type GcsProxy } from '../helpers/gcs-proxy.js';
import { startTestStorageEmulator, storageSkipReason, type RunningStorageEmulator } from '../helpers/storage-emulator.js';
import { runObjectStoreContract } from './object-store.contract.js';

const BUCKET = 'ctloop-artifacts';

let emu: RunningStorageEmulator | undefined;
let front: GcsProxy | undefined;
async function emulator(): Promise<RunningStorageEmulator> {
  emu ??= await startTestStorageEmulator();
  return emu;
}
afterAll(async () => {
  await front?.close();
  await emu?.stop();
});

// The emulator ignores ifGenerationMatch: the contract runs through a proxy that enforces it (test/helpers/gcs-proxy.ts).
runObjectStoreContract(
  'Cloud Storage (firebase-tools emulator behind a precondition-enforcing proxy)',
  async () => {
    front = await startGcsProxy((await emulator()).host, { enforcePreconditions: true });
    const cfg = loadConfig({ CTLOOP_MODE: 'emulators', PUBSUB_EMULATOR_HOST: 'localhost:8085', STORAGE_EMULATOR_HOST: front.host }, '/');
    return { store: createObjectStore(cfg.objectStore), bucket: BUCKET };
  },
  { skipReason: storageSkipReason },
);

describe.skipIf(Boolean(storageSkipReason))('GCS adapter: preconditions and error mapping', () => {
  let proxy: GcsProxy;
  let store: GcsObjectStore;
  let scratch: string;
  const base = `gs://${BUCKET}/pre-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    const { host } = await emulator();
    proxy = await startGcsProxy(host, { enforcePreconditions: true });
    // No client retries: each injected failure must surface as one typed error.
    store = new GcsObjectStore({ project: 'ctloop-local', apiEndpoint: proxy.host, client: { retryOptions: { maxRetries: 0, autoRetry: false } } });
    scratch = await mkdtemp(join(tmpdir(), 'ctloop-gcs-pre-'));
  });
  afterAll(async () => {
    await proxy?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it('sends ifGenerationMatch=0 with ifNotExists writes (simple and resumable), and not otherwise', async () => {
    proxy.requests.length = 0;
    await store.put(`${base}/plain`, 'x');
    await store.put(`${base}/once-small`, 'x', { ifNotExists: true });
    await store.put(`${base}/once-big`, randomBytes(6 * 1024 * 1024), { ifNotExists: true });
    const file = join(scratch, 'f.bin');
    await writeFile(file, 'file body');
    await store.upload(file, `${base}/once-upload`, { ifNotExists: true });
    const uploads = proxy.requests.filter((r) => r.url.startsWith('/upload/storage/v1/'));
    const withName = (n: string) => uploads.filter((r) => new URL(r.url, 'http://x').searchParams.get('name') === `${base.slice(`gs://${BUCKET}/`.length)}/${n}`);
    const gen = (n: string) => withName(n).map((r) => new URL(r.url, 'http://x').searchParams.get('ifGenerationMatch'));
    expect(gen('plain')).toEqual([null]);
    expect(gen('once-small')).toEqual(['0']);
    expect(gen('once-upload')).toEqual(['0']);
    // Resumable: the session-creating POST carries the precondition (Cloud Storage checks it when the session is
    // created and again when it is finalized); the data PUTs go to the session (upload_id).
    const big = withName('once-big').map((r) => ({ method: r.method, q: new URL(r.url, 'http://x').searchParams }));
    expect(big[0]).toMatchObject({ method: 'POST' });
    expect(big[0]!.q.get('uploadType')).toBe('resumable');
    expect(big[0]!.q.get('ifGenerationMatch')).toBe('0');
    expect(big.slice(1).length).toBeGreaterThan(0);
    for (const r of big.slice(1)) expect(r.q.get('upload_id')).toBeTruthy();
  });

  it('maps 412 on an ifNotExists write to a permanent AlreadyExistsError (put and upload)', async () => {
    await store.put(`${base}/write-once`, 'first', { ifNotExists: true });
    await expect(store.put(`${base}/write-once`, 'second', { ifNotExists: true })).rejects.toBeInstanceOf(AlreadyExistsError);
    const file = join(scratch, 'g.bin');
    await writeFile(file, 'second');
    await expect(store.upload(file, `${base}/write-once`, { ifNotExists: true })).rejects.toBeInstanceOf(AlreadyExistsError);
    expect((await store.get(`${base}/write-once`)).toString()).toBe('first');
  });

  it('localCopy downloads the generation it stat\'ed (the bytes and the version info are one version)', async () => {
    await store.put(`${base}/gen.csv`, 'a\n1\n');
    proxy.requests.length = 0;
    const copy = await store.localCopy(`${base}/gen.csv`);
    try {
      expect(copy.info.generation).toMatch(/^\d+$/);
      const media = proxy.requests.filter((r) => r.method === 'GET' && new URL(r.url, 'http://x').searchParams.get('alt') === 'media');
      expect(media.length).toBeGreaterThan(0);
      for (const r of media) expect(new URL(r.url, 'http://x').searchParams.get('generation')).toBe(copy.info.generation);
    } finally {
      await copy.release();
    }
  });

  it('the proxy enforces ifNotExists atomically: of concurrent writers of one object exactly one wins', async () => {
    const uri = `${base}/race`;
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => store.put(uri, `writer ${i}`, { ifNotExists: true })));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(AlreadyExistsError);
    expect((await store.get(uri)).toString()).toMatch(/^writer \d$/);
  });

  it.each([429, 500, 503])('maps %i to a TransientError', async (status) => {
    await store.put(`${base}/t`, 'x');
    proxy.failNext(status);
    const err = await store.get(`${base}/t`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as TransientError).details).toMatchObject({ status });
    proxy.failNext(status);
    await expect(store.stat(`${base}/t`)).rejects.toBeInstanceOf(TransientError);
    proxy.failNext(status);
    await expect(store.put(`${base}/t2`, 'y')).rejects.toBeInstanceOf(TransientError);
  });

  it('maps 404 to null (stat), false (exists) and NotFoundError (get, download)', async () => {
    expect(await store.stat(`${base}/nope`)).toBeNull();
    expect(await store.exists(`${base}/nope`)).toBe(false);
    await expect(store.get(`${base}/nope`)).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.download(`${base}/nope`, join(scratch, 'nope'))).rejects.toBeInstanceOf(NotFoundError);
  });

  it('an unreachable endpoint is a TransientError that names the endpoint', async () => {
    const dead = new GcsObjectStore({ project: 'ctloop-local', apiEndpoint: 'http://127.0.0.1:1', client: { retryOptions: { maxRetries: 0, autoRetry: false } } });
    const err = await dead.get(`${base}/x`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as TransientError).message).toContain('http://127.0.0.1:1');
  });
});

describe.skipIf(Boolean(storageSkipReason))("GCS adapter: the library's default retries survive unconditional writes", () => {
  // @google-cloud/storage 7.22 File.save() without a precondition sets `storage.retryOptions.autoRetry = false` on
  // the shared Storage object and never restores it (build/esm/src/file.js, File.save); delete() flips it for the
  // duration of the call. Here the client keeps the library's default retry settings, so an injected 503 must be
  // retried by every idempotent call, whatever unconditional write or delete ran before.
  let proxy: GcsProxy;
  let store: GcsObjectStore;
  let scratch: string;
  const base = `gs://${BUCKET}/retry-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    const { host } = await emulator();
    proxy = await startGcsProxy(host);
    store = new GcsObjectStore({ project: 'ctloop-local', apiEndpoint: proxy.host });
    scratch = await mkdtemp(join(tmpdir(), 'ctloop-gcs-retry-'));
  });
  afterAll(async () => {
    await proxy?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it('get, stat, list and ifNotExists writes still retry a 503 after a plain put, upload and delete', async () => {
    await store.put(`${base}/plain`, 'x');
    const file = join(scratch, 'u.bin');
    await writeFile(file, 'upload body');
    await store.upload(file, `${base}/uploaded`);
    await store.put(`${base}/gone`, 'y');
    await store.delete(`${base}/gone`);
    proxy.failNext(503);
    expect((await store.get(`${base}/plain`)).toString()).toBe('x');
    proxy.failNext(503);
    expect((await store.stat(`${base}/uploaded`))?.size).toBe(11);
    proxy.failNext(503);
    expect((await store.list(`${base}/`)).map((o) => o.uri)).toEqual([`${base}/plain`, `${base}/uploaded`]);
    proxy.failNext(503);
    await store.put(`${base}/once`, 'z', { ifNotExists: true });
    expect((await store.get(`${base}/once`)).toString()).toBe('z');
  }, 60_000);
});

describe.skipIf(Boolean(storageSkipReason))('storage emulator CLI (emulators/start.sh runs it)', () => {
  const freePort = () =>
    new Promise<number>((r) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const a = srv.address();
        srv.close(() => r(typeof a === 'object' && a ? a.port : 0));
      });
    });
  const run = (args: string[]) => {
    const child = spawn(process.execPath, ['bin/run-ts.mjs', 'emulators/storage-emulator.ts', ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    return { child, exited, output: () => out };
  };

  it('serves on --port until SIGTERM, then exits 0 and frees the port', async () => {
    const port = await freePort();
    const p = run(['--port', String(port)]);
    try {
      const t0 = Date.now();
      while (!p.output().includes('STORAGE_EMULATOR_HOST=') && p.child.exitCode === null && Date.now() - t0 < 30_000) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(p.output()).toContain(`STORAGE_EMULATOR_HOST=http://127.0.0.1:${port}`);
      console.info(`[storage-emulator CLI] process start to ready: ${Date.now() - t0} ms`);
      const store = new GcsObjectStore({ project: 'ctloop-local', apiEndpoint: `http://127.0.0.1:${port}` });
      await store.put(`gs://${BUCKET}/cli/x.txt`, 'via cli');
      expect((await store.get(`gs://${BUCKET}/cli/x.txt`)).toString()).toBe('via cli');
    } finally {
      process.kill(-p.child.pid!, 'SIGTERM');
    }
    expect(await p.exited).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });

  it('exits 1 with a clear message when the port is taken', async () => {
    const port = await freePort();
    const blocker = createServer().listen(port, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    try {
      const p = run(['--port', String(port)]);
      expect(await p.exited).toBe(1);
      expect(p.output()).toContain(`port ${port} on 127.0.0.1 is not available`);
    } finally {
      blocker.close();
    }
  });
});
