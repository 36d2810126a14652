/**
 * Storage Write API failures as ctloop errors. gRPC codes that pass on retry (UNAVAILABLE, ABORTED, INTERNAL,
 * DEADLINE_EXCEEDED, CANCELLED, RESOURCE_EXHAUSTED) are transient: the event is redelivered and appended again
 * (readers keep one row per ingest id). INVALID_ARGUMENT with a schema message means the table and the feature view
 * disagree (a permanent ConfigError naming `ctloop features apply`); row errors and other INVALID_ARGUMENTs are
 * ValidationErrors; NOT_FOUND is a missing table or dataset; PERMISSION_DENIED names the role to grant.
 */
import { BackendError, ConfigError, NotFoundError, TransientError, ValidationError, type CtloopError } from '../../../../errors.js';

const RETRYABLE = new Set([1, 4, 8, 10, 13, 14]); // CANCELLED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNAVAILABLE

export interface StorageFailure {
  code?: number | null;
  message?: string | null;
}

export interface RowError {
  index?: unknown;
  message?: string | null;
}

export function isRetryableStorageCode(code: number | null | undefined): boolean {
  return code !== null && code !== undefined && RETRYABLE.has(code);
}

export function mapStorageError(err: StorageFailure, table: string, rowErrors: RowError[] = []): CtloopError {
  const code = err.code ?? undefined;
  const message = `Storage Write API append to ${table} failed: ${err.message ?? 'unknown error'}`;
  const details = { table, grpcCode: code, ...(rowErrors.length ? { rowErrors: rowErrors.slice(0, 5).map((r) => ({ index: Number(r.index), message: r.message })) } : {}) };
  if (isRetryableStorageCode(code)) return new TransientError(message, { hint: 'retry the append (the event is redelivered; readers keep one row per ingest id)', details, cause: err });
  if (rowErrors.length > 0) {
    const first = rowErrors[0]!;
    return new ValidationError(`${message} (row ${Number(first.index)}: ${first.message})`, { hint: 'the rows were validated against the feature view: check that the table was created by `ctloop features apply` for this view', details, cause: err });
  }
  if (code === 3 && /schema|field|column/i.test(err.message ?? '')) {
    return new ConfigError(message, { hint: 'the table schema differs from the feature view: run `ctloop features apply` so the table has every column of the view', details, cause: err });
  }
  if (code === 5) return new NotFoundError(message, { hint: 'create the table with `ctloop features apply` (and check the dataset and project)', details, cause: err });
  if (code === 7) return new BackendError(message, { hint: 'grant the service account roles/bigquery.dataEditor on the dataset (bigquery.tables.updateData)', details, cause: err });
  if (code === 3) return new ValidationError(message, { hint: 'the append request was rejected as malformed; report it with the details', details, cause: err });
  return new BackendError(message, { hint: 'check the BigQuery Storage Write API status and quotas for the project', details, cause: err });
}
