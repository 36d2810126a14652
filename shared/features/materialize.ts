import { ValidationError } from '../errors.js';
import type { OnlineStore } from '../ports/online-store.js';
import type { Warehouse } from '../ports/warehouse.js';
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
 * rolling anything back. Pages go in join-key order.
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
  const keys = view.entity.joinKeys.map((k) => d.ident(k.name));
  const ts = d.ident(view.timestampField);
  const where = [
    ...(req.from ? [`${ts} >= ${d.timestamp(req.from)}`] : []),
    ...(req.to ? [`${ts} < ${d.timestamp(req.to)}`] : []),
  ];
  const pageSize = req.pageSize ?? 50_000;
  const columns = [...view.entity.joinKeys.map((k) => k.name), view.timestampField, ...view.features.map((f) => f.name), SYS.created, SYS.ingestId].map((c) => d.ident(c)).join(', ');
  const result: MaterializeResult = { view: view.name, entities: 0, written: 0, pages: 0 };
  for (let offset = 0; ; offset += pageSize) {
    const sql = `SELECT ${columns} FROM ${d.table(view.table)}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
QUALIFY ROW_NUMBER() OVER (PARTITION BY ${keys.join(', ')} ORDER BY ${ts} DESC, ${d.ident(SYS.created)} DESC, ${d.ident(SYS.ingestId)} DESC) = 1
ORDER BY ${keys.join(', ')} LIMIT ${pageSize} OFFSET ${offset}`;
    const rows = await w.query(sql);
    if (rows.length === 0) break;
    const res = await deps.online.write(view, rows.map((r) => onlineRecord(view, r)));
    result.entities += rows.length;
    result.written += res.written;
    result.pages++;
    deps.onProgress?.(result);
    if (rows.length < pageSize) break;
  }
  return result;
}
