import { describe, expect, it } from 'vitest';
import { TransientError } from '../../shared/errors.js';
import type { EventBus } from '../../shared/ports/event-bus.js';
import { stopLocalFunctions } from '../../shared/runtime/local-loop.js';

const bus = (drain: () => Promise<void>) => ({ drain, publish: async () => '', subscribe: async () => ({ close: async () => undefined }), close: async () => undefined }) as EventBus;

describe('stopping `ctloop run`', () => {
  it('a drain timeout is reported after the subscriptions are closed, not swallowed', async () => {
    const timeout = new TransientError('Pub/Sub bus did not drain within 60000 ms (1 message(s) in flight or awaiting redelivery)');
    let stopped = false;
    const err = await stopLocalFunctions(bus(() => Promise.reject(timeout)), { stop: async () => void (stopped = true) }, 60_000).catch((e: unknown) => e);
    expect(err).toBe(timeout);
    expect(stopped).toBe(true);
  });

  it('a close that leaves handlers running fails the stop', async () => {
    const stuck = new TransientError('subscription ctloop-x: 1 handler(s) still running 60000 ms after close');
    await expect(stopLocalFunctions(bus(async () => undefined), { stop: () => Promise.reject(stuck) }, 10)).rejects.toBe(stuck);
  });
});
