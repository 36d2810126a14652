import { catalog, parseEventOf, type EventName } from '../events/catalog.js';
import { eventsOfTopic } from '../events/binding.js';
import type { EventBus, Subscription } from '../ports/event-bus.js';
import { functionRegistry } from '../topology/functions.js';
import { stopAfterMs, type EventHandler } from './cloud-event.js';
import { runWithDeadline } from './deadlines.js';
import { canFileDeadLetters, fileDeadLetters } from './dead-letter-filer.js';
import type { Runtime } from './runtime.js';

/**
 * Run every registered function in this process: each subscribes to its trigger topic on the runtime's bus, with
 * the bus's retry and dead-letter semantics. This is what `npm start` and `ctloop run` use in embedded mode; on
 * GCP the same handlers run as Cloud Functions behind Eventarc.
 */
export async function startLocalFunctions(rt: Runtime, handlers: Record<string, EventHandler<EventName>>): Promise<{ stop(): Promise<void> }> {
  const subs: Subscription[] = [];
  for (const fn of functionRegistry) {
    const handler = handlers[fn.name];
    if (!handler) continue;
    const entry = catalog[fn.trigger];
    // A `types` filter only where the topic carries several types (none does today): on a one-type topic every
    // message is the consumer's to read, and one that does not say its type is read by its body, never skipped.
    const types = eventsOfTopic(entry.topic).length > 1 ? { types: [entry.type] } : {};
    subs.push(
      await rt.bus.subscribe({ name: `ctloop-${fn.name}`, topic: entry.topic, ...types }, (event, delivery) => {
        // Same deadline as on Cloud Functions, so a stuck handler is retried locally too (runWithDeadline: the
        // cheap form for many invocations at once; the signal is made when the handler reads it).
        return runWithDeadline(fn.name, stopAfterMs(fn.timeoutSeconds), (signal) => handler(parseEventOf(fn.trigger, event), rt, { messageId: delivery.messageId, get signal() { return signal(); } }));
      }),
    );
  }
  // On Pub/Sub, dead letters forwarded by the dead-letter policy are filed where `ctloop dead-letters` reads them.
  if (rt.config.eventBus.kind === 'pubsub' && canFileDeadLetters(rt.bus)) {
    const topics = functionRegistry.filter((fn) => handlers[fn.name]).map((fn) => catalog[fn.trigger].topic);
    subs.push(...(await fileDeadLetters({ bus: rt.bus, objectStore: rt.objectStore, bucket: rt.config.artifactBucket }, topics)));
  }
  return { stop: async () => { await Promise.all(subs.map((s) => s.close())); } };
}

/**
 * Stop a running loop: wait for the bus to drain (up to `drainTimeoutMs`), then close the functions' subscriptions
 * (running handlers finish; Pub/Sub closes with WaitForProcessing). A drain timeout is not swallowed: the
 * subscriptions are still closed, then the drain error is thrown so the caller reports what was left unfinished.
 */
export async function stopLocalFunctions(bus: EventBus, fns: { stop(): Promise<void> }, drainTimeoutMs: number): Promise<void> {
  let drainError: unknown;
  try {
    await bus.drain(drainTimeoutMs);
  } catch (err) {
    drainError = err;
  }
  await fns.stop();
  if (drainError !== undefined) throw drainError;
}
