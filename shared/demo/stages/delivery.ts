import { liveMetrics } from '../../serving/monitor.js';
import { rollouts } from '../deployments.js';
import type { DemoStage } from '../stage.js';
import { DEMO_MODEL } from './history.js';

/**
 * What delivery and serving did over the replay: every rollout of the model with its decision and reasons, and the
 * live performance of each served version from the delayed labels (what `ctloop monitor` reports).
 */
export const deliveryStage: DemoStage = {
  name: 'delivery and live metrics',
  async run(ctx, progress) {
    for (const close of ctx.closers.splice(0).reverse()) await close(); // flush the serving log
    progress.update(1, 2, 'rollouts');
    ctx.record.deployments = (await rollouts(ctx, DEMO_MODEL)).map((r) => ({
      version: r.version, championVersion: r.championVersion, canaryPercent: r.canaryPercent, phase: r.phase, reason: r.reason,
      checks: r.checks.map((c) => ({ check: c.check, status: c.status, detail: c.detail })), requestedAt: r.requestedAt, decidedAt: r.decidedAt,
    }));
    progress.update(2, 2, 'live metrics');
    ctx.record.live = (await liveMetrics(ctx.rt.warehouse, DEMO_MODEL)).filter((m) => m.day === 'all')
      .map((m) => ({ version: m.version, predictions: m.predictions, labelled: m.labelled, auc: m.auc, logLoss: m.logLoss }));
    const live = ctx.record.live.map((m) => `v${m.version} AUC ${m.auc === null ? 'n/a' : m.auc.toFixed(3)} on ${m.labelled} labels`).join(', ');
    const s = ctx.record.serving;
    return { headline: `${ctx.record.deployments.length} rollout(s) (${ctx.record.deployments.map((d) => `v${d.version} ${d.phase}`).join(', ') || 'none'}); ${s.predictions} predictions served, ${s.labelled} labelled; live ${live || 'n/a'}` };
  },
};
