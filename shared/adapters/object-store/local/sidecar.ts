import { createHash } from 'node:crypto';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Content type and custom metadata of a local object live in a sidecar file outside the bucket tree:
 * `<root>/.ctloop-meta/<bucket>/<sha256(path)>-<inode>.json`. Keying by the data file's inode ties a sidecar to
 * one version of the object: it is written before the data file is renamed/linked into place (rename and link keep
 * the inode), so a reader never sees new bytes with old metadata, and a losing `ifNotExists` writer never touches
 * the winner's sidecar. Bucket names cannot start with `.`, so `.ctloop-*` never collides with a bucket.
 */
export interface Sidecar {
  contentType?: string;
  metadata?: Record<string, string>;
}

export const META_DIR = '.ctloop-meta';

export function sidecarDir(root: string, bucket: string): string {
  return join(root, META_DIR, bucket);
}

export function sidecarPath(root: string, bucket: string, path: string, ino: bigint): string {
  const h = createHash('sha256').update(path).digest('hex');
  return join(sidecarDir(root, bucket), `${h}-${ino.toString()}.json`);
}

export async function writeSidecar(file: string, data: Sidecar): Promise<void> {
  await writeFile(file, JSON.stringify(data));
}

/** The sidecar, or undefined when the object was written by something else (then metadata is unknown). */
export async function readSidecar(file: string): Promise<Sidecar | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Sidecar;
    return typeof parsed === 'object' && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export async function removeSidecar(file: string): Promise<void> {
  await unlink(file).catch(() => undefined);
}
