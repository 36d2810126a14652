#!/usr/bin/env node
// Stage the deployable source of every function in infra/generated/topology.auto.tfvars.json into
// infra/.build/functions/<name>/ (zipped by Terraform's archive_file in the event_function module).
//
// Each directory holds: dist/shared and dist/functions (compiled by `npm run build`), package-lock.json, the feature
// definitions as features.yaml, and a package.json whose `main` is dist/functions/<name>/index.js and which has no
// scripts (the code is already compiled; the buildpack only installs dependencies). Cloud Functions then runs
// `functions-framework --target=<entry_point>` against that main module.
//
// usage: node infra/scripts/stage-functions.mjs [--features features.yaml]
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const featuresArg = args.indexOf('--features');
const features = resolve(root, featuresArg >= 0 ? args[featuresArg + 1] : 'features.yaml');
const topology = JSON.parse(readFileSync(join(root, 'infra/generated/topology.auto.tfvars.json'), 'utf8'));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

const fail = (msg, hint) => {
  console.error(`error: ${msg}\n  fix: ${hint}`);
  process.exit(1);
};
if (!existsSync(join(root, 'dist'))) fail('dist/ does not exist', 'run `npm run build` first');
if (!existsSync(features)) fail(`feature definitions not found at ${features}`, 'pass --features <file>');

/** Packages only the CLI, the demo and the TypeScript loader use. */
const CLI_ONLY = new Set(['commander', 'tsx', 'vega-datasets']);

const out = join(root, 'infra/.build/functions');
rmSync(out, { recursive: true, force: true });
for (const [name, fn] of Object.entries(topology.functions)) {
  if (!existsSync(join(root, fn.source_path))) fail(`${fn.source_path} is missing for function ${name}`, `add functions/${name}/index.ts and run \`npm run build\``);
  const dir = join(out, name);
  mkdirSync(dir, { recursive: true });
  for (const sub of ['dist/shared', 'dist/functions']) {
    if (existsSync(join(root, sub))) cpSync(join(root, sub), join(dir, sub), { recursive: true, filter: (p) => !p.endsWith('.map') });
  }
  cpSync(features, join(dir, 'features.yaml'));
  // Ship only what a function runs: no devDependencies (the ZetaSQL analyzer and firebase-tools alone are hundreds
  // of MB) and none of the CLI-only packages. Versions are pinned exactly in package.json; the repository's lockfile
  // describes the full dev tree, so it is not shipped (npm ci would refuse the pruned package.json).
  const { scripts: _scripts, bin: _bin, devDependencies: _dev, dependencies = {}, ...rest } = pkg;
  const runtimeDeps = Object.fromEntries(Object.entries(dependencies).filter(([n]) => !CLI_ONLY.has(n)));
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ ...rest, dependencies: runtimeDeps, main: fn.source_path }, null, 2)}\n`);
  console.log(`staged ${name} → infra/.build/functions/${name} (main ${fn.source_path}, target ${fn.entry_point})`);
}
