import type { ObjectStore } from '../ports/object-store.js';

export interface DeadLetterRecord {
  /** Function or subscription that gave up. */
  consumer: string;
  messageId: string;
  reason: string;
  code: string;
  /** The message as received (decoded when possible, else its raw text). */
  message: unknown;
  time: string;
  /** Delivery attempts made before giving up, when known (Pub/Sub dead-letter policy forwards). */
  attempts?: number;
  /** The message's attributes and publish time, when known: replay reads the message in its form again. */
  attributes?: Record<string, string>;
  publishTime?: string;
}

/**
 * Permanent failures are acknowledged (retrying cannot help) and written here with their reason, so nothing is
 * lost: `gs://<bucket>/dead-letter/<consumer>/<yyyy-mm-dd>/<messageId>.json`. Writing is idempotent per message.
 */
export async function writeDeadLetter(store: ObjectStore, bucket: string, rec: DeadLetterRecord): Promise<string> {
  const day = rec.time.slice(0, 10);
  const safeId = rec.messageId.replace(/[^A-Za-z0-9._-]/g, '_');
  const uri = `gs://${bucket}/dead-letter/${rec.consumer}/${day}/${safeId}.json`;
  await store.put(uri, JSON.stringify(rec, null, 2), { contentType: 'application/json', metadata: { reason: rec.code } });
  return uri;
}
