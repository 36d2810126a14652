import type { Envelope } from '../events/envelope.js';

/**
 * Event bus port. Adapters: in-process (embedded) and Pub/Sub. Semantics are Pub/Sub's: at-least-once delivery,
 * redelivery with exponential backoff when a handler throws, and after `maxDeliveryAttempts` the message goes to
 * the subscription's dead-letter topic. Handlers must therefore be idempotent.
 */
export interface Delivery {
  /** 1 on first delivery, then 2, 3, … */
  attempt: number;
  messageId: string;
  subscription: string;
  attributes: Record<string, string>;
}

/** Throw a permanent CtloopError to dead-letter at once; any other throw is retried. */
export type Handler = (event: Envelope, delivery: Delivery) => Promise<void>;

export interface RetryPolicy {
  minBackoffMs: number;
  maxBackoffMs: number;
  maxDeliveryAttempts: number;
}

export interface SubscriptionSpec {
  name: string;
  topic: string;
  /**
   * Only for a topic that carries several types: valid events of the topic's other types are not delivered (they
   * belong to another subscription). Anything else — a message that does not say its type, an invalid one — is
   * still read and dead-lettered with its reason, never skipped.
   */
  types?: string[];
  retry?: Partial<RetryPolicy>;
}

export interface Subscription {
  close(): Promise<void>;
}

export interface DeadLetter {
  event: unknown;
  reason: string;
  subscription: string;
  attempts: number;
  time: string;
}

export interface EventBus {
  /** Publish one event to a topic; resolves with the message id once the bus has accepted it. */
  publish(topic: string, event: Envelope, attributes?: Record<string, string>): Promise<string>;
  subscribe(spec: SubscriptionSpec, handler: Handler): Promise<Subscription>;
  /** Resolve when every published message has been handled or dead-lettered (tests, CLI, graceful shutdown). */
  drain(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export const defaultRetryPolicy: RetryPolicy = { minBackoffMs: 10, maxBackoffMs: 600_000, maxDeliveryAttempts: 5 };

export type DeadLetterHandler = (deadLetter: DeadLetter, delivery: Delivery) => Promise<void>;

/**
 * Read what a topic's subscriptions dead-lettered (the messages on `deadLetterTopic(topic)`), as raw payloads with
 * their reason — an invalid envelope must be readable too. Both bus adapters implement it.
 */
export interface DeadLetterReader {
  subscribeDeadLetters(spec: { name: string; topic: string }, handler: DeadLetterHandler): Promise<Subscription>;
}
