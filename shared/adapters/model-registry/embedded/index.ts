import { NotFoundError } from '../../../errors.js';
import type { ModelLineage, ModelRegistry, ModelVersion, RegisterVersionRequest } from '../../../ports/model-registry.js';
import type { ObjectStore } from '../../../ports/object-store.js';
import type { ColumnSchema, Row, TableSpec, Warehouse } from '../../../ports/warehouse.js';
import { checkAliases, checkModelName, checkRequest, evaluationUri } from '../checks.js';

/**
 * Embedded model registry: versions and aliases in two warehouse tables, evaluation reports in the object store.
 * A version number is allocated and the row written in one INSERT … SELECT that also checks the run is not
 * registered yet, so a redelivered event registers once. Aliases live in their own table, one row per (model,
 * alias): setting one deletes it from wherever it was. A version's requested aliases are applied after its row is
 * written and then marked applied, so a retry after a crash in between completes them, and a late duplicate does
 * not move them back.
 */
export const VERSIONS_TABLE = '_model_versions';
export const ALIASES_TABLE = '_model_aliases';

const versionColumns: ColumnSchema[] = [
  { name: 'model', type: 'STRING', mode: 'REQUIRED' },
  { name: 'version', type: 'INT64', mode: 'REQUIRED' },
  { name: 'run_id', type: 'STRING', mode: 'REQUIRED' },
  { name: 'artifact_uri', type: 'STRING', mode: 'REQUIRED' },
  { name: 'created_at', type: 'TIMESTAMP', mode: 'REQUIRED' },
  { name: 'blessed', type: 'BOOL', mode: 'REQUIRED' },
  { name: 'metrics', type: 'STRING', mode: 'REQUIRED', description: 'JSON object of test metrics' },
  { name: 'evaluation_uri', type: 'STRING' },
  { name: 'baseline_profile_uri', type: 'STRING' },
  { name: 'serving_image', type: 'STRING' },
  { name: 'lineage', type: 'STRING', mode: 'REQUIRED', description: 'JSON: runId, jobId, dataUris, trigger' },
  { name: 'requested_aliases', type: 'STRING', mode: 'REQUIRED', description: 'JSON array of the aliases asked for at registration' },
  { name: 'aliases_applied', type: 'BOOL', mode: 'REQUIRED' },
  { name: 'description', type: 'STRING' },
];

export const versionsTable: TableSpec = {
  name: VERSIONS_TABLE, columns: versionColumns, clusterBy: ['model'], description: 'ctloop model registry: versions', labels: { ctloop_kind: 'model_registry' },
};
export const aliasesTable: TableSpec = {
  name: ALIASES_TABLE, description: 'ctloop model registry: aliases (unique per model)', labels: { ctloop_kind: 'model_registry' },
  columns: [
    { name: 'model', type: 'STRING', mode: 'REQUIRED' },
    { name: 'alias', type: 'STRING', mode: 'REQUIRED' },
    { name: 'version', type: 'INT64', mode: 'REQUIRED' },
    { name: 'updated_at', type: 'TIMESTAMP', mode: 'REQUIRED' },
  ],
};

export interface EmbeddedRegistryDeps {
  warehouse: Warehouse;
  objectStore: ObjectStore;
  bucket: string;
}

const str = (v: string) => ({ type: 'STRING' as const, value: v });
const int = (v: number) => ({ type: 'INT64' as const, value: v });

export class EmbeddedModelRegistry implements ModelRegistry {
  readonly kind = 'embedded' as const;
  private ready: Promise<void> | undefined;

  constructor(private readonly deps: EmbeddedRegistryDeps) {}

  private ensure(): Promise<void> {
    this.ready ??= (async () => {
      const w = this.deps.warehouse;
      for (const t of [versionsTable, aliasesTable]) if (!(await w.getTable(t.name))) await w.createTable(t);
    })().catch((err) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  async registerVersion(req: RegisterVersionRequest): Promise<{ version: ModelVersion; created: boolean }> {
    checkRequest(req);
    await this.ensure();
    const existing = await this.findRow(req.model, req.runId);
    if (existing) {
      if (!existing.aliases_applied) await this.applyRequested(req.model, existing);
      return { version: (await this.findByRun(req.model, req.runId))!, created: false };
    }
    const evalUri = evaluationUri(this.deps.bucket, req.model, req.runId);
    await this.deps.objectStore.put(evalUri, JSON.stringify(req.evaluation, null, 2), { contentType: 'application/json' });
    const w = this.deps.warehouse;
    const d = w.dialect;
    const T = d.table(VERSIONS_TABLE);
    const cols = versionColumns.map((c) => d.ident(c.name));
    const values: Record<string, { type: 'STRING' | 'INT64' | 'BOOL' | 'TIMESTAMP'; value: unknown }> = {
      model: str(req.model), run_id: str(req.runId), artifact_uri: str(req.artifactUri), created_at: { type: 'TIMESTAMP', value: new Date() },
      blessed: { type: 'BOOL', value: req.blessed }, metrics: str(JSON.stringify(req.metrics)), evaluation_uri: str(evalUri),
      baseline_profile_uri: { type: 'STRING', value: req.baselineProfileUri }, serving_image: { type: 'STRING', value: req.servingImage ?? null },
      lineage: str(JSON.stringify(req.lineage)), requested_aliases: str(JSON.stringify(req.aliases)), aliases_applied: { type: 'BOOL', value: false },
      description: { type: 'STRING', value: req.description ?? null },
    };
    const select = versionColumns.map((c) => (c.name === 'version'
      ? `(SELECT COALESCE(MAX(v.version), 0) + 1 FROM ${T} AS v WHERE v.model = ${d.param('model')})`
      : `CAST(${d.param(c.name)} AS ${d.type(c.type)})`));
    const res = await w.execute(
      `INSERT INTO ${T} (${cols.join(', ')}) SELECT ${select.join(', ')}
       WHERE NOT EXISTS (SELECT 1 FROM ${T} AS x WHERE x.model = ${d.param('model')} AND x.run_id = ${d.param('run_id')})`,
      { params: values },
    );
    const row = await this.findRow(req.model, req.runId);
    if (!row) throw new NotFoundError(`model ${req.model} run ${req.runId} was not registered`, { hint: 'retry; the warehouse lost the write' });
    await this.applyRequested(req.model, row);
    return { version: (await this.findByRun(req.model, req.runId))!, created: res.affectedRows === null ? true : res.affectedRows > 0 };
  }

  private async applyRequested(model: string, row: Row): Promise<void> {
    const aliases = JSON.parse(String(row.requested_aliases)) as string[];
    await this.moveAliases(model, Number(row.version), aliases);
    const d = this.deps.warehouse.dialect;
    await this.deps.warehouse.execute(
      `UPDATE ${d.table(VERSIONS_TABLE)} SET aliases_applied = TRUE WHERE model = ${d.param('model')} AND version = ${d.param('version')}`,
      { params: { model: str(model), version: int(Number(row.version)) } },
    );
  }

  private async moveAliases(model: string, version: number, aliases: string[]): Promise<void> {
    const w = this.deps.warehouse;
    const d = w.dialect;
    const A = d.table(ALIASES_TABLE);
    for (const alias of aliases) {
      const params = { model: str(model), alias: str(alias), version: int(version), now: { type: 'TIMESTAMP' as const, value: new Date() } };
      await w.execute(`DELETE FROM ${A} WHERE model = ${d.param('model')} AND ${d.ident('alias')} = ${d.param('alias')}`, { params: { model: params.model, alias: params.alias } });
      await w.execute(`INSERT INTO ${A} (model, ${d.ident('alias')}, version, updated_at) SELECT ${d.param('model')}, ${d.param('alias')}, ${d.param('version')}, ${d.param('now')}`, { params });
    }
  }

  private async findRow(model: string, runId: string): Promise<Row | null> {
    const d = this.deps.warehouse.dialect;
    const rows = await this.deps.warehouse.query(
      `SELECT version, requested_aliases, aliases_applied FROM ${d.table(VERSIONS_TABLE)} WHERE model = ${d.param('model')} AND run_id = ${d.param('run')} ORDER BY version LIMIT 1`,
      { params: { model: str(model), run: str(runId) } },
    );
    return rows[0] ?? null;
  }

  private async select(where: string, params: Record<string, { type: 'STRING' | 'INT64'; value: unknown }>): Promise<ModelVersion[]> {
    if (!(await this.deps.warehouse.getTable(VERSIONS_TABLE))) return [];
    const w = this.deps.warehouse;
    const d = w.dialect;
    const hasAliases = Boolean(await w.getTable(ALIASES_TABLE));
    const rows = await w.query(`SELECT * FROM ${d.table(VERSIONS_TABLE)} AS v ${where} ORDER BY model, version`, { params });
    const aliasRows = hasAliases ? await w.query(`SELECT model, ${d.ident('alias')}, version FROM ${d.table(ALIASES_TABLE)} ORDER BY ${d.ident('alias')}`) : [];
    return rows.map((r) => toVersion(r, aliasRows.filter((a) => a.model === r.model && Number(a.version) === Number(r.version)).map((a) => String(a.alias))));
  }

  async getVersion(model: string, ref: string): Promise<ModelVersion | null> {
    checkModelName(model);
    const d = this.deps.warehouse.dialect;
    if (/^\d+$/.test(ref)) return (await this.select(`WHERE v.model = ${d.param('model')} AND v.version = ${d.param('version')}`, { model: str(model), version: int(Number(ref)) }))[0] ?? null;
    if (!(await this.deps.warehouse.getTable(ALIASES_TABLE))) return null;
    const a = await this.deps.warehouse.query(`SELECT version FROM ${d.table(ALIASES_TABLE)} WHERE model = ${d.param('model')} AND ${d.ident('alias')} = ${d.param('alias')}`, { params: { model: str(model), alias: str(ref) } });
    return a[0] ? this.getVersion(model, String(a[0].version)) : null;
  }

  async findByRun(model: string, runId: string): Promise<ModelVersion | null> {
    const d = this.deps.warehouse.dialect;
    return (await this.select(`WHERE v.model = ${d.param('model')} AND v.run_id = ${d.param('run')}`, { model: str(model), run: str(runId) }))[0] ?? null;
  }

  async listVersions(model?: string): Promise<ModelVersion[]> {
    const d = this.deps.warehouse.dialect;
    return model === undefined ? this.select('', {}) : this.select(`WHERE v.model = ${d.param('model')}`, { model: str(model) });
  }

  private async must(model: string, version: string): Promise<ModelVersion> {
    const v = /^\d+$/.test(version) ? await this.getVersion(model, version) : null;
    if (!v) throw new NotFoundError(`model ${model} has no version ${version}`, { hint: 'list versions with `ctloop models list`' });
    return v;
  }

  async setAliases(model: string, version: string, aliases: string[]): Promise<ModelVersion> {
    checkAliases(aliases);
    await this.must(model, version);
    await this.ensure();
    await this.moveAliases(model, Number(version), aliases);
    return this.must(model, version);
  }

  async removeAliases(model: string, version: string, aliases: string[]): Promise<ModelVersion> {
    checkAliases(aliases);
    await this.must(model, version);
    const d = this.deps.warehouse.dialect;
    for (const alias of aliases) {
      await this.deps.warehouse.execute(
        `DELETE FROM ${d.table(ALIASES_TABLE)} WHERE model = ${d.param('model')} AND ${d.ident('alias')} = ${d.param('alias')} AND version = ${d.param('version')}`,
        { params: { model: str(model), alias: str(alias), version: int(Number(version)) } },
      );
    }
    return this.must(model, version);
  }
}

function toVersion(r: Row, aliases: string[]): ModelVersion {
  const created = r.created_at instanceof Date ? r.created_at : new Date(String(r.created_at));
  return {
    model: String(r.model), version: String(Number(r.version)), runId: String(r.run_id), artifactUri: String(r.artifact_uri),
    createdAt: created.toISOString(), aliases, blessed: Boolean(r.blessed),
    metrics: JSON.parse(String(r.metrics)) as Record<string, number>,
    evaluationUri: r.evaluation_uri === null ? null : String(r.evaluation_uri),
    baselineProfileUri: r.baseline_profile_uri === null ? null : String(r.baseline_profile_uri),
    servingImage: r.serving_image === null ? null : String(r.serving_image),
    lineage: JSON.parse(String(r.lineage)) as ModelLineage,
  };
}
