import type { PubSub } from '@google-cloud/pubsub';
import { BackendError, ConfigError, TransientError, CtloopError } from '../../../errors.js';
import { catalog, deadLetterTopic } from '../../../events/catalog.js';
import { eventsOfTopic } from '../../../events/binding.js';
import type { RetryPolicy } from '../../../ports/event-bus.js';

/**
 * Creating topics and subscriptions idempotently. On GCP, Terraform creates them (`ctloop infra gen`); these calls
 * then find them and change nothing. Against the emulator they build the topology on first use.
 */

const GRPC = { NOT_FOUND: 5, ALREADY_EXISTS: 6, PERMISSION_DENIED: 7, INVALID_ARGUMENT: 3, FAILED_PRECONDITION: 9 } as const;

export function grpcCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Turn a client error into a typed one: refusals are permanent, the rest (unavailable, timeouts) transient. */
export function toBusError(err: unknown, action: string, where: string): CtloopError {
  if (err instanceof CtloopError) return err;
  const message = `Pub/Sub ${action} failed: ${(err as Error)?.message ?? String(err)}`;
  const code = grpcCode(err);
  if (code === GRPC.PERMISSION_DENIED) {
    // Retried (bounded by maxDeliveryAttempts): a role granted a moment ago takes minutes to apply
    // (https://cloud.google.com/iam/docs/access-change-propagation).
    return new TransientError(message, {
      hint: 'grant the service account roles/pubsub.editor, or create the topology with terraform; if it was just granted, IAM changes take minutes to propagate and the call is retried',
      details: { grpcCode: code }, cause: err,
    });
  }
  if (code === GRPC.INVALID_ARGUMENT || code === GRPC.FAILED_PRECONDITION) {
    return new BackendError(message, { hint: 'check topic/subscription names and the retry/dead-letter settings', cause: err });
  }
  return new TransientError(message, {
    hint: `check that Pub/Sub is reachable at ${where} (for the emulator: emulators/start.sh and PUBSUB_EMULATOR_HOST)`,
    cause: err,
  });
}

export function isNotFound(err: unknown): boolean {
  return grpcCode(err) === GRPC.NOT_FOUND;
}

export function topicPath(project: string, topic: string): string {
  return `projects/${project}/topics/${topic}`;
}

/** Pub/Sub accepts backoffs of 0–600 s and 5–100 delivery attempts. */
export function checkRetryPolicy(p: RetryPolicy): RetryPolicy {
  const bad = (what: string) =>
    new ConfigError(`invalid Pub/Sub retry policy: ${what}`, {
      hint: 'CTLOOP_MAX_DELIVERY_ATTEMPTS must be 5..100, CTLOOP_MIN_BACKOFF_MS ≤ CTLOOP_MAX_BACKOFF_MS ≤ 600000',
      details: { ...p },
    });
  if (!Number.isInteger(p.maxDeliveryAttempts) || p.maxDeliveryAttempts < 5 || p.maxDeliveryAttempts > 100) {
    throw bad(`maxDeliveryAttempts=${p.maxDeliveryAttempts}`);
  }
  if (!(p.minBackoffMs >= 0 && p.minBackoffMs <= p.maxBackoffMs && p.maxBackoffMs <= 600_000)) {
    throw bad(`minBackoffMs=${p.minBackoffMs}, maxBackoffMs=${p.maxBackoffMs}`);
  }
  return p;
}

export function duration(ms: number): { seconds: number; nanos: number } {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

/**
 * Server-side filter of a subscription that takes only `types`: it excludes the other types the topic carries
 * (`carried`, from the catalog)
 * (`NOT attributes.type = "…"`), never "only these types" — a message that does not say its type, or says one
 * the topic does not carry, must reach the subscription so it is read by its body and dead-lettered with a reason
 * if invalid (a positive filter would ack it unseen on GCP). Empty when nothing is excluded (a topic that carries
 * one type: no filter at all) or the filter would pass Pub/Sub's 256-byte limit (the client skips them anyway).
 */
export function typesFilter(carried: string[], types: string[] | undefined): string {
  if (!types || types.length === 0) return '';
  const others = carried.filter((t) => !types.includes(t));
  if (others.length === 0) return '';
  const filter = others.map((t) => `NOT attributes.type = ${JSON.stringify(t)}`).join(' AND ');
  return Buffer.byteLength(filter) <= 256 ? filter : '';
}

export async function ensureTopic(pubsub: PubSub, topic: string): Promise<void> {
  try {
    await pubsub.createTopic(topic);
  } catch (err) {
    if (grpcCode(err) !== GRPC.ALREADY_EXISTS) throw err;
  }
}

export interface SubscriptionSettings {
  topic: string;
  name: string;
  project: string;
  retry: RetryPolicy;
  ackDeadlineSeconds: number;
  types?: string[];
  /** Dead-letter settings; omitted for subscriptions that read a dead-letter topic. */
  deadLetter: boolean;
}

/**
 * Ensure a subscription exists with the dead-letter and retry policies. An existing subscription is left as it is
 * (Terraform owns it on GCP); a filter cannot be changed after creation anyway.
 */
export async function ensureSubscription(pubsub: PubSub, s: SubscriptionSettings): Promise<void> {
  const retryPolicy = { minimumBackoff: duration(s.retry.minBackoffMs), maximumBackoff: duration(s.retry.maxBackoffMs) };
  try {
    await pubsub.createSubscription(s.topic, s.name, {
      ackDeadlineSeconds: s.ackDeadlineSeconds,
      retryPolicy,
      filter: typesFilter(eventsOfTopic(s.topic).map((n) => catalog[n].type), s.types),
      ...(s.deadLetter
        ? { deadLetterPolicy: { deadLetterTopic: topicPath(s.project, deadLetterTopic(s.topic)), maxDeliveryAttempts: s.retry.maxDeliveryAttempts } }
        : {}),
    });
  } catch (err) {
    if (grpcCode(err) !== GRPC.ALREADY_EXISTS) throw err;
  }
}

/**
 * Name of the subscription that keeps a dead-letter topic's messages (a topic without subscriptions drops them):
 * `<topic>-dead-letter-hold`, the name Terraform gives it (infra/modules/event_topic), so `ctloop dead-letters`
 * reads the same subscription in emulators and gcp modes.
 */
export function holdSubscription(topic: string): string {
  return `${deadLetterTopic(topic)}-hold`;
}

/**
 * Retention of the hold subscription when this adapter creates it (the emulator; on GCP Terraform creates it with
 * `dead_letter_retention`, up to 31 days): Pub/Sub emulator 0.8.20 refuses more than 7 days ("message_retention_duration
 * out of bounds"). Dead letters filed by `ctloop run` stay in the object store for good.
 */
export const HOLD_RETENTION_SECONDS = 7 * 24 * 3600;

/** Topic, dead-letter topic, and the hold subscription on the dead-letter topic (7 days, never expires). */
export async function ensureTopicWithDeadLetter(pubsub: PubSub, topic: string): Promise<void> {
  const dlt = deadLetterTopic(topic);
  await Promise.all([ensureTopic(pubsub, topic), ensureTopic(pubsub, dlt)]);
  try {
    await pubsub.createSubscription(dlt, holdSubscription(topic), {
      ackDeadlineSeconds: 60, messageRetentionDuration: { seconds: HOLD_RETENTION_SECONDS }, expirationPolicy: {},
    });
  } catch (err) {
    if (grpcCode(err) !== GRPC.ALREADY_EXISTS) throw err;
  }
}
