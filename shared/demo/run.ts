import { join, resolve } from 'node:path';
import { handlers } from '../../functions/handlers.js';
import { catalog, type EventName } from '../events/catalog.js';
import { startLocalFunctions, stopLocalFunctions } from '../runtime/local-loop.js';
import { LocalScheduler } from '../runtime/local-scheduler.js';
import type { Runtime } from '../runtime/runtime.js';
import { buildTopology } from '../topology/generate.js';
import { functionRegistry } from '../topology/functions.js';
import { loadSchedulePlan } from '../topology/schedules.js';
import type { DemoReporter } from './progress.js';
import type { DemoContext, DemoOptions, DemoRecord, DemoStage, WeekHook } from './stage.js';
import { EventWatch } from './watch.js';
import { provideDemoDelivery } from './delivery.js';

/**
 * How the functions run: subscribed on the runtime's bus in this process (embedded), or served by functions-framework
 * behind push subscriptions (`ctloop demo --emulators`: emulators/session.ts). Either way `rt.bus.drain()` waits for
 * what was published to be handled, and the watch subscribes through `rt.bus`.
 */
export interface DemoLoop {
  startFunctions(rt: Runtime): Promise<{ stop(): Promise<void> }>;
}

const localLoop: DemoLoop = { startFunctions: (rt) => startLocalFunctions(rt, handlers) };

const WATCHED: EventName[] = ['driftCheckRequested', 'driftReported', 'alertRaised', 'trainingRequested', 'trainingCompleted', 'modelEvaluated', 'modelDeployed', 'deploymentRolledBack'];

/**
 * Run the demo's stages on a runtime: every function subscribed in this process (deploy-model and
 * reconcile-deployments included, their clock the simulated one), the scheduler jobs of the demo's schedule plan on
 * the simulated clock, and a watcher for the narrative. Returns what the stages recorded.
 */
export async function runDemoStages(rt: Runtime, opts: DemoOptions, stages: DemoStage[], hooks: WeekHook[], reporter: DemoReporter, loop: DemoLoop = localLoop): Promise<DemoRecord> {
  const plan = await loadSchedulePlan(resolve(opts.schedules));
  const { topology } = buildTopology({ catalog, registry: functionRegistry, features: rt.repo, schedules: plan });
  const record: DemoRecord = {
    models: [], drift: [], deployments: [], serving: { predictions: 0, failed: 0, labelled: 0, byVersion: {}, sample: null }, live: [],
    driftToRegisteredMs: [], driftToServingMs: [], report: null, stages: [],
  };
  const clock = { now: new Date(0) };
  const canary = await provideDemoDelivery(rt, () => clock.now, opts.quick);
  const watch = await EventWatch.start(rt.bus, WATCHED);
  const fns = await loop.startFunctions(rt);
  const ctx: DemoContext = {
    rt, opts, dir: join(rt.config.stateDir, 'demo'), clock,
    scheduler: new LocalScheduler(topology.scheduler_jobs, rt.bus), watch,
    narrate: (l) => reporter.line(`  ${ctx.clock.now.getTime() ? `[${ctx.clock.now.toISOString().slice(0, 10)}] ` : ''}${l}`),
    replay: null, firstModelAt: null, weekHooks: hooks, record, closers: [],
  };
  reporter.line(`canary policy on the simulated clock: ${canary.percent}% of traffic for at least ${canary.minSeconds / 86_400} day(s) and ${canary.minPredictions} predictions (decided at ${canary.maxSeconds / 86_400} days whatever the count); error rate +${canary.maxErrorRateDelta}, p99 latency ×${canary.maxLatencyRatio}, prediction drift ${canary.driftMethod} ≤ ${canary.driftThreshold}`);
  reporter.line(`scheduler jobs on the simulated clock (${opts.schedules}): ${Object.entries(topology.scheduler_jobs).map(([n, j]) => `${n} "${j.schedule}"`).join(', ') || 'none'}`);
  try {
    for (const [i, stage] of stages.entries()) {
      const t0 = Date.now();
      const p = reporter.stage(i + 1, stages.length, stage.name);
      try {
        const s = await stage.run(ctx, p);
        const seconds = (Date.now() - t0) / 1000;
        record.stages.push({ name: stage.name, seconds, headline: s.headline });
        p.done(seconds, s.headline);
      } catch (err) {
        p.failed((Date.now() - t0) / 1000);
        throw err;
      }
    }
  } finally {
    for (const close of ctx.closers.splice(0).reverse()) await close().catch((err) => reporter.line(`  closing: ${String(err)}`));
    await stopLocalFunctions(rt.bus, fns, 120_000).finally(() => watch.stop());
  }
  return record;
}
