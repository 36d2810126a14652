import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { loadFeatureRepo, type FeatureRepo } from '../../shared/features/definitions.js';

/** Shared helpers of the infrastructure tests: paths, the feature definitions in use, HCL parsing, terraform. */
export const ROOT = resolve(import.meta.dirname, '../..');
export const INFRA = join(ROOT, 'infra');
export const GENERATED = join(INFRA, 'generated');
export const MODULES = join(INFRA, 'modules');
export const ENVS = ['dev', 'prod'].map((e) => join(INFRA, 'envs', e));
export const SCHEDULES = join(INFRA, 'schedules.json');
export const FIXTURE_FEATURES = join(ROOT, 'test/infra/fixtures/features.yaml');

/**
 * The feature definitions infra/generated/ is generated from: the repository's features.yaml when it exists (what
 * `ctloop infra gen` reads by default), otherwise the test fixture.
 */
export const FEATURES = existsSync(join(ROOT, 'features.yaml')) ? join(ROOT, 'features.yaml') : FIXTURE_FEATURES;

export function loadFeatures(path = FEATURES): Promise<FeatureRepo> {
  return loadFeatureRepo(path);
}

export function walk(dir: string, ext: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === '.terraform' || name === '.build') continue;
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...walk(p, ext));
    else if (name.endsWith(ext)) out.push(p);
  }
  return out.sort();
}

export const tfFiles = (): string[] => walk(INFRA, '.tf');
export const rel = (p: string): string => relative(ROOT, p);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Hcl = Record<string, any>;

const cache = new Map<string, Promise<Hcl>>();
export function parseTf(path: string): Promise<Hcl> {
  let p = cache.get(path);
  if (!p) {
    p = parse(path, readFileSync(path, 'utf8')) as Promise<Hcl>;
    cache.set(path, p);
  }
  return p;
}

/** All blocks of one kind (resource/module/variable/output/data) of the .tf files in a directory, merged. */
export async function blocksIn(dir: string, kind: string): Promise<Hcl> {
  const merged: Hcl = {};
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.tf'))) {
    const h = await parseTf(join(dir, f));
    for (const [k, v] of Object.entries(h[kind] ?? {})) {
      if (kind === 'resource' || kind === 'data') merged[k] = { ...(merged[k] ?? {}), ...(v as Hcl) };
      else merged[k] = v;
    }
  }
  return merged;
}

/** Variable names in declaration order (hcl2json output is not ordered). */
export function declaredVariables(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/^variable\s+"([^"]+)"/gm)].map((m) => m[1]!);
}

/** Attribute names of an object(...) type expression, e.g. map(object({ a = string, b = list(string) })). */
export function objectTypeAttributes(typeExpr: string): string[] {
  const start = typeExpr.indexOf('object({');
  if (start < 0) return [];
  let depth = 0;
  let body = '';
  for (let i = start + 'object('.length; i < typeExpr.length; i++) {
    const c = typeExpr[i]!;
    if (c === '{' || c === '(') depth++;
    if (c === '}' || c === ')') depth--;
    if (depth === 0) break;
    body += c;
  }
  const names: string[] = [];
  let level = 0;
  for (const line of body.slice(1).split(/[\n,]/)) {
    const m = level === 0 ? /^\s*([a-z_][a-z0-9_]*)\s*=/.exec(line) : null;
    if (m) names.push(m[1]!);
    for (const c of line) {
      if (c === '{' || c === '(') level++;
      if (c === '}' || c === ')') level--;
    }
  }
  return names.sort();
}

export const terraformBin = (() => {
  const r = spawnSync('terraform', ['version'], { encoding: 'utf8' });
  return r.status === 0 ? 'terraform' : null;
})();

/** Run terraform with an empty CLI configuration (no ~/.terraformrc warning), no colour, no prompts. */
export function terraform(args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  // An empty CLI configuration: /dev/null reads as an empty file, and nothing is left behind in the temp directory.
  const r = spawnSync('terraform', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null', TF_IN_AUTOMATION: '1', TF_INPUT: '0', CHECKPOINT_DISABLE: '1' },
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
