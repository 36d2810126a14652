import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './pubsub-emulator.js';

/**
 * One of Google's emulators from the gcloud SDK, for one test file (or a benchmark): started on a free port in its
 * own process group (detached = setsid), the whole group killed at stop and on process exit, its output drained.
 */
export interface EmulatorProcess {
  /** host:port */
  host: string;
  pid: number;
  startupMs: number;
  stop(): Promise<void>;
}

export interface EmulatorSpec {
  name: string;
  /** Path of the executable under the SDK root. */
  relPath: string[];
  args(port: number): string[];
  ready(output: string, port: number): boolean;
  /** Extra requirement (e.g. java), checked once; returns the reason when missing. */
  requires?(): string | null;
  install: string;
}

let sdkRoot: { root: string } | { reason: string } | undefined;

function locateSdk(): { root: string } | { reason: string } {
  if (sdkRoot) return sdkRoot;
  const info = spawnSync('gcloud', ['info', '--format=value(installation.sdk_root)'], { encoding: 'utf8', timeout: 30_000 });
  if (info.error || info.status !== 0 || !info.stdout.trim()) {
    const why = info.error ? (info.error as NodeJS.ErrnoException).code : `exit ${info.status}`;
    return (sdkRoot = { reason: `gcloud is not available (${why}); install the Google Cloud SDK` });
  }
  return (sdkRoot = { root: info.stdout.trim() });
}

/** The emulator's executable, or why it cannot run here. */
export function locateEmulator(spec: EmulatorSpec): { path: string } | { reason: string } {
  const sdk = locateSdk();
  if ('reason' in sdk) return sdk;
  const path = join(sdk.root, ...spec.relPath);
  if (!existsSync(path)) return { reason: `the ${spec.name} emulator is not installed (${path} missing): ${spec.install}` };
  const missing = spec.requires?.();
  return missing ? { reason: missing } : { path };
}

export function javaMissing(): string | null {
  const java = spawnSync('java', ['-version'], { encoding: 'utf8', timeout: 30_000 });
  return java.error || java.status !== 0 ? 'java is not available; the emulator needs a JRE 17+ (apt-get install -y default-jre-headless)' : null;
}

/** Start the emulator on a free port; null (with the reason printed) when it cannot run on this machine. */
export async function startEmulator(spec: EmulatorSpec, readyTimeoutMs = 60_000): Promise<EmulatorProcess | null> {
  const found = locateEmulator(spec);
  if ('reason' in found) {
    console.warn(`[${spec.name}-emulator] not started: ${found.reason}`);
    return null;
  }
  let lastError: unknown;
  for (let tries = 0; tries < 3; tries++) {
    try {
      return await startOn(spec, found.path, await freePort(), readyTimeoutMs);
    } catch (err) {
      lastError = err; // most likely the port was taken between freePort() and bind: try another
    }
  }
  throw lastError;
}

async function startOn(spec: EmulatorSpec, path: string, port: number, readyTimeoutMs: number): Promise<EmulatorProcess> {
  const t0 = performance.now();
  const child = spawn(path, spec.args(port), { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid!;
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      /* already gone */
    }
  };
  const onExit = () => killGroup('SIGKILL');
  process.once('exit', onExit);
  let output = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${spec.name} emulator not ready after ${readyTimeoutMs} ms:\n${output}`)), readyTimeoutMs);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (spec.ready(output, port)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${spec.name} emulator exited (${code ?? signal}) before it was ready:\n${output}`));
      });
    });
  } catch (err) {
    killGroup('SIGKILL');
    process.removeListener('exit', onExit);
    throw err;
  }
  child.stdout!.resume();
  child.stderr!.resume();
  return { host: `127.0.0.1:${port}`, pid, startupMs: Math.round(performance.now() - t0), stop: () => stopGroup(child, killGroup, onExit) };
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
  killGroup('SIGKILL'); // anything else left in the group (the JVM under the Firestore script)
}
