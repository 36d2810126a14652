import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { ensureDir } from '../ensure-dir.js';
import { dirname, join } from 'node:path';
import { staleFiles } from '../topology/stale.js';

/** File side of `ctloop events schema`: read, compare and write the generated directory (docs/events). */
async function readDir(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(join(dir, rel), { withFileTypes: true });
    } catch {
      return; // missing: reported as missing
    }
    for (const e of entries) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(path);
      else if (/\.(json|yaml)$/.test(e.name)) out[path] = await readFile(join(dir, path), 'utf8');
    }
  };
  await walk('');
  return out;
}

/** One line per stale file (missing, out of date, no longer generated); empty when up to date. */
export async function checkEventDocs(dir: string, files: Record<string, string>): Promise<string[]> {
  return staleFiles(files, await readDir(dir));
}

export async function writeEventDocs(dir: string, files: Record<string, string>): Promise<{ written: string[]; removed: string[] }> {
  const current = await readDir(dir);
  const written: string[] = [];
  const removed: string[] = [];
  for (const [path, content] of Object.entries(files)) {
    if (current[path] === content) continue;
    await ensureDir(dirname(join(dir, path)));
    await writeFile(join(dir, path), content);
    written.push(path);
  }
  for (const path of Object.keys(current)) {
    if (!(path in files)) {
      await rm(join(dir, path));
      removed.push(path);
    }
  }
  return { written, removed };
}
