import { z } from 'zod';
import { ConfigError } from '../shared/errors.js';
import { alive, emulatorSpecs, startOrReuse, stopEmulator, type EmulatorName, type RunningEmulator } from './processes.js';

/** The emulators' ports: environment (as emulators/start.sh reads it), overridden by command-line options; 0 = a free port. */
const port = (dflt: number) => z.coerce.number().int().min(0).max(65535).default(dflt);
const settingsSchema = z.object({
  PUBSUB_PORT: port(8085),
  STORAGE_PORT: port(9199),
  FIRESTORE_PORT: port(8086),
  BIGTABLE_PORT: port(8087),
  CTLOOP_FUNCTIONS_PORT: port(8090),
});

export type OnlineEmulator = 'firestore' | 'bigtable';

export interface StackSettings {
  ports: Record<EmulatorName, number>;
  /** First port of the functions (each function takes the next one); 0 = free ports. */
  functionsPort: number;
  online: OnlineEmulator;
}

export function stackSettings(env: NodeJS.ProcessEnv, over: Partial<Record<EmulatorName | 'functions', number>> & { online?: OnlineEmulator } = {}): StackSettings {
  const r = settingsSchema.safeParse(env);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ConfigError(`${i.path.join('.')}: ${i.message}`, { hint: 'ports are integers from 0 to 65535 (0 picks a free port)' });
  }
  const e = r.data;
  return {
    ports: { pubsub: over.pubsub ?? e.PUBSUB_PORT, storage: over.storage ?? e.STORAGE_PORT, firestore: over.firestore ?? e.FIRESTORE_PORT, bigtable: over.bigtable ?? e.BIGTABLE_PORT },
    functionsPort: over.functions ?? e.CTLOOP_FUNCTIONS_PORT,
    online: over.online ?? 'firestore',
  };
}

export interface EmulatorStack {
  emulators: RunningEmulator[];
  /** What a client needs: PUBSUB_EMULATOR_HOST, STORAGE_EMULATOR_HOST, the online store's, CTLOOP_MODE=emulators. */
  env: Record<string, string>;
  /** Resolves never; rejects with a TransientError naming the emulator as soon as one of them is gone. */
  died: Promise<never>;
  /** Stop the emulators this call started (reused ones keep running), each process group killed and waited for. */
  stop(): Promise<void>;
}

/**
 * Start (or reuse, when live) the Pub/Sub emulator, the Cloud Storage emulator and the online store's emulator, in
 * parallel, each in its own process group with its PID and port recorded under `<state>/emulators/`. A failure
 * stops what this call started and throws (a ConfigError names what to install; a busy port says which setting).
 */
export async function startEmulatorStack(stateDir: string, settings: StackSettings, say: (line: string) => void = () => undefined): Promise<EmulatorStack> {
  const names: EmulatorName[] = ['pubsub', 'storage', settings.online];
  const results = await Promise.allSettled(names.map((n) => startOrReuse(stateDir, emulatorSpecs[n], settings.ports[n], { say })));
  const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(ok.map((e) => stopEmulator(stateDir, e)));
    throw failed.reason;
  }
  // If this process dies without stopping them (an uncaught exception: 'exit' is not always emitted then, so the
  // monitor too), the groups it started go with it.
  const onExit = () => {
    for (const e of ok.filter((x) => x.started)) {
      try { process.kill(-e.pid, 'SIGKILL'); } catch { /* gone */ }
    }
  };
  process.once('exit', onExit);
  process.once('uncaughtExceptionMonitor', onExit);
  let timer: NodeJS.Timeout | undefined;
  const died = new Promise<never>((_, reject) => {
    timer = setInterval(() => {
      const gone = ok.find((e) => !alive(e.pid));
      if (!gone) return;
      clearInterval(timer);
      reject(new ConfigError(`the ${gone.title} (pid ${gone.pid}, port ${gone.port}) died while the loop was running: calls to it fail and Pub/Sub retries the pushes that need it, so the loop was stopped`, {
        hint: `see ${gone.log} for why it ended; then start the command again (a second start replaces the stale record)`,
      }));
    }, 1000);
    timer.unref();
  });
  died.catch(() => undefined); // observed by whoever awaits it; never an unhandled rejection
  return {
    emulators: ok,
    env: { ...Object.assign({}, ...ok.map((e) => e.env)) as Record<string, string>, CTLOOP_MODE: 'emulators', METADATA_SERVER_DETECTION: 'none' },
    died,
    async stop() {
      clearInterval(timer);
      process.removeListener('exit', onExit);
      process.removeListener('uncaughtExceptionMonitor', onExit);
      await Promise.all(ok.map((e) => stopEmulator(stateDir, e)));
    },
  };
}
