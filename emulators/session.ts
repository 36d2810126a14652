import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { completeTrainingFunction } from '../functions/launch-training/job-state.js';
import { handlers } from '../functions/handlers.js';
import { loadConfig, type Config } from '../shared/config/config.js';
import { UsageError } from '../shared/errors.js';
import { applyFeatureRepo } from '../shared/features/apply.js';
import { createRuntime, type Runtime } from '../shared/runtime/runtime.js';
import { alive, emulatorDir } from './processes.js';
import { createPushTransport, startPushFunctions, type PushFunctions, type PushTransport } from './push-loop.js';
import { startEmulatorStack, type EmulatorStack, type StackSettings } from './stack.js';

/** The record of a running `ctloop up` (the demo refuses to rewire its subscriptions under it). */
const UP_FILE = 'up.json';

export interface UpRecord {
  pid: number;
  startedAt: string;
  functions: { function: string; port: number; subscription: string }[];
}

/** A live `ctloop up` recorded in the state directory, or null (a stale record is removed). */
export async function runningUp(stateDir: string): Promise<UpRecord | null> {
  const file = join(emulatorDir(stateDir), UP_FILE);
  const rec = await readFile(file, 'utf8').then((s) => JSON.parse(s) as UpRecord, () => null);
  if (!rec) return null;
  // Ours only while that PID still runs ctloop (a recycled PID of another program is a stale record).
  const cmd = await readFile(`/proc/${rec.pid}/cmdline`, 'utf8').catch(() => null);
  if (rec.pid !== process.pid && Number.isInteger(rec.pid) && alive(rec.pid) && (cmd === null || cmd.includes('ctloop'))) return rec;
  await rm(file, { force: true });
  return null;
}

export async function recordUp(stateDir: string, rec: UpRecord | null): Promise<void> {
  const file = join(emulatorDir(stateDir), UP_FILE);
  if (rec) await writeFile(file, `${JSON.stringify(rec, null, 2)}\n`);
  else await rm(file, { force: true });
}

/** The emulators, the runtime on them and the functions served with push subscriptions: what `up` and the demo run. */
export interface EmulatorSession {
  stack: EmulatorStack;
  config: Config;
  transport: PushTransport;
  rt: Runtime;
  /** Started by `serveFunctions` (the demo starts them itself, after giving the runtime its delivery). */
  functions: PushFunctions | null;
  serveFunctions(): Promise<PushFunctions>;
  /** Stop the functions, close the runtime and the bus, stop the emulators this session started. */
  close(): Promise<void>;
}

/**
 * Start (or reuse) the emulators, point this process's environment at them, build the runtime with the push bus,
 * and hand back a session whose `serveFunctions` serves every function under functions-framework. `prepare` runs
 * between the emulators being up and the runtime being built (the demo clears its previous state there).
 */
export async function openEmulatorSession(stateDir: string, settings: StackSettings, say: (line: string) => void, prepare?: (config: Config) => Promise<void>): Promise<EmulatorSession> {
  const other = await runningUp(stateDir);
  if (other) {
    throw new UsageError(`ctloop up already runs the functions on these emulators (pid ${other.pid}, state ${stateDir})`, {
      hint: `stop it first (kill -TERM ${other.pid}, or Ctrl-C where it runs), or use another CTLOOP_STATE_DIR`,
    });
  }
  const stack = await startEmulatorStack(stateDir, settings, say);
  try {
    Object.assign(process.env, stack.env);
    const config = loadConfig();
    await prepare?.(config);
    const transport = createPushTransport(config);
    const rt = await createRuntime(config, { bus: transport.bus });
    if (config.warehouse.kind === 'duckdb') await applyFeatureRepo(rt.warehouse, rt.repo);
    const session: EmulatorSession = {
      stack, config, transport, rt, functions: null,
      async serveFunctions() {
        session.functions = await startPushFunctions(rt, transport, {
          handlers, messageEntryPoints: { 'complete-training': completeTrainingFunction }, firstPort: settings.functionsPort,
        });
        return session.functions;
      },
      async close() {
        const errors: unknown[] = [];
        const step = async (f: () => Promise<unknown>) => { try { await f(); } catch (err) { errors.push(err); } };
        if (session.functions) await step(() => session.functions!.stop());
        await step(() => transport.host.close());
        await step(() => rt.close());
        await step(() => transport.bus.close());
        await step(() => stack.stop());
        if (errors.length > 0) throw errors[0];
      },
    };
    return session;
  } catch (err) {
    await stack.stop();
    throw err;
  }
}
