// What one deployed function ships: the compiled files its entry module loads, the npm packages those files import,
// pinned to the root lockfile's versions, and a package-lock.json cut out of the root lockfile (offline and
// deterministic: the same versions and integrity hashes as the tested tree, nothing resolved at deploy time).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/**
 * Adapters only the embedded mode uses. A function reaches them only through a dynamic import chosen by
 * configuration (CTLOOP_MODE=gcp never takes it), so such an import is not followed. A static import always is.
 */
export const EMBEDDED_ONLY = /[\\/]shared[\\/]adapters[\\/][^\\/]+[\\/](duckdb|memory|local)[\\/]/;

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
export function packageName(spec) {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

const isBuiltin = (spec) => spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0]);

const transpiled = new Map();

/** Reads a compiled module (dist/*.js), or transpiles the TypeScript source next to it (tests, no build needed). */
export function readModule(file) {
  if (!file.endsWith('.ts') && existsSync(file)) return { file, code: readFileSync(file, 'utf8') };
  const tsFile = file.replace(/\.js$/, '.ts');
  if (tsFile.endsWith('.ts') && existsSync(tsFile)) {
    const source = readFileSync(tsFile, 'utf8');
    const key = `${tsFile}\0${source}`;
    if (!transpiled.has(key)) {
      const out = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.NodeNext, target: ts.ScriptTarget.ES2022 }, fileName: tsFile });
      transpiled.set(key, out.outputText);
    }
    return { file: tsFile, code: transpiled.get(key) };
  }
  return null;
}

/**
 * Follows the imports of an entry module (static ones always, dynamic ones unless into an embedded-only adapter).
 * Returns the files it loads and the npm packages they import (type-only imports are erased by compilation).
 */
export function traceImports(entry) {
  const files = new Set();
  const packages = new Set();
  const skipped = new Set();
  const queue = [resolve(entry)];
  while (queue.length > 0) {
    const wanted = queue.shift();
    const mod = readModule(wanted);
    if (!mod) throw new Error(`cannot read ${wanted} (imported by the function): run \`npm run build\``);
    if (files.has(mod.file)) continue;
    files.add(mod.file);
    if (!/\.[cm]?[jt]s$/.test(mod.file)) continue;
    const info = ts.preProcessFile(mod.code, true, true);
    for (const ref of info.importedFiles) {
      const spec = ref.fileName;
      const dynamic = /import\s*\(\s*['"`]?$/.test(mod.code.slice(0, ref.pos));
      if (spec.startsWith('.') || spec.startsWith('/')) {
        const target = resolve(dirname(mod.file), spec);
        if (dynamic && EMBEDDED_ONLY.test(target)) {
          skipped.add(target);
          continue;
        }
        queue.push(target);
      } else if (!isBuiltin(spec)) {
        packages.add(packageName(spec));
      }
    }
  }
  return { files: [...files].sort(), packages: [...packages].sort(), skipped: [...skipped].sort() };
}

/** Where Node finds `dep` required from the package installed at `from` ('' = the project root), in a lockfile. */
export function resolveInLock(packages, from, dep) {
  let base = from;
  for (;;) {
    const candidate = `${base ? `${base}/` : ''}node_modules/${dep}`;
    if (packages[candidate]) return candidate;
    if (!base) return null;
    const i = base.lastIndexOf('node_modules/');
    base = i <= 0 ? '' : base.slice(0, i - 1);
  }
}

/** Edges of a lockfile entry: [name, optional]. Optional peers are not installed unless something else needs them. */
function edges(entry) {
  const out = [];
  for (const d of Object.keys(entry.dependencies ?? {})) out.push([d, false]);
  for (const d of Object.keys(entry.optionalDependencies ?? {})) out.push([d, true]);
  for (const d of Object.keys(entry.peerDependencies ?? {})) if (!entry.peerDependenciesMeta?.[d]?.optional) out.push([d, false]);
  return out;
}

/**
 * package.json dependencies (exact versions from the root lockfile) and the package-lock.json of a function whose
 * code imports `packageNames`. The lockfile keeps the root lockfile's entries (same paths, versions, integrity) for
 * exactly the packages reachable from those dependencies.
 */
export function functionLock(rootLock, { name, version, packageNames }) {
  const all = rootLock.packages;
  const dependencies = {};
  for (const p of [...packageNames].sort()) {
    const entry = all[`node_modules/${p}`];
    if (!entry) throw new Error(`${p} is imported by the function but is not in the root package-lock.json: add it to package.json dependencies and run npm install`);
    dependencies[p] = entry.version;
  }
  // Breadth-first over [path, reachedOnlyThroughOptional]; a path reached through a required edge is required.
  const optional = new Map();
  const queue = Object.keys(dependencies).map((d) => ['', d, false]);
  while (queue.length > 0) {
    const [from, dep, viaOptional] = queue.shift();
    const path = resolveInLock(all, from, dep);
    if (!path) {
      if (viaOptional) continue;
      throw new Error(`${dep} (needed by ${from || 'the function'}) is missing from the root package-lock.json: run npm install`);
    }
    const seen = optional.get(path);
    if (seen === false || (seen === true && viaOptional)) continue;
    optional.set(path, viaOptional);
    for (const [d, opt] of edges(all[path])) queue.push([path, d, viaOptional || opt]);
  }
  const packages = { '': { name, version, dependencies } };
  for (const path of [...optional.keys()].sort()) {
    const { dev: _dev, devOptional: _devOptional, peer: _peer, optional: _optional, ...entry } = all[path];
    packages[path] = optional.get(path) ? { ...entry, optional: true } : entry;
  }
  return { dependencies, lock: { name, version, lockfileVersion: 3, requires: true, packages } };
}

/** Bytes under a directory, not descending into nested node_modules (those are packages of their own). */
export function directorySize(dir) {
  let total = 0;
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    const st = statSync(p);
    if (st.isDirectory()) total += n === 'node_modules' ? 0 : directorySize(p);
    else total += st.size;
  }
  return total;
}

/** Installed size of a lockfile's packages, measured on an install of the root lockfile (same paths). */
export function installedSize(lock, nodeModulesRoot) {
  let total = 0;
  for (const path of Object.keys(lock.packages)) {
    if (!path) continue;
    const dir = join(nodeModulesRoot, ...path.split('/'));
    if (existsSync(dir)) total += directorySize(dir);
  }
  return total;
}

export const relativeTo = (root, file) => relative(root, file).split(sep).join('/');
