import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, NotFoundError, ValidationError } from '../errors.js';
import { catalog, parseEvent } from '../events/catalog.js';
import type { EventBus } from '../ports/event-bus.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { DeadLetterRecord } from './dead-letter.js';

/**
 * Operating dead letters: list what functions acknowledged as permanently bad (gs://<bucket>/dead-letter/…) and
 * what the embedded bus gave up on (its journal), and replay a record once its cause is fixed — the message is
 * validated again and republished to its event's topic; the record moves to dead-letter-replayed/ so it is
 * neither lost nor replayed twice.
 */
export interface ListedDeadLetter extends DeadLetterRecord {
  /** Where the record is: a gs:// URI, or `journal:<line>` for the embedded bus journal. */
  location: string;
}

export async function listDeadLetters(deps: { objectStore: ObjectStore; bucket: string; journalDir?: string }, opts: { consumer?: string } = {}): Promise<ListedDeadLetter[]> {
  const prefix = `gs://${deps.bucket}/dead-letter/${opts.consumer ? `${opts.consumer}/` : ''}`;
  const out: ListedDeadLetter[] = [];
  for (const o of await deps.objectStore.list(prefix)) {
    const rec = JSON.parse((await deps.objectStore.get(o.uri)).toString('utf8')) as DeadLetterRecord;
    out.push({ ...rec, location: o.uri });
  }
  if (deps.journalDir) {
    const file = join(deps.journalDir, 'dead-letters.jsonl');
    const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return ''; // nothing was dead-lettered yet
      throw new ConfigError(`cannot read the dead-letter journal ${file} (${err.code ?? err.message})`, {
        hint: 'make CTLOOP_STATE_DIR readable by this user, or point CTLOOP_STATE_DIR at the state directory you used',
        details: { variable: 'CTLOOP_STATE_DIR', path: file }, cause: err,
      });
    });
    text.split('\n').forEach((line, i) => {
      if (!line.trim()) return;
      const e = JSON.parse(line) as { subscription: string; messageId: string; reason: string; event: unknown; time: string };
      const consumer = e.subscription.replace(/^ctloop-/, '');
      if (opts.consumer && consumer !== opts.consumer) return;
      out.push({ consumer, messageId: e.messageId, reason: e.reason, code: 'DELIVERY_FAILED', message: e.event, time: e.time, location: `journal:${i + 1}` });
    });
  }
  return out.sort((a, b) => a.time.localeCompare(b.time));
}

export async function replayDeadLetter(deps: { objectStore: ObjectStore; bus: EventBus }, uri: string): Promise<{ topic: string; messageId: string }> {
  if (!uri.includes('/dead-letter/')) throw new ValidationError(`${uri} is not a dead-letter record`, { hint: 'pass a location printed by `ctloop dead-letters list`' });
  const rec = JSON.parse((await deps.objectStore.get(uri).catch((err) => {
    throw new NotFoundError(`no dead-letter record at ${uri}`, { hint: 'list them with `ctloop dead-letters list`', cause: err });
  })).toString('utf8')) as DeadLetterRecord;
  let parsed;
  try {
    parsed = parseEvent(rec.message);
  } catch (err) {
    throw new ValidationError(`the dead-lettered message is still not a valid event: ${(err as Error).message}`, {
      hint: 'fix the producer and publish a corrected event; this record stays where it is',
    });
  }
  const topic = catalog[parsed.name].topic;
  const messageId = await deps.bus.publish(topic, parsed.event, { 'ctloop-replayed-from': uri });
  await deps.objectStore.put(uri.replace('/dead-letter/', '/dead-letter-replayed/'), JSON.stringify({ ...rec, replayedAt: new Date().toISOString(), replayMessageId: messageId }, null, 2), { contentType: 'application/json' });
  await deps.objectStore.delete(uri);
  return { topic, messageId };
}
