import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { ensureDir } from '../ensure-dir.js';
import { dirname, join } from 'node:path';
import { catalog } from '../events/catalog.js';
import { loadFeatureRepo } from '../features/definitions.js';
import { functionRegistry, type FunctionSpec } from './functions.js';
import { DEFAULT_RETRY, GENERATED_TFVARS, renderTopologyFiles, SCHEMA_DIR, type RetryDefaults } from './generate.js';
import { loadSchedulePlan } from './schedules.js';
import { staleFiles } from './stale.js';

/**
 * File side of `ctloop infra gen`: load the sources of truth, render, write or compare infra/generated/.
 * (generate.ts stays pure; this file is the only one that touches the disk.)
 */
export interface GenPaths {
  /** Feature definitions file (features.yaml). */
  features: string;
  /** infra/schedules.json */
  schedules: string;
  /** infra/generated */
  outDir: string;
}

export async function renderFromSources(paths: Omit<GenPaths, 'outDir'>, opts: { registry?: FunctionSpec[]; retry?: RetryDefaults } = {}): Promise<Record<string, string>> {
  const [features, schedules] = await Promise.all([loadFeatureRepo(paths.features), loadSchedulePlan(paths.schedules)]);
  return renderTopologyFiles({
    catalog,
    registry: opts.registry ?? functionRegistry,
    features,
    schedules,
    retry: opts.retry ?? DEFAULT_RETRY,
  });
}

/** The generated files currently on disk (the tfvars file and every schema file). */
export async function readGenerated(outDir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  try {
    out[GENERATED_TFVARS] = await readFile(join(outDir, GENERATED_TFVARS), 'utf8');
  } catch {
    /* missing: reported as missing by staleFiles */
  }
  let names: string[] = [];
  try {
    names = await readdir(join(outDir, SCHEMA_DIR));
  } catch {
    names = [];
  }
  for (const n of names.filter((x) => x.endsWith('.json'))) out[`${SCHEMA_DIR}/${n}`] = await readFile(join(outDir, SCHEMA_DIR, n), 'utf8');
  return out;
}

export async function writeGenerated(outDir: string, files: Record<string, string>): Promise<{ written: string[]; removed: string[] }> {
  const current = await readGenerated(outDir);
  const written: string[] = [];
  const removed: string[] = [];
  for (const [path, content] of Object.entries(files)) {
    if (current[path] === content) continue;
    await ensureDir(dirname(join(outDir, path)));
    await writeFile(join(outDir, path), content);
    written.push(path);
  }
  for (const path of Object.keys(current)) {
    if (!(path in files)) {
      await rm(join(outDir, path));
      removed.push(path);
    }
  }
  return { written, removed };
}

export async function checkGenerated(paths: GenPaths): Promise<string[]> {
  const expected = await renderFromSources(paths);
  return staleFiles(expected, await readGenerated(paths.outDir));
}
