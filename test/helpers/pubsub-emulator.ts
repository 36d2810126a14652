import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/**
 * Google's Pub/Sub emulator for one test file. It is started from its own bin script (not `gcloud beta emulators
 * pubsub start`, whose Java child survives a kill) in its own process group, and the whole group is killed in
 * teardown. Nothing global is set: tests pass `host` into the bus config. Clients need
 * `METADATA_SERVER_DETECTION=none` in their environment (see `clientEnv`). RSS ≈ 830 MB: one per test file.
 */
export interface PubsubEmulator {
  /** host:port, e.g. 127.0.0.1:40123 */
  host: string;
  port: number;
  /** PID = PGID of the emulator's process group. */
  pid: number;
  /** Milliseconds from spawn to "Server started". */
  startupMs: number;
  stop(): Promise<void>;
}

/** Environment a client process needs next to the emulator: no GCE metadata server probing. */
export const clientEnv = { METADATA_SERVER_DETECTION: 'none' } as const;

let cachedScript: { script: string } | { reason: string } | undefined;

/** The emulator's start script, or why it cannot run here (gcloud, the emulator component or java missing). */
export function locatePubsubEmulator(): { script: string } | { reason: string } {
  if (cachedScript) return cachedScript;
  const info = spawnSync('gcloud', ['info', '--format=value(installation.sdk_root)'], { encoding: 'utf8', timeout: 30_000 });
  if (info.error || info.status !== 0 || !info.stdout.trim()) {
    const why = info.error ? (info.error as NodeJS.ErrnoException).code : `exit ${info.status}`;
    return (cachedScript = { reason: `gcloud is not available (${why}); install the Google Cloud SDK with the pubsub-emulator component` });
  }
  const script = join(info.stdout.trim(), 'platform', 'pubsub-emulator', 'bin', 'cloud-pubsub-emulator');
  if (!existsSync(script)) {
    return (cachedScript = { reason: `the Pub/Sub emulator is not installed (${script} missing): gcloud components install pubsub-emulator, or apt-get install google-cloud-cli-pubsub-emulator` });
  }
  const java = spawnSync('java', ['-version'], { encoding: 'utf8', timeout: 30_000 });
  if (java.error || java.status !== 0) {
    return (cachedScript = { reason: 'java is not available; the Pub/Sub emulator needs a JRE (apt-get install -y default-jre-headless)' });
  }
  return (cachedScript = { script });
}

/** Reason the emulator cannot run here, or null when it can. Synchronous: usable in `describe.skipIf`. */
export function pubsubEmulatorUnavailable(): string | null {
  const found = locatePubsubEmulator();
  return 'reason' in found ? found.reason : null;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Start an emulator on a free port; null (with the reason printed) when it cannot run on this machine. */
export async function startPubsubEmulator(opts: { readyTimeoutMs?: number } = {}): Promise<PubsubEmulator | null> {
  const found = locatePubsubEmulator();
  if ('reason' in found) {
    console.warn(`[pubsub-emulator] not started: ${found.reason}`);
    return null;
  }
  let lastError: unknown;
  for (let tries = 0; tries < 3; tries++) {
    try {
      return await startOn(found.script, await freePort(), opts.readyTimeoutMs ?? 60_000);
    } catch (err) {
      lastError = err; // most likely the port was taken between freePort() and bind: try another
    }
  }
  throw lastError;
}

async function startOn(script: string, port: number, readyTimeoutMs: number): Promise<PubsubEmulator> {
  const t0 = performance.now();
  const child = spawn(script, [`--host=127.0.0.1`, `--port=${port}`], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid!;
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      /* already gone */
    }
  };
  // If the test worker dies without teardown, do not leave an 830 MB JVM behind.
  const onExit = () => killGroup('SIGKILL');
  process.once('exit', onExit);

  let output = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Pub/Sub emulator not ready after ${readyTimeoutMs} ms:\n${output}`)), readyTimeoutMs);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes(`Server started, listening on ${port}`)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`Pub/Sub emulator exited (${code ?? signal}) before it was ready:\n${output}`));
      });
    });
  } catch (err) {
    killGroup('SIGKILL');
    process.removeListener('exit', onExit);
    throw err;
  }
  const startupMs = Math.round(performance.now() - t0);
  // Keep draining its output so a full pipe never blocks the JVM.
  child.stdout!.resume();
  child.stderr!.resume();
  return { host: `127.0.0.1:${port}`, port, pid, startupMs, stop: () => stopGroup(child, killGroup, onExit) };
}

async function stopGroup(child: ChildProcess, killGroup: (s: NodeJS.Signals) => void, onExit: () => void): Promise<void> {
  process.removeListener('exit', onExit);
  if (child.exitCode !== null || child.signalCode !== null) return killGroup('SIGKILL');
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  killGroup('SIGTERM');
  const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5000).unref());
  if ((await Promise.race([exited, timer])) === 'timeout') {
    killGroup('SIGKILL');
    await exited;
  }
  killGroup('SIGKILL'); // anything else left in the group
}
