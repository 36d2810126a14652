import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rename, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Storage, type File, type FileMetadata, type StorageOptions } from '@google-cloud/storage';
import { NotFoundError, ValidationError } from '../../../errors.js';
import type { LocalCopy, ObjectInfo, ObjectStore, PutOptions } from '../../../ports/object-store.js';
import { assertLocalFile } from '../local-file.js';
import { checkMetadata, compareUris, DEFAULT_CONTENT_TYPE, objectRef, prefixRef, toUri } from '../uri.js';
import { httpStatus, mapGcsError } from './errors.js';
import { ensureDir } from '../../../ensure-dir.js';

/** Bodies above this size use a resumable upload (several requests, survives a dropped connection). */
const RESUMABLE_ABOVE = 5 * 1024 * 1024;

export interface GcsObjectStoreOptions {
  project: string;
  /** `http://127.0.0.1:9199` for the emulator; Google's endpoint when unset. */
  apiEndpoint?: string;
  /** Extra client options (tests lower `retryOptions`). */
  client?: Omit<StorageOptions, 'projectId' | 'apiEndpoint'>;
}

/**
 * Cloud Storage adapter (`@google-cloud/storage` 7). `ifNotExists` sends `ifGenerationMatch: 0`, which Cloud
 * Storage answers with 412 when the object exists (the firebase-tools emulator ignores it: see
 * emulators/storage-emulator.ts). Uploads and downloads are streamed; downloads land in a temp file that is renamed
 * into place, so a failed download leaves nothing behind.
 */
export class GcsObjectStore implements ObjectStore {
  /** Reads and conditional (`ifNotExists`) writes: the library's retry settings stay as configured. */
  private readonly storage: Storage;
  /**
   * Writes without a precondition, and deletes. `@google-cloud/storage` 7.22 `File.save()` (and `bucket.upload`,
   * resumable uploads, `File.delete`) set `retryOptions.autoRetry = false` on the Storage object they belong to —
   * save() never sets it back (build/esm/src/file.js `save`, `startResumableUpload_`; bucket.js `upload`) — so on a
   * shared client every later call stops retrying 429/5xx, and calls running concurrently lose retries for a while.
   * These calls get their own client, whose flag they may switch off: the library's policy (no retry for
   * unconditional writes, `IdempotencyStrategy.RetryConditional`) is unchanged for them; the event is redelivered.
   */
  private readonly unconditional: Storage;
  private readonly endpoint: string | undefined;

  constructor(opts: GcsObjectStoreOptions) {
    this.endpoint = opts.apiEndpoint;
    const make = () =>
      new Storage({
        ...(opts.client ?? {}),
        ...(opts.client?.retryOptions ? { retryOptions: { ...opts.client.retryOptions } } : {}),
        projectId: opts.project,
        ...(opts.apiEndpoint ? { apiEndpoint: opts.apiEndpoint } : {}),
      });
    this.storage = make();
    this.unconditional = make();
  }

  private file(uri: string, client: Storage = this.storage): File {
    const ref = objectRef(uri);
    return client.bucket(ref.bucket).file(ref.path);
  }

  /** The client for a write: the isolated one unless the write carries a precondition. */
  private writer(opts: PutOptions): Storage {
    return opts.ifNotExists ? this.storage : this.unconditional;
  }

  private fail(err: unknown, uri: string, op: string, ifNotExists?: boolean): never {
    throw mapGcsError(err, uri, op, { ifNotExists: ifNotExists ?? false, ...(this.endpoint ? { endpoint: this.endpoint } : {}) });
  }

  private writeOptions(opts: PutOptions, size: number) {
    return {
      resumable: size > RESUMABLE_ABOVE,
      contentType: opts.contentType ?? DEFAULT_CONTENT_TYPE,
      metadata: { contentType: opts.contentType ?? DEFAULT_CONTENT_TYPE, metadata: { ...(opts.metadata ?? {}) } },
      // ifGenerationMatch=0: "only if no live object has this name" — atomic on Cloud Storage.
      ...(opts.ifNotExists ? { preconditionOpts: { ifGenerationMatch: 0 } } : {}),
    };
  }

  async put(uri: string, body: Buffer | string, opts: PutOptions = {}): Promise<ObjectInfo> {
    const f = this.file(uri, this.writer(opts));
    checkMetadata(uri, opts.metadata);
    if (typeof body !== 'string' && !Buffer.isBuffer(body)) {
      throw new ValidationError(`put ${uri}: body must be a Buffer or a string`, { hint: 'pass Buffer.from(...) for binary data' });
    }
    const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    try {
      await f.save(buf, this.writeOptions(opts, buf.length));
    } catch (err) {
      this.fail(err, uri, 'put', opts.ifNotExists);
    }
    return this.infoAfterWrite(f, uri);
  }

  async upload(localPath: string, uri: string, opts: PutOptions = {}): Promise<ObjectInfo> {
    const f = this.file(uri, this.writer(opts));
    checkMetadata(uri, opts.metadata);
    const size = await assertLocalFile(localPath, uri);
    try {
      await f.bucket.upload(localPath, { destination: f, ...this.writeOptions(opts, size) });
    } catch (err) {
      this.fail(err, uri, `upload ${localPath}`, opts.ifNotExists);
    }
    return this.infoAfterWrite(f, uri);
  }

  /** The write response fills `file.metadata`; fetch it only if a client version does not. */
  private async infoAfterWrite(f: File, uri: string): Promise<ObjectInfo> {
    if (f.metadata?.size !== undefined && f.metadata.updated) return toInfo(uri, f.metadata);
    const info = await this.stat(uri);
    if (!info) this.fail(Object.assign(new Error('object vanished right after it was written'), { code: 404 }), uri, 'put');
    return info;
  }

  async get(uri: string): Promise<Buffer> {
    const f = this.file(uri);
    try {
      const [buf] = await f.download();
      return buf;
    } catch (err) {
      this.fail(err, uri, 'get');
    }
  }

  async stat(uri: string): Promise<ObjectInfo | null> {
    const f = this.file(uri);
    try {
      const [meta] = await f.getMetadata();
      return toInfo(uri, meta);
    } catch (err) {
      if (httpStatus(err) === 404) return null;
      this.fail(err, uri, 'stat');
    }
  }

  async exists(uri: string): Promise<boolean> {
    const f = this.file(uri);
    try {
      const [ok] = await f.exists();
      return ok;
    } catch (err) {
      this.fail(err, uri, 'exists');
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const ref = prefixRef(prefix);
    try {
      const [files] = await this.storage.bucket(ref.bucket).getFiles({ prefix: ref.path, autoPaginate: true });
      return files
        .filter((f) => !f.name.endsWith('/')) // folder placeholders made by other tools are not objects here
        .map((f) => toInfo(toUri(ref.bucket, f.name), f.metadata))
        .sort((a, b) => compareUris(a.uri, b.uri));
    } catch (err) {
      this.fail(err, prefix, 'list');
    }
  }

  async delete(uri: string): Promise<void> {
    const f = this.file(uri, this.unconditional);
    try {
      await f.delete({ ignoreNotFound: true });
    } catch (err) {
      if (httpStatus(err) === 404) return;
      this.fail(err, uri, 'delete');
    }
  }

  async download(uri: string, localPath: string): Promise<void> {
    await this.downloadFile(this.file(uri), uri, localPath);
  }

  private async downloadFile(f: File, uri: string, localPath: string): Promise<void> {
    const dest = resolve(localPath);
    const tmp = `${dest}.${randomUUID()}.part`;
    try {
      await ensureDir(dirname(dest));
      await pipeline(f.createReadStream(), createWriteStream(tmp, { flags: 'wx' }));
      await rename(tmp, dest);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      this.fail(err, uri, `download to ${localPath}`);
    }
  }

  /**
   * Stat, then download exactly that generation: the returned info and the bytes are one version, whatever
   * overwrite or metadata change happens meanwhile. If that generation was overwritten before the download
   * started (404 on it), the newer one is taken instead (at most 3 tries).
   */
  async localCopy(uri: string): Promise<LocalCopy> {
    const ref = objectRef(uri);
    const dir = await mkdtemp(join(tmpdir(), 'ctloop-obj-'));
    const path = join(dir, basename(ref.path));
    try {
      for (let attempt = 1; ; attempt++) {
        const info = await this.stat(uri);
        if (!info) this.fail(Object.assign(new Error('no such object'), { code: 404 }), uri, 'localCopy');
        const generation = info.generation === undefined ? undefined : Number(info.generation);
        const f = this.storage.bucket(ref.bucket).file(ref.path, generation !== undefined && Number.isSafeInteger(generation) ? { generation } : {});
        try {
          await this.downloadFile(f, uri, path);
          return { path, info, release: () => rm(dir, { recursive: true, force: true }) };
        } catch (err) {
          if (!(err instanceof NotFoundError) || attempt >= 3) throw err;
        }
      }
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }
}

function toInfo(uri: string, meta: FileMetadata): ObjectInfo {
  const custom: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta.metadata ?? {})) {
    if (v !== null && v !== undefined) custom[k] = String(v);
  }
  return {
    uri,
    size: Number(meta.size ?? 0),
    updated: new Date(String(meta.updated ?? meta.timeCreated ?? 0)),
    ...(meta.timeCreated ? { created: new Date(String(meta.timeCreated)) } : {}),
    ...(meta.generation !== undefined && meta.generation !== null ? { generation: String(meta.generation) } : {}),
    ...(meta.contentType ? { contentType: meta.contentType } : {}),
    metadata: custom,
  };
}
