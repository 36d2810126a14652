/**
 * Warehouse port (the offline store). Adapters: DuckDB (embedded) and BigQuery (cloud).
 *
 * The core writes SQL once, through a `Dialect` (identifier quoting, table references, parameter markers, type
 * names, literals) and uses only syntax both engines accept: window functions, QUALIFY, MERGE, CAST AS STRING/INT64,
 * TIMESTAMP literals, `INTERVAL n SECOND`. Values reach SQL as typed named parameters, never spliced strings.
 */

export type ColumnType = 'STRING' | 'INT64' | 'FLOAT64' | 'BOOL' | 'TIMESTAMP' | 'DATE' | 'JSON';
export const columnTypes: readonly ColumnType[] = ['STRING', 'INT64', 'FLOAT64', 'BOOL', 'TIMESTAMP', 'DATE', 'JSON'];

export interface ColumnSchema {
  name: string;
  type: ColumnType;
  /** REQUIRED columns are NOT NULL. Default NULLABLE. */
  mode?: 'NULLABLE' | 'REQUIRED';
  description?: string;
}

export interface TableSpec {
  /** Logical, validated identifier; the adapter qualifies it (DuckDB schema / BigQuery project.dataset). */
  name: string;
  columns: ColumnSchema[];
  /** Partition by day of this TIMESTAMP column (BigQuery); DuckDB ignores it. */
  partitionBy?: string;
  /** Clustering columns (BigQuery, at most 4); DuckDB ignores them. */
  clusterBy?: string[];
  description?: string;
  labels?: Record<string, string>;
}

export type SqlValue = string | number | boolean | Date | null;
export type Row = Record<string, SqlValue>;

export type ParamType = ColumnType | { array: ParamType } | { struct: ColumnSchema[] };
export interface Param {
  type: ParamType;
  value: unknown;
}
export type Params = Record<string, Param>;

export interface Dialect {
  readonly name: 'duckdb' | 'bigquery';
  /** Quote one identifier (column or alias). */
  ident(name: string): string;
  /** Fully qualified, quoted reference to a logical table. */
  table(name: string): string;
  /** Marker for a named parameter. */
  param(name: string): string;
  /** Engine type name for a column type. */
  type(t: ColumnType): string;
  /** A literal that both engines parse as the same instant. */
  timestamp(d: Date): string;
  /** A string literal, escaped. Only for constants the core owns (e.g. view names in reports), never user rows. */
  string(s: string): string;
  /** Cast that yields NULL instead of failing (DuckDB TRY_CAST, BigQuery SAFE_CAST). */
  safeCast(expr: string, t: ColumnType): string;
  /** Seconds since the Unix epoch of a TIMESTAMP expression (a number, for bucketing). */
  epochSeconds(expr: string): string;
  /**
   * Engine-specific capability: the engine accepts `WITH name AS MATERIALIZED (…)` and computes such a CTE once,
   * however often the query references it (DuckDB). BigQuery has no such syntax and evaluates a non-recursive CTE
   * at every reference, so SQL that reads a CTE twice is only cheap where this is true. Absent means false.
   */
  readonly materializedCte?: boolean;
}

export type FileFormat = 'csv' | 'jsonl' | 'parquet';

/** A relation a statement can select from: a table, a staged temp table, or `UNNEST(@param)`. */
export interface StagedRelation {
  /** SQL text usable after FROM / USING. */
  sql: string;
  /** Parameters the relation needs (e.g. the rows array for BigQuery's UNNEST). */
  params: Params;
  columns: ColumnSchema[];
}

export interface QueryOptions {
  params?: Params;
  /** Labels attached to the job (BigQuery) for cost attribution. */
  labels?: Record<string, string>;
}

export interface Warehouse {
  readonly dialect: Dialect;
  /** Whether the engine reads `gs://` URIs itself (BigQuery) or needs a local file (DuckDB). */
  readonly readsObjectUris: boolean;
  /**
   * Largest batch `withRows` accepts, as the JSON size of its rows (BigQuery: rows travel in one request of at most
   * 10 MB); null when unbounded. Callers split larger batches.
   */
  readonly maxStagedBytes: number | null;

  query(sql: string, opts?: QueryOptions): Promise<Row[]>;
  /** Run a statement (DDL/DML); returns affected rows when the engine reports them. */
  execute(sql: string, opts?: QueryOptions): Promise<{ affectedRows: number | null }>;

  /** Current schema of a table, or null when it does not exist. */
  getTable(name: string): Promise<TableSpec | null>;
  createTable(spec: TableSpec): Promise<void>;
  /** Additive migration: append nullable columns. */
  addColumns(name: string, columns: ColumnSchema[]): Promise<void>;
  dropTable(name: string): Promise<void>;

  /**
   * Optional capability: append rows to a table without DML (BigQuery: the Storage Write API's default stream).
   * At-least-once: a retried append may store a row twice, so tables written this way are read with one row per
   * ingest id (see shared/features/dedup-sql.ts). Absent when the engine has no such path (DuckDB writes with SQL).
   */
  appendRows?(table: string, columns: ColumnSchema[], rows: Row[]): Promise<void>;

  /**
   * Optional capability (BigQuery): ONE load job of a file in object storage (`gs://`; CSV without a header, or
   * Parquet) into a new staging table of `columns`, created first with an expiration (it goes away on its own if
   * never dropped), for the duration of `fn` (given the table's name); dropped after. CSV: `delimiter` separates
   * fields, `"` quotes them (newlines allowed inside), `nullMarker` is the only NULL. A file the load job refuses
   * rejects the promise before `fn` runs.
   */
  withStagedLoad?<T>(uri: string, format: 'csv' | 'parquet', columns: ColumnSchema[], csv: { delimiter: string; nullMarker: string } | null, fn: (table: string) => Promise<T>): Promise<T>;

  /** Stage in-memory rows as a relation for the duration of `fn` (one batched write, never row by row). */
  withRows<T>(columns: ColumnSchema[], rows: Row[], fn: (rel: StagedRelation) => Promise<T>): Promise<T>;
  /**
   * Stage a file as a relation for the duration of `fn`. `uri` is a local path for DuckDB and a gs:// URI for
   * BigQuery (see `readsObjectUris`). When `columns` is given, values are read as those types (CSV/JSONL); when
   * absent, the schema is detected from the file.
   */
  withFile<T>(uri: string, format: FileFormat, columns: ColumnSchema[] | undefined, fn: (rel: StagedRelation) => Promise<T>): Promise<T>;
  /** Write a query's result to a file (local path for DuckDB; gs:// for BigQuery). Returns the written URIs. */
  exportQuery(sql: string, opts: QueryOptions & { uri: string; format: 'parquet' | 'csv' }): Promise<string[]>;

  close(): Promise<void>;
}
