/**
 * A local HTTP server standing in for the BigQuery REST API (v2), for tests only.
 *
 * It implements the subset the BigQuery adapter uses (datasets get/insert; tables insert/get/patch/delete;
 * jobs.query, jobs.getQueryResults, jobs.insert for load jobs, jobs.get), records every request so tests can
 * assert request shapes, runs EVERY SQL statement through the ZetaSQL analyzer against the registered table schemas
 * (an invalid statement fails with BigQuery's 400 `invalidQuery` error), then executes it on an in-memory DuckDB after
 * a mechanical translation (bigquery-translate.ts) and answers in BigQuery's `f`/`v` row format. gs:// URIs resolve
 * to `<gcsRoot>/<bucket>/<path>`.
 *
 * `startBigQueryTestWarehouse()` wires analyzer + stand-in + the real adapter, so any core test can run its SQL as
 * BigQuery SQL: a statement BigQuery would reject fails the test.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DuckDBConnection, DuckDBInstance, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import { duckType, toDuck } from '../../shared/adapters/warehouse/duckdb/values.js';
import { connectUtc } from '../../shared/adapters/warehouse/duckdb/connect.js';
import { createBigQueryWarehouse, type BigQueryWarehouse } from '../../shared/adapters/warehouse/bigquery/index.js';
import type { ColumnType, ParamType } from '../../shared/ports/warehouse.js';
import { startStorageWriteStandin, type StorageWriteStandin } from './bigquery-storage-standin.js';
import { DUCKDB_PRELUDE, translate, type TranslateContext } from './bigquery-translate.js';
import { DmlConflictError, DmlQueueFullError, dmlTarget, DmlRunner, mergeDuplicateMatchSql, MUTATING_QUEUED } from './bigquery-dml.js';
import { tableScans } from './bigquery-pruning.js';
import { startAnalyzer, type AnalyzedType, type AnalyzeResult, type Analyzer, type AnalyzerTable } from './zetasql.js';

export interface RecordedRequest {
  method: string;
  /** Path after /bigquery/v2/projects/<project>, e.g. `/queries`, `/datasets/ds/tables/t`. */
  path: string;
  query: Record<string, string>;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface BigQueryStandin {
  readonly url: string;
  readonly project: string;
  readonly gcsRoot: string;
  readonly requests: RecordedRequest[];
  /** Every SQL statement the analyzer accepted, in order. */
  readonly statements: string[];
  /** Make the next matching request fail with this HTTP status and BigQuery error reason. */
  failNext(match: { method?: string; path?: RegExp }, status: number, reason: string, message?: string): void;
  /**
   * Make the next `n` DML statements on `table` (`dataset.table`) overlap, as BigQuery runs them: none commits before
   * all of them ran (see bigquery-dml.ts). Without it DML still runs concurrently, with BigQuery's conflict rules.
   * `release()` lets waiting statements commit when fewer than `n` will come (e.g. a claim refused before its MERGE).
   */
  overlapDml(table: string, n: number): { release(): void };
  /** Local path of a gs:// URI. */
  localPath(gsUri: string): string;
  /** Schema of `dataset.table` (BigQuery field names and types), or null: for the Storage Write API stand-in. */
  tableFields(table: string): { name: string; type: string; mode?: string }[] | null;
  /**
   * Store rows in `dataset.table` as a Storage Write API append does: no SQL statement, no DML, no job. Values are
   * JS values of the columns' types (Date for TIMESTAMP/DATE, bigint or number for INT64), NULL when absent.
   */
  appendRows(table: string, rows: Record<string, unknown>[]): Promise<void>;
  /** Send a recorded (or any) query request again as a dry run (`dryRun: true`); its `totalBytesProcessed`. */
  dryRun(request: { query: string; queryParameters?: unknown[] }): Promise<number>;
  stop(): Promise<void>;
}

type BqField = { name: string; type: string; mode?: string; fields?: BqField[] };
type BqParamType = { type: string; arrayType?: BqParamType; structTypes?: { name: string; type: BqParamType }[] };
type BqParamValue = { value?: string | null; arrayValues?: BqParamValue[]; structValues?: Record<string, BqParamValue> };
type TableResource = Record<string, any> & { schema?: { fields?: BqField[] } }; // eslint-disable-line @typescript-eslint/no-explicit-any

class HttpError extends Error {
  constructor(readonly status: number, readonly reason: string, message: string) { super(message); }
}

const STANDARD: Record<string, ColumnType> = {
  STRING: 'STRING', INT64: 'INT64', INTEGER: 'INT64', FLOAT64: 'FLOAT64', FLOAT: 'FLOAT64', BOOL: 'BOOL', BOOLEAN: 'BOOL',
  TIMESTAMP: 'TIMESTAMP', DATE: 'DATE', JSON: 'JSON',
};
const LEGACY_NAME: Record<ColumnType, string> = {
  STRING: 'STRING', INT64: 'INTEGER', FLOAT64: 'FLOAT', BOOL: 'BOOLEAN', TIMESTAMP: 'TIMESTAMP', DATE: 'DATE', JSON: 'JSON',
};

function colType(t: string): ColumnType {
  const c = STANDARD[t.toUpperCase()];
  if (!c) throw new HttpError(400, 'invalid', `Unsupported type ${t} in the stand-in`);
  return c;
}

function paramTypeOf(t: BqParamType): ParamType {
  if (t.type === 'ARRAY') return { array: paramTypeOf(t.arrayType!) };
  if (t.type === 'STRUCT') return { struct: (t.structTypes ?? []).map((s) => ({ name: s.name, type: paramTypeOf(s.type) as ColumnType })) };
  return colType(t.type);
}

function paramJs(v: BqParamValue | undefined, t: ParamType): unknown {
  if (!v) return null;
  if (typeof t !== 'string' && 'array' in t) return (v.arrayValues ?? []).map((x) => paramJs(x, t.array));
  if (typeof t !== 'string') {
    if (!v.structValues) return null;
    return Object.fromEntries(t.struct.map((c) => [c.name, paramJs(v.structValues![c.name], c.type)]));
  }
  if (v.value === null || v.value === undefined) return null;
  switch (t) {
    case 'TIMESTAMP': {
      const d = new Date(v.value.includes('T') || /[+Z]/.test(v.value) ? v.value : `${v.value}Z`);
      if (!inTimestampRange(d)) throw new HttpError(400, 'invalidQuery', `Invalid TIMESTAMP value "${v.value}": out of range 0001-01-01 00:00:00 to 9999-12-31 23:59:59.999999 UTC`);
      return d;
    }
    case 'INT64': return BigInt(v.value);
    case 'FLOAT64': return Number(v.value);
    case 'BOOL': return v.value === 'true';
    default: return v.value;
  }
}

/** BigQuery's TIMESTAMP range: 0001-01-01 00:00:00 to 9999-12-31 23:59:59.999999 UTC. */
const MIN_TS = Date.parse('0001-01-01T00:00:00Z');
const END_TS = Date.parse('+010000-01-01T00:00:00Z');
function inTimestampRange(d: Date): boolean {
  const t = d.getTime();
  return !Number.isNaN(t) && t >= MIN_TS && t < END_TS;
}

/**
 * The BigQuery type a Parquet load gives a column DuckDB reads as `duckType` (BigQuery's "Parquet conversions"):
 * only a UTC-adjusted timestamp is a TIMESTAMP; a plain one (DuckDB's TIMESTAMP, _NS, _MS, _S, what pandas and
 * pyarrow write by default) is a DATETIME; DECIMAL is NUMERIC (BIGNUMERIC past 38 digits or 9 decimals); TIME is TIME.
 */
function parquetLoadType(duckType: string): string | undefined {
  const t = duckType.toUpperCase();
  if (t === 'TIMESTAMP WITH TIME ZONE') return 'TIMESTAMP';
  if (/^TIMESTAMP(_NS|_MS|_S)?$/.test(t)) return 'DATETIME';
  const dec = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(t);
  if (dec) return Number(dec[1]) - Number(dec[2]) > 29 || Number(dec[2]) > 9 ? 'BIGNUMERIC' : 'NUMERIC';
  if (t.startsWith('TIME')) return 'TIME';
  return undefined;
}

/** BigQuery limits the stand-in enforces (quotas and limits page). */
export const LIMITS = { queryParameters: 10_000, resultColumns: 10_000, partitionsPerStatement: 4_000 } as const;

function bqFieldOf(name: string, t: AnalyzedType): BqField {
  if (typeof t === 'string') return { name, type: t === 'DOUBLE' ? 'FLOAT' : t, mode: 'NULLABLE' };
  if ('array' in t) return { ...bqFieldOf(name, t.array), mode: 'REPEATED' };
  return { name, type: 'RECORD', mode: 'NULLABLE', fields: t.struct.map((f) => bqFieldOf(f.name, f.type)) };
}

function duckColumnType(t: string): AnalyzedType {
  const n = t.toUpperCase();
  if (n.endsWith('[]')) return { array: duckColumnType(n.slice(0, -2)) };
  if (/INT|HUGEINT/.test(n)) return 'INT64';
  if (/DOUBLE|FLOAT|DECIMAL|REAL/.test(n)) return 'FLOAT64';
  if (n === 'BOOLEAN') return 'BOOL';
  if (n.startsWith('TIMESTAMP')) return 'TIMESTAMP';
  if (n === 'DATE') return 'DATE';
  return 'STRING';
}

/** A DuckDB JS value → a BigQuery `v` (strings everywhere; TIMESTAMP as int64 micros). */
function cell(v: unknown, f: BqField): unknown {
  if (v === null || v === undefined) return null;
  if (f.mode === 'REPEATED') return (v as unknown[]).map((x) => ({ v: cell(x, { ...f, mode: 'NULLABLE' }) }));
  if (f.type === 'RECORD') {
    const o = v as Record<string, unknown>;
    return { f: (f.fields ?? []).map((sf) => ({ v: cell(o[sf.name], sf) })) };
  }
  switch (f.type) {
    case 'TIMESTAMP': {
      const ms = v instanceof Date ? v.getTime() : new Date(String(v)).getTime();
      return String(BigInt(ms) * 1000n);
    }
    case 'DATE': return v instanceof Date ? v.toISOString().slice(0, 10) : String(v).slice(0, 10);
    case 'FLOAT': {
      const n = Number(v);
      return Number.isNaN(n) ? 'NaN' : n === Infinity ? 'Infinity' : n === -Infinity ? '-Infinity' : String(n);
    }
    case 'INTEGER': case 'INT64': return String(typeof v === 'number' ? Math.trunc(v) : v);
    case 'BOOLEAN': case 'BOOL': return v ? 'true' : 'false';
    default: return typeof v === 'object' ? JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? Number(x) : x)) : String(v);
  }
}

const DML_KINDS = new Set(['resolved_merge_stmt_node', 'resolved_insert_stmt_node', 'resolved_update_stmt_node', 'resolved_delete_stmt_node']);

function quote(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

interface JobState {
  resource: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  schema?: { fields: BqField[] };
  rows: { f: { v: unknown }[] }[];
  numDmlAffectedRows?: string;
}

export async function startBigQueryStandin(opts: { analyzer: Analyzer; gcsRoot: string; project?: string }): Promise<BigQueryStandin> {
  const project = opts.project ?? 'ctloop-local';
  const requests: RecordedRequest[] = [];
  const statements: string[] = [];
  const failures: { match: { method?: string; path?: RegExp }; status: number; reason: string; message: string }[] = [];
  const datasets = new Map<string, Record<string, unknown>>();
  const tables = new Map<string, TableResource>(); // key: dataset.table
  const jobs = new Map<string, JobState>();
  const instance = await DuckDBInstance.create(':memory:');
  const conn: DuckDBConnection = await connectUtc(instance);
  for (const s of DUCKDB_PRELUDE) await conn.run(s);
  const dml = new DmlRunner(instance);
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn, fn);
    chain = next.catch(() => undefined);
    return next;
  };

  const localPath = (uri: string): string => {
    const m = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri);
    if (!m) throw new HttpError(400, 'invalid', `Invalid gs:// URI ${uri}`);
    return join(opts.gcsRoot, m[1]!, m[2]!);
  };
  const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
  const duckTable = (ds: string, t: string) => `${ident(ds)}.${ident(t)}`;
  const analyzerTables = (): AnalyzerTable[] =>
    [...tables.entries()].map(([key, t]) => ({
      name: `${project}.${key}`,
      // Columns of types ctloop never uses (DATETIME, NUMERIC, TIME from a Parquet load) are not given to the analyzer.
      columns: (t.schema?.fields ?? []).filter((f) => STANDARD[f.type.toUpperCase()]).map((f) => ({ name: f.name, type: colType(f.type) })),
    }));

  /** Re-read schemas from DuckDB after DDL run as SQL (CREATE/DROP/ALTER TABLE statements). */
  const syncFromDuck = async (): Promise<void> => {
    const reader = await conn.runAndReadAll(
      `SELECT table_schema, table_name, column_name, data_type, is_nullable FROM information_schema.columns
       WHERE table_catalog = current_database() AND table_schema <> 'main' ORDER BY table_schema, table_name, ordinal_position`,
    );
    const seen = new Map<string, BqField[]>();
    for (const r of reader.getRowObjectsJS()) {
      const key = `${r.table_schema}.${r.table_name}`;
      if (!seen.has(key)) seen.set(key, []);
      const t = duckColumnType(String(r.data_type));
      seen.get(key)!.push({ name: String(r.column_name), type: typeof t === 'string' ? LEGACY_NAME[t as ColumnType] ?? 'STRING' : 'STRING', mode: r.is_nullable === 'NO' ? 'REQUIRED' : 'NULLABLE' });
    }
    for (const key of [...tables.keys()]) if (!seen.has(key)) tables.delete(key);
    for (const [key, fields] of seen) {
      const [ds, t] = key.split('.') as [string, string];
      const existing = tables.get(key);
      for (const f of fields) {
        const old = existing?.schema?.fields?.find((o) => o.name === f.name);
        if (old && !STANDARD[old.type.toUpperCase()]) f.type = old.type;
      }
      tables.set(key, { ...(existing ?? { tableReference: { projectId: project, datasetId: ds, tableId: t }, kind: 'bigquery#table' }), schema: { fields } });
    }
  };

  const createDuckTable = async (ds: string, t: string, fields: BqField[]): Promise<void> => {
    await conn.run(`CREATE SCHEMA IF NOT EXISTS ${ident(ds)}`);
    const cols = fields.map((f) => `${ident(f.name)} ${duckType(colType(f.type)).toString()}${f.mode === 'REQUIRED' ? ' NOT NULL' : ''}`);
    await conn.run(`CREATE TABLE ${duckTable(ds, t)} (${cols.join(', ')})`);
  };

  /**
   * BigQuery raises on FLOAT64 overflow (`x * y`, `a + b`, SUM over finite values giving ±inf; ZetaSQL's reference
   * evaluator too), where DuckDB returns ±inf. An infinite result is an overflow unless an input held ±inf already:
   * a parameter, or a FLOAT64 column of a table the statement names.
   */
  const infinityIn = async (sql: string, values: Record<string, DuckDBValue>): Promise<boolean> => {
    const deep = (v: unknown): boolean => v === Infinity || v === -Infinity
      || (typeof v === 'object' && v !== null && Object.values(v).some(deep));
    if (Object.values(values).some(deep)) return true;
    for (const [key, t] of tables) {
      const [ds, tid] = key.split('.') as [string, string];
      if (!new RegExp(`\\b${tid}\\b`).test(sql)) continue;
      const floats = (t.schema?.fields ?? []).filter((f) => colType(f.type) === 'FLOAT64' && f.mode !== 'REPEATED');
      if (floats.length === 0) continue;
      const r = await conn.runAndReadAll(`SELECT ${floats.map((f) => `COALESCE(bool_or(isinf(${ident(f.name)})), false)`).join(' OR ')} AS inf FROM ${duckTable(ds, tid)}`);
      if (r.getRowsJS()[0]![0] === true) return true;
    }
    return false;
  };

  /** Analyze one statement against the registered tables; BigQuery's errors for what it rejects. */
  const analyzeSql = async (sql: string, params: { name: string; parameterType: BqParamType }[]) => {
    if (params.length > LIMITS.queryParameters) {
      throw new HttpError(400, 'invalidQuery', `Too many query parameters: ${params.length}, the limit is ${LIMITS.queryParameters}`);
    }
    const types: Record<string, ParamType> = {};
    for (const p of params) types[p.name] = paramTypeOf(p.parameterType);
    const analyzed = await opts.analyzer.analyze(sql, { tables: analyzerTables(), params: types });
    if (!analyzed.ok) {
      // BigQuery answers a missing table with 404 notFound, other analysis errors with 400 invalidQuery.
      if (/^Table not found/.test(analyzed.error)) throw new HttpError(404, 'notFound', `Not found: ${analyzed.error}`);
      throw new HttpError(400, 'invalidQuery', analyzed.error);
    }
    if (analyzed.kind === 'resolved_query_stmt_node' && analyzed.columns.length > LIMITS.resultColumns) {
      throw new HttpError(400, 'invalidQuery', `Too many columns in the query result: ${analyzed.columns.length}, the limit is ${LIMITS.resultColumns}`);
    }
    return { analyzed, types };
  };

  /**
   * A dry run: analyze only, and estimate the bytes the statement reads as BigQuery bills them: for every table
   * scan, the columns it reads (INT64, FLOAT64, TIMESTAMP, DATE 8 bytes; BOOL 1; STRING 2 + its UTF-8 length; NULL
   * 0) over the partitions its WHERE filters leave (bigquery-pruning.ts), the whole table when they leave all.
   */
  const dryRun = async (sql: string, params: { name: string; parameterType: BqParamType; parameterValue: BqParamValue }[]): Promise<number> => {
    const { analyzed, types } = await serial(() => analyzeSql(sql, params));
    const values = Object.fromEntries(params.map((p) => [p.name, paramJs(p.parameterValue, types[p.name]!)]));
    let bytes = 0;
    for (const scan of tableScans(analyzed.resolved, values)) {
      const key = scan.table.split('.').slice(-2).join('.');
      const t = tables.get(key);
      if (!t) continue;
      const [ds, tid] = key.split('.') as [string, string];
      const fields = t.schema?.fields ?? [];
      const size = scan.columns.map((name) => {
        const f = fields.find((x) => x.name === name);
        const type = (f?.type ?? 'STRING').toUpperCase();
        const c = ident(name);
        const width = type === 'STRING' || type === 'JSON' ? `2 + strlen(CAST(${c} AS VARCHAR))` : type === 'BOOL' || type === 'BOOLEAN' ? '1' : '8';
        return `CASE WHEN ${c} IS NULL THEN 0 ELSE ${width} END`;
      });
      if (size.length === 0) continue;
      const part = t.timePartitioning as { type?: string; field?: string } | undefined;
      const b = part?.field ? scan.bounds.get(part.field) : undefined;
      const unit = (part?.type ?? 'DAY').toLowerCase();
      const lit = (d: Date) => `date_trunc('${unit}', TIMESTAMP '${d.toISOString().replace('T', ' ').replace('Z', '')}')`;
      const where = part?.field && b && (b.lo || b.hi)
        ? ` WHERE ${[b.lo ? `date_trunc('${unit}', ${ident(part.field)}) >= ${lit(b.lo)}` : null, b.hi ? `date_trunc('${unit}', ${ident(part.field)}) <= ${lit(b.hi)}` : null].filter(Boolean).join(' AND ')}`
        : '';
      const r = await serial(() => conn.runAndReadAll(`SELECT COALESCE(SUM(${size.join(' + ')}), 0) AS b FROM ${duckTable(ds, tid)}${where}`));
      bytes += Number(r.getRowsJS()[0]![0]);
    }
    return bytes;
  };

  /** Analyze, translate, execute one statement: DML concurrently (bigquery-dml.ts), everything else one at a time. */
  const runSql = async (sql: string, params: { name: string; parameterType: BqParamType; parameterValue: BqParamValue }[]): Promise<Omit<JobState, 'resource'> & { exportFiles?: number }> => {
    const { analyzed, types } = await serial(() => analyzeSql(sql, params));
    statements.push(sql);
    const values: Record<string, DuckDBValue> = {};
    const duckTypes: Record<string, DuckDBType> = {};
    for (const p of params) {
      const t = types[p.name]!;
      values[p.name] = toDuck(paramJs(p.parameterValue, t), t);
      duckTypes[p.name] = duckType(t);
    }
    const ctx = { project, datasets: new Set(datasets.keys()) };
    const dmlTable = DML_KINDS.has(analyzed.kind) ? dmlTarget(sql) : null;
    if (dmlTable) {
      try {
        const n = await dml.run(dmlTable, analyzed.kind !== 'resolved_insert_stmt_node', (c) => runDml(c, dmlTable, analyzed.kind, translate(sql, ctx), values, duckTypes));
        return { rows: [], numDmlAffectedRows: String(n) };
      } catch (err) {
        if (err instanceof HttpError) throw err;
        if (err instanceof DmlQueueFullError) throw new HttpError(400, 'quotaExceeded', `Resources exceeded during query execution: too many DML statements outstanding against table ${dmlTable}, limit is ${MUTATING_QUEUED}`);
        if (err instanceof DmlConflictError) throw new HttpError(400, 'invalidQuery', err.message);
        throw new HttpError(400, 'invalidQuery', `stand-in execution failed: ${(err as Error).message}\n-- translated SQL:\n${translate(sql, ctx)}`);
      }
    }
    return serial(() => execute(analyzed, sql, values, duckTypes, ctx));
  };

  /**
   * One DML statement in its transaction, with what BigQuery checks: a MERGE target row matched by several source
   * rows fails; the rows written may not hold timestamps outside BigQuery's range; a statement may touch at most
   * 4,000 partitions of a partitioned table (counted from the rows it returns).
   */
  const runDml = async (
    c: DuckDBConnection, table: string, kind: string, duckSql: string, values: Record<string, DuckDBValue>, duckTypes: Record<string, DuckDBType>,
  ): Promise<number> => {
    if (kind === 'resolved_merge_stmt_node') {
      const check = mergeDuplicateMatchSql(duckSql);
      const dup = check ? Number((await c.runAndReadAll(check, values, duckTypes)).getRowsJS()[0]![0]) : 0;
      if (dup > 0) throw new HttpError(400, 'invalidQuery', `UPDATE/MERGE must match at most one source row for each target row (${dup} target rows matched several)`);
    }
    const t = tables.get(table);
    const tsCols = (t?.schema?.fields ?? []).filter((f) => colType(f.type) === 'TIMESTAMP' && f.mode !== 'REPEATED').map((f) => f.name);
    const part = t?.timePartitioning as { type?: string; field?: string } | undefined;
    if (kind === 'resolved_delete_stmt_node' || (tsCols.length === 0 && !part?.field)) return Number((await c.run(duckSql, values, duckTypes)).rowsChanged ?? 0);
    const unit = (part?.type ?? 'DAY').toLowerCase();
    const ret = [...tsCols.map((n) => ident(n)), part?.field ? `date_trunc('${unit}', ${ident(part.field)}) AS __partition` : 'NULL AS __partition'];
    const rows = (await c.runAndReadAll(`${duckSql}\nRETURNING ${ret.join(', ')}`, values, duckTypes)).getRowsJS();
    for (const r of rows) {
      tsCols.forEach((name, i) => {
        const v = r[i];
        if (v instanceof Date && !inTimestampRange(v)) throw new HttpError(400, 'invalidQuery', `Timestamp field ${name} value ${v.toISOString()} is out of range 0001-01-01..9999-12-31`);
      });
    }
    if (part?.field) {
      const partitions = new Set(rows.map((r) => String(r[tsCols.length])));
      if (partitions.size > LIMITS.partitionsPerStatement) {
        throw new HttpError(400, 'invalidQuery', `Too many partitions produced by query, allowed ${LIMITS.partitionsPerStatement}, query produces at least ${partitions.size} partitions`);
      }
    }
    return rows.length;
  };

  const execute = async (
    analyzed: Extract<AnalyzeResult, { ok: true }>, sql: string, values: Record<string, DuckDBValue>, duckTypes: Record<string, DuckDBType>, ctx: TranslateContext,
  ): Promise<Omit<JobState, 'resource'> & { exportFiles?: number }> => {
    try {
      if (analyzed.kind === 'resolved_export_data_stmt_node') {
        const m = /^\s*EXPORT\s+DATA\s+OPTIONS\s*\(([\s\S]*?)\)\s*AS\s*([\s\S]+)$/i.exec(sql);
        if (!m) throw new HttpError(400, 'invalidQuery', 'EXPORT DATA form not understood by the stand-in');
        const opt = (k: string) => new RegExp(`\\b${k}\\s*=\\s*(?:'([^']*)'|(\\w+))`, 'i').exec(m[1]!);
        const uri = opt('uri')?.[1];
        const format = (opt('format')?.[1] ?? 'CSV').toUpperCase();
        if (!uri || uri.split('*').length !== 2) throw new HttpError(400, 'invalidQuery', 'EXPORT DATA uri must contain exactly one *');
        const path = localPath(uri.replace('*', '000000000000'));
        await mkdir(dirname(path), { recursive: true });
        const header = (opt('header')?.[2] ?? 'false').toLowerCase() === 'true';
        let inner = translate(m[2]!, ctx);
        if (format === 'PARQUET') {
          // BigQuery writes TIMESTAMP as Parquet TIMESTAMP(isAdjustedToUTC = true, MICROS): DuckDB's TIMESTAMPTZ.
          const probe = await conn.runAndReadAll(`SELECT * FROM (${inner}) AS q LIMIT 0`, values, duckTypes);
          const names = probe.columnNames();
          const ts = probe.columnTypes().map((t, i) => (String(t) === 'TIMESTAMP' ? names[i]! : null)).filter((n): n is string => n !== null);
          if (ts.length) inner = `SELECT * REPLACE (${ts.map((n) => `timezone('UTC', ${ident(n)}) AS ${ident(n)}`).join(', ')}) FROM (${inner}) AS q`;
        }
        await conn.run(
          `COPY (${inner}) TO ${quote(path)} (FORMAT ${format === 'PARQUET' ? 'parquet' : `csv, HEADER ${header}`})`,
          values, duckTypes,
        );
        return { rows: [], exportFiles: 1 };
      }
      const duckSql = translate(sql, ctx);
      if (analyzed.kind === 'resolved_query_stmt_node') {
        const reader = await conn.runAndReadAll(duckSql, values, duckTypes);
        const fields = analyzed.columns.map((c) => bqFieldOf(c.name, c.type));
        const raw = reader.getRowsJS();
        if (raw.some((r) => r.some((v) => v === Infinity || v === -Infinity)) && !(await infinityIn(sql, values))) {
          throw new HttpError(400, 'invalidQuery', 'Floating point overflow: a FLOAT64 operation on finite values gave an infinite result');
        }
        fields.forEach((f, i) => {
          const bad = f.type === 'TIMESTAMP' ? raw.find((r) => r[i] instanceof Date && !inTimestampRange(r[i] as Date)) : undefined;
          if (bad) throw new HttpError(400, 'invalidQuery', `Timestamp overflow in column ${f.name}: ${(bad[i] as Date).toISOString()} is outside 0001-01-01..9999-12-31`);
        });
        const rows = raw.map((r) => ({ f: fields.map((f, i) => ({ v: cell(r[i], f) })) }));
        return { schema: { fields }, rows };
      }
      const res = await conn.run(duckSql, values, duckTypes);
      if (/create|drop|alter/.test(analyzed.kind)) await syncFromDuck();
      return { rows: [], numDmlAffectedRows: String(res.rowsChanged ?? 0) };
    } catch (err) {
      if (err instanceof HttpError) throw err;
      // The analyzer accepted it, so this is a gap in the translation or a runtime error (e.g. a failed cast).
      throw new HttpError(400, 'invalidQuery', `stand-in execution failed: ${(err as Error).message}\n-- translated SQL:\n${translate(sql, ctx)}`);
    }
  };

  const newJob = (jobId: string, location: string, configuration: unknown, statistics: Record<string, unknown> = {}): Record<string, unknown> => ({
    kind: 'bigquery#job', id: `${project}:${location}.${jobId}`, jobReference: { projectId: project, jobId, location },
    configuration, status: { state: 'DONE' }, statistics: { creationTime: String(Date.now()), ...statistics },
  });

  const queryResponse = (job: JobState, maxResults: number, pageToken?: string) => {
    const start = pageToken ? Number(pageToken) : 0;
    const page = job.rows.slice(start, start + maxResults);
    const next = start + page.length < job.rows.length ? String(start + page.length) : undefined;
    return {
      kind: 'bigquery#queryResponse', jobReference: job.resource.jobReference, jobComplete: true,
      ...(job.schema ? { schema: job.schema, rows: page, totalRows: String(job.rows.length) } : {}),
      ...(next ? { pageToken: next } : {}),
      ...(job.numDmlAffectedRows !== undefined ? { numDmlAffectedRows: job.numDmlAffectedRows } : {}),
    };
  };

  const runLoad = async (load: Record<string, any>): Promise<void> => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const { datasetId: ds, tableId: t } = load.destinationTable;
    const key = `${ds}.${t}`;
    const fmt = String(load.sourceFormat ?? 'CSV');
    const srcs = (load.sourceUris as string[]).map((u) => quote(localPath(u))).join(', ');
    const fields: BqField[] | undefined = load.schema?.fields;
    const colSpec = fields ? `{${fields.map((f) => `${quote(f.name)}: ${quote(duckType(colType(f.type)).toString())}`).join(', ')}}` : undefined;
    const header = Number(load.skipLeadingRows ?? 0) > 0;
    // CSV options as BigQuery reads them (load job configuration reference): `fieldDelimiter`, `quote` (doubled to
    // escape), `nullMarker` (when set, only it is NULL and an empty STRING value is ''; by default an empty value is
    // NULL), and with a schema every record must have every column (no `allowJaggedRows`) and parse (`maxBadRecords`
    // 0). Not modelled: `allowQuotedNewlines` false (every caller sets it), `preserveAsciiControlCharacters` false.
    const csvOpts = [
      load.fieldDelimiter !== undefined ? `delim = ${quote(String(load.fieldDelimiter) === '\\t' ? '\t' : String(load.fieldDelimiter))}` : null,
      `quote = ${quote(String(load.quote ?? '"'))}`, `escape = ${quote(String(load.quote ?? '"'))}`,
      load.nullMarker !== undefined ? `nullstr = ${quote(String(load.nullMarker))}` : null,
      colSpec ? 'auto_detect = false, strict_mode = true' : null,
    ].filter(Boolean).join(', ');
    const reader = fmt === 'PARQUET' ? `read_parquet([${srcs}])`
      : fmt === 'CSV' ? `read_csv([${srcs}], header = ${header}, ${csvOpts}${colSpec ? `, columns = ${colSpec}` : ', auto_detect = true'})`
        : `read_json([${srcs}], format = 'newline_delimited'${colSpec ? `, columns = ${colSpec}` : ''})`;
    const exists = tables.has(key);
    if (exists && load.writeDisposition === 'WRITE_TRUNCATE') await conn.run(`DROP TABLE ${duckTable(ds, t)}`);
    if (!exists && load.createDisposition === 'CREATE_NEVER') throw new HttpError(404, 'notFound', `Not found: Table ${project}:${key}`);
    await conn.run(`CREATE SCHEMA IF NOT EXISTS ${ident(ds)}`);
    if (exists && load.writeDisposition !== 'WRITE_TRUNCATE') {
      await conn.run(`INSERT INTO ${duckTable(ds, t)} SELECT * FROM ${reader}`);
    } else {
      await conn.run(`CREATE TABLE ${duckTable(ds, t)} AS SELECT * FROM ${reader}`);
    }
    const prev = tables.get(key);
    await syncFromDuck();
    if (prev) tables.set(key, { ...prev, schema: tables.get(key)!.schema });
    if (fmt === 'PARQUET' && !fields && (!exists || load.writeDisposition === 'WRITE_TRUNCATE')) {
      // A new table takes its types from the Parquet file, as BigQuery's loader maps them.
      const types = (await conn.runAndReadAll(`SELECT * FROM ${reader} LIMIT 0`)).columnTypes().map((x) => String(x));
      const fields = tables.get(key)!.schema!.fields!;
      fields.forEach((f, i) => { f.type = parquetLoadType(types[i]!) ?? f.type; });
    }
  };

  const handle = async (method: string, path: string, query: Record<string, string>, body: any): Promise<unknown> => { // eslint-disable-line @typescript-eslint/no-explicit-any
    let m: RegExpExecArray | null;
    if (method === 'GET' && (m = /^\/datasets\/([^/]+)$/.exec(path))) {
      const d = datasets.get(m[1]!);
      if (!d) throw new HttpError(404, 'notFound', `Not found: Dataset ${project}:${m[1]}`);
      return d;
    }
    if (method === 'POST' && path === '/datasets') {
      const id = body.datasetReference.datasetId as string;
      if (datasets.has(id)) throw new HttpError(409, 'duplicate', `Already Exists: Dataset ${project}:${id}`);
      const d = { kind: 'bigquery#dataset', id: `${project}:${id}`, ...body };
      datasets.set(id, d);
      await conn.run(`CREATE SCHEMA IF NOT EXISTS ${ident(id)}`);
      return d;
    }
    if ((m = /^\/datasets\/([^/]+)\/tables(?:\/([^/]+))?$/.exec(path))) {
      const ds = m[1]!;
      if (!datasets.has(ds)) throw new HttpError(404, 'notFound', `Not found: Dataset ${project}:${ds}`);
      const tid = m[2] ?? (method === 'POST' ? body.tableReference.tableId : undefined);
      const key = `${ds}.${tid}`;
      const t = tables.get(key);
      if (method === 'POST' && !m[2]) {
        if (t) throw new HttpError(409, 'duplicate', `Already Exists: Table ${project}:${key}`);
        for (const f of body.schema?.fields ?? []) colType(f.type);
        await createDuckTable(ds, tid, body.schema?.fields ?? []);
        const res = { kind: 'bigquery#table', id: `${project}:${key}`, ...body, creationTime: String(Date.now()) };
        tables.set(key, res);
        return res;
      }
      if (!t) throw new HttpError(404, 'notFound', `Not found: Table ${project}:${key}`);
      if (method === 'GET') return t;
      if (method === 'DELETE') {
        await conn.run(`DROP TABLE IF EXISTS ${duckTable(ds, tid)}`);
        tables.delete(key);
        return undefined;
      }
      if (method === 'PATCH' || method === 'PUT') {
        if (body.schema) {
          const old: BqField[] = t.schema?.fields ?? [];
          const next: BqField[] = body.schema.fields;
          old.forEach((f, i) => {
            if (next[i]?.name !== f.name || colType(next[i]!.type) !== colType(f.type)) {
              throw new HttpError(400, 'invalid', `Provided Schema does not match Table ${project}:${key}. Field ${f.name} is missing or changed.`);
            }
          });
          for (const f of next.slice(old.length)) {
            if (f.mode === 'REQUIRED') throw new HttpError(400, 'invalid', `Cannot add required field ${f.name}`);
            await conn.run(`ALTER TABLE ${duckTable(ds, tid)} ADD COLUMN ${ident(f.name)} ${duckType(colType(f.type)).toString()}`);
          }
        }
        const res = { ...t, ...body };
        tables.set(key, res);
        return res;
      }
    }
    if (method === 'POST' && path === '/queries') {
      if (String(body.parameterMode ?? 'NAMED').toUpperCase() !== 'NAMED' && body.queryParameters?.length) {
        throw new HttpError(400, 'invalid', 'the stand-in supports named parameters only');
      }
      const jobId = `job_${randomUUID().replace(/-/g, '')}`;
      const location = body.location ?? 'US';
      if (body.dryRun) {
        const bytes = String(await dryRun(body.query, body.queryParameters ?? []));
        return { kind: 'bigquery#queryResponse', jobReference: { projectId: project, location }, jobComplete: true, cacheHit: false, totalBytesProcessed: bytes };
      }
      const out = await runSql(body.query, body.queryParameters ?? []);
      const statistics = out.exportFiles ? { query: { exportDataStatistics: { fileCount: String(out.exportFiles), rowCount: '0' } } } : {};
      const job: JobState = { ...out, resource: newJob(jobId, location, { query: { query: body.query }, labels: body.labels }, statistics) };
      jobs.set(jobId, job);
      return queryResponse(job, Number(body.maxResults ?? 100_000));
    }
    if (method === 'GET' && (m = /^\/queries\/([^/]+)$/.exec(path))) {
      const job = jobs.get(m[1]!);
      if (!job) throw new HttpError(404, 'notFound', `Not found: Job ${project}:${m[1]}`);
      return queryResponse(job, Number(query.maxResults ?? 100_000), query.pageToken);
    }
    if (method === 'POST' && path === '/jobs') {
      const jobId = body.jobReference?.jobId ?? `job_${randomUUID().replace(/-/g, '')}`;
      if (jobs.has(jobId)) throw new HttpError(409, 'duplicate', `Already Exists: Job ${project}:${jobId}`);
      const location = body.jobReference?.location ?? 'US';
      if (body.configuration?.dryRun && body.configuration?.query) {
        const bytes = String(await dryRun(body.configuration.query.query, body.configuration.query.queryParameters ?? []));
        return { ...newJob(jobId, location, body.configuration, { totalBytesProcessed: bytes, query: { totalBytesProcessed: bytes } }) };
      }
      const resource = newJob(jobId, location, body.configuration);
      const job: JobState = { resource, rows: [] };
      try {
        if (body.configuration?.load) await serial(() => runLoad(body.configuration.load));
        else if (body.configuration?.query) Object.assign(job, await runSql(body.configuration.query.query, body.configuration.query.queryParameters ?? []));
        else throw new HttpError(400, 'invalid', 'the stand-in runs load and query jobs only');
      } catch (err) {
        // Job errors are reported in the job status, not as an HTTP error (like BigQuery).
        const e = err instanceof HttpError ? err : new HttpError(400, 'invalid', (err as Error).message);
        resource.status = { state: 'DONE', errorResult: { reason: e.reason, message: e.message }, errors: [{ reason: e.reason, message: e.message }] };
      }
      jobs.set(jobId, job);
      return resource;
    }
    if (method === 'GET' && (m = /^\/jobs\/([^/]+)$/.exec(path))) {
      const job = jobs.get(m[1]!);
      if (!job) throw new HttpError(404, 'notFound', `Not found: Job ${project}:${m[1]}`);
      return job.resource;
    }
    throw new HttpError(404, 'notFound', `the stand-in does not implement ${method} ${path}`);
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const prefix = `/bigquery/v2/projects/${project}`;
      const method = req.method ?? 'GET';
      const text = Buffer.concat(chunks).toString('utf8');
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(payload === undefined ? '' : JSON.stringify(payload));
      };
      const fail = (e: HttpError) => send(e.status, {
        error: { code: e.status, message: e.message, errors: [{ reason: e.reason, message: e.message, domain: 'global' }], status: e.status === 404 ? 'NOT_FOUND' : 'INVALID_ARGUMENT' },
      });
      if (!url.pathname.startsWith(prefix)) return fail(new HttpError(404, 'notFound', `unknown project or path ${url.pathname}`));
      const path = url.pathname.slice(prefix.length);
      let body: unknown;
      try { body = text ? JSON.parse(text) : undefined; } catch { return fail(new HttpError(400, 'parseError', 'body is not JSON')); }
      requests.push({ method, path, query: Object.fromEntries(url.searchParams), body });
      const fi = failures.findIndex((f) => (!f.match.method || f.match.method === method) && (!f.match.path || f.match.path.test(path)));
      if (fi >= 0) {
        const f = failures.splice(fi, 1)[0]!;
        return fail(new HttpError(f.status, f.reason, f.message));
      }
      // Queries and jobs run concurrently (DML with BigQuery's rules); everything else one request at a time.
      const concurrent = method === 'POST' && (path === '/queries' || path === '/jobs');
      const args = [method, path, Object.fromEntries(url.searchParams), body] as const;
      (concurrent ? handle(...args) : serial(() => handle(...args))).then(
        (out) => (out === undefined ? send(204, undefined) : send(200, out)),
        (e: unknown) => fail(e instanceof HttpError ? e : new HttpError(500, 'internalError', String((e as Error)?.stack ?? e))),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;

  return {
    url: `http://127.0.0.1:${port}`,
    project,
    gcsRoot: opts.gcsRoot,
    requests,
    statements,
    failNext(match, status, reason, message = `injected ${reason}`) { failures.push({ match, status, reason, message }); },
    localPath,
    overlapDml(table, n) { return dml.overlap(table, n); },
    tableFields(table) {
      return tables.get(table)?.schema?.fields?.map((f) => ({ name: f.name, type: f.type, ...(f.mode ? { mode: f.mode } : {}) })) ?? null;
    },
    async appendRows(table, rows) {
      const t = tables.get(table);
      if (!t) throw new Error(`appendRows: no table ${table}`);
      const fields = (t.schema?.fields ?? []).filter((f) => STANDARD[f.type.toUpperCase()]);
      if (rows.length === 0) return;
      const [ds, tid] = table.split('.') as [string, string];
      const values: DuckDBValue[] = [];
      const types: DuckDBType[] = [];
      const tuples = rows.map((r) => `(${fields.map((f) => {
        const ct = colType(f.type);
        values.push(toDuck(r[f.name] ?? null, ct));
        types.push(duckType(ct));
        return `$${values.length}`;
      }).join(', ')})`);
      await serial(() => conn.run(`INSERT INTO ${duckTable(ds, tid)} (${fields.map((f) => ident(f.name)).join(', ')}) VALUES ${tuples.join(', ')}`, values, types));
    },
    async dryRun(request) {
      const res = await fetch(`http://127.0.0.1:${port}/bigquery/v2/projects/${project}/queries`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: request.query, queryParameters: request.queryParameters ?? [], useLegacySql: false, parameterMode: 'NAMED', dryRun: true }),
      });
      const body = await res.json() as { totalBytesProcessed?: string; error?: { message: string } };
      if (!res.ok) throw new Error(`dry run failed: ${body.error?.message}`);
      return Number(body.totalBytesProcessed);
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await chain.catch(() => undefined);
      conn.closeSync();
      instance.closeSync();
    },
  };
}

export interface BigQueryTestWarehouse {
  warehouse: BigQueryWarehouse;
  standin: BigQueryStandin;
  /** The Storage Write API stand-in, when started with `storageWrite: true` (the adapter then appends through it). */
  storage?: StorageWriteStandin;
  analyzer: Analyzer;
  /** Copy a local file into the stand-in's bucket directory; returns its gs:// URI. */
  upload(localPath: string, name?: string): Promise<string>;
  cleanup(): Promise<void>;
}

/**
 * Analyzer + stand-in + the real BigQuery adapter pointed at it. Use from any test whose SQL must be valid
 * BigQuery: `const bq = await startBigQueryTestWarehouse(); … await bq.cleanup()`. Throws when the analyzer cannot
 * start (check `analyzerUnavailableReason()` from ./zetasql.js first and skip).
 */
export async function startBigQueryTestWarehouse(opts: { project?: string; dataset?: string; storageWrite?: boolean } = {}): Promise<BigQueryTestWarehouse> {
  const gcsRoot = await mkdtemp(join(tmpdir(), 'ctloop-gcs-'));
  const analyzer = await startAnalyzer();
  let standin: BigQueryStandin | undefined;
  let storage: StorageWriteStandin | undefined;
  try {
    standin = await startBigQueryStandin({ analyzer, gcsRoot, ...(opts.project ? { project: opts.project } : {}) });
    if (opts.storageWrite) storage = await startStorageWriteStandin(standin);
    const warehouse = await createBigQueryWarehouse(
      { kind: 'bigquery', project: standin.project, dataset: opts.dataset ?? 'ctloop', location: 'US', apiEndpoint: standin.url },
      { maxRetries: 0, pollMs: 5, ...(storage ? { storageWrite: storage.clientOptions } : {}) },
    );
    const s = standin;
    return {
      warehouse, standin: s, analyzer, ...(storage ? { storage } : {}),
      async upload(localPath, name) {
        const uri = `gs://ctloop-test/uploads/${randomUUID().slice(0, 8)}/${name ?? localPath.split('/').pop()}`;
        const dest = s.localPath(uri);
        await mkdir(dirname(dest), { recursive: true });
        await writeFile(dest, await readFile(localPath));
        return uri;
      },
      async cleanup() {
        await warehouse.close();
        await storage?.stop();
        await s.stop();
        await analyzer.stop();
        await rm(gcsRoot, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await storage?.stop();
    await standin?.stop();
    await analyzer.stop();
    await rm(gcsRoot, { recursive: true, force: true });
    throw err;
  }
}
