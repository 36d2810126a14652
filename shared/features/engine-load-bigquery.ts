import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ObjectStore } from '../ports/object-store.js';
import type { ColumnSchema, ColumnType, Params } from '../ports/warehouse.js';
import { SYSTEM_COLUMNS as SYS } from './definitions.js';
import { sniffDelimiter } from './csv-records.js';
import { NULL_MARKER, stageCsvCopy } from './csv-stage.js';
import { firstLine, type EngineFile, type EngineOutcome } from './engine-load.js';
import { isGzip } from './file-identity.js';
import { storedCreatedTime } from './file-version.js';
import type { IngestDeps } from './ingest.js';
import { onlineRecord } from './online-write.js';
import { stageParquetCopy } from './parquet-stage.js';
import { typedFieldBigQuery } from './typed-rules-bigquery.js';
import { BIGQUERY_RULES as R } from './rule-dialect.js';
import { MAX_PARTITIONS_PER_STATEMENT, newestFirst, offlineMergeSql, quarantineMergeSql, quarantineSince } from './sql.js';
import { exoticSql, textField, viewFields, type FieldSql } from './validate-sql.js';

/**
 * A file load on BigQuery with the engine path's plan (engine-load.ts): the view's rules as GoogleSQL
 * (validate-sql.ts with the BigQuery rule dialect), every row classified by one statement, one write each.
 *
 *   1. ONE load job: the file, rewritten with its record (and line) numbers — csv-stage.ts says why a load job
 *      cannot number records itself — from the scratch bucket into a staging table: STRING columns for a CSV, the
 *      file's own types for Parquet (parquet-stage.ts; the typed rules of typed-rules-bigquery.ts classify them).
 *   2. ONE classifying statement: `CREATE TABLE … OPTIONS (expiration_timestamp) AS SELECT` — typed values, every
 *      reason, the raw row of a bad one, the ingest id.
 *   3. ONE `INSERT … SELECT … WHERE NOT EXISTS` of the good rows into the offline table per 4,000 distinct days
 *      the good rows fall on, each with literal event-time bounds (partition pruning), deduplicated on the ingest
 *      id — no MERGE.
 *   4. ONE `INSERT` of the bad rows into `_quarantine` (deduplicated on ingest id and view).
 *   5. The newest good row per entity read back and written to the online store.
 *   Both staging tables carry an expiration (a crash leaves nothing for longer than an hour) and are dropped at the
 *   end. Reads between the statements (counts, the created-time probe, sample reasons) are queries, not DML.
 *
 * BigQuery limits this respects (https://cloud.google.com/bigquery/quotas, read 2026-12-01):
 *   - "Maximum number of partitions modified by a single job": 4,000 — the offline INSERT is split into event-time
 *     ranges of at most 4,000 distinct days holding rows (a file whose rows fall on few days far apart is one
 *     statement, where the row-by-row path's `dayRanges` cuts the whole span in 4,000-day pieces), the quarantine
 *     INSERT touches one day (`quarantined_at` is now);
 *   - DML per table (data-manipulation-language page, "DML statement conflicts" and quotas): INSERTs are not
 *     mutating DML, so they do not queue behind the 2 concurrent UPDATE/DELETE/MERGE of a table; the first 1,500
 *     INSERTs a day per table run at once, then 10 at a time with 100 queued. One load is ⌈days/4,000⌉ + 1 INSERTs
 *     (offline, quarantine), whatever the file's size. The load job writes a new staging table, not the offline
 *     table (it does not count against the offline table's modifications);
 *   - "Maximum unresolved GoogleSQL query length": 1 MB — a view whose classifying statement would be longer is
 *     loaded row by row (its literals are ASCII, googleSqlString, so characters are bytes). A field's rules take
 *     ~11 KB for a TIMESTAMP, ~2.4 KB for a FLOAT64, ~2.1 KB for an INT64, ~1.1 KB for a BOOL: some 90 timestamp or
 *     400 numeric fields fit;
 *   - load jobs: 100 MB per CSV row and cell (the row-by-row reader's record limit, 2 MB, is far below: longer
 *     records go row by row, csv-stage.ts), 10,000 columns per table;
 *   - "Maximum row size" 100 MB for query results — a row of the classification holds one record's text at most
 *     three times (value, reason, raw row), so a 2 MB record stays far below.
 *
 * Whatever could make the result differ from the row-by-row path sends the file there before anything is written
 * (`{ fallback: why }`): JSON Lines, what csv-stage.ts or parquet-stage.ts refuses, a load job that refuses the
 * staged file, a bad CSV value whose reason or raw row holds characters the SQL renders differently (beyond the
 * BMP, or control characters JSON.stringify writes as \u00XX), a Parquet file with bad rows (as on DuckDB).
 */

const MAX_QUERY_CHARS = 1_000_000;
const STAGING_TTL_MS = 3_600_000;
const ONLINE_PAGE = 50_000;

export interface BigQueryEngineDeps extends IngestDeps {
  objectStore: ObjectStore;
  /** Bucket of the staged copy (`gs://<bucket>/tmp/loads/…`, deleted after the load). */
  scratchBucket: string;
  signal?: AbortSignal;
}

export async function loadInBigQuery(deps: BigQueryEngineDeps, file: EngineFile): Promise<EngineOutcome> {
  const w = deps.warehouse;
  if (w.dialect.name !== 'bigquery' || !w.withStagedLoad) return { fallback: 'the warehouse is not BigQuery' };
  if (file.format === 'jsonl') return { fallback: 'JSON Lines are validated row by row' };
  const fields = viewFields(file.view);
  const lower = fields.map((f) => f.name.toLowerCase());
  if (lower.some((n) => n.startsWith('ld_')) || new Set(lower).size !== lower.length) {
    return { fallback: 'a field name starts with ld_ or differs from another only in case (BigQuery column names ignore case)' };
  }
  const tmp = join(tmpdir(), `ctloop-bqload-${randomUUID()}.${file.format}`);
  try {
    let staged: Staged;
    if (file.format === 'csv') {
      const gz = isGzip(file.path, file.uri);
      const delimiter = sniffDelimiter(await firstLine(file.path, gz), 0);
      const out = await stageCsvCopy(file.path, gz, delimiter, file.columns.length, tmp);
      if ('fallback' in out) return out;
      staged = {
        rows: out.rows, unit: 'line', csv: { delimiter, nullMarker: NULL_MARKER }, types: new Map(file.columns.map((c) => [c, 'STRING' as const])),
        columns: [{ name: 'ld_row', type: 'INT64' }, { name: 'ld_line', type: 'INT64' }, ...file.columns.map((_, i) => ({ name: `ld_c${i}`, type: 'STRING' as const }))],
      };
    } else {
      const out = await stageParquetCopy(file.path, file.view, file.columns, tmp);
      if ('fallback' in out) return out;
      const present = fields.filter((f) => out.types.has(f.name));
      staged = {
        rows: out.rows, unit: 'row', csv: null, types: out.types,
        columns: [{ name: 'ld_row', type: 'INT64' }, ...present.map((f) => ({ name: `ld_c${file.columns.indexOf(f.name)}`, type: out.types.get(f.name)! }))],
      };
    }
    if (staged.rows === 0) return { result: { view: file.view.name, received: 0, accepted: 0, inserted: 0, quarantined: 0, sampleReasons: [] } };
    // The statement's length before anything is uploaded (the staging table's name has a fixed length).
    const cls = `ld_cls_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    const length = classifySql(deps, file, staged, `_stage_${'0'.repeat(32)}`, cls).length;
    if (length > MAX_QUERY_CHARS) return { fallback: `the classifying statement would be ${length} characters, past BigQuery's query length limit` };
    const uri = `gs://${deps.scratchBucket}/tmp/loads/${randomUUID()}.${file.format}`;
    await deps.objectStore.upload(tmp, uri, { contentType: file.format === 'csv' ? 'text/csv' : 'application/vnd.apache.parquet' });
    try {
      let loaded = false;
      try {
        return await w.withStagedLoad(uri, file.format, staged.columns, staged.csv, (stage) => {
          loaded = true;
          return classifyAndWrite(deps, file, stage, staged, cls);
        });
      } catch (err) {
        if (loaded) throw err;
        return { fallback: `BigQuery's load job refused the staged file (${String((err as Error).message).split('\n')[0]})` };
      }
    } finally {
      await deps.objectStore.delete(uri).catch(() => undefined);
    }
  } finally {
    await rm(tmp, { force: true });
  }
}

/** The staged copy: its record count, how records are numbered, the staging table's columns and each file column's type. */
interface Staged {
  rows: number;
  unit: 'line' | 'row';
  csv: { delimiter: string; nullMarker: string } | null;
  columns: ColumnSchema[];
  types: Map<string, ColumnType>;
}

/** The classifying statement: `CREATE TABLE <cls> OPTIONS (expiration) AS SELECT …` over the staging table. */
function classifySql(deps: BigQueryEngineDeps, file: EngineFile, staged: Staged, stage: string, cls: string): string {
  const d = deps.warehouse.dialect;
  const fields = viewFields(file.view);
  const at = new Map(file.columns.map((c, i) => [c, i]));
  const sqls: (FieldSql & { name: string })[] = fields.map((f, i) => {
    const t = staged.types.get(f.name);
    const col = t === undefined ? null : d.ident(f.name);
    return { name: f.name, ...(t === undefined || t === 'STRING' ? textField(col, f.type, f.role, `ld_f${i}`, R) : typedFieldBigQuery(col, t, f.type, f.role, `ld_f${i}`)) };
  });
  // Expiration by the wall clock (not `deps.now`, which tests fix in the past): BigQuery drops the table by itself.
  const expires = d.timestamp(new Date(Date.now() + STAGING_TTL_MS));

  // The staging table's columns under the view's names, then one layer per prepared value (as engine-load.ts).
  const named = fields.filter((f) => staged.types.has(f.name)).map((f) => `ld_c${at.get(f.name)} AS ${d.ident(f.name)}`);
  let from = `(SELECT *${staged.unit === 'row' ? ', ld_row + 1 AS ld_line' : ''}${named.length > 0 ? `, ${named.join(', ')}` : ''} FROM ${d.table(stage)})`;
  const depth = Math.max(0, ...sqls.map((s) => s.prepare.length));
  for (let k = 0; k < depth; k++) {
    const cols = sqls.flatMap((s) => (s.prepare[k] ? [`${s.prepare[k]!.sql} AS ${R.ident(s.prepare[k]!.name)}`] : []));
    if (cols.length > 0) from = `(SELECT *, ${cols.join(', ')} FROM ${from})`;
  }
  // Each field's reason once, in a last layer (the text of a reason is long: written once, the statement stays well
  // under BigQuery's query length limit). GoogleSQL refuses `'…' || NULL` (a literal NULL operand): a field that is
  // never refused has no term.
  const refusable = sqls.map((s, i) => ({ ...s, why: `ld_f${i}_why` })).filter((s) => s.reason !== 'NULL');
  if (refusable.length > 0) from = `(SELECT *, ${refusable.map((s) => `${s.reason} AS ${s.why}`).join(', ')} FROM ${from})`;
  const terms = refusable.map((s) => `CASE WHEN ${s.why} IS NOT NULL THEN ${R.lit(`${s.name}: `)} || ${s.why} END`);
  const reason = terms.length === 0 ? "''" : `COALESCE(ARRAY_TO_STRING([${terms.join(', ')}], '; '), '')`;
  // The raw row of a bad CSV record (a bad Parquet row sends the file row by row: no raw row is built).
  const raw = staged.unit === 'line' ? `CONCAT('{', ${file.columns.map((c, i) => `${R.lit(`${i > 0 ? ',' : ''}${JSON.stringify(c)}:`)}, COALESCE(${R.json(`ld_c${i}`)}, 'null')`).join(', ')}, '}')` : 'CAST(NULL AS STRING)';
  const exotic = staged.unit === 'line' ? file.columns.map((_, i) => `COALESCE(${exoticSql(`ld_c${i}`, R)}, FALSE)`).join(' OR ') : 'FALSE';
  const values = sqls.map((s, i) => `CAST(${s.value} AS ${d.type(fields[i]!.type)}) AS ld_v${i}`).join(', ');
  return [
    `CREATE TABLE ${d.table(cls)} OPTIONS (expiration_timestamp = ${expires}) AS`,
    `SELECT ld_row, ld_line, CONCAT(${R.lit(`${file.sourceId}:`)}, CAST(ld_row AS STRING)) AS ld_id, ${values}, ld_reason,`,
    `CASE WHEN ld_reason <> '' THEN ${raw} END AS ld_raw, ld_reason <> '' AND (${exotic}) AS ld_exotic`,
    `FROM (SELECT *, ${reason} AS ld_reason FROM ${from})`,
  ].join('\n');
}

async function classifyAndWrite(deps: BigQueryEngineDeps, file: EngineFile, stage: string, staged: Staged, cls: string): Promise<EngineOutcome> {
  const w = deps.warehouse;
  const now = (deps.now ?? (() => new Date()))();
  try {
    await w.execute(classifySql(deps, file, staged, stage, cls));
    return await write(deps, file, cls, now, staged.unit);
  } finally {
    await w.dropTable(cls).catch(() => undefined);
  }
}

async function write(deps: BigQueryEngineDeps, file: EngineFile, cls: string, now: Date, unit: 'line' | 'row'): Promise<EngineOutcome> {
  const w = deps.warehouse;
  const d = w.dialect;
  const view = file.view;
  const fields = viewFields(view);
  const table = d.table(cls);
  const ts = `ld_v${fields.findIndex((f) => f.role === 'time')}`;
  const created = fields.findIndex((f) => f.role === 'created');
  const ownCreated = created >= 0 ? `ld_v${created}` : 'CAST(NULL AS TIMESTAMP)';
  const [st] = await w.query(`SELECT COUNT(*) AS n, COUNTIF(ld_reason = '') AS good, COUNTIF(ld_exotic) AS exotic FROM ${table}`);
  const n = Number(st!.n);
  const good = Number(st!.good);
  if (Number(st!.exotic) > 0) return { fallback: 'a bad value with characters the SQL renders differently (beyond the Basic Multilingual Plane, or control characters)' };
  if (unit === 'row' && good < n) return { fallback: 'the Parquet file has rows that fail validation (their reasons name JavaScript renderings of values)' };

  // The created time of rows without their own: the file's, or the one this content was stored with before.
  let createdAt = file.createdAt;
  const [probe] = await w.query(`SELECT ld_id, ${ts} AS ts FROM ${table} WHERE ld_reason = '' AND ${ownCreated} IS NULL ORDER BY ld_row LIMIT 1`);
  if (probe) {
    const before = await storedCreatedTime(w, view, { [SYS.ingestId]: String(probe.ld_id), [view.timestampField]: probe.ts as Date });
    if (before) createdAt = before;
  }
  const line = `CONCAT('${unit} ', CAST(ld_line AS STRING), ': ', ld_reason)`;
  const sample = (await w.query(`SELECT ${line} AS r FROM ${table} WHERE ld_reason <> '' ORDER BY ld_row LIMIT 5`)).map((r) => String(r.r));
  const goodRel = `(SELECT ${fields.filter((f) => f.role !== 'created').map((f) => `ld_v${fields.indexOf(f)} AS ${d.ident(f.name)}`).join(', ')}, COALESCE(${ownCreated}, ${d.timestamp(createdAt)}) AS ${d.ident(SYS.created)}, ld_id AS ${d.ident(SYS.ingestId)}, ${d.timestamp(now)} AS ${d.ident(SYS.ingestedAt)} FROM ${table} WHERE ld_reason = '')`;
  const params: Params = { uri: { type: 'STRING', value: file.uri }, view: { type: 'STRING', value: view.name } };
  const badRel = `(SELECT ${d.param('view')} AS view, ld_id AS ingest_id, ${d.param('uri')} AS event_id, ${line} AS reason, ld_raw AS raw, ${d.timestamp(now)} AS quarantined_at FROM ${table} WHERE ld_reason <> '')`;

  deps.signal?.throwIfAborted();
  let inserted: number | null = 0;
  if (good > 0) {
    // At most 4,000 partitions modified per statement: the days the good rows fall on, in order, in groups of 4,000;
    // one INSERT per group, bounded by the group's first and last event time (groups do not overlap).
    const ranges = await w.query([
      `SELECT MIN(lo) AS lo, MAX(hi) AS hi FROM (SELECT lo, hi, DIV(ROW_NUMBER() OVER (ORDER BY day) - 1, ${MAX_PARTITIONS_PER_STATEMENT}) AS k FROM (`,
      `SELECT CAST(${ts} AS DATE) AS day, MIN(${ts}) AS lo, MAX(${ts}) AS hi FROM ${table} WHERE ld_reason = '' GROUP BY day)) GROUP BY k ORDER BY lo`,
    ].join('\n'));
    for (const r of ranges) {
      const k = (await w.execute(offlineMergeSql(d, view, goodRel, r.lo as Date, r.hi as Date))).affectedRows;
      inserted = inserted === null || k === null ? null : inserted + k;
    }
  }
  if (good < n) await w.execute(quarantineMergeSql(d, badRel, quarantineSince(createdAt, now)), { params });
  if (good > 0) {
    // The newest good row per entity (event time, created time, ingest id), to the online store in pages.
    const keys = view.entity.joinKeys.map((k) => `s.${d.ident(k.name)}`).join(', ');
    const rows = await w.query(`SELECT s.* FROM ${goodRel} AS s WHERE TRUE QUALIFY ROW_NUMBER() OVER (PARTITION BY ${keys} ORDER BY ${newestFirst(d, view, 's')}) = 1`);
    for (let i = 0; i < rows.length; i += ONLINE_PAGE) await deps.online.write(view, rows.slice(i, i + ONLINE_PAGE).map((r) => onlineRecord(view, r)));
  }
  return { result: { view: view.name, received: n, accepted: good, inserted, quarantined: n - good, sampleReasons: sample } };
}
