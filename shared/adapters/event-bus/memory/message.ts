import type { PubsubMessageIn } from '../../../events/binding.js';

/**
 * A message on the embedded bus, readable as a Pub/Sub message (`PubsubMessageIn`) without copying. Data is bytes,
 * as on Pub/Sub; an envelope published by `publish` is kept as the JSON text it was encoded to — its UTF-8 bytes
 * are the message's data, made only if a consumer asks for them (dead letters, raw subscribers). This runs for
 * every event: `Buffer.from` of each envelope and decoding it back on delivery cost a tenth of ingesting a one-row
 * event, and each small Buffer pins an 8 KB pool slab while the message waits.
 */
export class MemoryMessage implements PubsubMessageIn {
  private bytes: Buffer | undefined;

  private constructor(
    readonly id: string,
    readonly topic: string,
    data: Buffer | undefined,
    readonly text: string | undefined,
    readonly attributes: Record<string, string>,
    /** Publish time, epoch milliseconds. */
    readonly publishMs: number,
  ) {
    this.bytes = data;
  }

  /** A message whose data is these bytes. */
  static ofBytes(id: string, topic: string, data: Buffer, attributes: Record<string, string>, publishMs = Date.now()): MemoryMessage {
    return new MemoryMessage(id, topic, data, undefined, attributes, publishMs);
  }

  /** A message whose data is the UTF-8 encoding of `text` (text that JSON.stringify wrote: well-formed, no lone surrogates). */
  static ofText(id: string, topic: string, text: string, attributes: Record<string, string>, publishMs = Date.now()): MemoryMessage {
    return new MemoryMessage(id, topic, undefined, text, attributes, publishMs);
  }

  get data(): Buffer {
    return (this.bytes ??= Buffer.from(this.text!, 'utf8'));
  }

  get messageId(): string {
    return this.id;
  }

  /** RFC 3339, as Pub/Sub gives it. */
  get publishTime(): string {
    return new Date(this.publishMs).toISOString();
  }

  get published(): Date {
    return new Date(this.publishMs);
  }
}
