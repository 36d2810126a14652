import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Comments cite what a reader of the repository can open (public docs, a source file at a version, an issue, or
 * docs/ and README files here), never notes that live outside it or paths of a build machine.
 */
const ROOT = join(import.meta.dirname, '../..');
const DIRS = ['shared', 'functions', 'cli', 'emulators', 'infra', 'docs', 'test', 'bench', 'examples'];
const SELF = relative(ROOT, import.meta.filename);

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'fixtures' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (/\.(ts|mjs|js|md|tf|sh|ya?ml)$/.test(name)) yield p;
  }
}

describe('citations', () => {
  it('no file cites REFERENCE.md (not in the repository) or an absolute /work/ path', () => {
    const bad: string[] = [];
    for (const d of DIRS) {
      let exists = true;
      try {
        statSync(join(ROOT, d));
      } catch {
        exists = false;
      }
      if (!exists) continue;
      for (const f of files(join(ROOT, d))) {
        if (relative(ROOT, f) === SELF) continue;
        const text = readFileSync(f, 'utf8');
        if (/REFERENCE\.md|\/work\/shared\//.test(text)) bad.push(relative(ROOT, f));
      }
    }
    expect(bad).toEqual([]);
  });
});
