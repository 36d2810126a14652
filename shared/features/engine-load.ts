import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { FileFormat, Params, Row } from '../ports/warehouse.js';
import { offlineColumns, SYSTEM_COLUMNS as SYS, type FeatureView } from './definitions.js';
import { sniffDelimiter } from './csv-records.js';
import { scanCsv } from './csv-scan.js';
import { isGzip } from './file-identity.js';
import { stepTimer } from './step-timer.js';
import { storedCreatedTime } from './file-version.js';
import type { IngestDeps, IngestResult } from './ingest.js';
import { writeNewestOnline } from './engine-online.js';
import { offlineMergeSql, quarantineMergeSql, quarantineSince } from './sql.js';
import { exoticSql, sqlLit, textField, typedField, typedSupported, viewFields, type FieldSql } from './validate-sql.js';

/**
 * A file load inside DuckDB (the embedded default): the view's rules run as SQL over the file (validate-sql.ts), good
 * rows go to the offline table in one statement, bad rows to `_quarantine` in one statement with the same reasons,
 * line numbers and raw rows as the row-by-row path, and the online store gets the newest row per entity of the file
 * (engine-online.ts). Each row's ingest id is `file:<content hash>:<row>`, as on the row-by-row path.
 *
 * Passes: a CSV is read into a table of the file (its row numbers, and a read error reported before anything else;
 * the byte scan of csv-scan.ts runs meanwhile); a Parquet file is read in place (it numbers its rows). One pass counts
 * the rows and those whose every field has its fast shape (`FieldSql.fast`); the full rules (every reason, the raw
 * row, the line) run only on the other rows, into a small table. Good rows then stream from the file into the offline
 * table — a plain INSERT when no row of this content is stored in the file's event-time range, else an anti-join on
 * the ingest id within that range (a reload) — and into the online step. Memory: the table of the file spills under
 * the warehouse's memory limit; nothing in JavaScript grows with the file (the online step with its entities).
 *
 * Nothing is written until every row is classified. Whenever the engine could disagree with the row-by-row path, the
 * load says so (`{ fallback: why }`) before writing anything, and the caller loads the file row by row, which
 * accounts for every line exactly: a CSV that DuckDB refuses (ragged, unclosed quote, over-long line), a line count
 * that differs from the file's (blank lines, lone CRs), a quote DuckDB would read differently, a Parquet column type
 * the SQL does not read as JavaScript does, a Parquet file DuckDB cannot read or with bad rows, or a bad value whose
 * reason the SQL might render otherwise.
 */
export interface EngineFile {
  view: FeatureView;
  /** What the user named (quarantine's `event_id`, messages). */
  uri: string;
  /** Local path of the bytes. */
  path: string;
  format: FileFormat;
  sourceId: string;
  createdAt: Date;
  /** CSV header or Parquet schema, as the row-by-row reader read it. */
  columns: string[];
}

export type EngineOutcome = { result: IngestResult } | { fallback: string };

type EngineDeps = IngestDeps & { signal?: AbortSignal; onStep?: (step: string, ms: number, cpuMs: number) => void };

export async function loadInEngine(deps: EngineDeps, file: EngineFile): Promise<EngineOutcome> {
  const step = stepTimer(deps.onStep);
  const w = deps.warehouse;
  const d = w.dialect;
  if (d.name !== 'duckdb' || w.readsObjectUris) return { fallback: 'the warehouse is not DuckDB' };
  if (file.format === 'jsonl') return { fallback: 'JSON Lines are validated row by row' };
  const tag = randomUUID().replace(/-/g, '').slice(0, 16);
  const rawName = `ld_raw_${tag}`;
  const raw = `temp.main.${rawName}`;
  const gz = isGzip(file.path, file.uri);
  const src = sqlLit(file.path);
  try {
    // 1. Read the whole file (materialised: a read error is reported, not a short stream).
    let reader: string;
    let delimiter = ',';
    let types: Map<string, string>;
    if (file.format === 'csv') {
      delimiter = sniffDelimiter(await firstLine(file.path, gz), 0);
      const spec = file.columns.map((c) => `${sqlLit(c)}: 'VARCHAR'`).join(', ');
      reader = `read_csv(${src}, auto_detect = false, header = true, columns = {${spec}}, delim = ${sqlLit(delimiter)}, quote = '"', escape = '"', allow_quoted_nulls = false, strict_mode = true, compression = '${gz ? 'gzip' : 'none'}')`;
      types = new Map(file.columns.map((c) => [c, 'VARCHAR']));
      // The scan (this thread) runs while DuckDB reads the file (its threads).
      const scanning = step('csv scan (lines, quotes)', () => scanCsv(file.path, delimiter, gz));
      scanning.catch(() => undefined);
      let readError: string | null = null;
      try {
        await step('read csv into temp table', () => w.execute(`CREATE TEMP TABLE ${rawName} AS SELECT * FROM ${reader}`));
      } catch (err) {
        readError = String((err as Error).message).split('\n')[0]!;
      }
      const scan = await scanning;
      if (!scan.quotesAgree) return { fallback: 'a quote that does not open or close a field' };
      if (readError !== null) return { fallback: `DuckDB cannot read every line (${readError})` };
      const nl = (c: string) => `coalesce(length(${d.ident(c)}) - length(replace(${d.ident(c)}, chr(10), '')), 0)`;
      // Values span lines only inside quotes: a file without a quote needs no count of their newlines.
      const [stats] = await step('line stats', () => w.query(`SELECT count(*) AS n, ${scan.quoted ? `coalesce(sum(${file.columns.map(nl).join(' + ')}), 0)` : '0'} AS e FROM ${raw}`));
      const headerNl = file.columns.reduce((s, c) => s + c.split('\n').length - 1, 0);
      const expected = 1 + headerNl + Number(stats!.n) + Number(stats!.e);
      if (expected !== scan.lines) return { fallback: `the file has ${scan.lines} lines where its rows span ${expected} (blank lines or lone carriage returns)` };
      return await classifyAndWrite(deps, file, { rows: `(SELECT rowid AS __i, * FROM ${raw})`, types, unit: 'line', lineSql: Number(stats!.e) === 0 ? `__i + ${2 + headerNl}` : `__i + ${2 + headerNl} + coalesce(sum(${file.columns.map(nl).join(' + ')}) OVER (ORDER BY __i ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)` });
    }
    reader = `read_parquet(${src})`;
    types = new Map((await w.query(`DESCRIBE SELECT * FROM ${reader}`)).map((r) => [String(r.column_name), String(r.column_type)]));
    for (const f of viewFields(file.view)) {
      const t = types.get(f.name);
      if (t !== undefined && !typedSupported(t, f.type)) return { fallback: `Parquet column ${f.name} is ${t}, read row by row as ${f.type}` };
    }
    // Parquet numbers its rows itself: the passes read the file (columnar, parallel) rather than a copy of it.
    if (!types.has('file_row_number')) {
      const rows = `(SELECT file_row_number AS __i, * EXCLUDE (file_row_number) FROM read_parquet(${src}, file_row_number = true))`;
      return await classifyAndWrite(deps, file, { rows, inPlace: true, types, unit: 'row', lineSql: '__i + 1' });
    }
    try {
      await step('read parquet into temp table', () => w.execute(`CREATE TEMP TABLE ${rawName} AS SELECT * FROM ${reader}`));
    } catch (err) {
      return { fallback: `DuckDB cannot read the file (${String((err as Error).message).split('\n')[0]})` };
    }
    return await classifyAndWrite(deps, file, { rows: `(SELECT rowid AS __i, * FROM ${raw})`, types, unit: 'row', lineSql: '__i + 1' });
  } finally {
    await w.execute(`DROP TABLE IF EXISTS ${raw}`).catch(() => undefined);
  }
}

interface Plan {
  /** The file's rows with their index `__i` (0-based), read by every pass. */
  rows: string;
  /** `rows` reads the file itself (not a table of it read before). */
  inPlace?: boolean;
  types: Map<string, string>;
  unit: 'line' | 'row';
  lineSql: string;
}

async function classifyAndWrite(deps: EngineDeps, file: EngineFile, plan: Plan): Promise<EngineOutcome> {
  const step = stepTimer(deps.onStep);
  const w = deps.warehouse;
  const d = w.dialect;
  const view = file.view;
  const fields = viewFields(view);
  const sqls: (FieldSql & { name: string })[] = fields.map((f, i) => {
    const t = plan.types.get(f.name);
    const col = t === undefined ? null : d.ident(f.name);
    const alias = `__f${i}`;
    return { name: f.name, ...(t === undefined || t === 'VARCHAR' ? textField(col, f.type, f.role, alias) : typedField(col, t, f.type, f.role, alias)) };
  });
  const typeOf = (i: number) => d.type(fields[i]!.type);
  const timeIdx = fields.findIndex((f) => f.role === 'time');
  const created = fields.findIndex((f) => f.role === 'created');

  // 2. Classify. A row every field of which has its fast shape (`__fast`) is good with the fast values; those rows are
  // never materialised again: they stream from the file's table into the offline table and the online step. The full
  // rules (every reason, the raw row, the line) run on the other rows only, into a small table of their own.
  const fasts = sqls.map((s) => s.fast ?? (s.prepare.length === 0 ? { ok: `(${s.reason}) IS NULL`, value: s.value, unchecked: s.value } : { ok: 'false', value: 'NULL', unchecked: 'NULL' }));
  const fastRel = `(SELECT *, coalesce(${fasts.map((f) => f.ok).join(' AND ')}, false) AS __fast FROM ${plan.rows})`;
  const fastTs = `CAST(${fasts[timeIdx]!.value} AS TIMESTAMP)`;
  const fastCols = fasts.map((f, i) => `CAST(${f.value} AS ${typeOf(i)}) AS "__v${i}"`).join(', ');
  const vNames = ['__i', ...fields.map((_, i) => `__v${i}`)];
  const vCols = fields.map((_, i) => `"__v${i}"`).join(', ');
  const tsCol = `"__v${timeIdx}"`;
  let st: Row | undefined;
  try {
    [st] = await step('classify: fast shapes', () => w.query(`SELECT count(*) AS n, count(*) FILTER (WHERE NOT __fast) AS slow, min(${fastTs}) FILTER (WHERE __fast) AS lo, max(${fastTs}) FILTER (WHERE __fast) AS hi FROM ${fastRel}`));
  } catch (err) {
    // The first pass over a file read in place (Parquet) is where DuckDB finds it unreadable: nothing is written yet.
    if (!plan.inPlace) throw err;
    return { fallback: `DuckDB cannot read the file (${String((err as Error).message).split('\n')[0]})` };
  }
  const n = Number(st!.n);
  let good = n - Number(st!.slow);
  let lo = st!.lo as Date | null;
  let hi = st!.hi as Date | null;
  const slowName = `ld_slow_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const slow = `temp.main.${slowName}`;
  let sample: string[] = [];
  try {
    if (good < n) {
      const depth = Math.max(0, ...sqls.map((s) => s.prepare.length));
      // The line of a row counts the lines of the rows before it: computed over every row, then filtered.
      let from = `(SELECT * FROM (SELECT *, ${plan.lineSql} AS __line FROM ${fastRel}) WHERE NOT __fast)`;
      for (let k = 0; k < depth; k++) {
        const cols = sqls.flatMap((s) => (s.prepare[k] ? [`${s.prepare[k]!.sql} AS "${s.prepare[k]!.name}"`] : []));
        if (cols.length > 0) from = `(SELECT *, ${cols.join(', ')} FROM ${from})`;
      }
      const reason = `concat_ws('; ', ${sqls.map((s) => `CASE WHEN (${s.reason}) IS NOT NULL THEN ${sqlLit(`${s.name}: `)} || (${s.reason}) END`).join(', ')})`;
      const rawJson = plan.unit === 'line'
        ? `'{' || ${file.columns.map((c, i) => `${sqlLit(`${i > 0 ? ',' : ''}${JSON.stringify(c)}:`)} || coalesce(to_json(${d.ident(c)})::VARCHAR, 'null')`).join(' || ')} || '}'`
        : 'NULL';
      const exotic = plan.unit === 'line' && file.columns.length > 0 ? file.columns.map((c) => `coalesce(${exoticSql(d.ident(c))}, false)`).join(' OR ') : 'false';
      const values = sqls.map((s, i) => `CAST(${s.value} AS ${typeOf(i)}) AS "__v${i}"`).join(', ');
      await step('classify: full rules on the other rows', () => w.execute([
        `CREATE TEMP TABLE ${slowName} AS SELECT __i, __line, ${values}, __reason,`,
        `CASE WHEN __reason <> '' THEN ${rawJson} END AS __raw, CASE WHEN __reason <> '' THEN ${exotic} ELSE false END AS __exotic`,
        `FROM (SELECT *, ${reason} AS __reason FROM ${from})`,
      ].join('\n')));
      const [ss] = await w.query(`SELECT count(*) FILTER (WHERE __reason = '') AS good, count(*) FILTER (WHERE __exotic) AS exotic, min(${tsCol}) FILTER (WHERE __reason = '') AS lo, max(${tsCol}) FILTER (WHERE __reason = '') AS hi FROM ${slow}`);
      if (Number(ss!.exotic) > 0) return { fallback: 'a bad value with characters beyond the Basic Multilingual Plane (its reason is rendered row by row)' };
      good += Number(ss!.good);
      if (plan.unit === 'row' && good < n) return { fallback: 'the Parquet file has rows that fail validation (their reasons name JavaScript renderings of values)' };
      const slo = ss!.lo as Date | null;
      const shi = ss!.hi as Date | null;
      if (slo && (!lo || slo < lo)) lo = slo;
      if (shi && (!hi || shi > hi)) hi = shi;
      sample = (await w.query(`SELECT '${plan.unit} ' || __line || ': ' || __reason AS r FROM ${slow} WHERE __reason <> '' ORDER BY __i LIMIT 5`)).map((r) => String(r.r));
    }
    // Every good row: the fast ones (streamed from the file's table) and the good ones of the full rules.
    const slowGood = good > n - Number(st!.slow);
    // When every row has the fast shapes (a clean file), the writes take the values without testing the shapes again.
    const allFast = Number(st!.slow) === 0;
    const goodRows = allFast
      ? `(SELECT __i, ${fasts.map((f, i) => `CAST(${f.unchecked} AS ${typeOf(i)}) AS "__v${i}"`).join(', ')} FROM ${plan.rows})`
      : `(SELECT __i, ${fastCols} FROM ${fastRel} WHERE __fast${slowGood ? ` UNION ALL SELECT __i, ${vCols} FROM ${slow} WHERE __reason = ''` : ''})`;

    // 3. The created time of rows without their own: the file's, or the one this content was stored with before
    // (only a content with rows stored in the file's event-time range was loaded before).
    const now = (deps.now ?? (() => new Date()))();
    let createdAt = file.createdAt;
    const ownCreated = created >= 0 ? `"__v${created}"` : 'NULL';
    const src: Params = { src: { type: 'STRING', value: `${file.sourceId}:` } };
    deps.signal?.throwIfAborted();
    let inserted: number | null = 0;
    const stored = good > 0 && lo && hi
      ? (await step('offline: rows of this content stored?', () => w.query(`SELECT 1 AS x FROM ${d.table(view.table)} WHERE ${d.ident(view.timestampField)} BETWEEN ${d.timestamp(lo!)} AND ${d.timestamp(hi!)} AND starts_with(${d.ident(SYS.ingestId)}, ${d.param('src')}) LIMIT 1`, { params: src }))).length > 0
      : false;
    if (stored) {
      const [probe] = await w.query(`SELECT __i, ${tsCol} AS ts FROM ${goodRows} WHERE ${ownCreated} IS NULL ORDER BY __i LIMIT 1`);
      if (probe) {
        const before = await storedCreatedTime(w, view, { [SYS.ingestId]: `${file.sourceId}:${Number(probe.__i)}`, [view.timestampField]: probe.ts as Date });
        if (before) createdAt = before;
      }
    }
    const createdSql = `coalesce(${ownCreated}, ${d.timestamp(createdAt)})`;
    const goodRel = `(SELECT ${fields.filter((f) => f.role !== 'created').map((f) => `"__v${fields.indexOf(f)}" AS ${d.ident(f.name)}`).join(', ')}, ${createdSql} AS ${d.ident(SYS.created)}, ${d.param('src')} || __i AS ${d.ident(SYS.ingestId)}, ${d.timestamp(now)} AS ${d.ident(SYS.ingestedAt)} FROM ${goodRows})`;
    const params: Params = { ...src, uri: { type: 'STRING', value: file.uri }, view: { type: 'STRING', value: view.name } };
    const badRel = `(SELECT ${d.param('view')} AS view, ${d.param('src')} || __i AS ingest_id, ${d.param('uri')} AS event_id, '${plan.unit} ' || __line || ': ' || __reason AS reason, __raw AS raw, ${d.timestamp(now)} AS quarantined_at FROM ${slow} WHERE __reason <> '')`;

    // 4. Write: offline (the anti-join on the ingest id only for a content stored before), quarantine, then the
    // newest row per entity online.
    if (good > 0) {
      const cols = offlineColumns(view).map((c) => d.ident(c.name)).join(', ');
      // Loads of one content are serialised by the caller (load-file.ts): no row of it is stored in between.
      const sql = stored ? offlineMergeSql(d, view, goodRel, lo!, hi!) : `INSERT INTO ${d.table(view.table)} (${cols}) SELECT ${cols} FROM ${goodRel}`;
      inserted = (await step(stored ? 'offline insert (anti-join)' : 'offline insert', () => w.execute(sql, { params: src }))).affectedRows;
    }
    if (good < n) await step('quarantine insert', () => w.execute(quarantineMergeSql(d, badRel, quarantineSince(createdAt, now)), { params }));
    if (good > 0) {
      const col = (name: string) => `"__v${fields.findIndex((f) => f.name === name)}"`;
      await writeNewestOnline(deps, view, {
        rows: goodRows, offline: goodRel, params: src,
        line: {
          columns: vNames.slice(1), sameCreated: created < 0,
          keys: view.entity.joinKeys.map((k) => col(k.name)), eventTime: tsCol, createdTime: createdSql,
          ingestId: `${sqlLit(`${file.sourceId}:`)} || __i`, features: Object.fromEntries(view.features.map((f) => [f.name, col(f.name)])),
        },
      }, step);
    }
    return { result: { view: view.name, received: n, accepted: good, inserted, quarantined: n - good, sampleReasons: sample } };
  } finally {
    await w.execute(`DROP TABLE IF EXISTS ${slow}`).catch(() => undefined);
  }
}

/** The file's first line (for the delimiter, sniffed exactly as the row-by-row reader does). */
export async function firstLine(path: string, gz: boolean): Promise<string> {
  const input = gz ? createReadStream(path).pipe(createGunzip()) : createReadStream(path);
  input.setEncoding('utf8');
  let text = '';
  try {
    for await (const c of input) {
      text += c as string;
      if (text.includes('\n') || text.length > 2_000_000) break;
    }
  } finally {
    input.destroy();
  }
  return text.replace(/^\ufeff/, '');
}
