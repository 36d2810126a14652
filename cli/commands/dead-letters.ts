import type { Command } from 'commander';
import type { Runtime } from '../../shared/runtime/runtime.js';
import type { HoldReader } from '../../shared/adapters/event-bus/pubsub/hold.js';

// Each action imports what it needs when it runs, so help and usage errors load no warehouse or cloud client.
const load = () => Promise.all([import('../context.js'), import('../../shared/runtime/dead-letters.js')]);

/** On Pub/Sub (emulators, gcp): a reader of the topics' `-dead-letter-hold` subscriptions; undefined in embedded mode. */
async function holdReader(rt: Runtime): Promise<HoldReader | undefined> {
  if (rt.config.eventBus.kind !== 'pubsub') return undefined;
  const [{ PubsubEventBus }, { HoldReader }] = await Promise.all([import('../../shared/adapters/event-bus/pubsub/pubsub-bus.js'), import('../../shared/adapters/event-bus/pubsub/hold.js')]);
  if (!(rt.bus instanceof PubsubEventBus)) return undefined;
  return new HoldReader(rt.bus.client, rt.config.eventBus.emulatorHost ?? 'pubsub.googleapis.com');
}

async function withHold<T>(rt: Runtime, fn: (held: HoldReader | undefined) => Promise<T>): Promise<T> {
  const held = await holdReader(rt);
  try {
    return await fn(held);
  } finally {
    await held?.close();
  }
}

export function register(program: Command): void {
  const dl = program.command('dead-letters').description('messages the loop gave up on: list them with their reasons, replay them once fixed');

  dl.command('list')
    .description('dead letters, oldest first: gs://<bucket>/dead-letter/ records, the embedded bus journal, and (emulators, gcp) each topic\'s <topic>-dead-letter-hold subscription')
    .option('--consumer <name>', 'only this function (e.g. ingest-features)')
    .action(async (opts: { consumer?: string }, cmd: Command) => {
      const [{ output, withRuntime }, { listDeadLetters }, { catalog, eventNames }] = await Promise.all([...(await load()), import('../../shared/events/catalog.js')]);
      await withRuntime(async (rt) => withHold(rt, async (held) => {
        const topics = [...new Set(eventNames.map((n) => catalog[n].topic))];
        const items = await listDeadLetters({
          objectStore: rt.objectStore, bucket: rt.config.artifactBucket,
          ...(rt.config.eventBus.kind === 'memory' ? { journalDir: rt.config.eventBus.journalDir } : {}),
          ...(held ? { held: { reader: held, topics } } : {}),
        }, opts.consumer ? { consumer: opts.consumer } : {});
        output(cmd, items, () => (items.length === 0 ? 'no dead letters'
          : items.map((d) => `${d.time}  ${d.consumer.padEnd(20)} ${d.code.padEnd(18)} ${d.reason.split('\n')[0]}\n  ${d.location}`).join('\n')));
      }), { readOnly: true });
    });

  dl.command('replay')
    .description('read a dead-lettered message again and republish its event to its topic as a ctloop envelope (the record moves to dead-letter-replayed/, a held message is acknowledged)')
    .argument('<location...>', 'gs:// or pubsub: locations printed by `ctloop dead-letters list`')
    .action(async (locations: string[], _opts: unknown, cmd: Command) => {
      const [{ output, withRuntime }, { replayDeadLetter }] = await load();
      await withRuntime(async (rt) => withHold(rt, async (held) => {
        const done: { location: string; topic: string; messageId: string }[] = [];
        for (const loc of locations) done.push({ location: loc, ...(await replayDeadLetter({ objectStore: rt.objectStore, bus: rt.bus, ...(held ? { held } : {}) }, loc)) });
        await rt.bus.drain(60_000).catch(() => undefined);
        output(cmd, done, () => done.map((d) => `replayed ${d.location} → ${d.topic} (message ${d.messageId})`).join('\n'));
      }));
    });
}
