import { Firestore, type DocumentReference } from '@google-cloud/firestore';
import type { FeatureView } from '../../../features/definitions.js';
import { BackendError, TransientError } from '../../../errors.js';
import { compareVersions, entityKey, newestPerEntity, type OnlineRecord, type OnlineStore, type OnlineWriteResult } from '../../../ports/online-store.js';
import { decodeRecord, encodeRecord, type EncodedRecord } from '../codec.js';

export interface FirestoreOnlineStoreOptions {
  project: string;
  /** Firestore database id, `(default)` unless another was created. */
  database: string;
  /** host:port of the Firestore emulator; absent on Google Cloud. */
  emulatorHost?: string;
  /** Collection of view V is `<prefix>V` (default `ctloop_online_`); tests give each run its own prefix. */
  collectionPrefix?: string;
}

/** Documents per transaction and per getAll call (a transaction allows 500 writes). */
const CHUNK = 250;

/**
 * Firestore adapter (native mode; the default online store on Google Cloud: billed per operation, nothing at
 * rest but storage). One document per view and entity: collection `<prefix><view>`, document id the base64url of
 * the entity key's JSON (no separator collisions, never `/`, `.` or `__…__`), fields `k` (key), `e`/`c` (event and
 * created time, epoch ms), `i` (ingest id) and `v` (feature values, JSON-safe, see codec.ts).
 *
 * Newest-wins is enforced in transactions: each write reads the stored versions of its documents and sets only
 * those it supersedes; Firestore aborts and retries a transaction whose documents changed meanwhile, so two
 * writers never both win. Reads are `getAll` batches (one round trip for up to 250 keys, batches in parallel).
 */
export class FirestoreOnlineStore implements OnlineStore {
  readonly kind = 'firestore' as const;
  private readonly db: Firestore;
  private readonly prefix: string;

  constructor(opts: FirestoreOnlineStoreOptions) {
    this.prefix = opts.collectionPrefix ?? 'ctloop_online_';
    this.db = new Firestore({
      projectId: opts.project,
      databaseId: opts.database,
      ...(opts.emulatorHost ? { host: opts.emulatorHost, ssl: false } : {}),
    });
  }

  private ref(view: FeatureView, key: (string | number)[]): DocumentReference {
    return this.db.collection(`${this.prefix}${view.name}`).doc(Buffer.from(entityKey(key), 'utf8').toString('base64url'));
  }

  async write(view: FeatureView, records: OnlineRecord[]): Promise<OnlineWriteResult> {
    const newest = [...newestPerEntity(records).values()];
    let written = 0;
    const chunks: OnlineRecord[][] = [];
    for (let i = 0; i < newest.length; i += CHUNK) chunks.push(newest.slice(i, i + CHUNK));
    await Promise.all(chunks.map(async (chunk) => {
      const refs = chunk.map((r) => this.ref(view, r.key));
      const n = await wrap('write', () => this.db.runTransaction(async (tx) => {
        const snaps = await tx.getAll(...refs);
        let wins = 0;
        snaps.forEach((snap, j) => {
          const r = chunk[j]!;
          if (snap.exists) {
            const cur = snap.data() as EncodedRecord;
            if (compareVersions(r, { eventTime: new Date(cur.e), createdTime: new Date(cur.c), ingestId: cur.i }) <= 0) return;
          }
          tx.set(refs[j]!, encodeRecord(r));
          wins++;
        });
        return wins;
      }, { maxAttempts: 50 }));
      written += n;
    }));
    return { written, superseded: records.length - written };
  }

  async read(view: FeatureView, keys: (string | number)[][]): Promise<(OnlineRecord | null)[]> {
    if (keys.length === 0) return [];
    const parts: Promise<(OnlineRecord | null)[]>[] = [];
    for (let i = 0; i < keys.length; i += CHUNK) {
      const refs = keys.slice(i, i + CHUNK).map((k) => this.ref(view, k));
      parts.push(wrap('read', async () => (await this.db.getAll(...refs)).map((s) => (s.exists ? decodeRecord(view, s.data() as EncodedRecord) : null))));
    }
    return (await Promise.all(parts)).flat();
  }

  async close(): Promise<void> {
    await this.db.terminate();
  }
}

/** gRPC codes retrying cannot fix: INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, FAILED_PRECONDITION, UNAUTHENTICATED. */
const PERMANENT = new Set([3, 5, 7, 9, 16]);

async function wrap<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const msg = `Firestore online store ${what} failed: ${(err as Error).message}`;
    if (typeof code === 'number' && PERMANENT.has(code)) {
      throw new BackendError(msg, { hint: 'check the Firestore database (CTLOOP_FIRESTORE_DATABASE), the project and the caller\'s IAM role (roles/datastore.user to write, roles/datastore.viewer to read)', cause: err });
    }
    throw new TransientError(msg, { hint: 'retried automatically; check Firestore availability and quotas if it persists', cause: err });
  }
}
