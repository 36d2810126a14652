import { describeError, isPermanent } from '../../../errors.js';
import type { Envelope } from '../../../events/envelope.js';
import type { Delivery, RetryPolicy } from '../../../ports/event-bus.js';
import { eventFromMessage } from '../../../events/binding.js';
import { backoffDelay } from './backoff.js';
import { Fifo } from './fifo.js';
import type { MemoryMessage } from './message.js';

export type { MemoryMessage } from './message.js';


/** What a subscription does with a message: validate it as an envelope for an event handler, or hand it over raw. */
export type Consumer =
  | { kind: 'events'; handler: (event: Envelope, delivery: Delivery) => Promise<void> }
  | { kind: 'raw'; handler: (message: MemoryMessage, delivery: Delivery) => Promise<void> };

export interface SubscriptionHooks {
  /** Dead-letter a message; resolves once it is journaled and republished. */
  deadLetter(message: MemoryMessage, subscription: string, attempts: number, reason: string): Promise<void>;
  /** A message entered (+1) or left (−1) this subscription: the bus counts outstanding work for drain(). */
  outstanding(delta: number): void;
  onError(err: unknown, context: string): void;
}

/**
 * What a handler learns about its delivery. The attributes are the handler's own copy (it may change them), made
 * when first read: most handlers never read them, and this runs for every delivery.
 */
class MemoryDelivery implements Delivery {
  private copy: Record<string, string> | undefined;

  constructor(readonly attempt: number, private readonly message: MemoryMessage, readonly subscription: string) {}

  get messageId(): string {
    return this.message.id;
  }

  get attributes(): Record<string, string> {
    return (this.copy ??= { ...this.message.attributes });
  }
}

interface Pending {
  message: MemoryMessage;
  /** Deliveries made so far. */
  attempts: number;
}

/**
 * One in-process subscription: a FIFO queue, at most `maxConcurrent` handlers at once, redelivery with exponential
 * backoff after a throw, dead-letter after `maxDeliveryAttempts` or at once on a permanent error or invalid
 * envelope. With `types`, valid events of the topic's other types are acknowledged without delivery (as the
 * Pub/Sub adapter's filter does); a message that does not say its type is read by its body, never dropped.
 */
export class MemorySubscription {
  private readonly queue = new Fifo<Pending>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private inFlight = 0;
  private closed = false;

  constructor(
    readonly name: string,
    readonly topic: string,
    private readonly types: ReadonlySet<string> | undefined,
    private readonly policy: RetryPolicy,
    private readonly maxConcurrent: number,
    private readonly consumer: Consumer,
    private readonly hooks: SubscriptionHooks,
  ) {}

  enqueue(message: MemoryMessage): void {
    if (this.closed) return;
    this.hooks.outstanding(+1);
    this.queue.push({ message, attempts: 0 });
    this.pump();
  }

  /**
   * Stop delivering: pending retries are cancelled and queued messages dropped (the subscription is deleted, as
   * Pub/Sub does with a deleted subscription). Handlers already running finish, but their outcome is ignored.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.hooks.outstanding(-(this.queue.length + this.timers.size + this.inFlight));
    this.timers.clear();
    this.queue.clear();
  }

  private pump(): void {
    while (!this.closed && this.inFlight < this.maxConcurrent && this.queue.length > 0) {
      const next = this.queue.shift()!;
      this.inFlight++;
      void this.deliver(next);
    }
  }

  /** Deliver one message and settle it; never rejects. Frees its slot and pumps the queue when done. */
  private async deliver(p: Pending): Promise<void> {
    try {
      await this.attempt(p);
    } finally {
      this.inFlight--;
      this.pump();
    }
  }

  private async attempt(p: Pending): Promise<void> {
    p.attempts++;
    const delivery = new MemoryDelivery(p.attempts, p.message, this.name);
    try {
      if (this.consumer.kind === 'events') {
        let event: Envelope;
        try {
          // The producer contract (shared/events/binding.ts), exactly as on Pub/Sub.
          event = eventFromMessage(p.message, { topic: this.topic }).event;
        } catch (err) {
          return await this.deadLetter(p, describeError(err));
        }
        // A valid event of another type the topic carries belongs to a sibling subscription, as on Pub/Sub.
        if (this.types && !this.types.has(event.type)) return this.settle();
        await this.consumer.handler(event, delivery);
      } else {
        await this.consumer.handler(p.message, delivery);
      }
      this.settle();
    } catch (err) {
      if (this.closed) return;
      if (isPermanent(err)) return await this.deadLetter(p, describeError(err));
      if (p.attempts >= this.policy.maxDeliveryAttempts) {
        return await this.deadLetter(p, `failed ${p.attempts} delivery attempts; last error: ${describeError(err)}`);
      }
      this.retryLater(p);
    }
  }

  private async deadLetter(p: Pending, reason: string): Promise<void> {
    try {
      await this.hooks.deadLetter(p.message, this.name, p.attempts, reason);
      this.settle();
    } catch (err) {
      // Never drop a message: if it cannot be dead-lettered (journal not writable), it comes back later.
      this.hooks.onError(err, `subscription ${this.name}: dead-lettering message ${p.message.id} failed; will retry`);
      if (!this.closed) this.retryLater(p);
    }
  }

  private retryLater(p: Pending): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.closed) return;
      this.queue.push(p);
      this.pump();
    }, backoffDelay(p.attempts, this.policy));
    this.timers.add(timer);
  }

  private settle(): void {
    if (!this.closed) this.hooks.outstanding(-1);
  }
}
