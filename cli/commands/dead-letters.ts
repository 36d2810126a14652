import type { Command } from 'commander';

// Each action imports what it needs when it runs, so help and usage errors load no warehouse or cloud client.
const load = () => Promise.all([import('../context.js'), import('../../shared/runtime/dead-letters.js')]);

export function register(program: Command): void {
  const dl = program.command('dead-letters').description('messages the loop gave up on: list them with their reasons, replay them once fixed');

  dl.command('list')
    .description('dead-letter records (functions: gs://<bucket>/dead-letter/; embedded bus: its journal), oldest first')
    .option('--consumer <name>', 'only this function (e.g. ingest-features)')
    .action(async (opts: { consumer?: string }, cmd: Command) => {
      const [{ output, withRuntime }, { listDeadLetters }] = await load();
      await withRuntime(async (rt) => {
        const items = await listDeadLetters({
          objectStore: rt.objectStore, bucket: rt.config.artifactBucket,
          ...(rt.config.eventBus.kind === 'memory' ? { journalDir: rt.config.eventBus.journalDir } : {}),
        }, opts.consumer ? { consumer: opts.consumer } : {});
        output(cmd, items, () => (items.length === 0 ? 'no dead letters'
          : items.map((d) => `${d.time}  ${d.consumer.padEnd(20)} ${d.code.padEnd(18)} ${d.reason.split('\n')[0]}\n  ${d.location}`).join('\n')));
     }, { readOnly: true });
    });

  dl.command('replay')
    .description('validate a dead-lettered message again and republish it to its topic (the record moves to dead-letter-replayed/)')
    .argument('<location...>', 'gs:// locations printed by `ctloop dead-letters list`')
    .action(async (locations: string[], _opts: unknown, cmd: Command) => {
      const [{ output, withRuntime }, { replayDeadLetter }] = await load();
      await withRuntime(async (rt) => {
        const done: { location: string; topic: string; messageId: string }[] = [];
        for (const loc of locations) done.push({ location: loc, ...(await replayDeadLetter(rt, loc)) });
        await rt.bus.drain(60_000).catch(() => undefined);
        output(cmd, done, () => done.map((d) => `replayed ${d.location} → ${d.topic} (message ${d.messageId})`).join('\n'));
      });
    });
}
