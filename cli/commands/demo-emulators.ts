import type { Command } from 'commander';
import { registryOf } from '../../shared/adapters/model-registry/runtime.js';
import { createObjectStore } from '../../shared/adapters/object-store/index.js';
import { loadConfig, type Config } from '../../shared/config/config.js';
import type { DemoReporter } from '../../shared/demo/progress.js';
import { freshDemoState } from '../../shared/demo/fresh-state.js';
import { runtimeExtras } from '../../shared/status/extras.js';
import { traceVersion } from '../../shared/status/lineage.js';
import { pullSubscriptions } from '../../emulators/push-loop.js';
import { resetEmulatorState } from '../../emulators/reset.js';
import { Interrupted, onInterrupt, startInterruptibly } from '../../emulators/interrupt.js';
import { openEmulatorSession, type EmulatorSession } from '../../emulators/session.js';
import { stackSettings } from '../../emulators/stack.js';
import type { DemoCliOptions } from './demo.js';
import { runDemoOn, type TransportReport } from './demo-action.js';

/**
 * `ctloop demo --emulators`: the same stages over the emulators `ctloop up --emulators` starts (same code:
 * emulators/session.ts). Every event is a real Pub/Sub message pushed to the functions served by functions-framework
 * (no pull subscription feeds a function); the demo's narration is one more push subscription per topic it watches.
 * Before the run, the previous demo's state is cleared: the embedded files (fresh-state.ts) and the emulators'
 * (topics and subscriptions, the artifact bucket's objects, online documents); at the end its topics and
 * subscriptions are deleted and the emulators it started are stopped (reused ones keep running).
 */
export async function runDemoOnEmulators(opts: DemoCliOptions, cmd: Command, reporter: DemoReporter, t0: number): Promise<void> {
  const stateDir = loadConfig({ ...(process.env.CTLOOP_STATE_DIR ? { CTLOOP_STATE_DIR: process.env.CTLOOP_STATE_DIR } : {}) }).stateDir;
  let note = '';
  // Before the runtime opens: the previous demo's embedded files and emulator state go (see the header).
  const prepare = async (config: Config) => {
    const { removed } = await freshDemoState(config);
    const cleared = await resetEmulatorState(config, createObjectStore(config.objectStore));
    note = [removed ? 'the previous demo\'s state was removed' : '', cleared.topics + cleared.subscriptions + cleared.objects > 0
      ? `emulator state cleared: ${cleared.topics} topic(s), ${cleared.subscriptions} subscription(s), ${cleared.objects} object(s), online documents` : ''].filter(Boolean).join('; ');
  };
  // Online values on the Firestore emulator, or the Bigtable emulator with --online bigtable.
  const settings = stackSettings(process.env, { online: opts.online === 'bigtable' ? 'bigtable' : 'firestore' });
  const stop = onInterrupt();
  try {
    const session = await startInterruptibly(openEmulatorSession(stateDir, settings, (l) => reporter.line(l), prepare), stop.interrupted);
    await runInSession(session, { opts, cmd, reporter, t0, stateDir, note, interrupted: stop.interrupted });
  } catch (err) {
    // Interrupted, or an emulator died: the stages may still hold timers and child processes, so once the error is
    // printed the process ends (exit code of the signal, else the CLI's).
    setTimeout(() => process.exit(err instanceof Interrupted ? (err.signal === 'SIGINT' ? 130 : 143) : (process.exitCode ?? 1)), 500).unref();
    throw err;
  } finally {
    stop.dispose();
  }
}

async function runInSession(session: EmulatorSession, c: { opts: DemoCliOptions; cmd: Command; reporter: DemoReporter; t0: number; stateDir: string; note: string; interrupted: Promise<never> }): Promise<void> {
  const { opts, cmd, reporter, t0, stateDir } = c;
  const note = c.note;
  const { rt, stack, transport } = session;
  const where = stack.emulators.map((e) => `${e.title} 127.0.0.1:${e.port} (${e.started ? `started in ${(e.startupMs / 1000).toFixed(1)} s` : 'reused'})`).join(', ');
  reporter.line(`ctloop demo${opts.quick ? ' --quick' : ''} --emulators: mode ${rt.config.mode}, state in ${stateDir}${note ? ` (${note})` : ''}`);
  reporter.line(`emulators: ${where}; functions under functions-framework in this process, fed by push subscriptions`);
  try {
    const describe = async (): Promise<TransportReport> => {
      const fns = session.functions;
      const counts = fns ? fns.counts() : {};
      const pull = await pullSubscriptions(transport);
      const registry = await registryOf(rt);
      const lineage = await traceVersion({ warehouse: rt.warehouse, objectStore: rt.objectStore, registry, repo: rt.repo, extras: runtimeExtras(rt) }, 'flight_delay', 'champion')
        .catch((err: unknown) => ({ error: String(err) }));
      const links = (lineage as { links?: { stage: string; present: boolean }[] }).links ?? [];
      const total = Object.values(counts).reduce((n, c) => n + c.requests, 0);
      return {
        json: {
          emulators: {
            processes: stack.emulators.map((e) => ({ name: e.name, port: e.port, pid: e.pid, started: e.started, startupMs: e.startupMs })),
            functions: fns?.functions.map((f) => ({ function: f.function, port: f.port, subscription: f.subscription, pushEndpoint: f.pushEndpoint, ...counts[f.function] })) ?? [],
            pullSubscriptions: pull,
          },
          lineage,
        },
        lines: [
          `Transport: the Pub/Sub emulator pushed ${total} request(s) to ${Object.values(counts).filter((c) => c.requests > 0).length} of ${Object.keys(counts).length} functions under functions-framework (${Object.entries(counts).map(([f, c]) => `${f} ${c.acked}${c.failed ? `+${c.failed} failed` : ''}`).join(', ')}); ${pull.length === 0 ? 'no pull subscription' : `pull subscriptions: ${pull.join(', ')}`}; objects on the Cloud Storage emulator; online values on the ${rt.config.online.kind === 'bigtable' ? 'Bigtable' : 'Firestore'} emulator.`,
          `Lineage of flight_delay@champion: ${links.filter((l) => l.present).map((l) => l.stage).join(' ← ') || 'not traced'}`,
        ],
      };
    };
    // A dead emulator ends the demo with its name rather than a drain that never settles; Ctrl-C stops what it started.
    await Promise.race([runDemoOn(rt, opts, cmd, reporter, t0, { startFunctions: () => session.serveFunctions() }, describe), stack.died, c.interrupted]);
  } finally {
    await session.functions?.stop().catch(() => undefined);
    await resetEmulatorState({ ...rt.config, online: { kind: 'embedded', dir: '' } }, null).catch(() => undefined);
    await session.close();
  }
}
