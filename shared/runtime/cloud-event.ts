import { createHash } from 'node:crypto';
import { CtloopError, ValidationError, isPermanent } from '../errors.js';
import { catalog, type EventName, type EventOf } from '../events/catalog.js';
import { eventFromMessage, type PubsubMessageIn } from '../events/binding.js';
import { decodeLoosely } from '../adapters/event-bus/attributes.js';
import type { Runtime } from './runtime.js';
import { writeDeadLetter } from './dead-letter.js';
import { runWithDeadline } from './deadlines.js';
import { log } from './log.js';

/** The parts of a CloudEvent that ctloop reads (functions-framework's CloudEvent type satisfies it). */
export interface IncomingCloudEvent {
  id: string;
  type: string;
  source: string;
  time?: string;
  data?: unknown;
}

interface PubsubMessage {
  data?: string;
  attributes?: Record<string, string>;
  messageId?: string;
  publishTime?: string;
}

/**
 * The Pub/Sub message of an event: `data.message` of a CloudEvent, or `message` of a raw push body, which
 * functions-framework 5 passes through unconverted when `message.data` is empty or absent (it converts a push body
 * only when `message.data` is non-empty: src/pubsub_middleware.ts `isRawPubSubRequestBody`).
 */
function pubsubMessage(ce: IncomingCloudEvent): PubsubMessage | undefined {
  const fromData = (ce.data as { message?: PubsubMessage } | undefined)?.message;
  if (fromData && typeof fromData === 'object') return fromData;
  const raw = (ce as unknown as { message?: PubsubMessage }).message;
  return raw && typeof raw === 'object' ? raw : undefined;
}

/**
 * The id to file a message under: the CloudEvent id, else the Pub/Sub message id, else a hash of the body (so the
 * dead-letter write stays idempotent across redeliveries of the same body).
 */
export function messageIdOf(ce: IncomingCloudEvent): string {
  if (typeof ce.id === 'string' && ce.id !== '') return ce.id;
  const id = pubsubMessage(ce)?.messageId;
  if (typeof id === 'string' && id !== '') return id;
  return `sha256-${createHash('sha256').update(JSON.stringify(ce) ?? '').digest('hex').slice(0, 32)}`;
}

/**
 * The Pub/Sub message of a `messagePublished` CloudEvent (as produced by Eventarc and by functions-framework from a
 * push body), as the producer contract reads it (shared/events/binding.ts): data bytes, attributes, message id
 * and publish time. A CloudEvent without a Pub/Sub message is a permanent ValidationError; a message without data
 * is refused by the contract with its reason.
 */
export function decodePubsubCloudEvent(ce: IncomingCloudEvent): PubsubMessageIn {
  const msg = pubsubMessage(ce);
  if (!msg) {
    throw new ValidationError(`CloudEvent ${messageIdOf(ce)} (${ce.type}) carries no Pub/Sub message data`, {
      hint: 'trigger this function from a Pub/Sub topic (google.cloud.pubsub.topic.v1.messagePublished)',
    });
  }
  return {
    data: typeof msg.data === 'string' ? Buffer.from(msg.data, 'base64') : Buffer.alloc(0),
    attributes: msg.attributes ?? {},
    messageId: msg.messageId ?? messageIdOf(ce),
    publishTime: msg.publishTime ?? ce.time ?? new Date().toISOString(),
  };
}

export interface HandlerContext {
  messageId: string;
  /**
   * Aborted shortly before the invocation's deadline (Cloud Functions redelivers the event after it): stop work
   * (pass it to long steps, check it before a write) so the old run does not go on beside the redelivery.
   */
  signal: AbortSignal;
}

export type EventHandler<N extends EventName> = (event: EventOf<N>, runtime: Runtime, ctx: HandlerContext) => Promise<void>;

export interface CloudEventFunctionOptions {
  /** The function's timeout (the registry's timeoutSeconds, deployed as timeout_seconds): the signal fires before it. */
  timeoutSeconds?: number;
}

/**
 * When to give up: 10 s (at most a tenth of the timeout) before the deadline. functions-framework only aborts
 * `req.abortController`, which a CloudEvent function never sees (it is called with the event alone), so the
 * deadline is taken from the function's own timeout.
 */
export function stopAfterMs(timeoutSeconds: number): number {
  const ms = timeoutSeconds * 1000;
  return ms - Math.min(10_000, ms / 10);
}

/**
 * Runs `work` with a signal that aborts after `ms`; rejects with a TransientError when it does (the event is retried).
 * One implementation of the deadline: `runWithDeadline` (deadlines.ts), which the local loop calls per event.
 */
export async function withDeadline(consumer: string, ms: number | undefined, work: (signal: AbortSignal) => Promise<void>): Promise<void> {
  if (ms === undefined) return work(new AbortController().signal);
  return runWithDeadline(consumer, ms, (signal) => work(signal()));
}

/**
 * Wrap a core handler as a CloudEvent function: decode and validate the event (producer contract), run the handler, and sort
 * failures — permanent ones (bad message, bad data) are written to the dead-letter path with their reason and
 * acknowledged; transient ones are rethrown so Pub/Sub redelivers (and, after max attempts, dead-letters).
 */
export function cloudEventFunction<N extends EventName>(consumer: string, name: N, handler: EventHandler<N>, getRuntime: () => Promise<Runtime>, opts: CloudEventFunctionOptions = {}) {
  const stopAt = opts.timeoutSeconds === undefined ? undefined : stopAfterMs(opts.timeoutSeconds);
  return async (ce: IncomingCloudEvent): Promise<void> => {
    const runtime = await getRuntime();
    let decoded: PubsubMessageIn | undefined;
    try {
      decoded = decodePubsubCloudEvent(ce);
      // The producer contract, as on the pull path: CloudEvents binary mode, envelope, or data-only (Cloud Scheduler).
      const event = eventFromMessage(decoded, { names: [name] }).event as EventOf<N>;
      const messageId = decoded.messageId;
      await withDeadline(consumer, stopAt, (signal) => handler(event, runtime, { messageId, signal }));
    } catch (err) {
      if (!isPermanent(err)) {
        log('error', `${consumer}: transient failure, will be retried`, { messageId: decoded?.messageId ?? messageIdOf(ce), error: String(err) });
        throw err;
      }
      const e = err as CtloopError;
      const messageId = decoded?.messageId ?? messageIdOf(ce);
      const uri = await writeDeadLetter(runtime.objectStore, runtime.config.artifactBucket, {
        consumer, messageId, reason: e.describe(), code: e.code,
        message: decoded && decoded.data.length > 0 ? decodeLoosely(decoded.data) : (ce.data ?? pubsubMessage(ce) ?? null),
        ...(decoded ? { attributes: decoded.attributes, publishTime: decoded.publishTime } : {}),
        time: new Date().toISOString(),
      });
      // `ctloopEvent` and `consumer` are read by the log-based alert (infra/modules/monitoring).
      log('error', `${consumer}: permanent failure, message dead-lettered`, { ctloopEvent: 'dead-lettered', consumer, messageId, deadLetter: uri, error: e.message, expected: catalog[name].type });
    }
  };
}
