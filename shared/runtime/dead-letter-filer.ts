import type { DeadLetterReader, EventBus, Subscription } from '../ports/event-bus.js';
import type { ObjectStore } from '../ports/object-store.js';
import { writeDeadLetter } from './dead-letter.js';

/**
 * Files what reaches a dead-letter topic under the object-store dead-letter path, with its attempt count, so
 * `ctloop dead-letters list|replay` sees it: messages Pub/Sub's own dead-letter policy forwards after
 * maxDeliveryAttempts (a consumer that crashed or missed its deadline) otherwise sit only on the dead-letter
 * topic's subscription, which keeps them at most 7 days (https://cloud.google.com/pubsub/docs/subscription-properties,
 * message retention duration). The record is keyed by the dead-letter message id: a redelivery overwrites it.
 * Not for the in-process bus, whose dead letters are already in its journal.
 */
export async function fileDeadLetters(deps: { bus: DeadLetterReader; objectStore: ObjectStore; bucket: string }, topics: string[]): Promise<Subscription[]> {
  const subs: Subscription[] = [];
  for (const topic of [...new Set(topics)]) {
    subs.push(
      await deps.bus.subscribeDeadLetters({ name: `ctloop-dead-letter-filer-${topic}`, topic }, async (dl, delivery) => {
        await writeDeadLetter(deps.objectStore, deps.bucket, {
          consumer: consumerOf(dl.subscription) || `topic-${topic}`,
          messageId: delivery.messageId,
          reason: dl.reason,
          code: 'DELIVERY_FAILED',
          message: dl.event,
          time: dl.time,
          attempts: dl.attempts,
          attributes: delivery.attributes, // with ctloop-source-message-id: replay rebuilds the same event id
        });
      }),
    );
  }
  return subs;
}

/** `ctloop-ingest-features` or `ctloop-ingest-features-push` → `ingest-features`. */
export function consumerOf(subscription: string): string {
  return subscription.replace(/^ctloop-/, '').replace(/-push$/, '');
}

export function canFileDeadLetters(bus: EventBus): bus is EventBus & DeadLetterReader {
  return typeof (bus as Partial<DeadLetterReader>).subscribeDeadLetters === 'function';
}
