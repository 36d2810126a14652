/**
 * The emulators `ctloop up --emulators` runs: how each is found (the gcloud SDK, java) and started, when it is ready,
 * how its process is recognised, and what a client needs to reach it. A missing piece is a ConfigError naming the
 * package to install.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../shared/errors.js';
import { packageRoot } from '../shared/training/code-version.js';

export type EmulatorName = 'pubsub' | 'storage' | 'firestore' | 'bigtable';

export interface EmulatorSpec {
  name: EmulatorName;
  title: string;
  /** The executable and its arguments for a port, or a ConfigError saying what to install. */
  command(port: number): { file: string; args: string[] };
  /** Output that says it is ready. */
  ready(log: string, port: number): boolean;
  /** A fragment of the command line of the recorded process (PID = PGID): tells ours from a reused PID. */
  marker: string;
  /** The environment variables a client needs, for a port. */
  env(port: number): Record<string, string>;
}

/** The checkout holding emulators/storage-emulator.ts: from the sources (emulators/) and the build (dist/emulators/) alike. */
const ROOT = packageRoot(dirname(fileURLToPath(import.meta.url))) ?? fileURLToPath(new URL('..', import.meta.url));

let sdk: string | undefined;
/** The gcloud SDK root, or a ConfigError naming the package to install. */
export function sdkRoot(): string {
  if (sdk) return sdk;
  const info = spawnSync('gcloud', ['info', '--format=value(installation.sdk_root)'], { encoding: 'utf8', timeout: 30_000 });
  if (info.error || info.status !== 0 || !info.stdout.trim()) {
    throw new ConfigError(`gcloud is not available (${info.error ? (info.error as NodeJS.ErrnoException).code : `exit ${info.status}`}); the Pub/Sub, Firestore and Bigtable emulators come with the Google Cloud SDK`, {
      hint: 'install the Google Cloud SDK (Debian: apt-get install google-cloud-cli google-cloud-cli-pubsub-emulator google-cloud-cli-firestore-emulator), or run the embedded default: npm start',
    });
  }
  return (sdk = info.stdout.trim());
}

function needJava(what: string): void {
  const java = spawnSync('java', ['-version'], { encoding: 'utf8', timeout: 30_000 });
  if (java.error || java.status !== 0) {
    throw new ConfigError(`java is not available; the ${what} emulator runs on a JRE (17 or newer)`, { hint: 'apt-get install -y default-jre-headless' });
  }
}

function sdkFile(rel: string[], component: string, apt: string): string {
  const path = join(sdkRoot(), ...rel);
  if (!existsSync(path)) throw new ConfigError(`${path} is missing`, { hint: `gcloud components install ${component} (or apt-get install ${apt})` });
  return path;
}

export const emulatorSpecs: Record<EmulatorName, EmulatorSpec> = {
  pubsub: {
    name: 'pubsub', title: 'Pub/Sub emulator', marker: 'pubsub-emulator',
    command: (port) => {
      // Its own bin script, not `gcloud beta emulators pubsub start` (whose Java child survives a kill).
      const file = sdkFile(['platform', 'pubsub-emulator', 'bin', 'cloud-pubsub-emulator'], 'pubsub-emulator', 'google-cloud-cli-pubsub-emulator');
      needJava('Pub/Sub');
      return { file, args: ['--host=127.0.0.1', `--port=${port}`] };
    },
    ready: (log, port) => log.includes(`Server started, listening on ${port}`),
    env: (port) => ({ PUBSUB_EMULATOR_HOST: `127.0.0.1:${port}` }),
  },
  storage: {
    name: 'storage', title: 'Cloud Storage emulator', marker: 'storage-emulator',
    command: (port) => {
      const script = join(ROOT, 'emulators', 'storage-emulator.ts');
      if (!existsSync(script)) throw new ConfigError(`${script} is missing (the Cloud Storage emulator runs from a checkout of ctloop)`, { hint: 'run from a clone of the repository after npm ci, or use CTLOOP_OBJECT_STORE=local' });
      return { file: process.execPath, args: [join(ROOT, 'bin', 'run-ts.mjs'), script, '--port', String(port)] };
    },
    ready: (log) => log.includes('STORAGE_EMULATOR_HOST='),
    env: (port) => ({ STORAGE_EMULATOR_HOST: `http://127.0.0.1:${port}` }),
  },
  firestore: {
    name: 'firestore', title: 'Firestore emulator', marker: 'firestore',
    command: (port) => {
      const file = sdkFile(['platform', 'cloud-firestore-emulator', 'cloud_firestore_emulator'], 'cloud-firestore-emulator', 'google-cloud-cli-firestore-emulator');
      needJava('Firestore');
      return { file, args: ['start', '--host=127.0.0.1', `--port=${port}`] };
    },
    ready: (log) => log.includes('Dev App Server is now running'),
    env: (port) => ({ FIRESTORE_EMULATOR_HOST: `127.0.0.1:${port}`, CTLOOP_ONLINE_STORE: 'firestore' }),
  },
  bigtable: {
    name: 'bigtable', title: 'Bigtable emulator', marker: 'cbtemulator',
    command: (port) => ({ file: sdkFile(['platform', 'bigtable-emulator', 'cbtemulator'], 'bigtable', 'google-cloud-cli-bigtable-emulator'), args: ['-host', '127.0.0.1', '-port', String(port)] }),
    ready: (log, port) => log.includes(`running on 127.0.0.1:${port}`),
    env: (port) => ({ BIGTABLE_EMULATOR_HOST: `127.0.0.1:${port}`, CTLOOP_ONLINE_STORE: 'bigtable' }),
  },
};

