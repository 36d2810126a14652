import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseModels } from '../../../shared/models/config.js';
import { trainingContext } from '../../../shared/training/context.js';
import { LocalTrainingRunner } from '../../../shared/adapters/training/local.js';
import { reconcileRuns } from '../../../shared/training/job-state.js';
import { launchTraining } from '../../../shared/training/launch.js';
import { getRun } from '../../../shared/training/runs.js';
import { testModels, trainingFixture, type TrainingFixture } from '../../helpers/training-fixture.js';
import { collectCompletions, trainingRequest } from '../../helpers/training-events.js';
import { parse } from 'yaml';

/** Trainers that fail in each way a real one can; none needs python. */
const trainers: { name: string; command: string[]; timeoutSeconds?: number; state: string; error: RegExp; tail: RegExp }[] = [
  { name: 'crashing', command: ['/bin/sh', '-c', 'echo "reading $AIP_TRAINING_DATA_URI"; echo "Traceback: boom" >&2; exit 3'], state: 'FAILED', error: /exited with code 3/, tail: /Traceback: boom/ },
  { name: 'hanging', command: ['/bin/sh', '-c', 'echo started; sleep 600'], timeoutSeconds: 1, state: 'EXPIRED', error: /longer than its timeout \(1 s\)/, tail: /started/ },
  { name: 'model-less', command: ['/bin/sh', '-c', 'echo "all done, honest"'], state: 'FAILED', error: /without writing a model/, tail: /all done, honest/ },
  { name: 'missing program', command: ['/nonexistent/trainer'], state: 'FAILED', error: /cannot start the trainer \/nonexistent\/trainer/, tail: /^$/ },
];

describe('failing trainers end as training.completed with state, reason and logs tail', () => {
  let fx: TrainingFixture;
  beforeAll(async () => {
    fx = await trainingFixture({ models: testModels(), flights: 3000, from: '2001-04-20', to: '2001-06-02' });
  });
  afterAll(async () => fx?.cleanup());

  for (const t of trainers) {
    it(`${t.name} trainer → ${t.state}`, async () => {
      const ctx = await trainingContext(fx.rt);
      const models = parseModels(parse(testModels({ command: t.command, args: [], ...(t.timeoutSeconds ? { timeoutSeconds: t.timeoutSeconds } : {}) })), fx.dir, fx.rt.repo);
      const done = await collectCompletions(fx.rt);
      const r = await launchTraining({ ...ctx.deps, models }, trainingRequest({ key: `fail-${t.name}`, end: '2001-06-01T00:00:00Z' }));
      expect(r.action).toBe('launched');
      await ctx.local!.idle();
      await fx.rt.bus.drain(30_000);
      expect(done.events).toHaveLength(1);
      const ev = done.events[0]!.data;
      expect(ev.state).toBe(t.state);
      expect(ev.error).toMatch(t.error);
      expect(ev.logsTail ?? '').toMatch(t.tail);
      expect(ev.modelUri).toBeUndefined();
      const run = await getRun(fx.rt.warehouse, r.runId);
      expect(run.state).toBe(t.state);
      expect(run.error).toMatch(t.error);
      expect(run.finishedAt).not.toBeNull();
      await done.close();
    });
  }

  it('a request that cannot be exported (no labelled rows in its windows) fails with the reason, launching nothing', async () => {
    const ctx = await trainingContext(fx.rt);
    const done = await collectCompletions(fx.rt);
    const r = await launchTraining(ctx.deps, trainingRequest({ key: 'too-early', end: '2001-02-01T00:00:00Z' }));
    expect(r.action).toBe('failed');
    await fx.rt.bus.drain(30_000);
    expect(done.events.map((e) => e.data.state)).toEqual(['FAILED']);
    expect(done.events[0]!.data.error).toMatch(/the train split \[2000-12-21T00:00:00.000Z, 2001-01-11T00:00:00.000Z\) has no labelled rows in view flights/);
    expect((await getRun(fx.rt.warehouse, r.runId)).jobId).toBeNull();
    await done.close();
  });

  it('a local run whose completion could not be reported (bus down) is finished by the reconciler', async () => {
    const ctx = await trainingContext(fx.rt);
    const runner = new LocalTrainingRunner({ objectStore: fx.rt.objectStore });
    runner.setOnDone(async () => { throw new Error('bus unavailable'); });
    const script = 'echo x > "$AIP_MODEL_DIR/model.bst"; echo \'{"auc": 0.7, "log_loss": 0.4}\' > "$AIP_MODEL_DIR/metrics.json"';
    const models = parseModels(parse(testModels({ command: ['/bin/sh', '-c', script], args: [] })), fx.dir, fx.rt.repo);
    const deps = { ...ctx.deps, models, launcher: runner };
    const r = await launchTraining(deps, trainingRequest({ key: 'lost-local', end: '2001-06-01T00:00:00Z' }));
    await runner.idle();
    expect((await getRun(fx.rt.warehouse, r.runId)).state).toBe('RUNNING');
    const done = await collectCompletions(fx.rt);
    const outcomes = await reconcileRuns({ ...fx.rt, launcher: runner, project: 'ctloop-local', region: 'us-central1' });
    expect(outcomes).toContainEqual({ runId: r.runId, outcome: 'SUCCEEDED' });
    await fx.rt.bus.drain(30_000);
    expect(done.events.map((e) => e.data)).toEqual([expect.objectContaining({ runId: r.runId, state: 'SUCCEEDED', metrics: { auc: 0.7, log_loss: 0.4 } })]);
    await done.close();
  });

  // Last in the file: it drops the spine view's table.
  it('a spine view without its table fails the run with the fix, rather than retrying forever and leaving it PENDING', async () => {
    await fx.rt.warehouse.dropTable('fv_flights');
    const ctx = await trainingContext(fx.rt);
    const done = await collectCompletions(fx.rt);
    const r = await launchTraining(ctx.deps, trainingRequest({ key: 'no-table', end: '2001-06-01T00:00:00Z' }));
    expect(r.action).toBe('failed');
    await fx.rt.bus.drain(30_000);
    expect(done.events.map((e) => e.data.state)).toEqual(['FAILED']);
    expect(done.events[0]!.data.error).toMatch(/the spine view flights has no table fv_flights in the warehouse\n\s+fix: create the tables \(ctloop features apply\)/);
    await done.close();
  });
});
