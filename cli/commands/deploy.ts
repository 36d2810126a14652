import type { Command } from 'commander';
import { checkModelName } from '../../shared/adapters/model-registry/checks.js';
import { registryOf } from '../../shared/adapters/model-registry/runtime.js';
import { startRollout } from '../../shared/delivery/rollout.js';
import { deliveryDeps } from '../../shared/delivery/runtime.js';
import { BackendError, NotFoundError, UsageError } from '../../shared/errors.js';
import { parseModelRef } from '../../shared/ports/model-registry.js';
import { output, withRuntime } from '../context.js';
import { integerIn } from '../options.js';
import { renderRollout } from './rollout-text.js';

export function register(program: Command): void {
  program
    .command('deploy')
    .description('deploy a model version as a canary beside the champion; promoted or rolled back after the canary period')
    .argument('<ref>', 'model@version (or model@alias, e.g. flight_delay@challenger)')
    .option('--canary <percent>', 'share of the traffic for the canary, 1..100 (100 = no canary: it takes all traffic once healthy); default CTLOOP_CANARY_PERCENT or 10', integerIn(1, 100))
    .action(async (ref: string, opts: { canary?: number }, cmd: Command) => {
      const { model, version } = parseModelRef(ref);
      if (!ref.includes('@') || !model || !version) throw new UsageError(`"${ref}" is not model@version`, { hint: 'e.g. ctloop deploy flight_delay@3 --canary 10' });
      checkModelName(model);
      await withRuntime(async (rt) => {
        const registry = await registryOf(rt);
        const v = await registry.getVersion(model, version);
        if (!v) {
          const known = await registry.listVersions(model);
          throw new NotFoundError(`model ${model} has no version or alias "${version}"`, {
            hint: known.length ? `versions: ${known.map((k) => k.version).join(', ')}` : `no versions of ${model} are registered: run \`ctloop models list\``,
          });
        }
        const r = await startRollout(await deliveryDeps(rt, 'cli/deploy'), { model, version: v.version, ...(opts.canary ? { canaryPercent: opts.canary } : {}) });
        output(cmd, r, () => renderRollout(r));
        if (r.phase === 'rolled_back') {
          // The version does not serve: exit 1 so scripts see it (the rollout is on stdout, the reason on stderr).
          throw new BackendError(`${model}@${v.version} was rolled back: ${r.reason ?? 'see the rollout above'}`, {
            hint: 'check the version serves locally (server/server.py on its model directory), then deploy it again',
          });
        }
      });
    });
}
