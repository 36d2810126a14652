import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/**
 * `mkdir -p` that always ends: Node 20's `mkdir(path, { recursive: true })` never settles when the kernel answers
 * ENOENT for a parent that exists (e.g. a path under /proc), so a bad output directory hung the command. Each level
 * is created on its own; any error but EEXIST on an existing directory is thrown as it is, naming the level that failed.
 */
export async function ensureDir(path: string): Promise<void> {
  const levels: string[] = [];
  for (let p = resolve(path); dirname(p) !== p; p = dirname(p)) levels.unshift(p);
  for (const p of levels) {
    try {
      await mkdir(p);
    } catch (err) {
      // EEXIST is fine for a directory; a file in the way is the same EEXIST `mkdir -p` reports.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !(await stat(p).then((st) => st.isDirectory(), () => false))) throw err;
    }
  }
}
