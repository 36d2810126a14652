import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { connectUtc } from '../adapters/warehouse/duckdb/connect.js';
import { ValidationError } from '../errors.js';
import { isIdentifier } from '../sql/identifiers.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { FileFormat, Params, Warehouse } from '../ports/warehouse.js';
import type { FeatureRepo } from './definitions.js';
import { detectFormat, sqlPath } from './local-files.js';
import { pointInTimeSql, ROW_ID, type PitViewRequest } from './pit-sql.js';
import { prepareSpine } from './spine.js';
import { ensureDir } from '../ensure-dir.js';

export interface HistoricalRequest {
  /** Local spine file (CSV or Parquet): entity keys, a timestamp column, any other columns (labels) kept as-is. */
  spine: string;
  timestampColumn: string;
  /** `view:feature` references, or `service:<name>` for a feature service's list. */
  features: string[];
  /** Output: a local path or gs:// URI ending .parquet or .csv. */
  out: string;
  fullFeatureNames?: boolean;
}

export interface HistoricalResult {
  out: string;
  rows: number;
  columns: string[];
  sql: string;
}

export interface HistoricalDeps {
  warehouse: Warehouse;
  objectStore: ObjectStore;
  repo: FeatureRepo;
  /** Bucket for temporary spines/exports when the warehouse reads gs:// (BigQuery). */
  scratchBucket: string;
  onProgress?: (stage: string) => void;
}

export function resolveFeatureRefs(repo: FeatureRepo, refs: string[]): { view: string; feature: string }[] {
  const out: { view: string; feature: string }[] = [];
  for (const ref of refs) {
    if (ref.startsWith('service:')) {
      out.push(...resolveFeatureRefs(repo, repo.service(ref.slice('service:'.length)).features));
      continue;
    }
    const m = /^([A-Za-z_]\w*):([A-Za-z_]\w*)$/.exec(ref);
    if (!m) throw new ValidationError(`feature reference "${ref}" is not view:feature`, { hint: 'list features as view:feature, e.g. route_stats:avg_delay' });
    const view = repo.view(m[1]!);
    if (!view.features.some((f) => f.name === m[2])) {
      throw new ValidationError(`view ${view.name} has no feature "${m[2]}"`, { hint: `its features: ${view.features.map((f) => f.name).join(', ')}` });
    }
    out.push({ view: m[1]!, feature: m[2]! });
  }
  return out;
}

/** Point-in-time correct training set: one output row per spine row, in spine order. */
export async function getHistoricalFeatures(deps: HistoricalDeps, req: HistoricalRequest): Promise<HistoricalResult> {
  const { warehouse: w, repo } = deps;
  const refs = resolveFeatureRefs(repo, req.features);
  if (refs.length === 0) throw new ValidationError('no features requested', { hint: 'pass --features view:feature,...' });
  const byView = new Map<string, PitViewRequest>();
  for (const r of refs) {
    const view = repo.view(r.view);
    const entry = byView.get(view.name) ?? { view, features: [] };
    if (!entry.features.some((f) => f.name === r.feature)) entry.features.push({ name: r.feature, as: req.fullFeatureNames ? `${view.name}__${r.feature}` : r.feature });
    byView.set(view.name, entry);
  }
  const views = [...byView.values()];
  const textKeys = views.flatMap((v) => v.view.entity.joinKeys.filter((k) => k.type === 'STRING').map((k) => k.name));
  deps.onProgress?.('reading spine');
  const spine = await prepareSpine(req.spine, detectFormat(req.spine), req.timestampColumn, textKeys, { utcAdjusted: w.readsObjectUris });
  try {
    const badName = spine.columns.find((c) => !isIdentifier(c.name));
    if (badName) {
      throw new ValidationError(`spine column "${badName.name}" is not a valid column name`, {
        hint: 'rename it to letters, digits and underscores (not starting with a digit, not a SQL keyword)',
      });
    }
    const spineNames = new Set(spine.columns.map((c) => c.name));
    for (const v of views) {
      for (const k of v.view.entity.joinKeys) {
        if (!spineNames.has(k.name)) {
          throw new ValidationError(`spine has no column "${k.name}", the join key of view ${v.view.name}`, { hint: `add a ${k.name} column to the spine` });
        }
      }
    }
    const outNames = views.flatMap((v) => v.features.map((f) => f.as));
    const clash = outNames.find((n, i) => outNames.indexOf(n) !== i || spineNames.has(n));
    if (clash) {
      throw new ValidationError(`output column "${clash}" would appear twice`, { hint: 'use --full-feature-names to name features view__feature' });
    }
    const outFormat = detectFormat(req.out) as FileFormat;
    if (outFormat === 'jsonl') throw new ValidationError('output must be .parquet or .csv', { hint: 'name --out *.parquet or *.csv' });
    const epoch = new Date(0);
    const remote = w.readsObjectUris;
    const stageUri = remote ? `gs://${deps.scratchBucket}/tmp/spines/${randomUUID()}.parquet` : spine.path;
    if (remote) await deps.objectStore.upload(spine.path, stageUri);
    try {
      deps.onProgress?.(`joining ${spine.rows} spine rows with ${refs.length} features from ${views.length} views`);
      return await w.withFile(stageUri, 'parquet', undefined, async (rel) => {
        const sql = pointInTimeSql(w.dialect, {
          spine: { sql: rel.sql, columns: rel.columns },
          timestampColumn: req.timestampColumn,
          views,
          minTs: spine.minTs ?? epoch,
          maxTs: spine.maxTs ?? epoch,
          keepRowId: remote,
        });
        deps.onProgress?.(`writing ${req.out}`);
        await exportTo(deps, sql, rel.params, req.out, outFormat as 'parquet' | 'csv');
        return { out: req.out, rows: spine.rows, columns: [...spine.columns.map((c) => c.name).filter((c) => c !== ROW_ID), ...outNames], sql };
      });
    } finally {
      if (remote) await deps.objectStore.delete(stageUri).catch(() => undefined);
    }
  } finally {
    await spine.release();
  }
}

/** Write a query result to `out` wherever it is, whatever the engine. */
async function exportTo(deps: HistoricalDeps, sql: string, params: Params, out: string, format: 'parquet' | 'csv'): Promise<void> {
  const w = deps.warehouse;
  const outIsRemote = out.startsWith('gs://');
  if (!w.readsObjectUris) {
    if (!outIsRemote) {
      await w.exportQuery(sql, { params, uri: out, format });
      return;
    }
    const tmp = join(tmpdir(), `ctloop-export-${randomUUID()}.${format}`);
    try {
      await w.exportQuery(sql, { params, uri: tmp, format });
      await deps.objectStore.upload(tmp, out);
    } finally {
      await rm(tmp, { force: true });
    }
    return;
  }
  // The engine exports sharded files to gs:// in no particular order: fetch them and restore spine order locally.
  const prefix = `gs://${deps.scratchBucket}/tmp/exports/${randomUUID()}/`;
  const shards = await w.exportQuery(sql, { params, uri: `${prefix}part-*.parquet`, format: 'parquet' });
  const dir = await mkdtemp(join(tmpdir(), 'ctloop-shards-'));
  try {
    const local: string[] = [];
    for (const [i, uri] of shards.entries()) {
      const p = join(dir, `${i}.parquet`);
      await deps.objectStore.download(uri, p);
      local.push(p);
    }
    const target = outIsRemote ? join(dir, `merged.${format}`) : out;
    await ensureDir(dirname(target));
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await connectUtc(instance);
    try {
      const src = `read_parquet([${local.map(sqlPath).join(', ')}])`;
      await conn.run(`COPY (SELECT ${await utcColumns(conn, src)} FROM ${src} ORDER BY ${ROW_ID}) TO ${sqlPath(target)} (FORMAT ${format === 'csv' ? 'csv, HEADER true' : 'parquet'})`);
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
    if (outIsRemote) await deps.objectStore.upload(target, out);
    for (const uri of shards) await deps.objectStore.delete(uri).catch(() => undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The columns of exported shards minus the row id, with UTC-adjusted timestamps (what BigQuery's Parquet export
 * writes) turned into plain UTC TIMESTAMPs, so a training set has the same types and text on every engine.
 */
async function utcColumns(conn: DuckDBConnection, src: string): Promise<string> {
  const described = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`)).getRowObjectsJS();
  const q = (n: string) => `"${n.replace(/"/g, '""')}"`;
  return described
    .map((r) => ({ name: String(r.column_name), type: String(r.column_type) }))
    .filter((c) => c.name !== ROW_ID)
    .map((c) => (c.type === 'TIMESTAMP WITH TIME ZONE' ? `timezone('UTC', ${q(c.name)}) AS ${q(c.name)}` : q(c.name)))
    .join(', ');
}
