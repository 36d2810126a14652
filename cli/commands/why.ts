import type { Command } from 'commander';
import { UsageError } from '../../shared/errors.js';
import { parseModelRef } from '../../shared/ports/model-registry.js';

/** `ctloop why M@ref`: the causal chain of a model version, from serving back to the data (shared/status/lineage.ts). */
export function register(program: Command): void {
  program
    .command('why')
    .description('why a model version exists: serving ← canary ← evaluation ← training run ← request ← drift report ← window and baseline ← data')
    .argument('<ref>', 'model@version or model@alias, e.g. flight_delay@champion or flight_delay@2')
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      const { model, version } = parseModelRef(ref);
      if (!model || !version) throw new UsageError(`"${ref}" is not model@version or model@alias`, { hint: 'e.g. ctloop why flight_delay@champion or ctloop why flight_delay@2' });
      const [{ output, withRuntime }, { checkModelName }, { registryOf }, { traceVersion }, { runtimeExtras }, { renderLineage }] = await Promise.all([
        import('../context.js'), import('../../shared/adapters/model-registry/checks.js'), import('../../shared/adapters/model-registry/runtime.js'),
        import('../../shared/status/lineage.js'), import('../../shared/status/extras.js'), import('../../shared/status/render.js'),
      ]);
      checkModelName(model);
      await withRuntime(async (rt) => {
        const lineage = await traceVersion({ warehouse: rt.warehouse, objectStore: rt.objectStore, registry: await registryOf(rt), repo: rt.repo, extras: runtimeExtras(rt) }, model, version);
        output(cmd, lineage, () => renderLineage(lineage));
      }, { readOnly: true });
    });
}
