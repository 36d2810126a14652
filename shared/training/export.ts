import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { connectUtc } from '../adapters/warehouse/duckdb/connect.js';
import { ValidationError } from '../errors.js';
import type { FeatureRepo } from '../features/definitions.js';
import { getHistoricalFeatures, resolveFeatureRefs } from '../features/historical.js';
import { sqlPath } from '../features/local-files.js';
import type { ModelSpec } from '../models/config.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { Params, Warehouse } from '../ports/warehouse.js';
import { computeBaselineProfile } from '../drift/baseline-profile.js';
import type { Baseline } from '../drift/baselines.js';
import { kindOfType } from '../drift/profile.js';
import type { FeatureSpec } from '../drift/profile-sql.js';
import { spineQuery } from './spine-query.js';
import { SPLITS, splitWindows, type SplitName, type Window } from './windows.js';

export interface ExportDeps {
  warehouse: Warehouse;
  objectStore: ObjectStore;
  repo: FeatureRepo;
  bucket: string;
}

export interface SplitExport {
  uri: string;
  rows: number;
  window: { start: string; end: string };
}

export interface TrainingSets {
  splits: Record<SplitName, SplitExport>;
  rowId: string;
  label: string;
  columns: string[];
  /** The training split's profile, in the drift baseline format (shared/drift/baselines.ts). */
  baselineUri: string;
}

/** Where a run's artifacts live: data/, model/, logs.txt, baseline_profile.json. */
export function runPrefix(bucket: string, model: string, runId: string): string {
  return `gs://${bucket}/training/${model}/${runId}/`;
}

/**
 * Export a model's split training sets for a request ending at `end`: per split, the spine view's labelled rows of
 * its window joined point-in-time with the feature service (getHistoricalFeatures), written as CSV with a header
 * (the trainer contract's AIP_DATA_FORMAT=csv) under the run's prefix; plus the training split's baseline profile.
 * An empty split is refused with the window it covered: a model is never trained or tested on nothing.
 */
export async function exportTrainingSets(deps: ExportDeps, model: ModelSpec, runId: string, end: Date): Promise<TrainingSets> {
  const windows = splitWindows(model.split, end);
  const prefix = runPrefix(deps.bucket, model.name, runId);
  const view = deps.repo.view(model.spine.view);
  if (view.entity.joinKeys.length !== 1) {
    throw new ValidationError(`spine view ${view.name} has ${view.entity.joinKeys.length} join keys; a spine needs one row id`, {
      hint: 'key the spine view by one column (e.g. flight_id)',
    });
  }
  const dir = await mkdtemp(join(tmpdir(), 'ctloop-export-'));
  try {
    const splits = {} as Record<SplitName, SplitExport>;
    let columns: string[] = [];
    for (const split of SPLITS) {
      const q = spineQuery(deps.warehouse, deps.repo, model, windows[split]);
      const spinePath = join(dir, `${split}-spine.parquet`);
      const rows = await exportLocal(deps, q.sql, q.params, spinePath);
      if (rows === 0) throw emptySplit(model, split, windows[split]);
      const uri = `${prefix}data/${split}.csv`;
      const hist = await getHistoricalFeatures({ ...deps, scratchBucket: deps.bucket }, {
        spine: spinePath, timestampColumn: q.view.timestampField, features: [`service:${model.featureService}`], out: uri,
      });
      columns = hist.columns;
      splits[split] = { uri, rows: hist.rows, window: { start: windows[split].start.toISOString(), end: windows[split].end.toISOString() } };
    }
    const baselineUri = `${prefix}baseline_profile.json`;
    await writeBaseline(deps, model, splits.train, baselineUri, dir);
    return { splits, rowId: view.entity.joinKeys[0]!.name, label: model.spine.label, columns, baselineUri };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function emptySplit(model: ModelSpec, split: SplitName, w: Window): ValidationError {
  return new ValidationError(`model ${model.name}: the ${split} split [${w.start.toISOString()}, ${w.end.toISOString()}) has no labelled rows in view ${model.spine.view}`, {
    hint: `load labelled rows into ${model.spine.view} for that window, or request training with a window that ends where the data ends`,
  });
}

/** A query's result as a local Parquet file, whatever the engine; returns its row count. */
async function exportLocal(deps: ExportDeps, sql: string, params: Params, path: string): Promise<number> {
  const w = deps.warehouse;
  const instance = await DuckDBInstance.create(':memory:');
  const c = await connectUtc(instance);
  try {
    if (!w.readsObjectUris) {
      await w.exportQuery(sql, { params, uri: path, format: 'parquet' });
    } else {
      const shardPrefix = `gs://${deps.bucket}/tmp/spines/${randomUUID()}/`;
      const shards = await w.exportQuery(sql, { params, uri: `${shardPrefix}part-*.parquet`, format: 'parquet' });
      const local: string[] = [];
      try {
        for (const [i, uri] of shards.entries()) {
          const p = `${path}.${i}.parquet`;
          await deps.objectStore.download(uri, p);
          local.push(p);
        }
        await c.run(`COPY (SELECT * FROM read_parquet([${local.map(sqlPath).join(', ')}])) TO ${sqlPath(path)} (FORMAT parquet)`);
      } finally {
        for (const p of local) await rm(p, { force: true });
        for (const uri of shards) await deps.objectStore.delete(uri).catch(() => undefined);
      }
    }
    return Number((await c.runAndReadAll(`SELECT COUNT(*) AS n FROM read_parquet(${sqlPath(path)})`)).getRowObjectsJS()[0]!.n);
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

/** Profile the training split's model inputs (service features and spine features) as the model's drift baseline. */
async function writeBaseline(deps: ExportDeps, model: ModelSpec, train: SplitExport, uri: string, dir: string): Promise<void> {
  const w = deps.warehouse;
  const view = deps.repo.view(model.spine.view);
  const specs: FeatureSpec[] = [];
  const add = (name: string, type: Parameters<typeof kindOfType>[0]) => {
    const kind = kindOfType(type);
    if (kind && !specs.some((s) => s.name === name)) specs.push({ name, type, kind });
  };
  for (const f of view.features) if (f.name !== model.spine.label && (!model.spine.features || model.spine.features.includes(f.name))) add(f.name, f.type);
  for (const r of resolveFeatureRefs(deps.repo, [`service:${model.featureService}`])) {
    add(r.feature, deps.repo.view(r.view).features.find((f) => f.name === r.feature)!.type);
  }
  const types = Object.fromEntries(specs.map((s) => [s.name, s.type]));
  let fileRef = train.uri;
  if (!w.readsObjectUris) {
    fileRef = join(dir, 'train.csv');
    await deps.objectStore.download(train.uri, fileRef);
  }
  const profile = await w.withFile(fileRef, 'csv', undefined, (rel) =>
    computeBaselineProfile(w, { relation: rel.sql, params: rel.params, label: train.uri }, specs.filter((s) => rel.columns.some((c) => c.name === s.name)).map((s) => ({ ...s, type: types[s.name]! }))));
  const baseline: Baseline = {
    id: uri, name: model.name, version: 0, uri, view: model.spine.view, model: model.name,
    window: train.window, createdAt: new Date().toISOString(), profile,
  };
  await deps.objectStore.put(uri, JSON.stringify(baseline), { contentType: 'application/json' });
}
