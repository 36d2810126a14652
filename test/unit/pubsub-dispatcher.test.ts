import { describe, expect, it } from 'vitest';
import { MessageDispatcher, type Settle } from '../../shared/adapters/event-bus/pubsub/dispatcher.js';

/** A received message copy: records how it was settled. */
function msg(id: string) {
  const m = { id, settled: [] as string[], ack: () => void m.settled.push('ack'), nack: () => void m.settled.push('nack') };
  return m;
}
type Msg = ReturnType<typeof msg>;

/** A handler whose runs the test finishes one by one. */
function controlled() {
  const runs: { m: Msg; settle: Settle; finish(outcome: 'ack' | 'nack'): void }[] = [];
  const run = (m: Msg, settle: Settle) =>
    new Promise<void>((done) => {
      runs.push({ m, settle, finish: (o) => { settle[o](); done(); } });
    });
  return { runs, run };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('Pub/Sub message dispatcher', () => {
  it('runs at most maxConcurrent handlers; the others wait in arrival order', async () => {
    const h = controlled();
    const d = new MessageDispatcher<Msg>(2, h.run);
    const ms = ['a', 'b', 'c', 'd'].map(msg);
    ms.forEach((m) => d.push(m));
    expect(h.runs.map((r) => r.m.id)).toEqual(['a', 'b']);
    h.runs[0]!.finish('ack');
    await tick();
    expect(h.runs.map((r) => r.m.id)).toEqual(['a', 'b', 'c']);
    expect(d.active).toBe(2);
    h.runs[1]!.finish('ack');
    h.runs[2]!.finish('ack');
    await tick();
    h.runs[3]!.finish('nack');
    await tick();
    expect(ms.map((m) => m.settled)).toEqual([['ack'], ['ack'], ['ack'], ['nack']]);
    expect(d.active).toBe(0);
  });

  it('a copy redelivered while the message runs is not run again: it is settled with the run', async () => {
    const h = controlled();
    const d = new MessageDispatcher<Msg>(4, h.run);
    const first = msg('x');
    const copy = msg('x');
    d.push(first);
    d.push(copy);
    expect(h.runs).toHaveLength(1);
    h.runs[0]!.finish('ack');
    await tick();
    expect(first.settled).toEqual(['ack']);
    expect(copy.settled).toEqual(['ack']);
    const late = msg('x'); // after the run: a new delivery, run again (at-least-once)
    d.push(late);
    expect(h.runs).toHaveLength(2);
  });

  it('a copy of a failed run is nacked with it; a copy arriving after settlement but before the end gets the outcome', async () => {
    const h = controlled();
    const d = new MessageDispatcher<Msg>(1, h.run);
    const first = msg('y');
    d.push(first);
    h.runs[0]!.settle.nack(); // settled, handler still finishing
    const copy = msg('y');
    d.push(copy);
    expect(copy.settled).toEqual(['nack']);
    expect(h.runs).toHaveLength(1);
  });

  it('close() nacks queued messages, waits for running ones, and reports a timeout', async () => {
    const h = controlled();
    const d = new MessageDispatcher<Msg>(1, h.run);
    const running = msg('r');
    const queued = msg('q');
    d.push(running);
    d.push(queued);
    const closing = d.close(60_000);
    expect(queued.settled).toEqual(['nack']);
    h.runs[0]!.finish('ack');
    expect(await closing).toBe(true);
    expect(running.settled).toEqual(['ack']);
    const after = msg('n');
    d.push(after);
    expect(after.settled).toEqual(['nack']);

    const stuck = new MessageDispatcher<Msg>(1, () => new Promise<void>(() => undefined));
    stuck.push(msg('s'));
    expect(await stuck.close(1)).toBe(false);
    expect(stuck.active).toBe(1);
  });
});
