/**
 * BigQuery warehouse adapter (`@google-cloud/bigquery@8`, REST through the client's authenticated `request`).
 *
 * - query/execute: `jobs.query` (POST /queries) with `parameterMode: NAMED`, typed `queryParameters`, job labels and
 *   `formatOptions.useInt64Timestamp`; polls `GET /queries/<jobId>` until complete and pages through results.
 * - withRows: the rows travel as ONE `ARRAY<STRUCT<…>>` query parameter and are read with `UNNEST(@p)`, so an ingest
 *   batch is one MERGE job (no streaming buffer, no per-row load jobs).
 * - withFile: a load job from a gs:// URI into a short-lived staging table in the dataset (expiration set, dropped after).
 * - exportQuery: `EXPORT DATA OPTIONS(uri=…, format=…) AS …`; written URIs from the job's exportDataStatistics.
 */
import { randomUUID } from 'node:crypto';
import { BigQuery } from '@google-cloud/bigquery';
import { PassThroughClient } from 'google-auth-library';
import type { ClientOptions } from 'google-gax';
import type { WarehouseConfig } from '../../../config/config.js';
import { ValidationError } from '../../../errors.js';
import type {
  ColumnSchema, FileFormat, Params, QueryOptions, Row, StagedRelation, TableSpec, Warehouse,
} from '../../../ports/warehouse.js';
import { bigqueryDialect } from '../../../sql/dialects.js';
import { assertIdentifier } from '../../../sql/identifiers.js';
import { isDuplicate, isNotFound, mapBigQueryError } from './errors.js';
import { queryParameters } from './params.js';
import { columnType, rowsFromResponse, type BqField } from './values.js';
import { StorageWriteAppender } from './write/appender.js';

export type BigQueryWarehouseConfig = Extract<WarehouseConfig, { kind: 'bigquery' }>;

export interface BigQueryWarehouseOptions {
  /** Retries of the client on 429/5xx before an error surfaces (default: the client's, 3; 0 disables retrying). */
  maxRetries?: number;
  /** Staging tables expire after this many ms even if never dropped (default 1 hour). */
  stagingTtlMs?: number;
  /** Labels added to every job (cost attribution), merged under per-call labels. */
  labels?: Record<string, string>;
  /** Poll interval for jobs (default 500 ms). */
  pollMs?: number;
  /**
   * Storage Write API client options (gax: `apiEndpoint`, `port`, `sslCreds`). Against Google (no local
   * `apiEndpoint` in the config) the append path is always on, with ADC; against a local REST stand-in or emulator
   * it is on only when this is given (there is no public Storage Write API emulator), and `appendRows` is absent
   * otherwise (ingest then writes with INSERT … WHERE NOT EXISTS).
   */
  storageWrite?: ClientOptions;
}

/** jobs.query / jobs.getQueryResults request body limit is 10 MB; stay under it with the rows parameter. */
const MAX_REQUEST_BYTES = 9_500_000;
const PAGE_ROWS = 50_000;

interface QueryResponse {
  jobComplete?: boolean;
  jobReference?: { projectId: string; jobId: string; location?: string };
  schema?: { fields?: BqField[] };
  rows?: { f: { v: unknown }[] }[];
  pageToken?: string;
  numDmlAffectedRows?: string;
  totalRows?: string;
  errors?: { reason?: string; message?: string }[];
}

interface JobResource {
  jobReference: { jobId: string; location?: string };
  status?: { state?: string; errorResult?: { reason?: string; message?: string }; errors?: { reason?: string; message?: string }[] };
  statistics?: { query?: { exportDataStatistics?: { fileCount?: string; rowCount?: string } } };
}

interface TableResource {
  tableReference: { projectId: string; datasetId: string; tableId: string };
  schema?: { fields?: BqField[] };
  timePartitioning?: { type: string; field?: string };
  clustering?: { fields: string[] };
  labels?: Record<string, string>;
  description?: string;
  expirationTime?: string;
}

const FORMATS: Record<FileFormat, string> = { csv: 'CSV', jsonl: 'NEWLINE_DELIMITED_JSON', parquet: 'PARQUET' };

function labelValue(v: string): string {
  return v.toLowerCase().replace(/[^a-z0-9_-]/g, '_').slice(0, 63);
}

export class BigQueryWarehouse implements Warehouse {
  readonly dialect;
  readonly readsObjectUris = true;
  /** Typed parameter encoding roughly triples the rows' JSON size; keep the request well under 10 MB. */
  readonly maxStagedBytes = 3_000_000;
  private readonly project: string;
  private readonly dataset: string;
  private readonly location: string;

  private readonly appender: StorageWriteAppender | null;
  readonly appendRows?: (table: string, columns: ColumnSchema[], rows: Row[]) => Promise<void>;

  constructor(private readonly client: BigQuery, config: BigQueryWarehouseConfig, private readonly opts: BigQueryWarehouseOptions = {}) {
    this.project = config.project;
    this.dataset = config.dataset;
    this.location = config.location;
    this.dialect = bigqueryDialect(config.project, config.dataset);
    const local = config.apiEndpoint?.startsWith('http://') ?? false;
    this.appender = !local || opts.storageWrite
      ? new StorageWriteAppender({ project: config.project, dataset: config.dataset, ...(opts.storageWrite ? { clientOptions: opts.storageWrite } : {}) })
      : null;
    if (this.appender) {
      const appender = this.appender;
      this.appendRows = (table, columns, rows) => {
        columns.forEach((c) => assertIdentifier(c.name, 'column'));
        return appender.append(assertIdentifier(table, 'table'), columns, rows);
      };
    }
  }

  /** Authenticated REST call relative to /bigquery/v2/projects/<project>. */
  private request<T>(reqOpts: { method?: string; uri: string; json?: unknown; qs?: Record<string, unknown> }): Promise<T> {
    return new Promise((resolve, reject) => {
      this.client.request(reqOpts as never, (err: Error | null, body?: unknown) => (err ? reject(err) : resolve(body as T)));
    });
  }

  private labels(extra?: Record<string, string>): Record<string, string> {
    const all = { app: 'ctloop', ...this.opts.labels, ...extra };
    return Object.fromEntries(Object.entries(all).map(([k, v]) => [labelValue(k), labelValue(v)]));
  }

  /** Create the dataset if absent (idempotent). */
  async ensureDataset(): Promise<void> {
    try {
      await this.request({ uri: `/datasets/${this.dataset}` });
      return;
    } catch (err) {
      if (!isNotFound(err)) throw mapBigQueryError(err, `get dataset ${this.dataset}`);
    }
    try {
      await this.request({
        method: 'POST', uri: '/datasets',
        json: { datasetReference: { projectId: this.project, datasetId: this.dataset }, location: this.location, labels: this.labels() },
      });
    } catch (err) {
      if (!isDuplicate(err)) throw mapBigQueryError(err, `create dataset ${this.dataset}`);
    }
  }

  private async runQuery(sql: string, opts: QueryOptions = {}): Promise<QueryResponse & { allRows: QueryResponse['rows'] }> {
    const params = queryParameters(opts.params);
    const body = {
      query: sql,
      useLegacySql: false,
      parameterMode: 'NAMED',
      queryParameters: params,
      labels: this.labels(opts.labels),
      location: this.location,
      defaultDataset: { projectId: this.project, datasetId: this.dataset },
      formatOptions: { useInt64Timestamp: true },
      requestId: randomUUID(),
      maxResults: PAGE_ROWS,
      timeoutMs: 10_000,
    };
    const size = Buffer.byteLength(JSON.stringify(body));
    if (size > MAX_REQUEST_BYTES) {
      throw new ValidationError(`BigQuery request of ${size} bytes exceeds the 10 MB request limit`, {
        hint: 'stage fewer rows per batch (split the batch) or load the data from a file with withFile', details: { bytes: size },
      });
    }
    let res: QueryResponse;
    try {
      res = await this.request<QueryResponse>({ method: 'POST', uri: '/queries', json: body });
      const jobId = res.jobReference?.jobId;
      const more = (pageToken?: string) => {
        if (!jobId) throw new Error('jobs.query returned an incomplete result without a jobReference');
        return this.request<QueryResponse>({
          uri: `/queries/${jobId}`,
          qs: {
            location: res.jobReference?.location ?? this.location, maxResults: PAGE_ROWS, timeoutMs: 10_000,
            'formatOptions.useInt64Timestamp': true, ...(pageToken ? { pageToken } : {}),
          },
        });
      };
      while (!res.jobComplete) res = { ...res, ...(await more()) }; // long job: wait (the server holds each call up to timeoutMs)
      const allRows = [...(res.rows ?? [])];
      for (let token = res.pageToken; token; ) {
        const page = await more(token);
        allRows.push(...(page.rows ?? []));
        token = page.pageToken;
      }
      return { ...res, allRows };
    } catch (err) {
      throw mapBigQueryError(err, 'query', sql);
    }
  }

  async query(sql: string, opts: QueryOptions = {}): Promise<Row[]> {
    const res = await this.runQuery(sql, opts);
    return rowsFromResponse(res.schema, res.allRows) as Row[];
  }

  async execute(sql: string, opts: QueryOptions = {}): Promise<{ affectedRows: number | null }> {
    const res = await this.runQuery(sql, opts);
    return { affectedRows: res.numDmlAffectedRows !== undefined ? Number(res.numDmlAffectedRows) : null };
  }

  private tableUri(name: string): string {
    return `/datasets/${this.dataset}/tables/${assertIdentifier(name, 'table')}`;
  }

  private async getTableResource(name: string): Promise<TableResource | null> {
    try {
      return await this.request<TableResource>({ uri: this.tableUri(name) });
    } catch (err) {
      if (isNotFound(err)) return null;
      throw mapBigQueryError(err, `get table ${name}`);
    }
  }

  async getTable(name: string): Promise<TableSpec | null> {
    const t = await this.getTableResource(name);
    if (!t) return null;
    const columns: ColumnSchema[] = (t.schema?.fields ?? []).map((f) => {
      const type = columnType(f.type);
      if (!type || f.mode === 'REPEATED') {
        throw new ValidationError(`table ${name} column ${f.name} has type ${f.mode === 'REPEATED' ? 'ARRAY<' : ''}${f.type}, which ctloop does not use`, {
          hint: 'use STRING, INT64, FLOAT64, BOOL, TIMESTAMP, DATE or JSON columns in ctloop tables',
        });
      }
      return { name: f.name, type, mode: f.mode === 'REQUIRED' ? 'REQUIRED' : 'NULLABLE', ...(f.description ? { description: f.description } : {}) };
    });
    return {
      name,
      columns,
      ...(t.timePartitioning?.field ? { partitionBy: t.timePartitioning.field } : {}),
      ...(t.clustering?.fields?.length ? { clusterBy: t.clustering.fields } : {}),
      ...(t.description ? { description: t.description } : {}),
      ...(t.labels && Object.keys(t.labels).length ? { labels: t.labels } : {}),
    };
  }

  private fields(columns: ColumnSchema[]): BqField[] {
    return columns.map((c) => ({
      name: assertIdentifier(c.name, 'column'), type: c.type, mode: c.mode ?? 'NULLABLE', ...(c.description ? { description: c.description } : {}),
    }));
  }

  private tableResource(spec: TableSpec, extra: Partial<TableResource> = {}): TableResource {
    if (spec.partitionBy) {
      const p = spec.columns.find((c) => c.name === spec.partitionBy);
      if (!p || (p.type !== 'TIMESTAMP' && p.type !== 'DATE')) {
        throw new ValidationError(`table ${spec.name}: partition column ${spec.partitionBy} must be a TIMESTAMP or DATE column of the table`, {
          hint: 'set partitionBy to the event-time column',
        });
      }
    }
    if (spec.clusterBy && spec.clusterBy.length > 4) {
      throw new ValidationError(`table ${spec.name}: BigQuery clusters on at most 4 columns, got ${spec.clusterBy.length}`, { hint: 'keep the first 4 join keys' });
    }
    return {
      tableReference: { projectId: this.project, datasetId: this.dataset, tableId: assertIdentifier(spec.name, 'table') },
      schema: { fields: this.fields(spec.columns) },
      ...(spec.partitionBy ? { timePartitioning: { type: 'DAY', field: spec.partitionBy } } : {}),
      ...(spec.clusterBy?.length ? { clustering: { fields: spec.clusterBy } } : {}),
      labels: this.labels(spec.labels),
      ...(spec.description ? { description: spec.description } : {}),
      ...extra,
    };
  }

  async createTable(spec: TableSpec): Promise<void> {
    const body = this.tableResource(spec);
    try {
      await this.request({ method: 'POST', uri: `/datasets/${this.dataset}/tables`, json: body });
    } catch (err) {
      if (isDuplicate(err)) return; // already exists: createTable is idempotent (schema changes go through addColumns)
      throw mapBigQueryError(err, `create table ${spec.name}`);
    }
  }

  async addColumns(name: string, columns: ColumnSchema[]): Promise<void> {
    const t = await this.getTableResource(name);
    if (!t) throw mapBigQueryError({ code: 404, message: `table ${name} not found`, errors: [{ reason: 'notFound' }] }, `add columns to ${name}`);
    const existing = new Set((t.schema?.fields ?? []).map((f) => f.name.toLowerCase()));
    const added = this.fields(columns.map((c) => ({ ...c, mode: 'NULLABLE' as const }))).filter((f) => !existing.has(f.name.toLowerCase()));
    if (added.length === 0) return;
    try {
      await this.request({ method: 'PATCH', uri: this.tableUri(name), json: { schema: { fields: [...(t.schema?.fields ?? []), ...added] } } });
    } catch (err) {
      throw mapBigQueryError(err, `add columns to ${name}`);
    }
  }

  async dropTable(name: string): Promise<void> {
    try {
      await this.request({ method: 'DELETE', uri: this.tableUri(name) });
    } catch (err) {
      if (!isNotFound(err)) throw mapBigQueryError(err, `drop table ${name}`);
    }
  }

  async withRows<T>(columns: ColumnSchema[], rows: Row[], fn: (rel: StagedRelation) => Promise<T>): Promise<T> {
    columns.forEach((c) => assertIdentifier(c.name, 'column'));
    const param = `rows_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    const params: Params = { [param]: { type: { array: { struct: columns.map((c) => ({ name: c.name, type: c.type })) } }, value: rows } };
    return fn({ sql: `UNNEST(${this.dialect.param(param)})`, params, columns });
  }

  private async waitForJob(jobId: string, what: string): Promise<JobResource> {
    for (let delay = this.opts.pollMs ?? 500; ; delay = Math.min(delay * 1.5, 5000)) {
      let job: JobResource;
      try {
        job = await this.request<JobResource>({ uri: `/jobs/${jobId}`, qs: { location: this.location } });
      } catch (err) {
        throw mapBigQueryError(err, what);
      }
      if (job.status?.state === 'DONE') {
        if (job.status.errorResult) {
          throw mapBigQueryError({ message: job.status.errorResult.message, errors: job.status.errors ?? [job.status.errorResult] }, what);
        }
        return job;
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  private async runLoad(load: Record<string, unknown>, what: string): Promise<void> {
    const jobId = `ctloop_load_${randomUUID().replace(/-/g, '')}`;
    try {
      await this.request({
        method: 'POST', uri: '/jobs',
        json: { jobReference: { projectId: this.project, jobId, location: this.location }, configuration: { load, labels: this.labels({ op: 'load' }) } },
      });
    } catch (err) {
      if (!isDuplicate(err)) throw mapBigQueryError(err, what); // a retried insert of the same job id is fine
    }
    await this.waitForJob(jobId, what);
  }

  async withFile<T>(uri: string, format: FileFormat, columns: ColumnSchema[] | undefined, fn: (rel: StagedRelation) => Promise<T>): Promise<T> {
    if (!uri.startsWith('gs://')) {
      throw new ValidationError(`BigQuery loads files from Cloud Storage, got ${uri}`, { hint: 'upload the file with the object store and pass its gs:// URI' });
    }
    const name = `_stage_${randomUUID().replace(/-/g, '')}`;
    const destinationTable = { projectId: this.project, datasetId: this.dataset, tableId: name };
    const what = `load ${uri}`;
    const base = { sourceUris: [uri], sourceFormat: FORMATS[format], destinationTable, createDisposition: 'CREATE_IF_NEEDED', writeDisposition: 'WRITE_TRUNCATE' };
    const csv = format === 'csv' ? { skipLeadingRows: 1, allowQuotedNewlines: true } : {};
    try {
      if (columns) {
        // Create the staging table with its expiration first, so it is cleaned up even if this process dies.
        await this.createStaging(name, columns);
        await this.runLoad({ ...base, ...csv, createDisposition: 'CREATE_NEVER', writeDisposition: 'WRITE_APPEND', schema: { fields: this.fields(columns) } }, what);
      } else if (format === 'csv') {
        // No schema: every CSV value is read as a STRING. A first load detects the header names, a second reads
        // the file again with an all-STRING schema so values keep their exact text (e.g. leading zeros).
        await this.runLoad({ ...base, ...csv, autodetect: true }, what);
        const detected = await this.getTableResource(name);
        const names = (detected?.schema?.fields ?? []).map((f) => f.name);
        await this.runLoad({ ...base, ...csv, schema: { fields: names.map((n) => ({ name: n, type: 'STRING', mode: 'NULLABLE' })) } }, what);
        await this.expire(name);
      } else {
        await this.runLoad({ ...base, ...(format === 'jsonl' ? { autodetect: true } : {}) }, what);
        await this.expire(name);
      }
      const spec = await this.getTable(name);
      return await fn({ sql: this.dialect.table(name), params: {}, columns: spec?.columns ?? [] });
    } finally {
      await this.dropTable(name);
    }
  }

  /**
   * One load job of a headerless CSV or a Parquet file into a staging table created first with its expiration (a
   * crash leaves nothing behind for longer than `stagingTtlMs`). Every record must load (`maxBadRecords: 0`): the
   * file is refused whole otherwise. CSV: ASCII control characters are kept as they are
   * (`preserveAsciiControlCharacters`), not refused. Load-job limits (BigQuery quotas page, "Load jobs"): 15 TB per
   * job, 4 GB per gzip-compressed CSV, 100 MB per CSV row and cell, 10,000 columns; a load job into a new table does
   * not count against the offline table's limits.
   */
  async withStagedLoad<T>(uri: string, format: 'csv' | 'parquet', columns: ColumnSchema[], csv: { delimiter: string; nullMarker: string } | null, fn: (table: string) => Promise<T>): Promise<T> {
    if (!uri.startsWith('gs://')) throw new ValidationError(`BigQuery loads files from Cloud Storage, got ${uri}`, { hint: 'upload the file with the object store and pass its gs:// URI' });
    const name = `_stage_${randomUUID().replace(/-/g, '')}`;
    const options = format === 'csv'
      ? { skipLeadingRows: 0, fieldDelimiter: csv?.delimiter ?? ',', quote: '"', allowQuotedNewlines: true, ...(csv ? { nullMarker: csv.nullMarker } : {}), encoding: 'UTF-8', preserveAsciiControlCharacters: true }
      : {};
    try {
      await this.createStaging(name, columns);
      await this.runLoad({
        sourceUris: [uri], sourceFormat: FORMATS[format], destinationTable: { projectId: this.project, datasetId: this.dataset, tableId: name },
        createDisposition: 'CREATE_NEVER', writeDisposition: 'WRITE_APPEND', schema: { fields: this.fields(columns) }, maxBadRecords: 0, ...options,
      }, `load ${uri}`);
      return await fn(name);
    } finally {
      await this.dropTable(name);
    }
  }

  private async createStaging(name: string, columns: ColumnSchema[]): Promise<void> {
    const expirationTime = String(Date.now() + (this.opts.stagingTtlMs ?? 3_600_000));
    try {
      await this.request({
        method: 'POST', uri: `/datasets/${this.dataset}/tables`,
        json: this.tableResource({ name, columns: columns.map((c) => ({ ...c, mode: 'NULLABLE' })), labels: { role: 'staging' } }, { expirationTime }),
      });
    } catch (err) {
      throw mapBigQueryError(err, `create staging table ${name}`);
    }
  }

  private async expire(name: string): Promise<void> {
    try {
      await this.request({ method: 'PATCH', uri: this.tableUri(name), json: { expirationTime: String(Date.now() + (this.opts.stagingTtlMs ?? 3_600_000)) } });
    } catch (err) {
      throw mapBigQueryError(err, `set expiration of ${name}`);
    }
  }

  async exportQuery(sql: string, opts: QueryOptions & { uri: string; format: 'parquet' | 'csv' }): Promise<string[]> {
    if (!opts.uri.startsWith('gs://')) {
      throw new ValidationError(`BigQuery exports to Cloud Storage, got ${opts.uri}`, { hint: 'pass a gs://bucket/path URI' });
    }
    // EXPORT DATA needs exactly one `*` (BigQuery shards the output); add one before the extension when absent.
    const stars = opts.uri.split('*').length - 1;
    if (stars > 1) throw new ValidationError(`export URI ${opts.uri} has more than one *`, { hint: 'use a single * where shard numbers go' });
    const uri = stars === 1 ? opts.uri : opts.uri.replace(/(\.[A-Za-z0-9]+)?$/, (ext) => `-*${ext}`);
    const options = opts.format === 'csv' ? `format = 'CSV', header = true` : `format = 'PARQUET'`;
    const stmt = `EXPORT DATA OPTIONS (uri = ${this.dialect.string(uri)}, ${options}, overwrite = true) AS\n${sql}`;
    const res = await this.runQuery(stmt, { ...opts, labels: { op: 'export', ...opts.labels } });
    const jobId = res.jobReference?.jobId;
    if (!jobId) throw mapBigQueryError({ message: 'EXPORT DATA returned no job reference' }, 'export');
    const job = await this.waitForJob(jobId, 'export');
    const files = Number(job.statistics?.query?.exportDataStatistics?.fileCount ?? '1');
    // BigQuery numbers shards from 000000000000 (12 digits) in place of the `*`.
    return Array.from({ length: Math.max(files, 1) }, (_, i) => uri.replace('*', String(i).padStart(12, '0')));
  }

  async close(): Promise<void> {
    // The REST client holds no connections; the Storage Write API client holds gRPC streams.
    this.appender?.close();
  }
}

/**
 * Create the adapter and its dataset (if absent). A plain `http://` apiEndpoint is a local emulator or test
 * stand-in: requests go unauthenticated there; every other endpoint uses Application Default Credentials.
 */
export async function createBigQueryWarehouse(config: BigQueryWarehouseConfig, opts: BigQueryWarehouseOptions = {}): Promise<BigQueryWarehouse> {
  const local = config.apiEndpoint?.startsWith('http://') ?? false;
  const client = new BigQuery({
    projectId: config.project,
    location: config.location,
    ...(config.apiEndpoint ? { apiEndpoint: config.apiEndpoint } : {}),
    ...(local ? { authClient: new PassThroughClient() as never } : {}),
    ...(opts.maxRetries !== undefined ? { maxRetries: opts.maxRetries, autoRetry: opts.maxRetries > 0 } : {}),
  });
  const w = new BigQueryWarehouse(client, config, opts);
  await w.ensureDataset();
  return w;
}
