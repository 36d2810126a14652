import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, NotFoundError, ValidationError } from '../errors.js';
import { catalog } from '../events/catalog.js';
import { eventFromMessage, type PubsubMessageIn } from '../events/binding.js';
import { ATTR, originalAttributes, toDeadLetter } from '../adapters/event-bus/attributes.js';
import type { HoldReader, HeldMessage } from '../adapters/event-bus/pubsub/hold.js';
import { holdSubscription } from '../adapters/event-bus/pubsub/topology.js';
import type { EventBus } from '../ports/event-bus.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { DeadLetterRecord } from './dead-letter.js';
import { consumerOf } from './dead-letter-filer.js';

/**
 * Operating dead letters, in every mode:
 * - what functions acknowledged as permanently bad and what `ctloop run` filed (gs://<bucket>/dead-letter/…);
 * - what the embedded bus gave up on (its journal, `journal:<line>`);
 * - on Pub/Sub (emulators, gcp), what sits on each topic's `<topic>-dead-letter-hold` subscription
 *   (`pubsub:<subscription>/<message id>`), read without consuming it; a message already filed in the object store
 *   is listed once, under its gs:// record.
 * Replay reads the record again with the producer contract (its form, attributes, original message id and publish
 * time), republishes the event as a ctloop envelope to its event's topic, then moves the record to
 * dead-letter-replayed/ (or acknowledges the held message) so it is neither lost nor replayed twice.
 */
export interface ListedDeadLetter extends DeadLetterRecord {
  /** Where the record is: a gs:// URI, `journal:<line>` (embedded bus) or `pubsub:<subscription>/<message id>`. */
  location: string;
}

export interface DeadLetterSources {
  objectStore: ObjectStore;
  bucket: string;
  journalDir?: string;
  /** Pub/Sub modes: the hold subscriptions of these topics are read too. */
  held?: { reader: HoldReader; topics: string[] };
}

export async function listDeadLetters(deps: DeadLetterSources, opts: { consumer?: string } = {}): Promise<ListedDeadLetter[]> {
  const prefix = `gs://${deps.bucket}/dead-letter/${opts.consumer ? `${opts.consumer}/` : ''}`;
  const out: ListedDeadLetter[] = [];
  for (const o of await deps.objectStore.list(prefix)) {
    const rec = JSON.parse((await deps.objectStore.get(o.uri)).toString('utf8')) as DeadLetterRecord;
    out.push({ ...rec, location: o.uri });
  }
  if (deps.journalDir) out.push(...(await journalRecords(deps.journalDir, opts.consumer)));
  if (deps.held) {
    const filed = new Set<string>(out.map((r) => r.messageId));
    for (const o of await deps.objectStore.list(`gs://${deps.bucket}/dead-letter-replayed/`)) filed.add(o.uri.slice(o.uri.lastIndexOf('/') + 1).replace(/\.json$/, ''));
    for (const topic of [...new Set(deps.held.topics)]) {
      for (const m of await deps.held.reader.peek(holdSubscription(topic))) {
        if (filed.has(m.messageId)) continue;
        const rec = heldRecord(topic, m);
        if (!opts.consumer || rec.consumer === opts.consumer) out.push(rec);
      }
    }
  }
  return out.sort((a, b) => a.time.localeCompare(b.time));
}

function heldRecord(topic: string, m: HeldMessage): ListedDeadLetter {
  const dl = toDeadLetter(m.data, m.attributes, m.publishTime);
  return {
    consumer: consumerOf(dl.subscription) || `topic-${topic}`, messageId: m.messageId, reason: dl.reason, code: 'DELIVERY_FAILED',
    message: dl.event, time: dl.time, attempts: dl.attempts, attributes: m.attributes, publishTime: m.publishTime.toISOString(),
    location: `pubsub:${m.subscription}/${m.messageId}`,
  };
}

async function journalRecords(dir: string, consumer: string | undefined): Promise<ListedDeadLetter[]> {
  const file = join(dir, 'dead-letters.jsonl');
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return ''; // nothing was dead-lettered yet
    throw new ConfigError(`cannot read the dead-letter journal ${file} (${err.code ?? err.message})`, {
      hint: 'make CTLOOP_STATE_DIR readable by this user, or point CTLOOP_STATE_DIR at the state directory you used',
      details: { variable: 'CTLOOP_STATE_DIR', path: file }, cause: err,
    });
  });
  const out: ListedDeadLetter[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const e = JSON.parse(line) as { subscription: string; messageId: string; reason: string; event: unknown; time: string; attributes?: Record<string, string>; publishTime?: string };
    const c = e.subscription.replace(/^ctloop-/, '');
    if (consumer && c !== consumer) return;
    out.push({
      consumer: c, messageId: e.messageId, reason: e.reason, code: 'DELIVERY_FAILED', message: e.event, time: e.time, location: `journal:${i + 1}`,
      ...(e.attributes ? { attributes: e.attributes } : {}), ...(e.publishTime ? { publishTime: e.publishTime } : {}),
    });
  });
  return out;
}

/** The dead-lettered message as the producer sent it, for the contract to read again. */
export function messageOfRecord(rec: Pick<DeadLetterRecord, 'message' | 'messageId' | 'time' | 'attributes' | 'publishTime'>): PubsubMessageIn {
  const attrs = rec.attributes ?? {};
  return {
    data: Buffer.from(typeof rec.message === 'string' ? rec.message : JSON.stringify(rec.message ?? null), 'utf8'),
    attributes: originalAttributes(attrs),
    messageId: attrs[ATTR.sourceMessageId] ?? rec.messageId,
    publishTime: attrs[ATTR.sourcePublishTime] ?? rec.publishTime ?? rec.time,
  };
}

function eventOfRecord(rec: Parameters<typeof messageOfRecord>[0], where: string) {
  try {
    return eventFromMessage(messageOfRecord(rec));
  } catch (err) {
    throw new ValidationError(`the dead-lettered message is still not a valid event: ${(err as Error).message}`, {
      hint: `fix the producer and publish a corrected event; ${where} stays where it is`,
    });
  }
}

export async function replayDeadLetter(deps: { objectStore: ObjectStore; bus: EventBus; held?: HoldReader }, location: string): Promise<{ topic: string; messageId: string }> {
  const held = /^pubsub:([^/]+)\/(.+)$/.exec(location);
  if (held) {
    if (!deps.held) throw new ValidationError(`${location} is on Pub/Sub, but this runtime's event bus is not`, { hint: 'run with CTLOOP_MODE=emulators or gcp, as when it was listed' });
    let result: { topic: string; messageId: string } | undefined;
    const found = await deps.held.take(held[1]!, held[2]!, async (m) => {
      const rec = heldRecord('', m);
      const { name, event } = eventOfRecord(rec, 'the held message');
      const topic = catalog[name].topic;
      result = { topic, messageId: await deps.bus.publish(topic, event, { 'ctloop-replayed-from': location }) };
    });
    if (!found || !result) throw new NotFoundError(`no held dead letter ${held[2]} on ${held[1]}`, { hint: 'list them with `ctloop dead-letters list`; it may have been replayed already' });
    return result;
  }
  if (location.startsWith('journal:')) {
    throw new ValidationError(`${location} is in the embedded bus journal, which replay does not read`, {
      hint: 'the in-process bus of this command has no consumers: publish the corrected event to the running loop (its message is in `ctloop dead-letters list --format json`)',
    });
  }
  if (!location.includes('/dead-letter/')) throw new ValidationError(`${location} is not a dead-letter record`, { hint: 'pass a location printed by `ctloop dead-letters list`' });
  const rec = JSON.parse((await deps.objectStore.get(location).catch((err) => {
    throw new NotFoundError(`no dead-letter record at ${location}`, { hint: 'list them with `ctloop dead-letters list`', cause: err });
  })).toString('utf8')) as DeadLetterRecord;
  const { name, event } = eventOfRecord(rec, 'this record');
  const topic = catalog[name].topic;
  const messageId = await deps.bus.publish(topic, event, { 'ctloop-replayed-from': location });
  await deps.objectStore.put(location.replace('/dead-letter/', '/dead-letter-replayed/'), JSON.stringify({ ...rec, replayedAt: new Date().toISOString(), replayMessageId: messageId }, null, 2), { contentType: 'application/json' });
  await deps.objectStore.delete(location);
  return { topic, messageId };
}
