import { eventFromMessage, type PubsubMessageIn } from '../events/binding.js';
import type { Envelope } from '../events/envelope.js';
import type { DeadLetterHandler, DeadLetterReader, EventBus, Handler, Subscription, SubscriptionSpec } from '../ports/event-bus.js';
import { log } from './log.js';
import type { PushLedger } from './push-ledger.js';

/** What the push bus needs of the Pub/Sub adapter: publishing (envelopes and raw messages) and dead-letter reading. */
export interface PubsubPublisher extends DeadLetterReader {
  publish(topic: string, event: Envelope, attributes?: Record<string, string>): Promise<string>;
  publishMessage(topic: string, data: Buffer, attributes?: Record<string, string>): Promise<string>;
  close(): Promise<void>;
}

/** Creates a push subscription `name` on `topic` delivering raw push bodies to `handle` (see emulators/push-loop.ts). */
export type PushSubscriber = (spec: { name: string; topic: string }, handle: (msg: PubsubMessageIn) => Promise<void>) => Promise<Subscription>;

/**
 * The event bus of a push loop (`ctloop up --emulators`, `ctloop demo --emulators`): publishes through the Pub/Sub
 * adapter, and every subscription is a PUSH subscription to an endpoint of this process (functions are served by
 * functions-framework, see FunctionHost; `subscribe` here is for observers such as the demo's narration). `drain()`
 * is the PushLedger's: every message published through this bus settled at every push subscription of its topic.
 * Dead letters are read through the adapter (a pull subscription on the dead-letter topic, as `ctloop run` files them).
 */
export class PushBus implements EventBus, DeadLetterReader {
  constructor(private readonly pubsub: PubsubPublisher, private readonly ledger: PushLedger, private readonly subscriber: PushSubscriber) {}

  publish(topic: string, event: Envelope, attributes: Record<string, string> = {}): Promise<string> {
    return this.ledger.publishing(topic, () => this.pubsub.publish(topic, event, attributes));
  }

  /** A raw message (not an envelope), as Cloud Scheduler or a log sink sends to a message function's topic. */
  publishMessage(topic: string, data: Buffer, attributes: Record<string, string> = {}): Promise<string> {
    return this.ledger.publishing(topic, () => this.pubsub.publishMessage(topic, data, attributes));
  }

  /**
   * An observer's push subscription: valid events are handed over (a throw → non-2xx → Pub/Sub redelivers); a
   * message that is not a valid event of the topic is acknowledged and logged (the functions' own subscriptions
   * dead-letter it with its reason).
   */
  subscribe(spec: SubscriptionSpec, handler: Handler): Promise<Subscription> {
    const types = spec.types ? new Set(spec.types) : null;
    const attempts = new Map<string, number>();
    return this.subscriber({ name: spec.name, topic: spec.topic }, async (msg) => {
      let event: Envelope;
      try {
        event = eventFromMessage(msg, { topic: spec.topic }).event;
      } catch (err) {
        log('warning', `${spec.name}: not a valid event of ${spec.topic}, acknowledged without handling`, { messageId: msg.messageId, error: String(err) });
        return;
      }
      if (types && !types.has(event.type)) return;
      const attempt = (attempts.get(msg.messageId) ?? 0) + 1;
      attempts.set(msg.messageId, attempt);
      await handler(event, { attempt, messageId: msg.messageId, subscription: spec.name, attributes: msg.attributes });
      attempts.delete(msg.messageId);
    });
  }

  subscribeDeadLetters(spec: { name: string; topic: string }, handler: DeadLetterHandler): Promise<Subscription> {
    return this.pubsub.subscribeDeadLetters(spec, handler);
  }

  drain(timeoutMs?: number): Promise<void> {
    return this.ledger.drain(timeoutMs);
  }

  close(): Promise<void> {
    return this.pubsub.close();
  }
}
