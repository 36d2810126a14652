import { runIdFor } from '../../training/runs.js';
import { awaitModel, verdict } from '../await-model.js';
import { replayWeek } from '../replay-week.js';
import type { DemoContext, DemoStage, DriftOutcome } from '../stage.js';
import type { Seen } from '../watch.js';
import { DEMO_MODEL } from './history.js';
import { narrateDeployments } from '../deployments.js';

const DAY = 86_400_000;

interface DriftData {
  reportId: string;
  window: { start: string; end: string };
  datasetDrift: boolean;
  shareDrifted: number;
  features: { name: string; method: string; statistic: number; threshold: number; drifted: boolean }[];
  anomalies: { kind: string; feature: string | null }[];
}

/**
 * The weeks after the first model: the week hooks run (serving, labels), the week's data arrives, and the scheduler
 * jobs due that week fire on the simulated clock (the same jobs Terraform creates). Each drift report is narrated with
 * the policy's decision; a drift-triggered training request is followed to its gate verdict, and the wall-clock
 * time from the drift report to the new registered version is measured.
 */
export const weeksStage: DemoStage = {
  name: 'weeks with drift checks',
  async run(ctx, progress) {
    const weeks = ctx.replay!.weeks.filter((w) => w.start >= ctx.firstModelAt!);
    let seen = ctx.watch.seen.length;
    let retrains = 0;
    for (const [i, w] of weeks.entries()) {
      // Serving first: the week's departures are predicted with what the online store knows when the week begins
      // (a value stamped after the prediction would be the future: the store reports it NOT_FOUND); then the week's
      // data arrives.
      ctx.clock.now = w.start;
      for (const hook of ctx.weekHooks) await hook.onWeek(ctx, w);
      await replayWeek(ctx, w);
      // The week's scheduled jobs, a simulated day at a time: the delivery clock stands at each day's end while that
      // day's jobs run (drift checks, deployment checks ending a canary period).
      const fired: string[] = [];
      for (let t = w.start.getTime(); t < w.end.getTime(); t += DAY) {
        const to = new Date(Math.min(t + DAY, w.end.getTime()));
        ctx.clock.now = to;
        fired.push(...(await ctx.scheduler.advance(new Date(t), to)));
        await ctx.rt.bus.drain(600_000);
        const fresh = ctx.watch.seen.slice(seen);
        for (const report of fresh.filter((s) => s.name === 'driftReported')) retrains += await onReport(ctx, report);
        await ctx.rt.bus.drain(600_000);
        await narrateDeployments(ctx, ctx.watch.seen.slice(seen).filter((s) => s.name === 'modelDeployed' || s.name === 'deploymentRolledBack'));
        seen = ctx.watch.seen.length;
      }
      ctx.clock.now = w.end;
      progress.update(i + 1, weeks.length, `simulated ${w.end.toISOString().slice(0, 10)}; ${fired.length} scheduled job(s) fired`);
    }
    const reports = ctx.record.drift.length;
    return { headline: `${weeks.length} weeks, ${reports} drift report(s), ${ctx.record.drift.filter((d) => d.datasetDrift).length} with dataset drift, ${retrains} drift-triggered retrain(s)` };
  },
};

async function onReport(ctx: DemoContext, report: Seen): Promise<number> {
  const d = report.event.data as DriftData;
  const drifted = d.features.filter((f) => f.drifted);
  const request = ctx.watch.seen.find((s) => s.name === 'trainingRequested' && s.event.causationId === report.event.id);
  const alert = ctx.watch.seen.find((s) => s.name === 'alertRaised' && s.event.causationId === report.event.id);
  const share = `${(d.shareDrifted * 100).toFixed(0)}% of features drifted`;
  const decision = alert ? `alert: ${(alert.event.data as { reason: string }).reason}`
    : request ? `retrain: ${share}`
    : d.datasetDrift ? `retrain decided (${share}) but no new request: the policy's cooldown or an earlier request for this window`
    : `none: no dataset drift (${share})`;
  const outcome: DriftOutcome = { reportId: d.reportId, window: d.window, datasetDrift: d.datasetDrift, shareDrifted: d.shareDrifted, drifted: drifted.map((f) => f.name), decision };
  ctx.record.drift.push(outcome);
  const detail = drifted.map((f) => `${f.name} ${f.method}=${f.statistic.toFixed(3)} > ${f.threshold}`).join(', ');
  const check = ctx.watch.seen.find((s) => s.name === 'driftCheckRequested' && s.event.id === report.event.causationId);
  const by = check ? `${check.event.source.replace(/^cloud-scheduler\//, 'scheduler job ')} at ${check.event.time.slice(0, 16).replace('T', ' ')}` : 'a drift check';
  ctx.narrate(`${by}: window ${d.window.start.slice(0, 10)} → ${d.window.end.slice(0, 10)}: ${d.datasetDrift ? 'DATASET DRIFT' : 'no dataset drift'}${detail ? ` (${detail})` : ''} → ${decision}`);
  if (!request) return 0;
  const data = request.event.data as { model: string; dedupKey: string };
  const runId = runIdFor(data.model, data.dedupKey);
  ctx.narrate(`training requested by drift report ${d.reportId} (event ${request.event.id}); the simulated clock waits while it trains`);
  const { outcome: model, at } = await awaitModel(ctx, data.model ?? DEMO_MODEL, runId, 'drift', ctx.clock.now);
  const ms = at - report.at;
  ctx.record.driftToRegisteredMs.push(ms);
  ctx.narrate(`gate: ${verdict(model)}`);
  ctx.narrate(`drift reported → new model registered in ${(ms / 1000).toFixed(1)} s (wall clock)`);
  if (model.blessed) {
    // deploy-model reacts to the blessed model.evaluated: the candidate serves as canary beside the champion.
    const live = await ctx.watch.waitFor((s) => (s.name === 'modelDeployed' && (s.event.data as { version: string }).version === model.version)
      || (s.name === 'deploymentRolledBack' && (s.event.data as { fromVersion: string }).fromVersion === model.version), 120_000, `the deployment of ${DEMO_MODEL} v${model.version}`);
    if (live.name === 'modelDeployed') {
      const serving = live.at - report.at;
      ctx.record.driftToServingMs.push(serving);
      ctx.narrate(`drift reported → new model serving live traffic (canary) in ${(serving / 1000).toFixed(1)} s (wall clock)`);
    }
  }
  return 1;
}
