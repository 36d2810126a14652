import { randomUUID } from 'node:crypto';
import type { BigIntStats, Dirent } from 'node:fs';
import { copyFile, link, lstat, readdir, readFile, rename, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { AlreadyExistsError, ValidationError } from '../../../errors.js';
import type { LocalCopy, ObjectInfo, ObjectStore, PutOptions } from '../../../ports/object-store.js';
import { assertLocalFile } from '../local-file.js';
import { checkMetadata, compareUris, DEFAULT_CONTENT_TYPE, type ObjectRef, objectRef, prefixRef, toUri } from '../uri.js';
import { errnoCode, fileDirConflict, mapFsError, notFound } from './fs-errors.js';
import { readSidecar, removeSidecar, sidecarPath, writeSidecar } from './sidecar.js';
import { ensureDir } from '../../../ensure-dir.js';

const TMP_DIR = '.ctloop-tmp';

/**
 * Object store on a local directory (embedded mode): `gs://bucket/a/b` is the file `<root>/bucket/a/b`.
 * Writes go to a temp file under `<root>/.ctloop-tmp` and are renamed into place (readers never see a partial
 * object); `ifNotExists` uses `link()`, which fails atomically when the name exists, so concurrent writers race
 * safely. Content type and metadata are kept in sidecars (see sidecar.ts). One limit a filesystem imposes: an
 * object `a` and an object `a/b` cannot both exist (ValidationError says so).
 */
export class LocalObjectStore implements ObjectStore {
  readonly root: string;

  constructor(root: string) {
    if (!root) throw new ValidationError('local object store needs a root directory', { hint: 'set CTLOOP_STATE_DIR' });
    this.root = resolve(root);
  }

  /** The file holding an object; guarantees it stays inside `<root>/<bucket>`. */
  private fileOf(ref: ObjectRef): string {
    const bucketDir = join(this.root, ref.bucket);
    const file = resolve(bucketDir, ref.path);
    if (!file.startsWith(bucketDir + sep)) {
      throw new ValidationError(`invalid object URI ${JSON.stringify(ref.uri)}: resolves outside its bucket`, { details: { uri: ref.uri } });
    }
    return file;
  }

  async put(uri: string, body: Buffer | string, opts: PutOptions = {}): Promise<ObjectInfo> {
    const ref = objectRef(uri);
    checkMetadata(uri, opts.metadata);
    if (typeof body !== 'string' && !Buffer.isBuffer(body)) {
      throw new ValidationError(`put ${uri}: body must be a Buffer or a string`, { hint: 'pass Buffer.from(...) for binary data' });
    }
    return this.commit(ref, opts, (tmp) => writeFile(tmp, body, { flag: 'wx' }));
  }

  async upload(localPath: string, uri: string, opts: PutOptions = {}): Promise<ObjectInfo> {
    const ref = objectRef(uri);
    checkMetadata(uri, opts.metadata);
    await assertLocalFile(localPath, uri);
    return this.commit(ref, opts, (tmp) => copyFile(localPath, tmp));
  }

  /** Writes the bytes to a temp file, its sidecar, then moves the file into place. */
  private async commit(ref: ObjectRef, opts: PutOptions, fill: (tmp: string) => Promise<void>): Promise<ObjectInfo> {
    const dest = this.fileOf(ref);
    const tmpDir = join(this.root, TMP_DIR);
    const tmp = join(tmpDir, randomUUID());
    let meta: string | undefined;
    let placed = false;
    try {
      await ensureDir(tmpDir);
      await fill(tmp);
      const st = await stat(tmp, { bigint: true });
      meta = sidecarPath(this.root, ref.bucket, ref.path, st.ino);
      await ensureDir(dirname(meta));
      const contentType = opts.contentType ?? DEFAULT_CONTENT_TYPE;
      const metadata = { ...(opts.metadata ?? {}) };
      await writeSidecar(meta, { contentType, metadata });
      // A concurrent delete may remove the (empty) parent directory between mkdir and link/rename: retry.
      for (let attempt = 0; ; attempt++) {
        try {
          await this.mkdirParents(ref, dest);
          if (opts.ifNotExists) await this.linkNew(ref, tmp, dest);
          else await this.replace(ref, tmp, dest, st.ino);
          break;
        } catch (err) {
          if (errnoCode(err) !== 'ENOENT' || attempt >= 2) throw err;
        }
      }
      placed = true;
      return { uri: ref.uri, size: Number(st.size), updated: new Date(Number(st.mtimeMs)), contentType, metadata };
    } catch (err) {
      throw mapFsError(err, ref.uri, 'put');
    } finally {
      await unlink(tmp).catch(() => undefined);
      if (!placed && meta) await removeSidecar(meta);
    }
  }

  private async mkdirParents(ref: ObjectRef, dest: string): Promise<void> {
    try {
      await ensureDir(dirname(dest));
    } catch (err) {
      const c = errnoCode(err);
      if (c === 'EEXIST' || c === 'ENOTDIR') throw fileDirConflict(ref.uri, await this.fileAncestor(ref));
      throw err;
    }
  }

  /** The first ancestor of `ref` that is a file (for the conflict message). */
  private async fileAncestor(ref: ObjectRef): Promise<string> {
    const segs = ref.path.split('/');
    for (let i = 1; i < segs.length; i++) {
      const p = segs.slice(0, i).join('/');
      const st = await lstat(join(this.root, ref.bucket, p)).catch(() => undefined);
      if (st && !st.isDirectory()) return toUri(ref.bucket, p);
    }
    return `a parent of ${ref.uri}`;
  }

  private async linkNew(ref: ObjectRef, tmp: string, dest: string): Promise<void> {
    try {
      await link(tmp, dest);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
      const st = await lstat(dest).catch(() => undefined);
      if (st?.isDirectory()) throw fileDirConflict(ref.uri, `${ref.uri}/...`);
      throw new AlreadyExistsError(`object ${ref.uri} already exists and was written with ifNotExists`, {
        hint: 'write-once objects are never overwritten: write a new version under a new URI, or read the existing one',
        details: { uri: ref.uri },
      });
    }
  }

  private async replace(ref: ObjectRef, tmp: string, dest: string, ino: bigint): Promise<void> {
    const old = await lstat(dest, { bigint: true }).catch(() => undefined);
    if (old?.isDirectory()) throw fileDirConflict(ref.uri, `${ref.uri}/...`);
    await rename(tmp, dest);
    if (old && old.ino !== ino) await removeSidecar(sidecarPath(this.root, ref.bucket, ref.path, old.ino));
  }

  async get(uri: string): Promise<Buffer> {
    const ref = objectRef(uri);
    try {
      return await readFile(this.fileOf(ref));
    } catch (err) {
      const c = errnoCode(err);
      if (c === 'EISDIR' || c === 'ENOTDIR') throw notFound(uri);
      throw mapFsError(err, uri, 'get');
    }
  }

  async stat(uri: string): Promise<ObjectInfo | null> {
    const ref = objectRef(uri);
    const st = await this.fileStat(ref);
    return st ? this.info(ref, st) : null;
  }

  private async fileStat(ref: ObjectRef): Promise<BigIntStats | undefined> {
    try {
      const st = await stat(this.fileOf(ref), { bigint: true });
      return st.isFile() ? st : undefined;
    } catch (err) {
      const c = errnoCode(err);
      if (c === 'ENOENT' || c === 'ENOTDIR') return undefined;
      throw mapFsError(err, ref.uri, 'stat');
    }
  }

  private async info(ref: ObjectRef, st: BigIntStats): Promise<ObjectInfo> {
    const side = await readSidecar(sidecarPath(this.root, ref.bucket, ref.path, st.ino));
    return {
      uri: ref.uri,
      size: Number(st.size),
      updated: new Date(Number(st.mtimeMs)),
      created: new Date(Number(st.mtimeMs)),
      // Every write renames a new file into place: a new inode and mtime, like a new Cloud Storage generation.
      generation: `${st.mtimeNs}-${st.ino}`,
      ...(side?.contentType ? { contentType: side.contentType } : {}),
      metadata: { ...(side?.metadata ?? {}) },
    };
  }

  async exists(uri: string): Promise<boolean> {
    return (await this.fileStat(objectRef(uri))) !== undefined;
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const ref = prefixRef(prefix);
    const bucketDir = join(this.root, ref.bucket);
    // Walk only the directory the prefix can match in: `a/b/pre` → `<bucket>/a/b`, then filter by string prefix
    // (Cloud Storage semantics: `a/pre` matches `a/pre1` and `a/pre/x`).
    const cut = ref.path.lastIndexOf('/');
    const start = cut < 0 ? bucketDir : join(bucketDir, ref.path.slice(0, cut));
    const paths: string[] = [];
    await walk(start, bucketDir, ref.path, paths, prefix);
    const out: ObjectInfo[] = [];
    for (const p of paths) {
      const oref = { uri: toUri(ref.bucket, p), bucket: ref.bucket, path: p };
      const st = await this.fileStat(oref);
      if (st) out.push(await this.info(oref, st));
    }
    return out.sort((a, b) => compareUris(a.uri, b.uri));
  }

  async delete(uri: string): Promise<void> {
    const ref = objectRef(uri);
    const file = this.fileOf(ref);
    const st = await this.fileStat(ref);
    if (!st) return;
    try {
      await unlink(file);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw mapFsError(err, uri, 'delete');
    }
    await removeSidecar(sidecarPath(this.root, ref.bucket, ref.path, st.ino));
    // Drop now-empty parent folders so that `a` can later be written after `a/b` is gone.
    const bucketDir = join(this.root, ref.bucket);
    for (let dir = dirname(file); dir.startsWith(bucketDir + sep); dir = dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        break;
      }
    }
  }

  async download(uri: string, localPath: string): Promise<void> {
    const ref = objectRef(uri);
    const src = this.fileOf(ref);
    if (!(await this.fileStat(ref))) throw notFound(uri);
    const dest = resolve(localPath);
    const tmp = `${dest}.${randomUUID()}.part`;
    try {
      await ensureDir(dirname(dest));
      await copyFile(src, tmp);
      await rename(tmp, dest);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw mapFsError(err, uri, `download to ${localPath}`);
    }
  }

  async localCopy(uri: string): Promise<LocalCopy> {
    const ref = objectRef(uri);
    const st = await this.fileStat(ref);
    if (!st) throw notFound(uri);
    // The object's own file: callers must treat it as read-only.
    return { path: this.fileOf(ref), info: await this.info(ref, st), release: async () => undefined };
  }
}

async function walk(dir: string, bucketDir: string, prefix: string, out: string[], uri: string): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const c = errnoCode(err);
    if (c === 'ENOENT' || c === 'ENOTDIR') return;
    throw mapFsError(err, uri, 'list');
  }
  for (const e of entries) {
    const full = join(dir, e.name);
    const rel = relative(bucketDir, full).split(sep).join('/');
    if (e.isDirectory()) {
      // Descend only where names can still start with the prefix.
      if (prefix.startsWith(`${rel}/`) || `${rel}/`.startsWith(prefix) || rel.startsWith(prefix)) {
        await walk(full, bucketDir, prefix, out, uri);
      }
    } else if (rel.startsWith(prefix)) {
      out.push(rel);
    }
  }
}
