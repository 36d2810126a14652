/**
 * Object store port. Adapters: local directory (embedded) and Cloud Storage. Objects are always named by
 * `gs://bucket/path` URIs, whatever the adapter, so configs and events are the same in every mode.
 */
export interface ObjectInfo {
  uri: string;
  size: number;
  /** Last change of the object or of its metadata (a storage-class change moves it too). */
  updated: Date;
  /** When this version's bytes were written (Cloud Storage `timeCreated`; the file's mtime locally). */
  created?: Date;
  /**
   * Version of the bytes: Cloud Storage's object generation (a new one on every overwrite, never on a metadata
   * change); locally the file's mtime in nanoseconds and size.
   */
  generation?: string;
  contentType?: string;
  metadata?: Record<string, string>;
}

export interface PutOptions {
  contentType?: string;
  metadata?: Record<string, string>;
  /** Fail with a permanent error if the object already exists (write-once artifacts). */
  ifNotExists?: boolean;
}

export interface ObjectStore {
  put(uri: string, body: Buffer | string, opts?: PutOptions): Promise<ObjectInfo>;
  get(uri: string): Promise<Buffer>;
  /** Metadata, or null when the object does not exist. */
  stat(uri: string): Promise<ObjectInfo | null>;
  exists(uri: string): Promise<boolean>;
  /** All objects whose URI starts with `prefix` (a gs:// URI), sorted by URI. */
  list(prefix: string): Promise<ObjectInfo[]>;
  delete(uri: string): Promise<void>;
  /** Copy a local file into the store (streamed). */
  upload(localPath: string, uri: string, opts?: PutOptions): Promise<ObjectInfo>;
  /** Copy an object to a local file (streamed). */
  download(uri: string, localPath: string): Promise<void>;
  /**
   * A local path holding the object's bytes: the file itself for the local adapter, a downloaded temp copy for
   * remote ones. `info` describes the very version copied (Cloud Storage: stat first, then download that
   * generation), so metadata and bytes cannot come from two versions. Call `release()` when done.
   */
  localCopy(uri: string): Promise<LocalCopy>;
}

export interface LocalCopy {
  path: string;
  info: ObjectInfo;
  release(): Promise<void>;
}

export function parseGsUri(uri: string): { bucket: string; path: string } {
  const m = /^gs:\/\/([a-z0-9][a-z0-9._-]{1,221}[a-z0-9])\/?(.*)$/.exec(uri);
  if (!m) throw new TypeError(`not a gs:// URI: ${uri}`);
  return { bucket: m[1]!, path: m[2]! };
}
