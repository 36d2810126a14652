import { ValidationError } from '../../errors.js';
import { parseGsUri } from '../../ports/object-store.js';

/**
 * Object names accepted by every adapter, so a URI that works embedded also works on Cloud Storage and back:
 * `gs://bucket/a/b.txt` with non-empty `/`-separated segments, none `.` or `..`, no control characters, at most
 * 1024 UTF-8 bytes (the Cloud Storage limit). Folder placeholders (`a/`) are not objects here.
 */
export interface ObjectRef {
  uri: string;
  bucket: string;
  path: string;
}

const CONTROL = /[\u0000-\u001f\u007f]/;

function invalid(uri: string, why: string): ValidationError {
  return new ValidationError(`invalid object URI ${JSON.stringify(uri)}: ${why}`, {
    hint: 'use gs://<bucket>/<path> with a lowercase bucket name and a relative path such as gs://ctloop-artifacts/models/m1/model.bst',
    details: { uri },
  });
}

function checkSegments(uri: string, path: string, allowTrailingSlash: boolean): void {
  if (Buffer.byteLength(path, 'utf8') > 1024) throw invalid(uri, 'object names are limited to 1024 bytes');
  if (CONTROL.test(path)) throw invalid(uri, 'object names cannot contain control characters');
  if (path.startsWith('/')) throw invalid(uri, 'the path must be relative (no leading "/")');
  const segs = path.split('/');
  if (allowTrailingSlash && segs.length > 1 && segs[segs.length - 1] === '') segs.pop();
  for (const s of segs) {
    if (s === '') throw invalid(uri, 'empty path segment ("//" or a trailing "/")');
    if (s === '.' || s === '..') throw invalid(uri, `"${s}" segments are not allowed (no path traversal)`);
  }
}

function parse(uri: string): { bucket: string; path: string } {
  if (typeof uri !== 'string') throw invalid(String(uri), 'not a string');
  try {
    return parseGsUri(uri);
  } catch {
    throw invalid(uri, 'not a gs://bucket/path URI (bucket names are 3-222 chars of a-z, 0-9, ., _, -)');
  }
}

/** A URI naming one object. Throws ValidationError. */
export function objectRef(uri: string): ObjectRef {
  const { bucket, path } = parse(uri);
  if (path === '') throw invalid(uri, 'no object path after the bucket');
  checkSegments(uri, path, false);
  return { uri, bucket, path };
}

/** A list prefix: `gs://bucket`, `gs://bucket/`, `gs://bucket/a/`, `gs://bucket/a/pre`. Throws ValidationError. */
export function prefixRef(uri: string): ObjectRef {
  const { bucket, path } = parse(uri);
  if (path !== '') checkSegments(uri, path, true);
  return { uri, bucket, path };
}

export function toUri(bucket: string, path: string): string {
  return `gs://${bucket}/${path}`;
}

/** Sort order of Cloud Storage listings: by UTF-8 bytes of the name. */
export function compareUris(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function checkMetadata(uri: string, metadata: Record<string, string> | undefined): void {
  if (metadata === undefined) return;
  for (const [k, v] of Object.entries(metadata)) {
    if (k === '' || typeof v !== 'string') {
      throw new ValidationError(`metadata for ${uri} must map non-empty keys to strings (key ${JSON.stringify(k)})`, {
        hint: 'convert metadata values to strings (e.g. String(n) or JSON.stringify(obj))',
        details: { uri, key: k },
      });
    }
  }
}

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
