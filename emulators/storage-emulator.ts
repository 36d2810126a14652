/**
 * Cloud Storage emulator: firebase-tools 15's `StorageEmulator`, run in-process (no Java, no Firebase project).
 *
 * How (measured; what works and what does not is listed in emulators/README.md, "Cloud Storage emulator behaviour
 * to know"; the class is `lib/emulator/storage/index.js` of the firebase-tools 15.34.2 npm package): it serves the GCS JSON API that
 * `@google-cloud/storage@7` speaks when `STORAGE_EMULATOR_HOST` / `apiEndpoint` points at it. Its Firebase security
 * rules runtime (a downloaded Java jar) and rules file watcher are not needed for admin (GCS API) requests, so their
 * start/stop are replaced by no-ops; it must be started through `lib/emulator/registry` (which waits for the port).
 * Known gaps: `createBucket` / `bucket.getMetadata` fail (buckets appear on first write), `ifGenerationMatch` is
 * ignored, bodies are limited to 130 MB. These are firebase-tools internals: the version is pinned exactly in
 * package.json (devDependency, 15.34.2).
 *
 * Tests: `startStorageEmulator()` → `{host, stop()}`. Scripts: `node bin/run-ts.mjs emulators/storage-emulator.ts
 * --port 9199` runs until SIGINT/SIGTERM and prints `STORAGE_EMULATOR_HOST=http://127.0.0.1:9199` once ready.
 */
import { createRequire } from 'node:module';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

export interface StorageEmulatorOptions {
  /** Port to listen on; a free one is picked when omitted. */
  port?: number;
  /** Interface to bind; 127.0.0.1 by default. */
  host?: string;
  /** Project id the emulator reports; any valid id works. */
  projectId?: string;
}

export interface RunningStorageEmulator {
  /** Value for `STORAGE_EMULATOR_HOST` / the adapter's `apiEndpoint`: `http://127.0.0.1:PORT`. */
  host: string;
  port: number;
  /** Milliseconds from the call to the port accepting connections. */
  startMs: number;
  /** Stops the server and deletes the emulator's blob directory. Idempotent. */
  stop(): Promise<void>;
}

interface FirebaseStorageEmulator {
  getInfo(): { host: string; port: number };
  getPersistenceTmpDir(): string;
}
interface FirebaseModules {
  StorageEmulator: new (args: Record<string, unknown>) => FirebaseStorageEmulator;
  EmulatorRegistry: { start(i: unknown): Promise<void>; stop(name: string): Promise<void>; isRunning(name: string): boolean };
}

let loaded: FirebaseModules | { error: string } | undefined;

/** Loads firebase-tools' emulator classes, or says why they cannot be loaded (tests skip with that reason). */
export function loadFirebaseStorageEmulator(): FirebaseModules | { error: string } {
  if (loaded) return loaded;
  try {
    const { StorageEmulator } = require('firebase-tools/lib/emulator/storage') as FirebaseModules;
    const { EmulatorRegistry } = require('firebase-tools/lib/emulator/registry') as FirebaseModules;
    if (typeof StorageEmulator !== 'function' || typeof EmulatorRegistry?.start !== 'function') {
      throw new Error('firebase-tools no longer exports StorageEmulator / EmulatorRegistry at the expected paths');
    }
    loaded = { StorageEmulator, EmulatorRegistry };
  } catch (err) {
    loaded = {
      error:
        `cannot load the Cloud Storage emulator from firebase-tools (${err instanceof Error ? err.message : String(err)}); ` +
        'run `npm ci` (firebase-tools is a pinned devDependency)',
    };
  }
  return loaded;
}

/** Why the emulator cannot run here, or undefined when it can. */
export function storageEmulatorUnavailableReason(): string | undefined {
  const m = loadFirebaseStorageEmulator();
  return 'error' in m ? m.error : undefined;
}

async function freePort(host: string): Promise<number> {
  return new Promise((resolveP, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolveP(port));
    });
  });
}

async function assertPortFree(port: number, host: string): Promise<void> {
  await new Promise<void>((resolveP, reject) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`port ${port} on ${host} is not available (${err.code ?? err.message}): stop what uses it or pick another --port`)),
    );
    srv.listen(port, host, () => srv.close(() => resolveP()));
  });
}

/** Starts the emulator in this process. Only one can run per process (firebase-tools keeps a static registry). */
export async function startStorageEmulator(opts: StorageEmulatorOptions = {}): Promise<RunningStorageEmulator> {
  const t0 = performance.now();
  const mods = loadFirebaseStorageEmulator();
  if ('error' in mods) throw new Error(mods.error);
  const { StorageEmulator, EmulatorRegistry } = mods;
  if (EmulatorRegistry.isRunning('storage')) {
    throw new Error('a Cloud Storage emulator is already running in this process: stop it first or reuse its host');
  }
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? (await freePort(host));
  if (opts.port !== undefined) await assertPortFree(port, host);

  // Each instance gets its own blob directory (the default `${tmpdir}/firebase/storage/blobs` is shared by every
  // emulator on the machine and deleted by whichever stops first).
  const blobDir = mkdtempSync(join(tmpdir(), 'ctloop-gcs-emulator-'));
  class IsolatedStorageEmulator extends (StorageEmulator as new (args: Record<string, unknown>) => object) {
    getPersistenceTmpDir(): string {
      return join(blobDir, 'blobs');
    }
  }
  const instance = new IsolatedStorageEmulator({
    projectId: opts.projectId ?? 'ctloop-local',
    host,
    port,
    auto_download: false,
  }) as unknown as {
    _rulesRuntime: { start(): Promise<void>; stop(): Promise<void> };
    _rulesManager: { start(): Promise<unknown>; stop(): Promise<void> };
  };
  // Admin (GCS JSON API) requests never consult Firebase rules: skip the Java rules runtime and the file watcher.
  const noop = async (): Promise<undefined> => undefined;
  instance._rulesRuntime.start = noop;
  instance._rulesRuntime.stop = noop;
  instance._rulesManager.start = noop;
  instance._rulesManager.stop = noop;

  await EmulatorRegistry.start(instance);
  const startMs = performance.now() - t0;
  let stopped: Promise<void> | undefined;
  return {
    host: `http://${host}:${port}`,
    port,
    startMs,
    stop() {
      stopped ??= (async () => {
        await EmulatorRegistry.stop('storage');
        await rm(blobDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

function parsePort(argv: string[]): number | undefined {
  const i = argv.findIndex((a) => a === '--port' || a.startsWith('--port='));
  if (i < 0) return undefined;
  const raw = argv[i]!.includes('=') ? argv[i]!.split('=')[1] : argv[i + 1];
  const port = Number(raw);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`--port must be a TCP port (1-65535), got ${JSON.stringify(raw)}`);
  }
  return port;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help')) {
    console.log('usage: node bin/run-ts.mjs emulators/storage-emulator.ts [--port 9199] [--host 127.0.0.1]');
    return;
  }
  const hostIdx = argv.indexOf('--host');
  const emu = await startStorageEmulator({
    port: parsePort(argv) ?? 9199,
    ...(hostIdx >= 0 && argv[hostIdx + 1] ? { host: argv[hostIdx + 1]! } : {}),
  });
  console.log(`STORAGE_EMULATOR_HOST=${emu.host}`);
  console.error(`Cloud Storage emulator ready in ${Math.round(emu.startMs)} ms (firebase-tools StorageEmulator); Ctrl-C to stop`);
  const shutdown = (signal: string) => {
    console.error(`${signal}: stopping the Cloud Storage emulator`);
    emu.stop().then(
      () => process.exit(0),
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  main().catch((err: unknown) => {
    console.error(`storage emulator failed to start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
