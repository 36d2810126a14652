import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { DuckDBInstance, DuckDBScalarFunction, TIMESTAMP, VARCHAR, timestampValue, type DuckDBConnection } from '@duckdb/node-api';
import { NotFoundError, ValidationError } from '../errors.js';
import type { ColumnSchema, FileFormat } from '../ports/warehouse.js';
import { columnTypeFromDuck } from '../adapters/warehouse/duckdb/values.js';
import { connectUtc } from '../adapters/warehouse/duckdb/connect.js';
import { ROW_ID } from './pit-sql.js';
import { csvReadError } from './csv-failure.js';
import { duckdbReason } from './duckdb-reason.js';
import { sqlPath } from './local-files.js';
import { checkInstant, parseInstant } from '../time.js';

export interface PreparedSpine {
  /** Local Parquet file with a row id column and the timestamp column as a UTC TIMESTAMP. */
  path: string;
  columns: ColumnSchema[];
  rows: number;
  minTs: Date | null;
  maxTs: Date | null;
  release(): Promise<void>;
}

const PARSE_FN = 'ctloop_parse_timestamp';

/**
 * Spine timestamps given as text go through ctloop's one strict parser (shared/time.ts), registered as a DuckDB
 * function: an impossible date is refused as it is in rows, CLI options and events (DuckDB's own cast differs, e.g.
 * it ignores offsets without ICU). Microseconds are kept.
 */
function registerTimestampParser(conn: DuckDBConnection): void {
  conn.registerScalarFunction(DuckDBScalarFunction.create({
    name: PARSE_FN,
    returnType: TIMESTAMP,
    parameterTypes: [VARCHAR],
    mainFunction: (_info, input, output) => {
      const col = input.getColumnVector(0);
      for (let i = 0; i < input.rowCount; i++) {
        const text = col.getItem(i) as string | null;
        const r = text === null ? null : parseInstant(text);
        output.setItem(i, r?.ok ? timestampValue(BigInt(r.date.getTime()) * 1000n + BigInt(r.micros)) : null);
      }
      output.flush();
    },
  }));
}

/** BigQuery's TIMESTAMP range, which every stored or compared time must respect. */
const IN_RANGE = (col: string) => `${col} BETWEEN TIMESTAMP '0001-01-01 00:00:00' AND TIMESTAMP '9999-12-31 23:59:59.999999'`;

/**
 * Normalise a spine file (CSV or Parquet: entity keys, a timestamp, any label columns) into Parquet with a row id
 * that records the file order, key columns read as text where the view's keys are text (so "00123" stays
 * "00123"), and timestamps converted to UTC (ISO strings with offsets are honoured; without one, UTC is assumed).
 */
export async function prepareSpine(
  path: string, format: FileFormat, timestampColumn: string, textColumns: string[], opts: { utcAdjusted?: boolean } = {},
): Promise<PreparedSpine> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await connectUtc(instance);
  registerTimestampParser(conn);
  const out = join(tmpdir(), `ctloop-spine-${randomUUID()}.parquet`);
  try {
    if (format !== 'csv' && format !== 'parquet') throw new ValidationError('spines must be CSV or Parquet', { hint: 'convert the spine to .csv or .parquet' });
    try {
      let src = `read_parquet(${sqlPath(path)})`;
      if (format === 'csv') {
        // Text-typed keys and the timestamp are read as text (no "00123" → 123); other columns keep detected types.
        const header = (await conn.runAndReadAll(`SELECT * FROM read_csv(${sqlPath(path)}, header = true, all_varchar = true) LIMIT 0`)).columnNames();
        const types = [...new Set([...textColumns, timestampColumn])].filter((c) => header.includes(c)).map((c) => `${sqlPath(c)}: 'VARCHAR'`).join(', ');
        src = `read_csv(${sqlPath(path)}, header = true${types ? `, types = {${types}}` : ''})`;
      }
      await conn.run(`CREATE TABLE raw AS SELECT row_number() OVER () AS ${ROW_ID}, * FROM ${src}`);
    } catch (err) {
      const msg = (err as Error).message;
      if (/No files found|does not exist|Cannot open/i.test(msg)) throw new NotFoundError(`spine file not found: ${path}`, { hint: 'check the --spine path' });
      if (format === 'csv') throw await csvReadError(err, path, path, 'spine', 'fix or remove that line: a training set is built from every spine row');
      throw new ValidationError(`cannot read spine ${path}: ${duckdbReason(err, path, path)}`, { hint: `check that it is a valid ${format} file with a header`, cause: err });
    }
    const cols = (await (await conn.runAndReadAll('DESCRIBE raw')).getRowObjectsJS()).map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
    const tsCol = cols.find((c) => c.name === timestampColumn);
    if (!tsCol) {
      throw new ValidationError(`spine has no column "${timestampColumn}" (columns: ${cols.filter((c) => c.name !== ROW_ID).map((c) => c.name).join(', ')})`, {
        hint: 'pass --timestamp-column with the name of the spine timestamp column',
      });
    }
    const q = (n: string) => `"${n.replace(/"/g, '""')}"`;
    const t = q(timestampColumn);
    let tsExpr: string;
    if (/^VARCHAR/i.test(tsCol.type)) {
      tsExpr = `${PARSE_FN}(${t})`;
    } else if (/^(TIMESTAMP|DATE)/i.test(tsCol.type)) {
      tsExpr = utcTimestamp(t, tsCol.type);
    } else {
      throw new ValidationError(`spine column "${timestampColumn}" has type ${tsCol.type}, not a timestamp`, { hint: 'use ISO-8601 timestamps such as 2001-03-01T08:00:00Z' });
    }
    const selectCols = cols.map((c) => (c.name === timestampColumn ? `${tsExpr} AS ${t}` : `${stagedColumn(c.name, c.type)} AS ${q(c.name)}`)).join(', ');
    await conn.run(`CREATE TABLE spine AS SELECT ${selectCols} FROM raw ORDER BY ${ROW_ID}`);
    const bad = (await (await conn.runAndReadAll(
      `SELECT r.${ROW_ID} AS i, CAST(r.${t} AS VARCHAR) AS v, s.${t} AS ts FROM raw r JOIN spine s USING (${ROW_ID})
       WHERE s.${t} IS NULL OR NOT (${IN_RANGE(`s.${t}`)}) ORDER BY r.${ROW_ID} LIMIT 1`,
    )).getRowObjectsJS())[0];
    if (bad) {
      const v = bad.v === null ? null : String(bad.v);
      const r = bad.ts instanceof Date ? checkInstant(bad.ts) : v === null ? null : parseInstant(v);
      const problem = r === null ? 'has no value'
        : r.ok ? `has invalid value ${JSON.stringify(v)}` : `has ${r.syntax ? 'unparsable' : 'impossible'} value ${JSON.stringify(v)}: ${r.reason}`;
      throw new ValidationError(`spine row ${String(bad.i)}: timestamp column "${timestampColumn}" ${problem}`, {
        hint: 'every spine row needs a valid ISO-8601 timestamp, e.g. 2001-03-01T08:00:00Z',
      });
    }
    const stats = (await (await conn.runAndReadAll(`SELECT COUNT(*) AS n, MIN(${t}) AS lo, MAX(${t}) AS hi FROM spine`)).getRowObjectsJS())[0]!;
    const described = (await (await conn.runAndReadAll('DESCRIBE spine')).getRowObjectsJS()).map((r) => ({ name: String(r.column_name), duckType: String(r.column_type) }));
    // For BigQuery, timestamps must be marked UTC-adjusted in Parquet, or its loader reads them as DATETIME.
    const outCols = opts.utcAdjusted ? described.map((c) => utcAdjusted(q(c.name), c.duckType)).join(', ') : '*';
    await conn.run(`COPY (SELECT ${outCols} FROM spine ORDER BY ${ROW_ID}) TO ${sqlPath(out)} (FORMAT parquet)`);
    const desc = described.map((c) => ({ name: c.name, type: columnTypeFromDuck(c.duckType) }));
    return {
      path: out,
      columns: desc,
      rows: Number(stats.n),
      minTs: (stats.lo as Date | null) ?? null,
      maxTs: (stats.hi as Date | null) ?? null,
      release: () => rm(out, { force: true }),
    };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** A DATE or TIMESTAMP-family column as a UTC TIMESTAMP, whatever the session's time zone. */
function utcTimestamp(col: string, duckType: string): string {
  return /WITH TIME ZONE|TIMESTAMPTZ/i.test(duckType) ? `timezone('UTC', ${col})` : `CAST(${col} AS TIMESTAMP)`;
}

/** A staged column for a loader that reads Parquet timestamps as UTC only when marked so (BigQuery): a UTC TIMESTAMP
 * becomes TIMESTAMPTZ at the same instant, explicitly, not through the session's time zone. */
function utcAdjusted(col: string, duckType: string): string {
  return duckType === 'TIMESTAMP' ? `timezone('UTC', ${col}) AS ${col}` : col;
}

/**
 * A spine column in a type every engine stages alike (ctloop's column types). Parquet spines carry what pandas and
 * pyarrow write: nanosecond or millisecond timestamps, UTC-adjusted or not, DECIMAL, TIME, unsigned integers.
 * BigQuery's Parquet loader reads a timestamp that is not UTC-adjusted as DATETIME and DECIMAL as NUMERIC, which
 * ctloop's tables do not use; so timestamps become UTC TIMESTAMPs, DECIMAL and FLOAT become DOUBLE, integers
 * BIGINT, TIME and UUID text. A type with no such form is refused, naming the column.
 */
function stagedColumn(name: string, duckType: string): string {
  const col = `"${name.replace(/"/g, '""')}"`;
  const t = duckType.toUpperCase();
  if (/^(VARCHAR|BIGINT|DOUBLE|BOOLEAN|DATE|TIMESTAMP)$/.test(t)) return col;
  if (/^TIMESTAMP/.test(t)) return utcTimestamp(col, t);
  if (/^(DECIMAL|FLOAT|REAL)/.test(t)) return `CAST(${col} AS DOUBLE)`;
  if (/^(TINYINT|SMALLINT|INTEGER|UTINYINT|USMALLINT|UINTEGER|UBIGINT|HUGEINT|UHUGEINT)$/.test(t)) return `CAST(${col} AS BIGINT)`;
  if (/^(TIME|UUID|ENUM|JSON)/.test(t)) return `CAST(${col} AS VARCHAR)`;
  throw new ValidationError(`spine column "${name}" has type ${duckType}, which ctloop cannot stage`, {
    hint: 'write it as text, a number, a boolean, a date or a timestamp, or drop it from the spine',
  });
}
