import { registerBaseline } from '../../drift/baselines.js';
import { catalog, createEvent } from '../../events/catalog.js';
import { getRun, runIdFor } from '../../training/runs.js';
import { awaitModel, verdict } from '../await-model.js';
import type { DemoStage } from '../stage.js';
import { DEMO_MODEL } from './history.js';
import { narrateDeployments } from '../deployments.js';

/**
 * The first model: a training request published on the bus (what `ctloop train` sends), trained by the local
 * trainer through launch-training, evaluated and registered by evaluate-model. Its training window then becomes the
 * drift baseline of the flights view, which the scheduled checks compare with.
 */
export const firstModelStage: DemoStage = {
  name: 'first model',
  async run(ctx, progress) {
    const at = ctx.firstModelAt!;
    const start = ctx.replay!.weeks[0]!.start;
    const dedupKey = `demo:first-model:${at.toISOString()}`;
    const ev = createEvent('trainingRequested', { model: DEMO_MODEL, reason: 'manual', dedupKey, trainingWindow: { start: start.toISOString(), end: at.toISOString() } }, { source: 'ctloop/demo', time: at });
    await ctx.rt.bus.publish(catalog.trainingRequested.topic, ev);
    ctx.narrate(`${at.toISOString().slice(0, 10)}: training requested for ${DEMO_MODEL} (event ${ev.id}); the simulated clock waits while it trains`);
    progress.update(1, 4, 'training');
    const runId = runIdFor(DEMO_MODEL, dedupKey);
    const { outcome } = await awaitModel(ctx, DEMO_MODEL, runId, 'manual', at);
    ctx.narrate(`gate: ${verdict(outcome)}`);
    progress.update(2, 4, 'registering the drift baseline');
    const run = await getRun(ctx.rt.warehouse, runId);
    const train = (run.datasets as { splits?: { train?: { window?: { start: string; end: string } } } }).splits?.train?.window;
    if (train) {
      const b = await registerBaseline({ warehouse: ctx.rt.warehouse, objectStore: ctx.rt.objectStore, bucket: ctx.rt.config.artifactBucket }, {
        view: ctx.rt.repo.view('flights'), from: new Date(train.start), to: new Date(train.end), model: DEMO_MODEL,
      });
      ctx.narrate(`drift baseline ${b.id}: the flights view over the model's training window ${train.start.slice(0, 10)} → ${train.end.slice(0, 10)} (${b.profile.rows} rows)`);
    }
    let served = '';
    if (outcome.blessed) {
      // deploy-model reacts to the blessed model.evaluated on the bus: the first version serves alone (no canary).
      progress.update(3, 4, 'deploying');
      const done = await ctx.watch.waitFor((s) => (s.name === 'modelDeployed' && s.event.id.endsWith(':promoted') && (s.event.data as { version: string }).version === outcome.version)
        || (s.name === 'deploymentRolledBack' && (s.event.data as { fromVersion: string }).fromVersion === outcome.version), 120_000, `the deployment of ${DEMO_MODEL} v${outcome.version}`);
      const mine = (s: { event: { data: unknown } }) => (s.event.data as { version?: string; fromVersion?: string }).version === outcome.version || (s.event.data as { fromVersion?: string }).fromVersion === outcome.version;
      await narrateDeployments(ctx, ctx.watch.seen.filter((s) => (s.name === 'modelDeployed' || s.name === 'deploymentRolledBack') && mine(s) && s.at <= done.at));
      served = done.name === 'modelDeployed' ? `, deployed and serving` : ', NOT deployed';
    }
    progress.update(4, 4);
    return { headline: `${DEMO_MODEL} v${outcome.version} ${outcome.blessed ? 'blessed' : 'refused'}${outcome.aliases.length ? ` (${outcome.aliases.join(', ')})` : ''}${served}` };
  },
};
