import { parseEvent } from '../../events/catalog.js';
import type { Envelope } from '../../events/envelope.js';
import { ValidationError } from '../../errors.js';
import type { DeadLetter } from '../../ports/event-bus.js';

/**
 * Message attributes and payload encoding shared by both bus adapters, so a message looks the same in memory and
 * on Pub/Sub: data = the JSON envelope (UTF-8), attributes = `type`, `correlationId`, `causationId` (omitted for a
 * root event), `ctloop-event-id`, plus the publisher's own. Dead-lettered messages keep their data and attributes
 * and gain the `ctloop-*` reason attributes below.
 */
export const ATTR = {
  eventId: 'ctloop-event-id',
  reason: 'ctloop-error-reason',
  sourceSubscription: 'ctloop-source-subscription',
  sourceTopic: 'ctloop-source-topic',
  attempts: 'ctloop-delivery-attempts',
  deadLetteredAt: 'ctloop-dead-lettered-at',
} as const;

/** Attributes Pub/Sub itself adds when its dead-letter policy forwards a message (server-side dead-lettering). */
const PUBSUB_DL_SUBSCRIPTION = 'CloudPubSubDeadLetterSourceSubscription';
const PUBSUB_DL_COUNT = 'CloudPubSubDeadLetterSourceDeliveryCount';

/** Pub/Sub limits attribute values to 1024 bytes. */
const MAX_ATTRIBUTE_BYTES = 1024;

export function encodeEnvelope(event: Envelope): Buffer {
  return Buffer.from(JSON.stringify(event), 'utf8');
}

export function envelopeAttributes(event: Envelope, extra: Record<string, string> = {}): Record<string, string> {
  // The publisher's own attributes cannot override the envelope's: consumers and filters rely on them.
  const attrs: Record<string, string> = { ...extra };
  // The event may be anything at runtime (a bug upstream); only string fields become attributes.
  const e = event as Partial<Record<keyof Envelope, unknown>>;
  if (typeof e.type === 'string') attrs.type = e.type;
  if (typeof e.correlationId === 'string') attrs.correlationId = e.correlationId;
  if (typeof e.causationId === 'string') attrs.causationId = e.causationId;
  if (typeof e.id === 'string') attrs[ATTR.eventId] = e.id;
  return attrs;
}

/** Decode and validate a payload against the catalog. Throws ValidationError (permanent) with the reason. */
export function decodeEnvelope(data: Buffer | string): Envelope {
  const text = typeof data === 'string' ? data : data.toString('utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`message data is not JSON: ${(err as Error).message}`, {
      hint: 'publish the event envelope as JSON (see shared/events/envelope.ts)',
    });
  }
  return parseEvent(raw).event;
}

export function truncateAttribute(value: string): string {
  const buf = Buffer.from(value, 'utf8');
  if (buf.length <= MAX_ATTRIBUTE_BYTES) return value;
  // Cut on a character boundary: decoding a cut buffer may end with U+FFFD (3 bytes), so leave room for it.
  return `${buf.subarray(0, MAX_ATTRIBUTE_BYTES - 6).toString('utf8').replace(/\uFFFD$/, '')}…`;
}

export interface DeadLetterInfo {
  topic: string;
  subscription: string;
  attempts: number;
  reason: string;
  time: Date;
}

export function deadLetterAttributes(original: Record<string, string>, info: DeadLetterInfo): Record<string, string> {
  return {
    ...original,
    [ATTR.reason]: truncateAttribute(info.reason),
    [ATTR.sourceSubscription]: info.subscription,
    [ATTR.sourceTopic]: info.topic,
    [ATTR.attempts]: String(info.attempts),
    [ATTR.deadLetteredAt]: info.time.toISOString(),
  };
}

/** The payload as JSON when it is JSON, else as text. */
export function decodeLoosely(data: Buffer | string): unknown {
  const text = typeof data === 'string' ? data : data.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * A message read from a dead-letter topic. Messages dead-lettered by ctloop carry the `ctloop-*` attributes; ones
 * forwarded by Pub/Sub's own dead-letter policy (e.g. a consumer that crashed on every attempt) carry only
 * Pub/Sub's source attributes, and their reason says so.
 */
export function toDeadLetter(data: Buffer | string, attributes: Record<string, string>, publishTime: Date): DeadLetter {
  const reason =
    attributes[ATTR.reason] ??
    (attributes[PUBSUB_DL_COUNT]
      ? 'Pub/Sub dead-letter policy: the message was not acknowledged within its delivery attempts (handler crash or ack deadline exceeded)'
      : 'unknown (message published directly to the dead-letter topic)');
  const attempts = Number(attributes[ATTR.attempts] ?? attributes[PUBSUB_DL_COUNT] ?? 0);
  const subscription = attributes[ATTR.sourceSubscription] ?? lastPathSegment(attributes[PUBSUB_DL_SUBSCRIPTION]) ?? '';
  return {
    event: decodeLoosely(data),
    reason,
    subscription,
    attempts: Number.isFinite(attempts) ? attempts : 0,
    time: attributes[ATTR.deadLetteredAt] ?? publishTime.toISOString(),
  };
}

function lastPathSegment(name: string | undefined): string | undefined {
  return name === undefined ? undefined : name.slice(name.lastIndexOf('/') + 1);
}
