import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ConfigError } from '../errors.js';
import { ensureDir } from '../ensure-dir.js';

/**
 * The state directory (CTLOOP_STATE_DIR) holds the DuckDB file, the local object store and the bus journal.
 * It is checked once, before any adapter touches it, so a path that is a file, lies under a file, or cannot be
 * written gives one ConfigError naming CTLOOP_STATE_DIR and the fix, rather than a raw EEXIST/ENOTDIR/DuckDB IO
 * error from whichever adapter happens to touch it first.
 *
 * `read` access (commands that only read) needs no write permission and accepts a directory that does not exist
 * yet (nothing was ingested: each reader answers "empty"); `write` access creates the directory.
 */
export type StateAccess = 'read' | 'write';

/** What lives in the state directory, and whether each entry is a file or a folder. */
export interface StateEntry {
  path: string;
  kind: 'file' | 'dir';
}

const READ_ONLY_COMMANDS = '`features online`, `features historical`, `dead-letters list` and `drift history`';

function errno(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

function stateError(dir: string, what: string, hint: string, code: string | undefined, cause?: unknown): ConfigError {
  return new ConfigError(`state directory ${dir} (CTLOOP_STATE_DIR) ${what}`, {
    hint, details: { variable: 'CTLOOP_STATE_DIR', path: dir, ...(code ? { code } : {}) }, ...(cause ? { cause } : {}),
  });
}

/** The nearest existing ancestor of `p` that is not a directory, if any (for ENOTDIR/EEXIST messages). */
async function fileAncestor(p: string): Promise<string | undefined> {
  for (let cur = p; ; cur = dirname(cur)) {
    const st = await stat(cur).catch(() => undefined);
    if (st) return st.isDirectory() ? undefined : cur;
    if (dirname(cur) === cur) return undefined;
  }
}

async function notADirectory(dir: string, code: string | undefined, cause: unknown): Promise<ConfigError> {
  const file = await fileAncestor(dir);
  const where = file === undefined || file === dir ? 'is a file, not a directory' : `lies under ${file}, which is a file`;
  return stateError(dir, where,
    `point CTLOOP_STATE_DIR at a directory (e.g. export CTLOOP_STATE_DIR=${join(dirname(file ?? dir), '.ctloop')}), or move ${file ?? dir} away`,
    code, cause);
}

function permissionDenied(dir: string, mode: StateAccess, code: string | undefined, cause: unknown): ConfigError {
  return mode === 'write'
    ? stateError(dir, `is not writable (${code ?? 'permission denied'})`,
      `make it writable by this user (chmod u+w ${dir}) or point CTLOOP_STATE_DIR at a writable directory; ${READ_ONLY_COMMANDS} only read and work on a read-only state directory`,
      code, cause)
    : stateError(dir, `cannot be read (${code ?? 'permission denied'})`,
      `make it readable by this user (chmod u+rx ${dir}) or point CTLOOP_STATE_DIR at the state directory you used`, code, cause);
}

async function classify(dir: string, mode: StateAccess, err: unknown): Promise<ConfigError> {
  const code = errno(err);
  if (code === 'EEXIST' || code === 'ENOTDIR') return notADirectory(dir, code, err);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return permissionDenied(dir, mode, code, err);
  return stateError(dir, `cannot be used: ${(err as Error).message ?? String(err)}`,
    'point CTLOOP_STATE_DIR at a local directory this user can read and write', code, err);
}

/**
 * Check the state directory and the entries ctloop keeps in it. Throws ConfigError naming CTLOOP_STATE_DIR.
 * Returns whether the directory exists (a read-only check of a missing directory returns false).
 */
export async function checkStateDir(dir: string, mode: StateAccess, entries: StateEntry[] = []): Promise<boolean> {
  if (mode === 'write') {
    try {
      await ensureDir(dir);
    } catch (err) {
      throw await classify(dir, mode, err);
    }
  }
  let st;
  try {
    st = await stat(dir);
  } catch (err) {
    if (errno(err) === 'ENOENT') return false;
    throw await classify(dir, mode, err);
  }
  if (!st.isDirectory()) throw await notADirectory(dir, 'ENOTDIR', undefined);
  try {
    // access() asks the kernel, so it is right for root, read-only mounts and ACLs alike.
    await access(dir, mode === 'write' ? constants.R_OK | constants.W_OK | constants.X_OK : constants.R_OK | constants.X_OK);
  } catch (err) {
    throw await classify(dir, mode, err);
  }
  for (const e of entries) await checkEntry(dir, e, mode);
  return true;
}

async function checkEntry(dir: string, e: StateEntry, mode: StateAccess): Promise<void> {
  let st;
  try {
    st = await stat(e.path);
  } catch (err) {
    if (errno(err) === 'ENOENT') return;
    throw await classify(dir, mode, err);
  }
  const isDir = st.isDirectory();
  if (isDir !== (e.kind === 'dir')) {
    throw stateError(dir, `holds ${basename(e.path)} as a ${isDir ? 'directory' : 'file'}, where ctloop keeps a ${e.kind === 'dir' ? 'directory' : 'file'}`,
      `move ${e.path} away, or point CTLOOP_STATE_DIR at a directory of its own`, undefined);
  }
  if (mode === 'read') return;
  try {
    await access(e.path, e.kind === 'dir' ? constants.W_OK | constants.X_OK : constants.R_OK | constants.W_OK);
  } catch (err) {
    const code = errno(err);
    throw stateError(dir, `holds ${e.path}, which is not writable (${code ?? 'permission denied'})`,
      `make it writable by this user (chmod -R u+w ${dir}) or point CTLOOP_STATE_DIR elsewhere; ${READ_ONLY_COMMANDS} only read and work without write access`, code, err);
  }
}
