import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Every DuckDB connection ctloop opens works in UTC (see shared/adapters/warehouse/duckdb/connect.ts): DuckDB's
 * default TimeZone is the host's, which shifts TIMESTAMP ↔ TIMESTAMPTZ casts. Product code therefore connects only
 * through `connectUtc`, never with a bare `instance.connect()`.
 */
const ROOT = join(import.meta.dirname, '../..');
const DIRS = ['shared', 'cli', 'functions', 'examples', 'bench'];

function sources(dir: string): string[] {
  let entries: string[];
  try { entries = readdirSync(dir); } catch { return []; }
  return entries.flatMap((e) => {
    const p = join(dir, e);
    if (e === 'node_modules') return [];
    return statSync(p).isDirectory() ? sources(p) : /\.(ts|mts|mjs|js)$/.test(e) ? [p] : [];
  });
}

describe('DuckDB connections', () => {
  it('are opened through connectUtc everywhere in product code', () => {
    const bare = DIRS.flatMap((d) => sources(join(ROOT, d)))
      .filter((p) => !p.endsWith(join('duckdb', 'connect.ts')))
      .filter((p) => {
        const text = readFileSync(p, 'utf8');
        return text.includes('@duckdb/node-api') && /\.connect\(\s*\)/.test(text);
      })
      .map((p) => relative(ROOT, p));
    expect(bare).toEqual([]);
  });
});
