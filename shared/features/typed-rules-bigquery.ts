import { MAX_INSTANT_MS, MIN_INSTANT_MS } from '../time.js';
import type { ColumnType } from '../ports/warehouse.js';
import type { FeatureType } from './definitions.js';
import { BIGQUERY_RULES as R } from './rule-dialect.js';
import { textField, TYPED_BAD, type FieldSql } from './validate-sql.js';
import { VALUE_REASONS as VR } from './validate.js';

/**
 * validate-sql.ts `typedField` in GoogleSQL: a typed column of a Parquet file, as BigQuery loaded it from the staged
 * copy (parquet-stage.ts: INT64, FLOAT64, BOOL, STRING, TIMESTAMP), classified as the row-by-row path reads the
 * value (parquet-records.ts). As on DuckDB, a refused typed value only gets a marker reason: the plan hands a Parquet
 * file with bad rows to the row-by-row path, which names JavaScript's rendering of the value.
 */
const MAX_SAFE = '9007199254740991';

type Role = 'key' | 'time' | 'created' | 'feature';

export function typedFieldBigQuery(src: string | null, source: ColumnType, type: FeatureType, role: Role, alias: string): FieldSql {
  if (src === null) return { prepare: [], value: 'NULL', reason: 'NULL' };
  if (source === 'STRING') return textField(src, type, role, alias, R);
  const finite = `(NOT IS_INF(${src}) AND NOT IS_NAN(${src}))`;
  let ok = 'TRUE';
  let value: string;
  switch (type) {
    case 'INT64':
      ok = source === 'INT64' ? `ABS(${src}) <= ${MAX_SAFE}` : `${finite} AND ${src} = TRUNC(${src}) AND ABS(${src}) <= ${MAX_SAFE}`;
      value = `CASE WHEN ${ok} THEN SAFE_CAST(${src} AS INT64) END`;
      break;
    case 'FLOAT64':
      value = `CAST(${src} AS FLOAT64)`;
      break;
    case 'BOOL':
      ok = source === 'BOOL' ? 'TRUE' : `${src} IN (0, 1)`;
      value = source === 'BOOL' ? src : `CASE WHEN ${src} = 1 THEN TRUE WHEN ${src} = 0 THEN FALSE END`;
      break;
    case 'STRING':
      value = `CAST(${src} AS STRING)`;
      break;
    case 'TIMESTAMP': {
      // Milliseconds as the JavaScript Date the row-by-row path gets (microseconds divided, truncated toward zero).
      const ms = `DIV(UNIX_MICROS(${src}), 1000)`;
      ok = `${ms} BETWEEN ${MIN_INSTANT_MS} AND ${MAX_INSTANT_MS}`;
      value = `CASE WHEN ${ok} THEN SAFE.TIMESTAMP_MILLIS(${ms}) END`;
      break;
    }
  }
  const f = { prepare: [], value, reason: `CASE WHEN ${src} IS NOT NULL AND NOT (${ok}) THEN ${R.lit(TYPED_BAD)} END` };
  const v = type === 'STRING' ? value : src;
  if (role === 'key') return { ...f, reason: `CASE WHEN ${v} IS NULL${type === 'STRING' ? ` OR ${v} = ''` : ''} THEN ${R.lit(VR.keyRequired)} ELSE ${f.reason} END` };
  if (role === 'time') return { ...f, reason: `CASE WHEN ${src} IS NULL THEN ${R.lit(VR.timeRequired)} ELSE ${f.reason} END` };
  return f;
}
