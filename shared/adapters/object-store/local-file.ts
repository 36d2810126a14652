import { stat } from 'node:fs/promises';
import { NotFoundError, ValidationError } from '../../errors.js';

/** Checks that `localPath` is a regular file before an upload; NotFoundError / ValidationError otherwise. */
export async function assertLocalFile(localPath: string, uri: string): Promise<number> {
  const st = await stat(localPath).catch(() => undefined);
  if (!st) {
    throw new NotFoundError(`cannot upload ${localPath} to ${uri}: the local file does not exist`, {
      hint: 'check the local path (relative paths resolve from the current directory)', details: { localPath, uri },
    });
  }
  if (!st.isFile()) {
    throw new ValidationError(`cannot upload ${localPath} to ${uri}: not a regular file`, {
      hint: 'upload files one by one', details: { localPath, uri },
    });
  }
  return st.size;
}
