#!/usr/bin/env node
// Package bin. Runs the compiled CLI (dist/, from `npm run build`) when it matches the sources, so `ctloop` starts
// without compiling anything; in a checkout whose dist/ is missing or older than the sources, it runs the TypeScript
// sources through tsx instead (slower start, never stale code). The published package holds dist/ and no sources.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compiledIsCurrent } from './build-stamp.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const fromSources = existsSync(`${root}cli/main.ts`) && (process.env.CTLOOP_FROM_SOURCE === '1' || !compiledIsCurrent(root));
let main;
if (fromSources) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../cli/main.ts'));
} else {
  ({ main } = await import('../dist/cli/main.js'));
}
process.exitCode = await main(process.argv);
