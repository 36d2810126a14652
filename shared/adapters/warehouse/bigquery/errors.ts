import { BackendError, CtloopError, TransientError } from '../../../errors.js';

/** Reasons BigQuery documents as retryable (https://cloud.google.com/bigquery/docs/error-messages). */
const TRANSIENT_REASONS = new Set([
  'backendError', 'internalError', 'rateLimitExceeded', 'jobRateLimitExceeded', 'quotaExceeded', 'jobBackendError',
  'jobInternalError', 'tableUnavailable', 'timeout',
]);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EPIPE', 'ESOCKETTIMEDOUT']);

interface ApiErrorLike {
  code?: number | string;
  message?: string;
  errors?: { reason?: string; message?: string; location?: string }[];
}

/** Map an error from the BigQuery client (ApiError, job error, network error) to a typed ctloop error. */
export function mapBigQueryError(err: unknown, what: string, sql?: string): Error {
  if (err instanceof CtloopError) return err;
  const e = (err ?? {}) as ApiErrorLike;
  const status = typeof e.code === 'number' ? e.code : undefined;
  const reasons = (e.errors ?? []).map((x) => x.reason).filter((r): r is string => !!r);
  const reason = reasons[0];
  const message = `BigQuery ${what} failed${status ? ` (HTTP ${status}${reason ? `, ${reason}` : ''})` : reason ? ` (${reason})` : ''}: ${e.message ?? String(err)}`;
  const details = { status, reasons, ...(sql ? { sql: sql.slice(0, 2000) } : {}) };
  const opts = { details, cause: err };
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) {
    // No answer at all (DNS, refused, reset): the network, not BigQuery, is the likely cause.
    return new TransientError(message, { ...opts, hint: `Google Cloud could not be reached (${e.code}): check the network, DNS and any proxy (HTTPS_PROXY); the operation is retried with backoff` });
  }
  if ((status !== undefined && (status >= 500 || status === 429 || status === 408)) || reasons.some((r) => TRANSIENT_REASONS.has(r))) {
    return new TransientError(message, { ...opts, hint: 'BigQuery is busy or unavailable; the operation is retried with backoff' });
  }
  // Concurrent mutating DML on one table: BigQuery aborts one of the conflicting jobs; running it again succeeds.
  if (/could not serialize access|concurrent update|too many DML statements outstanding/i.test(e.message ?? '')) {
    return new TransientError(message, { ...opts, hint: 'another job changed the table at the same time; the operation is retried' });
  }
  // A missing table or a missing grant is a deployment fault, not a bad message: report it as transient so the
  // message is retried, then lands on the subscription's dead-letter topic (which is alerted) instead of being
  // acknowledged as permanently bad.
  if (status === 404 || reason === 'notFound') {
    return new TransientError(message, {
      ...opts, hint: 'check CTLOOP_BQ_DATASET and GOOGLE_CLOUD_PROJECT, and create the tables (terraform apply, or `ctloop features apply`)',
    });
  }
  if (status === 403 || reason === 'accessDenied') {
    return new TransientError(message, {
      ...opts, hint: 'grant the service account roles/bigquery.dataEditor on the dataset and roles/bigquery.jobUser on the project',
    });
  }
  if (reason === 'invalidQuery' || reason === 'invalid') {
    return new BackendError(message, {
      ...opts, hint: 'BigQuery rejected the SQL; if ctloop generated it, report it with details.sql (and the location in the message)',
    });
  }
  return new BackendError(message, { ...opts, hint: 'see the BigQuery error reason in the message and fix the request or the data' });
}

export function isNotFound(err: unknown): boolean {
  const e = (err ?? {}) as ApiErrorLike;
  return e.code === 404 || (e.errors ?? []).some((x) => x.reason === 'notFound');
}

export function isDuplicate(err: unknown): boolean {
  const e = (err ?? {}) as ApiErrorLike;
  return e.code === 409 || (e.errors ?? []).some((x) => x.reason === 'duplicate');
}
