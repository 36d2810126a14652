import type { ColumnSchema, Dialect } from '../ports/warehouse.js';
import type { FeatureView } from './definitions.js';
import { newestFirst } from './sql.js';

export const ROW_ID = '__row_id';

export interface PitViewRequest {
  view: FeatureView;
  /** Features to fetch, with their output column names. */
  features: { name: string; as: string }[];
}

export interface PitSqlInput {
  spine: { sql: string; columns: ColumnSchema[] };
  timestampColumn: string;
  views: PitViewRequest[];
  /** Min and max spine timestamps, used as literal bounds so BigQuery prunes partitions. */
  minTs: Date;
  maxTs: Date;
  /** Keep the row id as the first output column (for engines whose exports are sharded and unordered). */
  keepRowId?: boolean;
}

/**
 * Point-in-time join. Per view one CTE joins the spine to the feature rows with `event_ts <= ts` (and
 * `>= ts - ttl`), keeps the newest row per spine row by (event_ts, created_ts, ingest_id) with QUALIFY, and the
 * spine is LEFT JOINed to each CTE on its row id: exactly the spine's rows, in the spine's order, NULLs where
 * nothing matched. Unlike Feast's template there is no join-back on (row id, event_ts, created), so exact ties,
 * duplicated events and NULL created times cannot multiply or drop rows.
 */
export function pointInTimeSql(d: Dialect, input: PitSqlInput): string {
  const ts = d.ident(input.timestampColumn);
  const spineTypes = new Map(input.spine.columns.map((c) => [c.name, c.type]));
  const ctes = input.views.map((req, i) => {
    const v = req.view;
    const fts = `f.${d.ident(v.timestampField)}`;
    const keyJoin = v.entity.joinKeys
      .map((k) => {
        const sk = `s.${d.ident(k.name)}`;
        const spineKey = spineTypes.get(k.name) === k.type ? sk : `CAST(${sk} AS ${d.type(k.type)})`;
        return `f.${d.ident(k.name)} = ${spineKey}`;
      })
      .join(' AND ');
    const ttl = v.ttlSeconds;
    const lower = ttl > 0 ? new Date(input.minTs.getTime() - ttl * 1000) : null;
    const pruneOn = (alias: string) => {
      const col = `${alias}.${d.ident(v.timestampField)}`;
      return lower ? `${col} BETWEEN ${d.timestamp(lower)} AND ${d.timestamp(input.maxTs)}` : `${col} <= ${d.timestamp(input.maxTs)}`;
    };
    const bucket = (e: string) => `CAST(FLOOR(${d.epochSeconds(e)} / ${ttl}) AS INT64)`;
    // With a ttl, a match lies in the spine row's ttl-sized time bucket or the one before it: joining on
    // (keys, bucket) instead of keys alone cuts the candidate pairs the range condition must check.
    const spineRel = ttl > 0
      ? `(SELECT sp.*, ${bucket(`sp.${ts}`)} - off.${d.ident('n')} AS ${d.ident('__bucket')} FROM ${input.spine.sql} AS sp CROSS JOIN (SELECT 0 AS ${d.ident('n')} UNION ALL SELECT 1) AS off)`
      : input.spine.sql;
    const featRel = ttl > 0
      ? `(SELECT fr.*, ${bucket(`fr.${d.ident(v.timestampField)}`)} AS ${d.ident('__bucket')} FROM ${d.table(v.table)} AS fr WHERE ${pruneOn('fr')})`
      : d.table(v.table);
    return [
      `${d.ident(`fv_${i}`)} AS (`,
      `  SELECT s.${d.ident(ROW_ID)} AS ${d.ident(ROW_ID)}${req.features.map((f) => `, f.${d.ident(f.name)} AS ${d.ident(f.as)}`).join('')}`,
      `  FROM ${spineRel} AS s`,
      `  JOIN ${featRel} AS f ON ${keyJoin}${ttl > 0 ? ` AND f.${d.ident('__bucket')} = s.${d.ident('__bucket')}` : ''} AND ${fts} <= s.${ts}${ttl > 0 ? ` AND ${fts} >= s.${ts} - INTERVAL ${ttl} SECOND` : ''}`,
      `  WHERE ${pruneOn('f')}`,
      `  QUALIFY ROW_NUMBER() OVER (PARTITION BY s.${d.ident(ROW_ID)} ORDER BY ${newestFirst(d, v, 'f')}) = 1`,
      `)`,
    ].join('\n');
  });
  const spineCols = input.spine.columns.filter((c) => c.name !== ROW_ID || input.keepRowId).map((c) => `s.${d.ident(c.name)}`);
  const featureCols = input.views.flatMap((req, i) => req.features.map((f) => `${d.ident(`fv_${i}`)}.${d.ident(f.as)}`));
  const joins = input.views.map((_, i) => `LEFT JOIN ${d.ident(`fv_${i}`)} ON ${d.ident(`fv_${i}`)}.${d.ident(ROW_ID)} = s.${d.ident(ROW_ID)}`);
  return [
    `WITH ${ctes.join(',\n')}`,
    `SELECT ${[...spineCols, ...featureCols].join(', ')}`,
    `FROM ${input.spine.sql} AS s`,
    ...joins,
    `ORDER BY s.${d.ident(ROW_ID)}`,
  ].join('\n');
}

