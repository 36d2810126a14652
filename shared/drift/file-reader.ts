import { extname } from 'node:path';
import { stat } from 'node:fs/promises';
import { createDuckDbWarehouse } from '../adapters/warehouse/duckdb/index.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { csvReadError } from '../features/csv-failure.js';
import type { ColumnType, Warehouse } from '../ports/warehouse.js';
import type { SampleColumn } from './samples.js';

/**
 * Reads a CSV or Parquet file for file mode, with an embedded DuckDB (file mode is a local tool: files are local).
 * CSV columns arrive as text and are numerical when every non-empty value parses as a number (including nan/inf),
 * unless listed in `categorical`. Parquet keeps its types. Errors name the file and column.
 */
export interface ReadOptions {
  categorical?: string[];
  /** Columns that must be numerical (the reference's numerical columns, when reading the current file). */
  numerical?: string[];
}

/** DuckDB identifier quoting for arbitrary header names (file mode only ever runs on DuckDB). */
const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

const UNREADABLE = /^(STRUCT|MAP|UNION|BLOB|BIT|INTERVAL|LIST)|\[\]$/i;

export function formatOf(path: string): 'csv' | 'parquet' {
  const ext = extname(path).toLowerCase();
  if (ext === '.parquet' || ext === '.pq') return 'parquet';
  if (ext === '.csv' || ext === '.txt' || ext === '.tsv') return 'csv';
  throw new ValidationError(`cannot tell the format of ${path} from its extension "${ext}"`, { hint: 'name the file *.csv or *.parquet' });
}

export async function readColumns(path: string, opts: ReadOptions = {}, warehouse?: Warehouse): Promise<SampleColumn[]> {
  const st = await stat(path).catch(() => null);
  if (!st) throw new NotFoundError(`file ${path} does not exist`, { hint: 'check the path passed to --reference/--current' });
  if (st.size === 0) throw new ValidationError(`file ${path} is empty: it has no header`, { hint: 'pass a file with a header and at least one row' });
  const fmt = formatOf(path);
  const w = warehouse ?? (await createDuckDbWarehouse({ path: ':memory:' }));
  try {
    return await readAll(w, path, fmt, opts);
  } catch (err) {
    // The staging read failed (the adapter's error carries DuckDB's as its cause): DuckDB's CSV errors are a kilobyte
    // of sniffer settings with a staging table's name, so say it in ctloop's terms, with the file's first bad line.
    const stagingFailed = err instanceof ValidationError && err.cause !== undefined;
    if (fmt === 'csv' && stagingFailed) throw await csvReadError(err, path, path, 'drift input', 'fix or remove that line, or pass a valid CSV file with a header');
    throw err;
  } finally {
    if (!warehouse) await w.close();
  }
}

function readAll(w: Warehouse, path: string, fmt: 'csv' | 'parquet', opts: ReadOptions): Promise<SampleColumn[]> {
  return w.withFile(path, fmt, undefined, async (rel) => {
    const described = await w.query(`DESCRIBE ${rel.sql}`);
    // A file with a header and no rows is read as empty columns: validation reports it (no_data), it is not an error.
    const out: SampleColumn[] = [];
    for (const d of described) {
      const name = String(d.column_name);
      const duckType = String(d.column_type);
      if (UNREADABLE.test(duckType)) {
        throw new ValidationError(`column ${name} of ${path} has type ${duckType}, which drift detection cannot read`, {
          hint: `drop the column or store it as a number or a string`, details: { file: path, column: name, type: duckType },
        });
      }
      out.push(await readColumn(w, rel.sql, path, name, duckType, opts));
    }
    return out;
  });
}

async function readColumn(w: Warehouse, rel: string, path: string, name: string, duckType: string, opts: ReadOptions): Promise<SampleColumn> {
  const t = duckType.toUpperCase();
  const forcedCat = opts.categorical?.includes(name) ?? false;
  const isText = t === 'VARCHAR';
  const isNum = /^(BIGINT|INTEGER|SMALLINT|TINYINT|UBIGINT|UINTEGER|USMALLINT|UTINYINT|HUGEINT|DOUBLE|FLOAT|REAL|DECIMAL)/.test(t);
  const isBool = t === 'BOOLEAN';
  const isTime = /^(DATE|TIME|TIMESTAMP)/.test(t);
  let numerical = !forcedCat && isNum;
  if (!forcedCat && isText) {
    const bad = await w.query(
      `SELECT ${q(name)} AS v FROM ${rel} WHERE ${q(name)} IS NOT NULL AND TRY_CAST(${q(name)} AS DOUBLE) IS NULL LIMIT 1`,
    );
    const present = Number((await w.query(`SELECT COUNT(${q(name)}) AS n FROM ${rel}`))[0]!.n);
    // A column with no values carries no type: it is numerical when it must be (readPair aligns it with the other file).
    numerical = bad.length === 0 && (present > 0 || (opts.numerical?.includes(name) ?? false));
    if (bad.length > 0 && opts.numerical?.includes(name)) {
      throw new ValidationError(`column ${name} of ${path} holds "${String(bad[0]!.v)}", which is not a number, but it is numerical in the reference`, {
        hint: `fix the value, or pass --categorical ${name} to compare the column as categorical`, details: { file: path, column: name },
      });
    }
  }
  if (isTime && !forcedCat) numerical = false;
  const type: ColumnType = numerical ? (/INT/.test(t) ? 'INT64' : 'FLOAT64') : isBool ? 'BOOL' : 'STRING';
  const expr = numerical ? `TRY_CAST(${q(name)} AS DOUBLE)` : `CAST(${q(name)} AS VARCHAR)`;
  const rows = await w.query(`SELECT ${expr} AS v FROM ${rel}`);
  const values = rows.map((r) => (r.v === null ? null : numerical ? Number(r.v) : String(r.v)));
  return { name, type, kind: numerical ? 'numerical' : 'categorical', values };
}

const hasValues = (c: SampleColumn) => c.values.some((v) => v !== null);

/**
 * Align the kinds of both sides: a column with no values (all empty, or no rows) takes the other file's kind and
 * type, since it carries none of its own; a CSV column numerical in the current file but categorical in the
 * reference is read as categorical too.
 */
function align(reference: SampleColumn[], current: SampleColumn[]): { reference: SampleColumn[]; current: SampleColumn[] } {
  const cur = new Map(current.map((c) => [c.name, c]));
  const ref = reference.map((r) => {
    const c = cur.get(r.name);
    return c && !hasValues(r) && hasValues(c) ? { ...r, kind: c.kind, type: c.type } : r;
  });
  const refByName = new Map(ref.map((r) => [r.name, r]));
  const aligned = current.map((c) => {
    const r = refByName.get(c.name);
    if (!r) return c;
    if (!hasValues(c)) return { ...c, kind: r.kind, type: r.type };
    if (r.kind === 'categorical' && c.kind === 'numerical') return { ...c, kind: 'categorical' as const, type: r.type, values: c.values.map((v) => (v === null ? null : String(v))) };
    return c;
  });
  return { reference: ref, current: aligned };
}

/**
 * Read both files and check every reference column is in the current file. A current file of zero bytes is a
 * current file with no rows (an export that found nothing); a reference file needs at least its header.
 */
export async function readPair(refPath: string, curPath: string, opts: ReadOptions = {}): Promise<{ reference: SampleColumn[]; current: SampleColumn[] }> {
  const w = await createDuckDbWarehouse({ path: ':memory:' });
  try {
    const reference = await readColumns(refPath, opts, w);
    const curSize = (await stat(curPath).catch(() => null))?.size;
    const current = curSize === 0
      ? reference.map((c) => ({ ...c, values: [] }))
      : await readColumns(curPath, { ...opts, numerical: reference.filter((c) => c.kind === 'numerical').map((c) => c.name) }, w);
    const curNames = new Set(current.map((c) => c.name));
    for (const c of reference) {
      if (!curNames.has(c.name)) {
        throw new ValidationError(`column ${c.name} of ${refPath} is missing from ${curPath}`, {
          hint: 'compare files with the same columns (extra current columns are ignored)', details: { column: c.name, file: curPath },
        });
      }
    }
    for (const name of opts.categorical ?? []) {
      if (!reference.some((c) => c.name === name)) {
        throw new ValidationError(`--categorical names column ${name}, which ${refPath} does not have`, { hint: `columns: ${reference.map((c) => c.name).join(', ')}` });
      }
    }
    return align(reference, current);
  } finally {
    await w.close();
  }
}
