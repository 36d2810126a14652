import type { Command } from 'commander';
import { checkModelName } from '../../shared/adapters/model-registry/checks.js';
import { rollbackNow } from '../../shared/delivery/rollout.js';
import { deliveryDeps } from '../../shared/delivery/runtime.js';
import { output, withRuntime } from '../context.js';
import { renderRollout } from './rollout-text.js';

export function register(program: Command): void {
  program
    .command('rollback')
    .description("end a model's rollout now: the canary is undeployed and the champion takes all traffic again")
    .argument('<model>', 'model name, e.g. flight_delay')
    .option('--reason <text>', 'why (recorded in the deployment.rolled_back event)', 'rolled back by hand (ctloop rollback)')
    .action(async (model: string, opts: { reason: string }, cmd: Command) => {
      checkModelName(model);
      await withRuntime(async (rt) => {
        const r = await rollbackNow(await deliveryDeps(rt, 'cli/rollback'), model, opts.reason);
        output(cmd, r, () => renderRollout(r));
      });
    });
}
