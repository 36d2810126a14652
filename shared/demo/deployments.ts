import { RolloutStore, type Rollout } from '../delivery/rollout-store.js';
import type { DemoContext } from './stage.js';
import type { Seen } from './watch.js';

async function rolloutOf(ctx: DemoContext, model: string, version: string): Promise<Rollout | null> {
  const store = new RolloutStore(ctx.rt.objectStore, ctx.rt.config.artifactBucket);
  const active = await store.get(model);
  if (active?.version === version) return active;
  return (await store.finished(model)).filter((r) => r.version === version).at(-1) ?? null;
}

const checks = (r: Rollout) => r.checks.map((c) => `${c.check} ${c.status.toUpperCase()} (${c.detail})`).join('; ');

/**
 * Narrate the delivery events among `fresh` (what deploy-model and reconcile-deployments published): a canary taking
 * its share of traffic, a promotion or a rollback with the rollout's reasons and every canary check.
 */
export async function narrateDeployments(ctx: DemoContext, fresh: Seen[]): Promise<void> {
  for (const s of fresh) {
    if (s.name === 'modelDeployed') {
      const d = s.event.data as { model: string; version: string; trafficSplit: Record<string, number> };
      const split = Object.entries(d.trafficSplit).map(([id, p]) => `${id}: ${p}%`).join(', ');
      const r = await rolloutOf(ctx, d.model, d.version);
      if (s.event.id.endsWith(':canary')) {
        ctx.narrate(r?.championVersion ? `deploy-model: v${d.version} deployed as CANARY beside champion v${r.championVersion} (traffic ${split}); the canary period runs on the simulated clock` : `deploy-model: v${d.version} deployed (traffic ${split})`);
      } else {
        ctx.narrate(`PROMOTED v${d.version} to champion (traffic ${split})${r?.reason ? `: ${r.reason}` : ''}${r && r.checks.length ? ` — checks: ${checks(r)}` : ''}`);
      }
    } else if (s.name === 'deploymentRolledBack') {
      const d = s.event.data as { model: string; fromVersion: string; toVersion: string | null; reason: string };
      const r = await rolloutOf(ctx, d.model, d.fromVersion);
      ctx.narrate(`ROLLED BACK v${d.fromVersion}${d.toVersion ? `; v${d.toVersion} keeps all the traffic` : ''}: ${d.reason}${r && r.checks.length ? ` — checks: ${checks(r)}` : ''}`);
    }
  }
}

/** Every rollout of the model, finished ones first, then the active one. */
export async function rollouts(ctx: DemoContext, model: string): Promise<Rollout[]> {
  const store = new RolloutStore(ctx.rt.objectStore, ctx.rt.config.artifactBucket);
  const active = await store.get(model);
  return [...(await store.finished(model)), ...(active ? [active] : [])];
}
