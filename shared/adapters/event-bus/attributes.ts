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
  /** Set on a dead letter when some of the message's own attributes had to be dropped to stay within the limits. */
  droppedAttributes: 'ctloop-dropped-attributes',
  /** The dead-lettered message's own id and publish time: replay rebuilds the same event id from them. */
  sourceMessageId: 'ctloop-source-message-id',
  sourcePublishTime: 'ctloop-source-publish-time',
  /** Set on a dead letter whose data had to be cut to fit Pub/Sub's 10 MB: how large it was. */
  truncated: 'ctloop-truncated',
} as const;

/** How much of an oversized message a dead letter keeps (the reason says how large it was). */
export const TRUNCATED_KEEP_BYTES = 64 * 1024;

/** Attributes Pub/Sub itself adds when its dead-letter policy forwards a message (server-side dead-lettering). */
const PUBSUB_DL_SUBSCRIPTION = 'CloudPubSubDeadLetterSourceSubscription';
const PUBSUB_DL_COUNT = 'CloudPubSubDeadLetterSourceDeliveryCount';

/**
 * Pub/Sub's per-message limits (https://cloud.google.com/pubsub/quotas#resource_limits): at most 100 attributes,
 * keys up to 256 bytes, values up to 1024 bytes, 10 MB per message (data and attributes). The emulator enforces
 * none of them, so both adapters check them before sending.
 */
export const PUBSUB_LIMITS = { attributes: 100, keyBytes: 256, valueBytes: 1024, messageBytes: 10_000_000 } as const;
const MAX_ATTRIBUTE_BYTES = PUBSUB_LIMITS.valueBytes;

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
const attributeBytes = (attrs: Record<string, string>) => Object.entries(attrs).reduce((n, [k, v]) => n + bytes(k) + bytes(v), 0);

/**
 * Throws a ValidationError when a message would exceed Pub/Sub's limits (checked before sending). `data` is the
 * message's bytes, or text standing for its UTF-8 bytes. Runs for every published event: no allocation unless it fails.
 */
export function checkPublishLimits(topic: string, data: Buffer | string, attributes: Record<string, string>): void {
  let count = 0;
  let attrBytes = 0;
  for (const k in attributes) {
    const v = attributes[k] as unknown;
    count++;
    const kb = bytes(k);
    if (k === '' || kb > PUBSUB_LIMITS.keyBytes) failPublish(topic, `attribute key ${JSON.stringify(k.slice(0, 40))}${k.length > 40 ? '…' : ''} is ${kb} bytes; keys must be 1 to 256 bytes`, 'use a shorter attribute name');
    if (typeof v !== 'string') failPublish(topic, `attribute ${k} is not a string`, 'attribute values are strings');
    const vb = bytes(v);
    if (vb > PUBSUB_LIMITS.valueBytes) failPublish(topic, `attribute ${k} is ${vb} bytes; values may be at most 1024 bytes`, 'move long values into the event data');
    attrBytes += kb + vb;
  }
  if (count > PUBSUB_LIMITS.attributes) {
    failPublish(topic, `${count} attributes, Pub/Sub allows ${PUBSUB_LIMITS.attributes} (ctloop adds up to 4: type, correlationId, causationId, ${ATTR.eventId})`, 'move the extra attributes into the event data');
  }
  const dataBytes = typeof data === 'string' ? bytes(data) : data.length;
  const total = dataBytes + attrBytes;
  if (total > PUBSUB_LIMITS.messageBytes) {
    failPublish(topic, `the message is ${total} bytes (data ${dataBytes}); Pub/Sub allows 10 MB`, 'publish a reference (e.g. a gs:// URI) to large payloads instead of the payload');
  }
}

function failPublish(topic: string, what: string, hint: string): never {
  throw new ValidationError(`cannot publish to ${topic}: ${what}`, { hint, details: { topic, limits: PUBSUB_LIMITS } });
}

/** The message data of an event: its envelope as JSON (as UTF-8 bytes on the wire; `encodeEnvelope`). */
export function encodeEnvelopeText(event: Envelope): string {
  return JSON.stringify(event);
}

export function encodeEnvelope(event: Envelope): Buffer {
  return Buffer.from(encodeEnvelopeText(event), 'utf8');
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
  /** The message's own id and publish time (kept so a replay rebuilds the same event id). */
  messageId?: string;
  publishTime?: Date;
}

/**
 * Data and attributes of the dead letter of a message: the data as it was, unless the message is larger than
 * Pub/Sub allows (possible on the emulator only) — then its first TRUNCATED_KEEP_BYTES, marked `ctloop-truncated`,
 * so the dead letter itself can be published and the reason is never lost.
 */
export function deadLetterMessage(data: Buffer, original: Record<string, string>, info: DeadLetterInfo): { data: Buffer; attributes: Record<string, string> } {
  if (data.length + attributeBytes(original) + 4096 <= PUBSUB_LIMITS.messageBytes) {
    return { data, attributes: deadLetterAttributes(original, info, data.length) };
  }
  const kept = data.subarray(0, TRUNCATED_KEEP_BYTES);
  const attributes = deadLetterAttributes(original, info, kept.length);
  attributes[ATTR.truncated] = `${data.length} bytes; the first ${kept.length} kept`;
  return { data: kept, attributes };
}

/** The message's own attributes a dead letter keeps first (consumers and filters rely on them). */
const KEEP_FIRST = ['type', 'correlationId', 'causationId', ATTR.eventId];

/**
 * The attributes of a dead letter: the `ctloop-*` reason attributes, plus as many of the message's own as fit in
 * Pub/Sub's limits (count and, with `dataBytes`, size) — `type` and the envelope ids first. When some must be
 * dropped, `ctloop-dropped-attributes` says how many and which (the message data, where the event is, is kept).
 */
export function deadLetterAttributes(original: Record<string, string>, info: DeadLetterInfo, dataBytes = 0): Record<string, string> {
  const reasons: Record<string, string> = {
    [ATTR.reason]: truncateAttribute(info.reason),
    [ATTR.sourceSubscription]: truncateAttribute(info.subscription),
    [ATTR.sourceTopic]: truncateAttribute(info.topic),
    [ATTR.attempts]: String(info.attempts),
    [ATTR.deadLetteredAt]: info.time.toISOString(),
    ...(info.messageId ? { [ATTR.sourceMessageId]: truncateAttribute(info.messageId) } : {}),
    ...(info.publishTime ? { [ATTR.sourcePublishTime]: info.publishTime.toISOString() } : {}),
  };
  const own = Object.entries(original).filter(([k]) => !(k in reasons) && k !== ATTR.droppedAttributes);
  own.sort(([a], [b]) => rank(a) - rank(b));
  const droppedNoteReserve = bytes(ATTR.droppedAttributes) + MAX_ATTRIBUTE_BYTES + bytes(ATTR.truncated) + 64;
  let room = PUBSUB_LIMITS.messageBytes - dataBytes - attributeBytes(reasons) - droppedNoteReserve;
  const slots = PUBSUB_LIMITS.attributes - Object.keys(reasons).length - 2; // slots for the dropped and truncated notes
  const kept: Record<string, string> = {};
  const dropped: string[] = [];
  for (const [k, v] of own) {
    const size = bytes(k) + bytes(v);
    if (Object.keys(kept).length < slots && size <= room) {
      kept[k] = v;
      room -= size;
    } else dropped.push(k);
  }
  if (dropped.length === 0) {
    return { ...kept, ...reasons };
  }
  return { ...kept, ...reasons, [ATTR.droppedAttributes]: truncateAttribute(`${dropped.length} attribute(s) dropped to fit Pub/Sub limits: ${dropped.join(', ')}`) };
}

function rank(key: string): number {
  const i = KEEP_FIRST.indexOf(key);
  return i < 0 ? KEEP_FIRST.length : i;
}

/** A dead letter's attributes without those added by dead-lettering (ctloop's and Pub/Sub's): what the producer sent. */
export function originalAttributes(attributes: Record<string, string>): Record<string, string> {
  const added = new Set<string>(Object.values(ATTR));
  return Object.fromEntries(Object.entries(attributes).filter(([k]) => !added.has(k) && !k.startsWith('CloudPubSubDeadLetterSource')));
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
