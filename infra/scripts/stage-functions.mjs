#!/usr/bin/env node
// Stage the deployable source of every function in infra/generated/topology.auto.tfvars.json into
// infra/.build/functions/<name>/ (zipped by Terraform's archive_file in the event_function module).
//
// Each directory holds only what the function loads: the compiled files reachable from dist/functions/<name>/index.js
// (compiled by `npm run build`; dynamic imports of embedded-only adapters such as DuckDB are not followed), the
// feature definitions as features.yaml, a package.json whose `main` is that file, with no scripts and with only the
// npm packages those files import, pinned to the root lockfile's versions, and a package-lock.json cut out of the root
// lockfile (same versions and integrity hashes, derived offline). The buildpack runs `npm ci` against it, so nothing
// floats at deploy time, then `functions-framework --target=<entry_point>`.
//
// A function whose code records the code version (shared/training/code-version.ts: launch-training) also gets
// build-info.json, {"commit": "<sha>", "dirty": <bool>}: a deployed function has no git. The commit is --commit, else
// $COMMIT_SHA (Cloud Build), else `git rev-parse HEAD` of the root (dirty when tracked files differ from it).
//
// usage: node infra/scripts/stage-functions.mjs [--features features.yaml] [--root <repository root>] [--commit <sha>]
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { directorySize, functionLock, installedSize, relativeTo, traceImports } from './function-package.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const root = resolve(option('--root', resolve(dirname(fileURLToPath(import.meta.url)), '../..')));
const features = resolve(root, option('--features', 'features.yaml'));

const fail = (msg, hint) => {
  console.error(`error: ${msg}\n  fix: ${hint}`);
  process.exit(1);
};
if (!existsSync(join(root, 'dist'))) fail('dist/ does not exist', 'run `npm run build` first');
if (!existsSync(features)) fail(`feature definitions not found at ${features}`, 'pass --features <file>');
if (!existsSync(join(root, 'package-lock.json'))) fail('package-lock.json does not exist', 'run `npm install` to create it');

// The commit being staged (see the header).
function buildInfo() {
  const given = option('--commit', process.env.COMMIT_SHA || '');
  if (given) {
    if (!/^[0-9a-f]{7,40}$/.test(given)) fail(`--commit ${given} is not a git commit`, 'pass the full or short hexadecimal SHA, e.g. --commit "$COMMIT_SHA"');
    return { commit: given, dirty: false };
  }
  const git = (...a) => spawnSync('git', a, { cwd: root, encoding: 'utf8', timeout: 10_000 });
  const head = git('rev-parse', 'HEAD');
  if (head.status !== 0 || !/^[0-9a-f]{40}$/.test(head.stdout.trim())) return null;
  const status = git('status', '--porcelain', '--untracked-files=no');
  return { commit: head.stdout.trim(), dirty: status.status !== 0 || status.stdout.trim() !== '' };
}
const build = buildInfo();
if (!build) console.warn('warning: no commit known (no --commit, no $COMMIT_SHA, not a git checkout): training runs will record code version "unknown"');

const topology = JSON.parse(readFileSync(join(root, 'infra/generated/topology.auto.tfvars.json'), 'utf8'));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const rootLock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;

const out = join(root, 'infra/.build/functions');
rmSync(out, { recursive: true, force: true });
for (const [name, fn] of Object.entries(topology.functions)) {
  const entry = join(root, fn.source_path);
  if (!existsSync(entry)) fail(`${fn.source_path} is missing for function ${name}`, `add functions/${name}/index.ts and run \`npm run build\``);
  const dir = join(out, name);
  mkdirSync(dir, { recursive: true });

  let traced;
  let deps;
  try {
    traced = traceImports(entry);
    deps = functionLock(rootLock, { name: `ctloop-${name}`, version: pkg.version, packageNames: traced.packages });
  } catch (e) {
    fail(`function ${name}: ${e.message}`, 'fix the import or the dependency, then run `npm run build` and stage again');
  }
  for (const f of traced.files) cpSync(f, join(dir, relativeTo(root, f)));
  cpSync(features, join(dir, 'features.yaml'));
  // Model definitions (launch-training reads models.yaml beside features.yaml: shared/config/config.ts).
  const models = join(dirname(features), 'models.yaml');
  if (existsSync(models)) cpSync(models, join(dir, 'models.yaml'));
  // Only where the code reads it: the commit changes the archive's hash, so a function with build-info.json redeploys
  // at every commit; the others keep redeploying only when their own files change.
  const stamped = Boolean(build) && traced.files.some((f) => f.endsWith(join('shared', 'training', 'code-version.js')));
  if (stamped) writeFileSync(join(dir, 'build-info.json'), `${JSON.stringify(build)}\n`);

  const { scripts: _scripts, bin: _bin, devDependencies: _dev, dependencies: _deps, ...rest } = pkg;
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ ...rest, name: `ctloop-${name}`, main: fn.source_path, dependencies: deps.dependencies }, null, 2)}\n`);
  writeFileSync(join(dir, 'package-lock.json'), `${JSON.stringify(deps.lock, null, 2)}\n`);

  const source = directorySize(dir);
  const installed = installedSize(deps.lock, root);
  console.log(
    `staged ${name} → infra/.build/functions/${name}: ${traced.files.length} files (${mb(source)}), ` +
      `${Object.keys(deps.dependencies).length} dependencies, ${Object.keys(deps.lock.packages).length - 1} packages installed` +
      (installed > 0 ? ` (${mb(installed)})` : '') +
      ` — deployed ≈ ${mb(source + installed)}; main ${fn.source_path}, target ${fn.entry_point}` +
      (stamped ? `; build-info.json: commit ${build.commit.slice(0, 12)}${build.dirty ? ' (dirty)' : ''}` : ''),
  );
}
