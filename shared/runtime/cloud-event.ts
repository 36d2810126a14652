import { CtloopError, ValidationError, isPermanent } from '../errors.js';
import { catalog, parseEventOf, type EventName, type EventOf } from '../events/catalog.js';
import type { Runtime } from './runtime.js';
import { writeDeadLetter } from './dead-letter.js';
import { envelopeFromDataOnlyMessage, isDataOnlyMessage } from '../topology/scheduler-message.js';
import { log } from './log.js';

/** The parts of a CloudEvent that ctloop reads (functions-framework's CloudEvent type satisfies it). */
export interface IncomingCloudEvent {
  id: string;
  type: string;
  source: string;
  time?: string;
  data?: unknown;
}

export interface Decoded {
  messageId: string;
  publishTime: string | undefined;
  attributes: Record<string, string>;
  body: unknown;
}

/**
 * Decode a Pub/Sub `messagePublished` CloudEvent (as produced by Eventarc and by functions-framework from a push
 * body): `data.message.data` is base64 JSON of the ctloop envelope.
 */
export function decodePubsubCloudEvent(ce: IncomingCloudEvent): Decoded {
  const msg = (ce.data as { message?: { data?: string; attributes?: Record<string, string>; messageId?: string; publishTime?: string } } | undefined)?.message;
  if (!msg || typeof msg.data !== 'string') {
    throw new ValidationError(`CloudEvent ${ce.id} (${ce.type}) carries no Pub/Sub message data`, {
      hint: 'trigger this function from a Pub/Sub topic (google.cloud.pubsub.topic.v1.messagePublished)',
    });
  }
  const text = Buffer.from(msg.data, 'base64').toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ValidationError(`message ${msg.messageId ?? ce.id} is not JSON`, { hint: 'publish the ctloop event envelope as JSON', details: { raw: text.slice(0, 1000) } });
  }
  return { messageId: msg.messageId ?? ce.id, publishTime: msg.publishTime ?? ce.time, attributes: msg.attributes ?? {}, body };
}

export type EventHandler<N extends EventName> = (event: EventOf<N>, runtime: Runtime, ctx: { messageId: string }) => Promise<void>;

/**
 * Wrap a core handler as a CloudEvent function: decode and validate the envelope, run the handler, and sort
 * failures — permanent ones (bad message, bad data) are written to the dead-letter path with their reason and
 * acknowledged; transient ones are rethrown so Pub/Sub redelivers (and, after max attempts, dead-letters).
 */
export function cloudEventFunction<N extends EventName>(consumer: string, name: N, handler: EventHandler<N>, getRuntime: () => Promise<Runtime>) {
  return async (ce: IncomingCloudEvent): Promise<void> => {
    const runtime = await getRuntime();
    let decoded: Decoded | undefined;
    try {
      decoded = decodePubsubCloudEvent(ce);
      // Cloud Scheduler publishes only the event data (it cannot stamp a fresh id per run): build the envelope from
      // the message itself (shared/topology/scheduler-message.ts).
      const body = isDataOnlyMessage(decoded.attributes)
        ? envelopeFromDataOnlyMessage({ body: decoded.body, attributes: decoded.attributes, messageId: decoded.messageId, publishTime: decoded.publishTime ?? ce.time ?? new Date().toISOString() })
        : decoded.body;
      const event = parseEventOf(name, body);
      await handler(event, runtime, { messageId: decoded.messageId });
    } catch (err) {
      if (!isPermanent(err)) {
        log('error', `${consumer}: transient failure, will be retried`, { messageId: decoded?.messageId ?? ce.id, error: String(err) });
        throw err;
      }
      const e = err as CtloopError;
      const uri = await writeDeadLetter(runtime.objectStore, runtime.config.artifactBucket, {
        consumer, messageId: decoded?.messageId ?? ce.id, reason: e.describe(), code: e.code,
        message: decoded?.body ?? ce.data ?? null, time: new Date().toISOString(),
      });
      // `ctloopEvent` and `consumer` are read by the log-based alert (infra/modules/monitoring).
      log('error', `${consumer}: permanent failure, message dead-lettered`, { ctloopEvent: 'dead-lettered', consumer, messageId: decoded?.messageId ?? ce.id, deadLetter: uri, error: e.message, expected: catalog[name].type });
    }
  };
}
