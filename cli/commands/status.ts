import type { Command } from 'commander';

/** `ctloop status`: models and aliases, endpoints and traffic, last drift reports, runs in flight, dead letters. */
export function register(program: Command): void {
  program
    .command('status')
    .description('the loop at a glance: models and aliases, endpoints and traffic, last drift reports, runs in flight, dead letters')
    .action(async (_opts: unknown, cmd: Command) => {
      const [{ output, withRuntime }, { registryOf }, { loopStatus }, { runtimeExtras }, { renderStatus }] = await Promise.all([
        import('../context.js'), import('../../shared/adapters/model-registry/runtime.js'), import('../../shared/status/status.js'),
        import('../../shared/status/extras.js'), import('../../shared/status/render.js'),
      ]);
      await withRuntime(async (rt) => {
        const s = await loopStatus({
          warehouse: rt.warehouse, objectStore: rt.objectStore, registry: await registryOf(rt), bucket: rt.config.artifactBucket,
          ...(rt.config.eventBus.kind === 'memory' ? { journalDir: rt.config.eventBus.journalDir } : {}), extras: runtimeExtras(rt),
        });
        output(cmd, s, () => renderStatus(s));
      }, { readOnly: true });
    });
}
