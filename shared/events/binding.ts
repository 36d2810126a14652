import { ValidationError } from '../errors.js';
import { envelopeFromDataOnlyMessage, isDataOnlyMessage } from '../topology/scheduler-message.js';
import { catalog, eventNameOfType, eventNames, parseEvent, type EventName } from './catalog.js';
import type { Envelope } from './envelope.js';

/**
 * The producer contract: how a Pub/Sub message becomes a ctloop event, the same on every path (push to a function,
 * the pull bus adapter, embedded). Three forms are accepted:
 *
 * - **cloudevents** — the CloudEvents Pub/Sub protocol binding (https://github.com/cloudevents/spec,
 *   pubsub-protocol-binding.md), binary content mode: attributes `ce-specversion` (1.0), `ce-type`, `ce-source`,
 *   `ce-id` (optional: the Pub/Sub message id otherwise), `ce-time` (optional: the publish time otherwise), the
 *   extensions `ce-correlationid` and `ce-causationid`, and `content-type` / `ce-datacontenttype` (JSON only);
 *   message data = the event's data. The structured mode (`content-type: application/cloudevents+json`, the whole
 *   CloudEvent as JSON in the data) is read too.
 * - **envelope** — the full ctloop envelope as JSON (what ctloop itself publishes); attributes are optional.
 * - **data-only** — attributes `type` and `ctloop-body=data`, data = the event's data (what Cloud Scheduler jobs
 *   send, shared/topology/scheduler-message.ts); id = the Pub/Sub message id, time = the publish time.
 *
 * The event id is `ce-id` / the envelope id, else the Pub/Sub message id, so a redelivered message keeps its id and
 * idempotent consumers give it exactly-once effect. A message whose attributes do not say its type is read by its
 * body. Anything that is not a valid event of the topic throws a ValidationError naming the reason: callers
 * dead-letter it, never drop it.
 */
export type MessageForm = 'cloudevents' | 'envelope' | 'data-only';

export interface PubsubMessageIn {
  data: Buffer;
  attributes: Record<string, string>;
  messageId: string;
  /** RFC 3339. */
  publishTime: string;
  /**
   * The data already as text, when the message's bytes are known to be this string's UTF-8 (the embedded bus keeps
   * an envelope it encoded as its JSON text): read instead of decoding `data`, which is then never touched.
   */
  text?: string;
}

export interface DecodedEvent {
  form: MessageForm;
  name: EventName;
  event: Envelope;
}

/** Pub/Sub's message size limit (data and attributes): https://cloud.google.com/pubsub/quotas#resource_limits. */
export const MAX_MESSAGE_BYTES = 10_000_000;

export const CE = {
  specversion: 'ce-specversion',
  type: 'ce-type',
  source: 'ce-source',
  id: 'ce-id',
  time: 'ce-time',
  correlationId: 'ce-correlationid',
  causationId: 'ce-causationid',
  dataContentType: 'ce-datacontenttype',
} as const;

const HINT = 'publish one of the forms in README.md "Publishing events": CloudEvents binary mode (ce-* attributes, data = the event data), the ctloop envelope as JSON, or data with attributes type and ctloop-body=data';

/** The catalogued events a topic carries (all of them for a topic that is not in the catalog, e.g. a test topic). */
export function eventsOfTopic(topic: string | undefined): EventName[] {
  return [...carriedBy(topic)];
}

const byTopic = new Map<string | undefined, readonly EventName[]>();

/** `eventsOfTopic` without the copy, remembered per topic (read for every message). */
function carriedBy(topic: string | undefined): readonly EventName[] {
  let on = byTopic.get(topic);
  if (!on) {
    const of = eventNames.filter((n) => catalog[n].topic === topic);
    on = of.length > 0 ? of : [...eventNames];
    if (byTopic.size < 1000) byTopic.set(topic, on);
  }
  return on;
}

/** Attribute lookup ignoring case (the binding says attribute names are case-insensitive). */
function attr(attributes: Record<string, string>, name: string): string | undefined {
  if (name in attributes) return attributes[name];
  const lower = name.toLowerCase();
  // No array of entries, and only names of the same length are lowered: this runs for every message, several times.
  for (const k in attributes) if (k.length === name.length && k.toLowerCase() === lower) return attributes[k];
  return undefined;
}

/** The type a message declares in its attributes (ce-type or type), or undefined when it says none. */
export function declaredType(attributes: Record<string, string>): string | undefined {
  return attr(attributes, CE.type) ?? attr(attributes, 'type');
}

export function formOf(attributes: Record<string, string>): MessageForm {
  if (isStructured(attributes) || attr(attributes, CE.specversion) !== undefined) return 'cloudevents';
  if (isDataOnlyMessage(attributes)) return 'data-only';
  return 'envelope';
}

function isStructured(attributes: Record<string, string>): boolean {
  return (attr(attributes, 'content-type') ?? '').trim().toLowerCase().startsWith('application/cloudevents');
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function text(msg: PubsubMessageIn): string {
  const known = msg.text;
  let size = known === undefined ? msg.data.length : Buffer.byteLength(known, 'utf8');
  const empty = size === 0;
  for (const k in msg.attributes) size += Buffer.byteLength(k) + Buffer.byteLength(msg.attributes[k]!);
  if (size > MAX_MESSAGE_BYTES) {
    throw new ValidationError(`message ${msg.messageId} is ${size} bytes, more than Pub/Sub's ${MAX_MESSAGE_BYTES}-byte limit`, {
      hint: 'publish a reference to large payloads (a ctloop.feature.file_ready.v1 event with a gs:// URI) instead of the payload',
    });
  }
  if (empty) {
    throw new ValidationError(`message ${msg.messageId} has no data (attributes only: ${Object.keys(msg.attributes).join(', ') || 'none'})`, {
      hint: `the message data carries the event; ${HINT}`,
    });
  }
  if (known !== undefined) return known;
  try {
    return utf8.decode(msg.data);
  } catch {
    const at = firstInvalidUtf8(msg.data);
    throw new ValidationError(`message ${msg.messageId} data is not valid UTF-8 (first bad byte at offset ${at}: 0x${msg.data[at]?.toString(16).padStart(2, '0')})`, {
      hint: 'encode the JSON body as UTF-8',
    });
  }
}

/** Offset of the byte at which the data stops being valid UTF-8. */
function firstInvalidUtf8(buf: Buffer): number {
  const d = new TextDecoder('utf-8', { fatal: true });
  for (let i = 0; i < buf.length; i++) {
    try {
      d.decode(buf.subarray(i, i + 1), { stream: true });
    } catch {
      return i;
    }
  }
  return buf.length - 1; // truncated at the end
}

function json(s: string, what: string, messageId: string): unknown {
  try {
    return JSON.parse(s);
  } catch (err) {
    const shown = s.length > 80 ? `${s.slice(0, 77)}...` : s;
    throw new ValidationError(`message ${messageId}: ${what} is not JSON (${(err as Error).message}): ${JSON.stringify(shown)}`, { hint: HINT });
  }
}

function checkJsonContentType(ct: string | undefined, messageId: string): void {
  if (ct === undefined) return;
  const media = ct.split(';')[0]!.trim().toLowerCase();
  if (media !== 'application/json' && !media.endsWith('+json')) {
    throw new ValidationError(`message ${messageId}: datacontenttype ${JSON.stringify(ct)} is not JSON`, { hint: 'ctloop event data is JSON: set content-type application/json or leave it out' });
  }
}

/** The envelope of a CloudEvents message (binary or structured mode), before catalog validation. */
function cloudEventEnvelope(msg: PubsubMessageIn, body: string): unknown {
  const a = msg.attributes;
  let ce: Record<string, unknown>;
  if (isStructured(a)) {
    const parsed = json(body, 'the structured CloudEvent', msg.messageId);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new ValidationError(`message ${msg.messageId}: a structured CloudEvent must be a JSON object`, { hint: HINT });
    }
    ce = parsed as Record<string, unknown>;
    if ('data_base64' in ce) throw new ValidationError(`message ${msg.messageId}: data_base64 is not accepted`, { hint: 'ctloop event data is JSON: put it in "data"' });
    checkJsonContentType(typeof ce.datacontenttype === 'string' ? ce.datacontenttype : undefined, msg.messageId);
  } else {
    checkJsonContentType(attr(a, 'content-type') ?? attr(a, CE.dataContentType), msg.messageId);
    ce = {
      specversion: attr(a, CE.specversion), type: attr(a, CE.type), source: attr(a, CE.source), id: attr(a, CE.id),
      time: attr(a, CE.time), correlationid: attr(a, CE.correlationId), causationid: attr(a, CE.causationId),
      data: json(body, 'the event data', msg.messageId),
    };
  }
  if (ce.specversion !== '1.0') {
    throw new ValidationError(`message ${msg.messageId}: CloudEvents specversion ${JSON.stringify(ce.specversion ?? null)} is not supported`, { hint: 'set ce-specversion to 1.0' });
  }
  for (const required of ['type', 'source'] as const) {
    if (typeof ce[required] !== 'string' || ce[required] === '') {
      throw new ValidationError(`message ${msg.messageId}: CloudEvent has no ${required} (ce-${required})`, { hint: HINT });
    }
  }
  const id = typeof ce.id === 'string' && ce.id !== '' ? ce.id : msg.messageId;
  return {
    id,
    type: ce.type,
    time: typeof ce.time === 'string' && ce.time !== '' ? ce.time : msg.publishTime,
    source: ce.source,
    correlationId: typeof ce.correlationid === 'string' && ce.correlationid !== '' ? ce.correlationid : id,
    causationId: typeof ce.causationid === 'string' && ce.causationid !== '' ? ce.causationid : null,
    data: ce.data,
  };
}

function checkCarried(type: unknown, allowed: readonly EventName[], topic: string | undefined): void {
  const name = typeof type === 'string' ? eventNameOfType(type) : undefined;
  if (name && !allowed.includes(name)) {
    const where = topic ? `topic ${topic}` : 'this consumer';
    throw new ValidationError(`${String(type)} is not an event of ${where}, which takes ${allowed.map((n) => catalog[n].type).join(', ')}`, {
      hint: `publish ${String(type)} to ${catalog[name].topic}`,
    });
  }
}

/**
 * Decode and validate a Pub/Sub message as an event that `topic` carries. Throws ValidationError (permanent) with
 * the reason when the message is not one: too large, no data, not UTF-8, not JSON, not a catalogued event, invalid
 * data, or an event of another topic.
 */
export function eventFromMessage(msg: PubsubMessageIn, expect: { topic?: string; names?: EventName[] } = {}): DecodedEvent {
  const body = text(msg);
  const form = formOf(msg.attributes);
  // The event's type is checked against the topic before its data: "wrong topic" is the useful reason.
  const allowed = expect.names ?? carriedBy(expect.topic);
  let parsed: { name: EventName; event: Envelope };
  if (form === 'cloudevents') {
    const raw = cloudEventEnvelope(msg, body) as { type: unknown };
    checkCarried(raw.type, allowed, expect.topic);
    parsed = parseEvent(raw);
  } else if (form === 'data-only') {
    checkCarried(attr(msg.attributes, 'type'), allowed, expect.topic);
    const event = envelopeFromDataOnlyMessage({ body: json(body, 'the event data', msg.messageId), attributes: msg.attributes, messageId: msg.messageId, publishTime: msg.publishTime });
    parsed = { name: eventNameOfType(event.type)!, event };
  } else {
    const raw = json(body, 'the event envelope', msg.messageId);
    const said = attr(msg.attributes, 'type');
    const inBody = raw && typeof raw === 'object' && 'type' in raw ? (raw as { type: unknown }).type : undefined;
    if (said !== undefined && inBody !== undefined && said !== inBody) {
      throw new ValidationError(`message ${msg.messageId}: attribute type ${JSON.stringify(said)} disagrees with the envelope's type ${JSON.stringify(inBody)}`, { hint: 'set the type attribute to the envelope type, or leave it out' });
    }
    checkCarried(inBody ?? said, allowed, expect.topic);
    try {
      parsed = parseEvent(raw);
    } catch (err) {
      if (inBody === undefined && said !== undefined && err instanceof ValidationError) {
        throw new ValidationError(`${err.message} (the body looks like event data: add attribute ctloop-body=data, or use the ce-* attributes)`, { hint: HINT });
      }
      throw err;
    }
  }
  return { form, name: parsed.name, event: parsed.event };
}
