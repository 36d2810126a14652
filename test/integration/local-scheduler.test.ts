import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageHandlers } from '../../functions/message-handlers.js';
import { ConfigError } from '../../shared/errors.js';
import { createEventBus } from '../../shared/adapters/event-bus/index.js';
import { catalog, parseEventOf } from '../../shared/events/catalog.js';
import type { Envelope } from '../../shared/events/envelope.js';
import { LocalScheduler, localRawTargets } from '../../shared/runtime/local-scheduler.js';
import { messageFunctionRegistry, RAW_TOPICS, RECONCILE_MESSAGE } from '../../shared/topology/message-functions.js';
import { trainingContext } from '../../shared/training/context.js';
import { launchTraining } from '../../shared/training/launch.js';
import { getRun } from '../../shared/training/runs.js';
import { testModels, trainingFixture, type TrainingFixture } from '../helpers/training-fixture.js';
import { collectCompletions, trainingRequest } from '../helpers/training-events.js';
import { buildTopology } from '../../shared/topology/generate.js';
import { functionRegistry } from '../../shared/topology/functions.js';
import { parseSchedulePlan } from '../../shared/topology/schedules.js';
import { testRepo } from '../helpers/feature-fixtures.js';

describe('local scheduler (the embedded Cloud Scheduler)', () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'ctloop-sched-')); });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('fires the jobs Terraform gets, at their minute, as valid catalog events with stable ids', async () => {
    const plan = parseSchedulePlan({ driftChecks: { defaults: { schedule: '0 6 * * *', windowSeconds: 3600 }, views: { driver_stats: { enabled: false } } }, trainingReconciler: { enabled: false }, deploymentChecks: { enabled: false }, compaction: { enabled: false } });
    const { topology } = buildTopology({ catalog, registry: functionRegistry, features: testRepo(), schedules: plan });
    const bus = createEventBus({ kind: 'memory', journalDir: join(dir, 'bus') }, { minBackoffMs: 1, maxBackoffMs: 10, maxDeliveryAttempts: 5 });
    const got: Envelope[] = [];
    await bus.subscribe({ name: 'drift', topic: catalog.driftCheckRequested.topic }, async (e) => { got.push(e); });
    const s = new LocalScheduler(topology.scheduler_jobs, bus);
    expect(s.jobNames).toEqual(['ctloop-drift-check-route-stats']);
    expect(await s.tick(new Date('2001-03-01T06:01:00Z'))).toEqual([]);
    const ids = await s.tick(new Date('2001-03-01T06:00:30Z'));
    expect(ids).toEqual(['ctloop-drift-check-route-stats@2001-03-01T06:00']);
    await bus.drain(5000);
    expect(got).toHaveLength(1);
    const ev = parseEventOf('driftCheckRequested', got[0]);
    expect(ev).toMatchObject({ id: ids[0], time: '2001-03-01T06:00:00.000Z', source: 'cloud-scheduler/ctloop-drift-check-route-stats', data: { view: 'route_stats', windowSeconds: 3600 } });
    await bus.close();
  });

  it('runs the training reconciler job (a raw message) through its function handler in-process, at its minute or by name', async () => {
    const plan = parseSchedulePlan({ driftChecks: { defaults: { schedule: '0 6 * * *', windowSeconds: 3600 }, views: { driver_stats: { enabled: false } } }, deploymentChecks: { enabled: false }, compaction: { enabled: false } });
    const { topology } = buildTopology({ catalog, registry: functionRegistry, features: testRepo(), schedules: plan });
    const bus = createEventBus({ kind: 'memory', journalDir: join(dir, 'bus-raw') }, { minBackoffMs: 1, maxBackoffMs: 10, maxDeliveryAttempts: 5 });
    // Without a consumer of the raw topic the job is refused, not silently never run.
    expect(() => new LocalScheduler(topology.scheduler_jobs, bus)).toThrow(ConfigError);
    expect(() => new LocalScheduler(topology.scheduler_jobs, bus)).toThrow(/ctloop-reconcile-training sends a raw message to ctloop-vertex-job-state/);
    const got: { body: unknown; messageId: string }[] = [];
    let failNext = false;
    const s = new LocalScheduler(topology.scheduler_jobs, bus, {
      [RAW_TOPICS.vertexJobState]: async (body, ctx) => {
        if (failNext) {
          failNext = false;
          throw new Error('warehouse down');
        }
        got.push({ body, messageId: ctx.messageId });
      },
    });
    expect(s.jobNames.sort()).toEqual(['ctloop-drift-check-route-stats', 'ctloop-reconcile-training']);
    expect(await s.tick(new Date('2001-03-01T06:07:00Z'))).toEqual([]);
    expect(await s.tick(new Date('2001-03-01T06:15:10Z'))).toEqual(['ctloop-reconcile-training@2001-03-01T06:15']);
    expect(got).toEqual([{ body: RECONCILE_MESSAGE, messageId: 'ctloop-reconcile-training@2001-03-01T06:15' }]);
    // A failing reconcile at 06:00 is logged and does not keep the drift check of the same minute from running.
    failNext = true;
    expect(await s.tick(new Date('2001-03-01T06:00:00Z'))).toEqual(['ctloop-drift-check-route-stats@2001-03-01T06:00']);
    // `ctloop run --fire ctloop-reconcile-training`
    expect(await s.fire('ctloop-reconcile-training', s.job('ctloop-reconcile-training')!, new Date('2001-03-01T06:03:00Z'))).toBe('ctloop-reconcile-training@2001-03-01T06:03');
    expect(got).toHaveLength(2);
    await bus.close();
  });

  it('advances a simulated clock: every due minute of [from, to) fires once, in order, and nothing outside it', async () => {
    const plan = parseSchedulePlan({ driftChecks: { defaults: { schedule: '0 6 * * 1', windowSeconds: 604_800 } }, trainingReconciler: { enabled: false }, deploymentChecks: { enabled: false }, compaction: { enabled: false } });
    const { topology } = buildTopology({ catalog, registry: functionRegistry, features: testRepo(), schedules: plan });
    const bus = createEventBus({ kind: 'memory', journalDir: join(dir, 'bus-advance') }, { minBackoffMs: 1, maxBackoffMs: 10, maxDeliveryAttempts: 5 });
    const s = new LocalScheduler(topology.scheduler_jobs, bus);
    // Mondays 2001-03-05 and 2001-03-12 at 06:00 lie inside; 2001-03-19 06:00 is the (excluded) end.
    const ids = await s.advance(new Date('2001-03-01T00:00:30Z'), new Date('2001-03-19T06:00:00Z'));
    expect(ids).toEqual(s.jobNames.flatMap((j) => [`${j}@2001-03-05T06:00`]).concat(s.jobNames.map((j) => `${j}@2001-03-12T06:00`)));
    expect(await s.advance(new Date('2001-03-19T06:00:00Z'), new Date('2001-03-19T06:01:00Z'))).toEqual(s.jobNames.map((j) => `${j}@2001-03-19T06:00`));
    await bus.close();
  });

  it('every message function has an in-process handler, keyed by its raw topic', () => {
    expect(Object.keys(messageHandlers).sort()).toEqual(messageFunctionRegistry.map((m) => m.name).sort());
  });
});

describe('ctloop run finishes a lost local completion with the scheduled reconciler (no `ctloop runs reconcile`)', () => {
  let fx: TrainingFixture;
  const script = 'echo x > "$AIP_MODEL_DIR/model.bst"; echo \'{"auc": 0.7, "log_loss": 0.4}\' > "$AIP_MODEL_DIR/metrics.json"';
  beforeAll(async () => {
    fx = await trainingFixture({ models: testModels({ command: ['/bin/sh', '-c', script], args: [] }), flights: 3000, from: '2001-04-20', to: '2001-06-02' });
  });
  afterAll(async () => fx?.cleanup());

  it('the reconcile job fired by the local scheduler completes the run whose completion could not be reported', async () => {
    const ctx = await trainingContext(fx.rt);
    // The runner's report of the job's end is lost (e.g. the bus was down at that moment).
    ctx.local!.setOnDone(async () => { throw new Error('bus unavailable'); });
    const r = await launchTraining(ctx.deps, trainingRequest({ key: 'lost-local-scheduled', end: '2001-06-01T00:00:00Z' }));
    expect(r.action).toBe('launched');
    await ctx.local!.idle();
    expect((await getRun(fx.rt.warehouse, r.runId)).state).toBe('RUNNING');

    const done = await collectCompletions(fx.rt);
    // What `ctloop run` builds: the scheduler jobs Terraform gets, raw topics served by the message handlers.
    const { topology } = buildTopology({ catalog, registry: functionRegistry, features: fx.rt.repo, schedules: parseSchedulePlan({ deploymentChecks: { enabled: false }, compaction: { enabled: false } }) });
    const s = new LocalScheduler(topology.scheduler_jobs, fx.rt.bus, localRawTargets(fx.rt, messageHandlers));
    expect(await s.tick(new Date('2001-06-01T00:15:00Z'))).toEqual(['ctloop-reconcile-training@2001-06-01T00:15']);
    await fx.rt.bus.drain(30_000);
    expect(done.events.map((e) => e.data)).toEqual([expect.objectContaining({ runId: r.runId, state: 'SUCCEEDED', metrics: { auc: 0.7, log_loss: 0.4 } })]);
    const run = await getRun(fx.rt.warehouse, r.runId);
    expect(run.state).toBe('SUCCEEDED');
    // Idempotent: the next run of the job finds nothing left to do.
    expect(await s.tick(new Date('2001-06-01T00:30:00Z'))).toEqual(['ctloop-reconcile-training@2001-06-01T00:30']);
    await fx.rt.bus.drain(30_000);
    expect(done.events).toHaveLength(1);
    await done.close();
  });
});
