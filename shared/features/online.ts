import { ValidationError } from '../errors.js';
import type { ColumnSchema, Params, Row, SqlValue, Warehouse } from '../ports/warehouse.js';

/** Up to this many entities are looked up with inline parameters; more are staged as a relation. */
const INLINE_KEYS = 64;
import type { FeatureRepo } from './definitions.js';
import { onlineLookupSql } from './sql.js';
import { coerce } from './validate.js';

export type FeatureStatus = 'PRESENT' | 'NULL_VALUE' | 'NOT_FOUND' | 'OUTSIDE_MAX_AGE';

export interface OnlineRequest {
  view: string;
  /** One object per entity: join key → value. */
  entities: Record<string, unknown>[];
  /** Features of the view to return (default: all). */
  features?: string[];
  /**
   * Reference time (default: now) for the ttl check. The online table keeps only the latest value, so a value
   * stamped after `asOf` is reported NOT_FOUND rather than leaking the future; for full history use the
   * point-in-time retrieval.
   */
  asOf?: Date;
}

/** Feast-compatible, column-major answer: one result per feature, one value per entity. */
export interface OnlineResponse {
  metadata: { feature_names: string[] };
  results: { values: SqlValue[]; statuses: FeatureStatus[]; event_timestamps: (string | null)[] }[];
}

/**
 * Latest values per entity from the online table, with the view's ttl applied at read time (Feast does not apply
 * ttl online, feast-dev/feast#1802): a value older than ttl is returned as null with status OUTSIDE_MAX_AGE.
 */
export async function getOnlineFeatures(deps: { warehouse: Warehouse; repo: FeatureRepo; now?: () => Date }, req: OnlineRequest): Promise<OnlineResponse> {
  const view = deps.repo.view(req.view);
  const features = req.features ?? view.features.map((f) => f.name);
  for (const f of features) {
    if (!view.features.some((x) => x.name === f)) throw new ValidationError(`view ${view.name} has no feature "${f}"`, { hint: `its features: ${view.features.map((x) => x.name).join(', ')}` });
  }
  if (req.entities.length === 0) throw new ValidationError('no entity keys given', { hint: 'pass at least one --key name=value' });
  const keyCols: ColumnSchema[] = [{ name: '__i', type: 'INT64' }, ...view.entity.joinKeys.map((k) => ({ name: k.name, type: k.type }))];
  const keyRows: Row[] = req.entities.map((e, i) => {
    const row: Row = { __i: i };
    for (const k of view.entity.joinKeys) {
      const c = coerce(e[k.name], k.type);
      if (!c.ok || c.value === null) {
        throw new ValidationError(`entity ${i}: join key ${k.name} ${c.ok ? 'is missing' : c.reason}`, { hint: `give every entity its ${view.entity.joinKeys.map((x) => x.name).join(', ')}` });
      }
      row[k.name] = c.value;
    }
    return row;
  });
  const w = deps.warehouse;
  const d = w.dialect;
  let rows: Row[];
  if (keyRows.length <= INLINE_KEYS) {
    // Serving path: a few keys travel as parameters of one query (no staging round trip).
    const params: Params = {};
    const selects = keyRows.map((r, i) => {
      params[`i${i}`] = { type: 'INT64', value: i };
      return `SELECT ${d.param(`i${i}`)} AS ${d.ident('__i')}${view.entity.joinKeys.map((k, j) => {
        params[`k${i}_${j}`] = { type: k.type, value: r[k.name] };
        return `, ${d.param(`k${i}_${j}`)} AS ${d.ident(k.name)}`;
      }).join('')}`;
    });
    rows = await w.query(onlineLookupSql(d, view, `(${selects.join(' UNION ALL ')})`, features), { params });
  } else {
    rows = await w.withRows(keyCols, keyRows, (rel) => w.query(onlineLookupSql(d, view, rel.sql, features), { params: rel.params }));
  }
  const now = (req.asOf ?? (deps.now ?? (() => new Date()))()).getTime();
  const ttlMs = view.ttlSeconds * 1000;
  const results = features.map(() => ({ values: [] as SqlValue[], statuses: [] as FeatureStatus[], event_timestamps: [] as (string | null)[] }));
  for (const r of rows) {
    const ts = r.__event_ts as Date | null;
    const future = ts !== null && ts.getTime() > now;
    const stale = ts !== null && ttlMs > 0 && now - ts.getTime() > ttlMs;
    features.forEach((f, j) => {
      const out = results[j]!;
      const v = r[f] ?? null;
      out.event_timestamps.push(ts && !future ? ts.toISOString() : null);
      if (ts === null || future) { out.values.push(null); out.statuses.push('NOT_FOUND'); }
      else if (stale) { out.values.push(null); out.statuses.push('OUTSIDE_MAX_AGE'); }
      else if (v === null) { out.values.push(null); out.statuses.push('NULL_VALUE'); }
      else { out.values.push(v); out.statuses.push('PRESENT'); }
    });
  }
  return { metadata: { feature_names: features }, results };
}
