import { Duration, PubSub, SubscriptionCloseBehaviors, type Message, type Subscription as PsSubscription, type Topic } from '@google-cloud/pubsub';
import { ConfigError, TransientError, describeError, isPermanent } from '../../../errors.js';
import { deadLetterTopic } from '../../../events/catalog.js';
import type { Envelope } from '../../../events/envelope.js';
import {
  defaultRetryPolicy,
  type DeadLetterHandler,
  type DeadLetterReader,
  type Delivery,
  type EventBus,
  type Handler,
  type RetryPolicy,
  type Subscription,
  type SubscriptionSpec,
} from '../../../ports/event-bus.js';
import { eventFromMessage } from '../../../events/binding.js';
import { checkPublishLimits, deadLetterMessage, encodeEnvelope, envelopeAttributes, toDeadLetter } from '../attributes.js';
import { checkResourceId } from '../names.js';
import { MessageDispatcher, type Settle } from './dispatcher.js';
import { checkRetryPolicy, ensureSubscription, ensureTopic, ensureTopicWithDeadLetter, isNotFound, toBusError } from './topology.js';

export interface PubsubEventBusOptions {
  project: string;
  /** host:port of the Pub/Sub emulator; absent → Google's endpoint with Application Default Credentials. */
  emulatorHost?: string;
  retry?: Partial<RetryPolicy>;
  /** Ack deadline of created subscriptions (the client extends leases of slow handlers on its own). Default 60. */
  ackDeadlineSeconds?: number;
  /** Handlers running at once per subscription, enforced here (one stream + a bound in the adapter). Default 10. */
  maxConcurrent?: number;
  /** close(): how long running handlers may take to finish before close() fails. Default 60 000 ms. */
  closeTimeoutMs?: number;
  /** drain(): how long nothing must happen before the bus counts as drained. Default 1000 ms. */
  drainQuietMs?: number;
  onError?: (err: unknown, context: string) => void;
}

/**
 * `settle.ack()` acks the message (and any copy of it redelivered meanwhile); `retryLater` nacks it (Pub/Sub
 * redelivers it after the backoff) and lets drain() wait for it.
 */
type RawHandler = (message: Message, delivery: Delivery, settle: Settle, retryLater: () => void) => Promise<void>;

/**
 * Event bus on Cloud Pub/Sub (or its emulator).
 *
 * - publish: data = JSON envelope, attributes = type, correlationId, causationId, ctloop-event-id (+ the caller's).
 *   A missing topic is created once and the publish retried.
 * - subscribe: ensures the topic, its dead-letter topic (with a `-hold` subscription so dead letters are kept),
 *   and the subscription with deadLetterPolicy, retryPolicy and ack deadline; `types` only matters on a topic that
 *   carries several types: valid events of the topic's other types are acked unseen (and excluded server-side by
 *   typesFilter); everything else is read, so nothing is dropped without a reason.
 * - handling: the message is decoded with the producer contract (shared/events/binding.ts) and validated with the
 *   catalog; success → ack; invalid message or permanent error →
 *   publish to the dead-letter topic with the `ctloop-error-reason` attributes, then ack; transient error → nack,
 *   so Pub/Sub redelivers after the retry policy's backoff; on the last attempt (deliveryAttempt =
 *   maxDeliveryAttempts) the message is dead-lettered here with the reason instead of nacked. Pub/Sub's own
 *   dead-letter policy stays as the safety net for consumers that crash or miss the ack deadline. If publishing
 *   to the dead-letter topic fails, the message is nacked, never dropped.
 * - drain() is best-effort: Pub/Sub cannot say whether a topic is empty. It resolves once no handler is running,
 *   no publish is pending, every message this process nacked has come back, and nothing was received for
 *   `drainQuietMs`. A message nacked here and redelivered to another process keeps drain() waiting until timeout.
 */
export class PubsubEventBus implements EventBus, DeadLetterReader {
  readonly client: PubSub;
  private readonly retry: RetryPolicy;
  private readonly ackDeadlineSeconds: number;
  private readonly maxConcurrent: number;
  private readonly closeTimeoutMs: number;
  private readonly quietMs: number;
  private readonly where: string;
  private readonly onError: (err: unknown, context: string) => void;
  private readonly topics = new Map<string, Topic>();
  private readonly created = new Map<string, Promise<void>>();
  private readonly subscriptions = new Set<{ close(): Promise<void> }>();
  private readonly awaitingRedelivery = new Map<PsSubscription, Set<string>>();
  private inFlight = 0;
  private pendingPublishes = 0;
  private lastActivity = Date.now();

  constructor(opts: PubsubEventBusOptions) {
    this.retry = checkRetryPolicy({ ...defaultRetryPolicy, ...opts.retry });
    this.ackDeadlineSeconds = opts.ackDeadlineSeconds ?? 60;
    this.maxConcurrent = opts.maxConcurrent ?? 10;
    this.closeTimeoutMs = opts.closeTimeoutMs ?? 60_000;
    if (!Number.isInteger(this.maxConcurrent) || this.maxConcurrent < 1) {
      throw new ConfigError(`maxConcurrent must be a positive integer, got ${this.maxConcurrent}`, { hint: 'e.g. 10' });
    }
    this.quietMs = opts.drainQuietMs ?? 1000;
    this.where = opts.emulatorHost ?? 'pubsub.googleapis.com';
    this.onError = opts.onError ?? ((err, context) => console.error(`[event-bus] ${context}: ${describeError(err)}`));
    if (opts.emulatorHost !== undefined && !/^[^:/]+:\d+$/.test(opts.emulatorHost)) {
      throw new ConfigError(`emulatorHost must be host:port, got ${JSON.stringify(opts.emulatorHost)}`, { hint: 'e.g. PUBSUB_EMULATOR_HOST=127.0.0.1:8085' });
    }
    this.client = new PubSub({
      projectId: opts.project,
      ...(opts.emulatorHost ? { apiEndpoint: opts.emulatorHost, emulatorMode: true } : {}),
    });
  }

  async publish(topic: string, event: Envelope, attributes: Record<string, string> = {}): Promise<string> {
    // Not validated here: consumers validate every payload and dead-letter what is invalid (see memory bus).
    return this.publishRaw(checkResourceId('topic', topic), encodeEnvelope(event), envelopeAttributes(event, attributes));
  }

  async subscribe(spec: SubscriptionSpec, handler: Handler): Promise<Subscription> {
    const retry = checkRetryPolicy({ ...this.retry, ...spec.retry });
    const types = spec.types ? new Set(spec.types) : undefined;
    const topic = checkResourceId('topic', spec.topic);
    return this.openSubscription(spec.name, topic, { retry, deadLetter: true, ...(spec.types ? { types: spec.types } : {}) }, async (m, delivery, settle, retryLater) => {
      let event: Envelope;
      try {
        // The producer contract (shared/events/binding.ts): CloudEvents binary mode, envelope or data-only.
        event = eventFromMessage({ data: m.data, attributes: m.attributes, messageId: m.id, publishTime: m.publishTime.toISOString() }, { topic }).event;
      } catch (err) {
        return this.deadLetter(m, topic, delivery, describeError(err), settle, retryLater);
      }
      // A valid event of another type the topic carries belongs to a sibling subscription (see typesFilter).
      if (types && !types.has(event.type)) return settle.ack();
      try {
        await handler(event, delivery);
        settle.ack();
      } catch (err) {
        if (isPermanent(err)) return this.deadLetter(m, topic, delivery, describeError(err), settle, retryLater);
        if (delivery.attempt >= retry.maxDeliveryAttempts) {
          return this.deadLetter(m, topic, delivery, `failed ${delivery.attempt} delivery attempts; last error: ${describeError(err)}`, settle, retryLater);
        }
        retryLater();
      }
    });
  }

  async subscribeDeadLetters(spec: { name: string; topic: string }, handler: DeadLetterHandler): Promise<Subscription> {
    const dlt = deadLetterTopic(checkResourceId('topic', spec.topic));
    return this.openSubscription(spec.name, dlt, { retry: this.retry, deadLetter: false }, async (m, delivery, settle, retryLater) => {
      try {
        await handler(toDeadLetter(m.data, m.attributes, m.publishTime), delivery);
        settle.ack();
      } catch (err) {
        this.onError(err, `dead-letter handler of ${spec.name} failed; the message will be redelivered`);
        retryLater();
      }
    });
  }

  async drain(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const waitingFor = this.inFlight + this.pendingPublishes + [...this.awaitingRedelivery.values()].reduce((n, s) => n + s.size, 0);
      if (waitingFor === 0 && Date.now() - this.lastActivity >= this.quietMs) return;
      if (Date.now() >= deadline) {
        throw new TransientError(`Pub/Sub bus did not drain within ${timeoutMs} ms (${waitingFor} message(s) in flight or awaiting redelivery)`, {
          hint: 'a handler is slow or keeps failing with long backoffs; raise the timeout or check the handler',
          details: { inFlight: this.inFlight, pendingPublishes: this.pendingPublishes },
        });
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Closes every subscription (running handlers finish first, see openSubscription) and the client. */
  async close(): Promise<void> {
    const results = await Promise.allSettled([...this.subscriptions].map((s) => s.close()));
    this.subscriptions.clear();
    this.awaitingRedelivery.clear();
    await this.client.close();
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private async openSubscription(
    name: string,
    topic: string,
    settings: { retry: RetryPolicy; deadLetter: boolean; types?: string[] },
    onMessage: RawHandler,
  ): Promise<Subscription> {
    checkResourceId('subscription', name);
    try {
      await this.ensureOnce(`topology:${topic}`, () => ensureTopicWithDeadLetter(this.client, topic));
      await ensureSubscription(this.client, {
        topic, name, project: this.client.projectId, ackDeadlineSeconds: this.ackDeadlineSeconds, ...settings,
      });
    } catch (err) {
      throw toBusError(err, `creating subscription ${name} on ${topic}`, this.where);
    }
    const sub = this.client.subscription(name, {
      // Client flow control is per stream (nodejs-pubsub#1996): one stream, and the dispatcher below is the bound.
      flowControl: { maxMessages: this.maxConcurrent, allowExcessMessages: false },
      streamingOptions: { maxStreams: 1 },
      // The client extends the lease of slow handlers; cap it at the function timeout scale.
      maxExtensionTime: Duration.from({ minutes: 10 }),
      // v5's default close nacks messages already dispatched to handlers: let running handlers finish and settle.
      closeOptions: { behavior: SubscriptionCloseBehaviors.WaitForProcessing, timeout: Duration.from({ milliseconds: this.closeTimeoutMs }) },
    });
    const nacked = new Set<string>();
    this.awaitingRedelivery.set(sub, nacked);
    const localAttempts = new Map<string, number>();
    const dispatcher = new MessageDispatcher<Message>(this.maxConcurrent, async (m, settle) => {
      // deliveryAttempt is set by Pub/Sub when the subscription has a dead-letter policy; count locally otherwise.
      const local = (localAttempts.get(m.id) ?? 0) + 1;
      localAttempts.set(m.id, local);
      const delivery: Delivery = { attempt: m.deliveryAttempt > 0 ? m.deliveryAttempt : local, messageId: m.id, subscription: name, attributes: { ...m.attributes } };
      const retryLater = () => {
        nacked.add(m.id);
        settle.nack();
      };
      this.inFlight++;
      try {
        await onMessage(m, delivery, settle, retryLater);
      } catch (err) {
        this.onError(err, `subscription ${name}: message ${m.id} could not be settled; nacking it`);
        retryLater();
      } finally {
        if (!nacked.has(m.id)) localAttempts.delete(m.id);
        this.inFlight--;
        this.lastActivity = Date.now();
      }
    });
    sub.on('message', (m: Message) => {
      this.lastActivity = Date.now();
      nacked.delete(m.id);
      dispatcher.push(m);
    });
    sub.on('error', (err) => this.onError(toBusError(err, `streaming pull on ${name}`, this.where), `subscription ${name}`));
    const handle = {
      close: async () => {
        this.subscriptions.delete(handle);
        this.awaitingRedelivery.delete(sub);
        const [finished] = await Promise.all([dispatcher.close(this.closeTimeoutMs), sub.close()]);
        if (!finished) {
          throw new TransientError(`subscription ${name}: ${dispatcher.active} handler(s) still running ${this.closeTimeoutMs} ms after close`, {
            hint: 'their messages were nacked and will be redelivered; raise closeTimeoutMs or look for a stuck handler',
            details: { subscription: name, running: dispatcher.active },
          });
        }
      },
    };
    this.subscriptions.add(handle);
    return handle;
  }

  private async deadLetter(m: Message, topic: string, delivery: Delivery, reason: string, settle: Settle, retryLater: () => void): Promise<void> {
    try {
      const dl = deadLetterMessage(m.data, m.attributes, {
        topic, subscription: delivery.subscription, attempts: delivery.attempt, reason, time: new Date(), messageId: m.id, publishTime: m.publishTime,
      });
      await this.publishRaw(deadLetterTopic(topic), dl.data, dl.attributes);
      settle.ack();
    } catch (err) {
      this.onError(err, `subscription ${delivery.subscription}: dead-lettering message ${m.id} failed; nacking it`);
      retryLater();
    }
  }

  /** Publish a message as any producer would (data and attributes as given); checked against Pub/Sub's limits. */
  async publishMessage(topic: string, data: Buffer, attributes: Record<string, string> = {}): Promise<string> {
    return this.publishRaw(checkResourceId('topic', topic), data, attributes);
  }

  private async publishRaw(topic: string, data: Buffer, attributes: Record<string, string>): Promise<string> {
    checkPublishLimits(topic, data, attributes); // the emulator enforces no limits; Pub/Sub would refuse the batch
    this.pendingPublishes++;
    try {
      try {
        return await this.topic(topic).publishMessage({ data, attributes });
      } catch (err) {
        if (!isNotFound(err)) throw err;
        await this.ensureOnce(`topic:${topic}`, () => ensureTopic(this.client, topic));
        return await this.topic(topic).publishMessage({ data, attributes });
      }
    } catch (err) {
      throw toBusError(err, `publishing to ${topic}`, this.where);
    } finally {
      this.pendingPublishes--;
      this.lastActivity = Date.now();
    }
  }

  private topic(name: string): Topic {
    let t = this.topics.get(name);
    if (!t) {
      t = this.client.topic(name);
      this.topics.set(name, t);
    }
    return t;
  }

  private ensureOnce(key: string, make: () => Promise<void>): Promise<void> {
    let p = this.created.get(key);
    if (!p) {
      p = make().catch((err) => {
        this.created.delete(key);
        throw err;
      });
      this.created.set(key, p);
    }
    return p;
  }
}
