import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * ctloop's own package.json, found from this module upward: the same code runs from the sources (cli/), from the
 * build (dist/cli/) and from an installed package, which sit at different depths below it.
 */
export function packageInfo(from = dirname(fileURLToPath(import.meta.url))): { name: string; version: string } {
  for (let dir = from; ; dir = dirname(dir)) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'ctloop' && pkg.version) return { name: pkg.name, version: pkg.version };
    }
    if (dirname(dir) === dir) throw new Error(`ctloop's package.json was not found above ${from}`);
  }
}
