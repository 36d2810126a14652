import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEventBus } from '../../shared/adapters/event-bus/index.js';
import { MemoryEventBus } from '../../shared/adapters/event-bus/memory/memory-bus.js';
import { backoffDelay } from '../../shared/adapters/event-bus/memory/backoff.js';
import { TransientError } from '../../shared/errors.js';
import { createEvent } from '../../shared/events/catalog.js';
import { runEventBusContract, waitFor } from './event-bus.contract.js';

const dirs: string[] = [];
async function journalDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'ctloop-bus-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

runEventBusContract('memory', async (retry) => new MemoryEventBus({ journalDir: await journalDir(), retry }));

const event = () => createEvent('featureRows', { view: 'trips', rows: [{ trip_id: 1 }] }, { source: 'memory-test' });
const retry = { maxDeliveryAttempts: 5, minBackoffMs: 10, maxBackoffMs: 100 };

describe('memory event bus specifics', () => {
  it('appends dead letters to <journalDir>/dead-letters.jsonl before republishing them', async () => {
    const dir = await journalDir();
    const bus = new MemoryEventBus({ journalDir: dir, retry });
    await bus.subscribe({ name: 'ingest', topic: 'ctloop-feature-rows' }, async () => {
      throw new TransientError('warehouse down');
    });
    const e = event();
    const id = await bus.publish('ctloop-feature-rows', e);
    await bus.drain();
    await bus.close();
    const lines = (await readFile(join(dir, 'dead-letters.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ event: e, subscription: 'ingest', attempts: 5, topic: 'ctloop-feature-rows', messageId: id });
    expect(lines[0].reason).toContain('warehouse down');
  });

  it('runs at most maxConcurrent handlers per subscription', async () => {
    const bus = new MemoryEventBus({ journalDir: await journalDir(), retry, maxConcurrent: 2 });
    let running = 0;
    let peak = 0;
    await bus.subscribe({ name: 'slow', topic: 'ctloop-feature-rows' }, async () => {
      peak = Math.max(peak, ++running);
      await new Promise((r) => setTimeout(r, 30));
      running--;
    });
    for (let i = 0; i < 6; i++) await bus.publish('ctloop-feature-rows', event());
    await bus.drain();
    await bus.close();
    expect(peak).toBe(2);
  });

  it('close() cancels pending retries: no more deliveries, drain resolves, publish is refused', async () => {
    const bus = new MemoryEventBus({ journalDir: await journalDir(), retry: { ...retry, minBackoffMs: 60_000, maxBackoffMs: 60_000 } });
    let calls = 0;
    await bus.subscribe({ name: 'failing', topic: 'ctloop-feature-rows' }, async () => {
      calls++;
      throw new TransientError('down');
    });
    await bus.publish('ctloop-feature-rows', event());
    await waitFor(() => calls === 1, 'the first attempt');
    await new Promise((r) => setTimeout(r, 20));
    await bus.close();
    await bus.drain(100);
    expect(calls).toBe(1);
    await expect(bus.publish('ctloop-feature-rows', event())).rejects.toThrow(/closed/);
  });

  it('drain() rejects with a typed error when work is still pending at the timeout', async () => {
    const bus = new MemoryEventBus({ journalDir: await journalDir(), retry });
    await bus.subscribe({ name: 'stuck', topic: 'ctloop-feature-rows' }, () => new Promise((r) => setTimeout(r, 500)));
    await bus.publish('ctloop-feature-rows', event());
    await expect(bus.drain(50)).rejects.toThrow(/did not drain within 50 ms: 1 message/);
    await bus.drain();
    await bus.close();
  });

  it('rejects a second handler on the same subscription name and invalid names', async () => {
    const bus = new MemoryEventBus({ journalDir: await journalDir(), retry });
    await bus.subscribe({ name: 'once', topic: 'ctloop-feature-rows' }, async () => {});
    await expect(bus.subscribe({ name: 'once', topic: 'ctloop-feature-rows' }, async () => {})).rejects.toThrow(/already has a handler/);
    await expect(bus.publish('goog-topic', event())).rejects.toThrow(/invalid topic id/);
    await bus.close();
  });

  it('backs off exponentially with jitter between min and max', () => {
    const p = { minBackoffMs: 100, maxBackoffMs: 1000 };
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(a, p, () => 0.5))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffDelay(2, p, () => 0)).toBe(150);
    expect(backoffDelay(2, p, () => 1)).toBe(250);
    expect(backoffDelay(1, p, () => 0)).toBe(100);
    expect(backoffDelay(10, p, () => 1)).toBe(1000);
  });

  it('createEventBus picks the adapter from config', async () => {
    const mem = createEventBus({ kind: 'memory', journalDir: await journalDir() }, retry);
    expect(mem).toBeInstanceOf(MemoryEventBus);
    await mem.close();
  });
});
