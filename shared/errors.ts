/**
 * Typed errors. Every error says what went wrong and how to fix it, and whether retrying can help:
 * - `permanent` errors (bad input, bad config) are acknowledged and sent to a dead-letter path with their reason;
 * - `transient` errors (a backend that is down, a timeout) are thrown so the platform retries.
 */
export type ErrorKind = 'permanent' | 'transient';

export abstract class CtloopError extends Error {
  abstract readonly kind: ErrorKind;
  abstract readonly code: string;
  /** One sentence on how to fix it, shown to users under the message. */
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(message: string, opts: { hint?: string; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.hint = opts.hint;
    this.details = opts.details;
  }

  /** Message plus hint, as printed by the CLI and logged by functions. */
  describe(): string {
    return this.hint ? `${this.message}\n  fix: ${this.hint}` : this.message;
  }

  toJSON(): Record<string, unknown> {
    return { error: this.code, kind: this.kind, message: this.message, hint: this.hint, details: this.details };
  }
}

/** A setting is missing or invalid: fails at start, names the variable. */
export class ConfigError extends CtloopError {
  readonly kind = 'permanent' as const;
  readonly code = 'CONFIG_INVALID';
}

/** A message, file or argument does not match its schema. Never worth retrying. */
export class ValidationError extends CtloopError {
  readonly kind = 'permanent' as const;
  readonly code = 'VALIDATION_FAILED';
}

/** A named thing (feature view, feature, table, object) does not exist. */
export class NotFoundError extends CtloopError {
  readonly kind = 'permanent' as const;
  readonly code = 'NOT_FOUND';
}

/** A write-once thing (object with ifNotExists, artifact version) already exists. Retrying cannot help. */
export class AlreadyExistsError extends CtloopError {
  readonly kind = 'permanent' as const;
  readonly code = 'ALREADY_EXISTS';
}

/** A schema change that would break stored data or readers (dropped column, changed type). */
export class BreakingChangeError extends CtloopError {
  readonly kind = 'permanent' as const;
  readonly code = 'BREAKING_CHANGE';
}

/** A backend (warehouse, bucket, bus) failed in a way that may pass on retry. */
export class TransientError extends CtloopError {
  readonly kind = 'transient' as const;
  readonly code = 'TRANSIENT';
}

/** A backend refused the request for a reason retrying will not fix (permissions, bad SQL). */
export class BackendError extends CtloopError {
  readonly kind = 'permanent' as const;
  readonly code = 'BACKEND_REJECTED';
}

/** A command line the CLI cannot run (unknown option or command, bad option value): exit 2, see `--help`. */
export class UsageError extends CtloopError { readonly kind = 'permanent' as const; readonly code = 'USAGE'; }

export function isPermanent(err: unknown): boolean {
  return err instanceof CtloopError ? err.kind === 'permanent' : false;
}

export function describeError(err: unknown): string {
  if (err instanceof CtloopError) return err.describe();
  if (err instanceof Error) return err.message;
  return String(err);
}
