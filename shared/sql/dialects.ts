import type { ColumnType, Dialect } from '../ports/warehouse.js';
import { IDENTIFIER } from './identifiers.js';

function checked(name: string): string {
  if (!IDENTIFIER.test(name)) throw new TypeError(`refusing to quote non-identifier ${JSON.stringify(name)}`);
  return name;
}

/** ISO instant with microseconds and an explicit UTC offset, e.g. 2001-01-01 00:00:00.000000+00:00. */
function utcText(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new TypeError('invalid date');
  return `${d.toISOString().replace('T', ' ').replace('Z', '')}000+00:00`;
}

function quoteString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

const duckTypes: Record<ColumnType, string> = {
  STRING: 'VARCHAR', INT64: 'BIGINT', FLOAT64: 'DOUBLE', BOOL: 'BOOLEAN', TIMESTAMP: 'TIMESTAMP', DATE: 'DATE', JSON: 'JSON',
};

/** DuckDB: double-quoted identifiers, `$name` parameters, naive TIMESTAMP columns holding UTC (TimeZone=UTC). */
export function duckdbDialect(schema = 'main'): Dialect {
  return {
    name: 'duckdb',
    ident: (n) => `"${checked(n)}"`,
    table: (n) => `"${checked(schema)}"."${checked(n)}"`,
    param: (n) => `$${checked(n)}`,
    type: (t) => duckTypes[t],
    timestamp: (d) => `TIMESTAMP '${utcText(d).replace('+00:00', '')}'`,
    string: (s) => `'${s.replace(/'/g, "''")}'`,
    safeCast: (e, t) => `TRY_CAST(${e} AS ${duckTypes[t]})`,
    epochSeconds: (e) => `epoch(${e})`,
    materializedCte: true,
  };
}

/** BigQuery GoogleSQL: backticks, `@name` parameters, `project.dataset.table` references. */
export function bigqueryDialect(project: string, dataset: string): Dialect {
  if (!/^[a-z][a-z0-9-]{4,28}[a-z0-9]$|^[a-z0-9.:-]+$/.test(project)) throw new TypeError(`invalid project id ${project}`);
  checked(dataset);
  return {
    name: 'bigquery',
    ident: (n) => `\`${checked(n)}\``,
    table: (n) => `\`${project}.${dataset}.${checked(n)}\``,
    param: (n) => `@${checked(n)}`,
    type: (t) => t,
    timestamp: (d) => `TIMESTAMP '${utcText(d)}'`,
    string: quoteString,
    safeCast: (e, t) => `SAFE_CAST(${e} AS ${t})`,
    epochSeconds: (e) => `UNIX_SECONDS(${e})`,
  };
}
