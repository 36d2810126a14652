import { describe, expect, it, vi } from 'vitest';
import { TransientError } from '../../shared/errors.js';
import { createEvent } from '../../shared/events/catalog.js';
import { cloudEventFunction, decodePubsubCloudEvent } from '../../shared/runtime/cloud-event.js';
import type { Runtime } from '../../shared/runtime/runtime.js';
import { setLogThreshold } from '../../shared/runtime/log.js';

const ce = (body: unknown, attributes: Record<string, string> = {}, id = 'm1') => ({
  id, type: 'google.cloud.pubsub.topic.v1.messagePublished', source: '//pubsub.googleapis.com/projects/p/topics/t', time: '2001-01-02T03:04:05Z',
  data: { message: { data: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)).toString('base64'), messageId: id, publishTime: '2001-01-02T03:04:05Z', attributes } },
});

describe('CloudEvent wrapper', () => {
  setLogThreshold('silent');
  const puts: unknown[] = [];
  const rt = { config: { artifactBucket: 'b' }, objectStore: { put: async (uri: string, body: string) => { puts.push({ uri, body: JSON.parse(body) }); return { uri, size: 0, updated: new Date() }; } } } as unknown as Runtime;

  it('decodes the Pub/Sub message inside the CloudEvent', () => {
    const d = decodePubsubCloudEvent(ce({ a: 1 }, { type: 'x' }));
    expect(d).toEqual({ messageId: 'm1', publishTime: '2001-01-02T03:04:05Z', attributes: { type: 'x' }, data: Buffer.from('{"a":1}') });
    expect(() => decodePubsubCloudEvent({ id: 'x', type: 't', source: 's', data: {} })).toThrow(/carries no Pub\/Sub message data/);
  });

  it('builds the envelope of a Cloud Scheduler data-only message from the message id and publish time', async () => {
    const handler = vi.fn(async () => undefined);
    const fn = cloudEventFunction('detect', 'driftCheckRequested', handler, async () => rt);
    await fn(ce({ view: 'route_daily', windowSeconds: 86400 }, { type: 'ctloop.drift.check_requested.v1', 'ctloop-body': 'data', source: 'cloud-scheduler/job' }, 'sched-1'));
    expect(handler).toHaveBeenCalledOnce();
    const event = (handler.mock.calls[0] as unknown[])[0];
    expect(event).toMatchObject({ id: 'sched-1', time: '2001-01-02T03:04:05.000Z', source: 'cloud-scheduler/job', causationId: null, data: { view: 'route_daily', windowSeconds: 86400 } });
  });

  it('dead-letters permanent failures with their reason and rethrows transient ones', async () => {
    const fn = cloudEventFunction('ingest', 'featureRows', async () => { throw new Error('socket hang up'); }, async () => rt);
    await fn(ce({ nope: true }, {}, 'bad'));
    expect(puts.at(-1)).toMatchObject({ uri: expect.stringMatching(/^gs:\/\/b\/dead-letter\/ingest\/\d{4}-\d{2}-\d{2}\/bad\.json$/), body: { code: 'VALIDATION_FAILED', message: { nope: true } } });
    const good = createEvent('featureRows', { view: 'v', rows: [{}] }, { source: 't' });
    await expect(fn(ce(good, {}, 'ok'))).rejects.toThrow(/socket hang up/);
  });

  it('dead-letters a raw push body with attributes and no data (functions-framework passes it through unconverted)', async () => {
    const handler = vi.fn(async () => undefined);
    const fn = cloudEventFunction('ingest', 'featureRows', handler, async () => rt);
    // What functions-framework 5 hands the function when message.data is absent: the push body itself.
    const raw = { message: { attributes: { type: 'ctloop.features.rows.v1' }, messageId: 'attributes-only', publishTime: '2001-01-02T03:04:05Z' }, subscription: 'projects/p/subscriptions/s' };
    await fn(raw as never);
    expect(handler).not.toHaveBeenCalled();
    expect(puts.at(-1)).toMatchObject({
      uri: expect.stringMatching(/\/dead-letter\/ingest\/\d{4}-\d{2}-\d{2}\/attributes-only\.json$/),
      body: { code: 'VALIDATION_FAILED', reason: expect.stringContaining('attributes-only has no data'), message: { attributes: { type: 'ctloop.features.rows.v1' } } },
    });
    await fn({ message: { attributes: { a: '1' } } } as never); // no id anywhere: filed under a hash of the body
    expect((puts.at(-1) as { uri: string }).uri).toMatch(/\/sha256-[0-9a-f]{32}\.json$/);
  });

  it('aborts the handler signal before the function deadline and fails the invocation as transient (redelivered)', async () => {
    vi.useFakeTimers();
    try {
      let seen: AbortSignal | undefined;
      let stoppedWork = false;
      const fn = cloudEventFunction('ingest', 'featureRows', async (_e, _rt, ctx) => {
        seen = ctx.signal;
        await new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r()));
        stoppedWork = true; // a handler that honours the signal stops here instead of writing beside the redelivery
      }, async () => rt, { timeoutSeconds: 60 });
      const good = createEvent('featureRows', { view: 'v', rows: [{}] }, { source: 't' });
      const run = fn(ce(good, {}, 'slow'));
      const outcome = run.then(() => 'resolved', (e: unknown) => e);
      await vi.advanceTimersByTimeAsync(53_999);
      expect(seen?.aborted).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      const err = await outcome;
      expect(err).toBeInstanceOf(TransientError);
      expect(seen?.aborted).toBe(true);
      expect(seen?.reason).toBe(err);
      expect(stoppedWork).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('leaves the signal alone when the handler finishes in time', async () => {
    let seen: AbortSignal | undefined;
    const fn = cloudEventFunction('ingest', 'featureRows', async (_e, _rt, ctx) => void (seen = ctx.signal), async () => rt, { timeoutSeconds: 60 });
    await fn(ce(createEvent('featureRows', { view: 'v', rows: [{}] }, { source: 't' }), {}, 'fast'));
    expect(seen?.aborted).toBe(false);
  });
});
