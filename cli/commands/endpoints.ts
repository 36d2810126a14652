import type { Command } from 'commander';
import { checkModelName } from '../../shared/adapters/model-registry/checks.js';
import { registryOf } from '../../shared/adapters/model-registry/runtime.js';
import { RolloutStore, type Rollout } from '../../shared/delivery/rollout-store.js';
import { deliveryOf } from '../../shared/delivery/runtime.js';
import type { EndpointState } from '../../shared/ports/endpoint.js';
import { output, withRuntime } from '../context.js';

interface Row {
  model: string;
  endpoint: EndpointState | null;
  rollout: Rollout | null;
}

function render(rows: Row[]): string {
  const deployed = rows.filter((r) => r.endpoint || r.rollout);
  if (deployed.length === 0) return 'no model is deployed yet: `ctloop deploy M@version`';
  return deployed.map((r) => {
    const lines = [`${r.model}  ${r.endpoint?.endpoint ?? '(not deployed)'}`];
    for (const d of r.endpoint?.deployedModels ?? []) {
      const pct = r.endpoint!.trafficSplit[d.deployedModelId] ?? 0;
      lines.push(`  ${`${r.model}@${d.version}`.padEnd(22)} ${String(pct).padStart(3)}%  ${d.deployedModelId.padEnd(14)} ${d.health}${d.restarts ? ` (restarted ${d.restarts}×)` : ''}${d.detail ? `: ${d.detail}` : ''}`);
    }
    if (r.rollout) lines.push(`  rollout of @${r.rollout.version}: ${r.rollout.phase.replace('_', ' ')} since ${r.rollout.canaryStartedAt ?? r.rollout.requestedAt}`);
    return lines.join('\n');
  }).join('\n\n');
}

export function register(program: Command): void {
  program
    .command('endpoints')
    .description('deployed model versions per endpoint: traffic split, health, rollout in progress')
    .option('--model <name>', 'only this model')
    .action(async (opts: { model?: string }, cmd: Command) => {
      if (opts.model !== undefined) checkModelName(opts.model);
      await withRuntime(async (rt) => {
        const store = new RolloutStore(rt.objectStore, rt.config.artifactBucket);
        const models = opts.model ? [opts.model]
          : [...new Set([...(await (await registryOf(rt)).listVersions()).map((v) => v.model), ...(await store.activeModels())])].sort();
        const { endpoint } = await deliveryOf(rt);
        const rows: Row[] = [];
        for (const model of models) rows.push({ model, endpoint: await endpoint.describe(model), rollout: await store.get(model) });
        output(cmd, rows, () => render(rows));
      });
    });
}
