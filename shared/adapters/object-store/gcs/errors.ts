import { AlreadyExistsError, BackendError, CtloopError, NotFoundError, TransientError, ValidationError } from '../../../errors.js';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_SOCKET']);

/** HTTP status of a @google-cloud/storage error (ApiError.code, or the response status), if any. */
export function httpStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; status?: unknown; response?: { status?: unknown } };
  for (const v of [e.code, e.status, e.response?.status]) {
    const n = typeof v === 'string' && /^\d{3}$/.test(v) ? Number(v) : v;
    if (typeof n === 'number' && n >= 100 && n < 600) return n;
  }
  return undefined;
}

function networkCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string' && NETWORK_CODES.has(c)) return c;
  }
  return undefined;
}

/**
 * Maps a Cloud Storage error to a typed error: 404 → NotFoundError, 412 on an `ifNotExists` write →
 * AlreadyExistsError, 429 / 408 / 5xx / network errors / 403 (IAM propagation) / CONTENT_DOWNLOAD_MISMATCH →
 * TransientError (retried a bounded number of times by redelivery), 401 → BackendError (fix credentials), anything
 * else → BackendError.
 */
export function mapGcsError(err: unknown, uri: string, op: string, opts: { ifNotExists?: boolean; endpoint?: string } = {}): CtloopError {
  if (err instanceof CtloopError) return err;
  const status = httpStatus(err);
  const msg = err instanceof Error ? err.message : String(err);
  const details = { uri, op, status };
  if (status === 404) {
    if (/bucket/i.test(msg) && /not exist|not found/i.test(msg)) {
      return new NotFoundError(`${op} ${uri}: the bucket does not exist (${msg})`, {
        hint: 'create the bucket (infra/ Terraform) or fix CTLOOP_ARTIFACT_BUCKET', details, cause: err,
      });
    }
    return new NotFoundError(`object ${uri} does not exist`, { hint: 'check the URI or write the object first', details, cause: err });
  }
  if (status === 412) {
    if (opts.ifNotExists) {
      return new AlreadyExistsError(`object ${uri} already exists and was written with ifNotExists`, {
        hint: 'write-once objects are never overwritten: write a new version under a new URI, or read the existing one',
        details, cause: err,
      });
    }
    return new BackendError(`${op} ${uri}: precondition failed (${msg})`, { hint: 'the object changed concurrently; re-read and retry', details, cause: err });
  }
  if (status === 429 || status === 408 || (status !== undefined && status >= 500)) {
    return new TransientError(`${op} ${uri}: Cloud Storage answered ${status} (${msg})`, {
      hint: 'temporary; the platform retries with backoff', details, cause: err,
    });
  }
  if (status === 403) {
    // Retried (bounded: the event is redelivered up to maxDeliveryAttempts, then dead-lettered with this reason):
    // a role granted a moment ago takes minutes to apply (https://cloud.google.com/iam/docs/access-change-propagation).
    return new TransientError(`${op} ${uri}: permission denied by Cloud Storage (${status}: ${msg})`, {
      hint: 'grant the service account roles/storage.objectAdmin on the bucket; if it was just granted, IAM changes take minutes to propagate and the event is retried',
      details, cause: err,
    });
  }
  if (status === 401) {
    return new BackendError(`${op} ${uri}: permission denied by Cloud Storage (${status}: ${msg})`, {
      hint: 'grant the service account roles/storage.objectAdmin on the bucket, or run `gcloud auth application-default login`',
      details, cause: err,
    });
  }
  if (status === 400) {
    return new ValidationError(`${op} ${uri}: Cloud Storage rejected the request (${msg})`, { hint: 'check the object name and metadata', details, cause: err });
  }
  if ((err as { code?: unknown } | null)?.code === 'CONTENT_DOWNLOAD_MISMATCH') {
    // @google-cloud/storage: the downloaded bytes failed the md5/crc32c check; its message says to download again.
    return new TransientError(`${op} ${uri}: the downloaded bytes did not match their checksum (${msg})`, {
      hint: 'temporary (a corrupted transfer); the download is retried', details: { ...details, code: 'CONTENT_DOWNLOAD_MISMATCH' }, cause: err,
    });
  }
  const net = networkCode(err);
  if (net) {
    return new TransientError(`${op} ${uri}: cannot reach Cloud Storage${opts.endpoint ? ` at ${opts.endpoint}` : ''} (${net})`, {
      hint: opts.endpoint ? 'start the emulator (emulators/start.sh) or fix STORAGE_EMULATOR_HOST' : 'check network access to storage.googleapis.com',
      details: { ...details, code: net }, cause: err,
    });
  }
  return new BackendError(`${op} ${uri}: Cloud Storage error (${msg})`, { hint: 'see the cause; check credentials and the bucket', details, cause: err });
}
