import { resolve } from 'node:path';
import type { Command } from 'commander';
import { handlers } from '../../functions/handlers.js';
import { messageHandlers } from '../../functions/message-handlers.js';
import { catalog } from '../../shared/events/catalog.js';
import { ValidationError } from '../../shared/errors.js';
import { applyFeatureRepo } from '../../shared/features/apply.js';
import { startLocalFunctions, stopLocalFunctions } from '../../shared/runtime/local-loop.js';
import { LocalScheduler, localRawTargets } from '../../shared/runtime/local-scheduler.js';
import { buildTopology } from '../../shared/topology/generate.js';
import { functionRegistry } from '../../shared/topology/functions.js';
import { loadSchedulePlan } from '../../shared/topology/schedules.js';
import { progress, withRuntime } from '../context.js';

/** `ctloop run` (registered in run.ts; loaded when it runs). */
export async function runLoop(opts: { schedules: string; fire?: string[]; for?: number }, cmd: Command): Promise<void> {
  const say = progress(cmd);
  await withRuntime(async (rt) => {
    if (rt.config.warehouse.kind === 'duckdb') await applyFeatureRepo(rt.warehouse, rt.repo);
    const plan = await loadSchedulePlan(resolve(opts.schedules));
    const { topology } = buildTopology({ catalog, registry: functionRegistry, features: rt.repo, schedules: plan });
    // Raw-message jobs (the training reconciler) run their function's handler in this process, as the functions do.
    const scheduler = new LocalScheduler(topology.scheduler_jobs, rt.bus, localRawTargets(rt, messageHandlers));
    const fns = await startLocalFunctions(rt, handlers);
    try {
      for (const name of opts.fire ?? []) {
        const job = scheduler.job(name);
        if (!job) throw new ValidationError(`no scheduler job "${name}"`, { hint: `jobs: ${scheduler.jobNames.join(', ')}` });
        say(`fired ${name} → ${await scheduler.fire(name, job, new Date())}`);
      }
      scheduler.start();
      say(`running ${functionRegistry.length} functions and ${scheduler.jobNames.length} scheduler jobs (${rt.config.mode} mode); Ctrl-C to stop`);
      await new Promise<void>((done) => {
        // A ref'd timer keeps the event loop alive while waiting (the scheduler's timers are unref'd): without it
        // Node ends the process at once with exit 13 (unsettled top-level await).
        const timer = opts.for !== undefined ? setTimeout(() => stop(), opts.for * 1000) : setInterval(() => undefined, 3_600_000);
        const stop = () => {
          clearTimeout(timer);
          clearInterval(timer);
          process.removeListener('SIGINT', stop);
          process.removeListener('SIGTERM', stop);
          done();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    } finally {
      scheduler.stop();
      await stopLocalFunctions(rt.bus, fns, 60_000);
      say('stopped');
    }
  });
}
