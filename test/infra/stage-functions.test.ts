import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { functionRegistry } from '../../shared/topology/functions.js';
import { functionLock, resolveInLock, traceImports } from '../../infra/scripts/function-package.mjs';
import { FEATURES, ROOT } from './helpers.js';

/** Item 25: each staged function installs exactly what it loads, at the versions of the root lockfile. */

interface LockEntry { version?: string; integrity?: string; dev?: boolean; optional?: boolean; dependencies?: Record<string, string>; peerDependencies?: Record<string, string>; peerDependenciesMeta?: Record<string, { optional?: boolean }> }
interface Lock { lockfileVersion: number; packages: Record<string, LockEntry & { name?: string }> }

const rootLock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as Lock;
const rootDeps = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies;
const tmp = mkdtempSync(join(tmpdir(), 'ctloop-stage-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('what a function loads', () => {
  it.each(functionRegistry.map((f) => f.name))('%s: only packages its code imports, DuckDB only where a cloud path uses it', (name) => {
    const t = traceImports(join(ROOT, 'functions', name, 'index.ts'));
    expect(t.packages).toContain('@google-cloud/functions-framework');
    for (const p of t.packages) expect(Object.keys(rootDeps), `${name} imports ${p}`).toContain(p);
    for (const cliOnly of ['commander', 'tsx', 'vega-datasets']) expect(t.packages).not.toContain(cliOnly);
    // The embedded warehouse is chosen by configuration through a dynamic import: not followed, not shipped.
    expect(t.skipped.some((f) => /adapters\/warehouse\/duckdb\//.test(f))).toBe(true);
    const duckdbOnCloudPath = t.files.some((f) => readFileSync(f, 'utf8').includes("from '@duckdb/node-api'"));
    expect(t.packages.includes('@duckdb/node-api')).toBe(duckdbOnCloudPath);
  });

  it('launch-training (and complete-training, its second entry point) records the code version; the others do not', () => {
    const reads = (name: string) => traceImports(join(ROOT, 'functions', name, 'index.ts')).files.some((f) => f.endsWith(join('shared', 'training', 'code-version.ts')));
    expect(reads('launch-training')).toBe(true);
    expect(reads('ingest-features')).toBe(false);
  });

  it('drift and ingest functions ship without DuckDB', () => {
    for (const name of ['detect-drift', 'ingest-features']) expect(traceImports(join(ROOT, 'functions', name, 'index.ts')).packages).not.toContain('@duckdb/node-api');
  });

  it('follows static imports, skips type-only imports and dynamic imports of embedded-only adapters', () => {
    const dir = join(tmp, 'trace');
    const w = (p: string, text: string) => {
      mkdirSync(join(dir, p, '..'), { recursive: true });
      writeFileSync(join(dir, p), text);
    };
    w('functions/f/index.ts', "import type { T } from 'typeonly-pkg';\nimport { a } from '../../shared/a.js';\nexport const x: T | null = a;\n");
    w('shared/a.ts', "import yaml from 'yaml';\nimport { readFile } from 'node:fs/promises';\nimport { Storage } from '@google-cloud/storage/build/src/index.js';\nexport const a = async (k: string) => k === 'duck' ? (await import('./adapters/warehouse/duckdb/index.js')).d : (await import('./adapters/warehouse/bigquery/index.js')).b;\nvoid yaml; void readFile; void Storage;\n");
    w('shared/adapters/warehouse/duckdb/index.ts', "import { DuckDBInstance } from '@duckdb/node-api';\nexport const d = DuckDBInstance;\n");
    w('shared/adapters/warehouse/bigquery/index.ts', "import { BigQuery } from '@google-cloud/bigquery';\nexport const b = BigQuery;\n");
    const t = traceImports(join(dir, 'functions/f/index.ts'));
    expect(t.packages).toEqual(['@google-cloud/bigquery', '@google-cloud/storage', 'yaml']);
    expect(t.skipped).toEqual([join(dir, 'shared/adapters/warehouse/duckdb/index.js')]);
    expect(t.files.map((f) => f.slice(dir.length + 1))).toEqual(['functions/f/index.ts', 'shared/a.ts', 'shared/adapters/warehouse/bigquery/index.ts']);
  });
});

describe('the per-function lockfile', () => {
  const names = ['@google-cloud/functions-framework', '@google-cloud/bigquery', 'yaml', 'zod'];
  const { dependencies, lock } = functionLock(rootLock, { name: 'ctloop-x', version: '0.1.0', packageNames: names }) as { dependencies: Record<string, string>; lock: Lock };

  it('pins every dependency to the root lockfile version, exactly', () => {
    expect(Object.keys(dependencies)).toEqual([...names].sort());
    for (const [n, v] of Object.entries(dependencies)) {
      expect(v).toBe(rootLock.packages[`node_modules/${n}`]!.version);
      expect(v).toMatch(/^\d+\.\d+\.\d+/);
    }
    expect(lock.packages['']).toEqual({ name: 'ctloop-x', version: '0.1.0', dependencies });
    expect(lock.lockfileVersion).toBe(3);
  });

  it('is closed (every required dependency resolves inside it) and copies the root entries', () => {
    const paths = Object.keys(lock.packages).filter(Boolean);
    expect(paths.length).toBeGreaterThan(names.length);
    for (const path of paths) {
      const e = lock.packages[path]!;
      const { dev: _d, devOptional: _o, peer: _p, optional: _opt, ...rootEntry } = rootLock.packages[path] as LockEntry & { devOptional?: boolean; peer?: boolean };
      const { optional: _opt2, ...entry } = e;
      expect(entry, path).toEqual(rootEntry);
      expect(e.dev, path).toBeUndefined();
      for (const d of Object.keys(e.dependencies ?? {})) expect(resolveInLock(lock.packages, path, d), `${path} → ${d}`).not.toBeNull();
      for (const d of Object.keys(e.peerDependencies ?? {})) {
        if (!e.peerDependenciesMeta?.[d]?.optional) expect(resolveInLock(lock.packages, path, d), `${path} → peer ${d}`).not.toBeNull();
      }
    }
    for (const n of names) expect(lock.packages[`node_modules/${n}`]).toBeDefined();
    expect(Object.keys(lock.packages).some((p) => p.includes('@duckdb'))).toBe(false);
    expect(Object.keys(lock.packages).some((p) => /node_modules\/(vitest|typescript|firebase-tools)$/.test(p))).toBe(false);
  });

  it('is deterministic', () => {
    const again = functionLock(rootLock, { name: 'ctloop-x', version: '0.1.0', packageNames: [...names].reverse() });
    expect(JSON.stringify(again.lock)).toBe(JSON.stringify(lock));
  });

  it('resolves nested versions the way Node does, and marks packages reached only through optional edges', () => {
    const fixture: Lock = {
      lockfileVersion: 3,
      packages: {
        '': { name: 'root' },
        'node_modules/a': { version: '1.0.0', dependencies: { b: '^2.0.0' }, optionalDependencies: { c: '1' } } as LockEntry,
        'node_modules/b': { version: '1.0.0', dev: true },
        'node_modules/a/node_modules/b': { version: '2.0.0', dependencies: { d: '1' } },
        'node_modules/c': { version: '1.0.0', optional: true },
        'node_modules/d': { version: '1.0.0' },
      },
    };
    const r = functionLock(fixture, { name: 'f', version: '1.0.0', packageNames: ['a'] }) as { lock: Lock };
    expect(Object.keys(r.lock.packages)).toEqual(['', 'node_modules/a', 'node_modules/a/node_modules/b', 'node_modules/c', 'node_modules/d']);
    expect(r.lock.packages['node_modules/c']!.optional).toBe(true);
    expect(r.lock.packages['node_modules/d']!.optional).toBeUndefined();
    expect(() => functionLock(fixture, { name: 'f', version: '1', packageNames: ['nope'] })).toThrow(/nope is imported by the function but is not in the root package-lock.json/);
    const broken = { ...fixture, packages: { ...fixture.packages, 'node_modules/d': undefined as unknown as LockEntry } };
    expect(() => functionLock(broken, { name: 'f', version: '1', packageNames: ['a'] })).toThrow(/d \(needed by node_modules\/a\/node_modules\/b\) is missing/);
  });
});

describe('infra/scripts/stage-functions.mjs', () => {
  it('stages the loaded files, a minimal pinned package.json and its lockfile, and reports the size', () => {
    // A repository in miniature: the real package files, one compiled function, the generated topology.
    const root = join(tmp, 'repo');
    mkdirSync(join(root, 'infra/generated'), { recursive: true });
    for (const f of ['package.json', 'package-lock.json']) cpSync(join(ROOT, f), join(root, f));
    cpSync(FEATURES, join(root, 'features.yaml'));
    const js = (p: string, text: string) => {
      mkdirSync(join(root, p, '..'), { recursive: true });
      writeFileSync(join(root, p), text);
    };
    js('dist/functions/f/index.js', "import * as ff from '@google-cloud/functions-framework';\nimport { h } from '../../shared/h.js';\nff.cloudEvent('f', h);\n");
    js('dist/shared/h.js', "import { parse } from 'yaml';\nexport const h = async (e) => { const m = await import('./adapters/warehouse/duckdb/index.js'); return [parse, m, e]; };\n");
    js('dist/shared/adapters/warehouse/duckdb/index.js', "import { DuckDBInstance } from '@duckdb/node-api';\nexport const d = DuckDBInstance;\n");
    js('dist/shared/unused.js', "import 'commander';\n");
    writeFileSync(join(root, 'infra/generated/topology.auto.tfvars.json'), JSON.stringify({ functions: { f: { source_path: 'dist/functions/f/index.js', entry_point: 'f' } } }));

    const r = spawnSync(process.execPath, [join(ROOT, 'infra/scripts/stage-functions.mjs'), '--root', root], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/staged f → infra\/\.build\/functions\/f: 2 files \([\d.]+ MB\), 2 dependencies, \d+ packages installed( \([\d.]+ MB\))? — deployed ≈ [\d.]+ MB/);
    const out = join(root, 'infra/.build/functions/f');
    const pkg = JSON.parse(readFileSync(join(out, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg.dependencies).toEqual({
      '@google-cloud/functions-framework': rootLock.packages['node_modules/@google-cloud/functions-framework']!.version,
      yaml: rootLock.packages['node_modules/yaml']!.version,
    });
    expect(pkg.main).toBe('dist/functions/f/index.js');
    expect(pkg.scripts).toBeUndefined();
    expect(pkg.devDependencies).toBeUndefined();
    const lock = JSON.parse(readFileSync(join(out, 'package-lock.json'), 'utf8')) as Lock;
    expect(lock.packages['']!.dependencies).toEqual(pkg.dependencies);
    expect(existsSync(join(out, 'dist/shared/h.js'))).toBe(true);
    expect(existsSync(join(out, 'dist/shared/unused.js'))).toBe(false);
    expect(existsSync(join(out, 'dist/shared/adapters/warehouse/duckdb/index.js'))).toBe(false);
    expect(existsSync(join(out, 'features.yaml'))).toBe(true);
  });

  it('copies models.yaml beside features.yaml and stamps the commit (build-info.json) where the code reads it', () => {
    const root = join(tmp, 'stamped');
    mkdirSync(join(root, 'infra/generated'), { recursive: true });
    for (const f of ['package.json', 'package-lock.json']) cpSync(join(ROOT, f), join(root, f));
    cpSync(FEATURES, join(root, 'features.yaml'));
    cpSync(join(ROOT, 'models.yaml'), join(root, 'models.yaml'));
    const js = (p: string, text: string) => {
      mkdirSync(join(root, p, '..'), { recursive: true });
      writeFileSync(join(root, p), text);
    };
    // `train` records its code version (shared/training/code-version.js); `other` does not.
    js('dist/functions/train/index.js', "import { codeVersion } from '../../shared/training/code-version.js';\nexport const t = codeVersion;\n");
    js('dist/shared/training/code-version.js', "import { readFileSync } from 'node:fs';\nexport const codeVersion = () => readFileSync;\n");
    js('dist/functions/other/index.js', 'export const o = 1;\n');
    writeFileSync(join(root, 'infra/generated/topology.auto.tfvars.json'), JSON.stringify({ functions: {
      train: { source_path: 'dist/functions/train/index.js', entry_point: 't' },
      other: { source_path: 'dist/functions/other/index.js', entry_point: 'o' },
    } }));
    const stage = (...extra: string[]) => spawnSync(process.execPath, [join(ROOT, 'infra/scripts/stage-functions.mjs'), '--root', root, ...extra], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, COMMIT_SHA: '' } });
    const sha = 'abcdef0123456789abcdef0123456789abcdef01';

    const r = stage('--commit', sha);
    expect(r.status, r.stderr).toBe(0);
    const out = (n: string) => join(root, 'infra/.build/functions', n);
    for (const n of ['train', 'other']) {
      expect(readFileSync(join(out(n), 'models.yaml'), 'utf8'), n).toBe(readFileSync(join(ROOT, 'models.yaml'), 'utf8'));
      expect(existsSync(join(out(n), 'features.yaml')), n).toBe(true);
    }
    expect(JSON.parse(readFileSync(join(out('train'), 'build-info.json'), 'utf8'))).toEqual({ commit: sha, dirty: false });
    expect(r.stdout).toMatch(/staged train .*; build-info\.json: commit abcdef012345/);
    // Not stamped where nothing reads it: its archive (and deployment) changes only with its own files.
    expect(existsSync(join(out('other'), 'build-info.json'))).toBe(false);

    // $COMMIT_SHA (Cloud Build) when no --commit; no commit at all (not a checkout) → a warning and no file.
    const env = spawnSync(process.execPath, [join(ROOT, 'infra/scripts/stage-functions.mjs'), '--root', root], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, COMMIT_SHA: sha.slice(0, 7) } });
    expect(env.status, env.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(out('train'), 'build-info.json'), 'utf8'))).toEqual({ commit: sha.slice(0, 7), dirty: false });
    const none = stage();
    expect(none.status, none.stderr).toBe(0);
    expect(none.stderr).toMatch(/no commit known .* code version "unknown"/);
    expect(existsSync(join(out('train'), 'build-info.json'))).toBe(false);

    const bad = stage('--commit', 'main');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--commit main is not a git commit/);
  });

  it('fails with the fix when a compiled import is missing', () => {
    const root = join(tmp, 'broken');
    mkdirSync(join(root, 'infra/generated'), { recursive: true });
    for (const f of ['package.json', 'package-lock.json']) cpSync(join(ROOT, f), join(root, f));
    cpSync(FEATURES, join(root, 'features.yaml'));
    mkdirSync(join(root, 'dist/functions/f'), { recursive: true });
    writeFileSync(join(root, 'dist/functions/f/index.js'), "import { h } from '../../shared/gone.js';\n");
    writeFileSync(join(root, 'infra/generated/topology.auto.tfvars.json'), JSON.stringify({ functions: { f: { source_path: 'dist/functions/f/index.js', entry_point: 'f' } } }));
    const r = spawnSync(process.execPath, [join(ROOT, 'infra/scripts/stage-functions.mjs'), '--root', root], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/function f: cannot read .*shared\/gone\.js/);
    expect(r.stderr).toContain('fix:');
  });
});
