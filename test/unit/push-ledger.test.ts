import { describe, expect, it } from 'vitest';
import { TransientError } from '../../shared/errors.js';
import { pushedMessageId } from '../../shared/runtime/function-host.js';
import { PushLedger } from '../../shared/runtime/push-ledger.js';

/** The push drain: settled exactly when every expected (subscription, message) has a 2xx or max failed attempts. */
describe('PushLedger', () => {
  const settled = async (l: PushLedger) => {
    let done = false;
    const p = l.drain(5_000).then(() => { done = true; });
    await new Promise((r) => setImmediate(r));
    return { done: () => done, p };
  };

  it('waits for each push subscription of the topic, and settles on their 2xx responses', async () => {
    const l = new PushLedger(5);
    l.addSubscription('t', 'a');
    l.addSubscription('t', 'b');
    l.addSubscription('other', 'c');
    await l.publishing('t', async () => 'm1');
    const d = await settled(l);
    expect(d.done()).toBe(false);
    l.requestStarted('a');
    l.requestEnded('a', 'm1', 204);
    await new Promise((r) => setImmediate(r));
    expect(d.done()).toBe(false); // b has not had it
    l.requestStarted('b');
    l.requestEnded('b', 'm1', 200);
    await d.p;
    expect(l.snapshot().counts).toMatchObject({ a: { requests: 1, acked: 1 }, b: { requests: 1, acked: 1 }, c: { requests: 0 } });
  });

  it('counts a push that arrives before its publish call has returned', async () => {
    const l = new PushLedger(5);
    l.addSubscription('t', 'a');
    await l.publishing('t', async () => {
      l.requestStarted('a');
      l.requestEnded('a', 'm1', 204);
      return 'm1';
    });
    expect(l.idle).toBe(true);
  });

  it('keeps a failed push outstanding until it is redelivered and acknowledged', async () => {
    const l = new PushLedger(5);
    l.addSubscription('t', 'a');
    await l.publishing('t', async () => 'm1');
    l.requestStarted('a');
    l.requestEnded('a', 'm1', 500);
    expect(l.idle).toBe(false);
    l.requestStarted('a');
    l.requestEnded('a', 'm1', 204);
    expect(l.idle).toBe(true);
    expect(l.snapshot().counts.a).toEqual({ requests: 2, acked: 1, failed: 1, deadLettered: 0 });
  });

  it('settles a message after maxDeliveryAttempts failures (Pub/Sub dead-letters it)', async () => {
    const l = new PushLedger(5);
    l.addSubscription('t', 'a');
    await l.publishing('t', async () => 'm1');
    for (let i = 0; i < 4; i++) {
      l.requestStarted('a');
      l.requestEnded('a', 'm1', 500);
    }
    expect(l.idle).toBe(false);
    l.requestStarted('a');
    l.requestEnded('a', 'm1', 503);
    expect(l.idle).toBe(true);
    expect(l.snapshot().counts.a!.deadLettered).toBe(1);
  });

  it('is not idle while a request runs or a publish is pending', async () => {
    const l = new PushLedger(5);
    l.addSubscription('t', 'a');
    l.requestStarted('a');
    expect(l.idle).toBe(false);
    l.requestEnded('a', null, 204);
    expect(l.idle).toBe(true);
    let release!: (id: string) => void;
    const pending = l.publishing('t', () => new Promise<string>((r) => (release = r)));
    expect(l.idle).toBe(false);
    release('m9');
    await pending;
    expect(l.snapshot().outstanding).toEqual(['a ← message m9']);
  });

  it('says what is outstanding when the drain times out', async () => {
    const l = new PushLedger(5);
    l.addSubscription('t', 'a');
    await l.publishing('t', async () => 'm1');
    const err = await l.drain(50).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toMatch(/1 delivery\(ies\) outstanding \(a ← message m1\)/);
  });
});

describe('pushedMessageId', () => {
  it('reads the message id from each form functions-framework leaves in req.body', () => {
    expect(pushedMessageId({ message: { messageId: '1', data: 'e30=' }, subscription: 's' })).toBe('1');
    expect(pushedMessageId({ context: { eventId: '2' }, data: {} })).toBe('2');
    expect(pushedMessageId({ specversion: '1.0', id: '3', data: { message: { messageId: '3' } } })).toBe('3');
    expect(pushedMessageId(undefined)).toBeNull();
    expect(pushedMessageId({})).toBeNull();
  });
});
