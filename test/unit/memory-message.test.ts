import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/errors.js';
import { eventFromMessage } from '../../shared/events/binding.js';
import { catalog, createEvent } from '../../shared/events/catalog.js';
import { checkPublishLimits, encodeEnvelope } from '../../shared/adapters/event-bus/attributes.js';
import { MemoryEventBus } from '../../shared/adapters/event-bus/memory/memory-bus.js';
import { MemoryMessage } from '../../shared/adapters/event-bus/memory/message.js';

const rowsEvent = () => createEvent('featureRows', { view: 'v', rows: [{ user_id: 'ü-€-😀', ts: '2001-01-01T00:00:00Z' }] }, { source: 'test' });

describe('embedded bus messages kept as text', () => {
  it('are the UTF-8 bytes of the envelope, read as text without making the bytes', () => {
    const ev = rowsEvent();
    const text = JSON.stringify(ev);
    const m = MemoryMessage.ofText('7', catalog.featureRows.topic, text, { type: ev.type }, Date.parse('2001-02-03T04:05:06.789Z'));
    let touched = 0;
    const probe = Object.create(m, { data: { get: () => { touched++; return m.data; } } }) as MemoryMessage;
    expect(eventFromMessage(probe, { topic: catalog.featureRows.topic }).event).toEqual(ev);
    expect(touched).toBe(0);
    expect(m.data.equals(encodeEnvelope(ev))).toBe(true);
    expect(m.publishTime).toBe('2001-02-03T04:05:06.789Z');
    expect(m.messageId).toBe('7');
  });

  it('an empty text is a message without data', () => {
    const m = MemoryMessage.ofText('1', 't', '', {});
    expect(() => eventFromMessage(m)).toThrow(/has no data/);
  });

  it('size limits count UTF-8 bytes, not characters', () => {
    // 3,400,000 three-byte characters: 10.2 MB on the wire although the string has 3.4 M characters.
    const text = '€'.repeat(3_400_000);
    expect(() => checkPublishLimits('t', text, {})).toThrow(ValidationError);
    expect(() => checkPublishLimits('t', text, {})).toThrow(/10200000 bytes/);
    expect(() => checkPublishLimits('t', '€'.repeat(3_000_000), {})).not.toThrow();
    expect(() => checkPublishLimits('t', 'x', { [`k${'é'.repeat(128)}`]: 'v' })).toThrow(/257 bytes/);
    expect(() => checkPublishLimits('t', 'x', { k: 'é'.repeat(513) })).toThrow(/1026 bytes/);
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`a${i}`, 'v']));
    expect(() => checkPublishLimits('t', 'x', many)).toThrow(/101 attributes/);
    expect(() => checkPublishLimits('t', 'x', { k: 5 as unknown as string })).toThrow(/not a string/);
  });

  it('a dead letter of a published event keeps its exact bytes, non-ASCII included', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ctloop-memmsg-'));
    const bus = new MemoryEventBus({ journalDir: dir, retry: { maxDeliveryAttempts: 1 } });
    const ev = rowsEvent();
    const letters: unknown[] = [];
    await bus.subscribe({ name: 'sub-refuses', topic: catalog.featureRows.topic }, async () => { throw new Error('refused'); });
    await bus.subscribeDeadLetters({ name: 'sub-dead-letters', topic: catalog.featureRows.topic }, async (d) => { letters.push(d.event); });
    await bus.publish(catalog.featureRows.topic, ev);
    await bus.drain(10_000);
    await bus.close();
    expect(letters).toEqual([ev]);
    const journal = (await readFile(join(dir, 'dead-letters.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { event: unknown; publishTime: string });
    expect(journal).toHaveLength(1);
    expect(journal[0]!.event).toEqual(ev);
    expect(Number.isNaN(Date.parse(journal[0]!.publishTime))).toBe(false);
    await rm(dir, { recursive: true, force: true });
  });
});
