import { ValidationError } from '../errors.js';
import type { OnlineStore } from '../ports/online-store.js';
import type { SqlValue } from '../ports/warehouse.js';
import type { FeatureRepo } from './definitions.js';
import { coerce } from './validate.js';

export type FeatureStatus = 'PRESENT' | 'NULL_VALUE' | 'NOT_FOUND' | 'OUTSIDE_MAX_AGE';

export interface OnlineRequest {
  view: string;
  /** One object per entity: join key → value. */
  entities: Record<string, unknown>[];
  /** Features of the view to return (default: all). */
  features?: string[];
  /**
   * Reference time (default: now) for the ttl check. The online store keeps only the latest value, so a value
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

export interface OnlineDeps {
  online: OnlineStore;
  repo: FeatureRepo;
  now?: () => Date;
}

/**
 * Latest values per entity from the online store (one batched read for all entities), with the view's ttl applied
 * at read time (Feast does not apply ttl online, feast-dev/feast#1802): a value older than ttl is returned as null
 * with status OUTSIDE_MAX_AGE.
 */
export async function getOnlineFeatures(deps: OnlineDeps, req: OnlineRequest): Promise<OnlineResponse> {
  const view = deps.repo.view(req.view);
  const features = req.features ?? view.features.map((f) => f.name);
  for (const f of features) {
    if (!view.features.some((x) => x.name === f)) throw new ValidationError(`view ${view.name} has no feature "${f}"`, { hint: `its features: ${view.features.map((x) => x.name).join(', ')}` });
  }
  if (req.entities.length === 0) throw new ValidationError('no entity keys given', { hint: 'pass at least one --key name=value' });
  const keys = req.entities.map((e, i) => view.entity.joinKeys.map((k) => {
    const c = coerce(e[k.name], k.type);
    if (!c.ok || c.value === null) {
      throw new ValidationError(`entity ${i}: join key ${k.name} ${c.ok ? 'is missing' : c.reason}`, { hint: `give every entity its ${view.entity.joinKeys.map((x) => x.name).join(', ')}` });
    }
    return c.value as string | number;
  }));
  const records = await deps.online.read(view, keys);
  const now = (req.asOf ?? (deps.now ?? (() => new Date()))()).getTime();
  const ttlMs = view.ttlSeconds * 1000;
  const results = features.map(() => ({ values: [] as SqlValue[], statuses: [] as FeatureStatus[], event_timestamps: [] as (string | null)[] }));
  for (const r of records) {
    const ts = r ? r.eventTime.getTime() : null;
    const future = ts !== null && ts > now;
    const stale = ts !== null && ttlMs > 0 && now - ts > ttlMs;
    const iso = ts !== null && !future ? r!.eventTime.toISOString() : null;
    features.forEach((f, j) => {
      const out = results[j]!;
      const v = r?.values[f] ?? null;
      out.event_timestamps.push(iso);
      if (ts === null || future) { out.values.push(null); out.statuses.push('NOT_FOUND'); }
      else if (stale) { out.values.push(null); out.statuses.push('OUTSIDE_MAX_AGE'); }
      else if (v === null) { out.values.push(null); out.statuses.push('NULL_VALUE'); }
      else { out.values.push(v); out.statuses.push('PRESENT'); }
    });
  }
  return { metadata: { feature_names: features }, results };
}
