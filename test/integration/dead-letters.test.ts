import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventBus } from '../../shared/adapters/event-bus/index.js';
import { LocalObjectStore } from '../../shared/adapters/object-store/index.js';
import { catalog, createEvent } from '../../shared/events/catalog.js';
import type { Envelope } from '../../shared/events/envelope.js';
import { writeDeadLetter } from '../../shared/runtime/dead-letter.js';
import { listDeadLetters, replayDeadLetter } from '../../shared/runtime/dead-letters.js';

describe('dead letters: list and replay', () => {
  let dir: string;
  let store: LocalObjectStore;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctloop-dl-'));
    store = new LocalObjectStore(join(dir, 'objects'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('lists records with their reasons, replays a fixed one exactly once, and refuses one that is still invalid', async () => {
    const bus = createEventBus({ kind: 'memory', journalDir: join(dir, 'bus') }, { minBackoffMs: 1, maxBackoffMs: 10, maxDeliveryAttempts: 5 });
    const received: Envelope[] = [];
    await bus.subscribe({ name: 'sink', topic: catalog.featureFileReady.topic }, async (e) => { received.push(e); });
    const good = createEvent('featureFileReady', { view: 'later_view', uri: 'gs://incoming-bucket/x.csv' }, { source: 't' });
    const okUri = await writeDeadLetter(store, 'art', { consumer: 'load-feature-file', messageId: 'm1', reason: 'feature view "later_view" is not defined', code: 'NOT_FOUND', message: good, time: '2001-01-01T00:00:00.000Z' });
    const badUri = await writeDeadLetter(store, 'art', { consumer: 'ingest-features', messageId: 'm2', reason: 'not JSON', code: 'VALIDATION_FAILED', message: 'garbage', time: '2001-01-02T00:00:00.000Z' });
    const listed = await listDeadLetters({ objectStore: store, bucket: 'art' });
    expect(listed.map((d) => [d.consumer, d.messageId, d.location])).toEqual([['load-feature-file', 'm1', okUri], ['ingest-features', 'm2', badUri]]);
    expect(await listDeadLetters({ objectStore: store, bucket: 'art' }, { consumer: 'ingest-features' })).toHaveLength(1);

    const r = await replayDeadLetter({ objectStore: store, bus }, okUri);
    await bus.drain(5000);
    expect(r.topic).toBe(catalog.featureFileReady.topic);
    expect(received.map((e) => e.id)).toEqual([good.id]);
    expect(await store.exists(okUri)).toBe(false);
    expect(await store.exists(okUri.replace('/dead-letter/', '/dead-letter-replayed/'))).toBe(true);
    await expect(replayDeadLetter({ objectStore: store, bus }, okUri)).rejects.toThrow(/no dead-letter record/);
    await expect(replayDeadLetter({ objectStore: store, bus }, badUri)).rejects.toThrow(/still not a valid event/);
    expect(await store.exists(badUri)).toBe(true);
    await bus.close();
  });
});
