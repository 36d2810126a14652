import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../shared/config/config.js';
import { catalog } from '../../shared/events/catalog.js';
import { UsageError } from '../../shared/errors.js';
import { LocalScheduler, type RawTarget } from '../../shared/runtime/local-scheduler.js';
import { buildTopology } from '../../shared/topology/generate.js';
import { functionRegistry } from '../../shared/topology/functions.js';
import { messageFunctionRegistry } from '../../shared/topology/message-functions.js';
import { loadSchedulePlan } from '../../shared/topology/schedules.js';
import { Interrupted, onInterrupt, startInterruptibly } from '../../emulators/interrupt.js';
import { openEmulatorSession, recordUp, type EmulatorSession } from '../../emulators/session.js';
import { stackSettings, type OnlineEmulator } from '../../emulators/stack.js';
import type { ServedFunction } from '../../emulators/push-loop.js';
import type { RunningEmulator } from '../../emulators/processes.js';
import { formatOf, output, progress } from '../context.js';
import type { UpOptions } from './up.js';

/** `ctloop up --emulators` (registered in up.ts; loaded when it runs). */
export async function runUp(opts: UpOptions, cmd: Command): Promise<void> {
  const t0 = performance.now();
  formatOf(cmd);
  if (!opts.emulators) {
    throw new UsageError('ctloop up runs the loop on the local emulators: say so with --emulators', {
      hint: 'ctloop up --emulators (npm run emulators); the embedded loop without emulators is ctloop run',
    });
  }
  if (opts.online !== 'firestore' && opts.online !== 'bigtable') {
    throw new UsageError(`--online must be firestore or bigtable, got ${JSON.stringify(opts.online)}`, { hint: 'ctloop up --emulators --online bigtable' });
  }
  const say = progress(cmd);
  const settings = stackSettings(process.env, {
    online: opts.online as OnlineEmulator,
    ...(opts.pubsubPort !== undefined ? { pubsub: opts.pubsubPort } : {}),
    ...(opts.storagePort !== undefined ? { storage: opts.storagePort } : {}),
    ...(opts.firestorePort !== undefined ? { firestore: opts.firestorePort } : {}),
    ...(opts.bigtablePort !== undefined ? { bigtable: opts.bigtablePort } : {}),
    ...(opts.functionsPort !== undefined ? { functions: opts.functionsPort } : {}),
  });
  const stateDir = loadConfig({ ...(process.env.CTLOOP_STATE_DIR ? { CTLOOP_STATE_DIR: process.env.CTLOOP_STATE_DIR } : {}) }).stateDir;
  const plan = await loadSchedulePlan(resolve(opts.schedules)); // a bad plan fails before anything starts
  const stop = onInterrupt();
  try {
    await serveUntilStopped(await startInterruptibly(openEmulatorSession(stateDir, settings, say), stop.interrupted), { opts, cmd, plan, stateDir, t0, say, interrupted: stop.interrupted });
  } finally {
    stop.dispose();
  }
}

async function serveUntilStopped(session: EmulatorSession, c: { opts: UpOptions; cmd: Command; plan: Awaited<ReturnType<typeof loadSchedulePlan>>; stateDir: string; t0: number; say: (l: string) => void; interrupted: Promise<never> }): Promise<void> {
  const { opts, cmd, plan, stateDir, t0, say } = c;
  let scheduler: LocalScheduler | undefined;
  try {
    const fns = await session.serveFunctions();
    const { rt, transport } = session;
    const { topology } = buildTopology({ catalog, registry: functionRegistry, features: rt.repo, schedules: plan });
    // Raw-message jobs (the training reconciler) are published to their topic, which pushes to the message function.
    const rawTargets: Record<string, RawTarget> = Object.fromEntries(messageFunctionRegistry.map((m) => [m.topic, async (body: unknown) => {
      await transport.bus.publishMessage(m.topic, Buffer.from(JSON.stringify(body)));
    }]));
    scheduler = new LocalScheduler(topology.scheduler_jobs, transport.bus, rawTargets);
    scheduler.start();
    await recordUp(stateDir, {
      pid: process.pid, startedAt: new Date().toISOString(),
      functions: fns.functions.map((f) => ({ function: f.function, port: f.port, subscription: f.subscription })),
    });
    const readySeconds = (performance.now() - t0) / 1000;
    output(cmd, {
      readySeconds, stateDir, pid: process.pid,
      emulators: session.stack.emulators.map((e) => ({ name: e.name, port: e.port, pid: e.pid, started: e.started, startupMs: e.startupMs, log: e.log })),
      functions: fns.functions, schedulerJobs: scheduler.jobNames, env: exportsOf(session),
    }, () => renderUp(session, fns.functions, scheduler!.jobNames, readySeconds));
    await untilStopped(session, c.interrupted, opts.for);
  } finally {
    scheduler?.stop();
    await recordUp(stateDir, null);
    await session.close();
    say('stopped: functions, servers and the emulators this command started');
  }
}

/** Wait for SIGINT/SIGTERM (a normal stop) or --for; rejects with an emulator's death (the caller stops the rest). */
async function untilStopped(session: EmulatorSession, interrupted: Promise<never>, seconds: number | undefined): Promise<void> {
  // A ref'd timer keeps the event loop alive while waiting.
  let timer: NodeJS.Timeout | undefined;
  const elapsed = new Promise<void>((done) => {
    timer = seconds !== undefined ? setTimeout(done, seconds * 1000) : setInterval(() => undefined, 3_600_000);
  });
  try {
    await Promise.race([elapsed, interrupted, session.stack.died]);
  } catch (err) {
    if (!(err instanceof Interrupted)) throw err;
  } finally {
    clearTimeout(timer);
    clearInterval(timer);
  }
}

function exportsOf(session: EmulatorSession): Record<string, string> {
  return { ...session.stack.env };
}

function renderUp(session: EmulatorSession, fns: ServedFunction[], jobs: string[], readySeconds: number): string {
  const pad = (s: string, n: number) => s.padEnd(n);
  const w = Math.max(...fns.map((f) => f.function.length), 8);
  const ws = Math.max(...fns.map((f) => f.subscription.length), 17);
  const emu = (e: RunningEmulator) => `  ${pad(e.title, 24)} 127.0.0.1:${pad(String(e.port), 6)} pid ${pad(String(e.pid), 8)} ${e.started ? `started in ${(e.startupMs / 1000).toFixed(1)} s` : 'reused (already running)'}  log ${e.log}`;
  return [
    `ready in ${readySeconds.toFixed(1)} s — ${fns.length} functions under functions-framework in this process (pid ${process.pid}), fed by push subscriptions`,
    '',
    'emulators:',
    ...session.stack.emulators.map(emu),
    '',
    `  ${pad('function', w)}  ${pad('port', 5)}  ${pad('push subscription', ws)}  topic (dead letters → <topic>-dead-letter)`,
    ...fns.map((f) => `  ${pad(f.function, w)}  ${pad(String(f.port), 5)}  ${pad(f.subscription, ws)}  ${f.topic}`),
    '',
    `scheduler jobs (publishing to Pub/Sub): ${jobs.join(', ') || 'none'}`,
    'dead letters: filed under the artifact bucket on the Cloud Storage emulator (ctloop dead-letters list)',
    '',
    'in another shell, point ctloop at these emulators:',
    ...Object.entries(exportsOf(session)).map(([k, v]) => `export ${k}=${v}`),
    '',
    'Ctrl-C (or SIGTERM) stops the functions and the emulators this command started.',
  ].join('\n');
}
