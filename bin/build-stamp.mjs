// Whether dist/ holds the compiled form of the TypeScript sources as they are now. `npm run build` records the size
// and modification time of every source file it compiles (read before compiling, so an edit made during the build
// counts as a change); bin/ctloop.mjs runs dist/ only when the sources still match that record.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Everything tsconfig.build.json compiles, plus the compiler settings. */
export const SOURCE_DIRS = ['cli', 'shared', 'functions', 'examples'];
export const SOURCE_FILES = ['tsconfig.json', 'tsconfig.build.json'];
export const STAMP = '.ctloop-build.json';

/** path → [size, mtime] of every source file. */
export function snapshot(root) {
  const files = {};
  const add = (rel) => {
    const s = statSync(join(root, rel));
    files[rel] = [s.size, s.mtimeMs];
  };
  const walk = (rel) => {
    for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
      const p = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|mts|cts|json)$/.test(e.name)) add(p);
    }
  };
  for (const d of SOURCE_DIRS) if (existsSync(join(root, d))) walk(d);
  for (const f of SOURCE_FILES) if (existsSync(join(root, f))) add(f);
  return files;
}

/** True when `distDir` was built from the sources exactly as they are now. */
export function compiledIsCurrent(root, distDir = join(root, 'dist')) {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(join(distDir, STAMP), 'utf8'));
  } catch {
    return false;
  }
  if (!existsSync(join(distDir, 'cli/main.js'))) return false;
  const now = snapshot(root);
  const was = stamp.files ?? {};
  const names = Object.keys(now);
  if (names.length !== Object.keys(was).length) return false;
  return names.every((n) => was[n] && was[n][0] === now[n][0] && was[n][1] === now[n][1]);
}
