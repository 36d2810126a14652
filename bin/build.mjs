#!/usr/bin/env node
// `npm run build`: compile the TypeScript sources to dist/ (tsconfig.build.json) and record what was compiled
// (bin/build-stamp.mjs), so bin/ctloop.mjs runs dist/ only while it matches the sources.
//   --if-possible  (the `prepare` script, run by `npm ci`): skip when dist/ is current; when TypeScript is not
//                  installed or the code does not compile, say so and exit 0 — the CLI then runs the sources.
//   --out-dir DIR  build elsewhere (tests); the record is written there.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compiledIsCurrent, snapshot, STAMP } from './build-stamp.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const ifPossible = args.includes('--if-possible');
const outArg = args.indexOf('--out-dir');
const outDir = outArg >= 0 ? resolve(args[outArg + 1] ?? '') : join(root, 'dist');

const giveUp = (msg) => {
  if (!ifPossible) {
    console.error(`error: ${msg}`);
    process.exit(1);
  }
  console.error(`ctloop build skipped: ${msg}\n  the ctloop command runs the TypeScript sources instead (slower start); \`npm run build\` to compile`);
  process.exit(0);
};

// An installed package holds dist/ and no sources: nothing to build.
if (!existsSync(join(root, 'cli/main.ts'))) process.exit(0);
if (ifPossible && compiledIsCurrent(root, outDir)) process.exit(0);
let tsc;
try {
  tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
} catch {
  giveUp('TypeScript is not installed (a devDependency: npm ci installs it)');
}
const sources = snapshot(root); // before compiling: an edit made meanwhile makes the result stale, never "current"
rmSync(outDir, { recursive: true, force: true }); // also removes the record: a failed build is never current
const res = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', outDir], { stdio: 'inherit' });
if (res.status !== 0) giveUp(`tsc -p tsconfig.build.json failed (exit ${res.status ?? res.signal})`);
writeFileSync(join(outDir, STAMP), `${JSON.stringify({ files: sources })}\n`);
