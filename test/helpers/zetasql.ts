/**
 * ZetaSQL analyzer harness: parses and resolves GoogleSQL (BigQuery) statements against table schemas, offline.
 *
 * Uses the Linux analyzer server shipped in the dev dependency `@fivetrandevelopers/zetasql` (ZetaSQL from ~2023),
 * spoken to over gRPC with the package's own `.proto` files and its own `@grpc/*` dependencies. One server per
 * `startAnalyzer()`, on its own free port, in its own process group; `stop()` kills that group.
 *
 * Known needs (see issue 2): a BigQuery feature list (not "all features") with QUALIFY reserved; protobufjs'
 * recursion limit raised or deep resolved trees fail to decode; tables registered both nested
 * (project → dataset → table) and under their dotted names.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import type { ColumnType, ParamType } from '../../shared/ports/warehouse.js';

/** A BigQuery type as the analyzer reports it: a type name, an array, or a struct. */
export type AnalyzedType = string | { array: AnalyzedType } | { struct: { name: string; type: AnalyzedType }[] };

export interface AnalyzerTable {
  /** Full dotted name, e.g. `my-project.ctloop.events`; also registered nested and as `dataset.table`. */
  name: string;
  columns: { name: string; type: ParamType }[];
}

export interface AnalyzeOptions {
  tables?: AnalyzerTable[];
  /** Named query parameters and their types. */
  params?: Record<string, ParamType>;
}

export type AnalyzeResult =
  | {
      ok: true;
      /** Resolved statement kind, e.g. `resolved_query_stmt_node`, `resolved_merge_stmt_node`. */
      kind: string;
      /** Output columns of a query (BigQuery names anonymous columns f0_, f1_, …). */
      columns: { name: string; type: AnalyzedType }[];
      /** The resolved statement as the analyzer returns it (proto JSON), e.g. for partition pruning. */
      resolved?: Record<string, unknown>;
    }
  | { ok: false; error: string };

export interface Analyzer {
  readonly port: number;
  analyze(sql: string, opts?: AnalyzeOptions): Promise<AnalyzeResult>;
  stop(): Promise<void>;
}

/**
 * GoogleSQL language features BigQuery has, from the enum in zetasql/public/options.proto. Deliberately NOT the
 * server's "maximum features" (which accepts syntax BigQuery rejects, e.g. protos, anonymization, TTL, macros).
 * Newer BigQuery syntax this 2023 build lacks is not listed; add it here, with a comment, when the core needs it.
 */
export const BIGQUERY_LANGUAGE_FEATURES: readonly string[] = [
  'FEATURE_ANALYTIC_FUNCTIONS', 'FEATURE_TABLESAMPLE', 'FEATURE_DISALLOW_GROUP_BY_FLOAT', 'FEATURE_DML_UPDATE_WITH_JOIN',
  'FEATURE_TABLE_VALUED_FUNCTIONS', 'FEATURE_CREATE_AGGREGATE_FUNCTION', 'FEATURE_CREATE_TABLE_FUNCTION',
  'FEATURE_GROUP_BY_ROLLUP', 'FEATURE_TEMPLATE_FUNCTIONS', 'FEATURE_CREATE_TABLE_PARTITION_BY',
  'FEATURE_CREATE_TABLE_CLUSTER_BY', 'FEATURE_NUMERIC_TYPE', 'FEATURE_CREATE_TABLE_NOT_NULL',
  'FEATURE_CREATE_TABLE_FIELD_ANNOTATIONS', 'FEATURE_CREATE_TABLE_AS_SELECT_COLUMN_LIST', 'FEATURE_ENCRYPTION',
  'FEATURE_GEOGRAPHY', 'FEATURE_NAMED_ARGUMENTS', 'FEATURE_CREATE_MATERIALIZED_VIEW_PARTITION_BY',
  'FEATURE_CREATE_MATERIALIZED_VIEW_CLUSTER_BY', 'FEATURE_CREATE_EXTERNAL_TABLE_WITH_TABLE_ELEMENT_LIST',
  'FEATURE_UNENFORCED_PRIMARY_KEYS', 'FEATURE_FOREIGN_KEYS', 'FEATURE_BIGNUMERIC_TYPE', 'FEATURE_JSON_TYPE',
  'FEATURE_JSON_ARRAY_FUNCTIONS', 'FEATURE_JSON_VALUE_EXTRACTION_FUNCTIONS', 'FEATURE_JSON_LAX_VALUE_EXTRACTION_FUNCTIONS',
  'FEATURE_JSON_CONSTRUCTOR_FUNCTIONS', 'FEATURE_JSON_MUTATOR_FUNCTIONS', 'FEATURE_INTERVAL_TYPE',
  'FEATURE_PARAMETERIZED_TYPES', 'FEATURE_CREATE_TABLE_LIKE', 'FEATURE_CREATE_VIEW_WITH_COLUMN_LIST',
  'FEATURE_CREATE_TABLE_CLONE', 'FEATURE_CLONE_DATA', 'FEATURE_ALTER_COLUMN_SET_DATA_TYPE', 'FEATURE_CREATE_SNAPSHOT_TABLE',
  'FEATURE_FUNCTION_ARGUMENTS_WITH_DEFAULTS', 'FEATURE_CREATE_EXTERNAL_TABLE_WITH_CONNECTION', 'FEATURE_CREATE_TABLE_COPY',
  'FEATURE_ALTER_TABLE_RENAME_COLUMN', 'FEATURE_RANGE_TYPE', 'FEATURE_ROUND_WITH_ROUNDING_MODE',
  'FEATURE_INVERSE_TRIG_FUNCTIONS', 'FEATURE_CBRT_FUNCTIONS',
  'FEATURE_V_1_1_ORDER_BY_COLLATE', 'FEATURE_V_1_1_WITH_ON_SUBQUERY', 'FEATURE_V_1_1_SELECT_STAR_EXCEPT_REPLACE',
  'FEATURE_V_1_1_ORDER_BY_IN_AGGREGATE', 'FEATURE_V_1_1_CAST_DIFFERENT_ARRAY_TYPES', 'FEATURE_V_1_1_ARRAY_EQUALITY',
  'FEATURE_V_1_1_LIMIT_IN_AGGREGATE', 'FEATURE_V_1_1_HAVING_IN_AGGREGATE', 'FEATURE_V_1_1_NULL_HANDLING_MODIFIER_IN_ANALYTIC',
  'FEATURE_V_1_1_NULL_HANDLING_MODIFIER_IN_AGGREGATE', 'FEATURE_V_1_1_FOR_SYSTEM_TIME_AS_OF',
  'FEATURE_V_1_2_CIVIL_TIME', 'FEATURE_V_1_2_SAFE_FUNCTION_CALL', 'FEATURE_V_1_2_GROUP_BY_STRUCT',
  'FEATURE_V_1_2_GROUP_BY_ARRAY', 'FEATURE_V_1_2_CORRELATED_REFS_IN_NESTED_DML', 'FEATURE_V_1_2_WEEK_WITH_WEEKDAY',
  'FEATURE_V_1_2_GENERATED_COLUMNS',
  'FEATURE_V_1_3_ARRAY_ORDERING', 'FEATURE_V_1_3_OMIT_INSERT_COLUMN_LIST', 'FEATURE_V_1_3_REPLACE_FIELDS',
  'FEATURE_V_1_3_NULLS_FIRST_LAST_IN_ORDER_BY', 'FEATURE_V_1_3_ALLOW_DASHES_IN_TABLE_NAME', 'FEATURE_V_1_3_CONCAT_MIXED_TYPES',
  'FEATURE_V_1_3_WITH_RECURSIVE', 'FEATURE_V_1_3_DECIMAL_ALIAS', 'FEATURE_V_1_3_ALLOW_CONSECUTIVE_ON',
  'FEATURE_V_1_3_ALLOW_REGEXP_EXTRACT_OPTIONALS', 'FEATURE_V_1_3_DATE_TIME_CONSTRUCTORS', 'FEATURE_V_1_3_DATE_ARITHMETICS',
  'FEATURE_V_1_3_ADDITIONAL_STRING_FUNCTIONS', 'FEATURE_V_1_3_EXTENDED_DATE_TIME_SIGNATURES',
  'FEATURE_V_1_3_EXTENDED_GEOGRAPHY_PARSERS', 'FEATURE_V_1_3_INLINE_LAMBDA_ARGUMENT', 'FEATURE_V_1_3_PIVOT',
  'FEATURE_V_1_3_ANNOTATION_FRAMEWORK', 'FEATURE_V_1_3_COLLATION_SUPPORT', 'FEATURE_V_1_3_IS_DISTINCT',
  'FEATURE_V_1_3_FORMAT_IN_CAST', 'FEATURE_V_1_3_UNPIVOT', 'FEATURE_V_1_3_QUALIFY', 'FEATURE_V_1_3_REPEAT',
  'FEATURE_V_1_3_COLUMN_DEFAULT_VALUE', 'FEATURE_V_1_3_FOR_IN', 'FEATURE_V_1_3_KLL_WEIGHTS', 'FEATURE_V_1_3_LIKE_ANY_SOME_ALL',
  'FEATURE_V_1_3_CASE_STMT', 'FEATURE_V_1_3_TYPEOF_FUNCTION', 'FEATURE_V_1_3_SCRIPT_LABEL', 'FEATURE_V_1_3_REMOTE_FUNCTION',
  'FEATURE_V_1_3_ARRAY_GREATEST_LEAST',
  'FEATURE_V_1_4_WITH_EXPRESSION', 'FEATURE_V_1_4_ARRAY_AGGREGATION_FUNCTIONS', 'FEATURE_V_1_4_ARRAY_FIND_FUNCTIONS',
  'FEATURE_V_1_4_SAFE_FUNCTION_CALL_WITH_LAMBDA_ARGS', 'FEATURE_V_1_4_LOAD_DATA_PARTITIONS', 'FEATURE_V_1_4_LOAD_DATA_TEMP_TABLE',
  'FEATURE_V_1_4_GROUPING_BUILTIN', 'FEATURE_V_1_4_GROUPING_SETS', 'FEATURE_V_1_4_NULLIFZERO_ZEROIFNULL',
];

/** Statement kinds BigQuery runs that the platform may emit. */
const STATEMENT_KINDS = [
  'RESOLVED_QUERY_STMT', 'RESOLVED_INSERT_STMT', 'RESOLVED_UPDATE_STMT', 'RESOLVED_DELETE_STMT', 'RESOLVED_MERGE_STMT',
  'RESOLVED_TRUNCATE_STMT', 'RESOLVED_CREATE_TABLE_STMT', 'RESOLVED_CREATE_TABLE_AS_SELECT_STMT', 'RESOLVED_CREATE_VIEW_STMT',
  'RESOLVED_DROP_STMT', 'RESOLVED_ALTER_TABLE_STMT', 'RESOLVED_EXPORT_DATA_STMT',
];

const pkgRequire = createRequire(createRequire(import.meta.url).resolve('@fivetrandevelopers/zetasql'));
const PKG_LIB = dirname(pkgRequire.resolve('@fivetrandevelopers/zetasql'));

function serverBinary(): string {
  const arch = process.arch === 'arm64' ? '_arm' : '';
  return join(PKG_LIB, 'zetasql', `remote_server${arch}${process.platform === 'darwin' ? '' : '.so'}`);
}

/** Why the analyzer cannot run here, or null when it can be tried. */
export function analyzerUnavailableReason(): string | null {
  if (!['linux', 'darwin'].includes(process.platform) || !['x64', 'arm64'].includes(process.arch)) {
    return `the ZetaSQL analyzer binary exists only for linux/darwin x64/arm64 (this is ${process.platform}/${process.arch})`;
  }
  if (!existsSync(serverBinary())) return `ZetaSQL analyzer binary missing at ${serverBinary()} (npm ci installs it)`;
  // A binary that cannot load here (missing shared libraries, wrong libc) exits at once; a working one keeps serving
  // (on an ephemeral port) until the timeout kills it.
  probed ??= (() => {
    const r = spawnSync(serverBinary(), ['127.0.0.1', '0'], { timeout: 500, killSignal: 'SIGKILL', encoding: 'utf8' });
    if (r.error && (r.error as NodeJS.ErrnoException).code !== 'ETIMEDOUT') return `ZetaSQL analyzer cannot run here: ${r.error.message}`;
    if (r.signal === null) return `ZetaSQL analyzer cannot run here (exit ${r.status}): ${(r.stderr ?? '').trim().slice(0, 300)}`;
    return null;
  })();
  return probed;
}
let probed: string | null | undefined;

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolvePort(addr.port) : reject(new Error('no port'))));
    });
  });
}

const columnKinds: Record<ColumnType, string> = {
  STRING: 'TYPE_STRING', INT64: 'TYPE_INT64', FLOAT64: 'TYPE_DOUBLE', BOOL: 'TYPE_BOOL', TIMESTAMP: 'TYPE_TIMESTAMP',
  DATE: 'TYPE_DATE', JSON: 'TYPE_JSON',
};

interface TypeProto {
  type_kind: string;
  array_type?: { element_type: TypeProto };
  struct_type?: { field: { field_name: string; field_type: TypeProto }[] };
}

export function toTypeProto(t: ParamType): TypeProto {
  if (typeof t === 'string') return { type_kind: columnKinds[t] };
  if ('array' in t) return { type_kind: 'TYPE_ARRAY', array_type: { element_type: toTypeProto(t.array) } };
  return {
    type_kind: 'TYPE_STRUCT',
    struct_type: { field: t.struct.map((c) => ({ field_name: c.name, field_type: toTypeProto(c.type) })) },
  };
}

const kindNames: Record<string, string> = { TYPE_DOUBLE: 'FLOAT64', TYPE_FLOAT: 'FLOAT64', TYPE_INT32: 'INT64', TYPE_UINT64: 'INT64', TYPE_UINT32: 'INT64' };

function fromTypeProto(t: TypeProto): AnalyzedType {
  if (t.type_kind === 'TYPE_ARRAY' && t.array_type) return { array: fromTypeProto(t.array_type.element_type) };
  if (t.type_kind === 'TYPE_STRUCT' && t.struct_type) {
    return { struct: (t.struct_type.field ?? []).map((f) => ({ name: f.field_name ?? '', type: fromTypeProto(f.field_type) })) };
  }
  return kindNames[t.type_kind] ?? t.type_kind.replace(/^TYPE_/, '');
}

interface CatalogProto {
  name: string;
  table: { name: string; column: { name: string; type: TypeProto }[] }[];
  catalog: CatalogProto[];
  builtin_function_options?: unknown;
}

/** Root catalog: every table under its dotted full name, its `dataset.table` name, and nested catalogs. */
function buildCatalog(tables: AnalyzerTable[], languageOptions: unknown): CatalogProto {
  const root: CatalogProto = { name: 'root', table: [], catalog: [], builtin_function_options: { language_options: languageOptions } };
  const child = (parent: CatalogProto, name: string): CatalogProto => {
    let c = parent.catalog.find((x) => x.name === name);
    if (!c) parent.catalog.push((c = { name, table: [], catalog: [] }));
    return c;
  };
  const seen = new Set<string>();
  const addTable = (cat: CatalogProto, name: string, t: AnalyzerTable): void => {
    if (cat.table.some((x) => x.name.toLowerCase() === name.toLowerCase())) return;
    cat.table.push({ name, column: t.columns.map((c) => ({ name: c.name, type: toTypeProto(c.type) })) });
  };
  for (const t of tables) {
    const parts = t.name.split('.');
    if (seen.has(t.name)) continue;
    seen.add(t.name);
    addTable(root, t.name, t);
    if (parts.length >= 2) addTable(root, parts.slice(-2).join('.'), t);
    let cat = root;
    for (const p of parts.slice(0, -1)) cat = child(cat, p);
    addTable(cat, parts[parts.length - 1]!, t);
    if (parts.length === 3) addTable(child(root, parts[1]!), parts[2]!, t);
  }
  return root;
}

type Unary = (req: unknown, cb: (err: (Error & { code?: number; details?: string }) | null, res?: unknown) => void) => void;

interface ServiceClient {
  analyze: Unary;
  formatSql: Unary;
  close(): void;
}

function loadClient(port: number): ServiceClient {
  const grpc = pkgRequire('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
  const loaderPath = pkgRequire.resolve('@grpc/proto-loader');
  const protoLoader = pkgRequire('@grpc/proto-loader') as typeof import('@grpc/proto-loader');
  // Resolved trees nest deeper than protobufjs' default limit of 100: raise it on the copy proto-loader uses.
  const pb = createRequire(loaderPath)('protobufjs') as { util: { recursionLimit?: number }; Reader: { recursionLimit?: number } };
  pb.util.recursionLimit = pb.Reader.recursionLimit = 1e5;
  const def = protoLoader.loadSync('local_service.proto', {
    keepCase: true, enums: String, longs: String, defaults: false, oneofs: true,
    includeDirs: [join(PKG_LIB, 'zetasql', 'protos')],
  });
  const proto = grpc.loadPackageDefinition(def) as unknown as {
    zetasql: { local_service: { ZetaSqlLocalService: new (addr: string, creds: unknown, opts: object) => ServiceClient } };
  };
  return new proto.zetasql.local_service.ZetaSqlLocalService(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': 256 * 1024 * 1024,
    'grpc.max_receive_message_length': 256 * 1024 * 1024,
  });
}

function call(fn: Unary, client: ServiceClient, req: unknown): Promise<unknown> {
  return new Promise((res, rej) => fn.call(client, req, (err, out) => (err ? rej(err) : res(out))));
}

/** Start one analyzer server on a free port and wait until it answers. */
export async function startAnalyzer(): Promise<Analyzer> {
  const reason = analyzerUnavailableReason();
  if (reason) throw new Error(reason);
  const port = await freePort();
  const child: ChildProcess = spawn(serverBinary(), ['127.0.0.1', String(port)], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  let exited: string | null = null;
  child.once('exit', (code, sig) => { exited = `exited with ${code ?? sig}`; });
  child.once('error', (e) => { exited = e.message; });
  const kill = (): void => {
    if (child.pid && exited === null) {
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
  };
  const client = loadClient(port);
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await call(client.formatSql, client, { sql: 'SELECT 1' });
      break;
    } catch (e) {
      if (exited !== null || Date.now() > deadline) {
        kill();
        client.close();
        throw new Error(`ZetaSQL analyzer did not start (${exited ?? 'timeout'}): ${stderr.trim() || (e as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  const languageOptions = {
    name_resolution_mode: 'NAME_RESOLUTION_DEFAULT',
    product_mode: 'PRODUCT_EXTERNAL',
    enabled_language_features: BIGQUERY_LANGUAGE_FEATURES,
    supported_statement_kinds: STATEMENT_KINDS,
    reserved_keywords: ['QUALIFY'],
  };

  return {
    port,
    async analyze(sql, opts = {}) {
      const request = {
        options: {
          language_options: languageOptions,
          error_message_mode: 'ERROR_MESSAGE_ONE_LINE',
          default_timezone: 'UTC',
          parameter_mode: 'PARAMETER_NAMED',
          prune_unused_columns: true,
          query_parameters: Object.entries(opts.params ?? {}).map(([name, type]) => ({ name, type: toTypeProto(type) })),
        },
        simple_catalog: buildCatalog(opts.tables ?? [], languageOptions),
        sql_statement: sql,
      };
      try {
        const res = (await call(client.analyze, client, request)) as { resolved_statement?: Record<string, unknown> };
        const stmt = res.resolved_statement ?? {};
        const kind = Object.keys(stmt).find((k) => k !== 'node') ?? String(stmt['node'] ?? 'unknown');
        const columns: { name: string; type: AnalyzedType }[] = [];
        if (kind === 'resolved_query_stmt_node') {
          const q = stmt[kind] as { output_column_list?: { name?: string; column: { type: TypeProto } }[] };
          let anonymousCount = 0;
          for (const c of q.output_column_list ?? []) {
            const anonymous = !c.name || c.name.startsWith('$');
            columns.push({ name: anonymous ? `f${anonymousCount++}_` : c.name!, type: fromTypeProto(c.column.type) });
          }
        }
        return { ok: true, kind, columns, resolved: stmt };
      } catch (e) {
        const err = e as Error & { code?: number; details?: string };
        if (err.code === 3 /* INVALID_ARGUMENT */ || err.code === 12 /* UNIMPLEMENTED */) {
          return { ok: false, error: err.details ?? err.message };
        }
        throw new Error(`ZetaSQL analyzer call failed: ${err.details ?? err.message}${stderr ? `\n${stderr.trim()}` : ''}`);
      }
    },
    async stop() {
      client.close();
      kill();
    },
  };
}
