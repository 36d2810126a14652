import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handlers } from '../../../functions/handlers.js';
import { catalog, createEvent } from '../../../shared/events/catalog.js';
import { startLocalFunctions } from '../../../shared/runtime/local-loop.js';
import { trainingContext } from '../../../shared/training/context.js';
import { launchTraining } from '../../../shared/training/launch.js';
import { getRun } from '../../../shared/training/runs.js';
import { pythonTrainerMissing, testModels, trainingFixture, type TrainingFixture } from '../../helpers/training-fixture.js';
import { collectCompletions, trainingRequest } from '../../helpers/training-events.js';

const missing = await pythonTrainerMissing();
if (missing) console.warn(`skipping the reference trainer test: ${missing}`);

describe.skipIf(missing !== null)('reference trainer on real flights through the local runner', () => {
  let fx: TrainingFixture;
  beforeAll(async () => {
    fx = await trainingFixture({ models: testModels(), flights: 20_000, from: '2001-04-20', to: '2001-06-02' });
  });
  afterAll(async () => fx?.cleanup());

  it('exports the splits, trains, writes the model contract, records the run and publishes one SUCCEEDED completion; the same request again launches nothing', async () => {
    const ctx = await trainingContext(fx.rt);
    const done = await collectCompletions(fx.rt);
    const first = await launchTraining(ctx.deps, trainingRequest({ key: 'k1', end: '2001-06-01T00:00:00Z' }));
    expect(first.action).toBe('launched');
    // Another event carrying the same request (a duplicate trigger) and a redelivery of the first.
    const again = await launchTraining(ctx.deps, trainingRequest({ key: 'k1', end: '2001-06-01T00:00:00Z' }));
    expect(again).toMatchObject({ action: 'duplicate', runId: first.runId });
    await ctx.local!.idle();
    await fx.rt.bus.drain(30_000);
    expect(done.events).toHaveLength(1);
    const ev = done.events[0]!;
    expect(ev.data).toMatchObject({ model: 'flight_delay', state: 'SUCCEEDED', runId: first.runId, trigger: 'manual' });
    expect(ev.id).toBe(`training-completed-${first.runId}`);
    expect(ev.data.metrics.auc).toBeGreaterThan(0.55);
    expect(ev.data.metrics.auc).toBeLessThan(0.85);
    expect(ev.data.metrics.log_loss).toBeGreaterThan(0);
    const store = fx.rt.objectStore;
    const modelDir = ev.data.modelUri!;
    for (const f of ['model.bst', 'metrics.json', 'predictions.csv', 'features.json', 'baseline_profile.json']) expect(await store.exists(`${modelDir}${f}`), f).toBe(true);
    const header = (await store.get(`${modelDir}predictions.csv`)).toString('utf8').split('\n')[0];
    expect(header).toBe('row_id,label,score,origin');
    const baseline = JSON.parse((await store.get(`${modelDir}baseline_profile.json`)).toString('utf8'));
    expect(baseline.profile.rows).toBe(ev.data.datasets!.train!.rows);
    expect(baseline.profile.features.map((f: { name: string }) => f.name)).toEqual(expect.arrayContaining(['hour', 'route_avg_delay', 'origin']));

    const run = await getRun(fx.rt.warehouse, first.runId);
    expect(run).toMatchObject({ state: 'SUCCEEDED', backend: 'local', trigger: 'manual', requestKey: 'k1' });
    const splits = (run.datasets as { splits: Record<string, { rows: number; window: { start: string; end: string } }> }).splits;
    // 21d / 7d / 14d ending at the request's end, in time order.
    expect(splits.test!.window).toEqual({ start: '2001-05-18T00:00:00.000Z', end: '2001-06-01T00:00:00.000Z' });
    expect(splits.validation!.window.end).toBe(splits.test!.window.start);
    expect(splits.train!.window.end).toBe(splits.validation!.window.start);
    for (const s of ['train', 'validation', 'test']) expect(splits[s]!.rows).toBeGreaterThan(1000);
    expect(ev.data.datasets!.test!.rows).toBe(splits.test!.rows);
    expect(await store.exists(run.logsUri!)).toBe(true);
    expect((await store.get(run.logsUri!)).toString('utf8')).toMatch(/test: auc 0\.\d+/);

    // The same request after completion: still nothing launched, no second event.
    expect((await launchTraining(ctx.deps, trainingRequest({ key: 'k1' }))).action).toBe('duplicate');
    await fx.rt.bus.drain(30_000);
    expect(done.events).toHaveLength(1);
    await done.close();
  });

  it('with a champion, the trainer scores it on the same test rows (baseline_score = the champion\'s own scores)', async () => {
    const ctx = await trainingContext(fx.rt);
    const done = await collectCompletions(fx.rt);
    const champion = await launchTraining(ctx.deps, trainingRequest({ key: 'champ', end: '2001-06-01T00:00:00Z' }));
    await ctx.local!.idle();
    const championDir = (await getRun(fx.rt.warehouse, champion.runId)).modelUri!;
    const r = await launchTraining({ ...ctx.deps, champion: async () => championDir }, trainingRequest({ key: 'challenger', end: '2001-06-01T00:00:00Z' }));
    await ctx.local!.idle();
    await fx.rt.bus.drain(30_000);
    expect(done.events.map((e) => e.data.state)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const csv = async (dir: string) => {
      const [head, ...lines] = (await fx.rt.objectStore.get(`${dir}predictions.csv`)).toString('utf8').trim().split('\n');
      const cols = head!.split(',');
      return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
    };
    const mine = await csv((await getRun(fx.rt.warehouse, r.runId)).modelUri!);
    expect(Object.keys(mine[0]!)).toEqual(['row_id', 'label', 'score', 'baseline_score', 'origin']);
    const theirs = new Map((await csv(championDir)).map((x) => [x.row_id, Number(x.score)]));
    expect(mine.length).toBe(theirs.size);
    for (const row of mine) expect(Number(row.baseline_score)).toBeCloseTo(theirs.get(row.row_id)!, 6);
    expect((await getRun(fx.rt.warehouse, r.runId)).params.champion).toBe(championDir);
    await done.close();
  });

  it('a drift-triggered request on the bus is trained by the launch-training function with no command', async () => {
    const done = await collectCompletions(fx.rt);
    const fns = await startLocalFunctions(fx.rt, handlers);
    try {
      const event = createEvent('trainingRequested', {
        model: 'flight_delay', reason: 'drift', dedupKey: 'flight_delay|2001-05-25T00:00:00Z|2001-06-01T00:00:00Z', driftReportId: 'report-42',
        trainingWindow: { start: '2001-05-25T00:00:00Z', end: '2001-06-01T00:00:00Z' },
      }, { source: 'ctloop/detect-drift' });
      await fx.rt.bus.publish(catalog.trainingRequested.topic, event);
      await fx.rt.bus.drain(60_000);
      await (await trainingContext(fx.rt)).local!.idle();
      await fx.rt.bus.drain(60_000);
      expect(done.events).toHaveLength(1);
      expect(done.events[0]!.data).toMatchObject({ state: 'SUCCEEDED', trigger: 'drift', driftReportId: 'report-42' });
      expect(done.events[0]!.causationId).toBe(event.id);
      expect(done.events[0]!.correlationId).toBe(event.correlationId);
    } finally {
      await fns.stop();
      await done.close();
    }
  });
});
