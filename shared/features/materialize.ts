import { ValidationError } from '../errors.js';
import type { OnlineStore } from '../ports/online-store.js';
import type { ColumnType, Dialect, Params, Row, Warehouse } from '../ports/warehouse.js';
import { SYSTEM_COLUMNS as SYS, type FeatureRepo } from './definitions.js';
import { onlineRecord } from './online-write.js';

export interface MaterializeRequest {
  view: string;
  /** Only offline rows with event time ≥ from (default: all). */
  from?: Date;
  /** Only offline rows with event time < to (default: all). */
  to?: Date;
  /** Entities per page (one query and one online write each). */
  pageSize?: number;
}

export interface MaterializeResult {
  view: string;
  entities: number;
  /** Entities whose online row was replaced by a newer one from the offline table. */
  written: number;
  pages: number;
}

/**
 * Feast's materialize: (re)build a view's online rows from its offline table — for backfills and for switching
 * online stores. Per entity the newest offline row in [from, to) by (event time, created time, ingest id) is
 * written; the online store keeps whichever of that and what it holds is newer, so a rerun (after a failure half-way,
 * or over an overlapping range) is idempotent and resumes by doing the remaining pages' work again, never by
 * rolling anything back. Pages go in join-key order, each bounded by the previous page's last key (keyset
 * pagination: one pass over the offline table in all, see pageSql). Copies of a redelivered row (the streaming
 * path appends at-least-once, see dedup-sql.ts) tie on every ordering column and the window keeps one row per
 * entity, so they are never written twice (test/integration/reader-dedup.test.ts).
 */
export async function materialize(
  deps: { warehouse: Warehouse; online: OnlineStore; repo: FeatureRepo; onProgress?: (r: MaterializeResult) => void },
  req: MaterializeRequest,
): Promise<MaterializeResult> {
  const view = deps.repo.view(req.view);
  if (req.from && req.to && req.from.getTime() >= req.to.getTime()) {
    throw new ValidationError(`--from ${req.from.toISOString()} is not before --to ${req.to.toISOString()}`, { hint: 'give a non-empty time range, or leave out --from/--to to materialize everything' });
  }
  const w = deps.warehouse;
  const d = w.dialect;
  const keyCols = view.entity.joinKeys;
  const keys = keyCols.map((k) => d.ident(k.name));
  const ts = d.ident(view.timestampField);
  const range = [
    ...(req.from ? [`${ts} >= ${d.timestamp(req.from)}`] : []),
    ...(req.to ? [`${ts} < ${d.timestamp(req.to)}`] : []),
  ];
  const pageSize = req.pageSize ?? 50_000;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new ValidationError(`page size ${pageSize} is not a positive integer`, { hint: 'give at least 1 entity per page' });
  const columns = [...keyCols.map((k) => k.name), view.timestampField, ...view.features.map((f) => f.name), SYS.created, SYS.ingestId].map((c) => d.ident(c)).join(', ');
  const result: MaterializeResult = { view: view.name, entities: 0, written: 0, pages: 0 };
  let last: Row | undefined;
  for (;;) {
    const { sql, params } = pageSql(d, view.table, columns, keys, ts, range, pageSize, last && keyCols.map((k) => ({ type: k.type, value: last![k.name] })));
    const rows = await w.query(sql, { params, labels: { ctloop_op: 'materialize' } });
    if (rows.length === 0) break;
    const res = await deps.online.write(view, rows.map((r) => onlineRecord(view, r)));
    result.entities += rows.length;
    result.written += res.written;
    result.pages++;
    deps.onProgress?.(result);
    if (rows.length < pageSize) break;
    last = rows[rows.length - 1];
  }
  return result;
}

/**
 * One page: the newest row per entity whose key comes after the last page's last key, in key order. Keyset
 * pagination rather than LIMIT/OFFSET: on BigQuery every page is its own query job, and with OFFSET each would
 * compute the window over every entity again and throw the earlier pages away; with a key bound the entities of
 * earlier pages are filtered out before the window (the window partitions by the keys, so whole partitions go), and
 * the offline table's clustering by the join keys lets BigQuery skip their blocks. The bound is a lexicographic
 * comparison spelt out (k1 > a OR (k1 = a AND k2 > b) …): BigQuery cannot compare STRUCTs with `>`.
 * Key values travel as query parameters, never as SQL text.
 */
function pageSql(
  d: Dialect, table: string, columns: string, keys: string[], ts: string, range: string[], pageSize: number,
  after: { type: string; value: unknown }[] | undefined,
): { sql: string; params: Params } {
  const params: Params = {};
  const where = [...range];
  if (after) {
    after.forEach((a, i) => { params[`after_${i}`] = { type: a.type as ColumnType, value: a.value }; });
    const p = (i: number) => d.param(`after_${i}`);
    where.push(`(${keys.map((k, i) => `(${[...keys.slice(0, i).map((e, j) => `${e} = ${p(j)}`), `${k} > ${p(i)}`].join(' AND ')})`).join(' OR ')})`);
  }
  const sql = `SELECT ${columns} FROM ${d.table(table)}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
QUALIFY ROW_NUMBER() OVER (PARTITION BY ${keys.join(', ')} ORDER BY ${ts} DESC, ${d.ident(SYS.created)} DESC, ${d.ident(SYS.ingestId)} DESC) = 1
ORDER BY ${keys.join(', ')} LIMIT ${pageSize}`;
  return { sql, params };
}
