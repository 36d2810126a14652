import { BackendError, CtloopError, NotFoundError, TransientError, ValidationError } from '../../../errors.js';

export function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

export function notFound(uri: string): NotFoundError {
  return new NotFoundError(`object ${uri} does not exist`, {
    hint: 'check the URI (list the prefix with `ctloop` or the store) or write the object first',
    details: { uri },
  });
}

/** Maps a filesystem error from the local object store to a typed error. */
export function mapFsError(err: unknown, uri: string, op: string): CtloopError {
  if (err instanceof CtloopError) return err;
  const code = errnoCode(err);
  const msg = err instanceof Error ? err.message : String(err);
  const details = { uri, op, code };
  switch (code) {
    case 'ENOENT':
      return notFound(uri);
    case 'ENAMETOOLONG':
      return new ValidationError(`${op} ${uri}: a path segment is too long for the local filesystem (${msg})`, {
        hint: 'keep each path segment under 255 bytes', details, cause: err,
      });
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new BackendError(`${op} ${uri}: permission denied on the local object store (${msg})`, {
        hint: 'make CTLOOP_STATE_DIR writable by this user, or point it elsewhere', details, cause: err,
      });
    case 'ENOSPC':
    case 'EMFILE':
    case 'ENFILE':
    case 'EBUSY':
    case 'EAGAIN':
    case 'EIO':
      return new TransientError(`${op} ${uri}: local filesystem error ${code} (${msg})`, {
        hint: code === 'ENOSPC' ? 'free disk space under CTLOOP_STATE_DIR' : 'retry; if it persists check the disk and open-file limits',
        details, cause: err,
      });
    default:
      return new BackendError(`${op} ${uri}: local filesystem error ${code ?? ''} (${msg})`, {
        hint: 'check CTLOOP_STATE_DIR (it must be a local, writable directory)', details, cause: err,
      });
  }
}

/** Raised when a name is used both as an object and as a "directory" (`a` and `a/b`), which a filesystem cannot hold. */
export function fileDirConflict(uri: string, other: string): ValidationError {
  return new ValidationError(
    `cannot store ${uri} in the local object store: ${other} exists, and a local directory cannot hold both a file and a folder of the same name`,
    { hint: 'use distinct prefixes (e.g. model/model.bst rather than model and model/...), or the gcs object store', details: { uri, conflictsWith: other } },
  );
}
