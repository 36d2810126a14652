import { BackendError, ConfigError, TransientError, describeError } from '../../../errors.js';
import { deadLetterTopic } from '../../../events/catalog.js';
import type { Envelope } from '../../../events/envelope.js';
import {
  defaultRetryPolicy,
  type DeadLetterHandler,
  type DeadLetterReader,
  type EventBus,
  type Handler,
  type RetryPolicy,
  type Subscription,
  type SubscriptionSpec,
} from '../../../ports/event-bus.js';
import { checkPublishLimits, deadLetterMessage, encodeEnvelopeText, envelopeAttributes, toDeadLetter } from '../attributes.js';
import { checkResourceId } from '../names.js';
import { DeadLetterJournal } from './journal.js';
import { MemoryMessage } from './message.js';
import { MemorySubscription, type Consumer } from './subscription.js';

export interface MemoryEventBusOptions {
  /** Directory of the dead-letter journal (`dead-letters.jsonl`). */
  journalDir: string;
  retry?: Partial<RetryPolicy>;
  /** Handlers running at once per subscription (Pub/Sub's flow control `maxMessages`). Default 10. */
  maxConcurrent?: number;
  /** Called for errors that cannot be thrown to a caller (a journal write failed). Default: console.error. */
  onError?: (err: unknown, context: string) => void;
}

/**
 * The embedded event bus: Pub/Sub semantics in one process. Each subscription has its own queue; a message
 * published to a topic is copied to the subscriptions that exist at that moment (later ones never see it);
 * delivery is at-least-once with redelivery after a throw, and dead-lettering publishes the message to
 * `<topic>-dead-letter` with the reason attributes and appends it to the journal first.
 */
export class MemoryEventBus implements EventBus, DeadLetterReader {
  readonly journal: DeadLetterJournal;
  private readonly retry: RetryPolicy;
  private readonly maxConcurrent: number;
  private readonly onError: (err: unknown, context: string) => void;
  private readonly subscriptions = new Map<string, MemorySubscription>();
  private nextId = 1;
  private outstanding = 0;
  private idleWaiters: Array<() => void> = [];
  private closed = false;

  constructor(opts: MemoryEventBusOptions) {
    this.journal = new DeadLetterJournal(opts.journalDir);
    this.retry = { ...defaultRetryPolicy, ...opts.retry };
    this.maxConcurrent = opts.maxConcurrent ?? 10;
    this.onError = opts.onError ?? ((err, context) => console.error(`[event-bus] ${context}: ${describeError(err)}`));
    if (!(this.maxConcurrent >= 1)) throw new ConfigError(`maxConcurrent must be ≥ 1, got ${this.maxConcurrent}`, { hint: 'pass a positive number' });
  }

  async publish(topic: string, event: Envelope, attributes: Record<string, string> = {}): Promise<string> {
    // No validation here: consumers validate every payload (anything can publish to a real topic) and dead-letter
    // what is invalid, so both adapters behave the same.
    const name = checkResourceId('topic', topic);
    const text = encodeEnvelopeText(event);
    const attrs = envelopeAttributes(event, attributes);
    checkPublishLimits(name, text, attrs); // same limits as Pub/Sub, so embedded mode refuses what GCP would
    return this.deliverToSubscriptions(MemoryMessage.ofText(String(this.nextId++), name, text, attrs));
  }

  /** Publish a message as any producer would (data and attributes as given); checked against Pub/Sub's limits. */
  async publishMessage(topic: string, data: Buffer, attributes: Record<string, string> = {}): Promise<string> {
    const name = checkResourceId('topic', topic);
    checkPublishLimits(name, data, attributes);
    return this.publishRaw(name, data, { ...attributes });
  }

  async subscribe(spec: SubscriptionSpec, handler: Handler): Promise<Subscription> {
    return this.open(spec, { kind: 'events', handler });
  }

  async subscribeDeadLetters(spec: { name: string; topic: string }, handler: DeadLetterHandler): Promise<Subscription> {
    return this.open(
      { name: spec.name, topic: deadLetterTopic(spec.topic) },
      { kind: 'raw', handler: (m, d) => handler(toDeadLetter(m.data, m.attributes, m.published), d) },
    );
  }

  async drain(timeoutMs = 30_000): Promise<void> {
    if (this.outstanding === 0) return;
    let timer: NodeJS.Timeout | undefined;
    let waiter: (() => void) | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        waiter = resolve;
        this.idleWaiters.push(resolve);
        timer = setTimeout(() => {
          reject(new TransientError(`event bus did not drain within ${timeoutMs} ms: ${this.outstanding} message(s) still pending`, {
            hint: 'a handler is slow or keeps failing with long backoffs; raise the timeout or check the handler',
            details: { outstanding: this.outstanding },
          }));
        }, timeoutMs);
      });
    } finally {
      clearTimeout(timer);
      this.idleWaiters = this.idleWaiters.filter((w) => w !== waiter);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const sub of this.subscriptions.values()) sub.close();
    this.subscriptions.clear();
  }

  private open(spec: SubscriptionSpec, consumer: Consumer): Subscription {
    this.assertOpen();
    const name = checkResourceId('subscription', spec.name);
    const topic = checkResourceId('topic', spec.topic);
    if (this.subscriptions.has(name)) {
      throw new ConfigError(`subscription ${name} already has a handler in this process`, {
        hint: 'use one subscription name per consumer; close the previous subscription first',
      });
    }
    const policy: RetryPolicy = { ...this.retry, ...spec.retry };
    const sub = new MemorySubscription(name, topic, spec.types ? new Set(spec.types) : undefined, policy, this.maxConcurrent, consumer, {
      deadLetter: (m, s, attempts, reason) => this.deadLetter(m, s, attempts, reason),
      outstanding: (delta) => this.count(delta),
      onError: this.onError,
    });
    this.subscriptions.set(name, sub);
    return {
      close: async () => {
        sub.close();
        if (this.subscriptions.get(name) === sub) this.subscriptions.delete(name);
      },
    };
  }

  private publishRaw(topic: string, data: Buffer, attributes: Record<string, string>): string {
    return this.deliverToSubscriptions(MemoryMessage.ofBytes(String(this.nextId++), topic, data, attributes));
  }

  private deliverToSubscriptions(message: MemoryMessage): string {
    this.assertOpen();
    for (const sub of this.subscriptions.values()) if (sub.topic === message.topic) sub.enqueue(message);
    return message.id;
  }

  private async deadLetter(m: MemoryMessage, subscription: string, attempts: number, reason: string): Promise<void> {
    const letter = deadLetterMessage(m.data, m.attributes, { topic: m.topic, subscription, attempts, reason, time: new Date(), messageId: m.id, publishTime: m.published });
    const dl = toDeadLetter(letter.data, letter.attributes, m.published);
    await this.journal.append({ ...dl, topic: m.topic, messageId: m.id, attributes: m.attributes, publishTime: m.publishTime });
    if (!this.closed) this.publishRaw(deadLetterTopic(m.topic), letter.data, letter.attributes);
  }

  private count(delta: number): void {
    this.outstanding += delta;
    if (this.outstanding < 0) this.outstanding = 0;
    if (this.outstanding === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private assertOpen(): void {
    if (this.closed) throw new BackendError('the event bus is closed', { hint: 'create a new bus; close() is final' });
  }
}
